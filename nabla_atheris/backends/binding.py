"""Binding a `Case` to a library: one shared call for every backend.

Every call structure (API, attributes, shapes and dtypes, the values of constant tensors) gets one
function object of the differentiable inputs, kept in a bounded cache, so that a library's compiler
(`jax.jit`, `tf.function`) traces and compiles each structure once per process; values and
directions are arguments of the compiled functions. Where the library offers it, a structure's
compiled scenarios are one compiled function per compiler (the direct call, reverse and forward
mode together) and its second-order compositions are one compiled function: one trace and one
compilation instead of one per scenario. When such a combined function raises, the scenarios run
one by one as before (eagerly for second order), so that an error is still the error of the
scenario that raised it, and that structure is not combined again.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from types import ModuleType
from typing import Any

import numpy as np

from nabla_atheris.backends import SECOND_ORDER_MODES, Arrays, widen_dtype
from nabla_atheris.case import Attr, Case, Ref, Tensor, TensorList, build_tagged, holds_tagged, referenced
from nabla_atheris.vocabulary import DIRECT, FWD, REV, compiled_parts, second_order_parts

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


def structure_key(case: Case, dtype_of: Callable[[Tensor], str]) -> Hashable:
    """What makes two cases one call structure (one function of the differentiable inputs, traced and
    compiled once): the API, the attributes, the differentiable inputs' dtypes and shapes, the
    constant tensors' values; of every call of a program, with its references to earlier outputs."""

    def part(arg: Any) -> Hashable:
        if isinstance(arg, Tensor):
            if arg.differentiable:
                return ("x", dtype_of(arg), arg.shape)
            return ("c", dtype_of(arg), arg.shape, arg.values.tobytes())
        if isinstance(arg, TensorList):
            return ("list", tuple(part(t) for t in arg.items))
        if isinstance(arg, Ref):
            return ("ref", arg.call, arg.output)
        return ("attr", repr(arg.value))

    first = (case.api, tuple(part(a) for a in case.args), tuple((k, part(a)) for k, a in case.kwargs))
    return first + tuple((c.api, tuple(part(a) for a in c.args), tuple((k, part(a)) for k, a in c.kwargs)) for c in case.then)


