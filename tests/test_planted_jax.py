"""The oracle on JAX: every planted bug is flagged with its kind, no trap is flagged, jit compiles once."""

import oracle_suite
import planted_jax
import pytest
from conftest import COMPLEX, SMOOTH, assert_interaction_bug, explain, kinds, make_case, tensor

from nabla_atheris.oracle import check_case


@pytest.mark.parametrize("name", sorted(planted_jax.PLANTED))
def test_planted_bug_is_flagged_with_its_kind(jax_backend, name):
    _, expected = planted_jax.PLANTED[name]
    x = COMPLEX if "complex" in name else SMOOTH
    verdict = check_case(make_case(f"jax.nabla_planted.{name}", x), jax_backend)
    assert expected in kinds(verdict), explain(verdict)


def test_wrong_vjp_without_forward_rule_is_reverse_only(jax_backend):
    verdict = check_case(make_case("jax.nabla_planted.wrong_vjp", SMOOTH), jax_backend)
    assert kinds(verdict) == {"rev-vs-numeric"}, explain(verdict)
    assert "by-design" in verdict.filters  # JAX documents that a custom_vjp function has no forward mode


def test_forward_only_bug_blames_forward_not_reverse(jax_backend):
    verdict = check_case(make_case("jax.nabla_planted.affine_jvp", SMOOTH), jax_backend)
    assert "fwd-vs-numeric" in kinds(verdict) and "rev-vs-numeric" not in kinds(verdict), explain(verdict)


def test_wrong_second_order_passes_first_order_and_jit(jax_backend):
    verdict = check_case(make_case("jax.nabla_planted.wrong_second_order", SMOOTH), jax_backend)
    assert kinds(verdict) == {"second-order-mismatch"}, explain(verdict)
    (finding,) = verdict.findings  # one root cause: the four compositions agree with each other, not with the referee
    assert finding.scenarios[1] == "numeric" and "all 4 compositions agree" in finding.message


def test_jit_only_divergence_names_the_compiled_scenario(jax_backend):
    verdict = check_case(make_case("jax.nabla_planted.jit_only", SMOOTH), jax_backend)
    expected = {("direct", "jit-direct"), ("direct", "jit-rev"), ("direct", "jit-fwd")}  # the outputs of all three differ
    assert {f.scenarios for f in verdict.findings} == expected, explain(verdict)


@pytest.mark.parametrize("api, args", oracle_suite.TRAPS["jax"])
def test_traps_are_not_flagged(jax_backend, api, args):
    verdict = check_case(make_case(api, *args), jax_backend)
    assert not oracle_suite.flagged_by_trap("jax", kinds(verdict)), explain(verdict)


def test_a_call_jit_cannot_trace_skips_the_compiled_scenarios(jax_backend):
    verdict = check_case(make_case("jax.nabla_planted.boolean_mask", SMOOTH), jax_backend)
    skipped = [line for line in verdict.lines if line.status in ("skipped", "filtered")]
    assert [line.check for line in skipped] == ["jit-direct", "jit-rev", "jit-fwd"], explain(verdict)
    assert skipped[0].detail.startswith("not-compilable: NonConcreteBooleanIndexError") and "jit refused" in skipped[1].detail
    assert any(line.check.startswith("fwd-over-fwd") for line in verdict.lines), explain(verdict)


def test_kink_at_the_boundary_is_filtered(jax_backend):
    verdict = check_case(make_case("jax.nn.relu", tensor([3], [0.0, 1.0, -1.0])), jax_backend)
    assert verdict.filtered == "non-differentiable-point", explain(verdict)


def test_one_structure_compiles_once(jax_backend):
    from nabla_atheris.backends import jax_backend as module

    first = jax_backend.bind(make_case("jax.numpy.tanh", tensor([2, 3], seed=3)))
    second = jax_backend.bind(make_case("jax.numpy.tanh", tensor([2, 3], seed=4)))
    assert first.f is second.f
    for call in (first, second):
        call.compiled("jit-direct", [])
    assert first.f.compiled["jit-direct"]._cache_size() == 1
    other = jax_backend.bind(make_case("jax.numpy.tanh", tensor([3, 2], seed=3)))
    assert other.f is not first.f and module.JaxCall is type(other)


@pytest.mark.parametrize("name", ["wrong_vjp", "wrong_jvp", "wrong_second_order", "jit_only", "internal_error_vjp"])
def test_reproducer_imports_only_jax_and_numpy_and_fails_until_fixed(tmp_path, jax_backend, monkeypatch, name):
    import jax
    import jax.numpy as jnp
    from test_findings_and_session import imported_modules, run_reproducer

    from nabla_atheris.findings import FindingsStore
    from nabla_atheris.session import store_findings

    verdict = check_case(make_case(f"jax.nabla_planted.{name}", SMOOTH), jax_backend)
    expected = planted_jax.PLANTED[name][1]
    folder = next(s for s in store_findings(verdict, jax_backend, FindingsStore(tmp_path)) if s.kind == expected).folder
    allowed = {"__future__", "sys", "dataclasses", "os", "numpy", "jax"}  # os: the reference scenarios' XLA flags
    assert imported_modules((folder / "repro.py").read_text()) <= allowed
    assert run_reproducer(folder / "repro.py", monkeypatch) == 1
    monkeypatch.setattr(jax.nabla_planted, name, jnp.sin)
    assert run_reproducer(folder / "repro.py", monkeypatch) == 0


@pytest.mark.parametrize("name", sorted(planted_jax.PROGRAM_PLANTED))
def test_a_planted_interaction_bug_is_found_in_a_program_and_not_in_its_single_call(jax_backend, name):
    assert_interaction_bug("jax", jax_backend, name)
