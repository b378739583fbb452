"""The scenario sets beyond the core (issue 20): torch.compile (aot_eager, Inductor), batching (vmap,
pfor) against a loop, user-defined derivative rules against the API, inputs bound as users also bind
them (non-contiguous views, tf.Variable) against plain tensors; their planted bugs are found,
their traps are not flagged, their findings have reproducers; `--scenarios` chooses the sets."""

import json
import subprocess
import sys
from pathlib import Path

import oracle_suite
import planted_jax  # noqa: F401  (registers jax.nabla_planted)
import planted_tf  # noqa: F401  (registers tf.nabla_planted)
import planted_torch  # noqa: F401  (registers torch.nabla_planted)
import pytest
from conftest import SMOOTH, explain, make_case, run_reproducer

from nabla_atheris import scenario_sets
from nabla_atheris.cli import main
from nabla_atheris.findings import FindingsStore
from nabla_atheris.handcase import parse_case
from nabla_atheris.oracle import check_case
from nabla_atheris.rootcause import root_cause
from nabla_atheris.session import store_findings

PLANTED = [(lib, name) for lib in ("torch", "jax", "tf") for name in oracle_suite.scenario_planted(lib)]
TRAPS = [(lib, *trap) for lib in ("torch", "jax", "tf") for trap in oracle_suite.SCENARIO_TRAPS[lib]]


@pytest.mark.parametrize("library, name", PLANTED)
def test_a_planted_bug_of_a_scenario_set_is_found_by_it(request, library, name):
    case, kind, scenario_set = oracle_suite.scenario_planted(library)[name]
    verdict = check_case(parse_case(case), request.getfixturevalue(f"{library}_backend"), oracle_suite.selection(scenario_set))
    found = [f for f in verdict.findings if f.kind == kind]
    assert found and all(scenario_set in scenario_sets.sets_of_scenarios(library, f.scenarios) for f in found), explain(verdict)
    assert not verdict.harness_errors


@pytest.mark.parametrize("library, api, args, scenario_set", TRAPS)
def test_a_trap_of_a_scenario_set_is_not_flagged(request, library, api, args, scenario_set):
    backend = request.getfixturevalue(f"{library}_backend")
    verdict = check_case(parse_case(oracle_suite.case_json(api, args)), backend, oracle_suite.selection(scenario_set))
    assert not oracle_suite.flagged_kinds(library, verdict, scenario_set), explain(verdict)
    assert not verdict.harness_errors


@pytest.mark.parametrize(
    "library, name, blamed",
    [
        ("jax", "fused_scale_jvp", {"custom_jvp:jacfwd-jacfwd", "custom_jvp:jacrev-jacfwd"}),  # vmap of tangents alone
        ("tf", "reversed_sin", {"pfor-direct", "pfor-rev"}),  # pfor, not the while loop
        ("tf", "sin_and_cos", {"custom_gradient:rev-over-rev", "custom_gradient:fwd-over-rev"}),  # a tape over the rule
    ],
)
def test_only_the_scenarios_whose_machinery_a_planted_bug_breaks_find_it(request, library, name, blamed):
    case, kind, _ = oracle_suite.scenario_planted(library)[name]
    verdict = check_case(parse_case(case), request.getfixturevalue(f"{library}_backend"), scenario_sets.parse(library, "all"))
    assert {f.kind for f in verdict.findings} == {kind} and {f.scenarios[1] for f in verdict.findings} == blamed, explain(verdict)


def test_graph_breaks_and_data_dependent_code_are_not_compilable_not_findings(torch_backend):
    api, args = oracle_suite.SIGN_BRANCH
    verdict = check_case(make_case(api, *args), torch_backend, {"core": 1, "aot": 1, "batched": 1})
    assert "not-compilable" in verdict.filters and not verdict.findings, explain(verdict)


def test_inductor_compiles_the_call_and_finds_what_aot_eager_finds(torch_backend):
    case = make_case("torch.nabla_planted.compiled_wrong_derivative", SMOOTH)
    verdict = check_case(case, torch_backend, oracle_suite.selection("inductor"))
    assert {f.scenarios for f in verdict.findings} == {("rev", "inductor-rev"), ("fwd", "inductor-fwd")}, explain(verdict)


