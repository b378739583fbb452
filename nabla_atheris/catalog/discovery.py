"""Finding example calls of public Python functions, for catalog generators (JAX, TensorFlow).

Three sources, each offering templates to a `CatalogBuilder`, in this order:
  manual     hand-written templates (a generator's `<lib>_manual_templates.py`);
  docstring  the API's runnable `>>>` examples, with the public function replaced (in every
             namespace that exports it) by a recorder of its outermost calls;
  probe      signature-driven calls: one float64 tensor per required parameter (attributes for
             parameters named like axes or counts), in a few shapes and value domains; then, for an
             API none of these calls, typed calls: each required parameter as its kind says (see
             `argument_kind`: sorted index tensors with duplicates, boolean masks, attributes); then,
             for an API none of those calls either, typed calls with one change each (`CHANGES`).
Then the parameter step (`parameters`) gives every template's parameters validated domains.
"""

from __future__ import annotations

import argparse
import contextlib
import doctest
import inspect
import io
import itertools
import math
import os
import signal
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nabla_atheris.catalog import DOMAINS
from nabla_atheris.catalog.building import (
    CatalogBuilder,
    Timeout,
    builder_extra,
    recorded,
    recorded_variants,
    time_limit,
    write_catalog,
)
from nabla_atheris.catalog.parameters import read_parameters, vary_parameters

EXAMPLE_SECONDS = 30
CALL_SECONDS = 60
CALLS_PER_EXAMPLE = 24
PROBE_SHAPES = ((2, 3), (3, 3), (4,), ())
TYPED_SHAPES = (*PROBE_SHAPES, (2, 2, 2, 2), (2, 2, 2, 2, 2))  # images and volumes (NHWC, NDHWC) too
CHANGED_SHAPES = ((2, 3), (3, 3), (4,), (1, 3))  # a dimension of size 1 too (squeeze-like APIs), no scalars
# The changes of the last probe: complex data (FFTs, real/imag/angle); parameters named like counts
# or probabilities (`NAMED_DATA`, attributes of the other probes) as integer tensors of the attribute's
# value with one of them floating (an integer count or selector beside the floating data), then all
# as floating tensors; optional parameters that default to None as floating tensors too (a tensor in
# a later parameter: zeta's q); two floating tensors for a *args parameter (select_n's cases);
# operands of other shapes (`OPERAND_SHAPES`). Calls with finite outputs come first (their value
# domain is the one the API's docs mean).
CHANGES = ("complex", "named integers", "named floats", "optional tensors", "variadic", "vector operands", "scalar operands")
# The operand changes: every floating parameter after the first a vector along the first's last
# dimension (a bias), or a scalar (a fill value, a threshold).
OPERAND_SHAPES: dict[str, Callable[[tuple[int, ...]], tuple[int, ...]]] = {
    "vector operands": lambda shape: shape[-1:],
    "scalar operands": lambda shape: (),
}
NAMED_DATA = {"k": 1, "n": 2, "N": 3, "p": 2, "m": 1}  # an integer tensor holds 0 to the value, else the value
# Attributes of the changed probe by name (orders, ranks, positions, a dtype by its name).
CHANGED_ATTRIBUTES: dict[str, Any] = {
    "v": 1, "rank": 3, "start_dimension": 0, "stop_dimension": 2, "start_index": 0, "new_dtype": "float32",
}  # fmt: skip
# Optional parameters that are never data tensors (the change "optional tensors" leaves them out).
NOT_DATA = frozenset({
    "name", "dtype", "out", "precision", "preferred_element_type", "device", "sharding", "out_sharding", "fill_value",
    "stop", "step", "num", "size", "shape", "length",
})  # fmt: skip
# The changed probe's values per value domain, spread from end to end: wider than the decoder's unit
# range, so that a domain is taken when the API's outputs stay finite across it (ndtri: the unit
# interval, not all positives).
CHANGED_VALUES: dict[str | None, tuple[float, float]] = {
    None: (-3.0, 3.0), "positive": (0.05, 3.0), "above-one": (1.05, 4.0), "unit": (-0.95, 0.95), "unit-interval": (0.05, 0.95),
}  # fmt: skip
PROBE_DOMAINS = (None, *DOMAINS)
# Required parameters whose names say they are not tensors: the probe passes these values.
PROBE_ATTRIBUTES: dict[str, Any] = {
    "axis": 0, "axes": (0,), "dimension": 0, "dimensions": (0,), "shift": 1, "n": 2, "k": 1, "N": 3,
    "repeats": 2, "reps": 2, "kth": 1, "exponent_bits": 5, "mantissa_bits": 10, "sizes": (2,), "deg": 1,
    "order": 1, "permutation": (0,), "size": 2, "p": 2, "num": 3, "new_sizes": (2,),
    "indices_or_sections": 2, "start": 0, "stop": 2, "y_axis": 0, "num_or_size_splits": 1, "perm": (1, 0),
    "reduction_indices": 0, "split_dim": 0, "num_split": 1, "multiples": (1, 2), "paddings": ((1, 0), (0, 1)),
}  # fmt: skip
# Typed probes: parameters named like index or segment-id tensors, like predicates, like per-dimension
# window lists (one entry per dimension of the data), and padding modes.
INDEX_NAMES = frozenset({"indices", "index", "segment_ids", "ids", "idx", "positions", "labels", "sp_ids", "sorted_sequence"})
MASK_NAMES = frozenset({"mask", "condition", "cond", "pred", "predicate", "where", "which"})
WINDOW_NAMES = frozenset({"ksize", "strides", "dilations", "rates", "window_dimensions", "window_strides"})
TYPED_ATTRIBUTES: dict[str, Any] = {
    "padding": "VALID", "num_segments": 2, "depth": 3, "shape": (-1,), "dims": (2,), "kernel_size": 1, "norm_type": 2.0,
    "output_size": 1, "upscale_factor": 1, "downscale_factor": 1, "num_classes": 3, "groups": 1,
}  # fmt: skip


