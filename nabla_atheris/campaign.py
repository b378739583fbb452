"""A fuzzing campaign's workdir and its progress: the folders and files of a campaign, its lock (one
campaign per workdir, and no process of an earlier run beside it), and the progress records and line.
The workers themselves are run by `nabla_atheris.supervisor`.

Workdir layout: `corpus/` (inputs the workers found; grows, resumed from), `seeds/` (each worker's
share of the seed corpus), `quarantine/` (inputs that killed a worker: not replayed), `cache/` (the
library's persistent compilation cache), `findings/`, `artifacts/` (libFuzzer's crash-, timeout- and
oom- files, triaged into findings while the campaign runs), `stats/` (one counter file per worker
process), `stats.jsonl` (one progress record every few seconds, continued on resume), `fuzz.log`
(the workers' output, each line marked with its worker, appended).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from nabla_atheris.stats import campaign_totals
from nabla_atheris.workers import kill_survivors, process_start_ticks, stop_session

ROOT = Path(__file__).resolve().parents[1]

RECORD_EVERY_S = 10.0
ARTIFACT_PREFIXES = ("crash-", "timeout-", "oom-", "leak-")


class CampaignBusy(Exception):
    """Another campaign holds the workdir."""


@dataclass
class Workdir:
    """The folders and files of a campaign."""

    root: Path

    @property
    def corpus(self) -> Path:
        return self.root / "corpus"

    @property
    def findings(self) -> Path:
        return self.root / "findings"

    @property
    def artifacts(self) -> Path:
        return self.root / "artifacts"

    @property
    def stats(self) -> Path:
        return self.root / "stats"

    @property
    def records(self) -> Path:
        return self.root / "stats.jsonl"

    @property
    def log(self) -> Path:
        return self.root / "fuzz.log"

    @property
    def seeds(self) -> Path:
        return self.root / "seeds"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def processes(self) -> Path:
        return self.root / ".processes.json"

    def create(self) -> None:
        for folder in (self.corpus, self.findings, self.artifacts, self.stats, self.seeds, self.quarantine, self.cache):
            folder.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def lock(self, say: Any = print) -> Iterator[None]:
        """Hold the workdir for one campaign at a time. The lock dies with its holder; a process the
        holder started and that outlived it (listed in `.processes.json`) is stopped before this
        campaign starts, so that no two runs ever work in one workdir."""
        with open(self.root / ".campaign.lock", "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise CampaignBusy(f"another campaign is running in {self.root}") from None
            kill_survivors(self.listed_processes(), say=say)
            self.list_processes([])
            yield

    def list_processes(self, pids: list[int]) -> None:
        """Record the processes this campaign runs (pid and start time), for `lock` to check."""
        listed = [{"pid": pid, "ticks": ticks} for pid in pids if (ticks := process_start_ticks(pid)) is not None]
        tmp = self.processes.with_name(f"{self.processes.name}.{os.getpid()}")
        tmp.write_text(json.dumps(listed))
        os.replace(tmp, self.processes)

    def listed_processes(self) -> list[dict[str, int]]:
        try:
            listed = json.loads(self.processes.read_text())
            return [p for p in listed if isinstance(p.get("pid"), int) and isinstance(p.get("ticks"), int)]
        except (OSError, ValueError, AttributeError, TypeError):
            return []

    def worker_seeds(self, slot: int) -> Path:
        """The folder of a worker's share of the seed corpus."""
        return self.seeds / f"w{slot}"

    def artifact_files(self) -> list[Path]:
        if not self.artifacts.is_dir():
            return []
        return sorted(p for p in self.artifacts.iterdir() if p.is_file() and p.name.startswith(ARTIFACT_PREFIXES))


def read_records(path: Path) -> list[dict[str, Any]]:
    """The progress records of a campaign (a line cut short by a kill is skipped)."""
    records = []
    if path.is_file():
        for line in path.read_text(errors="replace").splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                continue
    return records


def findings_tally(findings: Path) -> dict[str, Any]:
    """The unique findings by kind and their root causes; the flaky native crashes (a re-run did not
    repeat them) apart, as the summary lists them: not findings."""
    from nabla_atheris.findings import FindingsStore, meta_root

    metas = FindingsStore(findings).metas() if findings.is_dir() else []
    kept = [m for m in metas if not (m.get("details") or {}).get("flaky")]
    return {
        "unique_findings": dict(Counter(m["kind"] for m in kept)),
        "root_causes": len({meta_root(m) for m in kept}),
        "flaky": len(metas) - len(kept),
    }


@dataclass(frozen=True)
class WorkerView:
    """A worker slot as the progress records show it."""

    slot: int
    pid: int
    restarts: int
    cov: int | None
    ft: int | None
    corpus: int | None
    first_pass_s: float | None  # from the process' start to the end of its first pass over the corpus


