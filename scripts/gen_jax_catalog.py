#!/usr/bin/env python3
"""Generate the JAX catalog from the installed jax (nabla_atheris/catalog/data/jax.{json,registry}).

Candidates are the public functions of the differentiable namespaces (`NAMESPACES`, each object
under its first name). Sources, in order, each only for APIs that still lack templates:
  manual     the hand-written templates of scripts/jax_manual_templates.py (structural jax.lax APIs);
  docstring  the API's runnable docstring examples, with the public attribute replaced by a recorder
             of its outermost calls;
  probe      signature-driven calls: as many float64 arrays as the API has required parameters
             (attributes for parameters named like axes or counts), in a few shapes and value domains.
Every template is validated through the jax backend before it is written (see catalog/building.py).

    PYTHONPATH=. .venv/bin/python scripts/gen_jax_catalog.py [--only API,...] [--out DIR]
        [--sources manual,docstring,probe]
"""

from __future__ import annotations

import argparse
import contextlib
import doctest
import importlib
import inspect
import io
import pkgutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from nabla_atheris.backends import get_backend
from nabla_atheris.catalog import DOMAINS
from nabla_atheris.catalog.building import (
    CatalogBuilder,
    TensorInfo,
    Timeout,
    Unrepresentable,
    recorded,
    time_limit,
    write_catalog,
)

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
    "jax.image",
    *(f"jax.scipy.stats.{m.name}" for m in pkgutil.iter_modules(importlib.import_module("jax.scipy.stats").__path__)),
)
# Names that need keys, devices, callbacks or named axes, or that touch global state.
SKIP_WORDS = ("random", "device", "config", "debug", "callback", "print", "save", "load", "set_", "custom", "initializers")
SKIP_NAMES = {
    "pmax", "pmin", "pmean", "psum", "ppermute", "pshuffle", "all_gather", "all_to_all", "axis_index", "pbroadcast",
    "psum_scatter", "while_loop", "fori_loop", "scan", "cond", "switch", "map", "associative_scan", "stop_gradient",
    "optimization_barrier", "create_token", "platform_dependent", "pvary", "axis_size",
}  # fmt: skip
SOURCES = ("manual", "docstring", "probe")
EXAMPLE_SECONDS = 30
CALL_SECONDS = 60
CALLS_PER_EXAMPLE = 24
PROBE_SHAPES = ((2, 3), (3, 3), (4,), ())
PROBE_DOMAINS = (None, *DOMAINS)
# Required parameters whose names say they are not arrays: the probe passes these values.
PROBE_ATTRIBUTES: dict[str, Any] = {
    "axis": 0, "axes": (0,), "dimension": 0, "dimensions": (0,), "shift": 1, "n": 2, "k": 1, "N": 3,
    "repeats": 2, "reps": 2, "kth": 1, "exponent_bits": 5, "mantissa_bits": 10, "sizes": (2,), "deg": 1,
    "order": 1, "permutation": (0,), "size": 2, "p": 2,
    "num": 3, "new_sizes": (2,), "indices_or_sections": 2, "start": 0, "stop": 2, "y_axis": 0,
}  # fmt: skip


def public_names() -> dict[int, str]:
    """id(function) -> public dotted name in the differentiable namespaces (first name wins)."""
    names: dict[int, str] = {}
    for prefix in NAMESPACES:
        module = importlib.import_module(prefix)
        for attr in sorted(dir(module)):
            obj = getattr(module, attr, None)
            if attr.startswith("_") or not callable(obj) or isinstance(obj, type) or inspect.ismodule(obj):
                continue
            name = f"{prefix}.{attr}"
            control_flow = prefix == "jax.lax" and attr in SKIP_NAMES
            if not control_flow and not attr.endswith("_p") and not any(word in attr for word in SKIP_WORDS):
                names.setdefault(id(obj), name)
    return names


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


class Recorder:
    """Replaces a public function in every namespace that exports it by a recorder of its outermost calls."""

    def __init__(self, target: Any) -> None:
        self.target = target
        self.calls: list[tuple[tuple, dict]] = []
        self.depth = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.depth == 0 and len(self.calls) < CALLS_PER_EXAMPLE:
            self.calls.append((args, dict(kwargs)))
        self.depth += 1
        try:
            return self.target(*args, **kwargs)
        finally:
            self.depth -= 1

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        patched = []
        for prefix in NAMESPACES:
            module = importlib.import_module(prefix)
            for attr, value in list(vars(module).items()):
                if value is self.target:
                    setattr(module, attr, self)
                    patched.append((module, attr))
        try:
            yield
        finally:
            for module, attr in patched:
                setattr(module, attr, self.target)


def resolve(name: str) -> Any:
    module, _, attr = name.rpartition(".")
    return getattr(importlib.import_module(module), attr)


def example_calls(api: str) -> list[tuple[tuple, dict]]:
    """The calls of `api` made by its docstring examples (failing examples skipped)."""
    target = resolve(api)
    try:
        examples = doctest.DocTestParser().get_examples(getattr(target, "__doc__", None) or "")
    except ValueError:  # a docstring doctest cannot parse
        return []
    if not examples:
        return []
    scope: dict[str, Any] = {"jax": jax, "jnp": jnp, "np": np, "lax": jax.lax, "nn": jax.nn, "math": __import__("math")}
    scope["jsp"] = importlib.import_module("jax.scipy")
    recorder = Recorder(target)
    with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp), contextlib.redirect_stdout(io.StringIO()):
        with recorder.installed():
            for example in examples:
                try:
                    with time_limit(EXAMPLE_SECONDS):
                        exec(compile(example.source, f"<{api} example>", "exec"), scope)  # noqa: S102 - the library's own examples
                except (Exception, Timeout):  # noqa: BLE001 - an example that fails records nothing more
                    continue
    return recorder.calls


