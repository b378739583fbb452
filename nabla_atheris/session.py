"""The glue between a fuzzer's input and the oracle: decode, check, store, count, and raise for the
first finding of a new root cause (a finding of a known root cause is stored as a member, and the
worker goes on)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from nabla_atheris import scenario_sets
from nabla_atheris.backends import Backend, get_backend
from nabla_atheris.case import Case
from nabla_atheris.catalog import Catalog, load_catalog
from nabla_atheris.checked import CheckedCases
from nabla_atheris.decoder import decode_bytes
from nabla_atheris.findings import FindingsStore
from nabla_atheris.oracle import check_case
from nabla_atheris.reproducer import render_reproducer
from nabla_atheris.stats import REPLAY, Stats
from nabla_atheris.verdict import Verdict
from nabla_atheris.vocabulary import RECORDED_KINDS


class NewFinding(Exception):
    """Raised for the first finding of a new root cause, so that libFuzzer saves the input."""


@dataclass(frozen=True)
class Stored:
    """A finding as the store took it."""

    kind: str
    folder: Path
    new: bool  # a new signature
    new_root: bool  # the first finding of its root cause


def store_findings(verdict: Verdict, backend: Backend, store: FindingsStore, data: bytes | None = None) -> list[Stored]:
    """Record every finding of a verdict."""
    out = []
    for finding in verdict.findings:
        reproducer = render_reproducer(verdict.case, finding)
        folder, new, new_root = store.record(finding, verdict.case, data, reproducer, backend.version())
        out.append(Stored(finding.kind, folder, new, new_root))
    return out


class FuzzSession:
    """One fuzzing process: a library's catalog and backend, a findings store and statistics."""

    def __init__(
        self,
        library: str,
        findings_dir: Path,
        stats_folder: Path | None = None,
        raise_missing: bool = False,
        raise_new: bool = True,
        catalog: Catalog | None = None,
        only_api: str | None = None,
        selection: scenario_sets.Selection | None = None,
    ) -> None:
        self.catalog = catalog or load_catalog(library)
        self.selection = scenario_sets.from_environment(library) if selection is None else selection
        chosen = selection is not None or scenario_sets.chosen_by_user()
        self.first_pass_selection = scenario_sets.for_first_pass(library, self.selection, chosen)
        self.backend = get_backend(library)
        self.store = FindingsStore(findings_dir)
        self.stats = Stats(stats_folder)
        context = f"{self.backend.version()} {scenario_sets.describe(self.first_pass_selection)}"
        self.checked = CheckedCases(stats_folder, context)
        self.raise_missing = raise_missing
        self.raise_new = raise_new
        self.only_api = only_api  # inputs of other APIs are skipped (a crash minimization that must not drift)

    def warm_up(self, limit: int = 20) -> None:
        """Check seeds until one runs every scenario, so that the library's lazily imported AD
        modules are loaded before fuzzing (a first-use import must not look like a timeout)."""
        from nabla_atheris.decoder import seed_bytes

        last_mode = self.backend.second_order_modes[-1]
        for entry in list(self.catalog.apis.values())[:limit]:
            verdict = self.check(decode_bytes(seed_bytes(self.catalog, entry.id, 0), self.catalog))
            if any(line.check.startswith(last_mode) for line in verdict.lines):
                return

    def check(self, case: Case) -> Verdict:
        """The oracle's verdict on a case, with the scenario sets of the worker's phase; in the first
        pass, a case an earlier worker of the campaign checked runs up to first order (`checked`)."""
        if self.stats.phase() != REPLAY:
            verdict = check_case(case, self.backend, self.selection)
        elif case in self.checked:
            return check_case(case, self.backend, self.first_pass_selection, first_order_only=True)
        else:
            verdict = check_case(case, self.backend, self.first_pass_selection)
        self.checked.add(case)
        return verdict

    def test_one_input(self, data: bytes) -> None:
        """libFuzzer's TestOneInput: raise `NewFinding` for a finding with a new signature."""
        started, clock = time.time(), time.perf_counter()
        case = decode_bytes(data, self.catalog)
        if self.only_api is not None and case.api != self.only_api:
            return
        verdict = self.check(case)
        stored = store_findings(verdict, self.backend, self.store, data) if verdict.findings else []
        new_kinds, new_roots = [s.kind for s in stored if s.new], sum(s.new_root for s in stored)
        self.stats.update(verdict, new_kinds, new_roots, seconds=time.perf_counter() - clock, started_at=started)
        raising = [s for s in stored if s.new_root and (s.kind not in RECORDED_KINDS or self.raise_missing)]
        if raising and self.raise_new:
            kinds = ", ".join(f"{s.kind} -> {s.folder}" for s in raising)
            raise NewFinding(f"{verdict.case.name()}: {kinds}")