class StructuredCall:
    """A case bound to a library: `f(*differentiable inputs)`, shared by all cases of one structure.

    Subclasses set `modes` (the library's scenario module: `flatten`, `to_numpy`, `vjp`, `jvp`,
    `second_order`, `compiled`), `functions` (their FunctionCache) and implement `to_library`,
    `resolve` and `compile`; the other hooks have defaults.
    """

    modes: ModuleType
    functions: FunctionCache
    # A new library tensor for every constant at every call, where an API may write into its arguments in
    # place (or keep autograd state on them): no call, and no other case of the structure, sees the change.
    fresh_constants = False

    def __init__(self, case: Case, widen: bool = False) -> None:
        self.case = case
        self.dtype_of = (lambda t: widen_dtype(t.dtype)) if widen else (lambda t: t.dtype)
        self.diff = case.differentiable()
        self.key = structure_key(case, self.dtype_of)
        self.f = self.functions.get_or_make(self.key, self._make_function)
        self.inputs: Arrays = [self.modes.to_numpy(self.array(t, self.dtype_of(t))) for t in self.diff]
        self.output_dtypes: list[str] = []
        self.ran: dict[str, Arrays] = {}  # eager modes that ran on this case (xs None): their directions
        self.compiled_ran: set[str] = set()  # compiled scenarios that ran on their own
        # directions; values of the combined function; values of compositions run alone
        self.second: tuple[tuple[Arrays, ...], dict[str, float], dict[str, float]] | None = None
        self.together_results: dict[str, tuple[dict[str, Arrays], dict[str, tuple[Arrays, Arrays]]]] = {}

    # -- what a library provides -----------------------------------------------------------------
    def to_library(self, data: np.ndarray, dtype: str) -> Any:
        """A numpy array as the library's tensor of `dtype`."""
        raise NotImplementedError

    def resolve(self, name: str) -> Callable[..., Any]:
        raise NotImplementedError

    def attribute(self, value: Any) -> Any:
        """An attribute value as the library expects it (tuples as lists)."""
        return list(value) if isinstance(value, tuple) else value

    def gradients_off(self) -> contextlib.AbstractContextManager[Any]:
        """The context the direct call runs in (the library's no-grad mode, if it records gradients eagerly)."""
        return contextlib.nullcontext()

    def dtype_name(self, dtype: Any) -> str:
        """The name of an output's dtype, as cases name dtypes."""
        return dtype.name

    def compile(self, mode: str, f: Callable[..., Any]) -> Any:
        """The compiled scenario `mode` (e.g. "jit-rev") of `f`, as the modes module's `compiled` runs it."""
        raise NotImplementedError

    # -- shared -------------------------------------------------------------------------------------
    def array(self, t: Tensor, dtype: str, values: np.ndarray | None = None) -> Any:
        """The library's tensor for a case tensor (its own values, or `values`)."""
        return self.to_library(t.array() if values is None else np.asarray(values).reshape(t.shape), dtype)

    def _make_function(self) -> Callable[..., Any]:
        """f(*xs): the calls in order, each on its tensors, attributes and earlier outputs; the last one's result."""
        calls = [(self.resolve(c.api), c.args, c.kwargs) for c in self.case.calls()]
        diff_ids = {id(t): i for i, t in enumerate(self.diff)}
        constants = [t for t in self.case.tensors() if not t.differentiable]
        kept = None if self.fresh_constants else {id(t): self.array(t, self.dtype_of(t)) for t in constants}
        flatten = self.modes.flatten

        def materialize(arg: Any, xs: Sequence[Any], results: list[Any]) -> Any:
            if isinstance(arg, Tensor):
                if id(arg) in diff_ids:
                    return xs[diff_ids[id(arg)]]
                return self.array(arg, self.dtype_of(arg)) if kept is None else kept[id(arg)]
            if isinstance(arg, TensorList):
                return [materialize(t, xs, results) for t in arg.items]
            if isinstance(arg, Ref):
                return referenced(results, arg, flatten)
            assert isinstance(arg, Attr)
            return build_tagged(arg.value, self.resolve) if holds_tagged(arg.value) else self.attribute(arg.value)

        def f(*xs: Any) -> Any:
            results: list[Any] = []
            for fn, args, kwargs in calls:
                values = [materialize(a, xs, results) for a in args]
                results.append(fn(*values, **{k: materialize(a, xs, results) for k, a in kwargs}))
            return results[-1]

        f.compiled = {}  # type: ignore[attr-defined]
        f.refused = set()  # type: ignore[attr-defined]  # combined functions that raised for this structure
        return f

    def _xs(self, xs: Sequence[np.ndarray] | None) -> list[Any]:
        arrays = self.inputs if xs is None else xs
        return [self.array(t, self.dtype_of(t), a) for t, a in zip(self.diff, arrays)]

    def direct(self, xs: Sequence[np.ndarray] | None = None) -> Arrays:
        with self.gradients_off():
            outs = self.modes.flatten(self.f(*self._xs(xs)))
        self.output_dtypes = [self.dtype_name(o.dtype) for o in outs]
        return [self.modes.to_numpy(o) for o in outs]

    def vjp(self, cotangents: Arrays, xs: Sequence[np.ndarray] | None = None) -> tuple[Arrays, Arrays]:
        if xs is not None:
            return self._at_points(REV, cotangents, xs)
        result = self.modes.vjp(self.f, self._xs(None), cotangents)
        self.ran[REV] = cotangents
        return result

    def jvp(self, tangents: Arrays, xs: Sequence[np.ndarray] | None = None) -> tuple[Arrays, Arrays]:
        if xs is not None:
            return self._at_points(FWD, tangents, xs)
        result = self.modes.jvp(self.f, self._xs(None), tangents)
        self.ran[FWD] = tangents
        return result

    def _at_points(self, mode: str, vectors: Arrays, xs: Sequence[np.ndarray]) -> tuple[Arrays, Arrays]:
        """Reverse or forward mode at other values of the inputs (where numerical derivatives of the
        first-order product evaluate it): one compiled function per structure where the library
        offers it, else eagerly (the same scenario that ran on the case itself)."""
        key = f"{mode} at points"
        compiled = self._combined(key, lambda: self.compile_at_points(mode, self.f))
        if compiled is not None:
            try:
                return compiled(self._xs(xs), _directions(vectors))
            except Exception:  # eagerly, as the scenario itself: an error is the library's answer there
                self.f.refused.add(key)  # type: ignore[attr-defined]
        eager = self.modes.vjp if mode == REV else self.modes.jvp
        return eager(self.f, self._xs(xs), vectors)

    def second_order(self, mode: str, u: Arrays, v: Arrays, v2: Arrays) -> float:
        """d/dt <u, J(x + t v2) v> by composition `mode`: from the structure's combined function of the
        compositions whose first-order modes ran on this case (run once per set of directions), else
        by the composition alone, eagerly (once per set of directions: the custom-rule stage asks again)."""
        _, values, alone = self._second_orders(u, v, v2)
        if mode in values:
            return values[mode]
        if mode not in alone:
            alone[mode] = self.modes.second_order(self.f, self._xs(None), u, v, v2, mode)
        return alone[mode]

    def _second_orders(self, u: Arrays, v: Arrays, v2: Arrays) -> tuple[tuple[Arrays, ...], dict[str, float], dict[str, float]]:
        directions = (u, v, v2)
        if self.second is not None and all(_same(a, b) for a, b in zip(self.second[0], directions)):
            return self.second
        compositions = tuple(m for m in SECOND_ORDER_MODES if set(second_order_parts(m)) <= set(self.ran))
        key = f"second-order {','.join(compositions)}"
        together = self._combined(key, lambda: self.compile_second_orders(self.f, compositions)) if compositions else None
        values: dict[str, float] = {}
        if together is not None:
            try:
                values = together(self._xs(None), *(_directions(d) for d in directions))
            except Exception:  # the compositions run one by one, eagerly: each error is its own composition's
                self.f.refused.add(key)  # type: ignore[attr-defined]
        self.second = (directions, values, {})
        return self.second

    def compiled(self, mode: str, vectors: Arrays) -> tuple[Arrays, Arrays]:
        """A compiled scenario such as "jit-rev" or "xla-fwd", compiled once per structure. The direct
        call compiles on its own; once it ran, and both eager modes ran on this case, reverse and
        forward mode come from one combined function of the compiler (run once per case, with the
        directions the eager modes had)."""
        compiler, eager = compiled_parts(mode)
        if eager in (REV, FWD) and f"{compiler}-{DIRECT}" in self.compiled_ran and set(self.ran) >= {REV, FWD}:
            together = self._combined(compiler, lambda: self.compile_together(compiler, self.f))
            if together is not None:
                try:
                    return self._run_together(compiler, together, eager, vectors)
                except Exception:  # the scenarios run one by one: each error is its own scenario's
                    self.f.refused.add(compiler)  # type: ignore[attr-defined]
        cache = self.f.compiled  # type: ignore[attr-defined]
        if mode not in cache:
            cache[mode] = self.compile(mode, self.f)
        result = self.modes.compiled(cache[mode], eager, self._xs(None), vectors)
        self.compiled_ran.add(mode)
        return result

    def _run_together(self, compiler: str, together: Any, eager: str, vectors: Arrays) -> tuple[Arrays, Arrays]:
        """One compiler's reverse and forward mode from its combined function, run with this call's
        directions (`vectors` for the scenario asked); a result is kept for the other scenario."""
        directions = {**self.ran, eager: vectors}
        kept = self.together_results.get(compiler)
        if kept is None or not _same(kept[0][eager], vectors):
            kept = (directions, together(self._xs(None), _directions(directions[REV]), _directions(directions[FWD])))
            self.together_results[compiler] = kept
        return kept[1][eager]

    def _combined(self, key: str, make: Callable[[], Any]) -> Any:
        """The structure's combined function `key` (made on first use), or None when the library has
        none or it raised before for this structure."""
        if key in self.f.refused:  # type: ignore[attr-defined]
            return None
        cache = self.f.compiled  # type: ignore[attr-defined]
        if key not in cache:
            cache[key] = make()
        return cache[key]

    def compile_together(self, compiler: str, f: Callable[..., Any]) -> Any:
        """One compiled function of reverse and forward mode under `compiler`, g(xs, u, v) ->
        {"rev": (outputs, VJP), "fwd": (outputs, JVP)}; None if the library has none."""
        return None

    def compile_at_points(self, mode: str, f: Callable[..., Any]) -> Any:
        """One compiled function of reverse or forward mode, g(xs, vectors) -> (outputs, products),
        for evaluations at other input values; None if the library has none."""
        return None

    def compile_second_orders(self, f: Callable[..., Any], compositions: Sequence[str]) -> Any:
        """One compiled function of the second-order `compositions`, g(xs, u, v, v2) -> {composition:
        value} (a composition that cannot be traced left out); None if the library has none."""
        return None


