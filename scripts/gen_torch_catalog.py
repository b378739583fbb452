#!/usr/bin/env python3
"""Generate the PyTorch catalog from the installed torch (nabla_atheris/catalog/data/torch.{json,registry}).

Candidates are the public functions of the namespaces below and the `torch.nn` module classes (called as
`module_call(torch.nn.X)(*inputs, **options)`, see torch_modes.module_call; their templates are
hand-written). Sources, in order, each only for APIs that still lack templates:
  manual     the hand-written templates of scripts/torch_manual_templates.py (kept first);
  opinfo     OpInfo sample inputs of ops with autograd (`common_methods_invocations.op_db`), for the
             op, its Tensor method and its aliases;
  docstring  the API's runnable docstring examples, run under a TorchFunctionMode that records its calls;
  schema     type-driven probing of the API's ATen schemas (tensors of a few shapes, simple scalars);
  probe      signature-driven probing of the Python signature (discovery.py), for Python functions;
  variants   docstring examples written with integer data, the integers as floating data;
  parameters every parameter a validated domain (nabla_atheris/catalog/parameters.py), its kind
             from the ATen schemas' types.
Every template is validated through the torch backend before it is written (see catalog/building.py).

    PYTHONPATH=. .venv/bin/python scripts/gen_torch_catalog.py [--only API,...] [--out DIR]
        [--sources manual,opinfo,docstring,schema,probe,variants,parameters] [--from-catalog]
"""

from __future__ import annotations

import argparse
import contextlib
import doctest
import inspect
import io
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.overrides import TorchFunctionMode

from nabla_atheris.backends import get_backend
from nabla_atheris.backends.torch_backend import DTYPE_NAMES, is_module
from nabla_atheris.backends.torch_backend import resolve as resolve_api
from nabla_atheris.catalog import discovery
from nabla_atheris.catalog.building import CatalogBuilder, TensorInfo, builder_extra, preload, recorded, time_limit, write_catalog
from nabla_atheris.catalog.parameters import (
    REQUIRED,
    UNKNOWN,
    Check,
    Parameter,
    checker,
    doc_paragraph,
    kind_of,
    module_parameters,
    read_parameters,
    vary_parameters,
)

DATA = Path(__file__).resolve().parents[1] / "nabla_atheris" / "catalog" / "data"
NAMESPACES = {
    "torch": torch,
    "torch.Tensor": torch.Tensor,
    "torch.nn.functional": torch.nn.functional,
    "torch.special": torch.special,
    "torch.linalg": torch.linalg,
    "torch.fft": torch.fft,
    "torch.masked": torch.masked,
}
SUBMODULES = ("nn", "special", "linalg", "fft", "masked")
# Names whose examples or probes touch global state, files or processes.
SKIP_WORDS = ("set_", "save", "load", "seed", "compile", "export", "jit", "cuda", "distributed", "use_deterministic", "hub")
SOURCES = ("manual", "opinfo", "docstring", "schema", "probe", "variants", "parameters")
# Name parts of APIs that sample random numbers or return uninitialized memory: not functions of their
# inputs, so schema probing and signature probing leave them out.
RANDOM_WORDS = ("rand", "bernoulli", "poisson", "binomial", "multinomial", "empty", "resize", "gumbel", "lowrank")
# Constructors: a new tensor from values, documented to copy without autograd history (torch.tensor,
# Tensor.new_tensor) or to take its range as numbers (arange, linspace): no derivative to compare.
CONSTRUCTORS = frozenset({"tensor", "scalar_tensor", "arange", "range", "linspace", "logspace", "new", "new_tensor",
                          "new_ones", "from_dlpack", "sym_sum"})  # fmt: skip
