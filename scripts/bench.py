#!/usr/bin/env python3
"""How good the fuzzer is, per installed library, measured side by side in one run:

- oracle cost: checks/s of the projection oracle vs a full-Jacobian (∇Fuzz-style) check vs the
  bare direct call, on the same seed cases (and, with compiled scenarios, eager only / per compiler);
- validity: valid-call rate and distinct APIs per minute, checking seed inputs vs random bytes;
- coverage guidance: libFuzzer coverage after T seconds of guided fuzzing vs the same harness fed
  random bytes of the lengths libFuzzer chose (NABLA_UNGUIDED=1: no feedback), same budget;
- start-up: harness start to libFuzzer's INITED with and without instrumentation;
- accuracy: the planted-bug suite (tests/oracle_suite.py): planted bugs detected / planted by kind,
  traps flagged;
- known bugs: AD bugs of the installed versions (bench/known_bugs.json: reported upstream, or found by
  this tool and reproduced standalone) found by a campaign from the ordinary seed corpus, with the
  time to first detection; a finding is a bug's when it has the bug's library, kind and message words
  and is grouped with the bug's function as the tool groups root causes (`rootcause`): any spelling
  of the API (torch.Tensor.det for torch.linalg.det), a program keyed by a call that shows it alone,
  and for a bug of several calls a program that makes them in a row;
- robustness: random inputs through the harness' entry (instrumented, as libFuzzer calls it), counted
  across runs toward a goal (bench/robustness/LIB.json): harness exceptions (must be 0), native crashes
  (inputs saved, re-run with `nabla-atheris repro`), peak memory of a worker;
- reliability: a campaign SIGKILLed and resumed (findings kept, processes outliving the kill), and its
  findings replayed from their saved bytes;
- chaining and mix: the decoder's programs made from the same random bytes by a baseline revision and
  by this tree (invalid inputs, programs checked), and what programs cost a campaign's single calls
  (seconds per single call and per program on inputs made from the seeds, the same bytes by both).

Each library's figures go to bench/results-LIB.json; BENCHMARKS.md is rewritten from
every results file present, under a fixed header (run OneFlow's with its own interpreter, the tables then include it).

    PYTHONPATH=. .venv/bin/python scripts/bench.py --lib torch [--sections ...] [--seconds 60] [--guidance-seconds 300]
        [--campaign WORKDIR | --campaign-seconds 600]
"""

from __future__ import annotations

import argparse
import calendar
import hashlib
import importlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from nabla_atheris.backends import get_backend  # noqa: E402
from nabla_atheris.campaign import harness_env  # noqa: E402
from nabla_atheris.case import Arg, Attr, Case, Tensor, TensorList  # noqa: E402
from nabla_atheris.catalog import load_catalog  # noqa: E402
from nabla_atheris.decoder import PROGRAM_ODDS, decode_bytes  # noqa: E402
from nabla_atheris.oracle import check_case  # noqa: E402
from nabla_atheris.oracle.confirm import full_jacobian_check  # noqa: E402
from nabla_atheris.rootcause import function_name  # noqa: E402
from nabla_atheris.stats import campaign_totals  # noqa: E402

RESULTS = ROOT / "bench"
REACH = RESULTS / "reach"
SECTIONS = ("oracle", "throughput", "validity", "guidance", "startup", "accuracy", "campaign", "known")
SECTIONS += ("robustness", "reliability", "firstpass", "programs", "chaining", "mix")
# "Today" of issue 17: the last revision before compile reuse (one compiled function per compiler and for
# the second-order compositions, XLA's fast options for JAX's reference scenarios, persistent caches).
BASELINE = "f9b6055"
BASELINE_SETS = "core,compiled"  # the scenarios the baseline ran: first and second order, compiled
# The chaining and mix sections' baseline: the last revision before later calls of several tensors took an
# earlier output; each baseline measured, with the decoder change that followed it.
CHAINING_BASELINE = "ea700d1"
CHAINING_CHANGES = {
    "fa436bc": "a later call fitted to the rank and dtype guessed for the earlier output it takes",
    "144ebb4": "later calls of several tensors: an earlier output beside fitted tensors, or two",
    "ea700d1": "later calls of several tensors: an earlier output beside fitted tensors, or two",
}
CHAINING_RESTARTS = 100  # runs of scripts/program_validity.py per decoder (each after a native crash)


# -- oracle cost --------------------------------------------------------------------------------
class WithCompiledModes:
    """A backend seen with only some of its compiled scenarios."""

    def __init__(self, backend: Any, compiled_modes: tuple[str, ...]) -> None:
        self.backend = backend
        self.compiled_modes = compiled_modes

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)


def timed(label: str, fn: Any, cases: list, rounds: int) -> dict[str, Any]:
    errors = 0
    start = time.perf_counter()
    for _ in range(rounds):
        for case in cases:
            try:
                fn(case)
            except Exception:  # invalid calls count as checks, as in a campaign
                errors += 1
    elapsed = time.perf_counter() - start
    return {
        "label": label,
        "checks": len(cases) * rounds,
        "seconds": round(elapsed, 3),
        "checks_per_s": round(len(cases) * rounds / elapsed, 2),
    }


def ways_of_checking(backend: Any) -> list[tuple[str, Any]]:
    """(label, check function of a case) for each way of checking the benchmark compares."""
    methods = [
        ("direct call only", lambda c: backend.bind(c).direct()),
        ("projection oracle (all checks, second order included)", lambda c: check_case(c, backend)),
        ("full-Jacobian first-order check (∇Fuzz-style)", lambda c: full_jacobian_check(c, backend)),
    ]
    compilers = sorted({mode.split("-", 1)[0] for mode in backend.compiled_modes})
    subsets = [((), "eager only")] if compilers else []
    subsets += [(tuple(m for m in backend.compiled_modes if m.startswith(c)), c) for c in compilers]
    for subset, label in subsets:
        view = WithCompiledModes(backend, subset)
        methods.append(
            (f"projection oracle, {label} (compiled scenarios: {len(subset)})", lambda c, view=view: check_case(c, view))
        )
    return methods


