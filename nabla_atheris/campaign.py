"""A fuzzing campaign in a workdir: N libFuzzer workers (fork mode) over one corpus folder and one
findings store, a live progress line, statistics as JSON lines, stop (Ctrl-C, SIGTERM) and resume.

Workdir layout: `corpus/` (grows; resumed from), `findings/`, `artifacts/` (libFuzzer's crash-,
timeout- and oom- files, triaged into findings after the run), `stats/` (one counter file per
worker process), `stats.jsonl` (one progress record every few seconds, continued on resume),
`fuzz.log` (libFuzzer's output, appended).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from nabla_atheris.stats import campaign_totals


@dataclass(frozen=True)
class Limits:
    """Per-library defaults: libFuzzer's -timeout and -rss_limit_mb, and the worker's own memory budget
    (NABLA_MAX_RSS_MB: below libFuzzer's limit, so that a worker that grew ends cleanly instead of an OOM)."""

    timeout_s: int
    rss_limit_mb: int
    worker_budget_mb: int

    def flags(self) -> list[str]:
        return [f"-timeout={self.timeout_s}", f"-rss_limit_mb={self.rss_limit_mb}"]


# JAX and TensorFlow compile every new call structure (slower first calls, compiled code kept in memory).
LIMITS = {
    "torch": Limits(120, 6144, 4096),
    "jax": Limits(300, 8192, 6144),
    "tf": Limits(300, 8192, 6144),
    "oneflow": Limits(120, 6144, 4096),
}
FORK_FLAGS = ["-ignore_crashes=1", "-ignore_timeouts=1", "-ignore_ooms=1"]
RECORD_EVERY_S = 10.0
DEADLINE_GRACE_S = 30  # fork mode looks at -max_total_time only after its first pass over the corpus
ARTIFACT_PREFIXES = ("crash-", "timeout-", "oom-", "leak-")
# libFuzzer's fork-mode status line, and the single-process one ("#2\tINITED cov: 3 ft: 3 corp: 1/1b ...").
STATUS = re.compile(r"^#(\d+)[:\s].*?cov: (\d+) ft: (\d+) corp: (\d+)")
WORKER_FAILURES = re.compile(r"oom/timeout/crash: (\d+)/(\d+)/(\d+)")


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

    def create(self) -> None:
        for folder in (self.corpus, self.findings, self.artifacts, self.stats):
            folder.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the workdir for one campaign at a time."""
        with open(self.root / ".campaign.lock", "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise CampaignBusy(f"another campaign is running in {self.root}") from None
            yield

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


def unique_findings_by_kind(findings: Path) -> dict[str, int]:
    from nabla_atheris.findings import FindingsStore

    if not findings.is_dir():
        return {}
    return dict(Counter(m["kind"] for m in FindingsStore(findings).metas()))


def root_cause_count(findings: Path) -> int:
    """The root causes met so far (one marker file each in the store's roots folder)."""
    from nabla_atheris.findings import ROOTS_DIR

    folder = findings / ROOTS_DIR
    return sum(1 for _ in folder.iterdir()) if folder.is_dir() else 0


@dataclass
class LibFuzzerStatus:
    """What libFuzzer's output says: coverage, features and worker failures (updated line by line)."""

    cov: int | None = None
    ft: int | None = None
    failures: dict[str, int] = field(default_factory=dict)

    def feed(self, line: str) -> None:
        status = STATUS.match(line)
        if status:
            self.cov, self.ft = int(status.group(2)), int(status.group(3))
        failures = WORKER_FAILURES.search(line)
        if failures:
            self.failures = dict(zip(("oom", "timeout", "crash"), map(int, failures.groups())))


class Progress:
    """Progress records of one run of a campaign, continuing the workdir's earlier runs."""

    def __init__(self, workdir: Workdir, status: LibFuzzerStatus) -> None:
        self.workdir = workdir
        self.status = status
        earlier = read_records(workdir.records)
        self.before = earlier[-1] if earlier else {}
        self.run = int(self.before.get("run", 0)) + 1
        self.started = time.time()
        self.execs_at_start = campaign_totals(workdir.stats)["execs"]

    def record(self, event: str = "progress") -> dict[str, Any]:
        """A snapshot of the whole campaign (all runs so far), appended to stats.jsonl."""
        totals = campaign_totals(self.workdir.stats)
        session_s = time.time() - self.started
        record = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "event": event,
            "run": self.run,
            "elapsed_s": round(float(self.before.get("elapsed_s", 0.0)) + session_s, 1),
            "execs": totals["execs"],
            "execs_per_s": round((totals["execs"] - self.execs_at_start) / max(session_s, 1e-9), 2),
            "cov": self.status.cov if self.status.cov is not None else self.before.get("cov"),
            "ft": self.status.ft if self.status.ft is not None else self.before.get("ft"),
            "corpus": sum(1 for p in self.workdir.corpus.iterdir() if p.is_file()) if self.workdir.corpus.is_dir() else 0,
            "apis_exercised": totals["apis_exercised"],
            "valid_rate": totals["valid_rate"],
            "root_causes": root_cause_count(self.workdir.findings),
            "unique_findings": unique_findings_by_kind(self.workdir.findings),
            "filtered": totals["filtered"],
            "worker_failures": self.status.failures,
        }
        with open(self.workdir.records, "a") as handle:
            handle.write(json.dumps(record) + "\n")
        return record


def progress_line(record: dict[str, Any]) -> str:
    """One line: elapsed, executions, exec/s, coverage, corpus, APIs, valid rate, findings, filtered."""
    seconds = int(record["elapsed_s"])
    findings = record["unique_findings"]
    filtered = record["filtered"]
    by_kind = ", ".join(f"{k} {v}" for k, v in sorted(findings.items(), key=lambda kv: -kv[1]))
    by_reason = ", ".join(f"{k} {v}" for k, v in sorted(filtered.items(), key=lambda kv: -kv[1])[:3])
    return (
        f"[{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}] execs {record['execs']} "
        f"({record['execs_per_s']:.1f}/s) cov {record['cov'] if record['cov'] is not None else '-'} "
        f"corpus {record['corpus']} APIs {record['apis_exercised']} valid {record['valid_rate']:.1%} | "
        f"root causes {record.get('root_causes', '-')}, findings {sum(findings.values())}{f' ({by_kind})' if by_kind else ''} | "
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


ECHOED = ("INFO: -fork", "==", "ERROR:", "ALARM:", "INFO: fuzzed for", "INFO: exiting")


def run_campaign(
    argv: list[str], env: dict[str, str], workdir: Workdir, deadline_s: float | None, display: Display
) -> tuple[int | None, bool]:
    """Run libFuzzer (its own process group) until it ends, the deadline passes or the user stops it
    (SIGINT or SIGTERM); record progress all along. Returns libFuzzer's exit code (None if stopped
    by us) and whether the user interrupted."""
    status = LibFuzzerStatus()
    progress = Progress(workdir, status)
    display.message(f"run {progress.run} of the campaign in {workdir.root} (libFuzzer log: {workdir.log})")
    interrupted = False
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    with (
        open(workdir.log, "ab") as log,
        subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True) as proc,
    ):
        reader = threading.Thread(target=_pump, args=(proc, log, status, display), daemon=True)
        reader.start()
        stopped_by_us = False
        try:
            next_record = 0.0
            while proc.poll() is None:
                if deadline_s is not None and time.time() - progress.started > deadline_s:
                    display.message(f"time is up: stopping libFuzzer (process group {proc.pid})")
                    stop_group(proc)
                    stopped_by_us = True
                    break
                if time.time() >= next_record:
                    display.progress(progress_line(progress.record()))
                    next_record = time.time() + RECORD_EVERY_S
                time.sleep(0.5)
        except KeyboardInterrupt:
            interrupted = stopped_by_us = True
            display.message("interrupted: stopping libFuzzer; resume with the same command and workdir")
            stop_group(proc)
        finally:
            signal.signal(signal.SIGTERM, previous)
        reader.join(timeout=10)
        code = proc.wait()
    final = progress.record("interrupted" if interrupted else "end")
    display.progress(progress_line(final), force=True)
    display.close()
    return (None if stopped_by_us else code), interrupted


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def stop_group(proc: subprocess.Popen) -> None:
    """SIGTERM to libFuzzer's process group, SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def _pump(proc: subprocess.Popen, log: Any, status: LibFuzzerStatus, display: Display) -> None:
    assert proc.stdout is not None
    for raw in proc.stdout:
        log.write(raw)
        log.flush()
        line = raw.decode(errors="replace")
        status.feed(line)
        if line.startswith(ECHOED):
            display.message(line)


def campaign_argv(
    harness: Path, workdir: Workdir, seeds: Path, jobs: int, seconds: int, limits: Limits, extra: list[str]
) -> list[str]:
    """libFuzzer's command line: fork mode with `jobs` workers; the per-library limits come first, so
    that the user's flags (after `--`) override them."""
    timing = [f"-max_total_time={seconds}"] if seconds else []
    return [
        str(harness),
        str(workdir.corpus),
        str(seeds),
        f"-fork={jobs}",
        *FORK_FLAGS,
        *limits.flags(),
        f"-artifact_prefix={workdir.artifacts}/",
        *timing,
        *extra,
    ]
