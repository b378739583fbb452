"""JAX backend: binds a `Case` to jax arrays (one function per call structure, see `binding`) and
runs the scenarios of `jax_modes`, with `jax.jit` of direct, reverse and forward mode as compiled
scenarios, `jax.vmap` of them as batched scenarios, and the API wrapped in `jax.custom_vjp` and
`jax.custom_jvp` as user-defined rules."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from nabla_atheris.backends import SECOND_ORDER_MODES, Arrays, ErrorClass, classify_message, glue_of, resolve_api
from nabla_atheris.backends import jax_modes as modes
from nabla_atheris.backends.binding import FunctionCache, StructuredBackend, StructuredCall, _directions, _same
from nabla_atheris.libraries import record
from nabla_atheris.vocabulary import NESTED_TRANSFORMS, batched_parts

jax = modes.jax
jnp = modes.jnp

COMPILED_MODES = ("jit-direct", "jit-rev", "jit-fwd")
BATCHED_MODES = ("vmap-direct", "vmap-rev", "vmap-fwd")
# The scenarios of each user-defined rule: a custom_vjp function has no forward mode (documented), so
# only reverse mode and the compositions that differentiate its backward pass.
CUSTOM_RULES = {
    "custom_vjp": ("direct", "rev", "rev-over-rev", "fwd-over-rev"),
    "custom_jvp": ("direct", "rev", "fwd", *SECOND_ORDER_MODES, *NESTED_TRANSFORMS),
}
CUSTOM_SCENARIOS = tuple((rule, mode) for rule, scenarios in CUSTOM_RULES.items() for mode in scenarios)  # one jit
# Errors of tracing with abstract values: the call cannot be jitted as written (not a bug of jit).
_NOT_COMPILABLE = (
    jax.errors.ConcretizationTypeError,
    jax.errors.NonConcreteBooleanIndexError,
    jax.errors.TracerArrayConversionError,
    jax.errors.TracerIntegerConversionError,
)

MESSAGES = record("jax").messages


def resolve(name: str) -> Callable[..., Any]:
    """The callable for a dotted API name such as `jax.numpy.sin` or `jax.scipy.special.gammaln`."""
    return resolve_api(jax, name, import_missing=True)


def _static(value: Any) -> Any:
    """Attribute values as jax expects them: lists become (hashable) tuples."""
    return tuple(_static(v) for v in value) if isinstance(value, (list, tuple)) else value


class JaxCall(StructuredCall):
    """A case bound to jax: `f(*differentiable inputs)` and the scenarios run on it."""

    modes = modes
    functions = FunctionCache()

    def to_library(self, data: np.ndarray, dtype: str) -> Any:
        return jnp.asarray(data, dtype=jnp.dtype(dtype))

    def resolve(self, name: str) -> Callable[..., Any]:
        return resolve(name)

    def attribute(self, value: Any) -> Any:
        return _static(value)

    def compile(self, mode: str, f: Callable[..., Any]) -> Any:
        return modes.jitted(mode.removeprefix("jit-"), f)

    def compile_together(self, compiler: str, f: Callable[..., Any]) -> Any:
        return modes.jitted_together(f)

    def compile_at_points(self, mode: str, f: Callable[..., Any]) -> Any:
        return modes.at_points(mode, f)

    def compile_second_orders(self, f: Callable[..., Any], compositions: Sequence[str]) -> Any:
        return modes.second_orders(f, compositions)

    def batched(self, mode: str, xs: Arrays, vectors: Arrays) -> tuple[Arrays, Arrays]:
        """jax.vmap of a scenario over stacked inputs and directions, jitted once per structure."""
        key = f"batched {mode}"
        cache = self.f.compiled  # type: ignore[attr-defined]
        if key not in cache:
            cache[key] = modes.batched(batched_parts(mode)[1], self.f)
        return cache[key]([self.to_library(a, self.dtype_of(t)) for t, a in zip(self.diff, xs)], _directions(vectors))

    def custom(self, rule: str, mode: str, u: Arrays, v: Arrays, v2: Arrays) -> Any:
        """A scenario of the API wrapped in a user-defined rule: from the structure's jitted function of
        them all (run once per set of directions), else alone, eagerly."""
        values = self._custom_values(u, v, v2)
        if (rule, mode) in values:
            return values[(rule, mode)]
        return modes.custom(rule, mode, self.f, self._xs(None), u, v, v2)

    def _custom_values(self, u: Arrays, v: Arrays, v2: Arrays) -> dict[tuple[str, str], Any]:
        directions = (u, v, v2)
        kept = getattr(self, "custom_kept", None)
        if kept is not None and all(_same(a, b) for a, b in zip(kept[0], directions)):
            return kept[1]
        together = self._combined("custom", lambda: modes.custom_scenarios(self.f, CUSTOM_SCENARIOS))
        values: dict[tuple[str, str], Any] = {}
        if together is not None:
            try:
                values = together(self._xs(None), *(_directions(d) for d in directions))
            except Exception:  # the scenarios run one by one, eagerly: each error is its own scenario's
                self.f.refused.add("custom")  # type: ignore[attr-defined]
        self.custom_kept = (directions, values)
        return values


class JaxBackend(StructuredBackend):
    """The JAX backend."""

    name = "jax"
    call_type = JaxCall
    compiled_modes = COMPILED_MODES
    batched_modes = BATCHED_MODES
    custom_rules = CUSTOM_RULES
    primary_mode = "fwd"  # JAX's rules are JVPs; reverse mode transposes them
    glue = glue_of(modes)

    def version(self) -> str:
        return jax.__version__

    def clear_library_caches(self) -> None:
        jax.clear_caches()  # op-by-op executables of the eager calls, traces of jitted functions

    def classify(self, exc: BaseException) -> ErrorClass:
        if isinstance(exc, _NOT_COMPILABLE):
            return ErrorClass.NOT_COMPILABLE
        return classify_message(exc, MESSAGES)


def make_backend() -> JaxBackend:
    """Entry point for `nabla_atheris.backends.get_backend`."""
    return JaxBackend()