# `torch.nn` module classes that are not candidates, with the reason (the others are, see `module_names`).
MODULE_SKIPS = {
    "Container": "a container of modules", "Module": "a container of modules", "ModuleDict": "a container of modules",
    "ModuleList": "a container of modules", "ParameterDict": "a container of parameters",
    "ParameterList": "a container of parameters", "Sequential": "a container of modules",
    "RNNBase": "a base class", "RNNCellBase": "a base class",
    "TransformerEncoder": "takes a module as an argument (its layer)",
    "TransformerDecoder": "takes a module as an argument (its layer)",
    "DataParallel": "takes a module as an argument; devices", "SyncBatchNorm": "distributed (a process group)",
    "Dropout": "random in training mode, the identity in the evaluation mode modules run in",
    "Dropout1d": "random in training mode, the identity in the evaluation mode modules run in",
    "Dropout2d": "random in training mode, the identity in the evaluation mode modules run in",
    "Dropout3d": "random in training mode, the identity in the evaluation mode modules run in",
    "AlphaDropout": "random in training mode, the identity in the evaluation mode modules run in",
    "FeatureAlphaDropout": "random in training mode, the identity in the evaluation mode modules run in",
    "FractionalMaxPool2d": "random (its pooling regions are sampled at every call)",
    "FractionalMaxPool3d": "random (its pooling regions are sampled at every call)",
}  # fmt: skip
# Candidates without a template, and why (an earlier catalog's templates of them are dropped).
UNPOOLING = "its indices must be a max pool's (one per pooling window): not an integer slot of a template"
LOG_SIMPLEX = (
    "its derivative holds on the log-simplex only (log_probs from log_softmax; OpInfo's gradcheck wrapper projects "
    "there, pytorch/pytorch#52241): no template slot expresses that input space"
)
UNTEMPLATED = {
    "torch.nn.Embedding": "no differentiable input: its only input is an index tensor (the weights are the module's)",
    "torch.nn.MaxUnpool1d": UNPOOLING,
    "torch.nn.MaxUnpool2d": UNPOOLING,
    "torch.nn.MaxUnpool3d": UNPOOLING,
    "torch.nn.CTCLoss": LOG_SIMPLEX,
    "torch.nn.functional.ctc_loss": LOG_SIMPLEX,
    "torch.ctc_loss": LOG_SIMPLEX,
}
SAMPLES_PER_OP = 24
EXAMPLE_SECONDS = 20
PROBE_SHAPES = ((3, 3), (2, 3), (4,), (2, 3, 4), ())


def public_names() -> dict[int, str]:
    """id(callable) -> public dotted name for the differentiable namespaces (in-place variants excluded)."""
    names: dict[int, str] = {}
    for prefix, namespace in NAMESPACES.items():
        for attr in sorted(dir(namespace)):
            if attr.startswith("_") or attr.endswith("_"):
                continue
            obj = getattr(namespace, attr, None)
            if callable(obj) and not isinstance(obj, type):
                names.setdefault(id(obj), f"{prefix}.{attr}")
    return names


def module_classes() -> list[str]:
    """The names of the `torch.nn` module classes."""
    found = [attr for attr in dir(torch.nn) if isinstance(getattr(torch.nn, attr), type)]
    return sorted(f"torch.nn.{a}" for a in found if issubclass(getattr(torch.nn, a), torch.nn.Module))


def module_skip(api: str) -> str | None:
    """Why a `torch.nn` module class is not a candidate, or None."""
    short = api.rsplit(".", 1)[1]
    if short.startswith("Lazy"):
        return "not a candidate: lazily initialized (its weights are drawn at its first call, outside the seeded construction)"
    return f"not a candidate: {MODULE_SKIPS[short]}" if short in MODULE_SKIPS else None


def module_names() -> list[str]:
    """The `torch.nn` module classes that are candidates."""
    return [api for api in module_classes() if module_skip(api) is None]


