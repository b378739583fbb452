"""Campaign statistics. Every fuzzing process writes its own counters to a file of its own in the
campaign's statistics folder, after every check (libFuzzer exits without running atexit handlers,
and a check takes far longer than writing a small JSON file). Parallel workers never write the same
file, and a restarted or resumed campaign adds new files: the campaign's totals are the sum over the
folder, so nothing is counted twice and nothing is lost."""

from __future__ import annotations

import json
import os
import resource
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nabla_atheris.jsonfiles import read_json_object
from nabla_atheris.verdict import Verdict

WORKER_GLOB = "worker-*.json"


REPLAY, FUZZ = "replay", "fuzz"  # an input of libFuzzer's first pass over the corpus, or any later one


def process_start() -> float:
    """When this process started (seconds since the epoch; Linux' /proc, else now)."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        boot = next(float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime"))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return time.time()


def peak_rss_mb() -> float:
    """The largest resident set size of this process so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Stats:
    """Counters of one process: executions, valid calls, APIs, filters by reason (each reason once per
    case), findings by kind, new root causes, harness errors (nabla-atheris' own, by stage and message),
    the seconds spent in each scenario set, and where its time went: start-up until the first input,
    then checks of the first pass over the corpus (`replay`) and of every later input (`fuzz`:
    mutations, and inputs other workers found)."""

    folder: Path | None = None
    started: float = field(default_factory=time.time)
    process_started: float = field(default_factory=process_start)
    first_input_at: float | None = None
    replay_inputs: int = 0  # inputs of the first pass (set by the harness)
    phase_execs: Counter = field(default_factory=Counter)
    phase_s: Counter = field(default_factory=Counter)
    execs: int = 0
    valid: int = 0
    apis: set[str] = field(default_factory=set)
    filtered: Counter = field(default_factory=Counter)
    findings: Counter = field(default_factory=Counter)
    new_findings: Counter = field(default_factory=Counter)
    new_roots: int = 0
    harness_errors: Counter = field(default_factory=Counter)
    scenario_s: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.path = None if self.folder is None else self.folder / f"worker-{os.getpid()}-{time.time_ns()}.json"
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)

    def phase(self) -> str:
        """The phase of the next input: REPLAY while the first pass lasts, FUZZ after it."""
        return REPLAY if sum(self.phase_execs.values()) < self.replay_inputs else FUZZ

    def update(
        self, verdict: Verdict, new_kinds: list[str], new_roots: int = 0, seconds: float = 0.0, started_at: float = 0.0
    ) -> None:
        """Count one checked case (that took `seconds` from `started_at`) and write the counters to
        this process' file."""
        if self.first_input_at is None:
            self.first_input_at = started_at or time.time()
        phase = self.phase()
        self.phase_execs[phase] += 1
        self.phase_s[phase] += seconds
        self.execs += 1
        if verdict.valid and verdict.case is not None:
            self.valid += 1
            self.apis.update(verdict.case.apis())
        self.filtered.update(set(verdict.filters))
        self.findings.update(f.kind for f in verdict.findings)
        self.new_findings.update(new_kinds)
        self.new_roots += new_roots
        self.harness_errors.update(f"{e[:200]} [{verdict.case.name()}]" for e in verdict.harness_errors)  # which API to re-check
        self.scenario_s.update(verdict.seconds)
        if self.path is not None:
            self.flush()

    def snapshot(self) -> dict[str, Any]:
        now = time.time()
        ready = None if self.first_input_at is None else round(self.first_input_at - self.process_started, 2)
        return {
            "worker_s": round(max(now - self.started, 1e-9), 2),
            "pid": os.getpid(),
            "process_started": round(self.process_started, 2),
            "wall_s": round(now - self.process_started, 2),
            "ready_s": ready,
            "replay_inputs": self.replay_inputs,
            "phase_execs": dict(self.phase_execs),
            "phase_s": {k: round(v, 3) for k, v in self.phase_s.items()},
            "peak_rss_mb": round(peak_rss_mb()),
            "execs": self.execs,
            "valid": self.valid,
            "filtered": dict(self.filtered),
            "findings": dict(self.findings),
            "new_findings": dict(self.new_findings),
            "new_roots": self.new_roots,
            "harness_errors": dict(self.harness_errors.most_common(50)),
            "scenario_s": {name: round(seconds, 3) for name, seconds in self.scenario_s.items()},
            "apis": sorted(self.apis),
        }

    def flush(self) -> None:
        assert self.path is not None
        fd, tmp = tempfile.mkstemp(prefix=".stats-", dir=self.path.parent)
        with os.fdopen(fd, "w") as handle:
            json.dump(self.snapshot(), handle)
        os.replace(tmp, self.path)


