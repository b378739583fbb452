#!/usr/bin/env python3
"""Generate the OneFlow catalog from the installed oneflow (nabla_atheris/catalog/data/oneflow.{json,registry}).

Runs in the OneFlow environment (Python 3.10): `scripts/oneflow-env python scripts/gen_oneflow_catalog.py`.
Candidates are the public functions of `oneflow`, `oneflow.nn.functional`, `oneflow.linalg`, the
methods of `oneflow.Tensor` and the `oneflow.nn` module classes (each object under its first name).
Sources, in order, each only for APIs that still lack templates:
  manual     the hand-written templates of scripts/oneflow_manual_templates.py (nn modules);
  torch      PyTorch's checked-in templates (catalog/data/torch.json and torch_manual_templates.py),
             mapped by name (OneFlow mirrors PyTorch's API: torch.X -> oneflow.X, torch.special.X ->
             oneflow.X, torch.Tensor.X -> oneflow.Tensor.X, ...), revalidated on OneFlow;
  docstring  the API's runnable docstring examples (see nabla_atheris/catalog/discovery.py);
  probe      signature-driven calls (discovery.py);
  parameters every parameter a validated domain (nabla_atheris/catalog/parameters.py).

    scripts/oneflow-env python scripts/gen_oneflow_catalog.py [--only API,...] [--out DIR]
        [--sources manual,torch,docstring,probe,parameters] [--from-catalog]
"""

from __future__ import annotations

import faulthandler
import inspect
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nabla_atheris.backends import get_backend, lookup
from nabla_atheris.backends.oneflow_backend import DTYPE_NAMES, flow, is_module, resolve
from nabla_atheris.catalog import discovery
from nabla_atheris.catalog.building import CatalogBuilder, TensorInfo, Unrepresentable, preload
from nabla_atheris.catalog.parameters import (
    ABORTED,
    Check,
    Parameter,
    checker,
    module_parameters,
    read_parameters,
    vary_parameters,
)

SCRIPTS = Path(__file__).resolve().parent
DATA = SCRIPTS.parent / "nabla_atheris" / "catalog" / "data"
# Names (substrings) that touch files, devices, randomness, global state or distribution.
SKIP_WORDS = (
    "save", "load", "seed", "set_", "cuda", "device", "global", "to_local", "distributed", "comm", "sbp", "placement",
    "boxing", "rand", "bernoulli", "multinomial", "empty", "from_numpy", "as_tensor", "numpy", "register", "hook",
    "backward", "requires_grad", "pin_memory", "is_", "profile", "manual", "Reader", "Decoder", "Observer",
    "Quantization", "Qat", "FusedMLP", "Distributed", "CropMirror", "CoinFlip", "AllReduce", "Module",
    "Parameter", "Sequential", "RNNBase", "RNNCellBase", "MaxUnpool", "Embedding", "CTCLoss", "SyncBatchNorm",
    "storage", "data_ptr", "offload", "new_", "check_", "fused_", "one_embedding", "dropout", "Dropout",
)  # fmt: skip
# Exact names: constructors, conversions to integer or boolean dtypes and introspection (no differentiable
# call). The floating conversions (double, float, half, bfloat16, to, type_as, cpu, contiguous) are candidates.
SKIP_NAMES = {
    "zeros", "ones", "full", "arange", "linspace", "logspace", "eye", "tensor", "Tensor", "normal", "grad", "fill",
    "copy", "int", "long", "bool", "byte", "char", "item", "tolist", "element_size", "nelement", "numel", "dim",
    "ndimension", "size", "stride", "get_device", "detach", "clone_", "local_to_global", "to_global", "to_consistent",
    "zero_", "uniform_", "type",
}  # fmt: skip
# Calls that end the process (a failed CHECK aborts instead of raising) on the values a template or
# the decoder gives: validated templates would crash every campaign on its first pass.
ABORTS = {
    "oneflow.nn.BCELoss": "aborts the process on inputs outside [0, 1] (binary_cross_entropy_kernel.cpp CHECK)",
    "oneflow.nn.functional.binary_cross_entropy": "aborts the process on inputs outside [0, 1] (CHECK)",
}
MAX_RESTARTS = 200
HANG_SECONDS = 60  # seconds a parameter value's call may take before the watchdog ends the process (exit 1)
SOURCES = ("manual", "torch", "docstring", "probe", "parameters")
TORCH_PREFIXES = {
    "torch.Tensor.": "oneflow.Tensor.",
    "torch.nn.functional.": "oneflow.nn.functional.",
    "torch.linalg.": "oneflow.linalg.",
    "torch.special.": "oneflow.",
    "torch.": "oneflow.",
}