def skipped() -> dict[str, str]:
    """The public functions of the namespaces and the `torch.nn` module classes that are not candidates
    under any of their names (in-place variants, names of `SKIP_WORDS`, `module_skip`), with the reason."""
    candidates = {key for key, name in public_names().items() if not any(w in name for w in SKIP_WORDS)}
    found = {}
    for prefix, namespace in NAMESPACES.items():
        for attr in sorted(dir(namespace)):
            obj = getattr(namespace, attr, None)
            if attr.startswith("_") or not callable(obj) or isinstance(obj, type) or id(obj) in candidates:
                continue
            word = next((w for w in SKIP_WORDS if w in attr), None)
            why = f"global state, files, processes or compilation ({word!r})" if word else "an in-place variant"
            found[f"{prefix}.{attr}"] = f"not a candidate: {why}"
    return found | {api: str(module_skip(api)) for api in module_classes() if module_skip(api)}


def describe(value: Any) -> Any:
    """A recorded argument in the building module's terms."""
    if isinstance(value, torch.Tensor):
        if value.is_sparse or value.layout != torch.strided or value.dtype not in DTYPE_NAMES:
            raise TypeError("not a dense tensor of a known dtype")
        data = value.detach().cpu()
        data = data.to(torch.float32) if data.dtype in (torch.bfloat16, torch.float16) else data
        return TensorInfo(DTYPE_NAMES[value.dtype], tuple(value.shape), data.resolve_conj().resolve_neg().numpy().copy())
    if isinstance(value, torch.Size):
        return list(value)
    if isinstance(value, (list, tuple)):
        return [describe(v) for v in value]
    return value


def resolve(name: str) -> Any:
    """The callable of a public name, or None."""
    try:
        return resolve_api(name)
    except (KeyError, AttributeError):
        return None


def opinfo_candidates(op: Any) -> list[tuple[str, bool]]:
    """(public API name, called as a Tensor method) for an OpInfo, its method and its aliases."""
    out = []
    for name, method in [(op.name, op.method_variant)] + [(a.name, a.method_variant) for a in op.aliases]:
        if name.startswith("_") or name.endswith("_") or "." in name and name.split(".")[0] not in SUBMODULES:
            continue
        if resolve(f"torch.{name}") is not None:
            out.append((f"torch.{name}", False))
        method_name = getattr(method, "__name__", None)
        if (
            method is not None
            and method_name
            and not method_name.endswith("_")
            and callable(getattr(torch.Tensor, method_name, None))
        ):
            out.append((f"torch.Tensor.{method_name}", True))
    return list(dict.fromkeys(out))


def from_manual(builder: CatalogBuilder, wanted: Callable[[str], bool]) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from torch_manual_templates import APIS

    discovery.from_manual(builder, APIS, wanted)


def from_opinfo(builder: CatalogBuilder, wanted: Callable[[str], bool]) -> None:
    from torch.testing._internal.common_methods_invocations import op_db

    for op in op_db:
        candidates = [(api, m) for api, m in opinfo_candidates(op) if wanted(api) and not builder.covered(api)]
        if not op.supports_autograd or not candidates:
            continue
        supported = op.supported_dtypes("cpu")
        dtype = next((d for d in (torch.float64, torch.float32, torch.complex128) if d in supported), None)
        if dtype is None:
            continue
        torch.manual_seed(0)
        try:
            samples = list(_take(op.sample_inputs("cpu", dtype, requires_grad=False), SAMPLES_PER_OP))
        except Exception as exc:  # noqa: BLE001 - a broken sample generator is a failure of these APIs
            for api, _ in candidates:
                builder.failed.setdefault(api, f"OpInfo samples fail: {type(exc).__name__}")
            continue
        samples.sort(key=_sample_preference)
        for api, _method in candidates:
            for sample in samples:
                builder.offer(api, recorded(describe, (sample.input, *sample.args), dict(sample.kwargs), "opinfo"))


