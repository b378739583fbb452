"""What a check concludes: findings, filter reasons, harness errors and per-check lines (shared by all backends)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nabla_atheris.case import Case
from nabla_atheris.rootcause import finding_key
from nabla_atheris.vocabulary import FILTER_REASONS, KINDS, RECORDED_KINDS


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
    # The API whose function keys the finding when not `api`: the earliest call of a program that
    # shows the finding alone, on the values it received (a single call's bug the program reached).
    keyed_by: str = ""

    def __post_init__(self) -> None:
        assert self.kind in KINDS, self.kind

    @property
    def key_api(self) -> str:
        """The API (or program) whose function the finding's signature and root cause name."""
        return self.keyed_by or self.api

    def signature(self) -> str:
        """The deduplication key of the store: the underlying function (any spelling of the API), the
        class of scenario and, for an error, its normalized message (see `rootcause`); the kind,
        scenario pair and dtype class are variants of one finding."""
        return finding_key(self.library, self.key_api, self.kind, self.scenarios, str(self.details.get("error", "")))

    def variant(self) -> str:
        """How this occurrence shows its finding: kind, scenario pair and dtype class."""
        a, b = self.scenarios
        return f"{self.kind}:{a}-vs-{b}:{self.dtype_class}"

    @property
    def recorded_only(self) -> bool:
        """Whether the kind is recorded but not raised by default (see vocabulary.RECORDED_KINDS)."""
        return self.kind in RECORDED_KINDS


@dataclass
class CheckLine:
    """One line of a verdict: a check, its status (ok, mismatch, filtered, skipped, FINDING, HARNESS), detail."""

    check: str
    status: str
    detail: str = ""


@dataclass
class Judgement:
    """What one stage of the oracle concluded: findings, filter reasons and check lines."""

    findings: list[Finding] = field(default_factory=list)
    filters: list[str] = field(default_factory=list)  # the reasons, in the order met
    lines: list[CheckLine] = field(default_factory=list)

    def note(self, check: str, status: str, detail: str = "") -> None:
        self.lines.append(CheckLine(check, status, detail))

    def filter(self, reason: str, check: str, detail: str = "") -> None:
        """A comparison dismissed for a reason of FILTER_REASONS."""
        assert reason in FILTER_REASONS, reason
        self.filters.append(reason)
        self.note(check, "filtered", f"{reason}: {detail}" if detail else reason)

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)
        self.note(finding.kind, "FINDING", finding.message)

    def absorb(self, other: Judgement) -> None:
        """Take over another judgement's findings, filters and lines."""
        self.findings += other.findings
        self.filters += other.filters
        self.lines += other.lines


@dataclass
class Verdict(Judgement):
    """The outcome of checking one case: every stage's judgement, and errors of the harness itself."""

    case: Case | None = None
    valid: bool = True
    harness_errors: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # time spent per scenario set

    @property
    def filtered(self) -> str | None:
        """The first filter reason met (the case's reason in statistics), if any."""
        return self.filters[0] if self.filters else None

    def harness_error(self, stage: str, detail: str) -> None:
        """An exception of nabla-atheris' own code: shown and counted, never a finding."""
        self.harness_errors.append(f"{stage}: {detail}")
        self.note(stage, "HARNESS", detail)