@dataclass(frozen=True)
class Attribute:
    """A typed probe's non-tensor value for a parameter."""

    value: Any


def argument_kind(api: str, name: str, shape: tuple[int, ...]) -> str | Attribute:
    """What a typed probe passes for a required parameter, by its name: "index" (an integer tensor,
    sorted, with duplicates, within the first dimension), "mask" (a boolean tensor), "float" or an
    `Attribute`."""
    if name in INDEX_NAMES:
        return "index"
    if name in MASK_NAMES:
        return "mask"
    if name in WINDOW_NAMES:
        return Attribute([1] * max(len(shape), 1))
    if name in TYPED_ATTRIBUTES:
        return Attribute(TYPED_ATTRIBUTES[name])
    if name in PROBE_ATTRIBUTES:
        return Attribute(PROBE_ATTRIBUTES[name])
    return "float"


def typed_array(kind: str, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """A typed probe's tensor: sorted indices with duplicates, every value below the first dimension
    (at most 2),
    a mixed boolean mask, or uniform floats."""
    if kind == "index":
        high, size = (min(shape[0], 2) if shape else 1), math.prod(shape)
        return (np.arange(size) * high // max(size, 1)).reshape(shape).astype(np.int32)
    if kind == "mask":
        return (np.arange(math.prod(shape)) % 2 == 0).reshape(shape)
    return rng.uniform(-0.9, 0.9, shape)


@dataclass
class Library:
    """What discovery needs of a library."""

    namespaces: dict[str, Any]  # public prefix -> module object (patched while recording)
    scope: dict[str, Any]  # globals of docstring examples
    resolve: Callable[[str], Any]
    describe: Callable[[Any], Any]  # a recorded argument as TensorInfo / attribute (see building.py)
    tensor: Callable[[np.ndarray], Any]  # a float64 numpy array as the library's tensor
    floating_leaves: Callable[[Any], bool]  # does a call's output hold a floating tensor?
    finite: Callable[[Any], bool] = field(default=lambda out: True)  # are its floating outputs all finite?
    keyword_only: Callable[[str], bool] = field(default=lambda api: False)  # pass probe arguments by name
    argument_kind: Callable[[str, str, tuple[int, ...]], str | Attribute] = field(default=argument_kind)  # typed probes
    fork_probes: bool = False  # run typed probes in a forked child (a wrong shape may abort the library natively)


@contextlib.contextmanager
def working_directory(path: str) -> Iterator[None]:
    """`contextlib.chdir` of Python 3.11, for the OneFlow environment's Python 3.10."""
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


class Recorder:
    """Stands in for a public function and records its outermost calls."""

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
    def installed(self, namespaces: Sequence[Any]) -> Iterator[None]:
        """Replace the target by the recorder in every namespace that exports it."""
        patched = []
        for module in namespaces:
            for attr in list(dir(module)):
                if getattr(module, attr, None) is self.target:
                    setattr(module, attr, self)
                    patched.append((module, attr))
        try:
            yield
        finally:
            for module, attr in patched:
                setattr(module, attr, self.target)


def example_calls(library: Library, api: str) -> list[tuple[tuple, dict]]:
    """The calls of `api` made by its docstring examples (failing examples skipped)."""
    target = library.resolve(api)
    try:
        examples = doctest.DocTestParser().get_examples(getattr(target, "__doc__", None) or "")
    except ValueError:  # a docstring doctest cannot parse
        return []
    if not examples:
        return []
    scope = dict(library.scope)
    recorder = Recorder(target)
    with tempfile.TemporaryDirectory() as tmp, working_directory(tmp), contextlib.redirect_stdout(io.StringIO()):
        with recorder.installed(list(library.namespaces.values())):
            for example in examples:
                try:
                    with time_limit(EXAMPLE_SECONDS):
                        exec(compile(example.source, f"<{api} example>", "exec"), scope)  # noqa: S102 - the library's own examples
                except (Exception, Timeout):  # noqa: BLE001 - an example that fails records nothing more
                    continue
    return recorder.calls


def _required(fn: Any) -> tuple[list[tuple[str, bool]], bool]:
    """The required parameters (name, keyword-only), and whether the function takes *args."""
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return [], True
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    required = [
        (p.name, p.kind is p.KEYWORD_ONLY) for p in parameters if p.default is inspect.Parameter.empty and p.kind in kinds
    ]
    return required, any(p.kind is p.VAR_POSITIONAL for p in parameters)


def in_domain(values: np.ndarray, domain: str | None) -> np.ndarray:
    """Probe values inside a decoder domain (away from its boundary)."""
    if domain == "positive":
        return np.abs(values) + 0.1
    if domain == "above-one":
        return 1.1 + np.abs(values)
    return values


def probe_calls(library: Library, api: str) -> Iterator[tuple[tuple, dict, str | None]]:
    """Candidate calls of an API (float64 tensors and attributes): args, kwargs and the value domain."""
    required, variadic = _required(library.resolve(api))
    by_name = library.keyword_only(api)
    if variadic and not required:
        arities = [[(f"x{i}", False) for i in range(n)] for n in (1, 2)]
    else:
        arities = [required[:4] or [("x", False)]]
    rng = np.random.default_rng(0)
    for params in arities:
        for shape in PROBE_SHAPES:
            for domain in PROBE_DOMAINS:
                args, kwargs = [], {}
                for name, keyword in params:
                    values = in_domain(rng.uniform(-0.9, 0.9, shape), domain)
                    value = PROBE_ATTRIBUTES[name] if name in PROBE_ATTRIBUTES else library.tensor(values)
                    (kwargs.__setitem__(name, value) if by_name or keyword else args.append(value))
                yield tuple(args), kwargs, domain


def typed_probe_calls(library: Library, api: str) -> Iterator[tuple[tuple, dict, str | None]]:
    """Candidate calls of an API whose required parameters (all of them) take the kinds
    `library.argument_kind` gives, in more shapes than the plain probe (no value domain)."""
    required, _ = _required(library.resolve(api))
    if not required:
        return
    by_name = library.keyword_only(api)
    rng = np.random.default_rng(0)
    for shape in TYPED_SHAPES:
        args, kwargs = [], {}
        for name, keyword in required:
            kind = library.argument_kind(api, name, shape)
            value = kind.value if isinstance(kind, Attribute) else library.tensor(typed_array(kind, shape, rng))
            (kwargs.__setitem__(name, value) if by_name or keyword else args.append(value))
        yield tuple(args), kwargs, None


def _optional_tensors(fn: Any) -> list[tuple[str, bool]]:
    """The parameters defaulting to None that may take a tensor (name, keyword-only)."""
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return []
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    skip = NOT_DATA | PROBE_ATTRIBUTES.keys() | TYPED_ATTRIBUTES.keys()
    optional = [p for p in parameters if p.kind in kinds and p.default is None]
    return [(p.name, p.kind is p.KEYWORD_ONLY) for p in optional if p.name not in skip]


def _changed_value(
    library: Library, api: str, name: str, shape: tuple[int, ...], domain: str | None, change: str, floating: tuple
) -> Any:
    """A changed typed probe's value for one parameter (see `CHANGES`; `floating`: under "named
    integers", the one named parameter that stays floating and whether the others count from 0;
    under "complex", whether in single precision)."""
    rng = np.random.default_rng(sum(map(ord, name)))
    kind = library.argument_kind(api, name, shape)
    if name in CHANGED_ATTRIBUTES:
        return CHANGED_ATTRIBUTES[name]
    if name in NAMED_DATA and change == "named integers" and name != floating[0]:
        counts = np.arange(math.prod(shape)) % (NAMED_DATA[name] + 1) if floating[1] else np.full(shape, NAMED_DATA[name])
        return library.tensor(np.reshape(counts, shape).astype(np.int32))
    values = rng.permutation(np.linspace(*CHANGED_VALUES[domain], math.prod(shape))).reshape(shape)
    if name in NAMED_DATA and change in ("named integers", "named floats"):
        return library.tensor(values)
    if isinstance(kind, Attribute):
        return kind.value
    if kind != "float":
        return library.tensor(typed_array(kind, shape, rng))
    return library.tensor(_complex(values, floating[1]) if change == "complex" else values)


def _complex(values: np.ndarray, single: bool) -> np.ndarray:
    """Complex values from real ones (complex64 with `single`: a library's default output type may be
    single precision, TensorFlow's Real)."""
    return (values * (1 + 0.5j)).astype(np.complex64 if single else np.complex128)


def changed_probe_calls(library: Library, api: str) -> Iterator[list[tuple[tuple, dict, str | None]]]:
    """Typed calls with one change each (`CHANGES`), for an API that no other probe calls, in groups
    of one change, value domain and floating parameter over `CHANGED_SHAPES`; a change that does not
    apply to the API's signature is skipped."""
    fn = library.resolve(api)
    required, variadic = _required(fn)
    optional = _optional_tensors(fn)
    named = [name for name, _ in required if name in NAMED_DATA]
    by_name = library.keyword_only(api)
    floating = {"named integers": [(name, zero) for name in named[::-1] for zero in (True, False)]}  # the last first
    floating["complex"] = [(None, False), (None, True)]  # double precision, then single
    floats = [n for n, _ in required if n not in CHANGED_ATTRIBUTES and library.argument_kind(api, n, (2, 3)) == "float"]
    applies = {"complex": bool(required) or variadic, "named floats": bool(named), "named integers": bool(named),
               "optional tensors": bool(optional), "variadic": variadic, "vector operands": len(floats) > 1,
               "scalar operands": len(floats) > 1}  # fmt: skip
    for change in (c for c in CHANGES if applies[c]):
        params = required + (optional if change == "optional tensors" else [])
        domains = (None,) if change in ("complex", "variadic") else tuple(CHANGED_VALUES)
        for one, domain in itertools.product(floating.get(change, [(None, False)]), domains):
            group = []
            for shape in CHANGED_SHAPES:
                args, kwargs = [], {}
                try:
                    for name, keyword in params:
                        operand = change in OPERAND_SHAPES and name in floats[1:]
                        own = OPERAND_SHAPES[change](shape) if operand else shape
                        value = _changed_value(library, api, name, own, domain, change, one)
                        (kwargs.__setitem__(name, value) if by_name or keyword else args.append(value))
                    if variadic and not by_name and change in ("complex", "variadic"):
                        extra = np.random.default_rng(1).uniform(-0.9, 0.9, (2, *shape))
                        args += [library.tensor(_complex(v, one[1]) if change == "complex" else v) for v in extra]
                except Exception:  # noqa: BLE001 - a tensor the library cannot make (OneFlow's complex ones)
                    continue
                group.append((tuple(args), kwargs, domain))
            yield group


def with_domain(template: dict, domain: str | None) -> dict:
    """The probe's domain on every floating tensor slot (inferred domains replaced)."""
    slots = list(template["args"]) + list(template.get("kwargs", {}).values())
    for slot in slots:
        if isinstance(slot, dict) and "tensor" in slot and "dtype" not in slot:
            slot.pop("domain", None)
            if domain is not None:
                slot["domain"] = domain
    return template


FAILED, FLOATING, FINITE = 0, 1, 2  # what a probe call gave


def run_call(library: Library, fn: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any]) -> int:
    """FINITE when the call returns floating tensors all finite, FLOATING when some are not, FAILED
    when it raises, returns no floating tensor or takes over CALL_SECONDS."""
    try:
        with time_limit(CALL_SECONDS):
            out = fn(*args, **kwargs)
        if not library.floating_leaves(out):
            return FAILED
        return FINITE if library.finite(out) else FLOATING
    except (Exception, Timeout):  # noqa: BLE001 - a probe the API rejects
        return FAILED


def run_forked(library: Library, fn: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any]) -> int:
    """`run_call` in a forked child (its exit status is the answer): a call that aborts the process,
    or hangs, fails."""
    pid = os.fork()
    if pid == 0:
        result = FAILED
        try:
            result = run_call(library, fn, args, kwargs)
        finally:
            os._exit(result)
    deadline = time.monotonic() + CALL_SECONDS
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.WEXITSTATUS(status) if os.WIFEXITED(status) else FAILED
        time.sleep(0.005)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return FAILED


