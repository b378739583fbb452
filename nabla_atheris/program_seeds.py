"""Program seeds: chains of calls after common model patterns, per library (an activation after a
linear layer, a normalization chain, a reduction after an elementwise op). Each is written with the
decoder's own choices (`decoder.program_seed_bytes`): the first API's default call, then each
further API's first template that takes an earlier output, taking the call before's output."""

from __future__ import annotations

from nabla_atheris.catalog import load_catalog
from nabla_atheris.decoder import program_seed_bytes
from nabla_atheris.plants import plant_seed_patterns

PROGRAMS = "program"  # a program seed's file is named LIB.program.PATTERN (no API of a catalog is LIB.program...)

PATTERNS: dict[str, dict[str, tuple[str, ...]]] = {
    "torch": {
        "linear-relu": ("torch.nn.functional.linear", "torch.nn.functional.relu"),
        "linear-gelu-mean": ("torch.nn.functional.linear", "torch.nn.functional.gelu", "torch.mean"),
        "layer_norm-normalize-softmax": (
            "torch.nn.functional.layer_norm",
            "torch.nn.functional.normalize",
            "torch.nn.functional.softmax",
        ),
        "exp-logsumexp": ("torch.exp", "torch.logsumexp"),
        "square-mean": ("torch.square", "torch.mean"),
    },
    "jax": {
        "matmul-relu": ("jax.numpy.matmul", "jax.nn.relu"),
        "matmul-gelu-mean": ("jax.numpy.matmul", "jax.nn.gelu", "jax.numpy.mean"),
        "standardize-log_softmax": ("jax.nn.standardize", "jax.nn.log_softmax"),
        "exp-norm": ("jax.numpy.exp", "jax.numpy.linalg.norm"),
        "square-mean": ("jax.numpy.square", "jax.numpy.mean"),
    },
    "tf": {
        "matmul-relu": ("tf.linalg.matmul", "tf.nn.relu"),
        "matmul-gelu-reduce_sum": ("tf.linalg.matmul", "tf.nn.gelu", "tf.math.reduce_sum"),
        "batch_normalization-l2_normalize-softmax": ("tf.nn.batch_normalization", "tf.math.l2_normalize", "tf.math.softmax"),
        "square-reduce_logsumexp": ("tf.math.square", "tf.math.reduce_logsumexp"),
        "sin-reduce_mean": ("tf.math.sin", "tf.math.reduce_mean"),
    },
    "oneflow": {
        "linear-relu": ("oneflow.nn.functional.linear", "oneflow.relu"),
        "linear-gelu-sum": ("oneflow.nn.functional.linear", "oneflow.gelu", "oneflow.sum"),
        "layer_norm-normalize-softmax": (
            "oneflow.nn.functional.layer_norm",
            "oneflow.nn.functional.normalize",
            "oneflow.softmax",
        ),
        "exp-logsumexp": ("oneflow.exp", "oneflow.logsumexp"),
        "square-mean": ("oneflow.square", "oneflow.mean"),
    },
}


def program_seeds(library: str) -> dict[str, bytes]:
    """File name -> bytes of the library's program seeds (with the test-only planted ops', see `plants`)."""
    catalog = load_catalog(library)
    patterns = {**PATTERNS.get(library, {}), **plant_seed_patterns(library)}
    return {f"{library}.{PROGRAMS}.{name}": program_seed_bytes(catalog, apis) for name, apis in patterns.items()}


def is_program_seed(name: str) -> bool:
    """Whether a seed file's name is a program seed's."""
    return name.split(".")[1:2] == [PROGRAMS]
