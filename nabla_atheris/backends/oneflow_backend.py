"""OneFlow backend: binds a `Case` to oneflow tensors (one function per call structure, see `binding`)
and runs the scenarios of `oneflow_modes`: reverse mode only (OneFlow 0.9 has no forward mode),
rev-over-rev second order, and `oneflow.nn.Graph` of the direct call and of a training step as
compiled scenarios. The direct call runs under `oneflow.no_grad()` and reverse mode with gradients on,
so comparing their outputs is ∇Fuzz's OneFlow oracle (the value with and without `requires_grad`).

OneFlow's wheel is a CUDA build: its CUDA libraries must be on LD_LIBRARY_PATH before `import oneflow`
(`scripts/oneflow-env`, or `nabla_atheris.environments`).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from nabla_atheris.backends import ErrorClass, classify_message, dtype_tables, glue_of, lookup
from nabla_atheris.backends import oneflow_modes as modes
from nabla_atheris.backends.binding import FunctionCache, StructuredBackend, StructuredCall
from nabla_atheris.case import DTYPES, storage_dtype
from nabla_atheris.libraries import RECORDS

flow = modes.flow

COMPILED_MODES = ("graph-direct", "graph-rev")
ONEFLOW_DTYPES, DTYPE_NAMES = dtype_tables(flow, [d for d in DTYPES if d not in ("complex64", "complex128", "int16")])

MESSAGES = RECORDS["oneflow"].messages


def resolve(name: str) -> Callable[..., Any]:
    """The callable for a dotted API name such as `oneflow.sin`, `oneflow.Tensor.mm` or `oneflow.nn.Conv2d`
    (a module class: keyword arguments construct it, positional arguments are its inputs)."""
    obj: Any = lookup(flow, name)
    if isinstance(obj, type) and issubclass(obj, flow.nn.Module):
        return modes.module_call(obj)
    if not callable(obj) or isinstance(obj, type):
        raise KeyError(f"not callable: {name}")
    return obj


is_module = RECORDS["oneflow"].is_module  # an `oneflow.nn` module class (by naming: `oneflow.nn.Conv2d`)?


class OneflowCall(StructuredCall):
    """A case bound to OneFlow: `f(*differentiable inputs)` and the scenarios run on it."""

    modes = modes
    functions = FunctionCache()

    def to_library(self, data: np.ndarray, dtype: str) -> Any:
        array = np.array(np.asarray(data, dtype=storage_dtype(dtype)), copy=True, order="C")
        return flow.tensor(array, dtype=ONEFLOW_DTYPES[dtype])

    def resolve(self, name: str) -> Callable[..., Any]:
        return resolve(name)

    def compile(self, mode: str, f: Callable[..., Any]) -> Any:
        return modes.compiled_function(mode.split("-", 1)[1], f)

    def gradients_off(self) -> contextlib.AbstractContextManager[Any]:
        return flow.no_grad()

    def dtype_name(self, dtype: Any) -> str:
        return DTYPE_NAMES.get(dtype, str(dtype).rsplit(".", 1)[-1])


class OneflowBackend(StructuredBackend):
    """The OneFlow backend."""

    name = "oneflow"
    call_type = OneflowCall
    first_order_modes = ("rev",)  # no forward mode in OneFlow 0.9: the verdict says so
    second_order_modes = ("rev-over-rev",)
    compiled_modes = COMPILED_MODES
    primary_mode = "rev"  # gradient functions are the library's rules
    glue = glue_of(modes)

    def version(self) -> str:
        return flow.__version__

    def classify(self, exc: BaseException) -> ErrorClass:
        if isinstance(exc, modes.GraphRefused):
            return ErrorClass.NOT_COMPILABLE
        return classify_message(exc, MESSAGES)


def make_backend() -> OneflowBackend:
    """Entry point for `nabla_atheris.backends.get_backend`."""
    # The harness calls its nn modules inside nn.Graph without registering them (on purpose: the
    # graph runs the eager module's weights); OneFlow warns about it on every compilation.
    warnings.filterwarnings("ignore", message=".*is called in a nn.Graph, but not registered into a nn.Graph")
    flow.set_num_threads(1) if hasattr(flow, "set_num_threads") else None
    return OneflowBackend()
