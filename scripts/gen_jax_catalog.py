#!/usr/bin/env python3
"""Generate the JAX catalog from the installed jax (nabla_atheris/catalog/data/jax.{json,registry}).

Candidates are the public functions of the differentiable namespaces (`NAMESPACES`, each object
under its first name). Sources, in order, each only for APIs that still lack templates:
  manual     the hand-written templates of scripts/jax_manual_templates.py (structural jax.lax APIs);
  docstring  the API's runnable docstring examples (see nabla_atheris/catalog/discovery.py);
  probe      signature-driven calls (discovery.py);
  variants   examples written with integer data, the integers as floating data (discovery.py);
  parameters every parameter a validated domain (nabla_atheris/catalog/parameters.py).
Every template is validated through the jax backend before it is written (see catalog/building.py).

    PYTHONPATH=. .venv/bin/python scripts/gen_jax_catalog.py [--only API,...] [--out DIR]
        [--sources manual,docstring,probe,variants,parameters]
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from nabla_atheris.backends import get_backend
from nabla_atheris.catalog import discovery
from nabla_atheris.catalog.building import CatalogBuilder, TensorInfo, Unrepresentable, preload

DATA = Path(__file__).resolve().parents[1] / "nabla_atheris" / "catalog" / "data"
NAMESPACES = (
    "jax.numpy",
    "jax.numpy.linalg",
    "jax.numpy.fft",
    "jax.lax",
    "jax.lax.linalg",
    "jax.nn",
    "jax.scipy.special",
    "jax.scipy.linalg",
    "jax.scipy.signal",
    "jax.scipy.fft",
    "jax.scipy.integrate",
    "jax.scipy.ndimage",
    "jax.scipy.stats",
    "jax.scipy.sparse.linalg",
    "jax.scipy.cluster.vq",
    "jax.scipy.optimize",
    "jax.image",
    "jax.ops",
    "jax.experimental.sparse",
    *(f"jax.scipy.stats.{m.name}" for m in pkgutil.iter_modules(importlib.import_module("jax.scipy.stats").__path__)),
)
# Names that need keys, devices, callbacks or named axes, or that touch global state.
SKIP_WORDS = (
    "random",
    "device",
    "config",
    "debug",
    "callback",
    "print",
    "save",
    "load",
    "set_",
    "initializers",
    "dlpack",
    "frombuffer",
)
SKIP_NAMES = {
    "pmax", "pmin", "pmean", "psum", "ppermute", "pshuffle", "all_gather", "all_to_all", "axis_index", "pbroadcast",
    "psum_scatter", "while_loop", "stop_gradient", "optimization_barrier", "create_token", "platform_dependent",
    "pvary", "axis_size",
}  # fmt: skip
SOURCES = ("manual", "docstring", "probe", "variants", "parameters")


def _because(reason: str, names: str) -> dict[str, str]:
    return {f"jax.{name}": reason for name in names.split()}


# Why candidates that no source validates fail (instead of "no probe call succeeded"), from their docs.
REASONS = {
    **_because(
        "integer or boolean operands or outputs: no derivative",
        "lax.argmax lax.argmin lax.bitwise_and lax.bitwise_not lax.bitwise_or lax.bitwise_xor lax.clz lax.eq lax.ge "
        "lax.gt lax.le lax.lt lax.ne lax.is_finite lax.mulhi lax.population_count lax.reduce_and lax.reduce_or "
        "lax.reduce_xor lax.shift_left lax.shift_right_arithmetic lax.shift_right_logical lax.iota lax.broadcasted_iota "
        "lax.linalg.lu_pivots_to_permutation lax.bitcast_convert_type numpy.bitwise_invert numpy.bitwise_left_shift "
        "numpy.bitwise_not numpy.bitwise_right_shift",
    ),
    **_because(
        "returns shapes, dtypes, strings or dimension-number objects, not arrays",
        "lax.ConvGeneralDilatedDimensionNumbers lax.PrecisionLike lax.broadcast_shapes lax.conv_dimension_numbers "
        "lax.conv_general_permutations lax.conv_general_shape_tuple lax.conv_shape_tuple lax.conv_transpose_shape_tuple "
        "lax.padtype_to_pads lax.reduce_window_shape_tuple lax.dtype lax.shape_as_value numpy.array_repr "
        "numpy.array_str numpy.can_cast numpy.isdtype numpy.iterable",
    ),
    **_because(
        "needs named axes, shardings, tokens or random bits (not a single-device function of its arrays)",
        "lax.after_all lax.dce_sink lax.pcast lax.precv lax.psend lax.pswapaxes lax.ragged_all_to_all "
        "lax.with_sharding_constraint lax.rng_bit_generator lax.rng_uniform",
    ),
    **_because(
        "takes a Python function (computation, objective or element type)",
        "scipy.optimize.minimize numpy.fromfile numpy.fromiter numpy.frompyfunc",
    ),
    "jax.lax.scatter_apply": "no derivative in this jax: forward and reverse mode raise NotImplementedError: "
    "scatter_apply JVP not implemented",
    "jax.scipy.linalg.funm": "no derivative in this jax: forward and reverse mode raise NotImplementedError: "
    "Differentiation rule for 'schur' not implemented",
    "jax.lax.custom_root": "takes a root-finding solve(f, guess) and tangent_solve(g, y) that no library function stands for",
    "jax.scipy.linalg.cho_solve": "c_and_lower is a (factor, lower) tuple of a tensor and a static flag: a template's list "
    "holds tensors only, and a boolean tensor for the flag is not hashable (static under jax.jit)",
    "jax.nn.scaled_matmul": "no CPU lowering in this jax (NotImplementedError: MLIR translation rule for 'scaled_matmul')",
}


def public_functions() -> list[tuple[int, str]]:
    """(id(function), public dotted name) of every function of the namespaces, aliases included."""
    names = []
    for prefix in NAMESPACES:
        module = importlib.import_module(prefix)
        for attr in sorted(dir(module)):
            obj = getattr(module, attr, None)
            if not attr.startswith("_") and callable(obj) and not isinstance(obj, type) and not inspect.ismodule(obj):
                names.append((id(obj), f"{prefix}.{attr}"))
    return names


def skip_reason(name: str) -> str | None:
    """Why a public function is not a candidate (None: it is)."""
    prefix, _, attr = name.rpartition(".")
    if prefix == "jax.lax" and attr in SKIP_NAMES:
        return "not a candidate: control flow, collectives over named axes, tokens or a gradient cut"
    if attr.endswith("_p"):
        return "not a candidate: a primitive"
    word = next((w for w in SKIP_WORDS if w in attr), None)
    return f"not a candidate: keys, devices, callbacks, files or global state ({word!r})" if word else None


def public_names() -> dict[int, str]:
    """id(function) -> public dotted name of the candidates (first name wins)."""
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
    """A recorded argument in the building module's terms (tracers are not representable)."""
    if isinstance(value, jax.core.Tracer):
        raise Unrepresentable("a traced argument")
    if isinstance(value, (jax.Array, np.ndarray)) and not isinstance(value, np.generic):
        array = np.asarray(value)
        name = str(array.dtype)
        if name in ("bfloat16", "float16"):
            array = array.astype(np.float32)
        return TensorInfo(name, tuple(array.shape), array.copy())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [describe(v) for v in value]
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        raise Unrepresentable("a dtype argument")
    return value