def _sample_preference(sample: Any) -> tuple[bool, bool]:
    """Non-empty samples of a few dozen elements first (stable: ties keep OpInfo's order)."""
    tensors = [t for t in (sample.input, *sample.args, *sample.kwargs.values()) if isinstance(t, torch.Tensor)]
    if isinstance(sample.input, (list, tuple)):
        tensors += [t for t in sample.input if isinstance(t, torch.Tensor)]
    sizes = [t.numel() for t in tensors if t.is_floating_point() or t.is_complex()]
    return any(n == 0 for n in sizes), sum(sizes) > 64


def _take(iterator: Any, n: int) -> Iterator[Any]:
    for i, item in enumerate(iterator):
        if i >= n:
            return
        yield item


class CallRecorder(TorchFunctionMode):
    """Records the calls of one public function (by object identity) made while active."""

    def __init__(self, target: Any) -> None:
        super().__init__()
        self.target = target
        self.calls: list[tuple[tuple, dict]] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is self.target and len(self.calls) < SAMPLES_PER_OP:
            self.calls.append((args, dict(kwargs)))
        return func(*args, **kwargs)


def example_calls(api: str) -> list[tuple[tuple, dict]]:
    """The calls of `api` made by its docstring examples (each example runs on its own; failures skipped)."""
    target = resolve(api)
    try:
        examples = doctest.DocTestParser().get_examples(getattr(target, "__doc__", None) or "")
    except ValueError:  # a docstring doctest cannot parse (inconsistent indentation)
        return []
    if not examples:
        return []
    scope: dict[str, Any] = {"torch": torch, "F": torch.nn.functional, "nn": torch.nn, "np": np, "math": __import__("math")}
    recorder = CallRecorder(target)
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp), contextlib.redirect_stdout(io.StringIO()):
        for example in examples:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    with time_limit(EXAMPLE_SECONDS), recorder:
                        exec(compile(example.source, f"<{api} example>", "exec"), scope)  # noqa: S102 - the library's own examples
                except BaseException as exc:  # noqa: BLE001 - an example that fails records nothing more
                    if isinstance(exc, KeyboardInterrupt):
                        raise
    _restore_globals()
    return recorder.calls


def _restore_globals() -> None:
    torch.set_default_dtype(torch.float32)
    torch.set_default_device(None)
    torch.set_grad_enabled(True)
    torch.set_num_threads(1)


def from_docstrings(builder: CatalogBuilder, apis: list[str]) -> None:
    for api in apis:
        if builder.covered(api) or builder.apis.get(api) or left_out(api):
            continue
        discovery.offer_examples(builder, api, example_calls(api), describe)


def library() -> discovery.Library:
    """PyTorch in the terms of signature probing (index tensors as int64)."""

    def tensor(values: Any) -> torch.Tensor:
        array = np.asarray(values)
        return torch.from_numpy(array.astype(np.int64) if array.dtype.kind == "i" else array)

    def floating(out: Any) -> list[torch.Tensor]:
        leaves = out if isinstance(out, (tuple, list)) else [out]
        return [t for t in leaves if isinstance(t, torch.Tensor) and (t.is_floating_point() or t.is_complex())]

    def finite(out: Any) -> bool:
        return all(bool(torch.isfinite(t).all()) for t in floating(out) if t.layout == torch.strided)

    return discovery.Library(NAMESPACES, {}, resolve, describe, tensor, lambda out: bool(floating(out)), finite, fork_probes=True)


def schema_name(api: str) -> str:
    """The ATen operator name a public API dispatches to by convention."""
    prefix, _, short = api.rpartition(".")
    return {"torch.special": "special_", "torch.linalg": "linalg_", "torch.fft": "fft_"}.get(prefix, "") + short