def namespaces() -> dict[str, Any]:
    functional, linalg = flow.nn.functional, flow.linalg
    return {"oneflow": flow, "oneflow.nn.functional": functional, "oneflow.linalg": linalg, "oneflow.Tensor": flow.Tensor}


def public_names() -> list[str]:
    """The candidate API names, each object under its first name."""
    names: dict[int, str] = {}
    for prefix, namespace in namespaces().items():
        for attr in sorted(dir(namespace)):
            if attr.startswith("_") or attr.endswith("_") or attr in SKIP_NAMES or any(word in attr for word in SKIP_WORDS):
                continue
            obj = getattr(namespace, attr, None)
            if callable(obj) and not isinstance(obj, type) and not inspect.ismodule(obj):
                names.setdefault(id(obj), f"{prefix}.{attr}")
    modules = [
        f"oneflow.nn.{attr}"
        for attr in sorted(dir(flow.nn))
        if isinstance(getattr(flow.nn, attr), type)
        and issubclass(getattr(flow.nn, attr), flow.nn.Module)
        and not any(word in attr for word in SKIP_WORDS)
    ]
    return sorted(set(names.values()) | set(modules))


def skipped() -> dict[str, str]:
    """The public functions and nn modules that are not candidates under any of their names, with the reason."""
    candidates = {id(lookup(flow, name)) for name in public_names()}
    found: dict[str, str] = {}
    for prefix, namespace in namespaces().items():
        for attr in sorted(dir(namespace)):
            obj = getattr(namespace, attr, None)
            function = callable(obj) and not isinstance(obj, type) and not inspect.ismodule(obj)
            if function and not attr.startswith("_") and id(obj) not in candidates:
                found[f"{prefix}.{attr}"] = skip_reason(attr)
    for attr in sorted(dir(flow.nn)):
        obj = getattr(flow.nn, attr)
        if isinstance(obj, type) and issubclass(obj, flow.nn.Module) and id(obj) not in candidates:
            found[f"oneflow.nn.{attr}"] = skip_reason(attr)
    return found


def skip_reason(attr: str) -> str:
    """Why a public name is not a candidate."""
    if attr.endswith("_"):
        return "not a candidate: an in-place variant"
    if attr in SKIP_NAMES:
        return "not a candidate: a constructor, a conversion to an integer or boolean dtype, or introspection"
    word = next((w for w in SKIP_WORDS if w in attr), "")
    return f"not a candidate: files, devices, randomness, global state or distribution ({word!r})"


