"""The oracle's stages and filters on a numpy fake backend with planted defects (no DL library)."""

import numpy as np
import pytest
from conftest import explain, kinds, tensor
from fake_backend import FakeBackend

from nabla_atheris import numerics
from nabla_atheris.catalog.properties import NONE, ApiProperties
from nabla_atheris.handcase import parse_case
from nabla_atheris.oracle import check_case
from nabla_atheris.oracle.confirm import compare_jacobians

X = tensor([2, 3], [0.3, -0.7, 1.1, 0.5, -1.3, 0.9])
BACKEND = FakeBackend()


def check(op, *args, properties=None, monkeypatch=None):
    if monkeypatch is not None:
        monkeypatch.setattr("nabla_atheris.oracle.subject.properties_of", lambda library, api: properties or NONE)
    case = parse_case({"library": "fake", "api": f"fake.{op}", "args": list(args or [X])})
    return check_case(case, BACKEND)


@pytest.mark.parametrize(
    "op, kind, scenarios",
    [
        ("wrong_rev", "rev-vs-numeric", ("rev", "numeric")),
        ("wrong_fwd", "fwd-vs-numeric", ("fwd", "numeric")),
        ("wrong_both", "rev-vs-numeric", ("rev", "numeric")),  # the primary mode is named; fwd agrees with it
        ("unstable_disagree", "rev-vs-fwd", ("rev", "fwd")),  # no reliable referee: the AD pair stands alone
        ("nan_fwd", "nan-mismatch", ("rev", "fwd")),
        ("wrong_shape_rev", "shape-mismatch", ("rev", "direct")),
        ("absent_rev", "derivative-gap", ("fwd", "rev")),  # forward mode computes what reverse mode reports absent
        ("gap_rev", "derivative-gap", ("direct", "rev")),
        ("no_derivative", "missing-derivative", ("direct", "rev")),
        ("gap_second", "derivative-gap", ("rev", "fwd-over-rev")),
        ("internal_rev", "crash", ("direct", "rev")),
        ("status_rev", "status-mismatch", ("direct", "rev")),
        ("value_rev", "value-mismatch", ("direct", "rev")),
        ("wrong_rev_over_rev", "second-order-mismatch", ("rev-over-rev", "fwd-over-rev")),
        ("wrong_all_second", "second-order-mismatch", ("rev-over-rev", "numeric")),
        ("wrong_jit", "compiled-mismatch", ("rev", "jit-rev")),
    ],
)
def test_planted_defect_is_found_with_its_kind_and_scenarios(op, kind, scenarios):
    verdict = check(op)
    assert (kind, scenarios) in {(f.kind, f.scenarios) for f in verdict.findings}, explain(verdict)
    assert not verdict.harness_errors


def test_a_wrong_rule_is_one_finding_blamed_on_the_wrong_mode():
    verdict = check("wrong_rev")
    assert [f.kind for f in verdict.findings] == ["rev-vs-numeric"], explain(verdict)  # not also rev-vs-fwd
    assert "forward mode agrees" in verdict.findings[0].message
    # the wrong mode is not composed further: second order runs fwd-over-fwd only
    skipped = {line.check for line in verdict.lines if line.status == "skipped"}
    assert {"rev-over-rev", "fwd-over-rev", "rev-over-fwd", "jit-rev"} <= skipped, explain(verdict)


def test_both_modes_wrong_the_same_way_is_one_finding():
    verdict = check("wrong_both")
    assert [f.kind for f in verdict.findings] == ["rev-vs-numeric"], explain(verdict)
    assert "forward mode agrees with reverse mode" in verdict.findings[0].message


def test_numerical_filters_do_not_dismiss_a_disagreement_of_two_ad_modes():
    verdict = check("unstable_disagree")
    assert "rev-vs-fwd" in kinds(verdict), explain(verdict)
    assert "no numerical referee (numerical-instability)" in verdict.findings[0].message


def test_second_order_runs_when_the_first_order_numerical_comparison_is_filtered():
    verdict = check("unstable_wrong_second")
    assert "numerical-instability" in verdict.filters, explain(verdict)
    assert kinds(verdict) == {"second-order-mismatch"}, explain(verdict)
    assert verdict.findings[0].scenarios[0] == "rev-over-rev"


