"""Binding a `Case` to a library whose scenarios are compiled per call structure (JAX, TensorFlow).

Every call structure (API, attributes, shapes and dtypes, the values of constant tensors) gets one
function object of the differentiable inputs, kept in a bounded cache, so that a library's compiler
(`jax.jit`, `tf.function`) traces and compiles each structure once per process.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from types import ModuleType
from typing import Any

import numpy as np

from nabla_atheris.backends import SECOND_ORDER_MODES, Arrays, widen_dtype
from nabla_atheris.case import Attr, Case, Tensor, TensorList
from nabla_atheris.verdict import Finding

CACHE_SIZE = 512


class FunctionCache(OrderedDict):
    """A least-recently-used map of bounded size: structure key -> function of the differentiable inputs."""

    def get_or_make(self, key: Hashable, make: Callable[[], Any]) -> Any:
        if key in self:
            self.move_to_end(key)
            return self[key]
        value = self[key] = make()
        if len(self) > CACHE_SIZE:
            self.popitem(last=False)
        return value


class StructuredCall:
    """A case bound to a library: `f(*differentiable inputs)`, shared by all cases of one structure.

    Subclasses set `modes` (the library's scenario module: `flatten`, `to_numpy`, `vjp`, `jvp`,
    `second_order`, `compiled`), `functions` (their FunctionCache) and implement `to_library`,
    `resolve`, `attribute` and `compile`.
    """

    modes: ModuleType
    functions: FunctionCache

    def __init__(self, case: Case, widen: bool = False) -> None:
        self.case = case
        self.dtype_of = (lambda t: widen_dtype(t.dtype)) if widen else (lambda t: t.dtype)
        self.diff = case.differentiable()
        self.f = self.functions.get_or_make(self._structure_key(), self._make_function)
        self.inputs: Arrays = [self.modes.to_numpy(self.array(t, self.dtype_of(t))) for t in self.diff]
        self.output_dtypes: list[str] = []

    # -- what a library provides -----------------------------------------------------------------
    def to_library(self, data: np.ndarray, dtype: str) -> Any:
        """A numpy array as the library's tensor of `dtype`."""
        raise NotImplementedError

    def resolve(self, name: str) -> Callable[..., Any]:
        raise NotImplementedError

    def attribute(self, value: Any) -> Any:
        """An attribute value as the library expects it."""
        return value

    def compile(self, mode: str, f: Callable[..., Any]) -> Any:
        """The compiled scenario `mode` (e.g. "jit-rev") of `f`, as the modes module's `compiled` runs it."""
        raise NotImplementedError

    # -- shared -------------------------------------------------------------------------------------
    def array(self, t: Tensor, dtype: str, values: np.ndarray | None = None) -> Any:
        """The library's tensor for a case tensor (its own values, or `values`)."""
        return self.to_library(t.array() if values is None else np.asarray(values).reshape(t.shape), dtype)

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
        fn = self.resolve(self.case.api)
        diff_ids = {id(t): i for i, t in enumerate(self.diff)}
        constants = {id(t): self.array(t, self.dtype_of(t)) for t in self.case.tensors() if not t.differentiable}
        args, kwargs = self.case.args, self.case.kwargs

        def materialize(arg: Any, xs: Sequence[Any]) -> Any:
            if isinstance(arg, Tensor):
                return xs[diff_ids[id(arg)]] if id(arg) in diff_ids else constants[id(arg)]
            if isinstance(arg, TensorList):
                return [materialize(t, xs) for t in arg.items]
            assert isinstance(arg, Attr)
            return self.attribute(arg.value)

        def f(*xs: Any) -> Any:
            return fn(*[materialize(a, xs) for a in args], **{k: materialize(a, xs) for k, a in kwargs})

        f.compiled = {}  # type: ignore[attr-defined]
        return f

    def _xs(self, xs: Sequence[np.ndarray] | None) -> list[Any]:
        arrays = self.inputs if xs is None else xs
        return [self.array(t, self.dtype_of(t), a) for t, a in zip(self.diff, arrays)]

    def direct(self, xs: Sequence[np.ndarray] | None = None) -> Arrays:
        outs = self.modes.flatten(self.f(*self._xs(xs)))
        self.output_dtypes = [o.dtype.name for o in outs]
        return [self.modes.to_numpy(o) for o in outs]

    def vjp(self, cotangents: Arrays, xs: Sequence[np.ndarray] | None = None) -> tuple[Arrays, Arrays]:
        return self.modes.vjp(self.f, self._xs(xs), cotangents)

    def jvp(self, tangents: Arrays, xs: Sequence[np.ndarray] | None = None) -> tuple[Arrays, Arrays]:
        return self.modes.jvp(self.f, self._xs(xs), tangents)

    def second_order(self, mode: str, u: Arrays, v: Arrays, v2: Arrays) -> float:
        return self.modes.second_order(self.f, self._xs(None), u, v, v2, mode)

    def compiled(self, mode: str, vectors: Arrays) -> tuple[Arrays, Arrays]:
        """A compiled scenario such as "jit-rev" or "xla-fwd", compiled once per structure."""
        cache = self.f.compiled  # type: ignore[attr-defined]
        if mode not in cache:
            cache[mode] = self.compile(mode, self.f)
        return self.modes.compiled(cache[mode], mode.split("-", 1)[1], self._xs(None), vectors)


class StructuredBackend:
    """The shared part of a backend whose calls are `StructuredCall`s; subclasses set `name`,
    `call_type`, `compiled_modes` and implement `version` and `classify`."""

    call_type: type[StructuredCall]
    first_order_modes = ("rev", "fwd")
    second_order_modes = SECOND_ORDER_MODES

    def bind(self, case: Case, widen: bool = False) -> StructuredCall:
        return self.call_type(case, widen)

    def clear_cache(self) -> None:
        """Drop the per-structure functions and their compiled code (benchmarks, memory)."""
        self.call_type.functions.clear()

    def render_reproducer(self, case: Case, finding: Finding) -> str:
        from nabla_atheris.reproducer import render_reproducer

        return render_reproducer(case, finding)