def from_docstrings(builder: CatalogBuilder, library: Library, apis: Sequence[str]) -> None:
    """Offer the recorded docstring calls of every API that has no template yet."""
    for api in apis:
        if not builder.apis.get(api):
            offer_examples(builder, api, example_calls(library, api), library.describe)


def offer_examples(builder: CatalogBuilder, api: str, calls: Sequence[tuple[tuple, dict]], describe: Callable[..., Any]) -> None:
    """Offer an API's recorded example calls; when none is valid, keep their variants with integer
    data as floating (`recorded_variants`) for the `variants` source."""
    for args, kwargs in calls:
        builder.offer(api, recorded(describe, args, kwargs, "docstring"))
    if not builder.apis.get(api):
        variants = [make for args, kwargs in calls for make in recorded_variants(describe, args, kwargs, "docstring")[1:]]
        if variants:
            builder.variants[api] = variants


def from_variants(builder: CatalogBuilder) -> None:
    """Offer the kept example variants of every API that has no template yet (after the probes, so
    an API a probe calls keeps the probe's template)."""
    for api, variants in sorted(builder.variants.items()):
        for make in variants if not builder.apis.get(api) else ():
            builder.offer(api, make)


def from_probes(builder: CatalogBuilder, library: Library, apis: Sequence[str]) -> None:
    """Offer one probe call per argument shape for every API that has no template yet."""
    for api in apis:
        if builder.apis.get(api):
            continue
        fn = library.resolve(api)
        for calls in (probe_calls, typed_probe_calls):
            run = run_forked if calls is typed_probe_calls and library.fork_probes else run_call
            tried: set[tuple] = set()
            for args, kwargs, domain in calls(library, api):
                shapes = tuple(np.shape(a) for a in (*args, *kwargs.values()))
                if builder.covered(api) or shapes in tried or not run(library, fn, args, kwargs):
                    continue
                tried.add(shapes)
                make = recorded(library.describe, args, kwargs, "probe")
                builder.offer(api, lambda make=make, domain=domain: with_domain(make(), domain))
            if builder.apis.get(api):
                break
        if not builder.apis.get(api):
            from_changed_probes(builder, library, api)
        if not builder.apis.get(api):
            builder.failed.setdefault(api, "no probe call succeeded")


