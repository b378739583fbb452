"""Shared fixtures: the torch backend and a helper that builds hand-written cases."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
def torch_backend():
    from nabla_atheris.backends import get_backend

    return get_backend("torch")


def make_case(api, *args, **kwargs):
    """A torch case from the JSON form's arguments (tensors as dicts)."""
    from nabla_atheris.handcase import parse_case

    return parse_case({"library": "torch", "api": api, "args": list(args), "kwargs": kwargs})


def tensor(shape, values=None, dtype="float64", seed=0, **extra):
    spec = {"dtype": dtype, "shape": list(shape), **extra}
    spec.update({"values": values} if values is not None else {"seed": seed})
    return spec