def time_accounting(processes: list[dict[str, Any]], marks: dict[int, tuple[float, float]]) -> dict[str, Any]:
    """Where the worker processes' time went: start-up until the first input, the first pass over the
    corpus, later inputs (mutations, and inputs other workers found), and the share of time spent
    checking inputs, over the whole life of the processes and after each one's first minute (`marks`:
    pid -> wall and check seconds at its first minute)."""
    wall = sum(float(p.get("wall_s") or 0) for p in processes)
    startup = sum(float(p.get("ready_s") or 0) for p in processes)
    first_pass = sum(float((p.get("phase_s") or {}).get("replay", 0)) for p in processes)
    later = sum(float((p.get("phase_s") or {}).get("fuzz", 0)) for p in processes)
    after_wall = after_check = 0.0
    for p in processes:
        if p.get("pid") in marks:
            mark_wall, mark_check = marks[p["pid"]]
            after_wall += float(p.get("wall_s") or 0) - mark_wall
            after_check += checking_s(p) - mark_check
    return {
        "wall_s": round(wall, 1),
        "startup_s": round(startup, 1),
        "first_pass_s": round(first_pass, 1),
        "later_s": round(later, 1),
        "checking_share": round((first_pass + later) / wall, 4) if wall else None,
        "later_share": round(later / wall, 4) if wall else None,
        "checking_share_after_first_minute": round(after_check / after_wall, 4) if after_wall > 0 else None,
    }


def checking_s(process: dict[str, Any]) -> float:
    """Seconds a worker process spent checking inputs (first pass and later ones)."""
    return float(sum((process.get("phase_s") or {}).values()))


FIRST_MINUTE_S = 60.0


class Progress:
    """Progress records of one run of a campaign, continuing the workdir's earlier runs. `workers`
    returns the live worker slots; the statistics files give the rest."""

    def __init__(self, workdir: Workdir, workers: Any) -> None:
        self.workdir = workdir
        self.workers = workers
        earlier = read_records(workdir.records)
        self.before = earlier[-1] if earlier else {}
        self.run = int(self.before.get("run", 0)) + 1
        self.started = time.time()
        self.execs_at_start = campaign_totals(workdir.stats)["execs"]
        self.marks: dict[int, tuple[float, float]] = {}  # pid -> (wall, checking seconds) at its first minute
        self.best: dict[str, int] = {}

    def remember(self, worker: WorkerView) -> None:
        """Keep a worker's coverage, features and corpus size in the run's figures (also when it ends
        between two records and is not replaced)."""
        for key in ("cov", "ft", "corpus"):
            value = getattr(worker, key)
            if value is not None:
                self.best[key] = max(value, self.best.get(key, 0))

    def record(self, event: str = "progress") -> dict[str, Any]:
        """A snapshot of the whole campaign (all runs so far), appended to stats.jsonl."""
        totals = campaign_totals(self.workdir.stats)
        session_s = time.time() - self.started
        views: list[WorkerView] = self.workers()
        processes = [p for p in totals["processes_time"] if float(p.get("process_started") or 0) >= self.started - 1]
        for p in processes:
            if p.get("pid") not in self.marks and float(p.get("wall_s") or 0) >= FIRST_MINUTE_S:
                self.marks[p["pid"]] = (float(p["wall_s"]), checking_s(p))
        for v in views:
            self.remember(v)
        first_pass = {p["pid"]: f"{(p.get('phase_execs') or {}).get('replay', 0)}/{p.get('replay_inputs')}" for p in processes}
        record = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "event": event,
            "run": self.run,
            "elapsed_s": round(float(self.before.get("elapsed_s", 0.0)) + session_s, 1),
            "execs": totals["execs"],
            "execs_per_s": round((totals["execs"] - self.execs_at_start) / max(session_s, 1e-9), 2),
            "cov": self.best.get("cov", self.before.get("cov")),
            "ft": self.best.get("ft", self.before.get("ft")),
            "corpus": self.best.get("corpus", self.before.get("corpus", _files(self.workdir.corpus))),
            "corpus_files": _files(self.workdir.corpus),
            "apis_exercised": totals["apis_exercised"],
            "valid_rate": totals["valid_rate"],
            **findings_tally(self.workdir.findings),
            "filtered": totals["filtered"],
            "workers": [
                {
                    "slot": v.slot,
                    "pid": v.pid,
                    "restarts": v.restarts,
                    "cov": v.cov,
                    "corpus": v.corpus,
                    "first_pass": "done" if v.first_pass_s is not None else first_pass.get(v.pid, "starting"),
                    "first_pass_s": v.first_pass_s,
                }
                for v in views
            ],
            "time_accounting": time_accounting(processes, self.marks),
            "processes": processes,
        }
        with open(self.workdir.records, "a") as handle:
            handle.write(json.dumps(record) + "\n")
        return record


