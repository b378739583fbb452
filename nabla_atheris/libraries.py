"""What nabla-atheris knows of each library, one record per library, read by every tool: its backend
and modes modules, its environment, the modules whose coverage guides the search, a campaign's
limits, and how a reproducer imports it and makes its tensors. A fifth library is its backend, its
modes module and one record here. Nothing here imports a library."""

from __future__ import annotations

from dataclasses import dataclass


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
    own_environment: bool = False  # runs in an environment of its own (`environments`), not the main one
    module_namespace: str = ""  # capitalized names there are module classes: constructed, then called

    def is_module(self, api: str) -> bool:
        """Does a dotted name denote a module class (by naming: `oneflow.nn.Conv2d`)?"""
        prefix, _, last = api.rpartition(".")
        return bool(self.module_namespace) and prefix == self.module_namespace and last[:1].isupper()


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