def _probe_template(library: Library, args: Sequence[Any], kwargs: dict[str, Any], domain: str | None) -> Callable[[], dict]:
    """A template factory for a probe call, with the probe's value domain."""
    make = recorded(library.describe, args, kwargs, "probe")
    return lambda: with_domain(make(), domain)


def from_changed_probes(builder: CatalogBuilder, library: Library, api: str) -> None:
    """Offer the calls of the first group of `changed_probe_calls` whose calls all keep their outputs
    finite (a value domain the API's docs mean), else of the groups with non-finite outputs."""
    fn = library.resolve(api)
    run = run_forked if library.fork_probes else run_call
    later: list[Callable[[], dict]] = []
    for group in changed_probe_calls(library, api):
        results = [(run(library, fn, args, kwargs), args, kwargs, domain) for args, kwargs, domain in group]
        offers = [_probe_template(library, args, kwargs, domain) for result, args, kwargs, domain in results if result]
        if any(result == FLOATING for result, *_ in results):
            later += offers
            continue
        for offer in offers:
            builder.offer(api, offer)
        if builder.apis.get(api):
            return
    for offer in later:
        builder.offer(api, offer)


def from_manual(builder: CatalogBuilder, templates: dict[str, list[dict]], wanted: Callable[[str], bool]) -> None:
    """Offer hand-written templates (validated in their own dtypes only)."""
    for api in sorted(templates):
        for template in templates[api] if wanted(api) else ():
            builder.offer(api, lambda template=template: {**template, "source": "manual"}, probe_dtypes=False)