def resolve(name: str) -> Any:
    module, _, attr = name.rpartition(".")
    return getattr(importlib.import_module(module), attr)


def _floating(out: Any) -> list[jax.Array]:
    leaves = jax.tree_util.tree_leaves(out)
    return [leaf for leaf in leaves if isinstance(leaf, jax.Array) and jnp.issubdtype(leaf.dtype, jnp.inexact)]


def floating_leaves(out: Any) -> bool:
    return bool(_floating(out))


def finite(out: Any) -> bool:
    return all(bool(jnp.isfinite(leaf).all()) for leaf in _floating(out))


def library() -> discovery.Library:
    """JAX in the terms of catalog discovery."""
    scope = {"jax": jax, "jnp": jnp, "np": np, "lax": jax.lax, "nn": jax.nn, "math": __import__("math")}
    scope["jsp"] = importlib.import_module("jax.scipy")
    namespaces = {prefix: importlib.import_module(prefix) for prefix in NAMESPACES}
    return discovery.Library(namespaces, scope, resolve, describe, jnp.asarray, floating_leaves, finite)


def generate(
    names: list[str], sources: Sequence[str], wanted: Callable[[str], bool], start: Path | None = None
) -> tuple[CatalogBuilder, dict]:
    """Run the sources in order (from the catalog in `start`, if given); the builder holds the
    validated templates and the failures."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from jax_manual_templates import APIS

    builder = CatalogBuilder("jax", get_backend("jax"))
    if start is not None:
        preload(builder, start)
    timings = discovery.generate(builder, library(), names, sources, APIS, wanted)
    builder.failed |= {api: reason for api, reason in REASONS.items() if api not in builder.apis and wanted(api)}
    return builder, timings


if __name__ == "__main__":
    sys.exit(discovery.generator_main("jax", __doc__, lambda: sorted(public_names().values()), generate, DATA, SOURCES, skipped))