def describe(value: Any) -> Any:
    """A recorded argument in the building module's terms."""
    if isinstance(value, flow.Tensor):
        if value.dtype not in DTYPE_NAMES:
            raise Unrepresentable(f"a tensor of dtype {value.dtype}")
        data = value.detach()
        data = data.to(flow.float32) if data.dtype in (flow.float16, flow.bfloat16) else data
        return TensorInfo(DTYPE_NAMES[value.dtype], tuple(value.shape), np.array(data.numpy()))
    if isinstance(value, flow.Size):
        return list(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [describe(v) for v in value]
    if isinstance(value, (np.ndarray, flow.dtype)) or isinstance(value, type):
        raise Unrepresentable(f"an argument of type {type(value).__name__}")
    return value


def floating_leaves(out: Any) -> bool:
    if isinstance(out, flow.Tensor):
        return out.is_floating_point()
    return isinstance(out, (tuple, list)) and any(floating_leaves(o) for o in out)


def finite(out: Any) -> bool:
    if isinstance(out, flow.Tensor):
        return not out.is_floating_point() or bool(np.isfinite(out.numpy()).all())
    return not isinstance(out, (tuple, list)) or all(finite(o) for o in out)


def library() -> discovery.Library:
    """OneFlow in the terms of catalog discovery."""
    scope = {"flow": flow, "oneflow": flow, "np": np, "nn": flow.nn, "F": flow.nn.functional, "math": __import__("math")}
    return discovery.Library(namespaces(), scope, resolve, describe, flow.tensor, floating_leaves, finite)


def torch_name(api: str) -> list[str]:
    """The PyTorch names whose templates an OneFlow API may take (`oneflow.nn.X` module: `torch.nn.X`)."""
    if is_module(api):
        return ["torch.nn." + api.rsplit(".", 1)[1]]
    out = []
    for torch_prefix, prefix in TORCH_PREFIXES.items():
        if api.startswith(prefix) and not (prefix == "oneflow." and api.count(".") > 1):
            out.append(torch_prefix + api[len(prefix) :])
    return out


def torch_templates() -> dict[str, list[dict]]:
    """PyTorch's checked-in catalog and hand-written templates, by PyTorch name."""
    sys.path.insert(0, str(SCRIPTS))
    from torch_manual_templates import APIS

    document = json.loads((DATA / "torch.json").read_text())
    merged = {name: list(templates) for name, templates in APIS.items()}
    for name, templates in document["apis"].items():
        merged.setdefault(name, []).extend(templates)
    return merged


def without_domains(template: dict) -> dict:
    """A PyTorch template without what PyTorch's parameter step added (OneFlow validates its own)."""

    def plain(slot: Any) -> Any:
        return {k: v for k, v in slot.items() if k != "validated"} if isinstance(slot, dict) else slot

    kwargs = {k: plain(v) for k, v in template.get("kwargs", {}).items() if not (isinstance(v, dict) and "optional" in v)}
    out = {**template, "args": [plain(a) for a in template["args"]], "kwargs": kwargs}
    return out if kwargs else {k: v for k, v in out.items() if k != "kwargs"}


def from_torch(builder: CatalogBuilder, names: Sequence[str]) -> None:
    """Offer PyTorch's templates under OneFlow's names, in float64 first (the other dtypes are probed);
    an nn module's only when it has no hand-written template."""
    templates = torch_templates()
    for api in names:
        if builder.covered(api) or (is_module(api) and builder.apis.get(api)):
            continue
        for name in torch_name(api):
            for template in templates.get(name, ()):
                real = [d for d in template.get("dtypes", ("float64",)) if not d.startswith("complex")]
                if real:
                    source = f"torch-{template.get('source', 'manual')}"
                    offered = {**without_domains(template), "dtypes": ["float64"], "source": source}
                    builder.offer(api, lambda offered=offered: offered)


def known_aborts() -> set[tuple[str, str]]:
    """The parameter values the checked-in catalog records as ending the process (not called again)."""
    path = DATA / "oneflow.json"
    dropped = json.loads(path.read_text()).get("dropped", {}) if path.is_file() else {}
    return {(api, key) for api, values in dropped.items() for key, reason in values.items() if reason == ABORTED}


class ResumableBuilder(CatalogBuilder):
    """A builder that survives OneFlow's aborts (a failed CHECK ends the process instead of raising).

    With ONEFLOW_CATALOG_STATE=FILE it saves its templates, failures, parameter statuses and the
    (source, API) pairs it finished to FILE whenever it moves to another API, and marks the API in
    progress there. It notes each template it offers (FILE.offer: source, API and the offer's number
    within them, deterministic): a rerun skips that template ("aborts the process" unless another
    one validates) and works on the API again; an abort outside an offer (a probe call) records the
    API that was in progress as failed and goes on with the next one. In the parameter step it
    notes each value before its call (FILE.value; after waiting for the previous value's kernels, which run asynchronously)
    and arms a watchdog (a call that hangs ends the process, exit 1): a rerun drops that value
    ("aborts the process") and validates the API again; values the checked-in catalog records so
    are dropped without a call. `main` reruns the
    generator until it ends normally. APIs of ABORTS are skipped.
    """

    def __init__(self, library: str, backend: Any) -> None:
        super().__init__(library, backend)
        self.path = os.environ.get("ONEFLOW_CATALOG_STATE")
        self.done: set[tuple[str, str]] = set()
        self.current: tuple[str, str] | None = None
        self.source = ""
        self.aborted = known_aborts()  # (API, "parameter=value") whose call ends the process
        self.offers: dict[tuple[str, str], int] = {}  # (source, API) -> templates offered in this run
        self.aborted_offers: set[tuple[str, str, int]] = set()  # (source, API, offer number) that ended the process
        if self.path and os.path.isfile(self.path):
            state = json.loads(Path(self.path).read_text())
            self.apis, self.failed = state["apis"], state["failed"]
            self.parameters, self.dropped = state["parameters"], state["dropped"]
            self.done = {tuple(pair) for pair in state["done"]}  # type: ignore[misc]
            self.aborted = {tuple(pair) for pair in state["aborted"]}  # type: ignore[misc]
            self.aborted_offers = {tuple(offer) for offer in state["aborted_offers"]}  # type: ignore[misc]
            value, offer = Path(self.path + ".value"), Path(self.path + ".offer")
            if value.is_file():  # a value's call ended the process: drop it, validate its API again
                self.aborted.add(tuple(json.loads(value.read_text())))  # type: ignore[arg-type]
                value.unlink()
                self.save(state.get("current"))
            elif offer.is_file():  # an offered template ended the process: skip it, work on its API again
                self.aborted_offers.add(tuple(json.loads(offer.read_text())))  # type: ignore[arg-type]
                offer.unlink()
                self.save(state.get("current"))
            elif state.get("current"):
                source, api = state["current"]
                self.done.add((source, api))
                if not self.apis.get(api):
                    self.failed[api] = f"aborts the process ({source} template)"

    def pending(self, source: str, names: Sequence[str]) -> list[str]:
        """The APIs of `names` not yet finished in `source` (which becomes the current source)."""
        self.source = source
        return [n for n in names if (source, n) not in self.done]

    def start(self, api: str) -> None:
        """Note that `api` is being worked on (saving the state when it changes)."""
        pair = (self.source, api)
        if pair == self.current:
            return
        if self.current is not None:
            self.done.add(self.current)
        self.current = pair
        self.save(list(pair))

    def save(self, current: list[str] | None) -> None:
        if self.path:
            state = {"apis": self.apis, "failed": self.failed, "parameters": self.parameters, "dropped": self.dropped}
            state |= {"done": sorted(self.done), "current": current, "aborted": sorted(self.aborted)}
            state["aborted_offers"] = sorted(self.aborted_offers)
            Path(self.path).write_text(json.dumps(state))

    def check(self, api: str) -> Check:
        """In-process validation of an API's values (forking a process that ran OneFlow deadlocks)
        that notes each value first and drops the ones that ended the process before."""

        def on_value(key: str) -> None:
            flow._oneflow_internal.eager.Sync()  # a kernel runs asynchronously: its CHECK fails here, under the previous value
            if self.path:
                Path(self.path + ".value").write_text(json.dumps([api, key]))
            faulthandler.dump_traceback_later(HANG_SECONDS, exit=True)  # a watchdog thread ends a call that hangs

        aborted = frozenset(key for name, key in self.aborted if name == api)
        return checker("oneflow", api, self.backend, on_value=on_value, aborted=aborted)

    def offer(self, api: str, make_template: Callable[[], dict], probe_dtypes: bool = True) -> bool:
        """Offer a template unless an earlier run's offer of it ended the process, noting it first."""
        if api in ABORTS:
            self.failed[api] = ABORTS[api]
            return False
        self.start(api)
        key = (self.source, api)
        self.offers[key] = number = self.offers.get(key, 0) + 1
        if (*key, number) in self.aborted_offers:
            self.failed.setdefault(api, f"aborts the process ({self.source or 'manual'} template)")
            return False
        marker = Path(f"{self.path}.offer") if self.path else None
        if marker is not None:
            marker.write_text(json.dumps([*key, number]))
        added = super().offer(api, make_template, probe_dtypes)
        flow._oneflow_internal.eager.Sync()  # a kernel's CHECK fails here, under this offer
        if marker is not None:
            marker.unlink()
        return added


def parameters(api: str) -> list[Parameter]:
    """An API's parameters; an nn module's are its input and its constructor's (keyword) parameters."""
    return module_parameters(api, lookup(flow, api)) if is_module(api) else read_parameters(api, resolve(api))


def generate(
    names: list[str], sources: Sequence[str], wanted: Callable[[str], bool], start: Path | None = None
) -> tuple[CatalogBuilder, dict]:
    """Run the sources in order (from the catalog in `start`, if given and not resuming); the builder
    holds the validated templates and the failures."""
    sys.path.insert(0, str(SCRIPTS))
    from oneflow_manual_templates import APIS

    builder = ResumableBuilder("oneflow", get_backend("oneflow"))
    if start is not None and not builder.done:
        preload(builder, start)
        for name in names:  # generated again: the earlier run's reason is stale
            builder.failed.pop(name, None)
    lib = library()
    resolve_api = lib.resolve
    lib.resolve = lambda api: (builder.start(api), resolve_api(api))[1]  # docstring and probe resolve first
    functions = [n for n in names if not is_module(n)]

    def pending_parameters() -> list[str]:
        return [a for a in builder.pending("parameters", sorted(builder.apis)) if wanted(a)]

    extra = {
        "torch": lambda: from_torch(builder, builder.pending("torch", names)),
        "docstring": lambda: discovery.from_docstrings(builder, lib, builder.pending("docstring", functions)),
        "probe": lambda: discovery.from_probes(builder, lib, builder.pending("probe", functions)),
        "parameters": lambda: vary_parameters(builder, pending_parameters(), parameters, builder.start, builder.check),
    }
    timings = discovery.generate(builder, lib, functions, sources, APIS, wanted, extra)
    faulthandler.cancel_dump_traceback_later()
    if builder.path:
        Path(f"{builder.path}.value").unlink(missing_ok=True)
    for name in names:
        if is_module(name) and name not in builder.apis:
            builder.failed.setdefault(name, "no hand-written template")
    return builder, timings


def main() -> int:
    """Rerun the generator in a child process, resuming from its saved state, until it ends normally."""
    if os.environ.get("ONEFLOW_CATALOG_STATE"):
        return discovery.generator_main("oneflow", __doc__, public_names, generate, DATA, SOURCES, skipped)
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, ONEFLOW_CATALOG_STATE=str(Path(tmp) / "state.json"))
        for attempt in range(1, MAX_RESTARTS + 1):
            code = subprocess.call([sys.executable, __file__, *sys.argv[1:]], env=env)
            hung = code == 1 and Path(env["ONEFLOW_CATALOG_STATE"] + ".value").is_file()  # the watchdog ended a call
            if code >= 0 and code != 134 and not hung:
                return code
            print(f"gen_oneflow_catalog: the process aborted (restart {attempt})", file=sys.stderr, flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