def test_missing_derivative_is_recorded_and_documented_limits_are_by_design(monkeypatch):
    assert all(f.recorded_only for f in check("no_derivative").findings)
    verdict = check("documented_fwd")
    assert verdict.findings == [] and "by-design" in verdict.filters, explain(verdict)
    declared = ApiProperties(unsupported=frozenset({"rev"}))
    verdict = check("gap_rev", properties=declared, monkeypatch=monkeypatch)
    assert kinds(verdict) == {"missing-derivative"}, explain(verdict)  # documented: not a gap
    real_only = ApiProperties(derivative_dtypes=frozenset({"float32", "float64"}))
    verdict = check("gap_rev", properties=real_only, monkeypatch=monkeypatch)
    assert kinds(verdict) == {"derivative-gap"}, explain(verdict)  # float64 has derivatives: a gap
    complex_x = tensor([2], [[0.3, 0.1], [-0.7, 0.4]], dtype="complex128")
    verdict = check("gap_rev", complex_x, properties=real_only, monkeypatch=monkeypatch)
    assert kinds(verdict) == {"missing-derivative"}, explain(verdict)  # complex is documented to have none


def test_a_second_order_gap_in_dtypes_the_derivative_lacks_is_a_missing_derivative(monkeypatch):
    # i0's derivative is i1, which has no Half backward: i0's second order in Half is documented as absent
    assert kinds(check("gap_second")) == {"derivative-gap"}
    first_order_only = ApiProperties(second_order_dtypes=frozenset({"float32"}))  # the case is float64
    verdict = check("gap_second", properties=first_order_only, monkeypatch=monkeypatch)
    assert kinds(verdict) == {"missing-derivative"} and all(f.recorded_only for f in verdict.findings), explain(verdict)
    documented = ApiProperties(second_order_dtypes=frozenset({"float64"}))
    assert kinds(check("gap_second", properties=documented, monkeypatch=monkeypatch)) == {"derivative-gap"}
    assert not first_order_only.documents_no_derivative("rev", ["float64"])  # first order keeps its derivatives


@pytest.mark.parametrize(
    "op, args, reason",
    [
        ("sin", [X], None),
        ("abs", [tensor([4], [0.0, 1.0, -2.0, 0.5])], None),
        ("tie_max", [tensor([4], [0.5, 2.0, 2.0, -1.0])], "non-differentiable-point"),
        ("half_output", [X], "precision-loss"),
        ("noisy", [X], "nondeterministic"),
        ("contract_breach", [X], "invalid-input"),  # the library's own static checks reject what its kernel ran
        ("infinite_slope", [tensor([3], [0.0, 0.5, -0.7])], "nan-both"),  # the same inf in eager and compiled is agreement
        ("order_by_dtype", [{**X, "dtype": "float32"}], "reference-disagrees"),  # float64 lists outputs otherwise
    ],
)
def test_traps_are_not_findings(op, args, reason):
    verdict = check(op, *args)
    assert verdict.findings == [] and not verdict.harness_errors, explain(verdict)
    assert reason is None or reason in verdict.filters, explain(verdict)


def test_a_tie_of_a_tie_sensitive_api_is_declared_without_numerics(monkeypatch):
    verdict = check(
        "tie_max", tensor([4], [0.5, 2.0, 2.0, -1.0]), properties=ApiProperties(tie_sensitive=True), monkeypatch=monkeypatch
    )
    assert verdict.findings == [] and any("a tie" in line.detail for line in verdict.lines), explain(verdict)


def test_declared_hermitian_input_keeps_directions_in_its_space():
    matrix = [0.9, -0.4, 0.3, 0.2, 1.4, -0.6, 0.7, 0.1, 2.2]
    unstructured = check("eigvalsh", tensor([3, 3], matrix))  # general directions: the convention shows as a mismatch
    assert kinds(unstructured) & {"rev-vs-fwd", "rev-vs-numeric"}, explain(unstructured)
    structured = check("eigvalsh", tensor([3, 3], matrix, structure="hermitian"))
    assert [f for f in structured.findings if f.kind != "missing-derivative"] == [], explain(structured)


def test_derivatives_too_large_for_the_precision_are_ill_conditioned_unless_one_mode_alone_is_huge():
    verdict = check("huge_slope")  # rounding at 1e12 decides a 1e-3 disagreement
    assert verdict.findings == [] and "ill-conditioned" in verdict.filters, explain(verdict)
    assert "rev-vs-numeric" in kinds(check("wildly_wrong_rev"))  # the other estimates are small: a bug


