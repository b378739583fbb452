"""OneFlow (run in its Python 3.10 environment): a program of two calls runs under every scenario,
a wrong derivative fed by an earlier call is found, and its reproducer writes both calls."""

import dataclasses

import pytest

pytest.importorskip("oneflow")

import planted_oneflow  # noqa: E402,F401  (registers oneflow.nabla_planted)
from conftest import explain, kinds, run_reproducer, tensor  # noqa: E402

from nabla_atheris.findings import FindingsStore  # noqa: E402
from nabla_atheris.handcase import parse_case  # noqa: E402
from nabla_atheris.oracle import check_case  # noqa: E402
from nabla_atheris.reproducer import render_reproducer  # noqa: E402
from nabla_atheris.session import store_findings  # noqa: E402


def program(second):
    """The JSON form of `second(oneflow.sin(x))` (float32: nn.Graph trains in float32 only)."""
    x = tensor([3], [0.3, -0.6, 1.1], dtype="float32")
    return {"library": "oneflow", "calls": [{"api": "oneflow.sin", "args": [x]}, {"api": second, "args": [{"ref": [0, 0]}]}]}


def test_a_program_is_checked_whole_and_its_reproducer_exits_as_the_oracle_says(oneflow_backend, tmp_path, monkeypatch):
    clean = check_case(parse_case(program("oneflow.tanh")), oneflow_backend)
    assert not clean.findings and not clean.harness_errors and not clean.filters, explain(clean)
    ran = {line.check for line in clean.lines if line.status == "ok"}
    assert {"rev vs numeric", "graph-rev vs rev", "rev-over-rev"} <= ran, explain(clean)  # nn.Graph traces the program
    case = parse_case(program("oneflow.nabla_planted.wrong_backward"))
    verdict = check_case(case, oneflow_backend)
    assert kinds(verdict) & {"rev-vs-numeric", "rev-vs-fwd"} and not verdict.harness_errors, explain(verdict)
    stored = store_findings(verdict, oneflow_backend, FindingsStore(tmp_path / "findings"))
    for s in stored:
        source = (s.folder / "repro.py").read_text()
        assert "y0 = oneflow.sin(x0)" in source and "return oneflow.nabla_planted.wrong_backward(flatten(y0)[0])" in source
        assert run_reproducer(s.folder / "repro.py", monkeypatch) == 1
    repaired = dataclasses.replace(case, then=(dataclasses.replace(case.then[0], api="oneflow.sin"),))
    path = tmp_path / "repaired.py"
    path.write_text(render_reproducer(repaired, verdict.findings[0]))
    assert run_reproducer(path, monkeypatch) == 0


def test_oneflow_program_seeds_are_chains_of_their_patterns_that_run(oneflow_backend):
    from test_program_seeds import seeds_of

    from nabla_atheris.oracle.subject import prepare
    from nabla_atheris.program_seeds import PATTERNS
    from nabla_atheris.verdict import Judgement

    seeds = seeds_of("oneflow")
    assert {name.split(".", 2)[2] for name in seeds} == set(PATTERNS["oneflow"])
    for name, case in seeds.items():
        assert tuple(case.apis()) == PATTERNS["oneflow"][name.split(".", 2)[2]], name
        judgement = Judgement()
        assert prepare(case, oneflow_backend, judgement) is not None, (name, judgement.lines)