def _files(folder: Path) -> int:
    return sum(1 for p in folder.iterdir() if p.is_file()) if folder.is_dir() else 0


def progress_line(record: dict[str, Any]) -> str:
    """One line: elapsed, executions, exec/s, coverage, corpus, the workers' first pass while it lasts
    (else the share of time spent checking), APIs, valid rate, root causes, findings, flaky native
    crashes (apart: not findings), filtered."""
    seconds = int(record["elapsed_s"])
    findings = record["unique_findings"]
    flaky = record.get("flaky", 0)
    filtered = record["filtered"]
    by_kind = ", ".join(f"{k} {v}" for k, v in sorted(findings.items(), key=lambda kv: -kv[1]))
    by_reason = ", ".join(f"{k} {v}" for k, v in sorted(filtered.items(), key=lambda kv: -kv[1])[:3])
    passes = [w["first_pass"] for w in record.get("workers", []) if w.get("first_pass") != "done"]
    share = (record.get("time_accounting") or {}).get("checking_share")
    state = f" first pass {', '.join(passes)}" if passes else (f" checking {share:.0%}" if share is not None else "")
    return (
        f"[{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}] execs {record['execs']} "
        f"({record['execs_per_s']:.1f}/s) cov {record['cov'] if record['cov'] is not None else '-'} "
        f"corpus {record['corpus'] if record['corpus'] is not None else '-'}{state} | "
        f"APIs {record['apis_exercised']} valid {record['valid_rate']:.1%} | "
        f"root causes {record.get('root_causes', '-')}, findings {sum(findings.values())}{f' ({by_kind})' if by_kind else ''}"
        f"{f', flaky crashes {flaky}' if flaky else ''} | "
        f"filtered {sum(filtered.values())}{f' ({by_reason})' if by_reason else ''}"
    )


class Display:
    """The live progress line: rewritten in place on a terminal, plain lines otherwise."""

    def __init__(self, stream: TextIO, plain_every_s: float = 30.0) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.plain_every_s = plain_every_s
        self.last_plain = 0.0
        self.showing = False
        self.lock = threading.Lock()

    def progress(self, line: str, force: bool = False) -> None:
        with self.lock:
            if self.tty:
                width = shutil.get_terminal_size((200, 24)).columns
                self.stream.write("\r\x1b[K" + line[: width - 1])
                self.showing = True
            elif force or time.time() - self.last_plain >= self.plain_every_s:
                self.stream.write(line + "\n")
                self.last_plain = time.time()
            self.stream.flush()

    def message(self, text: str) -> None:
        """A line printed above the progress line."""
        with self.lock:
            self.stream.write(("\r\x1b[K" if self.showing else "") + text.rstrip() + "\n")
            self.showing = False
            self.stream.flush()

    def close(self) -> None:
        with self.lock:
            if self.showing:
                self.stream.write("\n")
                self.showing = False
            self.stream.flush()


def harness_path(library: str) -> Path:
    """The executable harness of a library."""
    harness = ROOT / "harnesses" / f"fuzz_{library}.py"
    if not harness.is_file():
        raise FileNotFoundError(errno.ENOENT, f"no harness for {library}", str(harness))
    return harness


def harness_env(findings: Path | None = None, **extra: str) -> dict[str, str]:
    """The environment of a harness run by libFuzzer: the project importable, the environment's
    python first on PATH (libFuzzer starts workers and merge processes through the shebang), the
    findings folder if given."""
    return dict(
        os.environ,
        **({"NABLA_FINDINGS": str(findings)} if findings is not None else {}),
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        **extra,
    )


def run_logged(argv: list[str], env: dict[str, str], log_path: Path, progress: Any, deadline: float) -> tuple[int, bool]:
    """Run a command in its own process group, appending its output to a log and echoing the lines
    `progress` selects; SIGTERM to the group after `deadline` seconds (libFuzzer's fork mode does not
    look at -max_total_time while it replays the seed corpus). The exit code, and whether it was stopped."""
    with (
        open(log_path, "ab") as log,
        subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True) as proc,
    ):
        stopped = threading.Event()

        def time_is_up() -> None:
            if proc.poll() is None:
                stopped.set()
                print(f"time is up: stopping libFuzzer (process group {proc.pid})", flush=True)
                stop_session(proc)

        timer = threading.Timer(deadline, time_is_up)
        timer.start()
        try:
            assert proc.stdout is not None
            for raw in proc.stdout:
                log.write(raw)
                line = raw.decode(errors="replace")
                if progress(line):
                    print(line.rstrip(), flush=True)
            return proc.wait(), stopped.is_set()
        finally:
            timer.cancel()
