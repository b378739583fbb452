"""Real torch APIs of different shapes (0-d outputs, integer targets, complex, tensor lists)."""

import pytest
from conftest import explain, make_case, tensor

from nabla_atheris.oracle import check_case

SECOND_ORDER = {"rev-over-rev", "fwd-over-rev", "rev-over-fwd", "fwd-over-fwd"}
FIRST_ORDER = ("value rev", "value fwd", "rev vs fwd", "rev vs numeric")  # both AD modes agree, then rev (primary) vs numeric
CASES = [
    ("torch.linalg.det", [tensor([3, 3], seed=1)], {}),  # a 0-d output
    ("torch.sum", [tensor([2, 3], seed=2)], {}),
    ("torch.nn.functional.cross_entropy", [tensor([3, 4], seed=3), tensor([3], dtype="int64", seed=4, range=[0, 4])], {}),
    ("torch.fft.fft", [tensor([2, 4], dtype="complex128", seed=5)], {}),
    ("torch.cat", [[tensor([2, 3], seed=6), tensor([1, 3], seed=7)]], {"dim": 0}),
]
# Second order through forward mode disagrees for these two in torch 2.13, both real bugs reported upstream:
# linalg.det's fwd-over-fwd and rev-over-fwd differ from the numerical derivative (pytorch/pytorch#192540,
# #196696: the JVP rule treats A^-1 as a constant), and cross_entropy's rev-over-fwd raises "modified by an
# inplace operation" (pytorch/pytorch#162350: logsumexp_jvp multiplies exp()'s output in place).
FULLY_AGREE = {"torch.sum", "torch.fft.fft", "torch.cat"}


@pytest.mark.parametrize("api, args, kwargs", CASES, ids=[c[0] for c in CASES])
def test_first_order_agrees(torch_backend, api, args, kwargs):
    verdict = check_case(make_case(api, *args, **kwargs), torch_backend)
    status = {line.check: line.status for line in verdict.lines}
    assert verdict.valid and all(status.get(check) == "ok" for check in FIRST_ORDER), status
    assert not [f for f in verdict.findings if not set(f.scenarios) & SECOND_ORDER], verdict.findings
    if api in FULLY_AGREE:
        assert verdict.findings == [] and verdict.filtered is None and status["second order vs numeric"] == "ok", status


def test_empty_jacobians_agree_whatever_shape_they_were_built_in():
    import numpy as np

    from nabla_atheris.oracle.confirm import compare_jacobians

    assert compare_jacobians(np.zeros((0,)), np.zeros((0, 5)), "ad-vs-numeric", ["float64"])[0]
    assert not compare_jacobians(np.zeros((2, 3)), np.zeros((3, 2)), "ad-vs-numeric", ["float64"])[0]


def test_matrix_product_with_an_empty_dimension_is_no_finding(torch_backend):
    verdict = check_case(make_case("torch.mm", tensor([0, 5], []), tensor([5, 3], seed=1)), torch_backend)
    assert verdict.findings == [], [f.message for f in verdict.findings]


def test_an_api_writing_into_a_constant_changes_no_other_call(torch_backend):
    """Torch's calls share one function per structure, but make its constant tensors anew at every call:
    `Tensor.add_` on a constant leaves the next call's constant, and the next case's, as written."""
    import numpy as np

    case = make_case("torch.Tensor.add_", tensor([3], [1.0, 2.0, 3.0], requires_grad=False), tensor([3], [0.5, 0.5, 0.5]))
    first, again = torch_backend.bind(case), torch_backend.bind(case)
    assert again.f is first.f
    outputs = [first.direct()[0], first.direct()[0], first.vjp([np.ones(3)])[0][0], again.direct()[0]]
    assert all(np.array_equal(out, [1.5, 2.5, 3.5]) for out in outputs), outputs


def test_svd_full_matrices_compares_what_ad_defines(torch_backend):
    # U's last column of a 3x2 input is any unit vector orthogonal to the others: torch.linalg.svd's
    # backward ignores it (documented), the numerical derivative would not
    case = make_case("torch.linalg.svd", tensor([3, 2], seed=8), full_matrices=True)
    verdict = check_case(case, torch_backend, first_order_only=True)
    assert verdict.valid and verdict.findings == [], [f.message for f in verdict.findings]


def test_householder_product_at_its_documented_undefined_gradient_is_filtered(torch_backend):
    # tau_3 = 1 = 1/|v_3|^2 (v_3 = e_3): householder_product's docs say the gradient may be NaN there
    a = tensor([3, 3], [0.3, 0.1, 0.2, 0.5, -0.7, 0.4, 0.2, 0.6, 1.1])
    verdict = check_case(make_case("torch.linalg.householder_product", a, tensor([3], [0.4, 0.9, 1.0])), torch_backend)
    assert verdict.findings == [] and verdict.filtered == "ill-conditioned", explain(verdict)


def test_requires_grad_false_cuts_reverse_mode_only(torch_backend):
    # asarray(x, requires_grad=False): no reverse-mode history by its docs; a forward tangent passes
    verdict = check_case(make_case("torch.asarray", tensor([3], seed=9), requires_grad=False), torch_backend)
    assert verdict.findings == [] and verdict.filtered == "by-design", explain(verdict)
