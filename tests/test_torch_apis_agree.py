"""Real torch APIs of different shapes pass every check (0-d outputs, integer targets, complex, lists)."""

import pytest
from conftest import make_case, tensor

from nabla_atheris.oracle import check_case

CASES = [
    ("torch.linalg.det", [tensor([3, 3], seed=1)], {}),  # a 0-d output
    ("torch.sum", [tensor([2, 3], seed=2)], {}),
    ("torch.nn.functional.cross_entropy", [tensor([3, 4], seed=3), tensor([3], dtype="int64", seed=4, range=[0, 4])], {}),
    ("torch.fft.fft", [tensor([2, 4], dtype="complex128", seed=5)], {}),
    ("torch.cat", [[tensor([2, 3], seed=6), tensor([1, 3], seed=7)]], {"dim": 0}),
]


@pytest.mark.parametrize("api, args, kwargs", CASES, ids=[c[0] for c in CASES])
def test_real_api_agrees_in_every_scenario(torch_backend, api, args, kwargs):
    verdict = check_case(make_case(api, *args, **kwargs), torch_backend)
    lines = [(x.check, x.status, x.detail) for x in verdict.lines]
    assert verdict.valid and verdict.findings == [] and verdict.filtered is None, lines
    assert any(line.check == "fwd-over-fwd vs numeric" and line.status == "ok" for line in verdict.lines)
