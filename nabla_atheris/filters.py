"""Filters against numerical instability: a mismatch becomes a finding only if all of them pass."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nabla_atheris import projections as P
from nabla_atheris.tolerances import NEIGHBOUR_RADIUS, NEIGHBOURS, NUMERIC_STEP, NUMERIC_STEP_RATIO, tolerance

Arrays = list[np.ndarray]
ScalarFn = Callable[[Arrays], float]  # a scalar function of the differentiable inputs


def step_for(xs: Arrays) -> float:
    """The central-difference step: NUMERIC_STEP relative to the inputs' magnitude."""
    finite = [np.max(np.abs(x[np.isfinite(x)])) for x in xs if x.size and np.isfinite(x).any()]
    return NUMERIC_STEP * max([1.0] + [float(m) for m in finite])


def central_difference(fn: ScalarFn, xs: Arrays, direction: Arrays, h: float) -> float:
    """(fn(x + h d) - fn(x - h d)) / 2h."""
    return (fn(P.axpy(xs, h, direction)) - fn(P.axpy(xs, -h, direction))) / (2.0 * h)


def numeric_derivative(fn: ScalarFn, xs: Arrays, direction: Arrays) -> tuple[float, bool]:
    """The directional derivative, and whether other step sizes agree on it (numerical stability).

    The step grows with the largest input; when that makes it larger than the unit-scale step, the
    unit-scale step must agree too (inputs of mixed magnitude, say 0.15 and 1e30, have no one step
    that resolves both: a large step flattens the small entries' derivatives)."""
    h = step_for(xs)
    close = tolerance("numeric-steps", []).close
    fine = central_difference(fn, xs, direction, h)
    others = [central_difference(fn, xs, direction, h * NUMERIC_STEP_RATIO)]
    if h > NUMERIC_STEP:
        others.append(central_difference(fn, xs, direction, NUMERIC_STEP))
    stable = bool(np.isfinite(fine)) and all(np.isfinite(o) and close(fine, o) for o in others)
    return fine, stable


def is_kink(fn: ScalarFn, xs: Arrays, direction: Arrays, at_x: float, rng: np.random.Generator, scale: float) -> bool:
    """True when the numerical derivative at random neighbours differs from the one at x.

    Within NEIGHBOUR_RADIUS (relative to each input) a differentiable function's derivative
    barely moves; a kink (relu at 0, floor at an integer, ties in max) changes it.
    """
    tol = tolerance("neighbours", [])
    for _ in range(NEIGHBOURS):
        offsets = [NEIGHBOUR_RADIUS * (1.0 + np.abs(np.real(x))) * np.sign(rng.standard_normal(x.shape)) for x in xs]
        neighbour = [(x + d).astype(x.dtype) for x, d in zip(xs, offsets)]
        value, stable = numeric_derivative(fn, neighbour, direction)
        if not stable or not tol.close(value, at_x, scale):
            return True
    return False
