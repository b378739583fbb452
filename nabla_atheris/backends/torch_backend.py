"""PyTorch backend: binds a `Case` to torch tensors and runs the scenarios of `torch_modes`:
torch.compile (aot_eager and Inductor) of the direct call, reverse and forward mode as compiled
scenarios, torch.func.vmap of them as batched scenarios, and the API wrapped in a
torch.autograd.Function as a user-defined rule."""

from __future__ import annotations

import contextlib
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from nabla_atheris.backends import Arrays, ErrorClass, classify_message, dtype_tables, glue_of, resolve_api, widen_dtype
from nabla_atheris.backends import torch_modes as modes
from nabla_atheris.backends.binding import FunctionCache, structure_key
from nabla_atheris.call_source import call_source
from nabla_atheris.case import Attr, Case, Ref, Tensor, TensorList, referenced
from nabla_atheris.libraries import record
from nabla_atheris.vocabulary import NESTED_TRANSFORMS, compiled_parts
from nabla_atheris.vocabulary import SECOND_ORDER as SECOND_ORDER_MODES

TORCH_DTYPES, DTYPE_NAMES = dtype_tables(torch)

MESSAGES = record("torch").messages
_DYNAMO_REFUSALS = ("Unsupported", "UserError", "ObservedException", "UncapturedHigherOrderOpError")
# The modules torch.compile runs rather than traces (AOTAutograd, its partitioner, decompositions run
# on fake tensors): they stay instrumented while a compiled scenario runs, their coverage guides.
COMPILE_MACHINERY = (
    "torch._functorch._aot_autograd",
    "torch._functorch.aot_autograd",
    "torch._functorch.partitioners",
    "torch._decomp",
)
# TorchDynamo refuses atheris' hooks in code it traces (a module as a constant): a refusal of the
# harness' making, should it still meet instrumented code.
_INSTRUMENTED = "Cannot construct `ConstantVariable` for value of type <class 'module'>"


def resolve(name: str) -> Callable[..., Any]:
    """The callable for a dotted API name such as `torch.nn.functional.conv2d` or `torch.Tensor.mm`."""
    return resolve_api(torch, name)


def _tensor(t: Tensor, dtype: str, values: np.ndarray | None = None) -> torch.Tensor:
    data = t.array() if values is None else values
    array = np.array(np.asarray(data).reshape(t.shape), copy=True, order="C")  # 0-d stays 0-d
    return torch.from_numpy(array).to(TORCH_DTYPES[dtype])


def structure_function(case: Case, dtype_of: Callable[[Tensor], str]) -> Callable[..., Any]:
    """The call as the source a user writes, `def f(x0, ...): return torch.api(x0, cs[0], attr=...)`
    (a program: one line per call),
        a function of its own (torch.compile caches compiled code per function: one per structure), the
        same source a reproducer runs."""
    names, lines = call_source(case)
    namespace = {"torch": torch, "flatten": modes.flatten}
    namespace["cs"] = [_tensor(t, dtype_of(t)) for t in case.tensors() if not t.differentiable]
    body = "".join(f"    {line}\n" for line in lines)
    exec(compile(f"def f({', '.join(names)}):\n{body}", f"<{case.api}>", "exec"), namespace)
    return namespace["f"]