def oracle_cost(lib: str, limit: int, rounds: int) -> dict[str, Any]:
    """Checks/s of each way of checking the same seed cases; each timed after an untimed pass."""
    catalog, backend = load_catalog(lib), get_backend(lib)
    seeds = sorted((ROOT / "corpus" / lib).iterdir())
    seeds, killers = screened(lib, seeds[:: max(1, len(seeds) // limit)][:limit])  # spread over the corpus
    cases = [decode_bytes(p.read_bytes(), catalog) for p in seeds]
    rows = []
    for label, fn in ways_of_checking(backend):
        timed(label, fn, cases, 1)
        rows.append(timed(label, fn, cases, rounds))
    for row in rows:
        row["relative_to_projection"] = round(row["checks_per_s"] / rows[1]["checks_per_s"], 3)
    return {"cases": len(cases), "rounds": rounds, "rows": rows, "left_out_killed_the_process": killers}


def screened(lib: str, seeds: list[Path]) -> tuple[list[Path], list[str]]:
    """The seeds that every way of checking gets through in a child process, and the names of those
    that killed it (OneFlow aborts the process on some inputs instead of raising)."""
    with tempfile.TemporaryDirectory(prefix="nabla-bench-") as scratch:
        state_path = Path(scratch) / "state.json"
        state: dict[str, Any] = {"done": [], "killed": [], "current": None}
        while len(state["done"]) + len(state["killed"]) < len(seeds):
            state_path.write_text(json.dumps(state))
            command = [sys.executable, __file__, "--lib", lib, "--screen-worker", str(state_path), *map(str, seeds)]
            code = subprocess.run(command, env=harness_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
            state = json.loads(state_path.read_text())
            if code != 0 and state["current"] is None:
                raise RuntimeError(f"the screening worker failed before any case (exit {code})")
            if code != 0:
                state["killed"].append(state["current"])
                state["current"] = None
    return [p for p in seeds if str(p) in state["done"]], [Path(p).name for p in state["killed"]]


def screen_worker(lib: str, state_path: Path, seeds: list[str]) -> None:
    """Run every way of checking once on each seed not yet screened, noting the one in progress."""
    catalog, backend = load_catalog(lib), get_backend(lib)
    methods = ways_of_checking(backend)
    state = json.loads(state_path.read_text())
    for seed in seeds:
        if seed in state["done"] or seed in state["killed"]:
            continue
        state["current"] = seed
        state_path.write_text(json.dumps(state))
        case = decode_bytes(Path(seed).read_bytes(), catalog)
        for _, fn in methods:
            try:
                fn(case)
            except Exception:  # an invalid call is still a case to time
                pass
        state["done"].append(seed)
        state["current"] = None
        state_path.write_text(json.dumps(state))


def revision_tree(scratch: Path, revision: str, parts: Sequence[str] = ("nabla_atheris",)) -> Path:
    """The files `parts` of a revision of this repository, extracted into `scratch`/baseline."""
    tree = scratch / "baseline"
    tree.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, *parts], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    return tree


# -- throughput: cold and warm checks, baseline revision vs this tree -------------------------------
def throughput(lib: str, count: int, rounds: int, baseline: str) -> dict[str, Any]:
    """Seconds per check of `count` seed inputs of different APIs the baseline's catalog has, each first on
    a structure new to the process (cold) and then again (warm), by the baseline revision and by this tree, in alternating
    fresh processes (`rounds` each). This tree runs the baseline's scenario sets (`BASELINE_SETS`: like
    with like) with an empty persistent compilation cache, then with the cache that run left (as a
    second worker or a resumed campaign finds it), and its default sets with an empty cache."""
    from nabla_atheris.libraries import record

    registry = f"{baseline}:nabla_atheris/catalog/data/{lib}.registry"  # the APIs the baseline knew
    known = subprocess.run(["git", "-C", str(ROOT), "show", registry], capture_output=True, text=True, check=True).stdout
    inputs, warmup = _seed_inputs(lib, count, set(known.split()))
    labels = (
        "baseline",
        "new, baseline's sets, empty compilation cache",
        "new, baseline's sets, cache of the run before",
        "new, default sets, empty compilation cache",
    )
    runs: dict[str, list[dict[str, Any]]] = {label: [] for label in labels}
    with tempfile.TemporaryDirectory(prefix="nabla-bench-") as scratch:
        old_tree = revision_tree(Path(scratch), baseline)
        for round_ in range(rounds):
            cached = record(lib).cache_env(Path(scratch) / f"cache-{round_}")
            empty = record(lib).cache_env(Path(scratch) / f"cache-{round_}-defaults")
            like = {"NABLA_SCENARIOS": BASELINE_SETS}
            variants = ((old_tree, {}), (ROOT, {**cached, **like}), (ROOT, {**cached, **like}), (ROOT, empty))
            for label, (tree, extra) in zip(labels, variants):
                out = Path(scratch) / "speed.json"
                env = dict(harness_env(), PYTHONPATH=str(tree), **extra)
                script = ROOT / "scripts" / "check_speed.py"
                command = [sys.executable, str(script), lib, str(out), *map(str, warmup), "--", *map(str, inputs)]
                subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                runs[label].append(json.loads(out.read_text()))
    rows = []
    for label, results in runs.items():
        row: dict[str, Any] = {"label": label}
        for figure in ("cold_s", "warm_s", "cold_cpu_s", "warm_cpu_s"):
            row[f"{figure}_per_check"] = round(sum(sum(r[figure]) for r in results) / (len(inputs) * rounds), 4)
        rows.append(row)
    for row in rows:
        for figure in ("cold_s", "warm_s", "cold_cpu_s", "warm_cpu_s"):
            row[f"{figure}_speedup"] = round(rows[0][f"{figure}_per_check"] / row[f"{figure}_per_check"], 2)
    differing = [
        {"input": Path(inputs[i]).name, "baseline": old, "new": new}
        for i, (old, new) in enumerate(zip(runs[labels[0]][0]["findings"], runs[labels[1]][0]["findings"]))
        if old != new
    ]
    return {"baseline": baseline, "inputs": len(inputs), "rounds": rounds, "rows": rows, "findings_differ": differing}


# -- first pass: what a worker's first pass over the corpus costs per case ------------------------------
def first_pass(lib: str, count: int, rounds: int) -> dict[str, Any]:
    """CPU and wall seconds per cold check of `count` seed inputs of different APIs in fresh processes
    (alternating, `rounds` each): with the library's default sets whole (a mutated input), with the sets a
    worker's first pass runs (`scenario_sets.for_first_pass`), and up to first order (a case the campaign
    checked before, replayed by a replacement or resumed worker: `nabla_atheris.checked`)."""
    from nabla_atheris import scenario_sets

    defaults = scenario_sets.defaults(lib)
    first = scenario_sets.for_first_pass(lib, defaults, chosen_by_user=False)
    variants = {
        "default sets, whole": (defaults, "0"),
        "first-pass sets": (first, "0"),
        "checked before: up to first order": (first, "1"),
    }
    inputs, warmup = _seed_inputs(lib, count)
    runs: dict[str, list[dict[str, Any]]] = {label: [] for label in variants}
    with tempfile.TemporaryDirectory(prefix="nabla-bench-") as scratch:
        out = Path(scratch) / "speed.json"
        for _ in range(rounds):
            for label, (selection, only_first) in variants.items():
                env = dict(harness_env(), NABLA_SCENARIOS=scenario_sets.describe(selection), NABLA_FIRST_ORDER_ONLY=only_first)
                command = [sys.executable, str(ROOT / "scripts" / "check_speed.py"), lib, str(out), *map(str, warmup)]
                command += ["--", *map(str, inputs)]
                subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                runs[label].append(json.loads(out.read_text()))
    rows = []
    for label, results in runs.items():
        n = len(inputs) * rounds
        cpu = sum(sum(r["cold_cpu_s"]) for r in results) / n
        wall = sum(sum(r["cold_s"]) for r in results) / n
        sets = scenario_sets.describe(variants[label][0])
        rows.append({"label": label, "sets": sets, "cold_cpu_s": round(cpu, 4), "cold_s": round(wall, 4)})
    for row in rows:
        row["cpu_speedup"] = round(rows[0]["cold_cpu_s"] / row["cold_cpu_s"], 2)
    return {"inputs": len(inputs), "rounds": rounds, "rows": rows}


def _seed_inputs(lib: str, count: int, apis: set[str] | None = None) -> tuple[list[Path], list[Path]]:
    """`count` seed inputs of different APIs spread over the corpus (of `apis` only, when given), and
    3 more to warm up with."""
    seeds = [p for p in sorted((ROOT / "corpus" / lib).iterdir()) if apis is None or p.name.rsplit(".", 1)[0] in apis]
    by_api: dict[str, Path] = {}
    for path in seeds[:: max(1, len(seeds) // (4 * count))]:
        by_api.setdefault(path.name.rsplit(".", 1)[0], path)
    chosen = list(by_api.values())
    return chosen[3 : 3 + count], chosen[:3]


# -- validity and robustness: inputs through the harness' entry, in a restartable child -----------------
def validity(lib: str, seconds: float) -> dict[str, Any]:
    """Valid-call rate, checks/s and distinct APIs per minute: seed inputs vs random bytes of the
    seeds' lengths, each for `seconds`, through the harness' entry (`run_inputs`; not instrumented),
    with the native crashes and harness exceptions met."""
    out = {}
    for source in ("seed corpus", "random bytes"):
        with tempfile.TemporaryDirectory(prefix="nabla-bench-") as scratch:
            state = run_inputs(lib, source, seconds, Path(scratch) / "state.json", Path(scratch))
        minutes = seconds / 60
        out[source] = {
            "checks": state["checks"],
            "checks_per_s": round(state["checks"] / seconds, 2),
            "valid_rate": round(state["valid"] / state["checks"], 4) if state["checks"] else 0.0,
            "apis": len(state["apis"]),
            "apis_per_minute": round(len(state["apis"]) / minutes, 1),
            "native_crashes": len(state["native_crashes"]),
            "harness_exceptions": len(state["harness_exceptions"]) + len(state["harness_errors"]),
        }
    return {"seconds": seconds, **out}


ROBUSTNESS = RESULTS / "robustness"
REPRODUCED_PER_API = 2  # native crashes of one API re-run with `nabla-atheris repro` (each takes a start-up)
REPRO_S = 300  # seconds a re-run may take (start-up included)


def robustness(lib: str, seconds: float, goal: int, workers: int = 1) -> dict[str, Any]:
    """Random bytes of the seeds' lengths through the harness' entry, instrumented as under libFuzzer,
    for `seconds` or until `goal` inputs in all, continuing bench/robustness/LIB.json (the counts of
    earlier runs): harness exceptions (exceptions escaping the entry, and harness errors of the
    verdicts: each a bug of this project), native crashes (each input saved under
    bench/robustness/LIB/ and re-run with `nabla-atheris repro`, which names the signal and the
    scenario), workers ended by the harness' memory guard, and the peak memory of a worker.
    `workers` > 1 runs that many at once, each toward its share of the goal in a shard state file
    merged into LIB.json (at the end, or by the next run after an interruption)."""
    state_path = ROBUSTNESS / f"{lib}.json"
    ROBUSTNESS.mkdir(parents=True, exist_ok=True)
    _merge_shards(state_path)
    if workers > 1:
        state = _run_sharded(lib, seconds, goal, workers, state_path)
    else:
        with tempfile.TemporaryDirectory(prefix="nabla-bench-") as scratch:
            state = run_inputs(lib, "random bytes", seconds, state_path, Path(scratch), goal, True, ROBUSTNESS / lib)
    catalog = load_catalog(lib)
    for crash in state["native_crashes"]:
        if "call" not in crash:  # recorded before calls were summarized: its input as the catalog now decodes it
            case = decode_bytes((ROBUSTNESS / lib / crash["input"]).read_bytes(), catalog)
            crash["call"] = call_summary(case) if case.api == crash["api"] else None  # None: it decodes to another API now
        tried = [c for c in state["native_crashes"] if c["api"] == crash["api"] and "repro" in c]
        if "repro" not in crash and crash["signal"] != "hang" and len(tried) < REPRODUCED_PER_API:
            crash["repro"] = reproduce(lib, ROBUSTNESS / lib / crash["input"])
    _write_state(state_path, state)
    return robustness_summary(state, goal)


def _run_sharded(lib: str, seconds: float, goal: int, workers: int, state_path: Path) -> dict[str, Any]:
    """`workers` input workers at once, each toward its share of what the goal has left in a shard
    state of its own, merged into the state at `state_path`; one run of the wall time in its runs."""
    left = max(goal - _read_state(state_path)["attempted"], 0)
    shares = [left // workers + (k < left % workers) for k in range(workers)]
    start, load = time.time(), round(os.getloadavg()[0], 1)
    with tempfile.TemporaryDirectory(prefix="nabla-bench-") as scratch:

        def shard(k: int) -> None:
            path = state_path.with_name(f"{state_path.stem}.shard{k}.json")
            folder = Path(scratch) / str(k)
            folder.mkdir()
            run_inputs(lib, "random bytes", seconds, path, folder, shares[k], True, ROBUSTNESS / lib)

        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(shard, range(workers)))
    elapsed = round(time.time() - start)
    run = {"date": time.strftime("%Y-%m-%d"), "seconds": elapsed, "load_average": [load, round(os.getloadavg()[0], 1)]}
    return _merge_shards(state_path, {**run, "workers": workers})


SUMMED = ("attempted", "checks", "valid", "over_memory_budget", "workers")
LISTED = ("harness_exceptions", "harness_errors", "native_crashes")


def _merge_shards(state_path: Path, run: dict[str, Any] | None = None) -> dict[str, Any]:
    """The state at `state_path` with its shard states (LIB.shardK.json) merged in and removed: counts
    summed, lists joined, APIs united, the peak memory the largest; `run` (the shards' wall time)
    joins its runs, or, for shards an interrupted run left, the longest shard's time."""
    state = _read_state(state_path)
    shards = sorted(state_path.parent.glob(f"{state_path.stem}.shard*.json"))
    if not shards:
        return state
    parts = [_read_state(path) for path in shards]
    for part in parts:
        for key in SUMMED:
            state[key] += part[key]
        for key in LISTED:
            state[key] += part[key]
        state["apis"] = sorted(set(state["apis"]) | set(part["apis"]))
        state["peak_rss_mb"] = max(state["peak_rss_mb"], part["peak_rss_mb"])
    longest = max(parts, key=lambda part: part["seconds"])
    if run is None and longest["runs"]:
        run = {**longest["runs"][-1], "workers": len(parts)}
    if run is not None:
        state["seconds"] += run["seconds"]
        state["runs"].append(run)
    _write_state(state_path, state)
    for path in shards:
        path.unlink()
    return state


def call_summary(case: Case) -> str:
    """A case in one line: the API with each tensor's dtype and shape and each attribute's value (a
    program's further calls by name only), enough to tell which library bug a native crash is."""

    def arg(a: Arg) -> str:
        if isinstance(a, Tensor):
            return f"{a.dtype}{list(a.shape)}"
        if isinstance(a, TensorList):
            return f"[{', '.join(arg(t) for t in a.items)}]"
        return repr(a.value) if isinstance(a, Attr) else "an earlier output"

    parts = [arg(a) for a in case.args] + [f"{name}={arg(a)}" for name, a in case.kwargs]
    return f"{case.api}({', '.join(parts)})" + "".join(f" -> {c.api}" for c in case.then)


def robustness_summary(state: dict[str, Any], goal: int) -> dict[str, Any]:
    """The figures of a robustness state: counts, rate, harness exceptions and native crashes by API."""
    by_api: dict[str, dict[str, Any]] = {}
    for crash in state["native_crashes"]:
        row = by_api.setdefault(crash["api"], {"api": crash["api"], "crashes": 0, "signals": [], "inputs": [], "repro": []})
        row["call"] = row.get("call") or crash.get("call")
        row["crashes"] += 1
        row["signals"] = sorted({*row["signals"], crash["signal"] or f"exit {crash['exit']}"})
        row["inputs"].append(crash["input"])
        if "repro" in crash:
            row["repro"].append(crash["repro"])
    return {
        "goal": goal,
        "inputs": state["attempted"],
        "checks": state["checks"],
        "seconds": round(state["seconds"]),
        "inputs_per_s": round(state["attempted"] / state["seconds"], 2) if state["seconds"] else None,
        "valid_rate": round(state["valid"] / state["checks"], 4) if state["checks"] else None,
        "apis": len(state["apis"]),
        "harness_exceptions": state["harness_exceptions"][:10],
        "harness_exception_count": len(state["harness_exceptions"]),
        "harness_errors": state["harness_errors"][:10],
        "harness_error_count": len(state["harness_errors"]),
        "native_crashes": len(state["native_crashes"]),
        "native_crashes_by_api": sorted(by_api.values(), key=lambda r: (-r["crashes"], r["api"])),
        "over_memory_budget": state["over_memory_budget"],
        "worker_processes": state["workers"],
        "peak_rss_mb": round(state["peak_rss_mb"]),
        "runs": state["runs"],
    }


def reproduce(lib: str, path: Path) -> dict[str, Any]:
    """`nabla-atheris repro` of a saved input in a process of its own: its exit code (5: a native crash)
    and last line (the signal and the scenario running)."""
    command = [sys.executable, "-m", "nabla_atheris", "repro", "--lib", lib, str(path)]
    try:
        result = subprocess.run(command, env=harness_env(), capture_output=True, text=True, timeout=REPRO_S)
    except subprocess.TimeoutExpired:
        return {"exit": None, "message": f"no end within {REPRO_S} s"}
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("nabla-atheris:")]
    return {"exit": result.returncode, "message": lines[-1][:300] if lines else ""}


NEW_STATE: dict[str, Any] = {
    "attempted": 0,
    "checks": 0,
    "valid": 0,
    "apis": [],
    "current": None,
    "harness_exceptions": [],
    "harness_errors": [],
    "native_crashes": [],
    "over_memory_budget": 0,
    "workers": 0,
    "peak_rss_mb": 0.0,
    "seconds": 0.0,
    "runs": [],
}


def _read_state(path: Path) -> dict[str, Any]:
    return {**json.loads(json.dumps(NEW_STATE)), **(json.loads(path.read_text()) if path.is_file() else {})}


def _write_state(path: Path, state: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(state, indent=1))
    os.replace(tmp, path)


def run_inputs(
    lib: str,
    source: str,
    seconds: float,
    state_path: Path,
    scratch: Path,
    limit: int | None = None,
    instrument: bool = False,
    crashes: Path | None = None,
) -> dict[str, Any]:
    """Feed inputs of `source` to the harness' entry in a child process (`inputs_worker`) for
    `seconds`, or until the state counts `limit` inputs, continuing the state file. A child that dies
    of a native crash is replaced: the crash is recorded with the API its input decodes to (the input
    saved into `crashes`, when given), as is one that hung on an input for longer than libFuzzer's
    -timeout of the library's campaigns (killed); a child that the harness' memory guard ended is
    replaced too."""
    from nabla_atheris.libraries import record

    catalog = load_catalog(lib)
    start, workers = time.time(), 0
    load = round(os.getloadavg()[0], 1)
    while True:
        state = _read_state(state_path)
        left = seconds - (time.time() - start)
        if left <= 0 or (limit is not None and state["attempted"] >= limit):
            break
        state["workers"], workers = state["workers"] + 1, workers + 1
        _write_state(state_path, state)
        config = {"source": source, "seconds": left, "limit": limit, "state": str(state_path), "instrument": instrument}
        config["findings"] = str(scratch / "findings")
        command = [sys.executable, __file__, "--lib", lib, "--inputs-worker", json.dumps(config)]
        code = run_worker(command, state_path, record(lib).limits.timeout_s)
        state = _read_state(state_path)
        if state["current"] is None:
            if code != 0:
                raise RuntimeError(f"the input worker failed outside a check (exit {code})")
            continue
        data = bytes.fromhex(state["current"])
        if code == 0:  # the harness' memory guard ended the worker before this input
            state["over_memory_budget"] += 1
        else:
            case = decode_bytes(data, catalog)
            name = f"{case.api}-{hashlib.sha1(data).hexdigest()[:10]}"
            died_of = "hang" if code is None else signal_name(code)
            crash = {"api": case.api, "exit": code, "signal": died_of, "input": name, "call": call_summary(case)}
            if crashes is not None:
                crashes.mkdir(parents=True, exist_ok=True)
                (crashes / crash["input"]).write_bytes(data)
            state["native_crashes"].append(crash)
        state["current"] = None
        _write_state(state_path, state)
    if workers:  # a run with no time left, or the goal reached before, only reads the state
        elapsed = time.time() - start
        state["seconds"] += elapsed
        loads = [load, round(os.getloadavg()[0], 1)]
        state["runs"].append({"date": time.strftime("%Y-%m-%d"), "seconds": round(elapsed), "load_average": loads})
        _write_state(state_path, state)
    return state


def run_worker(command: list[str], state_path: Path, timeout_s: float) -> int | None:
    """Run an input worker to its end: its exit code, or None when it spent more than `timeout_s` on
    one input (the state file names an input and was not written since) and was killed."""
    worker = subprocess.Popen(
        command, env=harness_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    while worker.poll() is None:
        time.sleep(1)
        try:
            busy = _read_state(state_path)["current"] is not None
            stalled = time.time() - state_path.stat().st_mtime > timeout_s
        except (OSError, ValueError):  # not written yet
            continue
        if busy and stalled:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
            return None
    return worker.returncode


def signal_name(code: int) -> str | None:
    """The signal a child's exit code names (a negative code), else None."""
    try:
        return signal.Signals(-code).name if code < 0 else None
    except ValueError:
        return None


def inputs_worker(lib: str, config: dict[str, Any]) -> None:
    """Run inputs of one source through the harness' entry (`FuzzSession.test_one_input` behind its
    memory guard, as libFuzzer calls it; findings stored, never raised) until the time or the limit of
    `config` is reached, continuing its state file: the input in progress is noted before each check,
    and an exception escaping the entry or a harness error of its verdict is recorded with the input."""
    from nabla_atheris.harness import (
        guiding_modules,
        instrument_modules,
        memory_budget_mb,
        release_memory,
        within_memory_budget,
    )
    from nabla_atheris.session import FuzzSession
    from nabla_atheris.stats import peak_rss_mb

    session = FuzzSession(lib, Path(config["findings"]), None, raise_new=False)
    session.warm_up()
    if config["instrument"]:
        instrument_modules(guiding_modules(lib))
    entry = within_memory_budget(session.test_one_input, memory_budget_mb([]), lambda: release_memory(session.backend))
    state_path, limit = Path(config["state"]), config["limit"]
    seeds = [p.read_bytes() for p in sorted((ROOT / "corpus" / lib).iterdir())]
    random.Random(0).shuffle(seeds)
    state = _read_state(state_path)
    apis = set(state["apis"])
    rng = random.Random(state["attempted"])
    start = time.time()
    while time.time() - start < config["seconds"] and (limit is None or state["attempted"] < limit):
        index = state["attempted"]
        data = seeds[index % len(seeds)] if config["source"] == "seed corpus" else os.urandom(len(rng.choice(seeds)))
        state["attempted"], state["current"] = index + 1, data.hex()
        _write_state(state_path, state)
        valid, errors = session.stats.valid, Counter(session.stats.harness_errors)
        try:
            entry(data)
        except Exception as exc:  # nothing escapes the entry but a bug of this project's own code
            where = traceback.extract_tb(exc.__traceback__)[-1]
            error = f"{type(exc).__name__}: {exc}"[:300] + f" (at {Path(where.filename).name}:{where.lineno})"
            state["harness_exceptions"].append({"input": data.hex(), "error": error})
        new_errors = session.stats.harness_errors - errors
        if new_errors:
            state["harness_errors"].append({"input": data.hex(), "errors": sorted(new_errors)})
        state["checks"] += 1
        state["valid"] += session.stats.valid - valid
        apis |= session.stats.apis
        state["apis"], state["current"] = sorted(apis), None
        state["peak_rss_mb"] = max(state["peak_rss_mb"], peak_rss_mb())
        _write_state(state_path, state)


# -- harness runs (guidance, start-up, campaigns) -------------------------------------------------
def fuzz(
    lib: str, workdir: Path, seconds: int, seeds: Path | None = None, scenarios: str | None = None, **extra: str
) -> list[dict[str, Any]]:
    """A campaign of `seconds` with one worker, as `nabla-atheris fuzz` runs it (the library's default
    scenario sets unless `scenarios` names others); its progress records."""
    from nabla_atheris.campaign import read_records

    command = [sys.executable, "-m", "nabla_atheris", "fuzz", lib, "--time", str(seconds), "--workdir", str(workdir)]
    command += ["--seeds", str(seeds)] if seeds else []
    command += ["--scenarios", scenarios] if scenarios else []
    subprocess.run(command, env=harness_env(**extra), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, check=False)
    return read_records(workdir / "stats.jsonl")


def guidance(lib: str, seconds: int) -> dict[str, Any]:
    """Coverage (libFuzzer's cov and ft) along `seconds` of a one-worker campaign from an empty corpus
    (a single newline, libFuzzer's own start): guided (as campaigns run: libFuzzer's mutations and
    `mutator.mutate`'s new APIs), guided with libFuzzer's mutations only (NABLA_MUTATOR=libfuzzer), and
    the same harness fed random bytes of the lengths libFuzzer chose (NABLA_UNGUIDED=1). The sides run
    at the same time, so they share the machine's load alike. A worker that crashes is replaced."""
    sides = {
        "guided": {},
        "guided, libFuzzer's mutations only": {"NABLA_MUTATOR": "libfuzzer"},
        "unguided (random bytes, same lengths)": {"NABLA_UNGUIDED": "1"},
    }
    with tempfile.TemporaryDirectory(prefix="nabla-bench-") as scratch:
        seeds = Path(scratch) / "seeds"
        seeds.mkdir()
        (seeds / "newline").write_bytes(b"\n")
        with ThreadPoolExecutor(len(sides)) as pool:
            runs = {
                name: pool.submit(fuzz, lib, Path(scratch) / f"w{i}", seconds, seeds, **extra)
                for i, (name, extra) in enumerate(sides.items())
            }
            records = {name: run.result() for name, run in runs.items()}
    out: dict[str, Any] = {}
    for name, run in records.items():
        last = run[-1] if run else {}
        marks = _once(_spread(run, GUIDANCE_MARKS))
        out[name] = {
            "cov": last.get("cov"),
            "ft": last.get("ft"),
            "executions": last.get("execs"),
            "corpus": last.get("corpus"),
            "along_the_way": [{"elapsed_s": r.get("elapsed_s"), "cov": r.get("cov")} for r in marks],
        }
    guided, plain, unguided = (out[name] for name in sides)
    if guided["cov"] and unguided["cov"]:
        out["cov_ratio_guided_to_unguided"] = round(guided["cov"] / unguided["cov"], 3)
    if plain["cov"] and unguided["cov"]:
        out["cov_ratio_libfuzzer_mutations_to_unguided"] = round(plain["cov"] / unguided["cov"], 3)
    return {"seconds": seconds, "sides": "at the same time", **out}


GUIDANCE_MARKS = (60, 180, 300, 600, 900, 1200, 1800)


def startup(lib: str) -> dict[str, Any]:
    """Seconds from the harness process' start to its first input (imports, instrumentation and the
    warm-up included; from the worker's statistics), with the AD modules instrumented (the first process
    of a campaign, then one that loads the instrumented code the first kept: NABLA_INSTRUMENT_CACHE) and
    without."""
    seed = sorted((ROOT / "corpus" / lib).iterdir())[0]
    out = {}
    with tempfile.TemporaryDirectory(prefix="nabla-bench-") as scratch:
        corpus = Path(scratch) / "corpus"
        corpus.mkdir()
        (corpus / seed.name).write_bytes(seed.read_bytes())
        kept = {"NABLA_INSTRUMENT_CACHE": str(Path(scratch) / "cache")}
        for name, extra in (
            ("instrumented (AD modules and oracle)", kept),
            ("instrumented, code kept by the start before", kept),
            ("not instrumented", {"NABLA_INSTRUMENT": "nabla_atheris.none"}),
        ):
            stats = Path(scratch) / f"stats-{len(out)}"
            env = harness_env(Path(scratch) / "findings", NABLA_RAISE="0", NABLA_STATS=str(stats), **extra)
            result = subprocess.run(
                [sys.executable, str(ROOT / "harnesses" / f"fuzz_{lib}.py"), str(corpus), "-runs=0"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                timeout=900,
            )
            functions = re.findall(r"instrumented (\d+) functions", result.stdout.decode(errors="replace"))
            (process,) = campaign_totals(stats)["processes_time"]
            out[name] = {"seconds": process["ready_s"], "functions": int(functions[-1]) if functions else None}
    return out


def campaign(lib: str, seconds: int, resume_seconds: int, workdir: Path, baseline: str) -> dict[str, Any]:
    """A one-worker campaign of `seconds` from the shipped seeds in a new workdir (cold compilation
    caches), then a resumed run of `resume_seconds` on it: how long each first pass over the corpus
    took, where the worker's time went, coverage and corpus size along the way, peak memory; and the
    baseline revision's campaign of `seconds` (its own command, harness and seeds) for comparison,
    unless `baseline` is "none"."""
    started = time.time()
    first = fuzz(lib, workdir, seconds)
    wall = time.time() - started
    run_1 = [r for r in first if r.get("run") == 1]
    resumed = [r for r in fuzz(lib, workdir, resume_seconds) if r.get("run") == 2]
    seeds = len([p for p in (ROOT / "corpus" / lib).iterdir() if p.is_file()])
    return {
        "seconds": seconds,
        "seeds": seeds,
        "first_pass_s": _first_pass(run_1),
        "time_accounting": run_1[-1]["time_accounting"],
        "along_the_way": [
            {k: r.get(k) for k in ("elapsed_s", "execs", "cov", "corpus", "corpus_files")}
            for r in _spread(run_1, (10, 60, 300, 600, 1200, seconds))
        ],
        "peak_rss_mb": max((p.get("peak_rss_mb") or 0 for r in first + resumed for p in r.get("processes", [])), default=None),
        "worker_processes": len({p["pid"] for r in run_1 for p in r.get("processes", [])}),
        "findings": sum(run_1[-1]["unique_findings"].values()),
        **({} if baseline == "none" else {"side_by_side": _side_by_side(lib, seconds, baseline, run_1, wall)}),
        "resumed": {
            "seconds": resume_seconds,
            "first_pass_inputs": max((p.get("replay_inputs") or 0 for r in resumed for p in r.get("processes", [])), default=0),
            "first_pass_s": _first_pass(resumed),
        },
        "workdir": workdir.name,
    }


def _side_by_side(lib: str, seconds: int, baseline: str, run_1: list[dict[str, Any]], wall: float) -> dict[str, Any]:
    return {"baseline": baseline_campaign(lib, seconds, baseline), "new": _ending(run_1, wall)}


def baseline_campaign(lib: str, seconds: int, baseline: str) -> dict[str, Any]:
    """The baseline revision's one-worker campaign of `seconds` from its own seed corpus, new workdir,
    run with its own `fuzz` command and harness (the package, harnesses and seeds of that revision)."""
    from nabla_atheris.campaign import read_records

    with tempfile.TemporaryDirectory(prefix="nabla-bench-") as scratch:
        tree = revision_tree(Path(scratch), baseline, ("nabla_atheris", "harnesses", f"corpus/{lib}"))
        workdir = Path(scratch) / "w"
        command = [sys.executable, "-m", "nabla_atheris", "fuzz", lib, "--time", str(seconds), "--workdir", str(workdir)]
        env = dict(harness_env(), PYTHONPATH=str(tree))
        started = time.time()
        subprocess.run(command, env=env, cwd=tree, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, check=False)
        wall = time.time() - started
        records = [r for r in read_records(workdir / "stats.jsonl") if r.get("run") == 1]
        log = (workdir / "fuzz.log").read_text(errors="replace") if (workdir / "fuzz.log").is_file() else ""
        corpus_files = len([p for p in (workdir / "corpus").iterdir() if p.is_file()]) if (workdir / "corpus").is_dir() else 0
        seeds = len([p for p in (tree / "corpus" / lib).iterdir() if p.is_file()])
    ending = {**_ending(records, wall), "corpus_files": corpus_files, "seeds": seeds, "revision": baseline}
    ending["first_pass_done"] = "starting to fuzz" in log  # fork mode's line after its replay of the seeds (no time kept)
    return ending


def _ending(records: list[dict[str, Any]], wall: float) -> dict[str, Any]:
    """A campaign run's figures at its end, and how long its command took."""
    last = records[-1] if records else {}
    return {
        "command_s": round(wall, 1),
        "checks": last.get("execs", 0),
        "checks_per_s": round(last.get("execs", 0) / max(float(last.get("elapsed_s") or 0), 1e-9), 2) if last else 0.0,
        "apis_exercised": last.get("apis_exercised", 0),
        "cov": last.get("cov"),
        "ft": last.get("ft"),
        "corpus_files": last.get("corpus_files", last.get("corpus")),
        "first_pass_s": _first_pass(records),
    }


def _first_pass(records: list[dict[str, Any]]) -> float | None:
    """Seconds from the run's start to the end of the first pass over the corpus of one of its worker
    processes: start-up included, and the processes that died during a first pass (a native crash) before
    one finished it (None: not reached)."""
    if not records:
        return None
    started = _epoch(records[0]["time"])  # the run's first record, written as it starts
    for record in records:
        began = {p.get("pid"): p.get("process_started") for p in record.get("processes", [])}
        ends = [
            began[w["pid"]] + w["first_pass_s"]
            for w in record.get("workers", [])
            if w.get("first_pass_s") is not None and began.get(w["pid"])
        ]
        if ends:
            return round(max(min(ends) - started, 0.0), 1)
    return None


def _spread(records: list[dict[str, Any]], marks: tuple[int, ...]) -> list[dict[str, Any]]:
    """The records nearest to each mark (seconds into the run)."""
    if not records:
        return []
    start = records[0]["elapsed_s"]
    return [min(records, key=lambda r: abs(r["elapsed_s"] - start - mark)) for mark in marks]


# -- reliability: a campaign killed and resumed, findings replayed from their saved bytes ------------
FINDING_FILES = ("input", "case.msgpack", "repro.py", "report.md", "finding.json")


def reliability(lib: str, seconds: int, sample: int) -> dict[str, Any]:
    """A campaign SIGKILLed after `seconds` and resumed for as long: which findings of the first run
    are still complete after the resumed one, whether any process outlived the kill; then up to
    `sample` oracle findings replayed from their saved input bytes (decoded and checked again: the
    same signature?) in a child process restarted after a native crash, and the share of native
    crashes a re-run repeated (triage's outcome)."""
    from nabla_atheris.campaign import Workdir
    from nabla_atheris.workers import process_start_ticks

    with tempfile.TemporaryDirectory(prefix="nabla-bench-") as scratch:
        place = Workdir(Path(scratch) / "w")
        command = [sys.executable, "-m", "nabla_atheris", "fuzz", lib, "--time", "0", "--workdir", str(place.root)]
        campaign = subprocess.Popen(command, env=harness_env(), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        time.sleep(seconds)
        workers = place.listed_processes()
        campaign.kill()
        campaign.wait()
        time.sleep(2)
        survivors = [p["pid"] for p in workers if process_start_ticks(p["pid"]) == p["ticks"]]
        before = {f.name: json.loads((f / "finding.json").read_text())["hits"] for f in _finding_folders(place.findings)}
        fuzz(lib, place.root, seconds)
        after = {f.name: f for f in _finding_folders(place.findings)}
        kept = [name for name in before if name in after and all((after[name] / n).is_file() for n in FINDING_FILES)]
        metas = [json.loads((f / "finding.json").read_text()) for f in after.values()]
        native = [m for m in metas if m["kind"] in ("crash", "timeout", "oom") and m["scenarios"] == ["harness", "harness"]]
        oracle = sorted(f for f, m in zip(after.values(), metas) if m not in native and m.get("from_fuzzer"))
        replayed = replay_findings(lib, random.Random(0).sample(oracle, min(sample, len(oracle))), Path(scratch))
    return {
        "seconds": seconds,
        "processes_outliving_the_kill": len(survivors),
        "findings_before_the_kill": len(before),
        "kept_complete_after_resume": len(kept),
        "findings_after_resume": len(after),
        "replayed": replayed,
        "native_crashes": len(native),
        "native_repeated_by_a_rerun": sum(1 for m in native if not m["details"].get("flaky")),
    }


def _finding_folders(findings: Path) -> list[Path]:
    return [f for f in findings.iterdir() if f.is_dir() and (f / "finding.json").is_file()] if findings.is_dir() else []


def replay_findings(lib: str, folders: list[Path], scratch: Path) -> dict[str, int]:
    """Decode each finding's saved input and check it again in a child process (restarted after a
    native crash): how many show the same signature again, how many others, how many killed it."""
    state_path = scratch / "replay.json"
    state: dict[str, Any] = {"done": {}, "current": None}
    while len(state["done"]) < len(folders):
        state_path.write_text(json.dumps(state))
        command = [sys.executable, __file__, "--lib", lib, "--replay-worker", str(state_path), *map(str, folders)]
        code = subprocess.run(command, env=harness_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
        state = json.loads(state_path.read_text())
        if code != 0 and state["current"] is None:
            raise RuntimeError(f"the replay worker failed before any finding (exit {code})")
        if code != 0:
            state["done"][state["current"]], state["current"] = "killed the process", None
    outcomes = list(state["done"].values())
    return {"sampled": len(folders), **{o: outcomes.count(o) for o in ("same signature", "other", "killed the process")}}


def replay_worker(lib: str, state_path: Path, folders: list[str]) -> None:
    """Check the saved input of every finding folder not yet replayed, noting the one in progress."""
    catalog, backend = load_catalog(lib), get_backend(lib)
    state = json.loads(state_path.read_text())
    for folder in folders:
        if folder in state["done"]:
            continue
        state["current"] = folder
        state_path.write_text(json.dumps(state))
        meta = json.loads((Path(folder) / "finding.json").read_text())
        verdict = check_case(decode_bytes((Path(folder) / "input").read_bytes(), catalog), backend)
        same = any(f.signature() == meta["signature"] for f in verdict.findings)
        state["done"][folder], state["current"] = "same signature" if same else "other", None
        state_path.write_text(json.dumps(state))


# -- accuracy and known bugs ---------------------------------------------------------------------
def accuracy(lib: str) -> dict[str, Any]:
    import oracle_suite

    return oracle_suite.accuracy(lib, get_backend(lib))


def known_bugs(lib: str, workdir: Path | None, seconds: int, scenarios: str | None = None) -> dict[str, Any]:
    """Which known upstream bugs a campaign from the seed corpus found, and after how long. Runs the
    campaign (`seconds`, with the scenario sets `scenarios`: the library's defaults when None) unless
    an existing workdir is given (then `scenarios` names the sets it ran)."""
    from nabla_atheris.findings import FindingsStore

    bugs = [b for b in json.loads((RESULTS / "known_bugs.json").read_text()) if b["library"] == lib]
    if not bugs:
        return {"bugs": []}
    if workdir is None:
        workdir = Path(tempfile.mkdtemp(prefix=f"nabla-known-{lib}-"))
        fuzz(lib, workdir, seconds, scenarios=scenarios)
    start, budget = _first_run(workdir)
    metas = FindingsStore(workdir / "findings").metas()
    rows = []
    for bug in bugs:
        hits = [m for m in metas if _matches(bug, m)]
        rows.append(
            {
                "api": bug["api"],
                "kind": bug["kind"],
                "upstream": bug["upstream"],
                "found": bool(hits),
                "time_to_first_detection_s": _first_detection(hits, start),
            }
        )
    out = {"campaign_s": budget, "workdir": workdir.name, "scenarios": scenarios or "default", "bugs": rows}
    return {**out, "roots": program_roots(metas)}


def program_roots(metas: list[dict[str, Any]]) -> dict[str, Any]:
    """A campaign's root causes (flaky native crashes left out), those with a finding on a program, and
    those that only programs showed (no single call of the campaign did): what programs added (issue 19)."""
    from nabla_atheris.case import PROGRAM_ARROW
    from nabla_atheris.findings import meta_root

    by_root: dict[str, list[dict[str, Any]]] = {}
    for meta in metas:
        if not (meta.get("details") or {}).get("flaky"):
            by_root.setdefault(meta_root(meta), []).append(meta)
    apis = {root: {a for m in found for a in _apis(m)} for root, found in by_root.items()}
    on_programs = {root: found for root, found in by_root.items() if any(PROGRAM_ARROW in a for a in apis[root])}
    only = {root: found for root, found in on_programs.items() if all(PROGRAM_ARROW in a for a in apis[root])}
    return {
        "root_causes": len(by_root),
        "with_program_findings": len(on_programs),
        "only_programs": [
            {"root": root, "programs": sorted(apis[root]), "kinds": sorted({m["kind"] for m in found})}
            for root, found in sorted(only.items())
        ],
    }


def _apis(meta: dict[str, Any]) -> list[str]:
    """The APIs (or programs, "a -> b") that showed a finding's signature."""
    return list(meta.get("apis") or [meta["api"]])


def _first_run(workdir: Path) -> tuple[float | None, float | None]:
    """When a campaign's first run started (epoch seconds), and how long it ran."""
    from nabla_atheris.campaign import read_records

    records = [r for r in read_records(workdir / "stats.jsonl") if r.get("run") == 1]  # its first run (a resumed one follows)
    if not records:
        return None, None
    return _epoch(records[0]["time"]) - float(records[0]["elapsed_s"]), float(records[-1]["elapsed_s"])


def _first_detection(hits: list[dict[str, Any]], start: float | None) -> float | None:
    """Seconds from a run's start to the first of the findings `hits` (None: none)."""
    first = min((_epoch(m["first_seen"]) for m in hits), default=None)
    return round(first - start, 1) if first is not None and start is not None else None


# -- chaining: the decoder's valid programs, baseline revision vs this tree --------------------------
def chaining(lib: str, count: int, baseline: str) -> dict[str, Any]:
    """The share of `count` decoder-made programs (random bytes) that are an invalid input and that the
    oracle goes on to check, by the baseline revision's decoder and by this tree's, the same bytes
    (`scripts/program_validity.py` in processes of each, a new one after a native crash)."""
    out: dict[str, Any] = {"revision": baseline, "programs": count}
    with tempfile.TemporaryDirectory(prefix="nabla-bench-") as scratch:
        old_tree = revision_tree(Path(scratch), baseline)
        for label, tree in (("baseline", old_tree), ("this tree", ROOT)):
            result = Path(scratch) / f"validity-{label.split()[0]}.json"
            command = [sys.executable, str(ROOT / "scripts" / "program_validity.py"), lib, str(count), "0", str(result)]
            for _ in range(CHAINING_RESTARTS):  # a native crash ends a run: the next one goes on from it
                done = subprocess.run(command, env=dict(harness_env(), PYTHONPATH=str(tree)), stdout=subprocess.DEVNULL)
                if done.returncode == 0:
                    break
            figures = json.loads(result.read_text())
            figures["checked_sequences"] = len(figures.get("checked_sequences", []))
            figures["invalid_rate"] = round(figures["invalid"] / figures["programs"], 4)
            figures["checked_rate"] = round(figures["checked"] / figures["programs"], 4)
            out[label] = figures
    return out


# -- mix: single calls checked per second with programs in their share, baseline revision vs this tree --
def mix(lib: str, count: int, rounds: int, baseline: str) -> dict[str, Any]:
    """Seconds per single call and per program among `count` inputs made from the shipped seeds as a
    campaign's mutations make them, decoded and checked as a worker does (`scripts/input_speed.py`, the
    same bytes), by the baseline revision and by this tree in alternating fresh processes (`rounds`
    each; a new one after a native crash). Single calls per second of a campaign whose inputs are
    programs at the decoder's odds (one in `PROGRAM_ODDS`) follow from the two: what programs cost a
    campaign's single calls."""
    out: dict[str, Any] = {"revision": baseline, "inputs": count, "rounds": rounds}
    runs: dict[str, list[dict[str, Any]]] = {"baseline": [], "this tree": []}
    with tempfile.TemporaryDirectory(prefix="nabla-bench-") as scratch:
        old_tree = revision_tree(Path(scratch), baseline)
        for round_ in range(rounds):
            for label, tree in (("baseline", old_tree), ("this tree", ROOT)):
                result = Path(scratch) / f"mix-{round_}-{label.split()[0]}.json"
                command = [sys.executable, str(ROOT / "scripts" / "input_speed.py"), lib, str(count), "0", str(result)]
                for _ in range(CHAINING_RESTARTS):  # a native crash ends a run: the next one goes on from it
                    env = dict(harness_env(), PYTHONPATH=str(tree))
                    done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    if done.returncode == 0:
                        break
                runs[label].append(json.loads(result.read_text()))
    share = 1 / PROGRAM_ODDS
    for label, results in runs.items():
        sums = {key: sum(r[key] for r in results) for key in ("single_calls", "programs", "native_crashes")}
        row: dict[str, Any] = dict(sums)
        for clock in ("s", "cpu_s"):
            single = sum(r[f"single_{clock}"] for r in results) / max(sums["single_calls"], 1)
            program = sum(r[f"program_{clock}"] for r in results) / max(sums["programs"], 1)
            row[f"{clock}_per_single_call"] = round(single, 4)
            row[f"{clock}_per_program"] = round(program, 4)
            row[f"single_calls_per_{clock}"] = round((1 - share) / ((1 - share) * single + share * program), 3)
        out[label] = row
    return out


# -- planted interaction bugs found by a campaign (test-only hook) ----------------------------------
PROGRAM_SEEDS = ("programs", "shipped")


def programs(lib: str, seconds: int, seeds: str) -> dict[str, Any]:
    """Which planted interaction bugs (tests/planted_LIB.py PROGRAM_PLANTED) a one-worker campaign of
    `seconds` with the test-only hook (nabla_atheris/plants.py) finds, and after how long. Its seeds
    (`seeds`): "programs", the library's program seeds (the planted op's `relu -> plant` among them),
    or "shipped", the shipped corpus and the planted op's seed (libFuzzer replays small inputs first)."""
    from nabla_atheris.findings import FindingsStore
    from nabla_atheris.plants import ENVIRONMENT, PREFIX
    from nabla_atheris.program_seeds import is_program_seed

    planted = importlib.import_module(f"planted_{lib}").PROGRAM_PLANTED
    if not planted:
        return {"bugs": []}
    hook = {ENVIRONMENT: str(ROOT / "tests")}
    with tempfile.TemporaryDirectory(prefix=f"nabla-programs-{lib}-") as scratch:
        every, folder, workdir = (Path(scratch) / name for name in ("every", "seeds", "workdir"))
        command = [sys.executable, "-m", "nabla_atheris", "seed", lib, "--out", str(every)]
        subprocess.run(command, env=harness_env(**hook), stdout=subprocess.DEVNULL, check=True)
        plants = list(every.glob(f"{lib}.program.{PREFIX}*"))
        chosen = [p for p in every.iterdir() if is_program_seed(p.name)] if seeds == "programs" else []
        chosen += plants + list((ROOT / "corpus" / lib).iterdir()) if seeds == "shipped" else []
        folder.mkdir()
        for path in chosen:
            (folder / path.name).write_bytes(path.read_bytes())
        records = fuzz(lib, workdir, seconds, folder, **hook)
        start, budget = _first_run(workdir)
        metas = FindingsStore(workdir / "findings").metas()
    rows = []
    for name, (_, kind, _) in planted.items():
        hits = [m for m in metas if m["kind"] == kind and m["api"].endswith(f".nabla_planted.{name}")]
        hits.sort(key=lambda m: m["first_seen"])
        rows.append(
            {
                "api": f"{lib}.nabla_planted.{name}",
                "kind": kind,
                "found": bool(hits),
                "found_as": hits[0]["api"] if hits else None,
                "time_to_first_detection_s": _first_detection(hits, start),
            }
        )
    last = records[-1] if records else {}
    return {"seeds": seeds, "seed_files": len(chosen), "campaign_s": budget, "checks": last.get("execs"), "bugs": rows}


def _matches(bug: dict[str, Any], meta: dict[str, Any]) -> bool:
    """A finding is the bug's when library and kind match, the message has the bug's words (the
    scenario pair is not required: the same wrong rule shows under several compositions) and the
    finding is grouped with the bug's function as the tool groups root causes (`rootcause`)."""
    if (meta["library"], meta["kind"]) != (bug["library"], bug["kind"]) or not _function_matches(bug, meta):
        return False
    return not bug.get("message_contains") or bug["message_contains"] in meta["message"]


def _function_matches(bug: dict[str, Any], meta: dict[str, Any]) -> bool:
    """Whether a finding is of the bug's function (API "*": any): the function that keys the finding
    (its signature's: any spelling of the API, or the call of a program that shows it alone) or that
    of an API that showed it; for a bug of a program, a program that makes the bug's calls in a row
    (with calls before or after them)."""
    if bug["api"] == "*":
        return True
    library = bug["library"]
    wanted = function_name(library, bug["api"]).split("->")
    keyed = str(meta.get("signature", "")).split(":")[1:2]
    for made in {*keyed, *(function_name(library, api) for api in {meta["api"], *meta.get("apis", {})})}:
        calls = made.split("->")
        if calls == wanted or (len(wanted) > 1 and any(calls[i : i + len(wanted)] == wanted for i in range(len(calls)))):
            return True
    return False


def _epoch(stamp: str) -> float:
    return float(calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")))


# -- tables ----------------------------------------------------------------------------------------
def table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    """A Markdown table."""
    return (
        ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        + ["| " + " | ".join(map(str, r)) + " |" for r in rows]
        + [""]
    )


def _load(section: dict[str, Any]) -> str:
    """The machine's load average (1 minute) before and after a section, when recorded."""
    load = section.get("load_average")
    return f"; load average of the machine {load[0]} before, {load[1]} after" if load else ""


def _along(side: dict[str, Any]) -> str:
    """A run's coverage at its marks, as "60: 812, 180: 1020" (seconds into the run: cov)."""
    return ", ".join(f"{round(a['elapsed_s'])}: {a['cov']}" for a in side.get("along_the_way", [])) or "-"


def _campaign_order(key: str) -> int:
    """Campaign records by length: "campaign" (600 s), then "campaign:SECONDS"."""
    return int(key.partition(":")[2] or 600) if key.startswith("campaign") else 0


def _once(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows without repeats (a short run's marks past its end name its last record again)."""
    return [r for i, r in enumerate(rows) if r not in rows[:i]]


def side_by_side_table(c: dict[str, Any]) -> list[str]:
    """The campaign of the baseline revision vs this tree's, same length, one worker, new workdirs."""
    both = c.get("side_by_side")
    if not both:
        return []
    old, new = both["baseline"], both["new"]
    lines = [
        f"The same campaign ({c['seconds']} s, one worker, new workdir) by the baseline `{old['revision']}` (fork mode, "
        f"{old['seeds']} seeds) and by this tree ({c['seeds']} seeds), run one after the other; ratio: this tree / baseline:",
        "",
    ]
    rows = []
    for label, key in (
        ("inputs checked (seeds and mutations)", "checks"),
        ("checks/s over the run", "checks_per_s"),
        ("distinct APIs exercised", "apis_exercised"),
        ("coverage (libFuzzer's cov at the end; baseline: its last fork-mode merge)", "cov"),
        ("features (ft)", "ft"),
        ("inputs in the workdir's corpus folder at the end", "corpus_files"),
        ("the command's wall time, start to exit, triage included (s)", "command_s"),
    ):
        a, b = old.get(key), new.get(key)
        ratio = round(b / a, 2) if isinstance(a, (int, float)) and isinstance(b, (int, float)) and a else "-"
        rows.append([label, "-" if a is None else a, "-" if b is None else b, ratio])
    done = "done (its time not recorded)" if old.get("first_pass_done") else "not reached"
    rows.append(["first pass over the seeds (start-up included)", done, _seconds(new["first_pass_s"]), "-"])
    return lines + table(["figure", "baseline", "this tree", "ratio"], rows)


def _seconds(value: float | None) -> str:
    return "not reached" if value is None else f"{value:.0f} s ({value / 60:.1f} min)"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def upstream_link(bug: dict[str, Any]) -> str:
    """The upstream issue as a link, or "not reported" for a bug this tool found (known_bugs.json's
    `found_by` and standalone `verified_snippet` say how)."""
    up = bug["upstream"]
    return f"[{up['repo']}#{up['number']}]({up['url']})" if up else "not reported (found by this tool)"


TRIAGE = ROOT / "bench" / "triage"
VERDICTS = ("TRUE", "BY-DESIGN", "FALSE-POSITIVE")


def triage_counts(path: Path) -> dict[str, Any]:
    """A hand triage table's figures (bench/triage/LIB.md, from scripts/triage_table.py): unique
    findings by verdict, root causes, and the rows still unjudged."""
    rows = []
    for line in path.read_text().splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        if line.startswith("| ") and cells[0].isdigit() and len(cells) >= 9:
            rows.append({"root": cells[1], "verdict": cells[7].strip("* ")})
    verdicts = {v: sum(r["verdict"] == v for r in rows) for v in VERDICTS}
    roots = {r["root"] for r in rows}
    return {
        "findings": len(rows),
        "root_causes": len(roots),
        "verdicts": verdicts,
        "unjudged": len(rows) - sum(verdicts.values()),
        "not_bugs_rate": round((verdicts["BY-DESIGN"] + verdicts["FALSE-POSITIVE"]) / len(rows), 3) if rows else None,
        "false_positive_rate": round(verdicts["FALSE-POSITIVE"] / len(rows), 3) if rows else None,
        "findings_per_root_cause": round(len(rows) / len(roots), 2) if roots else None,
    }


def precision_table() -> list[str]:
    """BENCHMARKS.md's precision table, from every hand triage under bench/triage (and, below each
    library, the triage of its first campaigns under bench/triage/first-campaigns, for comparison)."""
    files = sorted(TRIAGE.glob("*.md")) if TRIAGE.is_dir() else []
    if not files:
        return []
    rows = []
    for path in files:
        earlier = TRIAGE / "first-campaigns" / path.name
        rows.append(_precision_row(path, path.stem))
        if earlier.is_file():
            rows.append(_precision_row(earlier, f"{path.stem}, first campaign"))
    headers = ["library", "unique findings", "root causes", "findings / root cause", "TRUE", "BY-DESIGN", "FALSE-POSITIVE"]
    headers += ["not library bugs", "false positives"]
    intro = [
        "## Precision: the unique findings of a 10-minute campaign, judged by hand",
        "",
        "Every unique finding other than missing derivatives, judged TRUE (a library bug), BY-DESIGN (documented",
        "behaviour) or FALSE-POSITIVE (the harness' or the oracle's error) from the library's documentation or",
        "the math, with its reproducer run; one line of reason each in the linked tables. A 'first campaign'",
        "row is the same triage of a campaign before the fixes it led to.",
        "",
    ]
    return intro + table(headers, rows) + [line for folder in sorted(TRIAGE.glob("round*")) for line in _round(folder)]


def _round(folder: Path) -> list[str]:
    """A later triage round's summary from its README: a link, its first paragraph and its first table."""
    text = (folder / "README.md").read_text().split("\n\n") if (folder / "README.md").is_file() else []
    paragraphs = [p for p in text if not p.startswith("#")]
    tables = [p for p in paragraphs if p.startswith("|")]
    prose = [p for p in paragraphs if not p.startswith("|")]
    if not tables or not prose:
        return []
    link = (folder / "README.md").relative_to(ROOT).as_posix()
    title = f"{folder.name[:1].upper()}{folder.name[1:-1]} {folder.name[-1]}" if folder.name[-1].isdigit() else folder.name
    return [f"{title} ([{folder.relative_to(ROOT).as_posix()}]({link})): {prose[0]}", "", *tables[0].splitlines(), ""]


def _precision_row(path: Path, label: str) -> list[Any]:
    c = triage_counts(path)
    v = c["verdicts"]
    rate = lambda x: "-" if x is None else f"{x:.0%}"  # noqa: E731
    link = path.relative_to(ROOT).as_posix()
    counts = [c["findings"], c["root_causes"], c["findings_per_root_cause"], v["TRUE"], v["BY-DESIGN"], v["FALSE-POSITIVE"]]
    return [f"[{label}]({link})", *counts, rate(c["not_bugs_rate"]), rate(c["false_positive_rate"])]


def _regimes_cell(reach: dict[str, Any]) -> str:
    """The reach table's value regimes: how many of the palette's a corpus hit, the rarest with its share."""
    shares = reach.get("regimes")
    if not shares:
        return "-"
    if not reach.get("corpus_inputs"):
        return "empty corpus"
    hit = [r for r, share in shares.items() if share > 0]
    missed = [r for r in shares if r not in hit]
    rarest = min(hit, key=lambda r: shares[r]) if hit else None
    cell = f"{len(hit)} / {len(shares)} in {reach['corpus_inputs']} inputs"
    cell += f"; rarest {rarest} {shares[rarest]:.0%}" if rarest else ""
    return cell + (f"; none: {', '.join(missed)}" if missed else "")


def reach_table() -> list[str]:
    """BENCHMARKS.md's reach table, from every library's bench/reach/LIB.json (scripts/reach.py --out)."""
    files = sorted(REACH.glob("*.json")) if REACH.is_dir() else []
    figures = [json.loads(path.read_text()) for path in files]
    rows = []
    for r in figures:
        before = r.get("before", {})
        rows.append(
            [
                r["library"],
                r["apis"],
                f"{r['failed']}" + (f" (+{r['not_candidates']} not candidates)" if r.get("not_candidates") else ""),
                f"{r['parameters_varied']} / {r['parameters']} ({r['share_varied']:.1%})",
                f"{before['share_varied']:.1%}" if before else "-",
                f"{r['valid_rate']:.1%} of {r['samples']}",
                f"{before['valid_rate']:.1%}" if before else "-",
                _regimes_cell(r),
            ]
        )
    if not rows:
        return []
    headers = ["library", "APIs", "failed", "(API, parameter) pairs varied", "before", "valid-call rate", "before"]
    intro = [
        "## Reach: APIs, parameters varied, value regimes, valid calls",
        "",
        "Written by `scripts/reach.py LIB --out bench/reach/LIB.json` (see its docstring): (API, parameter) pairs",
        "whose value the fuzzer varies (the catalog's parameter statuses), the valid-call rate of random inputs",
        "(decoded, bound and called directly), each beside the catalog before the parameter step, and the value",
        "regimes of the inputs of a 10-minute campaign's corpus (`--corpus`: of the palette's regimes, how many",
        "some input's floating tensor holds; each regime's share of inputs in bench/reach/LIB.json). The corpora",
        "come from one-worker `fuzz LIB --time 600` campaigns from the shipped seeds; a campaign that does not",
        "finish its first pass over the seeds in that time (issue 17) has mutated no input and its corpus holds",
        "none ('empty corpus'). Load average (1 minute) as each run's sampling ended: "
        + (", ".join(f"{r['library']} {r['load_average']}" for r in figures if "load_average" in r) or "-")
        + " (2 cores).",
        "",
    ]
    return intro + table([*headers, "value regimes hit"], rows)


def known_table(results: dict[str, dict[str, Any]], bugs: list[dict[str, Any]]) -> list[str]:
    """The known-bugs table: each library's campaign rows, then its known bugs that no campaign was
    evaluated on yet ("not yet measured")."""
    rows = []
    for lib, r in results.items():
        records = [k for key, k in r.items() if key.split(":")[0] == "known" and k.get("bugs")]
        measured = {(b["api"], b["kind"]) for k in records for b in k["bugs"]}
        rows += [
            [
                lib,
                f"`{b['api']}`",
                b["kind"],
                upstream_link(b),
                "yes" if b["found"] else "no",
                "-" if b["time_to_first_detection_s"] is None else b["time_to_first_detection_s"],
                k["campaign_s"],
                k.get("scenarios", "-"),  # "-": measured before scenario sets existed (core and compiled)
            ]
            for k in records
            for b in k["bugs"]
        ]
        rows += [
            [lib, f"`{b['api']}`", b["kind"], upstream_link(b), "not yet measured", "-", "-", "-"]
            for b in bugs
            if b["library"] == lib and (b["api"], b["kind"]) not in measured
        ]
    if not rows:
        return []
    headers = ["library", "API", "kind", "upstream", "found", "first detection (s)", "campaign (s)", "scenario sets"]
    return ["## Known bugs found from the seed corpus (reported upstream, or found by this tool)", "", *table(headers, rows)]


def markdown(results: dict[str, dict[str, Any]], bugs: list[dict[str, Any]] | None = None) -> str:
    """BENCHMARKS.md's tables from every library's results: accuracy, precision and known bugs of all
    libraries together (`bugs`: bench/known_bugs.json when None), then each library's speed,
    validity, guidance and start-up figures."""
    lines = ["## Oracle accuracy: planted bugs detected / planted, traps flagged (all backends)", ""]
    rows = []
    for lib, r in results.items():
        a = r.get("accuracy")
        if a:
            rows += [[lib, kind, f"{x['detected']} / {x['planted']}"] for kind, x in a["by_kind"].items()]
            rows.append([lib, "**traps flagged (must be 0)**", f"{len(a['traps_flagged'])} of {a['traps']}"])
    lines += table(["library", "kind", "detected / planted"], rows)
    lines += precision_table()
    lines += reach_table()
    lines += reliability_table(results)
    lines += known_table(results, json.loads((RESULTS / "known_bugs.json").read_text()) if bugs is None else bugs)
    lines += programs_table(results)
    lines += program_roots_table(results)
    lines += chaining_table(results)
    for lib, r in results.items():
        lines += [f"## {lib} {r['version']} ({r['date']})", ""]
        if "oracle" in r:
            o = r["oracle"]
            killed = o.get("left_out_killed_the_process") or []
            left_out = f"; left out, they kill the process: {', '.join(killed)}" if killed else ""
            lines += [f"Oracle cost ({o['cases']} seed cases x {o['rounds']}{left_out}):", ""]
            lines += table(
                ["way of checking", "checks/s", "relative to projection oracle"],
                [[x["label"], x["checks_per_s"], x["relative_to_projection"]] for x in o["rows"]],
            )
        if "validity" in r:
            v = r["validity"]
            lines += [f"Validity ({v['seconds']:.0f} s each):", ""]
            rows = [
                [k, x["checks_per_s"], f"{x['valid_rate']:.1%}", x["apis"], x["apis_per_minute"], x.get("native_crashes", 0)]
                for k, x in v.items()
                if k != "seconds"
            ]
            headers = ["inputs", "checks/s", "valid-call rate", "distinct APIs", "APIs per minute", "native crashes"]
            lines += table(headers, rows)
        if "guidance" in r:
            g = r["guidance"]
            ratio = g.get("cov_ratio_guided_to_unguided", "-")
            plain = g.get("cov_ratio_libfuzzer_mutations_to_unguided")
            when = "all at the same time" if g.get("sides") else "one after the other"
            lines += [
                f"Coverage guidance ({g['seconds']} s each from an empty corpus, {when}{_load(g)}; "
                f"cov guided / unguided: {ratio}" + (f", with libFuzzer's mutations only: {plain}" if plain else "") + "):",
                "",
            ]
            lines += table(
                ["mode", "cov", "ft", "executions", "cov along the way (s: cov)"],
                [[k, x["cov"], x["ft"], x["executions"], _along(x)] for k, x in g.items() if isinstance(x, dict)],
            )
        if "throughput" in r:
            t = r["throughput"]
            lines += [
                f"Cold and warm checks ({t['inputs']} seed inputs of different APIs, "
                f"{t['rounds']} rounds of fresh processes{_load(t)}, "
                f"baseline `{t['baseline']}` vs this tree; cold: each input's structure new to the process, warm: the same "
                f"inputs again; seconds per check, wall-clock and CPU time of the process):",
                "",
            ]
            rows = [
                [
                    x["label"],
                    x["cold_s_per_check"],
                    x["cold_s_speedup"],
                    x["cold_cpu_s_speedup"],
                    x["warm_s_per_check"],
                    x["warm_s_speedup"],
                    x["warm_cpu_s_speedup"],
                ]
                for x in t["rows"]
            ]
            headers = ["code", "cold s/check", "cold speed-up", "(CPU)", "warm s/check", "warm speed-up", "(CPU)"]
            lines += table(headers, rows)
            differing = t.get("findings_differ", [])
            lines += [f"Inputs whose finding kinds differ between baseline and this tree: {len(differing)}.", ""]
        if "firstpass" in r:
            t = r["firstpass"]
            lines += [
                f"A worker's first pass over the corpus ({t['inputs']} seed inputs of different APIs, each new to the process, "
                f"{t['rounds']} rounds of fresh processes{_load(t)}; seconds per check):",
                "",
            ]
            rows = [[x["label"], f"`{x['sets']}`", x["cold_cpu_s"], x["cpu_speedup"], x["cold_s"]] for x in t["rows"]]
            lines += table(["check", "scenario sets", "CPU s/check", "CPU speed-up", "wall s/check"], rows)
        if "startup" in r:
            start = r["startup"]
            lines += [
                "Start-up to the first input (process start to the first check: imports, instrumentation, warm-up"
                f"{_load(start)}):",
                "",
            ]
            lines += table(
                ["harness", "seconds", "functions instrumented"],
                [[k, x["seconds"], x["functions"]] for k, x in start.items() if isinstance(x, dict)],
            )
        for c in (r[k] for k in sorted(r, key=_campaign_order) if k == "campaign" or k.startswith("campaign:")):
            ta, again = c["time_accounting"], c["resumed"]
            title = f"A {c['seconds'] // 60}-minute one-worker campaign from the {c['seeds']} shipped seeds, new workdir"
            lines += [f"{title}{_load(c)}:", ""]
            rows = [
                ["first pass over the seeds (start-up included), cold", _seconds(c["first_pass_s"])],
                [f"first pass of a resumed run ({again['first_pass_inputs']} inputs)", _seconds(again["first_pass_s"])],
                ["share of the worker's time checking, after its first minute", _share(ta["checking_share_after_first_minute"])],
                ["share of the worker's time on inputs after the first pass (mutations)", _share(ta["later_share"])],
                ["start-up / first pass / later inputs (s)", f"{ta['startup_s']} / {ta['first_pass_s']} / {ta['later_s']}"],
                ["worker processes (replacements after a crash included)", c["worker_processes"]],
                ["peak memory of a worker (MB)", c["peak_rss_mb"]],
                ["unique findings", c["findings"]],
            ]
            lines += table(["figure", "value"], rows)
            lines += side_by_side_table(c)
            lines += ["Coverage and corpus along the way:", ""]
            along = _once(c["along_the_way"])
            lines += table(
                ["elapsed (s)", "checks", "cov", "corpus (in memory)", "corpus folder"],
                [[x["elapsed_s"], x["execs"], x["cov"] or "-", x["corpus"], x["corpus_files"]] for x in along],
            )
        if "reliability" in r:
            x = r["reliability"]
            replayed = x["replayed"]
            lines += [f"Reliability (a campaign SIGKILLed after {x['seconds']} s, then resumed for as long):", ""]
            kept = f"{x['kept_complete_after_resume']} of {x['findings_before_the_kill']}"
            n, killed = replayed["sampled"], replayed["killed the process"]
            rows = [
                ["processes outliving the SIGKILL", x["processes_outliving_the_kill"]],
                ["findings before the kill, kept complete after the resumed run", kept],
                ["oracle findings replaying from their saved bytes (same signature)", f"{replayed['same signature']} of {n}"],
                ["... replaying to another finding or none / killing the process", f"{replayed['other']} / {killed}"],
                ["native crashes repeated by a re-run", f"{x['native_repeated_by_a_rerun']} of {x['native_crashes']}"],
            ]
            lines += table(["figure", "value"], rows)
        if "robustness" in r:
            lines += robustness_details(r["robustness"])
    return "\n".join(lines)


def programs_table(results: dict[str, dict[str, Any]]) -> list[str]:
    """BENCHMARKS.md's table of the planted interaction bugs found by one-worker campaigns with the
    test-only hook (the programs section), one row per library, planted op and choice of seeds."""
    rows = [
        [
            lib,
            f"`{b['api']}`",
            b["kind"],
            f"{p['seeds']} ({p['seed_files']})",
            "yes" if b["found"] else "no",
            f"`{b['found_as']}`" if b["found_as"] else "-",
            _seconds(b["time_to_first_detection_s"]),
            p["campaign_s"],
            p["checks"],
            " / ".join(map(str, p.get("load_average", ["-"]))),
        ]
        for lib, r in results.items()
        for key, p in r.items()
        if key.split(":")[0] == "programs"
        for b in p["bugs"]
    ]
    if not rows:
        return []
    lines = [
        "## Planted interaction bugs found by a campaign (test-only hook NABLA_TEST_PLANTS)",
        "",
        "One worker, the library's default scenario sets, seeds: the library's program seeds (`programs`, with the "
        "planted op's `relu -> plant`) or the shipped corpus and that seed (`shipped`); load average before / after.",
        "",
    ]
    headers = ["library", "planted op", "kind", "seeds (files)", "found", "found as", "first detection (s)"]
    return lines + table(headers + ["campaign (s)", "checks", "load average"], rows)


def program_roots_table(results: dict[str, dict[str, Any]]) -> list[str]:
    """BENCHMARKS.md's table of the root causes that only programs showed in a campaign from the seed
    corpus (the known section's campaign: decoder-made programs beside single calls, same time)."""
    rows = []
    for lib, r in results.items():
        for key, k in r.items():
            roots = k.get("roots") if key.split(":")[0] == "known" else None
            if roots:
                only = "; ".join(_program_root_cell(x) for x in roots["only_programs"])
                counts = [roots["root_causes"], roots["with_program_findings"], len(roots["only_programs"])]
                rows.append([lib, k["campaign_s"], k.get("scenarios", "-"), *counts, only or "-"])
    if not rows:
        return []
    lines = [
        "## Root causes found only by programs, in campaigns from the seed corpus",
        "",
        "One worker, decoder-made programs beside single calls in the same run (the known-bugs section's campaign); "
        "flaky native crashes left out. A root cause is found only by programs when no single call of the campaign "
        "showed it; whether it is an interaction of calls is for a person to judge (see the programs prose).",
        "",
    ]
    headers = ["library", "campaign (s)", "scenario sets", "root causes", "with a finding on a program", "only programs"]
    return lines + table([*headers, "those (programs, kinds)"], rows)


def _program_root_cell(root: dict[str, Any]) -> str:
    return f"{', '.join(f'`{a}`' for a in root['programs'])} ({', '.join(root['kinds'])})"


def chaining_table(results: dict[str, dict[str, Any]]) -> list[str]:
    """BENCHMARKS.md's table of the decoder's valid programs (the chaining section), per library."""
    rows = []
    for lib, r in results.items():
        c = r.get("chaining")
        if c:
            old, new = c["baseline"], c["this tree"]
            rows.append(
                [
                    lib,
                    f"`{c['revision']}`: {CHAINING_CHANGES.get(c['revision'], '-')}",
                    c["programs"],
                    _both(old, new, "invalid_rate", ".1%"),
                    _both(old, new, "checked_rate", ".1%"),
                    round(new["checked_rate"] / old["checked_rate"], 2) if old["checked_rate"] else "-",
                    _both(old, new, "checked_several"),
                    _both(old, new, "checked_sequences"),
                    _both(old, new, "native_crashes", default=0),
                    _both(old, new, "timeouts", default=0),
                    " / ".join(map(str, c.get("load_average", ["-"]))),
                ]
            )
    if not rows:
        return []
    lines = [
        "## Decoder-made programs: invalid inputs and programs checked, baseline / this tree",
        "",
        "Random bytes (lengths 8 to 199, the same per library) decoded until that many are programs, each program's "
        "direct call run by the baseline revision's decoder and by this tree's (the change this tree made after the "
        "baseline in the second column); checked: no filter at all (not invalid, finite, something to differentiate); "
        "of those, the programs whose later calls take several tensors, and the distinct sequences of APIs.",
        "",
    ]
    headers = ["library", "baseline: the change after it", "programs", "invalid input", "checked"]
    headers += ["checked, this tree / baseline", "checked, several tensors", "checked sequences", "native crashes"]
    headers += ["timeouts", "load average"]
    return lines + table(headers, rows) + mix_table(results)


def mix_table(results: dict[str, dict[str, Any]]) -> list[str]:
    """BENCHMARKS.md's table of what programs cost single calls (the mix section)."""
    rows = []
    for lib, r in results.items():
        m = r.get("mix")
        if m:
            old, new = m["baseline"], m["this tree"]
            rows.append(
                [
                    lib,
                    f"`{m['revision']}`",
                    f"{new['single_calls']} + {new['programs']}",
                    _both(old, new, "s_per_single_call"),
                    _both(old, new, "s_per_program"),
                    _both(old, new, "cpu_s_per_program"),
                    _both(old, new, "single_calls_per_s"),
                    round(new["single_calls_per_s"] / old["single_calls_per_s"], 3),
                    round(new["single_calls_per_cpu_s"] / old["single_calls_per_cpu_s"], 3),
                    f"{_program_share(old):.1%} / {_program_share(new):.1%}",
                    _both(old, new, "native_crashes"),
                    " / ".join(map(str, m.get("load_average", ["-"]))),
                ]
            )
    if not rows:
        return []
    lines = [
        "",
        "What programs cost single calls (`--sections mix`): shipped seeds checked as a worker does (the library's "
        "default scenario sets), every fourth made a program by bytes inserted after its values, the same bytes by "
        "the baseline's decoder and this tree's in alternating fresh processes (2 rounds); seconds include decoding; "
        f"single calls per second of a campaign whose inputs are programs at the decoder's odds (1 in {PROGRAM_ODDS}).",
        "",
    ]
    headers = ["library", "baseline", "single calls + programs, all runs", "s per single call", "s per program"]
    headers += ["CPU s per program", "single calls per s", "this tree / baseline", "the same in CPU time"]
    headers += ["programs' share of CPU time", "native crashes", "load average"]
    return lines + table(headers, rows)


def _both(old: dict[str, Any], new: dict[str, Any], key: str, spec: str = "", default: Any = "-") -> str:
    """A figure of the baseline and of this tree, "baseline / this tree" (`spec`: the numbers' format)."""

    def one(row: dict[str, Any]) -> str:
        value = row.get(key, default)
        return format(value, spec) if spec and isinstance(value, (int, float)) else str(value)

    return f"{one(old)} / {one(new)}"


def _program_share(row: dict[str, Any]) -> float:
    """The share of a campaign's CPU time that programs take at the decoder's odds."""
    programs = row["cpu_s_per_program"] / PROGRAM_ODDS
    return programs / (row["cpu_s_per_single_call"] * (1 - 1 / PROGRAM_ODDS) + programs)


def reliability_table(results: dict[str, dict[str, Any]]) -> list[str]:
    """BENCHMARKS.md's reliability table: each library's random inputs through the harness (robustness)
    and its campaign killed and resumed (reliability), where measured."""
    rows = []
    for lib, r in results.items():
        x, k = r.get("robustness"), r.get("reliability")
        if not x and not k:
            continue
        row: list[Any] = [lib]
        if x:
            rate = f"{x['inputs_per_s']} / s" if x["inputs_per_s"] else "-"
            apis = len(x["native_crashes_by_api"])
            row += [f"{x['inputs']:,} of {x['goal']:,}", rate, x["harness_exception_count"], x["harness_error_count"]]
            row += [f"{x['native_crashes']} ({apis} APIs)", x["over_memory_budget"], x["peak_rss_mb"]]
        else:
            row += ["-"] * 7
        if k:
            replayed = k["replayed"]
            row += [f"{k['kept_complete_after_resume']} of {k['findings_before_the_kill']}", k["processes_outliving_the_kill"]]
            row += [f"{replayed['same signature']} of {replayed['sampled']}"]
        else:
            row += ["-"] * 3
        rows.append(row)
    if not rows:
        return []
    headers = ["library", "random inputs (goal)", "rate", "harness exceptions", "harness errors", "native crashes and hangs"]
    headers += ["workers over the memory budget", "peak memory of a worker (MB)", "findings kept across kill and resume"]
    headers += ["processes outliving the kill", "findings replaying from their saved bytes"]
    intro = [
        "## Reliability: random inputs through the harness, a campaign killed and resumed",
        "",
        "Random inputs: random bytes of the seeds' lengths through the harness' own entry, instrumented as under",
        "libFuzzer (`FuzzSession.test_one_input` behind the memory guard; findings stored, not raised), with the",
        "scenario sets a campaign's worker runs after its first pass (the library's defaults), in a child",
        "process replaced after a native crash, counted across runs toward the goal (`--sections robustness`,",
        "bench/robustness/LIB.json). The rate is inputs over the runs' wall time (a run of several input workers",
        "at once, `--robustness-workers N`, counts all their inputs): each worker's start-up",
        "(imports, warm-up, instrumentation), every check, storing findings and hangs included; the re-runs",
        "by `repro` after a run are not. Harness exceptions escape the entry; harness errors are exceptions of",
        "this project's code that a stage of the oracle caught: both are our bugs and must be 0. Each native",
        "crash's input is saved under bench/robustness/LIB/ and re-run with `nabla-atheris repro --lib LIB FILE`",
        "(the library section below names the signal, the scenario and the call); a hang is an input still",
        "running after the library's campaign -timeout (killed, not re-run; the oracle's own cost on a huge",
        "output counts too). Workers over the memory budget: ended by the harness before an input",
        "(NABLA_MAX_RSS_MB), replaced. Kill and resume (`--sections reliability`): a one-worker campaign",
        "SIGKILLed, then resumed; its oracle findings (up to 40) replayed from their saved bytes, the same",
        "signature again.",
        "",
    ]
    return intro + table(headers, rows)


def robustness_details(x: dict[str, Any]) -> list[str]:
    """A library's random inputs through the harness: its runs, harness exceptions and native crashes."""
    workers = lambda run: f" ({run['workers']} workers)" if run.get("workers", 1) > 1 else ""  # noqa: E731
    loads = ", ".join(f"{run['load_average'][0]}-{run['load_average'][1]}{workers(run)}" for run in x["runs"])
    lines = [
        f"Random inputs through the harness: {x['inputs']:,} of the goal {x['goal']:,} in {x['seconds']} s over "
        f"{len(x['runs'])} run(s) (load average of the machine before-after each: {loads}); {x['worker_processes']} worker "
        f"processes; valid-call rate {_share(x['valid_rate'])}, {x['apis']} distinct APIs; harness exceptions "
        f"{x['harness_exception_count']}, harness errors {x['harness_error_count']}.",
        "",
    ]
    for e in x["harness_exceptions"] + x["harness_errors"]:
        lines.append(f"- harness: {e.get('error') or '; '.join(e['errors'])} (input `{e['input'][:80]}`)")
    if x["harness_exceptions"] or x["harness_errors"]:
        lines.append("")
    if x["native_crashes_by_api"]:
        rows = []
        for c in x["native_crashes_by_api"]:
            said = sorted({m["message"].removeprefix("nabla-atheris: ") for m in c["repro"] if m["exit"] == 5})
            again = f"{sum(m['exit'] == 5 for m in c['repro'])} of {len(c['repro'])}"
            signals = ", ".join(c["signals"])
            call = f"`{c['call']}`" if c.get("call") else "-"
            rows.append([f"`{c['api']}`", c["crashes"], signals, again, "; ".join(said) or "-", call, f"`{c['inputs'][0]}`"])
        headers = [
            "API",
            "native crashes",
            "signal",
            "repeated by `repro`",
            "what `repro` says",
            "its first input's call",
            "that input (bench/robustness/LIB/)",
        ]
        lines += table(headers, rows)
    return lines


HEADER = """# Benchmarks

Written by `scripts/bench.py` from `bench/results-*.json` (one file per library; every figure of a
library measured in one run on the machine named in the notes, so compare ratios, not absolute
speeds). Reproduce with

    PYTHONPATH=. .venv/bin/python scripts/bench.py --lib torch --guidance-seconds 180 --campaign WORKDIR
    PYTHONPATH=. .venv/bin/python scripts/bench.py --lib tf --guidance-seconds 180 --campaign-seconds 600
    PYTHONPATH=. .venv/bin/python scripts/bench.py --lib jax --guidance-seconds 180
    PYTHONPATH=. scripts/oneflow-env python scripts/bench.py --lib oneflow --guidance-seconds 180

The coverage-guidance tables come from `--sections guidance --guidance-seconds 600` (JAX, TensorFlow)
and `180` (torch, OneFlow), with the three sides of each library running at once on a machine that
helpers' campaigns shared (load average 4 to 14): guided as campaigns run (libFuzzer's mutations and,
one in four, a new API for the input's other choices and values: `nabla_atheris/mutator.py`), guided
with libFuzzer's mutations only, and random bytes of the same lengths. The new-API mutation adds 7%
(JAX), 15% (TF), 20% (torch) and 34% (OneFlow) coverage at equal time; against random bytes, guided
runs from an empty corpus are even for JAX and TF (a few hundred executions in 10 minutes), ahead
for OneFlow and behind for torch at 180 s under that load (about 1,200 executions, where a quiet
machine's earlier one-after-the-other run made 8,700 and guided led 1.32x). From an empty corpus
coverage grows mostly with the number of distinct APIs met, and random bytes draw a new API with
every input: guidance pays once executions outnumber the catalog's APIs many times over.

(`--campaign WORKDIR` evaluates the known bugs on an existing campaign, here the 30-minute 2-worker
one; otherwise a campaign of `--campaign-seconds` runs from the seed corpus. Libraries without
known bugs skip it.) The cold/warm checks, start-up and campaign figures of JAX and TensorFlow come from

    PYTHONPATH=. .venv/bin/python scripts/bench.py --lib LIB --sections throughput,startup,campaign \\
        --campaign-seconds 600 --resume-seconds 180

on a machine that other campaigns and test runs shared at the time (load average 5 to 9 on 2 cores,
read during the runs; the script now records it with each table): the ratios of alternating fresh
processes (cold and warm checks) hold; seconds, and campaigns run one after the other (this tree,
then the baseline), are slower and noisier than on an idle machine. The cold and warm checks compare
like with like: this tree runs the baseline's scenario sets (first and second order, compiled) on seeds
of APIs the baseline's catalog has, first with an empty persistent compilation cache and then with the
cache that run left (what a second worker or a resumed campaign finds); a last row runs today's default
sets (with vectorized and user-defined-rule scenarios for JAX and TensorFlow), what a campaign pays.

The 30-minute campaign tables of PyTorch, OneFlow and TensorFlow (issue 17's seed pass and share of
mutated inputs) come from `--sections campaign,known --campaign-seconds 1800 --resume-seconds 180
--baseline none`, run on 2026-12-02: PyTorch and OneFlow side by side, then TensorFlow alone, while
this project's triage and property probes ran at nice 19 (load average 5 to 7 during TensorFlow's run:
its first pass took 19.8 minutes there against 7.6 minutes at load 1 to 4 in the 10-minute table; the
seed pass targets need a quiet machine). PyTorch's and OneFlow's workers are replaced after native
crashes of the library (7 and 37 processes); each replacement replays the corpus (checked inputs up to
first order), which is where OneFlow's time goes (1,076 of 1,592 s). The known-bugs rows of 1,800 s
and the table of root causes found only by programs come from the same campaigns.

The known-bugs rows of scenario sets `default,aot,inductor/8` come from a 570-second one-worker
PyTorch campaign from the seed corpus (`fuzz torch --scenarios default,aot,inductor/8`, then
`--sections known --campaign WORKDIR --scenarios default,aot,inductor/8`; load average 6 to 8): 381
checks, 381 of the 864 seeds; time per scenario set aot 270 s, Inductor 254 s, core 5 s, batched 3 s,
custom 1 s. Its compiled-mismatch rows are out of its reach: the target of multilabel_margin_loss
has the range [0, 5) in the catalog (the bug needs -1), margin_ranking_loss's needs a bf16 point the
core scenarios dispute, quantile's a form the harness does not call.

The rows of scenario sets `core,batched` come from one-worker campaigns from the seed corpus of
PyTorch (300 s: 6,773 checks) and TensorFlow (480 s: 193 checks, 193 of the 745 seeds), then
`--sections known --campaign WORKDIR --scenarios core,batched` (load average 6 to 11). The bugs of
vmap and of TensorFlow's while-loop Jacobian found by this tool and not reported upstream are in
`bench/known_bugs.json` with standalone reproducers; unfold_copy's needs a window of size 0, which
the 300-second campaign did not mutate into.

Known bugs that need several calls (issue 19) are named in `bench/known_bugs.json` by their program
(`torch.movedim -> torch.nn.functional.nll_loss`, `jax.nn.relu -> jax.numpy.sqrt`,
`tf.identity -> tf.math.multiply -> tf.math.multiply`), each verified standalone on the installed
versions and carrying the hand-written case that `check` flags. Their rows of scenario sets
`default` come from 600-second one-worker campaigns from the seed corpus (`fuzz LIB --time 600`, then
`--sections known --campaign WORKDIR`; PyTorch's with `--scenarios default`, recorded apart from the
30-minute campaign's rows): PyTorch 27,477 checks (load average 2 to 7), JAX 399 checks, 399 of its
719 seeds (0.7 checks/s; load average 3 to 7, the PyTorch campaign and then the test suite shared the
machine), TensorFlow 700 checks, 700 of its 766 seeds (load average 3 to 4; it found expm's and
QuantizeAndDequantizeV4Grad's bugs at 344 s and 207 s, the while-loop Jacobian's at 13 s). None of
the three was found. Two are out of a campaign's reach by construction: nll_loss and multiply take
a second tensor, and the decoder chains only calls whose first argument is their only tensor (the
single call nll_loss agrees under every scenario set: its input kinds are not permutations).
relu -> sqrt is within reach (both APIs chain), but it needs the decoder to pick sqrt
among JAX's 840 chaining templates right after relu, and this campaign did not finish its first pass
over the seeds. The same PyTorch run found slogdet, solve, layer_norm, householder_product and the
autograd.Function rule within 8 to 24 s. Its softmax, det, cholesky_inverse and roll rows first read
"no" although the run met those bugs under other names or in programs
(`torch.special.log_softmax -> torch.amax`, `torch.Tensor.det -> torch.Tensor.expand`,
`torch.Tensor.cholesky_inverse`, `torch.Tensor.roll -> torch.amax`): a known bug was matched by its
API's exact name. Known bugs are now matched as the tool groups root causes (the bug's function
under any spelling, or a program keyed by a call that shows it alone); re-evaluated on the same
workdir, softmax (11.2 s), det (8.2 s), cholesky_inverse (21.2 s) and roll (8.2 s) read "yes".
Since that run, a program finding that any of its calls (the first included) shows alone is keyed
by the earliest such call, so such programs are no longer root causes of their own.

Since then a later call of several tensors takes an earlier output (README, programs): both programs
that were out of reach are made by the decoder from bytes (`tests/test_decoder.py`: movedim's
(1, 3, 3, 1) output in nll_loss's input, its (1, 3, 1) target drawn beside it; an output in both
operands of a product, then the product and the output), and `check` of those decoder-made cases
flags pytorch#175084 and tensorflow#127753. PyTorch's rows of scenario sets `default` now come from
a 600-second one-worker campaign of that decoder from the seed corpus (`fuzz torch --time 600`,
10,815 checks, load average 8 to 9: TensorFlow and JAX benchmarks of other work shared the machine):
the same nine known bugs as the campaign before (det, slogdet and roll at 25.3 s, the
autograd.Function rule 33.3 s, softmax 35.3 s, solve 51.3 s, layer_norm 52.3 s, cholesky_inverse
57.3 s, householder_product 61.3 s), and not movedim -> nll_loss. Its corpus kept 142 programs, 84 of
them with a later call of several tensors (15 taking a second earlier output), every one checked;
none is a permuting view before nll_loss: the bug needs a view's seed mutated into a program,
nll_loss picked among PyTorch's 2,730 chaining slots (1,306 of templates of several tensors: that
campaign's decoder made each a pick; an API's are one pick since) and the view's dims fitting the loss
(N = 1, the two middle dims equal), which 10,815 checks did not meet.

Known bugs added to `bench/known_bugs.json` after those campaigns read "not yet measured" until a
campaign is evaluated on them (`--sections known --campaign WORKDIR`): from the trackers (issue 19),
a JAX program of four calls (jax-ml/jax#40315: an outer reverse pass loses tanh(u) * u * u's second
derivative at a saturated u), JAX's betaln (second derivative at a == b) and sinc (near 0) and
TensorFlow's experimental.numpy.sinc (NaN gradient at 0), single calls; and, found by a hand sweep
of permuted views, forward mode of group_norm raising on a channels-last view (`torch.movedim ->
torch.nn.functional.group_norm`); and OneFlow's scatter(reduce='multiply'), whose src gradient is 1
(TRUE in the first OneFlow campaigns' triage). Each is verified standalone on the installed versions
and flagged by `check` (the entries' notes quote it).

The reliability table comes from

    PYTHONPATH=. .venv/bin/python scripts/bench.py --lib LIB --sections robustness[,reliability] \\
        --robustness-seconds S --reliability-seconds 120

one library at a time, OneFlow's through `scripts/oneflow-env python`, on a 2-core machine that other
engineers' campaigns and tests shared (each run's load average is listed with its library; it was 2
to 10). Running the robustness section again continues its counts toward the goal: OneFlow's come from
three runs (the first stopped by hand at a hang, before hangs were timed out), TensorFlow's from two,
JAX's and torch's from one. Crashes saved before their calls were recorded are listed with the call
their input decodes to now, or "-" when it now decodes to another API (the catalog and the decoder
changed since: torch's and JAX's).

Programs (issue 19), measured by hand, not by this script: one 600-second one-worker PyTorch
campaign from the seed corpus with its five program seeds (`fuzz torch --time 600`; 3,337 checks;
load average 4 to 10, a test run shared the machine) found 108 root causes; findings on programs
(chains of 2 or 3 calls) fall under 14 of them. 8 are shared with single calls of the same campaign
(documented missing derivatives by their error messages, and logsumexp's and softmax's in-place
error in rev-over-fwd, which `exp -> logsumexp` and `... -> softmax -> softmax` meet inside softmax).
6 were found only by programs. Judged by hand: `det -> expand -> expand` and
`layer_norm -> normalize -> softmax` (second order) minimize to their first call alone
(`minimize` drops calls first: det of the 1x1 matrix [1.0], rev-over-fwd 1.01 against 0; layer_norm
fwd-over-fwd): single-call bugs that the program reached first, not interactions; the
`ldl_factor -> flatten -> triu` internal assert is ldl_factor's own direct call at the drawn values;
`logdet -> expand`, `batch_norm -> softmax -> softmax` (second order) and
`as_strided_scatter -> hsplit -> as_strided` (rev-vs-numeric; as_strided reads hsplit's view
through its storage, probably outside what its derivative promises, not checked) were not minimized
in the time. So: no root cause in that campaign is a confirmed interaction of calls; the planted
interaction bug (`tests/planted_torch.py` sparse_input_jvp, counted by the accuracy suite as
`fwd-vs-numeric (program)`) shows what the program scenarios detect that a single call cannot.
Since then a program finding that one of its calls shows alone, on the values that call received,
is keyed by the earliest such call (README, Findings), so such reached single-call bugs no longer count as programs' root
causes. OneFlow, the same measure by hand: a 600-second one-worker campaign from the seed corpus (`fuzz
oneflow --time 600`, 19,660 checks, load average 3 to 5: a JAX benchmark shared the machine) found 69
root causes; 7 findings were on programs, under 7 root causes, 3 of them shared with single calls. The 4
found only by programs are no interaction: three native crashes whose first call crashes alone on an
empty tensor (`as_strided` of a [0, 0] tensor, `log_softmax` of a [0] tensor, `embedding`: `repro` of
each first call alone dies the same way, SIGSEGV or SIGABRT in the direct call; such crashes are keyed
by the first call since, README, Findings), and `scatter -> cosh -> acos` (rev-vs-numeric on 0-d
tensors) did not reproduce from its saved input (`repro`: no finding; its scatter writes a 0-d tensor at
index -1, probably beyond what OneFlow checks, so memory decides). The planted interaction bugs'
campaign table comes from

    PYTHONPATH=. .venv/bin/python scripts/bench.py --lib LIB --sections programs --programs-seconds 300
    PYTHONPATH=. .venv/bin/python scripts/bench.py --lib torch --sections programs --programs-seconds 600 --programs-seeds shipped

(the test-only hook `NABLA_TEST_PLANTS` adds each library's planted op and its `relu -> plant` seed;
the finding is keyed by the planted op, which shows it alone on relu's output, zeros included), and
the decoder-made programs' table from `--sections chaining` (OneFlow's through `scripts/oneflow-env
python`), what programs cost single calls from `--sections mix --mix-inputs 480`. With later calls
of several tensors (baseline `144ebb4`, one pick per API of such templates), PyTorch's 1,000 programs
are 30.3% invalid (29.0% before) and 51.7% checked (52.5%), 124 of them with a later call of several
tensors; TensorFlow's and JAX's 200 each: invalid 31.0% and 23.5% (22.5%, 14.5%), checked 52.0% and
49.5% (50.0%, 52.0%), 14 and 22 of several tensors. When each template slot was a pick of its own
(more than half the list), the invalid rates were 35.9%, 37.0% and 31.5%, and one JAX program
(trace -> hyp2f1 in bfloat16) hung past the campaign timeout: `jax.scipy.special.hyp2f1` alone on
those values did not return in 120 s (not investigated further). In the mix section single calls do
the same work in both trees (their spread, 0.0124 / 0.0114 CPU s each, and the wall-clock figures are
the machine's load), and programs take 9.4% / 7.0% of a campaign's CPU time at the decoder's odds:
single calls keep more than 90% of it, no drop. OneFlow's campaign
ended after 33 of its 300 seconds, the plant found at 4 s: its worker died of native crashes of
OneFlow on mutated inputs (bmm, dstack) and the campaign stops when a worker ends 3 times before its
first input.

What each table measures: see the script's docstring. Known upstream bugs: `bench/known_bugs.json`.

"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lib", required=True)
    parser.add_argument("--inputs-worker", metavar="CONFIG", help=argparse.SUPPRESS)
    parser.add_argument("--screen-worker", nargs="+", metavar="STATE SEED", help=argparse.SUPPRESS)
    parser.add_argument("--replay-worker", nargs="+", metavar="STATE FOLDER", help=argparse.SUPPRESS)
    parser.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated, of {', '.join(SECTIONS)}")
    parser.add_argument("--seconds", type=float, default=60, help="validity: seconds per input source")
    parser.add_argument("--guidance-seconds", type=int, default=300, help="coverage guidance: seconds per mode")
    parser.add_argument("--oracle-cases", type=int, default=30)
    parser.add_argument("--throughput-cases", type=int, default=40, help="throughput: seed inputs of different APIs")
    parser.add_argument(
        "--baseline",
        default=BASELINE,
        help="throughput, campaign: the revision compared with this tree ('none': no baseline campaign)",
    )
    parser.add_argument("--campaign", type=Path, help="known bugs: an existing campaign workdir to evaluate")
    parser.add_argument("--campaign-seconds", type=int, default=1800, help="campaign (and known bugs): its budget")
    parser.add_argument(
        "--scenarios", help="known bugs: the campaign's scenario sets (as fuzz --scenarios; kept apart from the defaults' record)"
    )
    parser.add_argument("--programs-seconds", type=int, default=300, help="programs: the campaign's budget")
    parser.add_argument(
        "--programs-seeds", choices=PROGRAM_SEEDS, default="programs", help="programs: the campaign's seeds (see programs())"
    )
    parser.add_argument("--chaining-programs", type=int, default=1000, help="chaining: decoder-made programs per decoder")
    parser.add_argument("--chaining-baseline", default=CHAINING_BASELINE, help="chaining, mix: the revision compared")
    parser.add_argument("--mix-inputs", type=int, default=400, help="mix: random inputs per run")
    parser.add_argument("--resume-seconds", type=int, default=300, help="campaign: the budget of the resumed run")
    parser.add_argument("--reliability-seconds", type=int, default=240, help="reliability: seconds before the kill, and after")
    parser.add_argument("--robustness-seconds", type=float, default=1800, help="robustness: seconds of this run at most")
    parser.add_argument("--robustness-goal", type=int, default=10000, help="robustness: random inputs in all, earlier runs'")
    parser.add_argument("--robustness-workers", type=int, default=1, help="robustness: input workers at once")
    args = parser.parse_args()
    if args.screen_worker:
        return screen_worker(args.lib, Path(args.screen_worker[0]), args.screen_worker[1:])
    if args.replay_worker:
        return replay_worker(args.lib, Path(args.replay_worker[0]), args.replay_worker[1:])
    if args.inputs_worker:
        return inputs_worker(args.lib, json.loads(args.inputs_worker))
    sections = [s for s in args.sections.split(",") if s]  # none: the tables are written again
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"results-{args.lib}.json"
    result = json.loads(path.read_text()) if path.is_file() else {}
    if sections:
        result.update(version=get_backend(args.lib).version(), date=time.strftime("%Y-%m-%d"))
    campaign_workdir = Path(tempfile.mkdtemp(prefix=f"nabla-campaign-{args.lib}-"))
    ran_campaign = lambda: campaign_workdir if "campaign" in sections else None  # noqa: E731  (its findings, first run)
    runs = {
        "oracle": lambda: oracle_cost(args.lib, args.oracle_cases, 2),
        "throughput": lambda: throughput(args.lib, args.throughput_cases, 2, args.baseline),
        "validity": lambda: validity(args.lib, args.seconds),
        "guidance": lambda: guidance(args.lib, args.guidance_seconds),
        "startup": lambda: startup(args.lib),
        "accuracy": lambda: accuracy(args.lib),
        "campaign": lambda: campaign(args.lib, args.campaign_seconds, args.resume_seconds, campaign_workdir, args.baseline),
        "known": lambda: known_bugs(args.lib, args.campaign or ran_campaign(), args.campaign_seconds, args.scenarios),
        "robustness": lambda: robustness(args.lib, args.robustness_seconds, args.robustness_goal, args.robustness_workers),
        "reliability": lambda: reliability(args.lib, args.reliability_seconds, 40),
        "firstpass": lambda: first_pass(args.lib, args.throughput_cases, 2),
        "programs": lambda: programs(args.lib, args.programs_seconds, args.programs_seeds),
        "chaining": lambda: chaining(args.lib, args.chaining_programs, args.chaining_baseline),
        "mix": lambda: mix(args.lib, args.mix_inputs, 2, args.chaining_baseline),
    }
    for section in sections:
        print(f"{args.lib}: {section} ...", file=sys.stderr, flush=True)
        before = os.getloadavg()[0]
        key = f"known:{args.scenarios}" if section == "known" and args.scenarios else section  # one record per choice of sets
        key = f"programs:{args.programs_seeds}" if section == "programs" else key  # one record per choice of seeds
        key = f"campaign:{args.campaign_seconds}" if section == "campaign" and args.campaign_seconds != 600 else key
        value = runs[section]()
        length = value.get("campaign_s") if section == "known" else None  # a campaign not of ~600 s: a record of its own
        key = f"known:{args.scenarios or 'default'}@{round(length, -2):.0f}" if length and abs(length - 600) > 60 else key
        result[key] = value
        if isinstance(result[key], dict):  # other work on the machine skews seconds, less so ratios
            result[key]["load_average"] = [round(before, 1), round(os.getloadavg()[0], 1)]
        path.write_text(json.dumps(result, indent=1))
    everything = {p.stem.removeprefix("results-"): json.loads(p.read_text()) for p in sorted(RESULTS.glob("results-*.json"))}
    tables = markdown(everything)
    (ROOT / "BENCHMARKS.md").write_text(HEADER + tables)
    print(tables)


if __name__ == "__main__":
    main()
