#!/usr/bin/env python3
"""A library's reach: validated APIs, the share of (API, parameter) pairs whose value the fuzzer
varies (from the catalog's parameter statuses), and the valid-call rate of random inputs (decoded,
bound and called directly, as the oracle's first stage does: an error, a static-contract
violation, a native crash or a hang is an invalid call; the calls run in worker processes). Random inputs
are random bytes of a seed's length plus `--extra` bytes. `--corpus DIR` (a campaign's corpus
folder, e.g. of a 10-minute `fuzz` run) adds the value regimes its inputs hit: the share of inputs
with a floating tensor holding each of `palette.VALUE_REGIMES` (decoded as the harness decodes
them). "failed" counts the APIs the generator tried and could not validate, "not_candidates" the
public APIs it does not try (files, randomness, global state, in-place variants ...). `--data DIR`
reads the catalog from another folder; `--before DIR` measures an older catalog's folder too, for a
side-by-side figure; `--out FILE` writes the figures as JSON (bench/reach/LIB.json) and rewrites
BENCHMARKS.md's reach table (scripts/bench.py's `reach_table`) with them; without `--before`, the
file's earlier "before" figures stay.

    PYTHONPATH=. .venv/bin/python scripts/reach.py torch [--samples 2000] [--corpus DIR] [--data DIR] [--before DIR]
        [--out FILE]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nabla_atheris.backends import get_backend  # noqa: E402
from nabla_atheris.case import Arg, Attr, Tensor, TensorList, is_floating  # noqa: E402
from nabla_atheris.catalog import Catalog, ListSlot, OptionSlot, Slot, TensorSlot, build_catalog, catalog_document  # noqa: E402
from nabla_atheris.catalog.parameters import read_parameters, share_varied, status  # noqa: E402
from nabla_atheris.decoder import decode_bytes, seed_bytes  # noqa: E402
from nabla_atheris.palette import VALUE_REGIMES, value_regimes  # noqa: E402

HANG_SECONDS = 120  # a worker this long on one input is killed
NOT_CANDIDATE = "not a candidate"  # the failure list's reason for a public API the generator does not try


def load(library: str, data: Path | None) -> tuple[Catalog, dict]:
    """A catalog and its document, from the package or a folder."""
    if data is None:
        registry, document = catalog_document(library)
    else:
        registry = (data / f"{library}.registry").read_text().split()
        document = json.loads((data / f"{library}.json").read_text())
    return build_catalog(library, registry, document["apis"]), document


def statuses(library: str, document: dict) -> dict[str, dict[str, str]]:
    """The parameter statuses of a catalog written before the parameter step, judged against today's
    signatures (the library's generator reads them)."""
    spec = importlib.util.spec_from_file_location(f"gen_{library}_catalog", ROOT / "scripts" / f"gen_{library}_catalog.py")
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    reader = getattr(generator, "parameters", None) or (lambda api: read_parameters(api, generator.resolve(api)))
    out = {}
    for api, templates in document["apis"].items():
        try:
            out[api] = status(templates, reader(api))
        except Exception:  # noqa: BLE001 - a signature that cannot be read: the templates' slots only
            out[api] = status(templates, [])
    return out


def valid_call(case: Any, backend: Any) -> bool:
    """Does the case's direct call run, within the backend's static contract?"""
    try:
        call = backend.bind(case)
        call.direct()
        return backend.contract_violation(call) is None
    except Exception:  # noqa: BLE001 - any error is an invalid call
        return False


def sample(index: int, seeds: list[bytes], extra: int) -> bytes:
    """The random input number `index` (the same in every worker)."""
    rng = random.Random(index)
    return rng.randbytes(len(rng.choice(seeds)) + extra)


def work(library: str, samples: int, extra: int, data: Path | None, state_path: Path) -> None:
    """Check inputs from the state file's next index on, saving the state before and after each: a
    native crash ends this worker, and the next one counts the input it died on as invalid."""
    catalog, _ = load(library, data)
    backend = get_backend(library)
    seeds = [seed_bytes(catalog, e.id, i) for e in catalog.apis.values() for i in range(len(e.templates))]
    state = json.loads(state_path.read_text())
    if state.pop("running", None) is not None:
        state["index"] += 1  # the input the last worker died on: invalid
    while state["index"] < samples:
        case = decode_bytes(sample(state["index"], seeds, extra), catalog)
        template = catalog.apis[case.api].templates[case.template]
        optional = {name for name, slot in template.kwargs if isinstance(slot, OptionSlot)}
        chosen = any(name in optional for name, _ in case.kwargs)
        state_path.write_text(json.dumps({**state, "running": True}))
        ok = valid_call(case, backend)
        state["valid"] += ok
        state["with_options"] += chosen
        state["valid_with_options"] += ok and chosen
        if ok:
            pairs = {f"{case.api} {name}" for name, arg in case.kwargs if name in optional or isinstance(arg, Attr)}
            state["passed"] = sorted(set(state["passed"]) | pairs)
        state["index"] += 1
        state_path.write_text(json.dumps(state))


def _tensors(arg: Arg, slot: Slot | None) -> list[tuple[Tensor, str | None]]:
    """An argument's tensors with the domain their slot declares."""
    if isinstance(arg, Tensor):
        return [(arg, slot.domain if isinstance(slot, TensorSlot) else None)]
    if isinstance(arg, TensorList):
        items = slot.items if isinstance(slot, ListSlot) else ()
        return [(t, items[i].domain if i < len(items) else None) for i, t in enumerate(arg.items)]
    return []


def regimes(catalog: Catalog, corpus: Path) -> dict[str, Any]:
    """The share of a corpus' inputs with a floating tensor in each value regime (inputs that do not
    decode are left out)."""
    counts: Counter[str] = Counter()
    inputs = 0
    for path in sorted(p for p in corpus.iterdir() if p.is_file()):
        try:
            case = decode_bytes(path.read_bytes(), catalog)
        except ValueError:
            continue
        inputs += 1
        hit: set[str] = set()
        for call in case.calls():
            template = catalog.apis[call.api].templates[call.template]
            slots: list[Slot | None] = [*template.args, *(dict(template.kwargs).get(name) for name, _ in call.kwargs)]
            for arg, slot in zip(call.arguments(), slots):
                for tensor, domain in _tensors(arg, slot):
                    if is_floating(tensor.dtype):
                        hit |= value_regimes(tensor.values, domain)
        counts.update(hit)
    shares = {regime: round(counts[regime] / inputs, 4) if inputs else 0.0 for regime in VALUE_REGIMES}
    return {"corpus_inputs": inputs, "regimes": shares, "regimes_hit": [r for r in VALUE_REGIMES if shares[r] > 0]}


def run_watched(command: list[str], state_path: Path) -> None:
    """Run a worker; one that spends over HANG_SECONDS on one input is killed (the input counts as an
    invalid call, as a native crash does: jax.scipy.special.expi loops on some inputs)."""
    worker = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    last, since = None, time.monotonic()
    while worker.poll() is None:
        time.sleep(1)
        try:
            index = json.loads(state_path.read_text())["index"]
        except (OSError, ValueError):  # read while the worker writes it
            continue
        if index != last:
            last, since = index, time.monotonic()
        elif time.monotonic() - since > HANG_SECONDS:
            worker.kill()
            worker.wait()


def measure(library: str, samples: int, extra: int, data: Path | None) -> dict[str, Any]:
    """Reach figures of one library; the calls run in worker processes, restarted after a native crash."""
    _, document = load(library, data)
    with tempfile.TemporaryDirectory(prefix="nabla-reach-") as scratch:
        state_path = Path(scratch) / "state.json"
        state_path.write_text(json.dumps({"index": 0, "valid": 0, "with_options": 0, "valid_with_options": 0, "passed": []}))
        crashes = -1
        while json.loads(state_path.read_text())["index"] < samples:
            crashes += 1
            command = [sys.executable, __file__, library, "--worker", str(state_path), "--samples", str(samples)]
            command += ["--extra", str(extra)] + (["--data", str(data)] if data else [])
            run_watched(command, state_path)
        state = json.loads(state_path.read_text())
    options = state["with_options"]
    varied, pairs = share_varied(document.get("parameters") or statuses(library, document))
    return {
        "library": library,
        "apis": len(document["apis"]),
        "failed": sum(not reason.startswith(NOT_CANDIDATE) for reason in document.get("failed", {}).values()),
        "not_candidates": sum(reason.startswith(NOT_CANDIDATE) for reason in document.get("failed", {}).values()),
        "parameters": pairs,
        "parameters_varied": varied,
        "share_varied": round(varied / pairs, 4) if pairs else 0.0,
        "samples": samples,
        "valid_rate": round(state["valid"] / samples, 4),
        "native_crashes": crashes,
        "with_options": options,
        "valid_rate_with_options": round(state["valid_with_options"] / options, 4) if options else 0.0,
        "parameters_passed_in_valid_calls": len(state["passed"]),
        "load_average": round(os.getloadavg()[0], 2),  # the machine's, as the sampling ended
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("library")
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--extra", type=int, default=64, help="random bytes beyond a seed's length")
    parser.add_argument("--corpus", type=Path, help="a campaign's corpus folder: the value regimes its inputs hit")
    parser.add_argument("--data", type=Path, help="catalog folder (default: the package's)")
    parser.add_argument("--before", type=Path, help="an older catalog folder, measured too")
    parser.add_argument("--out", type=Path, help="write the figures (JSON) and rewrite BENCHMARKS.md")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if args.worker:
        work(args.library, args.samples, args.extra, args.data, args.worker)
        return 0
    result = measure(args.library, args.samples, args.extra, args.data)
    if args.corpus:
        result |= regimes(load(args.library, args.data)[0], args.corpus)
    if args.before:
        result["before"] = measure(args.library, args.samples, args.extra, args.before)
    elif args.out and args.out.is_file() and "before" in json.loads(args.out.read_text()):
        result["before"] = json.loads(args.out.read_text())["before"]  # the figures it was compared with stay
    print(json.dumps(result, indent=1))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1) + "\n")
        rewrite_benchmarks()
    return 0


def rewrite_benchmarks() -> None:
    """BENCHMARKS.md's reach section (scripts/bench.py's `reach_table`), replaced where it is, else
    inserted where bench.py's writer puts it (before the reliability section); the other sections stay
    as they are."""
    import bench

    path = ROOT / "BENCHMARKS.md"
    text = path.read_text()
    section = "\n".join(bench.reach_table()) + "\n"
    start = text.find("## Reach")
    if start >= 0:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + (text[end + 1 :] if end >= 0 else "")
    else:
        anchor = text.find("## Reliability")
        text = text[:anchor] + section + "\n" + text[anchor:] if anchor >= 0 else text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
