#!/usr/bin/env python3
"""Infer the per-API properties of a library's catalog and write nabla_atheris/catalog/data/LIB.properties.json.

Sources, each recorded with the property it gave:
  opinfo     (torch) OpInfo's gradcheck wrappers (Hermitian or triangular inputs) and its
             supports_forward_ad / supports_gradgrad / supports_fwgrad_bwgrad declarations;
  name       name patterns (nabla_atheris/catalog/inference.py);
  docstring  label arguments given as 1 or -1 (hinge, margin and cosine-embedding losses), values
             documented to lie in [0, 1], matrices documented to be positive definite;
  probe      calls of the API's templates: which triangle of a square matrix it reads, and the
             arguments reverse mode names as not differentiable.
Properties already given by an earlier source are kept (OpInfo first, then names, then probes).

    PYTHONPATH=. .venv/bin/python scripts/infer_properties.py --lib torch [--only API,API]
    PYTHONPATH=. .venv/bin/python scripts/infer_properties.py --lib tf --names

`--names` only brings every catalog API's name-implied properties up to date (seconds, no probing;
any library, from the checked-in catalog): a catalog grown without inferring its new APIs' properties,
or a change of the name patterns, leaves them stale (tests/test_oracle_recall.py checks them).
    PYTHONPATH=. scripts/oneflow-env python scripts/infer_properties.py --lib oneflow
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import inspect
import json
import re
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from nabla_atheris import decoder
from nabla_atheris.backends import get_backend, lookup
from nabla_atheris.case import COMPLEX_DTYPES, FLOAT_DTYPES, Case
from nabla_atheris.catalog import inference as infer
from nabla_atheris.catalog import load_catalog
from nabla_atheris.catalog.properties import NONE, parse_properties
from nabla_atheris.decoder import decode_bytes, seed_bytes
from nabla_atheris.libraries import LIBRARIES, record
from nabla_atheris.projections import random_like, rng_for
from nabla_atheris.rootcause import function_name
from nabla_atheris.vocabulary import FIRST_ORDER_AD, SECOND_ORDER

DATA = Path(__file__).resolve().parents[1] / "nabla_atheris" / "catalog" / "data"
PROBE_SECONDS = 20
FORWARD = ["fwd", "fwd-over-rev", "rev-over-fwd", "fwd-over-fwd"]
DIFFERENTIABLE_DTYPES = FLOAT_DTYPES + COMPLEX_DTYPES


# Ops whose derivative is another op with fewer backward dtypes (tools/autograd/derivatives.yaml:
# "self: grad * at::special_i1(self)"): their second derivatives exist in that op's backward dtypes only.
DERIVATIVE_OPS = {"i0": "special.i1", "special.i0e": "special.i1e"}


def from_opinfo(apis: set[str]) -> dict[str, infer.Properties]:
    """torch: OpInfo's gradcheck wrappers and mode declarations, for every spelling of each op (its
    name, method and aliases, and the catalog's other spellings of the same function). An op that
    has only variants (index_reduce) declares its modes when all its variants agree."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from gen_torch_catalog import opinfo_candidates
    from torch.testing._internal.common_methods_invocations import op_db

    by_function: dict[str, list[str]] = {}
    for api in apis:
        by_function.setdefault(function_name("torch", api), []).append(api)
    variants: dict[str, list[Any]] = {}
    for op in op_db:
        variants.setdefault(op.name, []).append(op)
    out: dict[str, infer.Properties] = {}
    for ops in variants.values():
        plain = [op for op in ops if not op.variant_test_name]
        op = plain[0] if plain else ops[0]
        found: infer.Properties = {"sources": {}}
        if not op.supports_autograd:
            found["unsupported"] = sorted(set(FIRST_ORDER_AD) | set(SECOND_ORDER))
            found["sources"]["unsupported"] = f"opinfo {op.name}: supports_autograd=False"
        else:
            forward = {str(d).removeprefix("torch.") for d in op.supported_dtypes("cpu")} & set(DIFFERENTIABLE_DTYPES)
            backward = {str(d).removeprefix("torch.") for d in op.supported_backward_dtypes("cpu")} & forward
            if plain and forward and not forward & set(COMPLEX_DTYPES) and lacks_complex_kernel(op):
                found["dtypes"] = sorted(forward)
                found["sources"]["dtypes"] = f"opinfo {op.name}: dtypes on the CPU; its complex samples raise 'not implemented'"
            if plain and backward and backward != forward:
                found["derivative_dtypes"] = sorted(backward)
                found["sources"]["derivative_dtypes"] = f"opinfo {op.name}: backward dtypes on the CPU"
            derivative = variants.get(DERIVATIVE_OPS.get(op.name, ""), [None])[0]
            second = {str(d).removeprefix("torch.") for d in derivative.supported_backward_dtypes("cpu")} if derivative else set()
            if plain and second and (backward or forward) - second:
                found["second_order_dtypes"] = sorted(second & (backward or forward))
                source = f"opinfo {derivative.name}: backward dtypes on the CPU, the derivative of {op.name} (derivatives.yaml)"
                found["sources"]["second_order_dtypes"] = source
        # a variant's wrapper (pinv's 'hermitian') holds for its own arguments only
        wrapper = getattr(op.gradcheck_wrapper, "__name__", "") if plain else ""
        if wrapper.startswith("gradcheck_wrapper_hermitian_input"):
            pd = "cholesky" in op.name
            found["structures"] = {"0": "hermitian-pd" if pd else "hermitian"}
            found["sources"]["structures"] = f"opinfo: {wrapper}" + (" (positive-definite samples)" if pd else "")
        elif wrapper.startswith("gradcheck_wrapper_triangular_input"):
            found["structures"] = {"0": "triangular:lower"}  # the wrapper's default: upper=False
            found["sources"]["structures"] = f"opinfo: {wrapper}"
        flags = ("supports_forward_ad", "supports_gradgrad", "supports_fwgrad_bwgrad")
        agree = plain or all(all(getattr(v, f) == getattr(op, f) for f in flags) for v in ops)
        if op.supports_autograd and agree:
            unsupported = set()
            if not op.supports_forward_ad:
                unsupported |= set(FORWARD)
            if not op.supports_gradgrad:
                unsupported |= {"rev-over-rev", "fwd-over-rev"}
            if not op.supports_fwgrad_bwgrad:
                unsupported |= {"fwd-over-rev"}
            if unsupported:
                found["unsupported"] = sorted(unsupported)
                off = [f"{f}=False" for f in flags if not getattr(op, f)]
                found["sources"]["unsupported"] = f"opinfo {op.name}: " + ", ".join(off)
        if len(found) == 1:
            continue
        spellings = {api for api, _ in opinfo_candidates(op) if api in apis}
        spellings |= {other for api in spellings for other in by_function.get(function_name("torch", api), [])}
        for api in spellings:
            infer.merge(out.setdefault(api, {}), found)
    return out


