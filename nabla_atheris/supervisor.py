"""Running a campaign: N long-lived libFuzzer workers over one corpus folder, supervised.

Each worker slot runs the library's harness in libFuzzer's ordinary mode: it imports and instruments
once, replays its share of the seed corpus and the shared corpus folder once (its first pass), then
mutates for the rest of the run, keeping every compiled function; it reads the inputs the other
workers found from the shared folder (`-reload`). A worker that ends early (a native crash, a
timeout, an out-of-memory, its memory budget) is replaced at once; an input of the corpus that
killed it is moved to `quarantine/`, so that its replacement does not replay it. Artifacts are
triaged into findings while the campaign runs, one at a time; the run ends within its time plus
`END_BUDGET_S`, triage included (an artifact left over is triaged at the next run).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nabla_atheris import instrumentation
from nabla_atheris.artifacts import Triage
from nabla_atheris.campaign import RECORD_EVERY_S, Display, Progress, Workdir, WorkerView, progress_line
from nabla_atheris.libraries import Limits, record
from nabla_atheris.workers import Worker

END_BUDGET_S = 30.0  # a run ends within its --time plus this, triage included
MIN_LEFT_S = 20.0  # no replacement worker with less time left
QUICK_FAILURES = 3  # a slot whose processes end this many times in a row before their first input: the run stops
STOP_WAIT_S = 12.0  # what stopping the workers may take


class CampaignFailed(Exception):
    """A worker slot cannot run (its processes end before their first input)."""


@dataclass(frozen=True)
class Plan:
    """What a run of a campaign runs: the library's harness with the environment's python, the seed
    corpus, how many workers for how long (0: until stopped), the limits and the user's libFuzzer flags."""

    library: str
    harness: Path
    seeds: Path
    jobs: int
    seconds: int
    limits: Limits
    extra: list[str]
    env: dict[str, str]
    python: str = sys.executable


@dataclass
class Slot:
    """A worker slot: its current process, how often it was replaced, failures in a row."""

    number: int
    worker: Worker | None = None
    restarts: int = 0
    quick_failures: int = 0


def share_seeds(seeds: Path, workdir: Workdir, jobs: int) -> list[Path]:
    """Each worker's share of the seed corpus (round robin by name), as copies in the workdir without
    the quarantined inputs (by content)."""
    quarantined = {p.name for p in workdir.quarantine.iterdir()} if workdir.quarantine.is_dir() else set()
    shutil.rmtree(workdir.seeds, ignore_errors=True)
    folders = [workdir.worker_seeds(slot) for slot in range(1, jobs + 1)]
    for folder in folders:
        folder.mkdir(parents=True)
    files = sorted(p for p in seeds.iterdir() if p.is_file() and not p.name.startswith("."))
    kept = [p for p in files if sha1(p.read_bytes()) not in quarantined]
    for index, path in enumerate(kept):
        shutil.copyfile(path, folders[index % jobs] / path.name)
    return folders


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def quarantine(workdir: Workdir, artifact: str | None, folders: list[Path]) -> Path | None:
    """Move the corpus input that is the content of `artifact` (if any is) to the quarantine folder,
    named by its hash; returns where it was."""
    if not artifact or not Path(artifact).is_file():
        return None
    digest = sha1(Path(artifact).read_bytes())
    for folder in folders:
        for path in folder.iterdir() if folder.is_dir() else []:
            if path.is_file() and (path.name == digest or sha1(path.read_bytes()) == digest):
                workdir.quarantine.mkdir(exist_ok=True)
                shutil.move(str(path), workdir.quarantine / digest)
                return path
    return None