def test_a_derivative_flushed_to_zero_below_the_tolerances_is_recorded():
    first, second = check("flushed"), check("flushed_second")
    assert {(f.kind, f.scenarios[0]) for f in first.findings} == {("zero-derivative", "rev")}, explain(first)
    assert {(f.kind, f.scenarios[0]) for f in second.findings} == {("zero-derivative", "rev-over-rev")}, explain(second)
    assert all(f.recorded_only for f in first.findings + second.findings) and check("sin").findings == []


def test_an_infinite_input_entry_has_no_derivative_to_compare():
    assert "nan-mismatch" in kinds(check("nan_fwd_tanh")), explain(check("nan_fwd_tanh"))  # tanh is finite at inf
    verdict = check("nan_fwd_tanh", tensor([4], [0.3, float("-inf"), 1.1, 0.5]))
    assert verdict.findings == [] and "non-differentiable-point" in verdict.filters, explain(verdict)


def test_a_zero_derivative_below_the_dtypes_smallest_value_is_its_rounding():
    # 1e-9 cos(x) is below float16's smallest subnormal (6e-8): 0 is the derivative rounded to float16
    verdict = check("flushed", {**X, "dtype": "float16"})
    assert "zero-derivative" not in kinds(verdict), explain(verdict)
    assert "zero-derivative" in kinds(check("flushed", {**X, "dtype": "float32"}))  # 1e-9 is a float32 value


def test_a_derivative_one_mode_reports_absent_and_the_other_computes_is_a_raised_gap():
    verdict = check("absent_rev")  # reverse mode: None; forward mode: the derivative (its user would get a zero)
    assert [(f.kind, f.recorded_only) for f in verdict.findings] == [("derivative-gap", False)], explain(verdict)
    assert "fwd computes it" in verdict.findings[0].message
    assert all(f.recorded_only for f in check("cut").findings)  # absent in every mode: a missing derivative


def test_gradient_cutting_api_is_by_design(monkeypatch):
    assert kinds(check("cut")) == {"missing-derivative"}  # undeclared: recorded as a missing derivative
    verdict = check("cut", properties=ApiProperties(gradient="cut"), monkeypatch=monkeypatch)
    assert verdict.findings == [] and "by-design" in verdict.filters, explain(verdict)


def test_a_straight_through_gradient_is_by_design_only_where_it_departs_from_the_math(monkeypatch):
    below = tensor([4], [0.2, -0.7, 1.1, 0.9])  # two entries clamped: the convention applies
    assert kinds(check("straight_through", below)) == {"rev-vs-numeric"}  # undeclared: the gradient is not the derivative
    declared = ApiProperties(gradient="straight-through")
    verdict = check("straight_through", below, properties=declared, monkeypatch=monkeypatch)
    assert verdict.findings == [] and "by-design" in verdict.filters, explain(verdict)  # its compositions too
    above = tensor([3], [0.7, 1.1, 0.9])  # nothing clamped: the convention is the math, a wrong forward rule is a bug
    verdict = check("straight_through_wrong_fwd", above, properties=declared, monkeypatch=monkeypatch)
    assert kinds(verdict) == {"fwd-vs-numeric"}, explain(verdict)
    verdict = check("straight_through_wrong_fwd", below, properties=declared, monkeypatch=monkeypatch)
    assert kinds(verdict) == {"rev-vs-fwd"}, explain(verdict)  # forward mode departs from the math too: not the convention


def test_a_call_asking_for_a_scaled_reverse_gradient_is_by_design():
    plain = parse_case({"library": "fake", "api": "fake.wrong_rev", "args": [X]})
    assert kinds(check_case(plain, BACKEND)) == {"rev-vs-numeric"}
    scaled = parse_case({"library": "fake", "api": "fake.wrong_rev", "args": [X], "kwargs": {"scale_grad_by_freq": True}})
    verdict = check_case(scaled, BACKEND)
    assert verdict.findings == [] and "by-design" in verdict.filters, explain(verdict)
    assert "scale_grad_by_freq=True" in " ".join(line.detail for line in verdict.lines), explain(verdict)


def test_a_call_naming_a_padding_row_asks_for_a_reverse_convention():
    # embedding's docs: "the entries at padding_idx do not contribute to the gradient" (reverse mode only)
    padded = parse_case({"library": "fake", "api": "fake.wrong_rev", "args": [X], "kwargs": {"padding_idx": 0}})
    verdict = check_case(padded, BACKEND)
    assert verdict.findings == [] and "by-design" in verdict.filters, explain(verdict)
    assert "padding_idx=0" in " ".join(line.detail for line in verdict.lines), explain(verdict)
    unpadded = parse_case({"library": "fake", "api": "fake.wrong_rev", "args": [X], "kwargs": {"padding_idx": None}})
    assert kinds(check_case(unpadded, BACKEND)) == {"rev-vs-numeric"}