def test_the_nested_forward_mode_bug_of_autograd_function_is_one_root_cause(torch_backend):
    verdict = check_case(make_case("torch.sin", SMOOTH), torch_backend, oracle_suite.selection("custom"))
    roots = {root_cause(f.library, f.api, f.kind, f.scenarios) for f in verdict.findings}
    assert roots == {"torch:custom-rule:function:fwd-over-fwd"}, explain(verdict)  # pytorch/pytorch#197867
    assert {f.scenarios[1] for f in verdict.findings} == {"function:fwd-over-fwd", "function:jacfwd-jacfwd"}


@pytest.mark.parametrize(
    "library, api, scenario_set",
    [
        ("torch", "torch.nabla_planted.compiled_wrong_derivative", "aot"),
        ("torch", "torch.nabla_planted.wrong_vmap_rule", "batched"),
        ("torch", "torch.nabla_planted.wrong_transposed_backward", "custom"),
        ("torch", "torch.sin", "custom"),
        ("jax", "jax.nabla_planted.wrong_vmap_rule", "batched"),
        ("jax", "jax.nabla_planted.fused_scale_jvp", "custom"),
        ("tf", "tf.nabla_planted.reversed_sin", "batched"),
        ("tf", "tf.nabla_planted.sin_and_cos", "custom"),
        ("torch", "torch.nabla_planted.stride_blind_backward", "inputs"),
        ("tf", "tf.nabla_planted.variable_path", "inputs"),
    ],
)
def test_a_scenario_sets_finding_has_a_reproducer_that_fails(request, tmp_path, monkeypatch, library, api, scenario_set):
    backend = request.getfixturevalue(f"{library}_backend")
    verdict = check_case(make_case(api, SMOOTH), backend, oracle_suite.selection(scenario_set))
    verdict.findings = [f for f in verdict.findings if scenario_set in scenario_sets.sets_of_scenarios(library, f.scenarios)]
    stored = store_findings(verdict, backend, FindingsStore(tmp_path))
    assert stored, explain(verdict)
    for s in stored:
        assert run_reproducer(s.folder / "repro.py", monkeypatch) == 1, s.folder.name


def test_scenario_sets_parse_with_periods_defaults_and_errors(monkeypatch):
    assert scenario_sets.parse("torch", "batched,custom/8") == {"core": 1, "batched": 1, "custom": 8}
    assert scenario_sets.parse("jax", "default") == scenario_sets.DEFAULTS["jax"]
    assert set(scenario_sets.parse("tf", "all")) == set(scenario_sets.AVAILABLE["tf"])
    for bad in ("nonsense", "custom/0", "custom/x", "compiled"):
        with pytest.raises(ValueError):
            scenario_sets.parse("torch", bad)
    assert scenario_sets.parse("torch", "compiled,batched", strict=False) == {"core": 1, "batched": 1}
    monkeypatch.setenv("NABLA_SCENARIOS", "")
    assert scenario_sets.from_environment("torch") == scenario_sets.DEFAULTS["torch"]
    picked = [scenario_sets.active({"core": 1, "custom": 4}, bytes([i])) for i in range(200)]
    assert all("core" in p for p in picked) and 25 < sum("custom" in p for p in picked) < 75
    assert scenario_sets.active({"core": 1, "custom": 4}, b"x") == scenario_sets.active({"core": 1, "custom": 4}, b"x")


def test_check_takes_scenarios_and_refuses_unknown_ones(tmp_path, capsys):
    path = tmp_path / "case.json"
    path.write_text(json.dumps(oracle_suite.case_json("torch.nabla_planted.wrong_vmap_rule", [SMOOTH])))
    assert main(["check", str(path), "--scenarios", "nonsense"]) == 2
    assert "unknown scenario set" in capsys.readouterr().err
    assert main(["check", str(path), "--scenarios", "batched"]) == 1
    assert "batched-mismatch" in capsys.readouterr().out


