"""JAX backend: binds a `Case` to jax arrays and runs the scenarios of `jax_modes`.

Every call structure (API, attributes, shapes and dtypes, the values of constant tensors) gets one
function object, kept in a bounded cache, so that `jax.jit` compiles each structure once per process.
"""

from __future__ import annotations

import importlib
import re
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import numpy as np

from nabla_atheris.backends import SECOND_ORDER_MODES, Arrays, ErrorClass, widen_dtype
from nabla_atheris.backends import jax_modes as modes
from nabla_atheris.case import Attr, Case, Tensor, TensorList
from nabla_atheris.verdict import Finding

jax = modes.jax
jnp = modes.jnp

COMPILED_MODES = ("jit-direct", "jit-rev", "jit-fwd")
CACHE_SIZE = 512

_UNSUPPORTED = re.compile(
    r"Differentiation rule for .* not implemented|Transpose rule .* not implemented|not implemented for|"
    r"can't apply (forward|reverse)-mode autodiff|Reverse-mode differentiation does not work|"
    r"jvp rule .* not implemented|JVP rule .* not implemented|does not support (forward|reverse)|"
    r"only supports reverse-mode|is not differentiable|NotImplementedError|Linearization failed",
    re.IGNORECASE,
)
_INTERNAL = re.compile(r"INTERNAL:|Internal error|Check failed|please report this", re.IGNORECASE)


def resolve(name: str) -> Callable[..., Any]:
    """The callable for a dotted API name such as `jax.numpy.sin` or `jax.scipy.special.gammaln`."""
    parts = name.split(".")
    if parts[0] != "jax":
        raise KeyError(f"not a jax API: {name}")
    obj: Any = jax
    for i, part in enumerate(parts[1:], start=2):
        if not hasattr(obj, part):
            try:
                importlib.import_module(".".join(parts[:i]))
            except ImportError:
                raise KeyError(f"no such API: {name}") from None
        obj = getattr(obj, part)
    if not callable(obj):
        raise KeyError(f"not callable: {name}")
    return obj


def _array(t: Tensor, dtype: str, values: np.ndarray | None = None) -> Any:
    data = t.array() if values is None else np.asarray(values).reshape(t.shape)
    return jnp.asarray(data, dtype=jnp.dtype(dtype))


def _static(value: Any) -> Any:
    """Attribute values as jax expects them: lists become (hashable) tuples."""
    return tuple(_static(v) for v in value) if isinstance(value, (list, tuple)) else value


class _Cache(OrderedDict):
    """A least-recently-used map of bounded size."""

    def get_or_make(self, key: Hashable, make: Callable[[], Any]) -> Any:
        if key in self:
            self.move_to_end(key)
            return self[key]
        value = self[key] = make()
        if len(self) > CACHE_SIZE:
            self.popitem(last=False)
        return value


_FUNCTIONS = _Cache()


