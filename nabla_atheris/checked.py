"""The cases a campaign's workers have checked, so that a replacement or resumed worker's first pass
over the corpus re-runs them only up to first order.

A worker replays the whole corpus when it starts: after a crash, a timeout or its memory budget, and
on every resumed run. Its verdicts would be those of the first check (checks are deterministic, and
their findings are stored), but libFuzzer still needs each input's coverage to keep it in memory for
mutation. So a case checked before runs its direct call and first-order modes, the cheap part of a
check whose code the coverage feedback watches, and the rest only for new cases.

Each worker appends one line per checked case to its own file, `checked-PID.txt`, in the campaign's
statistics folder; a worker reads every such file when it starts. A line names the case (its
encoding), the library's version, the scenario sets it ran and nabla-atheris' own source, so that a
changed catalog, library, choice of sets or oracle checks a case anew.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from nabla_atheris.case import Case, encode

FILE_GLOB = "checked-*.txt"
# Cases a worker records at most (about 3 MB): a long PyTorch campaign checks millions, and a worker
# reads every record when it starts; cases past the limit are checked whole when replayed.
RECORD_LIMIT = 100_000


def source_digest() -> str:
    """A digest of nabla-atheris' Python source (empty where it runs without its source files)."""
    digest = hashlib.sha1()
    for path in sorted(Path(__file__).parent.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


class CheckedCases:
    """The cases checked in a campaign's earlier worker processes and in this one (no folder: none)."""

    def __init__(self, folder: Path | None, context: str) -> None:
        self.context = hashlib.sha1((context + source_digest()).encode()).hexdigest()[:8]
        self.path = None if folder is None else folder / f"checked-{os.getpid()}.txt"
        self.known: set[str] = set()
        self.recorded = 0
        for path in sorted(folder.glob(FILE_GLOB)) if folder is not None and folder.is_dir() else []:
            try:
                self.known.update(path.read_text(encoding="ascii", errors="replace").split())
            except OSError:  # a file being replaced or unreadable: its cases are checked again
                continue

    def key(self, case: Case) -> str:
        return hashlib.sha1(encode(case)).hexdigest()[:20] + self.context

    def __contains__(self, case: Case) -> bool:
        return self.key(case) in self.known

    def add(self, case: Case) -> None:
        """Record a case checked whole (appended to this process' file)."""
        key = self.key(case)
        if key in self.known or self.recorded >= RECORD_LIMIT:
            return
        self.known.add(key)
        self.recorded += 1
        if self.path is not None:
            with open(self.path, "a", encoding="ascii") as handle:
                handle.write(key + "\n")