def probe_calls(api: str) -> Iterator[tuple[tuple, str | None]]:
    """Candidate argument tuples for an API (float64 arrays and attributes), with their value domain."""
    fn = resolve(api)
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    required = [
        p.name
        for p in parameters
        if p.default is inspect.Parameter.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if any(p.kind is p.VAR_POSITIONAL for p in parameters) and not required:
        arities = [[f"x{i}" for i in range(n)] for n in (1, 2)]
    else:
        arities = [required[:4]] if required else [["x"]]
    rng = np.random.default_rng(0)
    for names in arities:
        for shape in PROBE_SHAPES:
            for domain in PROBE_DOMAINS:
                values = [rng.uniform(-0.9, 0.9, size=shape) for _ in names]
                values = [_in_domain(v, domain) for v in values]
                yield tuple(PROBE_ATTRIBUTES.get(n, jnp.asarray(v)) for n, v in zip(names, values)), domain


def _in_domain(values: np.ndarray, domain: str | None) -> np.ndarray:
    if domain == "positive":
        return np.abs(values) + 0.1
    if domain == "above-one":
        return 1.1 + np.abs(values)
    return values


def _with_domain(template: dict, domain: str | None) -> dict:
    """The probe's domain on every floating tensor slot (inferred domains replaced)."""
    for slot in template["args"]:
        if isinstance(slot, dict) and "tensor" in slot and "dtype" not in slot:
            slot.pop("domain", None)
            if domain is not None:
                slot["domain"] = domain
    return template


def run_call(fn: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any]) -> bool:
    """True when the call returns at least one floating array (within CALL_SECONDS)."""
    try:
        with time_limit(CALL_SECONDS):
            leaves = jax.tree_util.tree_leaves(fn(*args, **kwargs))
    except (Exception, Timeout):  # noqa: BLE001 - a probe the API rejects
        return False
    return any(isinstance(leaf, jax.Array) and jnp.issubdtype(leaf.dtype, jnp.inexact) for leaf in leaves)


def from_manual(builder: CatalogBuilder, wanted: Callable[[str], bool]) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from jax_manual_templates import APIS

    for api in sorted(APIS):
        for template in APIS[api] if wanted(api) else ():
            builder.offer(api, lambda template=template: {**template, "source": "manual"}, probe_dtypes=False)


def from_docstrings(builder: CatalogBuilder, apis: list[str]) -> None:
    for api in apis:
        if not builder.apis.get(api):
            for args, kwargs in example_calls(api):
                builder.offer(api, recorded(describe, args, kwargs, "docstring"))


def from_probes(builder: CatalogBuilder, apis: list[str]) -> None:
    for api in apis:
        if builder.apis.get(api):
            continue
        fn = resolve(api)
        tried_shapes: set[tuple] = set()
        for args, domain in probe_calls(api):
            shapes = tuple(np.shape(a) for a in args)
            if builder.covered(api) or shapes in tried_shapes or not run_call(fn, args, {}):
                continue
            tried_shapes.add(shapes)
            make = recorded(describe, args, {}, "probe")
            builder.offer(api, lambda make=make, domain=domain: _with_domain(make(), domain))
        if not builder.apis.get(api):
            builder.failed.setdefault(api, "no probe call succeeded")


def generate(names: list[str], sources: Sequence[str], wanted: Callable[[str], bool]) -> tuple[CatalogBuilder, dict]:
    """Run the sources in order; the builder holds the validated templates and the failures."""
    builder = CatalogBuilder("jax", get_backend("jax"))
    steps = {
        "manual": lambda: from_manual(builder, wanted),
        "docstring": lambda: from_docstrings(builder, names),
        "probe": lambda: from_probes(builder, names),
    }
    timings = {}
    for source in sources:
        start = time.perf_counter()
        steps[source]()
        timings[source] = round(time.perf_counter() - start, 1)
        print(f"{source}: {len(builder.apis)} APIs after {timings[source]} s", file=sys.stderr, flush=True)
    return builder, timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="comma-separated API names (for tests and debugging)")
    parser.add_argument("--sources", default=",".join(SOURCES))
    parser.add_argument("--out", type=Path, default=DATA, help="folder of the catalog files")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # deprecation warnings of probed calls
    only = set(args.only.split(",")) if args.only else None
    names = sorted(public_names().values())
    if only is not None:
        unknown = only - set(names)
        if unknown:
            parser.error(f"not candidate APIs: {', '.join(sorted(unknown))}")
        names = [n for n in names if n in only]
    builder, timings = generate(names, args.sources.split(","), lambda api: only is None or api in only)
    args.out.mkdir(parents=True, exist_ok=True)
    registry = write_catalog(args.out, "jax", builder.apis, builder.failed)
    print(
        f"jax {jax.__version__}: {len(builder.apis)} APIs validated of {len(names)} candidates, "
        f"{sum(map(len, builder.apis.values()))} templates, {len(builder.failed)} failed, registry {len(registry)}; "
        f"seconds by source {timings}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