class JaxCall:
    """A case bound to jax: `f(*differentiable inputs)` and the scenarios run on it."""

    def __init__(self, case: Case, widen: bool = False) -> None:
        self.case = case
        self.dtype_of = (lambda t: widen_dtype(t.dtype)) if widen else (lambda t: t.dtype)
        self.diff = case.differentiable()
        self.key = self._structure_key()
        self.f = _FUNCTIONS.get_or_make(self.key, self._make_function)
        self.inputs: Arrays = [modes.to_numpy(_array(t, self.dtype_of(t))) for t in self.diff]
        self.output_dtypes: list[str] = []

    def _structure_key(self) -> Hashable:
        def part(arg: Any) -> Hashable:
            if isinstance(arg, Tensor):
                if arg.differentiable:
                    return ("x", self.dtype_of(arg), arg.shape)
                return ("c", self.dtype_of(arg), arg.shape, arg.values.tobytes())
            if isinstance(arg, TensorList):
                return ("list", tuple(part(t) for t in arg.items))
            return ("attr", repr(arg.value))

        return (self.case.api, tuple(part(a) for a in self.case.args), tuple((k, part(a)) for k, a in self.case.kwargs))

    def _make_function(self) -> Callable[..., Any]:
        fn = resolve(self.case.api)
        diff_ids = {id(t): i for i, t in enumerate(self.diff)}
        constants = {id(t): _array(t, self.dtype_of(t)) for t in self.case.tensors() if not t.differentiable}
        args, kwargs = self.case.args, self.case.kwargs

        def materialize(arg: Any, xs: Sequence[Any]) -> Any:
            if isinstance(arg, Tensor):
                return xs[diff_ids[id(arg)]] if id(arg) in diff_ids else constants[id(arg)]
            if isinstance(arg, TensorList):
                return [materialize(t, xs) for t in arg.items]
            assert isinstance(arg, Attr)
            return _static(arg.value)

        def f(*xs: Any) -> Any:
            return fn(*[materialize(a, xs) for a in args], **{k: materialize(a, xs) for k, a in kwargs})

        f.jitted = {}  # type: ignore[attr-defined]
        return f

    def _xs(self, xs: Sequence[np.ndarray] | None) -> list[Any]:
        arrays = self.inputs if xs is None else xs
        return [_array(t, self.dtype_of(t), a) for t, a in zip(self.diff, arrays)]

    def direct(self, xs: Sequence[np.ndarray] | None = None) -> Arrays:
        outs = modes.flat(self.f)(*self._xs(xs))
        self.output_dtypes = [str(o.dtype) for o in outs]
        return [modes.to_numpy(o) for o in outs]

    def vjp(self, cotangents: Arrays, xs: Sequence[np.ndarray] | None = None) -> tuple[Arrays, Arrays]:
        return modes.vjp(self.f, self._xs(xs), cotangents)

    def jvp(self, tangents: Arrays, xs: Sequence[np.ndarray] | None = None) -> tuple[Arrays, Arrays]:
        return modes.jvp(self.f, self._xs(xs), tangents)

    def second_order(self, mode: str, u: Arrays, v: Arrays, v2: Arrays) -> float:
        return modes.second_order(self.f, self._xs(None), u, v, v2, mode)

    def compiled(self, mode: str, vectors: Arrays) -> tuple[Arrays, Arrays]:
        """A scenario under jax.jit ("jit-direct", "jit-rev", "jit-fwd"), compiled once per structure."""
        eager = mode.removeprefix("jit-")
        jitted = self.f.jitted  # type: ignore[attr-defined]
        if eager not in jitted:
            jitted[eager] = modes.jitted(eager, self.f)
        return modes.compiled(jitted[eager], eager, self._xs(None), vectors)


class JaxBackend:
    """The JAX backend."""

    name = "jax"
    first_order_modes = ("rev", "fwd")
    second_order_modes = SECOND_ORDER_MODES
    compiled_modes = COMPILED_MODES

    def version(self) -> str:
        return jax.__version__

    def bind(self, case: Case, widen: bool = False) -> JaxCall:
        return JaxCall(case, widen)

    def classify(self, exc: BaseException) -> ErrorClass:
        text = f"{type(exc).__name__}: {exc}"
        if _INTERNAL.search(text):
            return ErrorClass.INTERNAL
        if isinstance(exc, NotImplementedError) or _UNSUPPORTED.search(text):
            return ErrorClass.UNSUPPORTED
        return ErrorClass.INVALID

    def clear_cache(self) -> None:
        """Drop the per-structure functions and their compiled code (benchmarks, memory)."""
        _FUNCTIONS.clear()

    def render_reproducer(self, case: Case, finding: Finding) -> str:
        from nabla_atheris.reproducer import render_reproducer

        return render_reproducer(case, finding)


def make_backend() -> JaxBackend:
    """Entry point for `nabla_atheris.backends.get_backend`."""
    return JaxBackend()
