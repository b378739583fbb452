"""Second derivatives through torch.linalg.solve's JVP rule are wrong in A (the umbrella
pytorch/pytorch#198017 lists linalg.solve: a term is dropped when the JVP rule is differentiated).
g(A) = sum(solve(A, b)^2) along a direction V: reverse-over-forward (grad of the JVP) against
reverse-over-reverse (grad of the VJP) and central differences of the first derivative. Exits 1
while reverse-over-forward disagrees, 0 once it agrees."""

import sys

import torch

A = torch.tensor([[2.0, 0.5], [0.3, 1.5]], dtype=torch.float64)
B = torch.tensor([1.0, -0.7], dtype=torch.float64)
V = torch.tensor([[0.4, -0.2], [0.1, 0.3]], dtype=torch.float64)


def g(a: torch.Tensor) -> torch.Tensor:
    return (torch.linalg.solve(a, B) ** 2).sum()


def first(a: torch.Tensor) -> torch.Tensor:  # d/dt g(a + t V), by reverse mode
    return (torch.func.grad(g)(a) * V).sum()


rev_over_rev = (torch.func.grad(first)(A) * V).sum().item()
rev_over_fwd = (torch.func.grad(lambda a: torch.func.jvp(g, (a,), (V,))[1])(A) * V).sum().item()
h = 1e-5
numeric = ((first(A + h * V) - first(A - h * V)) / (2 * h)).item()
print(f"rev-over-rev {rev_over_rev:.10g}, rev-over-fwd {rev_over_fwd:.10g}, central differences {numeric:.10g}")
sys.exit(0 if abs(rev_over_fwd - numeric) <= 1e-5 * (1 + abs(numeric)) else 1)