def lacks_complex_kernel(op: Any) -> bool:
    """Whether an OpInfo op has no complex kernel: one of its first complex samples raises 'not
    implemented' (a call that runs anyway, on a 0-d tensor that skips the dtype check, is outside it)."""
    import torch

    try:
        for i, sample in enumerate(op.sample_inputs("cpu", torch.complex128)):
            if i >= 3:
                break
            try:
                op(sample.input, *sample.args, **sample.kwargs)
            except Exception as exc:  # noqa: BLE001 - any refusal of the sample is data
                if "not implemented for 'Complex" in str(exc):
                    return True
    except Exception:  # noqa: BLE001 - no complex samples: nothing to say
        return False
    return False


def from_torch_declarations(apis: list[str]) -> dict[str, infer.Properties]:
    """OneFlow mirrors PyTorch's API: the arguments PyTorch declares parameters or labels, and its
    gradient-cutting and straight-through APIs, hold for the same function in OneFlow. The mirror's
    declaration (oneflow.X: torch.X) first, since positions are those of its signature (torch.batch_norm
    passes the running statistics third and fourth, nn.functional.batch_norm first and second); else
    the first spelling of the same function that declares any, where the catalog has no mirror."""
    torch_properties = json.loads((DATA / "torch.properties.json").read_text())["apis"]
    torch_apis = json.loads((DATA / "torch.json").read_text())["apis"]
    keys = ("nondifferentiable", "labels", "gradient")
    by_function: dict[str, dict] = {}
    for api, spec in torch_properties.items():
        if any(key in spec for key in keys):
            by_function.setdefault(function_name("torch", api), spec)
    out = {}
    for api in apis:
        mirror = "torch" + api.removeprefix("oneflow")
        spec = torch_properties.get(mirror, {}) if mirror in torch_apis else by_function.get(function_name("oneflow", api))
        if not spec:
            continue
        found = {key: spec[key] for key in keys if key in spec}
        if found:
            sources = spec["sources"]
            found["sources"] = {key: f"PyTorch's declaration ({sources.get(key, '')}); OneFlow mirrors its API" for key in found}
            out[api] = found
    return out