def test_an_error_in_the_harness_glue_is_a_harness_error_not_a_finding():
    verdict = check("glue_error")
    assert verdict.findings == [] and verdict.harness_errors, explain(verdict)
    assert "converting a result" in verdict.harness_errors[0] and "fake_backend.py" in verdict.harness_errors[0]


def test_a_compiler_that_refuses_is_skipped_for_the_rest_of_the_case():
    verdict = check("not_compilable")
    skipped = [line.check for line in verdict.lines if line.status in ("skipped", "filtered")]
    assert skipped == ["jit-direct", "jit-rev", "jit-fwd"] and verdict.findings == [], explain(verdict)
    assert verdict.filters == ["not-compilable"], explain(verdict)  # counted once, as the refusal it is


def test_numerical_derivative_and_its_stability():
    xs, direction = [np.array([0.3, -0.7])], [np.array([0.6, 0.8])]
    value, stable = numerics.numeric_derivative(lambda a: float(np.sum(np.sin(a[0]))), xs, direction)
    assert stable and abs(value - float(np.sum(np.cos(xs[0]) * direction[0]))) < 1e-8
    _, stable = numerics.numeric_derivative(lambda a: float(np.sum(np.sin(a[0]) + 1e-3 * np.sin(1e7 * a[0]))), xs, direction)
    assert not stable


def test_one_sided_differences_tell_a_kink_from_curvature():
    direction = [np.array([1.0, 0.0])]
    at_kink = [np.array([0.0, 0.5])]
    assert numerics.one_sided_gap(lambda a: float(np.sum(np.abs(a[0]))), at_kink, direction, 1.0) is not None
    assert numerics.one_sided_gap(lambda a: float(np.sum(np.exp(5 * a[0]))), at_kink, direction, 1.0) is None


def test_a_value_that_jumps_at_the_point_is_a_discontinuity_and_a_steep_one_is_not():
    direction, at_zero = [np.array([1.0, 0.0])], [np.array([0.0, 0.5])]
    angle = lambda a: float(np.angle(a[0][0] + 0j) + a[0][1])  # noqa: E731  (angle of a real: 0 or pi, a jump at 0)
    assert numerics.value_jump(numerics.one_sided_samples(angle, at_zero, direction)) is not None
    # eigenvalues the library orders one way at x and another at its neighbours
    reordered = lambda a: float(np.sort(a[0])[0] if a[0][0] == 0.0 else a[0][0])  # noqa: E731
    assert numerics.value_jump(numerics.one_sided_samples(reordered, [np.array([0.0, -0.5])], direction)) is not None
    steep = lambda a: float(np.sum(np.tanh(1e4 * a[0])))  # noqa: E731  (continuous, however steep)
    assert numerics.value_jump(numerics.one_sided_samples(steep, at_zero, direction)) is None
    assert numerics.value_jump(numerics.one_sided_samples(lambda a: float(np.sum(np.abs(a[0]))), at_zero, direction)) is None


def test_jacobians_compare_entrywise_and_empty_ones_agree():
    assert compare_jacobians(np.zeros((0,)), np.zeros((0, 5)), "ad-vs-numeric", ["float64"])[0]
    ok, err, where = compare_jacobians(np.eye(2), np.array([[1.0, 0.0], [0.5, 1.0]]), "ad-vs-ad", ["float64"])
    assert not ok and err == 0.5 and where == (1, 0)


def test_duplicate_indices_are_by_design_only_where_the_writes_race():
    from nabla_atheris.oracle.evidence import declared_point_of

    declared = ApiProperties(unique_indices=True)
    index = {"dtype": "int64", "shape": [3], "values": [0, 0, 1]}
    racing = parse_case({"library": "fake", "api": "fake.sin", "args": [X, index]})
    assert declared_point_of(racing, [], declared).reason == "by-design"
    for flags in ({"reduce": "multiply"}, {"reduce": "add"}, {"accumulate": True}):  # repeats are a product or a sum
        combined = parse_case({"library": "fake", "api": "fake.sin", "args": [X, index], "kwargs": flags})
        assert declared_point_of(combined, [], declared).reason is None, flags