class Supervisor:
    """One run of a campaign: starts the workers, replaces them, records progress, stops them."""

    def __init__(self, plan: Plan, workdir: Workdir, display: Display) -> None:
        self.plan, self.workdir, self.display = plan, workdir, display
        self.slots = [Slot(number) for number in range(1, plan.jobs + 1)]
        self.started = time.time()
        self.deadline = self.started + plan.seconds if plan.seconds else None
        cache = workdir.cache / plan.library
        kept = {"NABLA_INSTRUMENT_CACHE": os.environ.get("NABLA_INSTRUMENT_CACHE") or str(instrumentation.default_folder())}
        self.env = {**plan.env, **record(plan.library).cache_env(cache), **kept}
        self.log = open(workdir.log, "ab")  # noqa: SIM115  (closed by run)
        self.log_lock = threading.Lock()
        self.progress = Progress(workdir, self.views)
        self.seed_folders: list[Path] = []
        self.left_untriaged = 0

    def views(self) -> list[WorkerView]:
        return [view(s.number, s.restarts, s.worker) for s in self.slots if s.worker is not None]

    def argv(self, slot: Slot) -> list[str]:
        """A worker's command line: the shared corpus folder first (new inputs go there), its seeds,
        the per-library limits, then the user's flags (which override them)."""
        left = [f"-max_total_time={max(1, int(self.deadline - time.time()))}"] if self.deadline else []
        return [
            self.plan.python,
            str(self.plan.harness),
            str(self.workdir.corpus),
            str(self.seed_folders[slot.number - 1]),
            *self.plan.limits.flags(),
            f"-artifact_prefix={self.workdir.artifacts}/",
            "-reload=1",
            "-print_final_stats=1",
            *left,
            *self.plan.extra,
        ]

    def start(self, slot: Slot) -> None:
        slot.worker = Worker(slot.number, self.argv(slot), self.env, self.log, self.log_lock)
        self.workdir.list_processes([s.worker.pid for s in self.slots if s.worker is not None])

    def run(self) -> bool:
        """Run until the time is up or the user stops the campaign (SIGINT, SIGTERM, SIGHUP, unless
        ignored when it started); returns whether the user stopped it."""
        self.seed_folders = share_seeds(self.plan.seeds, self.workdir, self.plan.jobs)
        span = f"for {self.plan.seconds} s" if self.plan.seconds else "until stopped"
        self.display.message(
            f"run {self.progress.run} of the campaign in {self.workdir.root}: {self.plan.jobs} worker(s) {span} "
            f"(log: {self.workdir.log})"
        )
        triage = Triage(self.workdir, self.plan, self.env, self.display.message)
        previous = {sig: signal.signal(sig, _raise_interrupt) for sig in stopping_signals()}
        interrupted = False
        try:
            for slot in self.slots:
                self.start(slot)
            triage.start()
            next_record = 0.0
            while self.deadline is None or time.time() < self.deadline:
                self.replace_ended()
                if time.time() >= next_record:
                    self.display.progress(progress_line(self.progress.record()))
                    next_record = time.time() + RECORD_EVERY_S
                time.sleep(0.5)
        except KeyboardInterrupt:
            interrupted = True
            self.display.message("interrupted: stopping the workers; resume with the same command and workdir")
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.stop_all()
            triage_until = None if interrupted else (self.deadline or time.time()) + END_BUDGET_S - STOP_WAIT_S
            self.left_untriaged = triage.finish(triage_until)
            final = self.progress.record("interrupted" if interrupted else "end")
            self.display.progress(progress_line(final), force=True)
            self.display.close()
            self.workdir.list_processes([])
            self.log.close()
        return interrupted

    def replace_ended(self) -> None:
        """Replace every worker that ended (while time is left), after quarantining the corpus input
        that killed it; a slot that cannot run stops the campaign."""
        for slot in self.slots:
            worker = slot.worker
            if worker is None or not worker.exited():
                continue
            ending = worker.ending()
            self.progress.remember(view(slot.number, slot.restarts, worker))
            moved = quarantine(self.workdir, worker.status.artifact, [self.workdir.corpus, *self.seed_folders])
            progressed = worker.status.runs > 0 or moved is not None  # it checked inputs, or found one that kills
            slot.quick_failures = 0 if progressed else slot.quick_failures + 1
            note = f"; its input {moved.name} is quarantined" if moved else ""
            if slot.quick_failures >= QUICK_FAILURES:
                tail = "\n".join(worker.status.tail[-8:])
                times = f"{QUICK_FAILURES} times before its first input"
                raise CampaignFailed(f"worker {slot.number} ended {times} ({ending}); its last lines:\n{tail}")
            if self.deadline is not None and self.deadline - time.time() < MIN_LEFT_S:
                slot.worker = None
                self.display.message(f"worker {slot.number} ended ({ending}){note}; too little time left to replace it")
                continue
            slot.restarts += 1
            self.display.message(f"worker {slot.number} ended ({ending}){note}; replaced")
            self.start(slot)

    def stop_all(self) -> None:
        """Stop every worker (in parallel: each may take a few seconds)."""
        stoppers = [threading.Thread(target=s.worker.stop) for s in self.slots if s.worker is not None]
        for thread in stoppers:
            thread.start()
        for thread in stoppers:
            thread.join()


def view(number: int, restarts: int, worker: Worker) -> WorkerView:
    """A worker slot as the progress records show it."""
    status = worker.status
    first_pass = None if status.first_pass_done_at is None else round(status.first_pass_done_at - worker.started, 1)
    return WorkerView(number, worker.pid, restarts, status.cov, status.ft, status.corpus, first_pass)


def stopping_signals() -> list[signal.Signals]:
    """The signals that stop a run (SIGINT stops it through Python's KeyboardInterrupt), except those
    the campaign was started to ignore (`nohup` ignores SIGHUP, a background job of a script SIGINT)."""
    return [sig for sig in (signal.SIGTERM, signal.SIGHUP) if signal.getsignal(sig) is not signal.SIG_IGN]


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def run_campaign(plan: Plan, workdir: Workdir, display: Display) -> tuple[bool, int]:
    """One run of a campaign in `workdir` (which the caller holds locked): whether the user stopped it,
    and how many artifacts are left for the next run to triage."""
    supervisor = Supervisor(plan, workdir, display)
    interrupted = supervisor.run()
    return interrupted, supervisor.left_untriaged
