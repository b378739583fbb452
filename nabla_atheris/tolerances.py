"""The per-dtype tolerance policy, in one place: float64 tight, float32 looser, half types loosest."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tolerance:
    """|a - b| <= atol + rtol * scale, where scale is the larger magnitude of the compared values."""

    rtol: float
    atol: float

    def close(self, a: float, b: float, scale: float = 0.0) -> bool:
        return abs(a - b) <= self.atol + self.rtol * max(abs(a), abs(b), scale)


# Checks and their tolerance by precision class.
_POLICY: dict[str, dict[str, Tolerance]] = {
    "value": {"float64": Tolerance(1e-7, 1e-10), "float32": Tolerance(1e-4, 1e-6), "half": Tolerance(2e-2, 1e-3)},
    "ad-vs-ad": {"float64": Tolerance(1e-6, 1e-9), "float32": Tolerance(1e-3, 1e-5), "half": Tolerance(5e-2, 1e-2)},
    "ad-vs-numeric": {"float64": Tolerance(1e-4, 1e-7), "float32": Tolerance(1e-2, 1e-4), "half": Tolerance(1e-1, 1e-2)},
    "second-order": {"float64": Tolerance(1e-3, 1e-6), "float32": Tolerance(5e-2, 1e-3), "half": Tolerance(2e-1, 5e-2)},
    # The numerical derivative at two step sizes, and at neighbouring points (instability filters).
    "numeric-steps": {"float64": Tolerance(1e-4, 1e-7), "float32": Tolerance(1e-4, 1e-7), "half": Tolerance(1e-4, 1e-7)},
    "neighbours": {"float64": Tolerance(1e-2, 1e-5), "float32": Tolerance(1e-2, 1e-5), "half": Tolerance(1e-2, 1e-5)},
    # The jump between one-sided derivatives that marks a kink (relative to the derivatives' scale): no
    # looser than the comparisons it guards, so a kink that moves a derivative by more than their
    # tolerance is one.
    "one-sided": {"float64": Tolerance(1e-4, 1e-7), "float32": Tolerance(1e-4, 1e-7), "half": Tolerance(1e-4, 1e-7)},
}

# Numerical differentiation (always in float64): central differences with steps h and h * NUMERIC_STEP_RATIO,
# checked at NEIGHBOURS points within NEIGHBOUR_RADIUS.
NUMERIC_STEP = 1e-6
NUMERIC_STEP_RATIO = 10.0
NEIGHBOUR_RADIUS = 1e-4
NEIGHBOURS = 3
ONE_SIDED_STEP = 1e-5  # relative to the largest input, for the one-sided differences of the kink test
# A decomposition's input is ill-conditioned when its smallest singular value, or its smallest gap
# between eigenvalues or singular values, is below this share of the largest (by precision class).
ILL_CONDITIONED = {"float64": 1e-6, "float32": 1e-3, "half": 1e-2}
# A derivative this large against the inputs and outputs (|d| max(|x|, 1)^order / max(|f|, 1), a
# condition number) loses about half the precision's digits to rounding in any mode: no comparison
# of such derivatives is evidence.
SENSITIVITY_LIMIT = {"float64": 1e8, "float32": 3e3, "half": 30.0}


# The smallest positive value of each floating dtype (its smallest subnormal): a derivative smaller in
# magnitude is 0 in that dtype, so an AD mode that computes exactly 0 for it rounds correctly.
SMALLEST_SUBNORMAL = {
    "float16": 2.0**-24,
    "bfloat16": 2.0**-133,
    "float32": 2.0**-149,
    "complex64": 2.0**-149,
    "float64": 2.0**-1074,
    "complex128": 2.0**-1074,
}


def underflows(value: float, dtypes: list[str]) -> bool:
    """Whether |value| is below the smallest positive value of the narrowest-ranged of the dtypes."""
    smallest = max((SMALLEST_SUBNORMAL[d] for d in dtypes if d in SMALLEST_SUBNORMAL), default=0.0)
    return abs(value) < smallest


def precision_class(dtypes: list[str]) -> str:
    """The least precise class among floating dtypes (an empty list counts as float64)."""
    if any(d in ("float16", "bfloat16") for d in dtypes):
        return "half"
    if any(d in ("float32", "complex64") for d in dtypes):
        return "float32"
    return "float64"


def tolerance(check: str, dtypes: list[str]) -> Tolerance:
    """The tolerance of a check for values of the given dtypes."""
    return _POLICY[check][precision_class(dtypes)]


_RANK = {"float16": 1, "bfloat16": 1, "float32": 2, "complex64": 2, "float64": 3, "complex128": 3}


def loses_precision(input_dtypes: list[str], output_dtypes: list[str]) -> bool:
    """True when a floating output is less precise than a floating input."""
    ins = [_RANK[d] for d in input_dtypes if d in _RANK]
    outs = [_RANK[d] for d in output_dtypes if d in _RANK]
    return bool(ins and outs and min(outs) < max(ins))
