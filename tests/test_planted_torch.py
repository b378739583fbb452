"""The oracle's own test: every planted bug is flagged with its kind, no trap is flagged."""

import oracle_suite
import planted_torch
import pytest
from conftest import COMPLEX, SMOOTH, assert_interaction_bug, explain, kinds, make_case, tensor

from nabla_atheris.oracle import check_case


@pytest.mark.parametrize("name", sorted(planted_torch.PLANTED))
def test_planted_bug_is_flagged_with_its_kind(torch_backend, name):
    _, expected = planted_torch.PLANTED[name]
    x = COMPLEX if "complex" in name else SMOOTH
    verdict = check_case(make_case(f"torch.nabla_planted.{name}", x), torch_backend)
    assert expected in kinds(verdict), explain(verdict)


def test_wrong_backward_blames_reverse_not_forward(torch_backend):
    verdict = check_case(make_case("torch.nabla_planted.wrong_backward", SMOOTH), torch_backend)
    assert "fwd-vs-numeric" not in kinds(verdict)
    finding = next(f for f in verdict.findings if f.kind == "rev-vs-numeric")
    assert finding.details["location"]["a"] == pytest.approx(1.5 * finding.details["location"]["b"], rel=1e-6)


def test_wrong_jvp_blames_forward_not_reverse(torch_backend):
    verdict = check_case(make_case("torch.nabla_planted.wrong_jvp", SMOOTH), torch_backend)
    assert "rev-vs-numeric" not in kinds(verdict)


def test_wrong_second_order_passes_first_order(torch_backend):
    verdict = check_case(make_case("torch.nabla_planted.wrong_second_order", SMOOTH), torch_backend)
    assert kinds(verdict) == {"second-order-mismatch"}
    assert {f.scenarios[0] for f in verdict.findings} >= {"rev-over-rev"}


@pytest.mark.parametrize("api, args", oracle_suite.TRAPS["torch"])
def test_traps_are_not_flagged(torch_backend, api, args):
    verdict = check_case(make_case(api, *args), torch_backend)
    assert not oracle_suite.flagged_by_trap("torch", kinds(verdict)), explain(verdict)


def test_nondeterministic_op_is_filtered(torch_backend):
    verdict = check_case(make_case("torch.nabla_planted.nondeterministic", SMOOTH), torch_backend)
    assert verdict.findings == [] and verdict.filtered == "nondeterministic"


def test_random_op_that_repeated_itself_once_is_filtered_not_blamed(torch_backend):
    verdict = check_case(make_case("torch.nabla_planted.lucky_random", SMOOTH), torch_backend)
    assert verdict.findings == [] and verdict.filtered == "nondeterministic", explain(verdict)


def test_a_mode_that_does_not_repeat_its_own_other_outputs_drew_them(torch_backend):
    planted_torch.TRAPS["off_once_under_reverse_mode"].drawn = False
    verdict = check_case(make_case("torch.nabla_planted.off_once_under_reverse_mode", SMOOTH), torch_backend)
    assert verdict.findings == [] and "nondeterministic" in verdict.filters, explain(verdict)


def test_kink_is_filtered_by_reason(torch_backend):
    verdict = check_case(make_case("torch.nn.functional.relu", tensor([3], [0.0, 1.0, -1.0])), torch_backend)
    assert verdict.filtered == "non-differentiable-point"


@pytest.mark.parametrize(
    "message, expected",
    [
        (
            "The function 'native_batch_norm' is not differentiable with respect to argument 'running_mean'.",
            "documented-unsupported",
        ),  # noqa: E501
        ("batch_norm is not differentiable wrt running_mean and running_var, they cannot have tangents", "unsupported"),
        # linalg.qr docs: mode='complete' "is differentiable for m <= n", mode='r' "is never differentiable"
        ("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.", "documented-unsupported"),
        ("The derivative of linalg.qr depends on Q, which is not computed when mode='r'.", "documented-unsupported"),
        ("one of the variables needed for gradient computation has been modified by an inplace operation", "invalid-input"),
        ("INTERNAL ASSERT FAILED at aten/src/ATen/native/x.cpp:1", "internal"),
        ("embedding_backward: scale_grad_by_freq not supported with sparse gradients", "unsupported"),
    ],
)
def test_error_messages_are_classified(torch_backend, message, expected):
    assert torch_backend.classify(RuntimeError(message)).value == expected


def test_accuracy_suite_counts_every_planted_bug_and_trap(torch_backend):
    result = oracle_suite.accuracy("torch", torch_backend)
    planted = len(planted_torch.PLANTED) + len(planted_torch.SCENARIO_PLANTED) + len(planted_torch.PROGRAM_PLANTED)
    assert sum(k["planted"] for k in result["by_kind"].values()) == planted
    assert all(k["detected"] == k["planted"] for k in result["by_kind"].values()), result
    traps = len(oracle_suite.TRAPS["torch"]) + len(oracle_suite.SCENARIO_TRAPS["torch"])
    assert result["traps"] == traps and result["traps_flagged"] == []


@pytest.mark.parametrize("name", sorted(oracle_suite.program_planted("torch")))
def test_a_planted_interaction_bug_is_found_in_a_program_and_not_in_its_single_call(torch_backend, name):
    assert_interaction_bug("torch", torch_backend, name, also="aot")
