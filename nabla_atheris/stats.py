"""Campaign statistics, written after every check (libFuzzer exits without running atexit handlers,
and a check takes far longer than writing a small JSON file). A process that finds the file of an
earlier process of the same campaign (a libFuzzer restart) continues its counters."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nabla_atheris.verdict import Verdict


@dataclass
class Stats:
    """Counters of one process: executions, valid calls, APIs, filters by reason, findings by kind."""

    path: Path | None = None
    started: float = field(default_factory=time.time)
    elapsed_before: float = 0.0  # seconds counted by earlier processes of the campaign
    execs: int = 0
    valid: int = 0
    apis: set[str] = field(default_factory=set)
    filtered: Counter = field(default_factory=Counter)
    findings: Counter = field(default_factory=Counter)
    new_findings: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.is_file():
            try:
                self.resume(json.loads(self.path.read_text()))
            except (OSError, ValueError, KeyError, TypeError) as exc:
                print(f"nabla-atheris: warning: unreadable statistics {self.path} ({exc}); counting from zero", file=sys.stderr)

    def resume(self, snapshot: dict[str, Any]) -> None:
        """Continue the counters of an earlier snapshot."""
        self.elapsed_before = float(snapshot["elapsed_s"])
        self.execs, self.valid = int(snapshot["execs"]), int(snapshot["valid"])
        self.apis = set(snapshot.get("apis", ()))
        for name in ("filtered", "findings", "new_findings"):
            getattr(self, name).update(snapshot.get(name, {}))

    def update(self, verdict: Verdict, new_kinds: list[str]) -> None:
        """Count one checked case and write the counters to `path`."""
        self.execs += 1
        if verdict.valid:
            self.valid += 1
            self.apis.add(verdict.case.api)
        if verdict.filtered:
            self.filtered[verdict.filtered] += 1
        self.findings.update(f.kind for f in verdict.findings)
        self.new_findings.update(new_kinds)
        if self.path is not None:
            self.flush()

    def snapshot(self) -> dict[str, Any]:
        elapsed = max(self.elapsed_before + time.time() - self.started, 1e-9)
        return {
            "elapsed_s": round(elapsed, 2),
            "execs": self.execs,
            "valid": self.valid,
            "valid_rate": round(self.valid / self.execs, 4) if self.execs else 0.0,
            "checks_per_s": round(self.execs / elapsed, 2),
            "apis_exercised": len(self.apis),
            "filtered": dict(self.filtered),
            "findings": dict(self.findings),
            "new_findings": dict(self.new_findings),
            "apis": sorted(self.apis),
        }

    def flush(self) -> None:
        assert self.path is not None
        fd, tmp = tempfile.mkstemp(prefix=".stats-", dir=self.path.parent)
        with os.fdopen(fd, "w") as handle:
            json.dump(self.snapshot(), handle, indent=2)
        os.replace(tmp, self.path)