def generate(
    builder: CatalogBuilder,
    library: Library,
    names: Sequence[str],
    sources: Sequence[str],
    manual: dict[str, list[dict]],
    wanted: Callable[[str], bool],
    extra: dict[str, Callable[[], None]] | None = None,
) -> dict[str, float]:
    """Run the sources ("manual", "docstring", "probe", "variants", "parameters" and a generator's
    `extra` ones) in order; seconds per source."""
    steps = {
        "manual": lambda: from_manual(builder, manual, wanted),
        "docstring": lambda: from_docstrings(builder, library, names),
        "probe": lambda: from_probes(builder, library, names),
        "variants": lambda: from_variants(builder),
        "parameters": lambda: vary_parameters(
            builder, [a for a in builder.apis if wanted(a)], lambda api: read_parameters(api, library.resolve(api))
        ),
        **(extra or {}),
    }
    timings = {}
    for source in sources:
        start = time.perf_counter()
        steps[source]()
        timings[source] = round(time.perf_counter() - start, 1)
        print(f"{source}: {len(builder.apis)} APIs after {timings[source]} s", file=sys.stderr, flush=True)
    return timings


def generator_main(
    library: str,
    description: str,
    candidates: Callable[[], list[str]],
    run: Callable[..., tuple[CatalogBuilder, dict]],
    default_out: Path,
    default_sources: Sequence[str] = ("manual", "docstring", "probe", "variants", "parameters"),
    skipped: Callable[[], dict[str, str]] = dict,
) -> int:
    """The command line of a generator: --only, --sources, --out, --from-catalog; writes the catalog files.
    `run(names, sources, wanted, start)` generates (`start`: a catalog folder to begin from, or None);
    `skipped()` names the public APIs of the covered namespaces that are not candidates, with the
    reason (written to the failure list, so that every public API is in the catalog or there)."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="comma-separated API names (for tests and debugging)")
    parser.add_argument("--sources", default=",".join(default_sources))
    parser.add_argument("--out", type=Path, default=default_out, help="folder of the catalog files")
    parser.add_argument("--from-catalog", action="store_true", help="begin from the catalog in --out (run later sources only)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # deprecation warnings of probed calls
    only = set(args.only.split(",")) if args.only else None
    names = candidates()
    if only is not None:
        unknown = only - set(names)
        if unknown:
            parser.error(f"not candidate APIs: {', '.join(sorted(unknown))}")
        names = [n for n in names if n in only]
    start = args.out if args.from_catalog else None
    builder, timings = run(names, args.sources.split(","), lambda api: only is None or api in only, start)
    for api, reason in skipped().items():
        builder.failed[api] = reason  # also where an earlier catalog tried it
    args.out.mkdir(parents=True, exist_ok=True)
    registry = write_catalog(args.out, library, builder.apis, builder.failed, builder_extra(builder))
    print(
        f"{library} {builder.backend.version()}: {len(builder.apis)} APIs validated of {len(names)} candidates, "
        f"{sum(map(len, builder.apis.values()))} templates, {len(builder.failed)} failed, registry {len(registry)}; "
        f"seconds by source {timings}",
        file=sys.stderr,
    )
    return 0