def _directions(arrays: Arrays) -> Arrays:
    """Directions in the dtypes the oracle draws them (float64, complex128 for complex arrays): a
    combined function is traced for one set of argument types."""
    return [np.asarray(a, dtype=np.complex128 if np.iscomplexobj(a) else np.float64) for a in arrays]


def _same(a: Arrays, b: Arrays) -> bool:
    return a is b or (len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b)))


class StructuredBackend:
    """The shared part of a backend whose calls are `StructuredCall`s; subclasses set `name`,
    `call_type`, `compiled_modes` and implement `version` and `classify`."""

    call_type: type[StructuredCall]
    first_order_modes = ("rev", "fwd")
    second_order_modes = SECOND_ORDER_MODES

    def bind(self, case: Case, widen: bool = False) -> StructuredCall:
        return self.call_type(case, widen)

    def contract_violation(self, call: StructuredCall) -> str | None:
        """Why the library's static checks reject the call (none by default)."""
        return None

    def clear_cache(self) -> None:
        """Drop the per-structure functions and their compiled code, and the library's own caches of
        compiled code (a worker whose memory grew; benchmarks)."""
        self.call_type.functions.clear()
        self.clear_library_caches()

    def clear_library_caches(self) -> None:
        """The library's own caches of traced and compiled code (none by default)."""
