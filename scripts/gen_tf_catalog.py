#!/usr/bin/env python3
"""Generate the TensorFlow catalog from the installed tensorflow (nabla_atheris/catalog/data/tf.{json,registry}).

Candidates are the public functions of `tf.math`, `tf.nn`, `tf.linalg`, `tf.signal`, `tf.image`,
`tf.experimental.numpy` and top-level `tf` (each object under its first name), the `tf.raw_ops`
that have a registered gradient, and TensorFlow 1's own functions in `tf.compat.v1` (`COMPAT_NAMESPACES`).
Sources, in order, each only for APIs that still lack templates:
  manual     the hand-written templates of scripts/tf_manual_templates.py (convolutions, pooling);
  docstring  the API's runnable docstring examples (see nabla_atheris/catalog/discovery.py);
  probe      signature-driven calls (discovery.py; raw ops take their arguments by name);
  variants   examples written with integer data, the integers as floating data (discovery.py);
  parameters every parameter a validated domain (nabla_atheris/catalog/parameters.py).

    PYTHONPATH=. .venv/bin/python scripts/gen_tf_catalog.py [--only API,...] [--out DIR]
        [--sources manual,docstring,probe,variants,parameters]
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
from nabla_atheris.catalog.parameters import checker, read_parameters, vary_parameters

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
    "PreventGradient", "Merge", "Exit", "Enter", "NextIteration", "Switch", "Debug", "get_static_value",
)  # fmt: skip
# TensorFlow 1's API under `tf.compat.v1` (its own functions only: an alias of a name above keeps that
# name), without what switches the process' global mode or needs graphs, sessions, variables or strings.
COMPAT_NAMESPACES = ("tf.compat.v1", "tf.compat.v1.math", "tf.compat.v1.nn", "tf.compat.v1.linalg", "tf.compat.v1.image")
COMPAT_SKIP_WORDS = (
    "enable", "disable", "session", "collection", "graph", "placeholder", "initializ", "table", "container",
    "colocate", "op_scope", "make_template", "assign", "scatter", "partitioner", "regularizer", "parse", "serialize",
    "string", "substr", "regex", "count_up_to", "rnn", "sampler", "sparse", "quantiz", "multinomial", "normal",
    "py_func", "reduce_join",
)  # fmt: skip
SOURCES = ("manual", "docstring", "probe", "variants", "parameters")
# APIs whose parameter values are checked in a forked child: an FFT's fft_length that does not fit
# its input aborts the process (a DUCC assertion: "no zero-sized FFTs", "axis length mismatch").
ISOLATED_WORDS = ("fft", "FFT", "stft", "mdct")


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
    return found | {prefix: resolve_module(prefix) for prefix in COMPAT_NAMESPACES}


def resolve_module(prefix: str) -> Any:
    module: Any = tf
    for part in prefix.split(".")[1:]:
        module = getattr(module, part)
    return module


def public_functions() -> list[tuple[int, str]]:
    """(id(function), public dotted name) of every function of the namespaces, aliases included."""
    names = []
    for prefix, module in namespaces().items():
        for attr in sorted(dir(module)):
            obj = getattr(module, attr, None)
            if not attr.startswith("_") and callable(obj) and not isinstance(obj, type) and not inspect.ismodule(obj):
                names.append((id(obj), f"{prefix}.{attr}"))
    return names


def skip_reason(name: str) -> str | None:
    """Why a public function is not a candidate (None: it is)."""
    prefix, _, attr = name.rpartition(".")
    word = next((w for w in SKIP_WORDS if w in attr), None)
    if word is None and prefix in COMPAT_NAMESPACES:
        word = next((w for w in COMPAT_SKIP_WORDS if w in attr), None)
    if word is not None:
        return f"not a candidate: files, devices, randomness, global state, graphs or callbacks ({word!r})"
    if prefix == "tf.raw_ops" and not _has_gradient(attr):
        return "not a candidate: a raw op without a registered gradient"
    return None


def public_names() -> dict[int, str]:
    """id(function) -> public dotted name of the candidates (first name wins); raw ops only with a
    registered gradient."""
    names: dict[int, str] = {}
    for key, name in public_functions():
        if skip_reason(name) is None:
            names.setdefault(key, name)
    return names


def skipped() -> dict[str, str]:
    """The public functions that are not candidates under any of their names, with the reason."""
    candidates = public_names()
    found = {name: skip_reason(name) for key, name in public_functions() if key not in candidates}
    return {name: reason for name, reason in found.items() if reason}


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


def _floating(out: Any) -> list[tf.Tensor]:
    leaves = tf.nest.flatten(out)
    return [leaf for leaf in leaves if isinstance(leaf, tf.Tensor) and (leaf.dtype.is_floating or leaf.dtype.is_complex)]


def floating_leaves(out: Any) -> bool:
    return bool(_floating(out))


def finite(out: Any) -> bool:
    return all(np.isfinite(leaf.numpy()).all() for leaf in _floating(out) if hasattr(leaf, "numpy"))


INTEGER_TYPES = frozenset({3, 4, 5, 6, 9, 17, 22, 23})  # DT_INT32, UINT8, INT16, INT8, INT64, UINT16, UINT32, UINT64
ATTRIBUTE_VALUES: dict[str, Any] = {"int": 1, "float": 0.5, "bool": False, "string": "VALID", "type": "float64"}  # a type by name


def argument_kind(api: str, name: str, shape: tuple[int, ...]) -> str | discovery.Attribute:
    """A typed probe's argument: by the op definition's types for a raw op (integer inputs are index
    tensors or scalars, boolean inputs masks, a list input two tensors; required attributes by their
    type), by the parameter's name otherwise (`discovery.argument_kind`)."""
    by_name = discovery.argument_kind(api, name, shape)
    if not api.startswith("tf.raw_ops.") or isinstance(by_name, discovery.Attribute):
        return by_name
    from tensorflow.python.framework import op_def_registry

    op = op_def_registry.get(api.rsplit(".", 1)[1])
    attrs = {a.name: a for a in op.attr}
    for arg in op.input_arg:
        if arg.name != name:
            continue
        allowed = set(attrs[arg.type_attr].allowed_values.list.type) if arg.type_attr else {arg.type}
        if arg.number_attr:
            rng = np.random.default_rng(0)
            return discovery.Attribute([tf.constant(rng.uniform(-0.9, 0.9, shape)) for _ in range(2)])
        if allowed == {10}:  # DT_BOOL
            return "mask"
        if allowed and allowed <= INTEGER_TYPES:
            return "index" if any(word in name for word in ("ind", "ids", "segment")) else discovery.Attribute(1)
        return "float"
    attr = attrs.get(name)
    if attr is not None and attr.type == "list(int)":
        return discovery.Attribute([1] * max(len(shape), 1))
    if attr is not None and attr.type in ATTRIBUTE_VALUES:
        choices = [c.decode() for c in attr.allowed_values.list.s]
        return discovery.Attribute(choices[0] if choices else ATTRIBUTE_VALUES[attr.type])
    return by_name


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
        finite,
        keyword_only=lambda api: api.startswith("tf.raw_ops."),
        argument_kind=argument_kind,
        fork_probes=True,
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
    tf_library = library()

    def parameters() -> None:
        vary_parameters(
            builder,
            [api for api in builder.apis if wanted(api)],
            lambda api: read_parameters(api, tf_library.resolve(api)),
            make_check=lambda api: checker("tf", api, builder.backend, isolated=isolated(api)),
        )

    extra = {"parameters": parameters}
    return builder, discovery.generate(builder, tf_library, names, sources, APIS, wanted, extra)


def isolated(api: str) -> bool:
    """Whether the parameter step checks the API's values in a forked child (ISOLATED_WORDS)."""
    return any(word in api.rsplit(".", 1)[1] for word in ISOLATED_WORDS)


if __name__ == "__main__":
    sys.exit(discovery.generator_main("tf", __doc__, lambda: sorted(public_names().values()), generate, DATA, SOURCES, skipped))
