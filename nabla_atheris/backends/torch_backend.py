"""PyTorch backend: binds a `Case` to torch tensors (one function per call structure, see `binding`,
with new constant tensors at every call) and runs the scenarios of `torch_modes`: torch.compile
(aot_eager and Inductor) of the direct call, reverse and forward mode as compiled scenarios,
torch.func.vmap of them as batched scenarios, and the API wrapped in a torch.autograd.Function as a
user-defined rule."""

from __future__ import annotations

import contextlib
import sys
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from nabla_atheris.backends import Arrays, ErrorClass, classify_message, dtype_tables, glue_of, resolve_api
from nabla_atheris.backends import torch_modes as modes
from nabla_atheris.backends.binding import FunctionCache, StructuredBackend, StructuredCall
from nabla_atheris.call_source import call_source
from nabla_atheris.case import Case, Tensor
from nabla_atheris.libraries import record
from nabla_atheris.vocabulary import NESTED_TRANSFORMS, SECOND_ORDER, compiled_parts

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
    """The callable for a dotted API name such as `torch.nn.functional.conv2d`, `torch.Tensor.mm` or
    `torch.nn.Conv2d` (a module class: keyword arguments construct it, positional arguments are its
    inputs, see `torch_modes.module_call`)."""
    obj = resolve_api(torch, name)
    return modes.module_call(obj) if is_module(name) else obj


is_module = record("torch").is_module  # a `torch.nn` module class (by naming: `torch.nn.Conv2d`)?


def structure_function(case: Case, dtype_of: Callable[[Tensor], str]) -> Callable[..., Any]:
    """The call as the source a user writes, `def f(x0, ...): return torch.api(x0, cs[0], attr=...)`
    (a program: one line per call),
        a function of its own (torch.compile caches compiled code per function: one per structure), the
        same source a reproducer runs."""
    names, lines = call_source(case, callee=record("torch").callee)
    namespace = {"torch": torch, "flatten": modes.flatten, "module_call": modes.module_call}
    namespace["cs"] = [TorchCall.to_library(t.array(), dtype_of(t)) for t in case.tensors() if not t.differentiable]
    body = "".join(f"    {line}\n" for line in lines)
    exec(compile(f"def f({', '.join(names)}):\n{body}", f"<{case.api}>", "exec"), namespace)
    return namespace["f"]


class TorchCall(StructuredCall):
    """A case bound to torch: `f(*differentiable inputs)` and the scenarios run on it."""

    modes = modes
    functions = FunctionCache()
    fresh_constants = True  # an API may write into a constant in place, or leave autograd state on it
    compiled_functions = FunctionCache()  # (structure, compiler, forward mode) -> the compiled function

    @staticmethod
    def to_library(data: np.ndarray, dtype: str) -> torch.Tensor:
        return torch.from_numpy(np.array(data, copy=True, order="C")).to(TORCH_DTYPES[dtype])

    def resolve(self, name: str) -> Callable[..., Any]:
        return resolve(name)

    def gradients_off(self) -> contextlib.AbstractContextManager[Any]:
        return torch.no_grad()

    def dtype_name(self, dtype: torch.dtype) -> str:
        return DTYPE_NAMES.get(dtype, str(dtype))

    def compiled(self, mode: str, vectors: Arrays) -> tuple[Arrays, Arrays]:
        """A torch.compile scenario ("aot-rev", "inductor-direct" ...), compiled once per structure from
        the call's source (the direct call and reverse mode share one compiled function)."""
        compiler, eager = compiled_parts(mode)
        g = self.compiled_functions.get_or_make(
            (self.key, compiler, eager == "fwd"),
            lambda: modes.compiled_function(structure_function(self.case, self.dtype_of), compiler, eager),
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
        """A scenario of the API wrapped in a user-defined rule, or with non-contiguous inputs."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return modes.custom(rule, mode, self.f, self._xs(None), u, v, v2)


class TorchBackend(StructuredBackend):
    """The PyTorch backend."""

    name = "torch"
    call_type = TorchCall
    compiled_modes = ("aot-direct", "aot-rev", "aot-fwd", "inductor-direct", "inductor-rev", "inductor-fwd")
    batched_modes = ("vmap-direct", "vmap-rev", "vmap-fwd")
    custom_rules = {"function": ("direct", "rev", "fwd", *SECOND_ORDER, *NESTED_TRANSFORMS)}
    input_kinds = {"strided": ("direct", "rev", "fwd", *SECOND_ORDER)}
    primary_mode = "rev"  # derivatives.yaml's backward formulas (forward formulas are often derived from them)
    glue = glue_of(modes)

    def version(self) -> str:
        return torch.__version__

    def bind(self, case: Case, widen: bool = False) -> StructuredCall:
        check_autograd_state()
        return super().bind(case, widen)

    def classify(self, exc: BaseException) -> ErrorClass:
        if refused_by_transform(exc):
            return ErrorClass.NOT_COMPILABLE
        return classify_message(exc, MESSAGES)

    def clear_library_caches(self) -> None:
        """Drop the compiled functions and torch.compile's caches."""
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
    # A sparse tensor whose indices break its invariants (out of its size) is undefined behaviour, not a
    # result to compare: checked, the constructor refuses it as an invalid input.
    torch.sparse.check_sparse_tensor_invariants.enable()
    return TorchBackend()
