"""The oracle on OneFlow (run in the OneFlow environment): every planted bug is flagged with its
kind, no trap is flagged, reproducers import only oneflow and numpy."""

import os
import subprocess
import sys

import pytest

pytest.importorskip("oneflow")

import oracle_suite  # noqa: E402
import planted_oneflow  # noqa: E402
from conftest import SMOOTH, assert_interaction_bug, explain, imported_modules, kinds, make_case, run_reproducer, tensor  # noqa: E402
from oracle_suite import SMOOTH32  # noqa: E402

from nabla_atheris.findings import FindingsStore  # noqa: E402
from nabla_atheris.oracle import check_case  # noqa: E402
from nabla_atheris.session import store_findings  # noqa: E402


@pytest.mark.parametrize("name", sorted(planted_oneflow.PLANTED))
def test_planted_bug_is_flagged_with_its_kind(oneflow_backend, name):
    _, expected = planted_oneflow.PLANTED[name]
    verdict = check_case(make_case(f"oneflow.nabla_planted.{name}", SMOOTH), oneflow_backend)
    assert expected in kinds(verdict), explain(verdict)


def test_the_verdict_says_there_is_no_forward_mode(oneflow_backend):
    verdict = check_case(make_case("oneflow.sin", SMOOTH), oneflow_backend)
    assert ("fwd", "skipped", "oneflow has no forward mode") in explain(verdict)
    assert verdict.findings == [], explain(verdict)


def test_wrong_second_order_passes_first_order(oneflow_backend):
    verdict = check_case(make_case("oneflow.nabla_planted.wrong_second_order", SMOOTH), oneflow_backend)
    assert kinds(verdict) == {"second-order-mismatch"}, explain(verdict)
    assert {f.scenarios[0] for f in verdict.findings} == {"rev-over-rev"}


def test_graph_training_step_is_compared_in_float32(oneflow_backend):
    agree = check_case(make_case("oneflow.tanh", SMOOTH32), oneflow_backend)
    assert ("graph-rev vs rev", "ok") in [line[:2] for line in explain(agree)], explain(agree)
    wrong = check_case(make_case("oneflow.nabla_planted.graph_only", SMOOTH32), oneflow_backend)
    assert {f.scenarios[1] for f in wrong.findings} == {"graph-direct", "graph-rev"}, explain(wrong)


def test_float64_training_graph_is_refused_not_compiled(oneflow_backend):
    verdict = check_case(make_case("oneflow.tanh", SMOOTH), oneflow_backend)
    line = next(line for line in explain(verdict) if line[0] == "graph-rev")
    assert line[1] == "filtered" and line[2].startswith("not-compilable") and "float32 only" in line[2]
    assert verdict.findings == []


@pytest.mark.parametrize("api, args", oracle_suite.TRAPS["oneflow"])
def test_traps_are_not_flagged(oneflow_backend, api, args):
    verdict = check_case(make_case(api, *args), oneflow_backend)
    assert not oracle_suite.flagged_by_trap("oneflow", kinds(verdict)), explain(verdict)


def test_module_api_constructs_from_keywords_and_differentiates_its_inputs(oneflow_backend):
    x = tensor([1, 2, 4, 4], seed=3, dtype="float32")
    verdict = check_case(make_case("oneflow.nn.Conv2d", x, in_channels=2, out_channels=3, kernel_size=2), oneflow_backend)
    assert verdict.findings == [] and ("rev vs numeric", "ok") in [line[:2] for line in explain(verdict)], explain(verdict)


def test_scenarios_leave_no_gradients_behind_in_a_modules_parameters(oneflow_backend):
    """Each scenario's gradients are its own: a module's parameters (leaves too) keep no `.grad` from
    an earlier scenario (once they did, and rev-over-rev then failed on an in-place update of a leaf)."""
    x = tensor([2, 3], seed=5)
    for _ in range(3):
        verdict = check_case(make_case("oneflow.nn.Linear", x, in_features=3, out_features=4), oneflow_backend)
        assert "status-mismatch" not in kinds(verdict), explain(verdict)


@pytest.mark.parametrize(
    "message, expected",
    [
        ("Check failed: axis < num_axes (0 vs. 0)", "internal"),
        ("planted backward is not implemented", "unsupported"),
        ("Cannot find the kernel matching Current OperatorConf.  The Info of OperatorConf are ", "unsupported"),
        ("The size of tensor a (3) must match the size of tensor b (4)", "invalid-input"),
    ],
)
def test_error_messages_are_classified(oneflow_backend, message, expected):
    assert oneflow_backend.classify(RuntimeError(message)).value == expected


@pytest.mark.parametrize("name", ["wrong_backward", "wrong_second_order", "output_differs_with_grad", "graph_only"])
def test_reproducer_imports_only_oneflow_and_numpy_and_fails_until_fixed(tmp_path, oneflow_backend, monkeypatch, name):
    import oneflow

    x = SMOOTH32 if name == "graph_only" else SMOOTH
    verdict = check_case(make_case(f"oneflow.nabla_planted.{name}", x), oneflow_backend)
    expected = planted_oneflow.PLANTED[name][1]
    folder = next(s for s in store_findings(verdict, oneflow_backend, FindingsStore(tmp_path)) if s.kind == expected).folder
    source = (folder / "repro.py").read_text()
    assert imported_modules(source) <= {"__future__", "sys", "dataclasses", "numpy", "oneflow"}
    assert "LD_LIBRARY_PATH" in source
    assert run_reproducer(folder / "repro.py", monkeypatch) == 1
    monkeypatch.setattr(oneflow.nabla_planted, name, oneflow.sin)
    assert run_reproducer(folder / "repro.py", monkeypatch) == 0


def test_reproducer_runs_standalone_with_only_the_library_path(tmp_path, oneflow_backend):
    """A fresh process without the project on its path: only oneflow and numpy (module APIs included)."""
    verdict = check_case(make_case("oneflow.nabla_planted.wrong_backward", SMOOTH), oneflow_backend)
    folder = store_findings(verdict, oneflow_backend, FindingsStore(tmp_path))[0].folder
    source = (folder / "repro.py").read_text()
    fixed = source.replace("oneflow.nabla_planted.wrong_backward(", "module_call(oneflow.nn.Tanh)(")
    (tmp_path / "fixed.py").write_text(fixed)
    env = {"PATH": os.environ["PATH"], "LD_LIBRARY_PATH": os.environ.get("LD_LIBRARY_PATH", "")}
    script = tmp_path / "fixed.py"
    result = subprocess.run([sys.executable, str(script)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    shown = "rev: " in result.stdout and "numerical derivative: " in result.stdout
    assert result.returncode == 0 and shown, (result.stdout, result.stderr[-2000:])


@pytest.mark.parametrize("name", sorted(planted_oneflow.PROGRAM_PLANTED))
def test_a_planted_interaction_bug_is_found_in_a_program_and_not_in_its_single_call(oneflow_backend, name):
    assert_interaction_bug("oneflow", oneflow_backend, name)
