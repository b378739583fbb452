"""Declared input spaces: a matrix input that an API reads as Hermitian (one triangle, or assumed
symmetric) or as triangular gets values, directions and perturbations in that space, as PyTorch's
OpInfo does with `gradcheck_wrapper_hermitian_input` and `gradcheck_wrapper_triangular_input`.

A structure applies to the last two dimensions of a square (batched) matrix; on any other shape it
is ignored (the call is then checked in the full space).
"""

from __future__ import annotations

from typing import Any

import numpy as np

STRUCTURES = ("hermitian", "hermitian-pd", "lower", "upper")
# Declared for an API with an `upper` or `lower` flag: the side the call's flag says, else the default.
TRIANGULAR = ("triangular:lower", "triangular:upper")


def resolve(declared: str | None, flags: dict[str, Any]) -> str | None:
    """The structure of one call's argument: a declared "triangular:<default side>" takes its side
    from the call's `upper` or `lower` flag; any other declaration is the structure itself."""
    if declared not in TRIANGULAR:
        return declared
    if flags.get("upper") is True or flags.get("lower") is False:
        return "upper"
    if flags.get("upper") is False or flags.get("lower") is True:
        return "lower"
    return declared.split(":")[1]


def applies(structure: str | None, shape: tuple[int, ...]) -> bool:
    """Whether a structure constrains an array of this shape (a square matrix or batch of them)."""
    return structure in STRUCTURES and len(shape) >= 2 and shape[-1] == shape[-2] and shape[-1] > 0


def _conj_t(a: np.ndarray) -> np.ndarray:
    return np.conj(np.swapaxes(a, -1, -2))


def project(a: np.ndarray, structure: str | None) -> np.ndarray:
    """The orthogonal projection of a direction onto the structure's space (unchanged if it does not apply)."""
    if not applies(structure, a.shape):
        return a
    if structure in ("hermitian", "hermitian-pd"):
        return ((a + _conj_t(a)) / 2).astype(a.dtype)
    return np.tril(a) if structure == "lower" else np.triu(a)


def make_values(a: np.ndarray, structure: str | None) -> np.ndarray:
    """Values in the structure's space (positive definite for "hermitian-pd": A A^H / n + I)."""
    if not applies(structure, a.shape):
        return a
    if structure == "hermitian-pd":
        n = a.shape[-1]
        with np.errstate(all="ignore"):
            pd = a @ _conj_t(a) / n + np.eye(n)
        return project(pd.astype(a.dtype), structure)
    return project(a, structure)


def basis(shape: tuple[int, ...], structure: str | None, complex_: bool) -> list[tuple[np.ndarray, str]]:
    """Unit directions spanning the structure's space of arrays of `shape`, each labelled by its
    position ("[i, j]", with ".re"/".im" for complex); the full space's unit vectors if it does not apply."""
    parts = (1.0, 1j) if complex_ else (1.0,)
    dtype = np.complex128 if complex_ else np.float64
    out = []
    for flat in range(int(np.prod(shape, dtype=np.int64))):
        index = tuple(int(k) for k in np.unravel_index(flat, shape))
        if applies(structure, shape) and not _free(index, structure):
            continue
        for unit in parts:
            if structure in ("hermitian", "hermitian-pd") and applies(structure, shape) and index[-1] == index[-2] and unit == 1j:
                continue  # a Hermitian matrix has a real diagonal
            direction = np.zeros(shape, dtype=dtype)
            direction[index] = unit
            if applies(structure, shape) and structure in ("hermitian", "hermitian-pd"):
                direction = direction + _conj_t(direction) - (direction if index[-1] == index[-2] else 0)
            label = "" if len(parts) == 1 else (".re" if unit == 1.0 else ".im")
            out.append((direction, f"{list(index)}{label}"))
    return out


def _free(index: tuple[int, ...], structure: str | None) -> bool:
    """Whether an entry is a free coordinate of the structure (the lower triangle, or the upper)."""
    i, j = index[-2], index[-1]
    return i <= j if structure == "upper" else i >= j
