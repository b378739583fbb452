"""What nabla-atheris knows of each library, one record per library, read by every tool: its backend
and modes modules, its environment, the modules whose coverage guides the search, a campaign's
limits, how a reproducer imports it and makes its tensors, how its exception messages classify and
where it keeps compiled code. A fifth library is its backend, its modes module and one record here.
Nothing here imports a library."""

from __future__ import annotations

import os
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Limits:
    """A campaign's defaults: libFuzzer's -timeout and -rss_limit_mb, and the worker's own memory budget
    (NABLA_MAX_RSS_MB: below libFuzzer's limit, so that a worker that grew ends cleanly instead of an OOM)."""

    timeout_s: int
    rss_limit_mb: int
    worker_budget_mb: int

    def flags(self) -> list[str]:
        return [f"-timeout={self.timeout_s}", f"-rss_limit_mb={self.rss_limit_mb}"]


@dataclass(frozen=True)
class ReproducerSource:
    """What a reproducer writes for one library: its imports, how numpy values become its tensors
    (`tensor(values, dtype, wide)` and `lift(arrays)`), and the source of its other scenarios."""

    imports: str
    tensor_body: str
    lift_body: str
    compilers: tuple[str, ...] = ()  # prefixes of compiled scenarios ("jit" for "jit-rev")
    compile_expr: str = ""  # the compiled function of scenario `mode` under compiler `kind`
    batched_expr: str = ""  # a batched scenario `name` ("vmap-rev") of eager scenario `eager` on xs and vectors
    custom_expr: str = ""  # scenario `mode` of the API wrapped in the user-defined rule `rule`
    note: str = ""  # how to run it (set-up the library needs), in the docstring


def _pattern(alternatives: str) -> re.Pattern[str]:
    return re.compile(alternatives, re.IGNORECASE)


NEVER = _pattern(r"(?!)")  # a kind of refusal the library does not have


@dataclass(frozen=True)
class MessagePatterns:
    """How a library's exceptions classify by their text (`Type: message`, unless a backend says otherwise):
    an internal error, a documented limitation, an unsupported derivative, refusals of transforms."""

    internal: re.Pattern[str]
    unsupported: re.Pattern[str]
    documented: re.Pattern[str] = NEVER
    not_compilable: re.Pattern[str] = NEVER
    not_batchable: re.Pattern[str] = NEVER
    shape_contract: re.Pattern[str] = NEVER


@dataclass(frozen=True)
class Library:
    """One library as every tool sees it."""

    name: str  # as cases, catalogs and commands name it
    import_name: str  # its top-level module
    backend: str  # the module whose `make_backend()` makes its backend
    modes: str  # the module of its scenarios (a reproducer embeds its source)
    ad_modules: tuple[str, ...]  # the modules whose coverage guides the search (and `coverage` reports)
    limits: Limits
    reproducer: ReproducerSource
    messages: MessagePatterns
    compile_cache: tuple[tuple[str, str], ...] = ()  # (variable, value) pairs: see `cache_env`
    own_environment: bool = False  # runs in an environment of its own (`environments`), not the main one
    module_namespace: str = ""  # capitalized names there are module classes: constructed, then called

    def cache_env(self, folder: Path) -> dict[str, str]:
        """The environment variables that make a process keep its compiled code in `folder`, shared by a
        campaign's workers and kept for resumed runs (JAX's persistent cache, TensorFlow's XLA cache, Inductor's):
        the record's values with {folder} and the current value of any variable ({TF_XLA_FLAGS}) filled in."""
        values = defaultdict(str, os.environ, folder=str(folder))
        return {
            name: template.format_map(values).strip()
            for name, template in self.compile_cache
            if '"{folder}"' not in template or '"' not in str(folder)  # a quoted value cannot hold the quote
        }

    def is_module(self, api: str) -> bool:
        """Does a dotted name denote a module class (by naming: `oneflow.nn.Conv2d`)?"""
        prefix, _, last = api.rpartition(".")
        return bool(self.module_namespace) and prefix == self.module_namespace and last[:1].isupper()

    def callee(self, api: str) -> str:
        """An API's callable as a call's source writes it: a module class through its modes module's
        `module_call` (`module_call(torch.nn.Linear)(x0, in_features=3, ...)`), any other API by its name."""
        return f"module_call({api})" if self.is_module(api) else api


ONEFLOW_NOTE = """
OneFlow 0.9's wheel is a CUDA build: put its CUDA libraries on the library path before running this
script (the dynamic loader reads LD_LIBRARY_PATH when the process starts), e.g.
    SITE=$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    LD_LIBRARY_PATH=$SITE/nvidia/cublas/lib:$SITE/nvidia/cudnn/lib python repro.py
(or `scripts/oneflow-env python repro.py` in a nabla-atheris checkout)."""

