"""Shared fixtures: the torch, jax and tf backends and a helper that builds hand-written cases."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from oracle_suite import COMPLEX, SMOOTH, tensor  # noqa: E402,F401  (shared with scripts/bench.py)


@pytest.fixture(scope="session")
def torch_backend():
    from nabla_atheris.backends import get_backend

    return get_backend("torch")


@pytest.fixture(scope="session")
def jax_backend():
    from nabla_atheris.backends import get_backend

    return get_backend("jax")


@pytest.fixture(scope="session")
def tf_backend():
    from nabla_atheris.backends import get_backend

    return get_backend("tf")


def make_case(api, *args, **kwargs):
    """A case of the API's library (its first name) from the JSON form's arguments (tensors as dicts)."""
    from nabla_atheris.handcase import parse_case

    return parse_case({"library": api.split(".")[0], "api": api, "args": list(args), "kwargs": kwargs})


def kinds(verdict):
    """The finding kinds of a verdict."""
    return {f.kind for f in verdict.findings}


def explain(verdict):
    """A verdict's check lines, for assertion messages."""
    return [(line.check, line.status, line.detail) for line in verdict.lines]
