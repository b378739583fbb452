"""Confirming a projection mismatch: full Jacobians in the real view (complex entries split into real
and imaginary parts, inputs in their declared spaces) for small cases, more random projections for
large ones. A mismatch between two AD modes is confirmed by their two Jacobians alone; the
numerical Jacobian is built only for a pair that involves it.

A full-Jacobian check of every case (as ∇Fuzz does) is `full_jacobian_check`, kept for the benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nabla_atheris import projections as P
from nabla_atheris import structures
from nabla_atheris.backends import Backend
from nabla_atheris.case import Case
from nabla_atheris.numerics import central_difference, step_for
from nabla_atheris.oracle.subject import Arrays, Subject, prepare
from nabla_atheris.tolerances import tolerance
from nabla_atheris.verdict import Judgement

MAX_REAL_ENTRIES = 64  # build full Jacobians only up to this many real inputs and outputs
EXTRA_PROJECTIONS = 3


@dataclass(frozen=True)
class Confirmation:
    """Whether full Jacobians (or more projections) confirm a mismatch, and where it is worst."""

    confirmed: bool
    how: str  # "jacobians" or "projections"
    note: str = ""
    location: dict[str, Any] = field(default_factory=dict)


def real_view(arrays: list[Any]) -> np.ndarray:
    """Floating arrays flattened to one real vector (complex as interleaved real, imaginary)."""
    parts = []
    for a in arrays:
        if a is None or not P.is_floating(np.asarray(a)):
            continue
        a = np.asarray(a)
        parts.append(np.stack([a.real, a.imag], -1).ravel() if np.iscomplexobj(a) else a.ravel().astype(np.float64))
    return np.concatenate(parts) if parts else np.zeros(0)


def output_units(like: Arrays) -> list[tuple[Arrays, str]]:
    """Unit cotangents over the real view of the outputs, each labelled by its position."""
    return input_units(like, [None] * len(like))


def input_units(like: Arrays, spaces: list[str | None]) -> list[tuple[Arrays, str]]:
    """A basis of the inputs' declared spaces (unit vectors where none is declared), labelled."""
    out = []
    for i, a in enumerate(like):
        if not P.is_floating(a):
            continue
        for direction, label in structures.basis(a.shape, spaces[i], np.iscomplexobj(a)):
            full = [np.zeros(b.shape, dtype=np.complex128 if np.iscomplexobj(b) else np.float64) for b in like]
            full[i] = direction
            out.append((full, f"#{i}{label}"))
    return out


def jacobian(mode: str, subject: Subject) -> np.ndarray:
    """The real-view Jacobian (outputs x input basis) by reverse, forward or numerical differentiation."""
    call, wide, library = subject.call, subject.wide, subject.library
    basis = input_units(call.inputs, subject.structures)
    if mode == "rev":
        rows = []
        for u, _ in output_units(subject.outputs):
            grads = library(call.vjp, u)[1]
            rows.append([P.inner(grads, d) for d, _ in basis])
        return np.array(rows, dtype=np.float64).reshape(len(rows), len(basis))
    if mode == "fwd":
        columns = [real_view(library(call.jvp, d)[1]) for d, _ in basis]
    else:
        h = step_for(wide.inputs)
        columns = []
        for d, _ in basis:
            plus, minus = library(wide.direct, P.axpy(wide.inputs, h, d)), library(wide.direct, P.axpy(wide.inputs, -h, d))
            columns.append((real_view(plus) - real_view(minus)) / (2 * h))
    return np.array(columns, dtype=np.float64).reshape(len(basis), -1).T


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


def is_small(subject: Subject) -> bool:
    return len(real_view(subject.outputs)) <= MAX_REAL_ENTRIES and len(real_view(subject.call.inputs)) <= MAX_REAL_ENTRIES


def confirm(subject: Subject, a: str, b: str, scale: float) -> Confirmation:
    """Whether the disagreement of modes a and b ("rev", "fwd", "numeric") holds beyond one projection."""
    check = "ad-vs-numeric" if "numeric" in (a, b) else "ad-vs-ad"
    if not is_small(subject):
        return _more_projections(subject, (a, b), check, scale)
    ja, jb = jacobian(a, subject), jacobian(b, subject)
    ok, err, (row, col) = compare_jacobians(ja, jb, check, subject.dtypes)
    if ok:
        return Confirmation(False, "jacobians", "full Jacobians agree")
    if ja.shape != jb.shape:
        return Confirmation(True, "jacobians", f"Jacobian shapes {ja.shape} vs {jb.shape}")
    out_label = output_units(subject.outputs)[row][1]
    in_label = input_units(subject.call.inputs, subject.structures)[col][1]
    location = {"output": out_label, "input": in_label, "a": float(ja[row, col]), "b": float(jb[row, col]), "error": err}
    note = f"d output{out_label} / d input{in_label}: {ja[row, col]:.6g} ({a}) vs {jb[row, col]:.6g} ({b})"
    return Confirmation(True, "jacobians", note, location)


def projection(subject: Subject, mode: str, u: Arrays, v: Arrays) -> float:
    """<u, J v> by one mode ("rev", "fwd" or "numeric")."""
    call, wide, library = subject.call, subject.wide, subject.library
    if mode == "rev":
        return P.inner(library(call.vjp, u)[1], v)
    if mode == "fwd":
        return P.inner(u, library(call.jvp, v)[1])
    return central_difference(lambda xs: P.inner(u, library(wide.direct, xs)), wide.inputs, v, step_for(wide.inputs))


def _more_projections(subject: Subject, pair: tuple[str, str], check: str, scale: float) -> Confirmation:
    """Confirmed when most of EXTRA_PROJECTIONS fresh projections disagree too."""
    tol = tolerance(check, subject.dtypes)
    disagreements, worst = 0, (0.0, 0.0)
    for _ in range(EXTRA_PROJECTIONS):
        u = P.random_like(subject.rng, subject.outputs)
        v = P.random_like(subject.rng, subject.call.inputs, subject.structures)
        a, b = (projection(subject, mode, u, v) for mode in pair)
        if not tol.close(a, b, scale):
            disagreements += 1
            worst = (a, b)
    confirmed = disagreements * 2 > EXTRA_PROJECTIONS
    note = f"{disagreements} of {EXTRA_PROJECTIONS} further projections disagree"
    return Confirmation(confirmed, "projections", note + (f" (e.g. {worst[0]:.6g} vs {worst[1]:.6g})" if disagreements else ""))


def full_jacobian_check(case: Case, backend: Backend) -> bool:
    """A ∇Fuzz-style check: full reverse, forward and numerical Jacobians of every input, compared
    entrywise. Returns whether they agree (for the benchmark against the projection oracle)."""
    subject = prepare(case, backend, Judgement())
    if subject is None:
        return True
    jacobians = [jacobian(mode, subject) for mode in ("rev", "fwd", "numeric")]
    return all(compare_jacobians(jacobians[0], j, "ad-vs-numeric", subject.dtypes)[0] for j in jacobians[1:])