# JAX and TensorFlow compile every new call structure (slower first calls, compiled code kept in memory).
RECORDS = {
    "torch": Library(
        "torch",
        "torch",
        "nabla_atheris.backends.torch_backend",
        "nabla_atheris.backends.torch_modes",
        ("torch.autograd", "torch._functorch", "torch.func", "torch.nn.functional", "torch._decomp"),
        Limits(120, 6144, 4096),
        ReproducerSource(
            "import torch",
            "torch.from_numpy(values.copy()).to(getattr(torch, WIDE.get(dtype, dtype) if wide else dtype))",
            "[torch.from_numpy(x) for x in arrays]",
            ("aot", "inductor"),
            "compiled_function(f, kind, mode)",
            "batched(eager, f, xs, [torch.from_numpy(np.asarray(d)) for d in vectors])",
            "custom(rule, mode, f, xs, U, V, V2)",
        ),
        MessagePatterns(
            internal=_pattern(r"INTERNAL ASSERT FAILED|Internal error|CHECK failed|Please report a bug to PyTorch"),
            unsupported=_pattern(
                r"derivative for .* is not implemented|not implemented for (forward|backward)|"
                r"Trying to use forward AD with .* that does not support it|does not support (automatic differentiation|forward)|"
                r"forward AD is not implemented|not differentiable twice|double backward.* not (implemented|supported)|"
                r"is not implemented for (double|second)|Batching rule not implemented|"
                r"derivative (is )?not implemented|NotImplementedError|is not currently supported|"
                r"not supported for complex|does not support complex|must override the setup_context staticmethod|"
                r"is not differentiable with respect to argument|is not differentiable twice|batch_norm is not differentiable|"
                r"not supported with sparse gradients"
            ),
            # Documented limitations: an argument the function documents as a parameter, not an input; a loss
            # that depends on the arbitrary phase or sign of eigenvectors or singular vectors (linalg.eig, svd
            # docs); data-dependent operations under torch.func transforms (fwd-over-fwd), which its docs exclude;
            # an in-place API on an input that requires a gradient (autograd's documented refusal); linalg.qr in
            # the modes its docs call not differentiable ('complete' with m > n, 'r').
            documented=_pattern(
                r"is not differentiable with respect to argument|cannot have forward grad defined|"
                r"QR decomposition is not differentiable when mode='complete'|which is not computed when mode='r'|"
                r"depends on this phase term|specified up to multiplication by|"
                r"Cannot access data pointer of Tensor that doesn't have storage|"
                r"a leaf Variable that requires grad is being used in an in-place operation"
            ),
            # torch.compile refuses the call as written: a graph break (fullgraph), a data-dependent shape, an
            # operator without a meta kernel or a lowering (TorchDynamo's exceptions whose message says so).
            not_compilable=_pattern(
                r"data.dependent|unbacked|dynamic (output )?shape|does not have a meta|Meta' backend|"
                r"NotImplementedError|not (yet )?(implemented|supported)|unsupported"
            ),
            # torch.func's vmap refuses data-dependent or in-place code (its messages start with "vmap:"),
            # operators it has no batching rule for and cannot loop over, and sparse layouts (which torch.func
            # does not support: batching views a sparse result the eager call returns).
            not_batchable=_pattern(
                r"^vmap: |inside of a function being transformed|does not yet have a batching rule|does not have vmap support|"
                r"with arguments from the 'Sparse\w*' backend|Sparse (\w+ )?tensors do not have|"
                r"Cannot access storage of (BatchedTensorImpl|TensorWrapper)|NYI: .* inside of vmap|"
                r"which will be updated in place, were not batched|"
                r"Batching rule not implemented for .* could not generate a fallback"
            ),
        ),
        (("TORCHINDUCTOR_CACHE_DIR", "{folder}/inductor"),),
        module_namespace="torch.nn",
    ),
    "jax": Library(
        "jax",
        "jax",
        "nabla_atheris.backends.jax_backend",
        "nabla_atheris.backends.jax_modes",
        (
            "jax._src.interpreters.ad",
            "jax._src.interpreters.partial_eval",
            "jax._src.interpreters.batching",
            "jax._src.custom_derivatives",
            "jax._src.api",
            "jax._src.lax",
            "jax._src.numpy",
            "jax._src.nn",
            "jax._src.scipy",
        ),
        Limits(300, 8192, 6144),
        ReproducerSource(
            "import jax\nimport jax.numpy as jnp",
            "jnp.asarray(values, dtype=WIDE.get(dtype, dtype) if wide else dtype)",
            "[jnp.asarray(x) for x in arrays]",
            ("jit",),
            "jitted(mode, f)",
            "batched(eager, f)(xs, vectors)",
            "custom_alone(rule, mode, f, xs, U, V, V2)",
        ),
        MessagePatterns(
            internal=_pattern(r"INTERNAL:|Internal error|Check failed|please report this"),
            unsupported=_pattern(
                r"Differentiation rule for .* not implemented|Transpose rule .* not implemented|not implemented for|"
                r"can't apply (forward|reverse)-mode autodiff|Reverse-mode differentiation does not work|"
                r"jvp rule .* not implemented|JVP rule .* not implemented|does not support (forward|reverse)|"
                r"only supports reverse-mode|is not differentiable|NotImplementedError|Linearization failed"
            ),
            # JAX documents that a custom_vjp function has no forward mode (and a custom_jvp one no reverse-mode
            # rule of its own): a limitation of the user-level construct, not a derivative the API lacks.
            documented=_pattern(r"can't apply forward-mode autodiff \(jvp\) to a custom_vjp function"),
        ),
        (
            ("JAX_COMPILATION_CACHE_DIR", "{folder}"),
            ("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0"),  # every computation: most compile in milliseconds
            ("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0"),
        ),
    ),
    "tf": Library(
        "tf",
        "tensorflow",
        "nabla_atheris.backends.tf_backend",
        "nabla_atheris.backends.tf_modes",
        (
            "tensorflow.python.ops.math_grad",
            "tensorflow.python.ops.nn_grad",
            "tensorflow.python.ops.array_grad",
            "tensorflow.python.ops.linalg_grad",
            "tensorflow.python.ops.gradients_util",
            "tensorflow.python.eager.backprop",
            "tensorflow.python.eager.forwardprop",
            "tensorflow.python.eager.forwardprop_util",
        ),
        Limits(300, 8192, 6144),
        ReproducerSource(
            "import tensorflow as tf",
            "tf.cast(tf.constant(values), WIDE.get(dtype, dtype) if wide else dtype)",
            "[tf.constant(x) for x in arrays]",
            ("graph", "xla"),
            'compiled_function(mode, f, xla=kind == "xla")',
            "batched(name, f)(xs, vectors)",
            "custom(rule, mode, f, xs, U, V, V2)",
        ),
        MessagePatterns(
            internal=_pattern(r"InternalError|Check failed|INTERNAL:|Internal error:"),
            unsupported=_pattern(
                r"No gradient defined|gradient registry has no entry|not differentiable|has no gradient|"
                r"jvp .* not (implemented|supported)|Gradient for .* is not implemented|NotImplementedError|"
                r"is not supported by the forward|ForwardAccumulator .* not supported"
            ),
            # Graph or XLA compilation refused the call as written (no XLA kernel, Python-side values): not a bug.
            not_compilable=_pattern(
                r"Detected unsupported operations when trying to compile|XLA compilation requires|"
                r"Could not find device for node|No registered .* OpKernel for XLA_CPU_JIT|must be a compile-time constant|"
                r"OperatorNotAllowedInGraphError|not allowed in Graph execution|EagerTensor.*graph"
            ),
            # Errors of graph-mode shape inference: an op's shape function enforces its documented contract
            # (ranks, matching dimensions), which some eager kernels check less strictly.
            shape_contract=_pattern(
                r"Shape must be|must (?:be|have) [\w ,-]*rank|Dimensions must be equal|Shapes must be equal rank"
            ),
        ),
        (("TF_XLA_FLAGS", '{TF_XLA_FLAGS} --tf_xla_persistent_cache_directory="{folder}"'),),
    ),
    # OneFlow's AD is C++; its Python layer wraps it: autograd.Function, nn.Graph tracing and
    # compilation, the functional and module front ends, the Tensor methods written in Python.
    # OneFlow 0.9.0 has wheels for Python <= 3.10 only.
    "oneflow": Library(
        "oneflow",
        "oneflow",
        "nabla_atheris.backends.oneflow_backend",
        "nabla_atheris.backends.oneflow_modes",
        (
            "oneflow.autograd",
            "oneflow.nn.graph",
            "oneflow.nn.modules",
            "oneflow.nn.functional",
            "oneflow.framework.tensor",
            "oneflow.framework.graph_build_util",
        ),
        Limits(120, 6144, 4096),
        ReproducerSource(
            "import oneflow",
            "flow.tensor(values, dtype=getattr(flow, WIDE.get(dtype, dtype) if wide else dtype))",
            "[flow.tensor(x) for x in arrays]",
            ("graph",),
            "compiled_function(mode, f)",
            note=ONEFLOW_NOTE,
        ),
        MessagePatterns(
            internal=_pattern(r"Check failed|INTERNAL ASSERT|Internal error|please report"),
            unsupported=_pattern(
                r"NotImplementedError|backward.* not (implemented|supported)|not support(ed)? (backward|grad|autograd)|"
                r"has no grad(ient)? function|is not differentiable|no gradient|Gradient function .* not (found|implemented)|"
                r"doesn't support (backward|grad)|unimplemented|not implemented|"
                # in a gradient op only (the direct call ran): no backward kernel for the dtype
                r"Cannot find the kernel matching"
            ),
            # An in-place API on an input that requires a gradient: autograd's documented refusal (as PyTorch's).
            documented=_pattern(r"a leaf Tensor that requires grad is being used in an in-place operation"),
        ),
        own_environment=True,
        module_namespace="oneflow.nn",
    ),
}
LIBRARIES = tuple(RECORDS)


def record(library: str) -> Library:
    """The record of a library; KeyError naming the known ones."""
    if library not in RECORDS:
        raise KeyError(f"unknown library {library!r} (have: {', '.join(LIBRARIES)})")
    return RECORDS[library]