def test_a_changed_autograd_state_is_a_harness_error_not_findings(torch_backend):
    import torch

    with torch.no_grad():  # as a scenario that left grad mode off would
        verdict = check_case(make_case("torch.sin", SMOOTH), torch_backend, oracle_suite.selection("batched"))
    assert verdict.findings == [] and "autograd's global state" in verdict.harness_errors[0], explain(verdict)


def test_an_empty_output_vmap_returns_without_its_batch_axis_is_compared_not_a_harness_error(torch_backend):
    lu = {"dtype": "float64", "shape": [4, 4], "seed": 0}
    pivots = {"dtype": "int32", "shape": [4], "values": [1, 2, 3, 4]}
    case = make_case("torch.lu_unpack", lu, pivots, unpack_data=False)  # L and U empty: vmap returns them unbatched
    verdict = check_case(case, torch_backend, oracle_suite.selection("batched"))
    assert not verdict.harness_errors and any(line.check.startswith("vmap-direct") for line in verdict.lines), explain(verdict)


INSTRUMENTED_CHECK = """
import json

from nabla_atheris import harness
from nabla_atheris.backends import get_backend
from nabla_atheris.handcase import parse_case
from nabla_atheris.oracle import check_case

backend = get_backend("torch")
harness.instrument_modules(harness.guiding_modules("torch"))
case = {"library": "torch", "api": "torch.nn.functional.softplus", "args": [SMOOTH], "kwargs": {}}
verdict = check_case(parse_case(case), backend, {"core": 1, "aot": 1})
print(json.dumps({line.check: line.status for line in verdict.lines if line.check.startswith("aot")}))
"""


def test_torch_compile_traces_the_library_while_the_harness_instruments_it():
    script = INSTRUMENTED_CHECK.replace("SMOOTH", repr(SMOOTH))
    root = Path(__file__).resolve().parents[1]
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=root, timeout=600)
    statuses = json.loads(run.stdout.strip().splitlines()[-1])
    assert statuses.get("aot-fwd vs fwd") == "ok" and set(statuses.values()) == {"ok"}, run.stdout + run.stderr[-2000:]


def test_a_sparse_tensor_that_breaks_its_invariants_is_an_invalid_input_not_a_harness_error(torch_backend):
    indices = {"dtype": "int64", "shape": [2, 3], "values": [2, 2, 0, 2, 2, 0]}  # row 2 of a size-2 dimension
    case = make_case("torch.sparse_coo_tensor", indices, {"dtype": "float64", "shape": [3], "seed": 0}, [2, 4])
    verdict = check_case(case, torch_backend, oracle_suite.selection("inputs"))
    assert "invalid-input" in verdict.filters and not verdict.harness_errors and not verdict.findings, explain(verdict)


def test_an_api_that_refuses_non_contiguous_inputs_is_filtered_and_as_strided_is_not_judged(torch_backend):
    pairs = {"dtype": "float64", "shape": [3, 2], "seed": 0}  # complex numbers as (re, im) pairs: a last axis of stride 1
    refused = check_case(make_case("torch.view_as_complex", pairs), torch_backend, oracle_suite.selection("inputs"))
    assert "input-kind-refused" in refused.filters and not refused.findings, explain(refused)
    strided = make_case("torch.as_strided_scatter", SMOOTH, {"dtype": "float64", "shape": [2], "seed": 1}, [2], [1])
    layout = check_case(strided, torch_backend, oracle_suite.selection("inputs"))  # its backward is wrong: core finds it
    assert "by-design" in layout.filters and not oracle_suite.flagged_kinds("torch", layout, "inputs"), explain(layout)


def test_pfor_rev_of_a_real_output_of_a_complex_input_keeps_the_complex_jacobian_rows(tf_backend):
    # tf.math.abs of a complex tensor (ComplexAbs): the Jacobian rows are complex; a product cast to the
    # real output's dtype kept only their real part (the while loop's rows meet TF's TensorArray dtype bug)
    case = parse_case(oracle_suite.case_json("tf.math.abs", [oracle_suite.COMPLEX]))
    verdict = check_case(case, tf_backend, oracle_suite.selection("batched"))
    assert not [f for f in verdict.findings if f.kind == "batched-mismatch"], explain(verdict)
