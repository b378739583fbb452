"""Random directions and real inner products over lists of (possibly complex) arrays."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from nabla_atheris.structures import project

Arrays = list[np.ndarray]


def is_floating(a: np.ndarray) -> bool:
    return np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.complexfloating)


def rng_for(data: bytes, salt: str = "") -> np.random.Generator:
    """A generator seeded by a case's bytes: projections are random but reproducible."""
    digest = hashlib.sha256(data + salt.encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def random_like(rng: np.random.Generator, arrays: Sequence[np.ndarray], structures: Sequence[str | None] = ()) -> Arrays:
    """A unit-norm random direction shaped like `arrays` (zero on non-floating arrays), in the
    declared input space of each array (`structures`, see nabla_atheris.structures)."""
    out = []
    for i, a in enumerate(arrays):
        if not is_floating(a):
            out.append(np.zeros(a.shape, dtype=np.float64))
            continue
        if np.iscomplexobj(a):
            d = np.asarray(rng.standard_normal(a.shape) + 1j * rng.standard_normal(a.shape))
        else:
            d = np.asarray(rng.standard_normal(a.shape))
        out.append(project(d, structures[i] if i < len(structures) else None))
    norm = np.sqrt(sum(float(np.sum(np.abs(d) ** 2)) for d in out))
    return [d / norm for d in out] if norm > 0 else out


def inner(a: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> float:
    """sum(Re(a * conj(b))) over the pairs of floating arrays; the real inner product."""
    total = 0.0
    for x, y in zip(a, b):
        if is_floating(np.asarray(x)) and is_floating(np.asarray(y)):
            with np.errstate(all="ignore"):
                total += float(np.sum(np.real(np.asarray(x, dtype=np.complex128) * np.conj(np.asarray(y, dtype=np.complex128)))))
    return total


def norm(arrays: Sequence[np.ndarray]) -> float:
    """The Euclidean norm over floating arrays."""
    with np.errstate(all="ignore"):
        return float(np.sqrt(sum(float(np.sum(np.abs(a) ** 2)) for a in arrays if is_floating(np.asarray(a)))))


def axpy(xs: Sequence[np.ndarray], alpha: float, ds: Sequence[np.ndarray]) -> Arrays:
    """xs + alpha * ds, kept in each x's dtype."""
    out = []
    for x, d in zip(xs, ds):
        y = x + alpha * (d if np.iscomplexobj(x) else np.real(d))
        out.append(np.asarray(y, dtype=x.dtype))  # 0-d stays an array
    return out


def all_finite(arrays: Sequence[np.ndarray]) -> bool:
    return all(bool(np.all(np.isfinite(a))) for a in arrays if is_floating(np.asarray(a)))


def same_values(a: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> bool:
    """Bitwise-equal outputs, NaN equal to NaN (the determinism check)."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if x.shape != y.shape or x.dtype != y.dtype:
            return False
        if is_floating(x):
            if not np.array_equal(x, y, equal_nan=True):
                return False
        elif not np.array_equal(x, y):
            return False
    return True
