"""TensorFlow backend: binds a `Case` to tf tensors (one function per call structure, see `binding`)
and runs the scenarios of `tf_modes`, with `tf.function` and `tf.function(jit_compile=True)` of
direct, reverse and forward mode as compiled scenarios, `tf.vectorized_map` of the direct call and
the rows of `GradientTape.jacobian` (with and without pfor) as batched scenarios, and the API
wrapped in `tf.custom_gradient` as a user-defined rule."""

from __future__ import annotations

import contextlib
import importlib
import os
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from nabla_atheris.backends import SECOND_ORDER_MODES, Arrays, ErrorClass, classify_message, glue_of, resolve_api
from nabla_atheris.backends.binding import FunctionCache, StructuredBackend, StructuredCall, _directions
from nabla_atheris.case import storage_dtype
from nabla_atheris.libraries import record


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """File descriptor 2 to /dev/null: TensorFlow's C++ start-up lines ignore TF_CPP_MIN_LOG_LEVEL."""
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


with _native_stderr_silenced():
    from nabla_atheris.backends import tf_modes as modes

tf = modes.tf

COMPILED_MODES = ("graph-direct", "graph-rev", "graph-fwd", "xla-direct", "xla-rev", "xla-fwd")
BATCHED_MODES = ("pfor-direct", "pfor-rev", "while-rev")
CUSTOM_RULES = {"custom_gradient": ("direct", "rev", "fwd", *SECOND_ORDER_MODES)}
# Not fwd-over-fwd: TensorFlow's nested ForwardAccumulator raises on any tf.Variable (tensorflow/tensorflow#57358,
# "Internal error: Tried to take gradients (or similar) of a variable without handle data"), every case alike.
INPUT_KINDS = {"variable": ("direct", "rev", "fwd", "rev-over-rev", "fwd-over-rev", "rev-over-fwd")}

MESSAGES = record("tf").messages


def resolve(name: str) -> Callable[..., Any]:
    """The callable for a dotted API name such as `tf.math.sin` or `tf.raw_ops.Sin`."""
    return resolve_api(tf, name, prefix="tf", classes=False)


class TfCall(StructuredCall):
    """A case bound to TensorFlow: `f(*differentiable inputs)` and the scenarios run on it."""

    modes = modes
    functions = FunctionCache()

    def to_library(self, data: np.ndarray, dtype: str) -> Any:
        return tf.cast(tf.constant(np.asarray(data, dtype=storage_dtype(dtype))), dtype)

    def resolve(self, name: str) -> Callable[..., Any]:
        return resolve(name)

    def compile(self, mode: str, f: Callable[..., Any]) -> Any:
        kind, eager = mode.split("-", 1)
        return modes.compiled_function(eager, f, xla=kind == "xla")

    def compile_at_points(self, mode: str, f: Callable[..., Any]) -> Any:
        return modes.at_points(mode, f)

    def batched(self, mode: str, xs: Arrays, vectors: Arrays) -> tuple[Arrays, Arrays]:
        """A batched scenario over stacked inputs and directions, one tf.function per structure."""
        key = f"batched {mode}"
        cache = self.f.compiled  # type: ignore[attr-defined]
        if key not in cache:
            cache[key] = modes.batched(mode, self.f)
        return cache[key]([self.to_library(a, self.dtype_of(t)) for t, a in zip(self.diff, xs)], _directions(vectors))

    def custom(self, rule: str, mode: str, u: Arrays, v: Arrays, v2: Arrays) -> Any:
        """A scenario of the API wrapped in tf.custom_gradient, or with tf.Variable inputs, eagerly."""
        return modes.custom(rule, mode, self.f, self._xs(None), u, v, v2)


class TfBackend(StructuredBackend):
    """The TensorFlow backend."""

    name = "tf"
    call_type = TfCall
    compiled_modes = COMPILED_MODES
    batched_modes = BATCHED_MODES
    custom_rules = CUSTOM_RULES
    input_kinds = INPUT_KINDS
    primary_mode = "rev"  # gradient functions are the library's rules (ForwardAccumulator derives JVPs from them)
    glue = glue_of(modes)

    def version(self) -> str:
        return tf.__version__

    def clear_library_caches(self) -> None:
        from tensorflow.python.eager import context, forwardprop

        jvp_functions = getattr(forwardprop, "_jvp_function_cache", None)  # ForwardAccumulator's traced JVP per op
        if jvp_functions is not None:
            jvp_functions.clear()
        context.context().clear_kernel_cache()

    def contract_violation(self, call: TfCall) -> str | None:
        """Why graph mode's shape inference rejects a call the eager kernel ran (DiagPart of a scalar,
        a scalar axis where the docs ask for a 1-D one): the input is outside the op's contract."""
        try:
            call.compiled("graph-direct", [])
        except ValueError as exc:
            if MESSAGES.shape_contract.search(str(exc)):
                return "graph shape inference: " + str(exc).strip().splitlines()[0][:200]
        except Exception:  # noqa: BLE001 - other refusals are the compiled stage's to judge
            return None
        return None

    def classify(self, exc: BaseException) -> ErrorClass:
        """Python TypeError/ValueError (not an op's runtime error) are tracing refusals: in graph mode a
        tensor cannot stand for a shape, a list or a Python constant whose dtype eager mode infers;
        UnimplementedError is a kernel XLA lacks; but an error TensorFlow calls internal is its own bug
        ("Internal error: Tried to take gradients ... of a variable without handle data")."""
        text = f"{type(exc).__name__}: {exc}"
        if MESSAGES.internal.search(text):
            return ErrorClass.INTERNAL
        tracing = isinstance(exc, (TypeError, ValueError)) and not isinstance(exc, tf.errors.OpError)
        refused = MESSAGES.not_compilable.search(text)
        if tracing or refused or isinstance(exc, tf.errors.UnimplementedError):
            return ErrorClass.NOT_COMPILABLE
        return classify_message(exc, MESSAGES, (NotImplementedError, LookupError))  # InternalError by name


def make_backend() -> TfBackend:
    """Entry point for `nabla_atheris.backends.get_backend`."""
    importlib.import_module("tensorflow.python.ops.parallel_for")  # lazily imported by ForwardAccumulator
    tf.get_logger().setLevel("CRITICAL")
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.threading.set_intra_op_parallelism_threads(1)
    return TfBackend()
