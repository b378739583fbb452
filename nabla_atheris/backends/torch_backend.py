"""PyTorch backend: binds a `Case` to torch tensors and runs the scenarios of `torch_modes`."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from nabla_atheris.backends import SECOND_ORDER_MODES, Arrays, ErrorClass, classify_message, glue_of, widen_dtype
from nabla_atheris.backends import torch_modes as modes
from nabla_atheris.case import Attr, Case, Tensor, TensorList
from nabla_atheris.verdict import Finding

TORCH_DTYPES = {
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
    "complex64": torch.complex64,
    "complex128": torch.complex128,
    "int8": torch.int8,
    "int16": torch.int16,
    "int32": torch.int32,
    "int64": torch.int64,
    "uint8": torch.uint8,
    "bool": torch.bool,
}
DTYPE_NAMES = {v: k for k, v in TORCH_DTYPES.items()}

_UNSUPPORTED = re.compile(
    r"derivative for .* is not implemented|not implemented for (forward|backward)|"
    r"Trying to use forward AD with .* that does not support it|does not support (automatic differentiation|forward)|"
    r"forward AD is not implemented|not differentiable twice|double backward.* not (implemented|supported)|"
    r"is not implemented for (double|second)|Batching rule not implemented|"
    r"derivative (is )?not implemented|NotImplementedError|is not currently supported|"
    r"not supported for complex|does not support complex|must override the setup_context staticmethod|"
    r"is not differentiable with respect to argument|is not differentiable twice|batch_norm is not differentiable",
    re.IGNORECASE,
)
# Documented limitations: an argument the function documents as a parameter, not an input; a loss
# that depends on the arbitrary phase or sign of eigenvectors or singular vectors (linalg.eig, svd
# docs); data-dependent operations under torch.func transforms (fwd-over-fwd), which its docs exclude;
# an in-place API on an input that requires a gradient (autograd's documented refusal).
_DOCUMENTED = re.compile(
    r"is not differentiable with respect to argument|cannot have forward grad defined|"
    r"depends on this phase term|specified up to multiplication by|"
    r"Cannot access data pointer of Tensor that doesn't have storage|"
    r"a leaf Variable that requires grad is being used in an in-place operation",
    re.IGNORECASE,
)
_INTERNAL = re.compile(r"INTERNAL ASSERT FAILED|Internal error|CHECK failed|Please report a bug to PyTorch", re.IGNORECASE)


def resolve(name: str) -> Callable[..., Any]:
    """The callable for a dotted API name such as `torch.nn.functional.conv2d` or `torch.Tensor.mm`."""
    parts = name.split(".")
    if parts[0] != "torch":
        raise KeyError(f"not a torch API: {name}")
    obj: Any = torch
    for part in parts[1:]:
        obj = getattr(obj, part)
    if not callable(obj):
        raise KeyError(f"not callable: {name}")
    return obj


def _tensor(t: Tensor, dtype: str, values: np.ndarray | None = None) -> torch.Tensor:
    data = t.array() if values is None else values
    array = np.array(np.asarray(data).reshape(t.shape), copy=True, order="C")  # 0-d stays 0-d
    return torch.from_numpy(array).to(TORCH_DTYPES[dtype])


class TorchCall:
    """A case bound to torch: `f(*differentiable inputs)` and the scenarios run on it."""

    def __init__(self, case: Case, widen: bool = False) -> None:
        self.case = case
        self.fn = resolve(case.api)
        self.dtype_of = (lambda t: widen_dtype(t.dtype)) if widen else (lambda t: t.dtype)
        self.diff = case.differentiable()
        self.inputs: Arrays = [modes.to_numpy(_tensor(t, self.dtype_of(t))) for t in self.diff]
        self.output_dtypes: list[str] = []

    def _materialize(self, arg: Any, diff_values: dict[int, torch.Tensor]) -> Any:
        if isinstance(arg, Tensor):
            return diff_values[id(arg)] if id(arg) in diff_values else _tensor(arg, self.dtype_of(arg))
        if isinstance(arg, TensorList):
            return [self._materialize(t, diff_values) for t in arg.items]
        assert isinstance(arg, Attr)
        return list(arg.value) if isinstance(arg.value, tuple) else arg.value

    def f(self, *xs: torch.Tensor) -> Any:
        """The API as a function of the differentiable inputs."""
        values = {id(t): x for t, x in zip(self.diff, xs)}
        args = [self._materialize(a, values) for a in self.case.args]
        kwargs = {k: self._materialize(a, values) for k, a in self.case.kwargs}
        return self.fn(*args, **kwargs)

    def _xs(self, xs: Sequence[np.ndarray] | None) -> list[torch.Tensor]:
        arrays = self.inputs if xs is None else xs
        return [_tensor(t, self.dtype_of(t), a) for t, a in zip(self.diff, arrays)]

    def direct(self, xs: Sequence[np.ndarray] | None = None) -> Arrays:
        with torch.no_grad():
            outs = modes.flatten(self.f(*self._xs(xs)))
        self.output_dtypes = [DTYPE_NAMES.get(o.dtype, str(o.dtype)) for o in outs]
        return [modes.to_numpy(o) for o in outs]

    def vjp(self, cotangents: Arrays, xs: Sequence[np.ndarray] | None = None) -> tuple[Arrays, Arrays]:
        return modes.vjp(self.f, self._xs(xs), cotangents)

    def jvp(self, tangents: Arrays, xs: Sequence[np.ndarray] | None = None) -> tuple[Arrays, Arrays]:
        return modes.jvp(self.f, self._xs(xs), tangents)

    def second_order(self, mode: str, u: Arrays, v: Arrays, v2: Arrays) -> float:
        return modes.second_order(self.f, self._xs(None), u, v, v2, mode)


class TorchBackend:
    """The PyTorch backend."""

    name = "torch"
    first_order_modes = ("rev", "fwd")
    second_order_modes = SECOND_ORDER_MODES
    compiled_modes: tuple[str, ...] = ()  # torch.compile is not a scenario yet
    primary_mode = "rev"  # derivatives.yaml's backward formulas (forward formulas are often derived from them)
    glue = glue_of(modes)

    def version(self) -> str:
        return torch.__version__

    def bind(self, case: Case, widen: bool = False) -> TorchCall:
        return TorchCall(case, widen)

    def contract_violation(self, call: TorchCall) -> str | None:
        """PyTorch checks inputs in its kernels only: nothing more to ask."""
        return None

    def classify(self, exc: BaseException) -> ErrorClass:
        return classify_message(exc, _INTERNAL, _UNSUPPORTED, documented=_DOCUMENTED)

    def render_reproducer(self, case: Case, finding: Finding) -> str:
        from nabla_atheris.reproducer import render_reproducer

        return render_reproducer(case, finding)


def make_backend() -> TorchBackend:
    """Entry point for `nabla_atheris.backends.get_backend`."""
    torch.set_num_threads(1)
    return TorchBackend()