def parameter_names(library: str, api: str) -> list[str]:
    """The API's parameter names, from its signature or (torch builtins) its ATen schema."""
    backend_module = importlib.import_module(f"nabla_atheris.backends.{library}_backend")
    if record(library).is_module(api):  # a module class: its inputs, the parameters of `forward` after self
        return list(inspect.signature(module_class(library, api).forward).parameters)[1:]
    try:
        fn = backend_module.resolve(api)
        return list(inspect.signature(fn).parameters)
    except (ValueError, TypeError, KeyError):
        pass
    if library == "torch":
        import torch

        schemas = torch._C._jit_get_schemas_for_operator(f"aten::{api.rsplit('.', 1)[-1]}")
        if schemas:
            names = [a.name for a in schemas[0].arguments]
            return names[1:] if api.startswith("torch.Tensor.") else names
    return []


def module_class(library: str, api: str) -> type:
    """A module API's class (its backend resolves it to the function `module_call` makes of it)."""
    return lookup(importlib.import_module(record(library).import_name), api)


SEE_CLASS = re.compile(r":class:`~?([\w.]+)`")


def docstring(library: str, api: str, spellings: list[str]) -> str:
    """The documentation of an API: its docstring, those of the classes it refers to ("See
    :class:`~torch.nn.HingeEmbeddingLoss` for details") and of its other spellings (the same
    function under another namespace, see rootcause.function_name)."""
    backend_module = importlib.import_module(f"nabla_atheris.backends.{library}_backend")
    texts = []
    for name in [api, *spellings]:
        try:
            described = module_class(library, name) if record(library).is_module(name) else backend_module.resolve(name)
            texts.append(inspect.getdoc(described) or "")
        except (KeyError, AttributeError):
            continue
    for reference in SEE_CLASS.findall("\n".join(texts)):
        try:
            texts.append(inspect.getdoc(lookup(importlib.import_module(reference.split(".")[0]), reference)) or "")
        except (KeyError, ImportError, ValueError):  # a reference to no object of the library
            continue
    return "\n".join(texts)


