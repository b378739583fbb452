"""Numerical differentiation in float64 and the tests built on it: step stability, kinks at
neighbouring points, and one-sided differences (a non-differentiable point along a direction).

Reproducers embed `step_for`, `central_difference` and `numeric_derivative` verbatim, so they
compute the numerical derivative exactly as the oracle does.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nabla_atheris import projections as P
from nabla_atheris.tolerances import (
    NEIGHBOUR_RADIUS,
    NEIGHBOURS,
    NUMERIC_STEP,
    NUMERIC_STEP_RATIO,
    ONE_SIDED_STEP,
    tolerance,
)

Arrays = list[np.ndarray]
ScalarFn = Callable[[Arrays], float]  # a scalar function of the differentiable inputs
axpy = P.axpy
STEP_AGREEMENT = tolerance("numeric-steps", [])


def step_for(xs: Arrays) -> float:
    """The central-difference step: NUMERIC_STEP relative to the inputs' magnitude."""
    finite = [np.max(np.abs(x[np.isfinite(x)])) for x in xs if x.size and np.isfinite(x).any()]
    return NUMERIC_STEP * max([1.0] + [float(m) for m in finite])


def central_difference(fn: ScalarFn, xs: Arrays, direction: Arrays, h: float) -> float:
    """(fn(x + h d) - fn(x - h d)) / 2h."""
    return (fn(axpy(xs, h, direction)) - fn(axpy(xs, -h, direction))) / (2.0 * h)


def numeric_derivative(fn: ScalarFn, xs: Arrays, direction: Arrays) -> tuple[float, bool]:
    """The directional derivative, and whether it can be trusted (numerical stability).

    Other step sizes must agree on it: the step grows with the largest input, and when that makes it
    larger than the unit-scale step, the unit-scale step must agree too (inputs of mixed magnitude,
    say 0.15 and 1e30, have no one step that resolves both). And the difference must stand above
    rounding: fn's values at x +- h carry an error of about eps |fn| each, so a derivative the
    quotient cannot tell from eps |fn| / h is not resolved (a 1e30 entry swamps the others)."""
    h = step_for(xs)
    close = STEP_AGREEMENT.close
    plus, minus = fn(axpy(xs, h, direction)), fn(axpy(xs, -h, direction))
    fine = (plus - minus) / (2.0 * h)
    others = [central_difference(fn, xs, direction, h * NUMERIC_STEP_RATIO)]
    if h > NUMERIC_STEP:
        others.append(central_difference(fn, xs, direction, NUMERIC_STEP))
    floor = float(np.finfo(np.float64).eps) * max(abs(plus), abs(minus)) / h
    resolved = floor <= STEP_AGREEMENT.atol + STEP_AGREEMENT.rtol * abs(fine)
    stable = bool(np.isfinite(fine)) and resolved and all(np.isfinite(o) and close(fine, o) for o in others)
    return fine, stable


def changes_nearby(fn: ScalarFn, xs: Arrays, direction: Arrays, at_x: float, rng: np.random.Generator, scale: float) -> bool:
    """True when the numerical derivative at random neighbours differs from the one at x.

    Within NEIGHBOUR_RADIUS (relative to each input) a differentiable function's derivative
    barely moves; a kink nearby (relu at 0, floor at an integer, ties in max) changes it. The
    neighbours are offset within the inputs' declared spaces only through `direction`-independent
    noise, so this test judges the numerical derivative's reliability, not the point itself.
    """
    tol = tolerance("neighbours", [])
    for _ in range(NEIGHBOURS):
        offsets = [NEIGHBOUR_RADIUS * (1.0 + np.abs(np.real(x))) * np.sign(rng.standard_normal(x.shape)) for x in xs]
        neighbour = [(x + d).astype(x.dtype) for x, d in zip(xs, offsets)]
        value, stable = numeric_derivative(fn, neighbour, direction)
        if not stable or not tol.close(value, at_x, scale):
            return True
    return False


Samples = tuple[float, list[tuple[float, float, float]]]  # f(x), and (step, f(x + step d), f(x - step d)) per step


def one_sided_samples(fn: ScalarFn, xs: Arrays, direction: Arrays) -> Samples:
    """fn at x and at x +- step d for three steps a decade apart (ONE_SIDED_STEP relative to the inputs)."""
    h = ONE_SIDED_STEP * max([1.0] + [float(np.max(np.abs(x))) for x in xs if x.size and np.all(np.isfinite(x))])
    steps = (h, h / NUMERIC_STEP_RATIO, h / NUMERIC_STEP_RATIO**2)
    return fn(xs), [(step, fn(axpy(xs, step, direction)), fn(axpy(xs, -step, direction))) for step in steps]


def _same_at_every_step(values: list[float], floor: float) -> float | None:
    """The last value when every value is finite, above `floor` and within 10 % of it (None otherwise)."""
    last = values[-1]
    if not all(np.isfinite(v) for v in values) or abs(last) <= floor:
        return None
    return float(last) if all(abs(v - last) <= 0.1 * abs(last) for v in values) else None


def one_sided_gap(fn: ScalarFn, xs: Arrays, direction: Arrays, scale: float, samples: Samples | None = None) -> float | None:
    """The jump between the right and the left derivative of fn at x along `direction`, if there
    is one; None where fn is differentiable along it (or where the differences are noise).

    (f(x + h d) - f(x)) / h - (f(x) - f(x - h d)) / h is h f''(x)[d, d] + O(h^2) for a smooth f, so it
    shrinks tenfold with h; at a kink (max with ties, clamp at its bound, abs at 0) it stays the jump
    in slope. A jump counts when it exceeds the tolerance and is the same at three steps a decade
    apart (noise, such as a rapidly oscillating term, gives differences that do not agree)."""
    tol = tolerance("one-sided", [])
    at, rows = samples or one_sided_samples(fn, xs, direction)
    gaps = [((plus - at) - (at - minus)) / step for step, plus, minus in rows]
    return _same_at_every_step(gaps, tol.atol + tol.rtol * scale)


def value_jump(samples: Samples) -> float | None:
    """The jump of fn's value itself at x along the direction, if there is one: f(x + h d) - f(x) (or
    f(x) - f(x - h d)) the same at three steps a decade apart, where a continuous f's shrinks with h.
    The function as computed is discontinuous here: angle at 0, or outputs whose order or signs the
    library chooses differently at x than at its neighbours (eigenvalues, singular vectors)."""
    tol = tolerance("one-sided", [])
    at, rows = samples
    floor = tol.atol * max(abs(at), 1.0)
    right = _same_at_every_step([plus - at for _, plus, _ in rows], floor)
    return right if right is not None else _same_at_every_step([at - minus for _, _, minus in rows], floor)
