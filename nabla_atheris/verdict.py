"""What a check concludes: findings, filter reasons and per-check lines (shared by all backends)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nabla_atheris.case import Case

# The fixed vocabulary of finding kinds, shared by all backends.
KINDS = (
    "crash",
    "status-mismatch",
    "value-mismatch",
    "rev-vs-fwd",
    "rev-vs-numeric",
    "fwd-vs-numeric",
    "nan-mismatch",
    "compiled-mismatch",
    "second-order-mismatch",
    "missing-derivative",
    "timeout",
    "oom",
)
# Why a case produced no finding although it was checked (or could not be).
FILTER_REASONS = (
    "invalid-input",
    "nondeterministic",
    "no-differentiable-io",
    "non-finite-output",
    "nan-both",
    "precision-loss",
    "non-differentiable-point",
    "numerical-instability",
    "unconfirmed",
    "sign-or-phase-ambiguity",
)


@dataclass
class Finding:
    """A disagreement between two scenarios that survived the filters."""

    kind: str
    scenarios: tuple[str, str]
    library: str
    api: str
    dtype_class: str
    message: str
    max_error: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)
    vectors: dict[str, Any] = field(default_factory=dict)  # u, v, v2 of the projections (for reproducers)

    def signature(self) -> str:
        """The deduplication key: library, API, kind, scenario pair and dtype class."""
        a, b = self.scenarios
        return f"{self.library}:{self.api}:{self.kind}:{a}-vs-{b}:{self.dtype_class}"


@dataclass
class CheckLine:
    """One line of a verdict: a check, its status (ok, mismatch, error, filtered, skipped), detail."""

    check: str
    status: str
    detail: str = ""


@dataclass
class Verdict:
    """The outcome of checking one case."""

    case: Case
    valid: bool = True
    filtered: str | None = None
    findings: list[Finding] = field(default_factory=list)
    lines: list[CheckLine] = field(default_factory=list)

    def note(self, check: str, status: str, detail: str = "") -> None:
        self.lines.append(CheckLine(check, status, detail))

    def filter(self, reason: str, check: str, detail: str = "") -> Verdict:
        assert reason in FILTER_REASONS, reason
        self.filtered = self.filtered or reason
        self.note(check, "filtered", f"{reason}: {detail}" if detail else reason)
        return self

    def add(self, finding: Finding) -> None:
        assert finding.kind in KINDS, finding.kind
        self.findings.append(finding)
        self.note(finding.kind, "FINDING", finding.message)