class TorchCall:
    """A case bound to torch: `f(*differentiable inputs)` and the scenarios run on it."""

    compiled_functions = FunctionCache()  # (structure, compiler, forward mode) -> the compiled function

    def __init__(self, case: Case, widen: bool = False) -> None:
        self.case = case
        self.calls = [(resolve(c.api), c.args, c.kwargs) for c in case.calls()]
        self.dtype_of = (lambda t: widen_dtype(t.dtype)) if widen else (lambda t: t.dtype)
        self.diff = case.differentiable()
        self.inputs: Arrays = [modes.to_numpy(_tensor(t, self.dtype_of(t))) for t in self.diff]
        self.output_dtypes: list[str] = []
        self.second: dict[tuple[str, int, int, int], float] = {}  # compositions computed, by their directions

    def _materialize(self, arg: Any, diff_values: dict[int, torch.Tensor], results: list[Any]) -> Any:
        if isinstance(arg, Tensor):
            return diff_values[id(arg)] if id(arg) in diff_values else _tensor(arg, self.dtype_of(arg))
        if isinstance(arg, TensorList):
            return [self._materialize(t, diff_values, results) for t in arg.items]
        if isinstance(arg, Ref):
            return referenced(results, arg, modes.flatten)
        assert isinstance(arg, Attr)
        return list(arg.value) if isinstance(arg.value, tuple) else arg.value

    def f(self, *xs: torch.Tensor) -> Any:
        """The API (a program: its calls in order) as a function of the differentiable inputs."""
        values = {id(t): x for t, x in zip(self.diff, xs)}
        results: list[Any] = []
        for fn, args, kwargs in self.calls:
            positional = [self._materialize(a, values, results) for a in args]
            results.append(fn(*positional, **{k: self._materialize(a, values, results) for k, a in kwargs}))
        return results[-1]

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
        """A composition, computed once per set of directions (the custom-rule stage asks again)."""
        key = (mode, id(u), id(v), id(v2))
        if key not in self.second:
            self.second[key] = modes.second_order(self.f, self._xs(None), u, v, v2, mode)
        return self.second[key]

    def compiled(self, mode: str, vectors: Arrays) -> tuple[Arrays, Arrays]:
        """A torch.compile scenario ("aot-rev", "inductor-direct" ...), compiled once per structure."""
        compiler, eager = compiled_parts(mode)
        key = (structure_key(self.case, self.dtype_of), compiler, eager == "fwd")
        g = self.compiled_functions.get_or_make(
            key, lambda: modes.compiled_function(structure_function(self.case, self.dtype_of), compiler, eager)
        )
        harness = sys.modules.get("nabla_atheris.harness")  # fuzzing: TorchDynamo traces the library's own code
        with harness.uninstrumented(keep=COMPILE_MACHINERY) if harness else contextlib.nullcontext():
            return modes.compiled(g, eager, self._xs(None), vectors)

    def batched(self, mode: str, xs: Arrays, vectors: Arrays) -> tuple[Arrays, Arrays]:
        """torch.func.vmap of a scenario over stacked inputs and directions (see `torch_modes.batched`)."""
        stacked = [torch.from_numpy(np.array(a, copy=True)).to(TORCH_DTYPES[self.dtype_of(t)]) for t, a in zip(self.diff, xs)]
        directions = [torch.from_numpy(np.array(a, copy=True)) for a in vectors]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "performance drop": an operator without a batching rule runs in a loop
            return modes.batched(mode.split("-", 1)[1], self.f, stacked, directions)

    def custom(self, rule: str, mode: str, u: Arrays, v: Arrays, v2: Arrays) -> Any:
        """A scenario of the API wrapped in a user-defined rule."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return modes.custom(rule, mode, self.f, self._xs(None), u, v, v2)


class TorchBackend:
    """The PyTorch backend."""

    name = "torch"
    first_order_modes = ("rev", "fwd")
    second_order_modes = SECOND_ORDER_MODES
    compiled_modes = ("aot-direct", "aot-rev", "aot-fwd", "inductor-direct", "inductor-rev", "inductor-fwd")
    batched_modes = ("vmap-direct", "vmap-rev", "vmap-fwd")
    custom_rules = {"function": ("direct", "rev", "fwd", *SECOND_ORDER_MODES, *NESTED_TRANSFORMS)}
    primary_mode = "rev"  # derivatives.yaml's backward formulas (forward formulas are often derived from them)
    glue = glue_of(modes)

    def version(self) -> str:
        return torch.__version__

    def bind(self, case: Case, widen: bool = False) -> TorchCall:
        check_autograd_state()
        return TorchCall(case, widen)

    def contract_violation(self, call: TorchCall) -> str | None:
        """PyTorch checks inputs in its kernels only: nothing more to ask."""
        return None

    def classify(self, exc: BaseException) -> ErrorClass:
        if refused_by_transform(exc):
            return ErrorClass.NOT_COMPILABLE
        return classify_message(exc, MESSAGES)

    def clear_cache(self) -> None:
        """Drop the compiled functions and torch.compile's caches (a worker whose memory grew)."""
        TorchCall.compiled_functions.clear()
        if "torch._dynamo" in sys.modules:
            torch._dynamo.reset()


def check_autograd_state() -> None:
    """Refuse to check a case while an earlier scenario left autograd's global state changed (grad mode
    off, inference mode on, a torch.func transform still active): every derivative would be wrong, a
    finding of our own making. A HarnessError: counted, and the case is not judged."""
    from nabla_atheris.oracle.running import HarnessError

    if not torch.is_grad_enabled() or torch.is_inference_mode_enabled() or torch._C._functorch.peek_interpreter_stack():
        raise HarnessError("autograd's global state was left changed by an earlier scenario (grad, inference mode, transform)")


def refused_by_transform(exc: BaseException) -> bool:
    """Whether torch.compile or torch.func refused the call as written (not a bug of theirs): a graph
    break or another refusal of TorchDynamo, a data-dependent shape, an operator without a meta
    kernel or lowering; vmap of data-dependent code or of an operator it cannot batch."""
    text = f"{type(exc).__name__}: {exc}"
    if _INSTRUMENTED in text and "atheris" in sys.modules:
        return True
    if MESSAGES.internal.search(text):
        return False
    if type(exc).__module__ == "torch._dynamo.exc":
        return type(exc).__name__ in _DYNAMO_REFUSALS or bool(MESSAGES.not_compilable.search(text))
    return bool(MESSAGES.not_batchable.search(str(exc)))


def make_backend() -> TorchBackend:
    """Entry point for `nabla_atheris.backends.get_backend`."""
    torch.set_num_threads(1)
    return TorchBackend()