def probe_arguments(schema: Any, shape: tuple[int, ...], method: bool) -> tuple[list, dict] | None:
    """Arguments for a schema: float64 tensors of `shape` (index-named ones: int64 indices within the
    first dimension, sorted, with duplicates), simple scalars and lists, None for an optional argument
    without a default; None if a required type is unknown."""
    rng = np.random.default_rng(0)

    def tensor() -> torch.Tensor:
        return torch.from_numpy(rng.uniform(-0.9, 0.9, size=shape))

    simple = {"Tensor": tensor, "number": lambda: 2, "float": lambda: 0.5, "int": lambda: 1, "bool": lambda: False}
    simple |= {"List[Tensor]": lambda: [tensor(), tensor()], "List[int]": lambda: [1], "SymInt": lambda: 1}
    if any(getattr(argument.alias_info, "is_write", False) or argument.name == "out" for argument in schema.arguments):
        return None  # out= and in-place overloads
    args, kwargs = [], {}
    for argument in schema.arguments:
        kind = str(argument.type)
        if argument.has_default_value() or kind.startswith("Optional[") and argument.kwarg_only:
            continue
        if kind.startswith("Optional["):
            value = None
        elif kind == "Tensor" and argument.name in discovery.INDEX_NAMES:
            value = torch.from_numpy(discovery.typed_array("index", shape, rng)).long()
        elif kind in simple:
            value = simple[kind]()
        else:
            return None
        (kwargs.__setitem__(argument.name, value) if argument.kwarg_only else args.append(value))
    if method and (not args or not isinstance(args[0], torch.Tensor)):
        return None
    return args, kwargs


@cache
def schemas() -> dict[str, list[Any]]:
    """ATen schemas by operator name (without overload)."""
    found: dict[str, list[Any]] = {}
    for schema in torch._C._jit_get_all_schemas():
        if schema.name.startswith("aten::"):
            found.setdefault(schema.name[len("aten::") :], []).append(schema)
    return found


def left_out(api: str) -> str | None:
    """Why probing and examples leave an API out (by its name): it samples random numbers, returns
    uninitialized memory or constructs a tensor; None otherwise."""
    short = api.rsplit(".", 1)[1]
    if any(part.startswith(RANDOM_WORDS) for part in short.split("_")) and not short.endswith("_loss"):
        return "random or uninitialized output (not probed)"
    return "a constructor (not probed)" if short in CONSTRUCTORS else None


def from_schemas(builder: CatalogBuilder, apis: list[str]) -> None:
    for api in apis:
        if builder.apis.get(api):
            continue
        if left_out(api):
            builder.failed.setdefault(api, str(left_out(api)))
            continue
        method = api.startswith("torch.Tensor.")
        fn = resolve(api)
        for schema in sorted(schemas().get(schema_name(api), ()), key=lambda s: s.overload_name):
            for shape in PROBE_SHAPES:
                probe = probe_arguments(schema, shape, method)
                if probe is None or builder.covered(api):
                    break
                args, kwargs = probe
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        fn(*args, **kwargs)
                except Exception:  # noqa: BLE001 - a probe the API rejects
                    continue
                builder.offer(api, recorded(describe, tuple(args), kwargs, "schema"))
        if not builder.apis.get(api):
            reason = "no schema probe succeeded" if schemas().get(schema_name(api)) else "no ATen schema to probe"
            builder.failed.setdefault(api, reason)


def _reads_tensors(schema: Any) -> bool:
    """An overload of tensors that writes none (not out=, in-place or a scalar overload)."""
    arguments = schema.arguments
    writes = any(getattr(a.alias_info, "is_write", False) for a in arguments)
    return any("Tensor" in str(a.type) for a in arguments) and not writes


