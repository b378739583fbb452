"""The glue between a fuzzer's input and the oracle: decode, check, store, count, raise if new."""

from __future__ import annotations

from pathlib import Path

from nabla_atheris.backends import Backend, get_backend
from nabla_atheris.case import Case
from nabla_atheris.catalog import Catalog, load_catalog
from nabla_atheris.decoder import decode_bytes
from nabla_atheris.findings import FindingsStore
from nabla_atheris.oracle import check_case
from nabla_atheris.stats import Stats
from nabla_atheris.verdict import Verdict


class NewFinding(Exception):
    """Raised for a finding whose signature is new, so that libFuzzer saves the input."""


def store_findings(
    verdict: Verdict, backend: Backend, store: FindingsStore, data: bytes | None = None
) -> list[tuple[str, Path, bool]]:
    """Record every finding of a verdict: (kind, folder, is new) for each."""
    out = []
    for finding in verdict.findings:
        reproducer = backend.render_reproducer(verdict.case, finding)
        folder, new = store.record(finding, verdict.case, data, reproducer, backend.version())
        out.append((finding.kind, folder, new))
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
    ) -> None:
        self.catalog = catalog or load_catalog(library)
        self.backend = get_backend(library)
        self.store = FindingsStore(findings_dir)
        self.stats = Stats(stats_folder)
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
        return check_case(case, self.backend)

    def test_one_input(self, data: bytes) -> None:
        """libFuzzer's TestOneInput: raise `NewFinding` for a finding with a new signature."""
        case = decode_bytes(data, self.catalog)
        if self.only_api is not None and case.api != self.only_api:
            return
        verdict = self.check(case)
        stored = store_findings(verdict, self.backend, self.store, data) if verdict.findings else []
        new = [(kind, folder) for kind, folder, is_new in stored if is_new]
        self.stats.update(verdict, [kind for kind, _ in new])
        raising = [(kind, folder) for kind, folder in new if kind != "missing-derivative" or self.raise_missing]
        if raising and self.raise_new:
            kinds = ", ".join(f"{kind} -> {folder}" for kind, folder in raising)
            raise NewFinding(f"{verdict.case.api}: {kinds}")
