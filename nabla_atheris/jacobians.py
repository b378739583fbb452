"""Full Jacobians in the real view (complex entries split into real and imaginary parts).

The oracle builds them only to confirm a projection mismatch and to locate the offending entries;
a full-Jacobian check of every case (as ∇Fuzz does) is kept for the benchmark.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from nabla_atheris import projections as P
from nabla_atheris.filters import central_difference, step_for
from nabla_atheris.tolerances import tolerance

if TYPE_CHECKING:
    from nabla_atheris.oracle import Checker

MAX_REAL_ENTRIES = 64  # build full Jacobians only up to this many real inputs and outputs
EXTRA_PROJECTIONS = 3


def real_view(arrays: list[np.ndarray]) -> np.ndarray:
    """Floating arrays flattened to one real vector (complex as interleaved real, imaginary)."""
    parts = []
    for a in arrays:
        if not P.is_floating(a):
            continue
        parts.append(np.stack([a.real, a.imag], -1).ravel() if np.iscomplexobj(a) else a.ravel().astype(np.float64))
    return np.concatenate(parts) if parts else np.zeros(0)


def units(like: list[np.ndarray]) -> list[tuple[list[np.ndarray], str]]:
    """Unit directions over the real view of `like`, each with a label of its position."""
    out = []
    for i, a in enumerate(like):
        if not P.is_floating(a):
            continue
        parts = (1.0, 1j) if np.iscomplexobj(a) else (1.0,)
        for flat in range(a.size):
            for unit in parts:
                direction = [np.zeros(b.shape, dtype=np.complex128 if np.iscomplexobj(b) else np.float64) for b in like]
                direction[i].flat[flat] = unit
                part = "" if len(parts) == 1 else (".re" if unit == 1.0 else ".im")
                index = [int(k) for k in np.unravel_index(flat, a.shape)]
                out.append((direction, f"#{i}{index}{part}"))
    return out


def jacobian(mode: str, call: Any, wide: Any, outputs: list[np.ndarray]) -> np.ndarray:
    """The real-view Jacobian (outputs x inputs) by reverse, forward or numerical differentiation."""
    if mode == "rev":
        return np.array([real_view(call.vjp(u)[1]) for u, _ in units(outputs)])
    if mode == "fwd":
        return np.array([real_view(call.jvp(v)[1]) for v, _ in units(call.inputs)]).T
    h = step_for(wide.inputs)
    columns = []
    for v, _ in units(wide.inputs):
        plus, minus = wide.direct(P.axpy(wide.inputs, h, v)), wide.direct(P.axpy(wide.inputs, -h, v))
        columns.append((real_view(plus) - real_view(minus)) / (2 * h))
    return np.array(columns).T


def compare_jacobians(a: np.ndarray, b: np.ndarray, check: str, dtypes: list[str]) -> tuple[bool, float, tuple[int, int]]:
    """Whether two Jacobians agree, the largest error and its (output, input) position."""
    if a.size == 0 or b.size == 0 or a.shape != b.shape:  # an empty Jacobian has one shape per way of building it
        return a.size == b.size == 0, 0.0, (0, 0)
    tol = tolerance(check, dtypes)
    with np.errstate(all="ignore"):
        err = np.abs(a - b)
        scale = float(np.nanmax(np.maximum(np.abs(a), np.abs(b))))
    err = np.where(np.isnan(err), np.inf, err)
    worst = np.unravel_index(int(np.argmax(err)), err.shape)
    return bool(err[worst] <= tol.atol + tol.rtol * scale), float(err[worst]), (int(worst[0]), int(worst[1]))


def confirm_first_order(checker: Checker, mismatches: list[tuple[str, str]], scale: float) -> list[tuple[str, str]]:
    """The mismatching mode pairs that full Jacobians (or more projections) confirm, with locations noted."""
    call, wide, outputs = checker.call, checker.wide, checker.outputs
    small = len(real_view(outputs)) <= MAX_REAL_ENTRIES and len(real_view(call.inputs)) <= MAX_REAL_ENTRIES
    if not small:
        return [pair for pair in mismatches if _more_projections_agree(checker, pair, scale) is False]
    cache: dict[str, np.ndarray] = {}
    confirmed = []
    dtypes = checker.dtypes + call.output_dtypes
    for a, b in mismatches:
        for mode in (a, b):
            if mode not in cache:
                cache[mode] = jacobian(mode, call, wide, outputs)
        ok, err, (row, col) = compare_jacobians(cache[a], cache[b], "ad-vs-ad" if b != "numeric" else "ad-vs-numeric", dtypes)
        if not ok and cache[a].shape != cache[b].shape:  # e.g. one mode's result lost an empty dimension
            checker.verdict.note(f"jacobian {a} vs {b}", "mismatch", f"shapes {cache[a].shape} vs {cache[b].shape}")
            confirmed.append((a, b))
        elif not ok:
            out_label, in_label = units(outputs)[row][1], units(call.inputs)[col][1]
            checker.verdict.note(
                f"jacobian {a} vs {b}",
                "mismatch",
                f"d output{out_label} / d input{in_label}: {cache[a][row, col]:.6g} vs {cache[b][row, col]:.6g}",
            )
            checker.location = {
                "output": out_label,
                "input": in_label,
                "a": float(cache[a][row, col]),
                "b": float(cache[b][row, col]),
                "error": err,
            }
            confirmed.append((a, b))
    return confirmed


def _more_projections_agree(checker: Checker, pair: tuple[str, str], scale: float) -> bool:
    """True unless most of EXTRA_PROJECTIONS fresh projections also disagree."""
    call, wide = checker.call, checker.wide
    tol = tolerance("ad-vs-ad" if pair[1] != "numeric" else "ad-vs-numeric", checker.dtypes + call.output_dtypes)
    disagreements = 0
    for _ in range(EXTRA_PROJECTIONS):
        u, v = P.random_like(checker.rng, checker.outputs), P.random_like(checker.rng, call.inputs)
        values = {}
        for mode in pair:
            if mode == "rev":
                values[mode] = P.inner(call.vjp(u)[1], v)
            elif mode == "fwd":
                values[mode] = P.inner(u, call.jvp(v)[1])
            else:
                values[mode] = central_difference(lambda xs: P.inner(u, wide.direct(xs)), wide.inputs, v, step_for(wide.inputs))
        disagreements += not tol.close(values[pair[0]], values[pair[1]], scale)
    return disagreements * 2 <= EXTRA_PROJECTIONS


def full_jacobian_check(case: Any, backend: Any) -> bool:
    """A ∇Fuzz-style check: full reverse, forward and numerical Jacobians of every input, compared
    entrywise. Returns whether they agree (for the benchmark against the projection oracle)."""
    call = backend.bind(case)
    outputs = call.direct()
    call.direct()
    wide = backend.bind(case, widen=True)
    jacobians = [jacobian(mode, call, wide, outputs) for mode in ("rev", "fwd", "numeric")]
    dtypes = case.float_dtypes() + call.output_dtypes
    return all(compare_jacobians(jacobians[0], j, "ad-vs-numeric", dtypes)[0] for j in jacobians[1:])
