"""torch.cholesky_inverse's forward-mode derivative is wrong for a non-diagonal factor (known:
pytorch/pytorch#196682, fix PR #197010). Exits 1 while the JVP disagrees with reverse mode and
with central differences, 0 once they agree."""

import sys

import torch

U = torch.tensor([[1.0, 1.0], [0.0, 2.0]], dtype=torch.float64)  # a valid upper Cholesky factor
V = torch.tensor([[0.3, 1.0], [0.0, -0.5]], dtype=torch.float64)  # a direction in the factor's space


def f(u: torch.Tensor) -> torch.Tensor:
    return torch.cholesky_inverse(u, upper=True).sum()  # sum((U^T U)^-1)


jvp = torch.func.jvp(f, (U,), (V,))[1].item()
grad = torch.func.grad(f)(U)
rev = (grad * V).sum().item()
h = 1e-6
numeric = ((f(U + h * V) - f(U - h * V)) / (2 * h)).item()
print(f"forward (jvp) {jvp:.10g}, reverse (grad . v) {rev:.10g}, central differences {numeric:.10g}")
sys.exit(0 if abs(jvp - numeric) <= 1e-6 * (1 + abs(numeric)) else 1)