class Timeout(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise Timeout


def probe(library: str, backend: Any, case: Case) -> infer.Properties:
    """Triangles read and arguments reverse mode refuses, from calls of one case."""
    found: infer.Properties = {"sources": {}}

    def direct(c: Case) -> list[np.ndarray]:
        return backend.bind(c).direct()

    names = parameter_names(library, case.api)
    has_upper = bool({"upper", "lower"} & set(names)) or any(k in ("upper", "lower") for k, _ in case.kwargs)
    for key, tensor in infer.square_matrices(case) if infer.is_linear_algebra(case.api) else []:
        read = infer.triangle_read(direct, case, key, tensor)
        if read is None:
            continue
        if not tensor.differentiable or infer.consistent_in(backend, case, key, tensor, None):
            continue  # AD is right in every direction: the library masks what it does not read
        hermitian = infer.consistent_in(backend, case, key, tensor, "hermitian")
        if not hermitian and not infer.consistent_in(backend, case, key, tensor, read):
            continue  # neither reading makes the library's AD consistent: no declaration to make
        structure = infer.structure_of(case.api, read, hermitian, has_upper)
        found.setdefault("structures", {})[key] = structure
        reading = "Hermitian" if hermitian else "triangular"
        found["sources"]["structures"] = f"probe: only the {read} triangle is read; AD follows a {reading} reading"
    for _ in range(4):  # each refused argument in turn
        try:
            call = backend.bind(case)
            call.vjp(random_like(rng_for(b"u"), call.direct()))
            break
        except Exception as exc:  # noqa: BLE001 - the library's refusal is what is probed
            key = infer.nondifferentiable_argument(str(exc), names, case)
            if key is None or key in found.get("nondifferentiable", []):
                break
            found.setdefault("nondifferentiable", []).append(key)
            said = infer.NOT_DIFFERENTIABLE_ARG.search(str(exc))
            found["sources"]["nondifferentiable"] = f"probe: reverse mode says {said[0] if said else key!r}"
            case = _without_gradient(case, key)
    return found


def _without_gradient(case: Case, key: str) -> Case:
    for k, t in infer.argument_tensors(case):
        if k == key:
            return infer.with_tensor(case, key, dataclasses.replace(t, differentiable=False))
    return case


def probe_cases(catalog: Any, api_id: int, template: int) -> list[Case]:
    """The template's default call, the calls with one string or boolean attribute changed (a
    reduction mode or a flag can decide which arguments are differentiable), and the calls passing
    one optional tensor (a loss's `weight`)."""
    from nabla_atheris.case import Attr
    from nabla_atheris.catalog import AttrSlot, OptionSlot, TensorSlot

    entry = catalog.by_id(api_id)
    base = decode_bytes(seed_bytes(catalog, api_id, template), catalog)
    cases = [base]
    for name, slot in entry.templates[template].kwargs:
        if isinstance(slot, OptionSlot):
            pick = next((i for i, c in enumerate(slot.choices, 1) if isinstance(c, TensorSlot)), None)
            if pick is not None:
                cases.append(decode_bytes(seed_bytes(catalog, api_id, template, {f"option:{name}": pick}), catalog))
    slots = dict(enumerate(entry.templates[template].args)) | dict(entry.templates[template].kwargs)
    for key, slot in slots.items():
        if not isinstance(slot, AttrSlot) or not isinstance(slot.value, (str, bool)):
            continue
        for value in slot.candidates()[1:4]:
            if isinstance(key, int):
                args = tuple(Attr(value) if i == key else a for i, a in enumerate(base.args))
                cases.append(dataclasses.replace(base, args=args))
            else:
                cases.append(dataclasses.replace(base, kwargs=tuple((k, Attr(value) if k == key else a) for k, a in base.kwargs)))
    return cases


def infer_library(
    library: str, state_path: Path, progress: Callable[[str], None], kept: dict[str, infer.Properties] | None = None
) -> dict[str, infer.Properties]:
    """Every API's properties (`kept`: the APIs not to infer again, with their properties); progress
    is saved in `state_path` after each API, so that a run the library aborts (OneFlow's failed
    CHECKs end the process) resumes after the API that aborted it."""
    decoder.properties_of = lambda library, api: NONE  # probe the calls as the templates write them
    catalog, backend = load_catalog(library), get_backend(library)
    apis = sorted(catalog.apis)
    state = json.loads(state_path.read_text()) if state_path.is_file() else {"done": dict(kept or {}), "current": None}
    if state["current"] is not None:
        progress(f"  {state['current']}: not probed (the library aborted the process)")
        state["done"][state["current"]] = infer.from_name(state["current"])
    properties: dict[str, infer.Properties] = state["done"]
    declared = {"torch": lambda: from_opinfo(set(apis)), "oneflow": lambda: from_torch_declarations(apis)}
    opinfo = declared[library]() if library in declared else {}
    signal.signal(signal.SIGALRM, _alarm)
    for number, api in enumerate(apis, 1):
        if api in properties:
            continue
        state_path.write_text(json.dumps({"done": properties, "current": api}))
        found = opinfo.get(api, {})
        infer.merge(found, infer.from_name(api))
        spellings = [other for other in apis if other != api and function_name(library, other) == function_name(library, api)]
        names = parameter_names(library, api) or next(filter(None, (parameter_names(library, o) for o in spellings)), [])
        documentation = docstring(library, api, spellings)
        infer.merge(found, infer.from_docstring(documentation, names, docstring(library, api, [])))
        infer.merge(found, infer.domains_from_docstring(documentation, names))
        infer.merge(found, infer.structures_from_docstring(documentation, names))
        entry = catalog.apis[api]
        for template in range(len(entry.templates)):
            for case in probe_cases(catalog, entry.id, template):
                try:
                    signal.alarm(PROBE_SECONDS)
                    infer.merge(found, probe(library, backend, case))
                except Exception as exc:  # noqa: BLE001 - a call that cannot be probed adds nothing
                    progress(f"  {api} template {template}: not probed ({type(exc).__name__}: {str(exc)[:80]})")
                finally:
                    signal.alarm(0)
        properties[api] = found
        if number % 100 == 0:
            progress(f"{number}/{len(apis)} APIs")
    state_path.write_text(json.dumps({"done": properties, "current": None}))
    return {api: p for api, p in properties.items() if len(p) > 1 or (p and "sources" not in p)}


def run_resuming(argv: list[str], state_path: Path) -> int:
    """Run this script as a child until it completes, restarting it after the library aborts it."""
    for attempt in range(1, 200):
        code = subprocess.call([sys.executable, __file__, *argv, "--state", str(state_path)])
        if code == 0:
            return 0
        print(f"infer_properties: the process ended with {code} (restart {attempt})", file=sys.stderr, flush=True)
    return 1


def refresh_names(library: str, out: Path) -> int:
    """Rewrite LIB.properties.json with every catalog API's name-implied properties made current
    (`inference.with_name_properties`); the number of APIs whose properties changed."""
    path = out / f"{library}.properties.json"
    checked_in = json.loads(path.read_text())["apis"]
    apis = json.loads((out / f"{library}.json").read_text())["apis"]
    properties = {api: spec for api, spec in checked_in.items() if api not in apis}  # kept as they are
    for api in apis:
        spec = infer.with_name_properties(api, checked_in.get(api, {}))
        if spec:
            parse_properties(spec)  # validates
            properties[api] = spec
    path.write_text(json.dumps({"library": library, "apis": dict(sorted(properties.items()))}, indent=1, sort_keys=True) + "\n")
    return sum(properties.get(api) != checked_in.get(api) for api in set(properties) | set(checked_in))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lib", choices=LIBRARIES, required=True)
    parser.add_argument("--out", type=Path, default=DATA)
    parser.add_argument("--only", help="comma-separated APIs to infer again (the others keep their checked-in properties)")
    parser.add_argument("--state", type=Path, help="(internal) progress file of a resuming child")
    parser.add_argument("--names", action="store_true", help="only bring the name-implied properties up to date")
    args = parser.parse_args()
    if args.names:
        print(f"{args.lib}: {refresh_names(args.lib, args.out)} APIs' properties changed")
        return 0
    if args.state is None:
        with tempfile.TemporaryDirectory() as scratch:
            return run_resuming(sys.argv[1:], Path(scratch) / "state.json")
    kept = None
    if args.only:
        only = set(args.only.split(","))
        checked_in = json.loads((args.out / f"{args.lib}.properties.json").read_text())["apis"]
        kept = {api: {} for api in load_catalog(args.lib).apis if api not in only} | {
            api: spec for api, spec in checked_in.items() if api not in only
        }
    properties = infer_library(args.lib, args.state, lambda line: print(line, file=sys.stderr, flush=True), kept)
    for spec in properties.values():
        parse_properties(spec)  # validates
    document = {"library": args.lib, "apis": dict(sorted(properties.items()))}
    path = args.out / f"{args.lib}.properties.json"
    path.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    counts = Counter(key for spec in properties.values() for key in spec if key != "sources")
    print(f"{path}: {len(properties)} APIs with properties: {dict(sorted(counts.items()))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