def parameters(api: str) -> list[Parameter]:
    """An API's parameters: its Python signature where it has one (types from the ATen schemas),
    else the union of its ATen overloads (out= and in-place overloads left out): a parameter some
    overload lacks or defaults is optional."""
    if is_module(api):
        return module_parameters(api, getattr(torch.nn, api.rsplit(".", 1)[1]))
    fn = resolve(api)
    overloads = [s for s in schemas().get(schema_name(api), ()) if _reads_tensors(s)]
    types = {a.name: str(a.type) for s in overloads for a in s.arguments}
    try:
        inspect.signature(fn)
        return read_parameters(api, fn, types)
    except (TypeError, ValueError):
        if not overloads:
            return read_parameters(api, fn, types)
    doc = inspect.getdoc(fn) or ""
    merged: dict[str, Parameter] = {}
    for schema in overloads:
        for a in schema.arguments:
            optional = a.default_value is not None or str(a.type).startswith("Optional")
            default = a.default_value if a.default_value is not None else (None if optional else REQUIRED)
            if a.name in merged and merged[a.name].default != REQUIRED:
                continue
            paragraph = doc_paragraph(doc, "input" if a.name == "self" else a.name)
            merged[a.name] = Parameter(a.name, kind_of(a.name, default, str(a.type)), default, not a.kwarg_only, True, paragraph)
    everywhere = set.intersection(*({a.name for a in s.arguments} for s in overloads))
    return [p if p.name in everywhere or p.default != REQUIRED else Parameter(p.name, p.kind, UNKNOWN, p.positional, True, p.doc)
            for p in merged.values()]  # fmt: skip


def generate(only: set[str] | None, sources: Sequence[str], start: Path | None = None) -> tuple[CatalogBuilder, dict[str, float]]:
    """Run the sources in order (from the catalog in `start`, if given); the builder holds the
    validated templates and the failures."""
    backend = get_backend("torch")
    builder = CatalogBuilder("torch", backend)
    if start is not None:
        preload(builder, start)
    candidates = sorted(n for n in public_names().values() if not any(w in n for w in SKIP_WORDS))
    modules = module_names()
    if only is not None:
        candidates, modules = [n for n in candidates if n in only], [n for n in modules if n in only]
    wanted = (lambda api: True) if only is None else (lambda api: api in only)
    timings = {}

    def isolated(api: str) -> Check:
        return checker("torch", api, backend, isolated=True)  # a value may crash torch natively

    steps = {
        "manual": lambda: from_manual(builder, wanted),
        "opinfo": lambda: from_opinfo(builder, wanted),
        "docstring": lambda: from_docstrings(builder, candidates),
        "schema": lambda: from_schemas(builder, candidates),
        "probe": lambda: discovery.from_probes(builder, library(), [a for a in candidates if not left_out(a)]),
        "variants": lambda: discovery.from_variants(builder),
        "parameters": lambda: vary_parameters(builder, [a for a in builder.apis if wanted(a)], parameters, make_check=isolated),
    }
    for source in sources:
        start = time.perf_counter()
        steps[source]()
        timings[source] = round(time.perf_counter() - start, 1)
        print(f"{source}: {len(builder.apis)} APIs after {timings[source]} s", file=sys.stderr, flush=True)
    for api in [*candidates, *modules]:
        if api in UNTEMPLATED:
            for entries in (builder.apis, builder.parameters, builder.dropped):
                entries.pop(api, None)
            builder.failed[api] = UNTEMPLATED[api]
        elif api in modules and not builder.apis.get(api):
            builder.failed.setdefault(api, "no hand-written template")
    return builder, timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="comma-separated API names (for tests and debugging)")
    parser.add_argument("--sources", default=",".join(SOURCES))
    parser.add_argument("--out", type=Path, default=DATA, help="folder of the catalog files")
    parser.add_argument("--from-catalog", action="store_true", help="begin from the catalog in --out (run later sources only)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # deprecation and experimental-dtype warnings of probed calls
    only = set(args.only.split(",")) if args.only else None
    builder, timings = generate(only, args.sources.split(","), args.out if args.from_catalog else None)
    for api, reason in skipped().items():
        builder.failed[api] = reason  # also where an earlier catalog tried it
    args.out.mkdir(parents=True, exist_ok=True)
    registry = write_catalog(args.out, "torch", builder.apis, builder.failed, builder_extra(builder))
    print(
        f"torch {torch.__version__}: {len(builder.apis)} APIs validated, {sum(map(len, builder.apis.values()))} templates, "
        f"{len(builder.failed)} failed, registry {len(registry)}; seconds by source {timings}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
