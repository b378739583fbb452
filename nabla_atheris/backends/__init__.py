"""The small interface every library backend implements, and the registry of backends."""

from __future__ import annotations

import contextlib
import enum
import importlib
from collections.abc import Callable, Sequence
from types import CodeType, ModuleType
from typing import Any, Protocol

import numpy as np

from nabla_atheris.case import DTYPES, Case
from nabla_atheris.libraries import RECORDS, MessagePatterns
from nabla_atheris.vocabulary import SECOND_ORDER as SECOND_ORDER_MODES  # noqa: F401  (re-exported)

Arrays = list[np.ndarray]


class ErrorClass(enum.Enum):
    """What an exception raised by a library call means."""

    INVALID = "invalid-input"  # the arguments are rejected (shape, dtype, range checks)
    UNSUPPORTED = "unsupported"  # a derivative is not implemented
    INTERNAL = "internal"  # an internal assertion: always a bug
    NOT_COMPILABLE = "not-compilable"  # tracing needs concrete values (value-dependent shapes, Python control flow)
    DOCUMENTED = "documented-unsupported"  # the library documents the mode as unsupported for this kind of function


def classify_message(
    exc: BaseException, messages: MessagePatterns, unsupported_types: tuple[type[BaseException], ...] = (NotImplementedError,)
) -> ErrorClass:
    """INTERNAL, DOCUMENTED, UNSUPPORTED or INVALID by an exception's type and its `Type: message` text."""
    text = f"{type(exc).__name__}: {exc}"
    if messages.internal.search(text):
        return ErrorClass.INTERNAL
    if messages.documented.search(text):
        return ErrorClass.DOCUMENTED
    if isinstance(exc, unsupported_types) or messages.unsupported.search(text):
        return ErrorClass.UNSUPPORTED
    return ErrorClass.INVALID


def lookup(root: ModuleType, name: str, prefix: str = "", import_missing: bool = False) -> Any:
    """The object a dotted API name denotes under the library's top-level module `root`; the name's
    first part is `prefix` (default: the module's name; "tf" names tensorflow). With `import_missing`,
    a part not imported yet is imported as a submodule (`jax.scipy.special`). KeyError when a part is
    missing or the name is not the library's."""
    parts = name.split(".")
    top = prefix or root.__name__.split(".")[0]
    if parts[0] != top:
        raise KeyError(f"not a {top} API: {name}")
    obj: Any = root
    for i, part in enumerate(parts[1:], start=2):
        if not hasattr(obj, part) and import_missing:
            with contextlib.suppress(ImportError):
                importlib.import_module(".".join([root.__name__, *parts[1:i]]))
        if not hasattr(obj, part):
            raise KeyError(f"no such API: {name}")
        obj = getattr(obj, part)
    return obj


def resolve_api(root: ModuleType, name: str, prefix: str = "", classes: bool = True, import_missing: bool = False) -> Any:
    """The callable a dotted API name denotes (see `lookup`); KeyError when it is not callable, or is
    a class where `classes` is false."""
    obj = lookup(root, name, prefix, import_missing)
    if not callable(obj) or (not classes and isinstance(obj, type)):
        raise KeyError(f"not callable: {name}")
    return obj


def dtype_tables(module: ModuleType, names: Sequence[str] = DTYPES) -> tuple[dict[str, Any], dict[Any, str]]:
    """A library's dtype objects by name (the `names` it has, as attributes of `module`), and the
    names by dtype object."""
    by_name = {name: getattr(module, name) for name in names}
    return by_name, {dtype: name for name, dtype in by_name.items()}


class BoundCall(Protocol):
    """One case bound to a library: a function of its differentiable inputs, run in every mode.

    `xs` replaces the values of the differentiable inputs (numpy arrays, in the bound dtype);
    complex gradients follow the real-inner-product convention: the VJP with cotangent u is the
    gradient of Re(sum(conj(u) * f)) as d/da + i d/db.
    """

    inputs: Arrays
    output_dtypes: list[str]

    def direct(self, xs: Sequence[np.ndarray] | None = None) -> Arrays: ...

    def vjp(self, cotangents: Arrays, xs: Sequence[np.ndarray] | None = None) -> tuple[Arrays, Arrays]: ...

    def jvp(self, tangents: Arrays, xs: Sequence[np.ndarray] | None = None) -> tuple[Arrays, Arrays]: ...

    def second_order(self, mode: str, u: Arrays, v: Arrays, v2: Arrays) -> float: ...

    def compiled(self, mode: str, vectors: Arrays) -> tuple[Arrays, Arrays]:
        """A compiled scenario (one of the backend's `compiled_modes`): outputs and products."""
        ...


class Backend(Protocol):
    """A library: binds cases, runs its modes, classifies its errors."""

    name: str
    primary_mode: str  # the mode the library's derivative rules are written for (the other is derived from it)
    glue: frozenset[CodeType]  # the code of its conversion functions: errors raised there are the harness' own
    first_order_modes: tuple[str, ...]
    second_order_modes: tuple[str, ...]
    compiled_modes: tuple[str, ...]  # "jit-direct", "jit-rev", "jit-fwd": compared with eager

    def version(self) -> str: ...

    def bind(self, case: Case, widen: bool = False) -> BoundCall: ...

    def classify(self, exc: BaseException) -> ErrorClass | None: ...

    def contract_violation(self, call: BoundCall) -> str | None:
        """Why the library's own static checks reject a call the eager kernel ran, if they do."""
        ...

    def clear_cache(self) -> None:
        """Drop the code compiled per call structure, the library's caches of it included (a worker
        whose memory grew; benchmarks)."""
        ...


_cache: dict[str, Backend] = {}


def get_backend(library: str) -> Backend:
    """The backend of a library (imports the library on first use)."""
    if library not in RECORDS:
        raise KeyError(f"no backend for library {library!r} (have: {', '.join(sorted(RECORDS))})")
    if library not in _cache:
        factory: Callable[[], Backend] = importlib.import_module(RECORDS[library].backend).make_backend
        _cache[library] = factory()
    return _cache[library]


def glue_of(modes: ModuleType) -> frozenset[CodeType]:
    """The code objects of the conversion functions a modes module lists in `GLUE`."""
    return frozenset(getattr(modes, name).__code__ for name in modes.GLUE)


def widen_dtype(dtype: str) -> str:
    """The dtype numerical differentiation runs in: float64, or complex128 for complex."""
    if dtype.startswith("complex"):
        return "complex128"
    if dtype in ("float16", "bfloat16", "float32", "float64"):
        return "float64"
    return dtype