class StatsFormatError(ValueError):
    """A worker's statistics file is unreadable or malformed."""


COUNTER_FIELDS = ("filtered", "findings", "new_findings", "harness_errors")


def read_snapshot(path: Path) -> dict[str, Any]:
    """One worker's counters, checked field by field; `StatsFormatError` names what is wrong."""
    snapshot = read_json_object(path, StatsFormatError)
    counts = [snapshot.get("execs"), snapshot.get("valid")]
    if not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in counts):
        raise StatsFormatError(f"{path}: 'execs' and 'valid' must be counts")
    if not isinstance(snapshot.get("worker_s"), (int, float)) or isinstance(snapshot.get("worker_s"), bool):
        raise StatsFormatError(f"{path}: 'worker_s' must be a number")
    apis = snapshot.get("apis")
    if not isinstance(apis, list) or not all(isinstance(a, str) for a in apis):
        raise StatsFormatError(f"{path}: 'apis' must be a list of names")
    for name in COUNTER_FIELDS:
        counter = snapshot.get(name, {})
        good = isinstance(counter, dict) and all(isinstance(v, int) and not isinstance(v, bool) for v in counter.values())
        if not good:
            raise StatsFormatError(f"{path}: {name!r} must map names to counts")
    seconds = snapshot.get("scenario_s", {})
    if not (isinstance(seconds, dict) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in seconds.values())):
        raise StatsFormatError(f"{path}: 'scenario_s' must map scenario sets to seconds")
    return snapshot


def campaign_totals(folder: Path) -> dict[str, Any]:
    """The counters of every process of a campaign, added up. An unreadable or malformed file is
    skipped and named under `unreadable`. `worker_s` is the sum of the processes' lifetimes, not the
    campaign's wall-clock time."""
    execs = valid = 0
    worker_s = 0.0
    apis: set[str] = set()
    counters: dict[str, Counter] = {name: Counter() for name in COUNTER_FIELDS}
    unreadable = []
    snapshots = []
    for path in sorted(folder.glob(WORKER_GLOB)) if folder.is_dir() else []:
        try:
            snapshots.append(read_snapshot(path))
        except StatsFormatError as exc:
            unreadable.append(str(exc))
    phase_s, phase_execs = Counter(), Counter()
    scenario_s: Counter = Counter()
    for snapshot in snapshots:
        scenario_s.update(snapshot.get("scenario_s", {}))
        execs, valid = execs + snapshot["execs"], valid + snapshot["valid"]
        worker_s += float(snapshot["worker_s"])
        apis.update(snapshot["apis"])
        for name, counter in counters.items():
            counter.update(snapshot.get(name, {}))
        phase_s.update(_numbers(snapshot.get("phase_s")))
        phase_execs.update(_numbers(snapshot.get("phase_execs")))
    return {
        "processes": len(snapshots),
        "worker_s": round(worker_s, 2),
        "execs": execs,
        "valid": valid,
        "valid_rate": round(valid / execs, 4) if execs else 0.0,
        "apis_exercised": len(apis),
        **{name: dict(counter) for name, counter in counters.items()},
        "apis": sorted(apis),
        "unreadable": unreadable,
        "phase_s": {k: round(v, 2) for k, v in phase_s.items()},
        "phase_execs": dict(phase_execs),
        "processes_time": [{k: snap.get(k) for k in PROCESS_FIELDS} for snap in snapshots if "process_started" in snap],
        "scenario_s": {name: round(seconds, 2) for name, seconds in scenario_s.items()},
    }


# Per process: where its time went (start-up, first pass, later inputs) and its peak memory.
PROCESS_FIELDS = ("pid", "process_started", "wall_s", "ready_s", "replay_inputs", "phase_execs", "phase_s", "peak_rss_mb")


def _numbers(value: Any) -> dict[str, float]:
    """A name -> number mapping of a snapshot (anything else: empty; older snapshots lack these fields)."""
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
