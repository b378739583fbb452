"""Shared fixtures: the torch, jax, tf and oneflow backends and a helper that builds hand-written cases."""

import ast
import os
import runpy
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
# The core scenarios and each library's usual compilers (not torch.compile), in this process and the
# harnesses it starts; a test of another scenario set names it.
os.environ.setdefault("NABLA_SCENARIOS", "core,compiled")
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


def assert_interaction_bug(library, backend, name, also=""):
    """A planted interaction bug (oracle_suite.program_planted): the program shows its kind, named by
    the program; the planted op alone on dense inputs shows nothing under the library's default
    scenario sets, each run on every case (and the sets `also` names)."""
    import oracle_suite

    from nabla_atheris import scenario_sets
    from nabla_atheris.handcase import parse_case
    from nabla_atheris.oracle import check_case

    program, alone, kind = oracle_suite.program_planted(library)[name]
    verdict = check_case(parse_case(program), backend)
    assert kind in kinds(verdict), explain(verdict)
    assert {f.api for f in verdict.findings if f.kind == kind} == {parse_case(program).name()}
    planted = parse_case(program).calls()[-1].api  # alone on the values the earlier calls gave it, it may show it
    assert {f.keyed_by for f in verdict.findings if f.kind == kind} <= {"", planted}, explain(verdict)  # never an earlier call
    every = {s: 1 for s in scenario_sets.parse(library, f"default,{also}")}
    single = check_case(parse_case(alone), backend, every)
    assert kind not in kinds(single) and not single.harness_errors, explain(single)
    assert any(line.check.endswith("vs numeric") and line.status == "ok" for line in single.lines), explain(single)
