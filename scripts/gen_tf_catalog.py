#!/usr/bin/env python3
"""Generate the TensorFlow catalog from the installed tensorflow (nabla_atheris/catalog/data/tf.{json,registry}).

Candidates are the public functions of `tf.math`, `tf.nn`, `tf.linalg`, `tf.signal`, `tf.image`,
`tf.experimental.numpy` and top-level `tf` (each object under its first name), and the `tf.raw_ops`
that have a registered gradient. Sources, in order, each only for APIs that still lack templates:
  manual     the hand-written templates of scripts/tf_manual_templates.py (convolutions, pooling);
  docstring  the API's runnable docstring examples (see nabla_atheris/catalog/discovery.py);
  probe      signature-driven calls (discovery.py; raw ops take their arguments by name);
  parameters every parameter a validated domain (nabla_atheris/catalog/parameters.py).

    PYTHONPATH=. .venv/bin/python scripts/gen_tf_catalog.py [--only API,...] [--out DIR]
        [--sources manual,docstring,probe,parameters]
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nabla_atheris.backends import get_backend
from nabla_atheris.backends.tf_backend import resolve, tf
from nabla_atheris.catalog import discovery
from nabla_atheris.catalog.building import CatalogBuilder, TensorInfo, Unrepresentable, preload

DATA = Path(__file__).resolve().parents[1] / "nabla_atheris" / "catalog" / "data"
NAMESPACES = ("tf.math", "tf.nn", "tf.linalg", "tf.signal", "tf.image", "tf.experimental.numpy", "tf")
# Names that touch files, devices, randomness, global state or Python callbacks.
SKIP_WORDS = (
    "random", "summary", "print", "py_function", "numpy_function", "function", "device", "config", "debugging",
    "save", "load", "read", "write", "decode", "encode", "file", "set_", "init_scope", "control_dependencies",
    "name_scope", "variable", "Variable", "while_loop", "cond", "case", "switch_case", "map_fn", "scan", "foldl",
    "foldr", "vectorized_map", "custom_gradient", "recompute_grad", "stop_gradient", "gradients", "hessians",
    "stateless", "Stateful", "Stateless", "Random", "Shuffle", "Iterator", "Dataset", "Queue", "Stack",
    "TensorArray", "Barrier", "Summary", "Save", "Restore", "Resource", "Var", "Print", "Assert", "executing_eagerly",
    "PreventGradient", "Merge", "Exit", "Enter", "NextIteration", "Switch", "Debug",
)  # fmt: skip
SOURCES = ("manual", "docstring", "probe", "parameters")


def _has_gradient(op: str) -> bool:
    from tensorflow.python.framework import ops

    try:
        return ops.gradient_registry.lookup(op) is not None
    except LookupError:
        return False


def namespaces() -> dict[str, Any]:
    """Public prefix -> API module; `tf.raw_ops` last."""
    found = {prefix: resolve_module(prefix) for prefix in NAMESPACES}
    found["tf.raw_ops"] = tf.raw_ops
    return found


def resolve_module(prefix: str) -> Any:
    module: Any = tf
    for part in prefix.split(".")[1:]:
        module = getattr(module, part)
    return module


def public_names() -> dict[int, str]:
    """id(function) -> public dotted name (first name wins); raw ops only with a registered gradient."""
    names: dict[int, str] = {}
    for prefix, module in namespaces().items():
        for attr in sorted(dir(module)):
            if attr.startswith("_") or any(word in attr for word in SKIP_WORDS):
                continue
            obj = getattr(module, attr, None)
            if not callable(obj) or isinstance(obj, type) or inspect.ismodule(obj):
                continue
            if prefix == "tf.raw_ops" and not _has_gradient(attr):
                continue
            names.setdefault(id(obj), f"{prefix}.{attr}")
    return names


def describe(value: Any) -> Any:
    """A recorded argument in the building module's terms (symbolic tensors are not representable)."""
    if isinstance(value, tf.Variable):
        value = value.read_value()
    if isinstance(value, (tf.Tensor, np.ndarray)) and not isinstance(value, np.generic):
        if isinstance(value, tf.Tensor) and not hasattr(value, "numpy"):
            raise Unrepresentable("a symbolic tensor")
        if isinstance(value, tf.Tensor) and value.dtype in (tf.bfloat16, tf.float16):
            return TensorInfo(value.dtype.name, tuple(value.shape), tf.cast(value, tf.float32).numpy())
        array = value.numpy() if isinstance(value, tf.Tensor) else value
        if array.dtype.kind not in "fcbiu":
            raise Unrepresentable(f"a tensor of dtype {array.dtype}")
        return TensorInfo(array.dtype.name, tuple(array.shape), np.array(array))
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [describe(v) for v in value]
    if isinstance(value, (tf.DType, tf.TensorShape, np.dtype)) or isinstance(value, type):
        raise Unrepresentable(f"an argument of type {type(value).__name__}")
    return value


def floating_leaves(out: Any) -> bool:
    leaves = tf.nest.flatten(out)
    return any(isinstance(leaf, tf.Tensor) and (leaf.dtype.is_floating or leaf.dtype.is_complex) for leaf in leaves)


def library() -> discovery.Library:
    """TensorFlow in the terms of catalog discovery."""
    scope = {"tf": tf, "np": np, "tnp": tf.experimental.numpy, "math": __import__("math")}
    return discovery.Library(
        namespaces(),
        scope,
        resolve,
        describe,
        tf.constant,
        floating_leaves,
        keyword_only=lambda api: api.startswith("tf.raw_ops."),
    )


def generate(
    names: list[str], sources: Sequence[str], wanted: Callable[[str], bool], start: Path | None = None
) -> tuple[CatalogBuilder, dict]:
    """Run the sources in order (from the catalog in `start`, if given); the builder holds the
    validated templates and the failures."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from tf_manual_templates import APIS

    builder = CatalogBuilder("tf", get_backend("tf"))
    if start is not None:
        preload(builder, start)
    return builder, discovery.generate(builder, library(), names, sources, APIS, wanted)


if __name__ == "__main__":
    sys.exit(discovery.generator_main("tf", __doc__, lambda: sorted(public_names().values()), generate, DATA, SOURCES))
