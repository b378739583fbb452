"""Shared fixtures: the torch, jax, tf and oneflow backends and a helper that builds hand-written cases."""

import ast
import runpy
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
def torch_backend():
    from nabla_atheris.backends import get_backend

    return get_backend("torch")


@pytest.fixture(scope="session")
def jax_backend():
    from nabla_atheris.backends import get_backend

    return get_backend("jax")


@pytest.fixture(scope="session")
def oneflow_backend():
    from nabla_atheris.backends import get_backend

    return get_backend("oneflow")


@pytest.fixture(scope="session")
def tf_backend():
    from nabla_atheris.backends import get_backend

    return get_backend("tf")


def make_case(api, *args, **kwargs):
    """A case of the API's library (its first name) from the JSON form's arguments (tensors as dicts)."""
    from nabla_atheris.handcase import parse_case

    return parse_case({"library": api.split(".")[0], "api": api, "args": list(args), "kwargs": kwargs})


def tensor(shape, values=None, dtype="float64", seed=0, **extra):
    spec = {"dtype": dtype, "shape": list(shape), **extra}
    spec.update({"values": values} if values is not None else {"seed": seed})
    return spec


SMOOTH = tensor([2, 3], [0.3, -0.7, 1.1, 0.5, -1.3, 0.9])  # away from kinks and domain edges
COMPLEX = tensor([2, 2], [[0.3, 0.1], [-0.7, 0.4], [1.1, -0.2], [0.5, 0.8]], dtype="complex128")


def kinds(verdict):
    """The finding kinds of a verdict."""
    return {f.kind for f in verdict.findings}


def explain(verdict):
    """A verdict's check lines, for assertion messages."""
    return [(line.check, line.status, line.detail) for line in verdict.lines]


def run_reproducer(path, monkeypatch):
    """Run a reproducer script in-process; its exit code."""
    monkeypatch.setattr("sys.argv", [str(path)])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(path), run_name="__main__")
    return exit_info.value.code


def imported_modules(source):
    """The top-level modules a script imports."""
    nodes = list(ast.walk(ast.parse(source)))
    return {a.name.split(".")[0] for n in nodes if isinstance(n, ast.Import) for a in n.names} | {
        n.module.split(".")[0] for n in nodes if isinstance(n, ast.ImportFrom)
    }
