"""The long-lived libFuzzer workers of a campaign: one harness process per worker slot, started
without a shell (any path works), in a session of its own (a Ctrl-C at the terminal reaches the
campaign, which stops them), dying with the campaign (`nabla_atheris.lifetime`). Its output goes to
the campaign's log, line by line, and its status lines are read as they come: coverage, features
and corpus size throughout the run, the end of the first pass over the corpus, and why it ended.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from nabla_atheris.lifetime import PARENT_ENV

# libFuzzer's status lines: "#1024\tpulse  cov: 123 ft: 456 corp: 78/9Kb lim: 4 exec/s: 3 rss: 900Mb"
# ("corp:" only once the corpus holds an input); fork mode's "#4226: cov: 1207 ft: 3881 corp: 246 ...".
# "#52 INITED cov: 1433 ft: 2980 corp: 39/3709b ..."; before any coverage: "#52 INITED exec/s: 26 ..."
STATUS = re.compile(r"^#(\d+)[:\s]\s*(\w*)\s*(?:cov: (\d+) ft: (\d+))?\s*(?:corp: (\d+))?")
ARTIFACT = re.compile(r"Test unit written to (.+)$")
# How a worker's run ended, from its last lines (most specific first).
ENDINGS = (
    ("memory budget", "over NABLA_MAX_RSS_MB"),
    ("timeout", "ERROR: libFuzzer: timeout"),
    ("out of memory", "ERROR: libFuzzer: out-of-memory"),
    ("native crash", "ERROR: libFuzzer: deadly signal"),
    ("Python exception", "Uncaught Python exception"),
    ("crash", "ERROR: libFuzzer:"),
    ("time is up", "Done "),
)
STOP_GRACE_S = 10.0


@dataclass
class WorkerStatus:
    """What a worker's output said so far."""

    cov: int | None = None
    ft: int | None = None
    corpus: int | None = None
    runs: int = 0
    first_pass_done_at: float | None = None
    artifact: str | None = None
    ending: str | None = None
    tail: list[str] = field(default_factory=list)

    def feed(self, line: str) -> None:
        status = STATUS.match(line)
        if status:
            self.runs = int(status.group(1))
            if status.group(3) is not None:
                self.cov, self.ft = int(status.group(3)), int(status.group(4))
            if status.group(5) is not None:
                self.corpus = int(status.group(5))
            if status.group(2) == "INITED" and self.first_pass_done_at is None:
                self.first_pass_done_at = time.time()
        artifact = ARTIFACT.search(line)
        if artifact:
            self.artifact = artifact.group(1).strip()
        for ending, sign in ENDINGS:
            if sign in line and self.ending is None:
                self.ending = ending
        self.tail = (self.tail + [line.rstrip()])[-20:]


class Worker:
    """One running harness process of a worker slot."""

    def __init__(self, slot: int, argv: list[str], env: dict[str, str], log: IO[bytes], log_lock: threading.Lock) -> None:
        self.slot = slot
        self.status = WorkerStatus()
        self.started = time.time()
        self.proc = subprocess.Popen(
            argv,
            env={**env, PARENT_ENV: str(os.getpid())},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.pid = self.proc.pid
        self._reader = threading.Thread(target=self._pump, args=(log, log_lock), daemon=True)
        self._reader.start()

    def _pump(self, log: IO[bytes], lock: threading.Lock) -> None:
        assert self.proc.stdout is not None
        prefix = f"w{self.slot}: ".encode()
        for raw in self.proc.stdout:
            with lock:
                log.write(prefix + raw)
                log.flush()
            self.status.feed(raw.decode(errors="replace"))

    def exited(self) -> bool:
        """Whether the process ended (its output read to the end)."""
        if self.proc.poll() is None:
            return False
        self._reader.join(timeout=5)
        return True

    def ending(self) -> str:
        """Why the process ended, in words."""
        code = self.proc.returncode
        if self.status.ending is not None:
            return self.status.ending
        if code is not None and code < 0:
            return f"signal {signal.Signals(-code).name}" if -code in signal.valid_signals() else f"signal {-code}"
        return f"exit code {code}"

    def stop(self) -> None:
        """SIGTERM to the worker's session (libFuzzer ends at once), SIGKILL if it lingers."""
        stop_session(self.proc)
        self._reader.join(timeout=5)


def stop_session(proc: subprocess.Popen[Any], grace_s: float = STOP_GRACE_S) -> None:
    """SIGTERM to a process' session (its process group), SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        proc.wait()


def process_start_ticks(pid: int) -> int | None:
    """A process' start time in clock ticks since boot (None when it is gone, or dead and not yet
    reaped): with the pid, it names the process (a pid is reused, the pair is not)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return None if fields[0] in ("Z", "X") else int(fields[19])
    except (OSError, ValueError, IndexError):
        return None


def kill_survivors(processes: list[dict[str, int]], wait_s: float = 10.0, say: Callable[[str], None] = print) -> int:
    """SIGKILL every listed process ({pid, ticks}) that still runs as the same process, and wait until
    they are gone; returns how many there were."""
    alive = [p for p in processes if process_start_ticks(p["pid"]) == p["ticks"]]
    for process in alive:
        say(f"a process of an earlier run is still running (pid {process['pid']}): stopping it")
        try:
            os.killpg(process["pid"], signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            try:
                os.kill(process["pid"], signal.SIGKILL)
            except ProcessLookupError:
                pass
    deadline = time.time() + wait_s
    while time.time() < deadline and any(process_start_ticks(p["pid"]) == p["ticks"] for p in alive):
        time.sleep(0.1)
    return len(alive)
