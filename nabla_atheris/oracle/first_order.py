"""First order: run reverse and forward mode, then judge their statuses, their outputs and the
derivative each computes, as scalar projections <u, J v>.

Each pair stands on its own evidence. Reverse against forward mode is judged by the two AD
results alone (confirmed by their Jacobians); only a point with no derivative (a kink, a tie, an
ill-conditioned decomposition) dismisses it. The numerical derivative referees: it decides which
AD mode is to blame when they disagree, and it is compared with them when they agree, but only
when it is reliable (filters: precision loss, a float64 reference that computes something else,
step dependence, a kink nearby).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nabla_atheris import projections as P
from nabla_atheris.backends import ErrorClass
from nabla_atheris.oracle.confirm import Confirmation, confirm
from nabla_atheris.oracle.evidence import Evidence
from nabla_atheris.oracle.running import Outcome, describe
from nabla_atheris.oracle.subject import Arrays, LibraryRaised, Subject
from nabla_atheris.oracle.values import judge_outputs
from nabla_atheris.tolerances import tolerance
from nabla_atheris.verdict import Judgement
from nabla_atheris.vocabulary import FWD, REV

# The call-level gradient properties that concern reverse mode only, and what they do to its derivative.
REVERSE_ONLY = {"reverse-cut": "cut", "reverse-convention": "set by a documented convention"}


@dataclass(frozen=True)
class ModeRun:
    """A first-order AD mode's run: outputs and products (None entries: no derivative reported), or its error."""

    mode: str
    outcome: Outcome

    @property
    def ok(self) -> bool:
        return self.outcome.ok

    @property
    def outputs(self) -> Arrays:
        return self.outcome.value[0]

    @property
    def products(self) -> list[np.ndarray | None]:
        return self.outcome.value[1]

    @property
    def absent(self) -> list[int]:
        """Positions of the products the library reported as absent (None): inputs for rev, outputs for fwd."""
        return [i for i, p in enumerate(self.products) if p is None]


def run_first_order(subject: Subject) -> dict[str, ModeRun]:
    """Reverse mode with cotangent u and forward mode with tangent v (the backend's modes)."""
    return {mode: run_mode(subject, mode) for mode in subject.backend.first_order_modes}


def run_mode(subject: Subject, mode: str) -> ModeRun:
    """One first-order AD mode: reverse with cotangent u, or forward with tangent v."""
    if mode == REV:
        return ModeRun(mode, subject.run(subject.call.vjp, subject.u))
    return ModeRun(mode, subject.run(subject.call.jvp, subject.v))


def projection(subject: Subject, run: ModeRun) -> float:
    """<u, J v> from a mode's products (an absent product counts as zero)."""
    return P.inner(run.products, subject.v) if run.mode == REV else P.inner(subject.u, run.products)


def product_norms(runs: dict[str, ModeRun]) -> list[float]:
    """The norm of each AD mode's products (VJP or JVP): the magnitude of the derivative by that mode."""
    return [P.norm([p for p in run.products if p is not None]) for run in runs.values() if run.ok]


def scale_of(runs: dict[str, ModeRun]) -> float:
    """The magnitude of the derivatives: the largest norm of an AD mode's products."""
    return max((n for n in product_norms(runs) if np.isfinite(n)), default=0.0)


def error_kind(subject: Subject, mode: str, exc: BaseException, others_work: bool) -> str:
    """The finding kind of a mode's error where the reference succeeded: crash (internal), a missing
    derivative (none in any mode, or a mode documented as unsupported, whatever its error), a
    derivative gap (another mode or order has it), else a status mismatch."""
    error_class = subject.error_class(exc)
    if error_class is ErrorClass.INTERNAL:
        return "crash"
    if subject.properties.documents_no_derivative(mode, subject.case.float_dtypes()):  # whatever the error says
        return "missing-derivative"
    if error_class is ErrorClass.UNSUPPORTED:
        return "derivative-gap" if others_work else "missing-derivative"
    return "status-mismatch"


def error_finding(
    subject: Subject, judgement: Judgement, mode: str, exc: BaseException, reference: str, others_work: bool
) -> None:
    """A mode's error where `reference` succeeded: a finding, or a by-design note for a limitation the
    library documents."""
    error = describe(exc)
    if subject.error_class(exc) is ErrorClass.DOCUMENTED:
        judgement.filter("by-design", mode, f"documented as unsupported: {error}")
        return
    kind = error_kind(subject, mode, exc, others_work)
    documents_none = subject.properties.documents_no_derivative(mode, subject.case.float_dtypes())
    documented = " (documented as unsupported)" if documents_none else ""
    message = f"{mode} raised where {reference} succeeded{documented}: {error}"
    judgement.add(subject.finding(kind, reference, mode, message, error=error, failing=mode))


def judge_statuses(subject: Subject, runs: dict[str, ModeRun]) -> Judgement:
    """Every mode that raised where the direct call succeeded."""
    judgement = Judgement()
    for mode, run in runs.items():
        if not run.ok:
            others_work = any(other.ok for name, other in runs.items() if name != mode)
            error_finding(subject, judgement, mode, run.outcome.error, "direct", others_work)
    if len(subject.backend.first_order_modes) == 1:
        judgement.note("fwd", "skipped", f"{subject.backend.name} has no forward mode")
    return judgement


def judge_values(subject: Subject, runs: dict[str, ModeRun]) -> tuple[Judgement, dict[str, ModeRun]]:
    """Each mode's outputs against the direct call's, and its products' shapes against the inputs
    (rev) or outputs (fwd) they belong to; the modes whose outputs and shapes agree."""
    judgement, agreeing = Judgement(), {}
    for mode, run in runs.items():
        if run.ok:
            verdict, same = judge_outputs(subject, mode, run.outputs, again=lambda mode=mode: _outputs_again(subject, mode))
            judgement.absorb(verdict)
            if same and _shapes_agree(subject, run, judgement):
                agreeing[mode] = run
    return judgement, agreeing


def _outputs_again(subject: Subject, mode: str) -> Arrays | None:
    """A first-order mode's outputs when it runs once more (None if it failed)."""
    run = run_mode(subject, mode)
    return run.outputs if run.ok else None


def _shapes_agree(subject: Subject, run: ModeRun, judgement: Judgement) -> bool:
    expected = subject.call.inputs if run.mode == REV else run.outputs
    what = "input" if run.mode == REV else "output"
    for i, (product, value) in enumerate(zip(run.products, expected)):
        if product is not None and np.shape(product) != np.shape(value):
            shapes = f"{list(np.shape(product))} for {what} #{i} of shape {list(np.shape(value))}"
            message = f"{run.mode} returned a derivative of shape {shapes}"
            judgement.add(subject.finding("shape-mismatch", run.mode, "direct", message))
            return False
    return True


def blamed(judgement: Judgement) -> set[str]:
    """The first-order AD modes a judgement's findings show to compute a wrong derivative (both for
    an AD disagreement the numerical derivative could not referee)."""
    modes: set[str] = set()
    for finding in judgement.findings:
        a, b = finding.scenarios
        if finding.kind == "rev-vs-fwd":
            modes |= {REV, FWD}
        elif finding.kind in ("nan-mismatch", "derivative-gap"):
            modes |= {b} & {REV, FWD}
        elif finding.kind in ("rev-vs-numeric", "fwd-vs-numeric", "missing-derivative"):
            modes |= {a, b} & {REV, FWD}
            if finding.details.get("modes_agree"):  # the other AD mode computes the same wrong value
                modes |= {REV, FWD}
    return modes


def judge_derivatives(subject: Subject, runs: dict[str, ModeRun], evidence: Evidence) -> Judgement:
    """The first-order derivatives of the modes that ran and computed the direct outputs."""
    judgement = Judgement()
    if not runs:
        return judgement
    values = {mode: projection(subject, run) for mode, run in runs.items()}
    scale = scale_of(runs)
    for mode, value in values.items():
        judgement.note(f"{mode} <u, J v>", "ok" if np.isfinite(value) else "non-finite", f"{value:.6g}")
    nonfinite = [m for m, value in values.items() if not np.isfinite(value)]
    if nonfinite:
        _judge_nonfinite(subject, values, nonfinite, scale, evidence, judgement)
    elif len(values) == 2 and not tolerance("ad-vs-ad", subject.dtypes).close(values[REV], values[FWD], scale):
        _judge_ad_disagreement(subject, runs, values, scale, evidence, judgement)
    else:
        _judge_against_numeric(subject, runs, values, scale, evidence, judgement)
    return judgement


def _judge_nonfinite(
    subject: Subject, values: dict[str, float], nonfinite: list[str], scale: float, evidence: Evidence, judgement: Judgement
) -> None:
    finite = [m for m in values if m not in nonfinite]
    point = evidence.first_point(scale)
    if point.reason:
        judgement.filter(point.reason, "first order", point.detail)
        return
    if finite:  # one AD mode finite, the other not: AD against AD
        message = f"<u, J v> is {values[nonfinite[0]]} by {nonfinite[0]}, {values[finite[0]]:.6g} by {finite[0]}"
        judgement.add(subject.finding("nan-mismatch", finite[0], nonfinite[0], message))
        return
    numeric = evidence.first_numeric
    if subject.properties.gradient or not numeric.reliable or not np.isfinite(numeric.value):
        judgement.filter("nan-both", "first order", f"non-finite derivative in {', '.join(nonfinite)}, no numerical referee")
        return
    if evidence.changes_nearby(evidence.projected_output(), subject.v, numeric.value, max(scale, abs(numeric.value))):
        judgement.filter("non-differentiable-point", "first order", "the numerical derivative changes at neighbouring points")
        return
    message = f"<u, J v> is {values[nonfinite[0]]} by {', '.join(nonfinite)}, numerically {numeric.value:.6g}"
    judgement.add(
        subject.finding("nan-mismatch", "numeric", nonfinite[0], message, projection=(values[nonfinite[0]], numeric.value))
    )


def _confirmation(subject: Subject, a: str, b: str, scale: float) -> Confirmation:
    try:
        return confirm(subject, a, b, scale)
    except LibraryRaised as exc:
        return Confirmation(False, "jacobians", f"the library raised while confirming: {exc}")


def _convention_explains(subject: Subject, rev: float, fwd: float, scale: float, evidence: Evidence) -> str:
    """Why reverse and forward mode may disagree by the documentation ('' when they may not): the call
    cuts reverse mode's derivative or sets it by a convention (forward-mode tangents follow the math),
    or the API's derivative is straight-through (a convention the library documents for its gradient)
    and here reverse mode departs from the numerical derivative while forward mode follows it, or no
    numerical derivative can tell whether the convention applies at this point."""
    gradient = subject.properties.gradient
    source = subject.properties.sources.get("gradient", "the catalog")
    if gradient in REVERSE_ONLY:
        return f"reverse mode's derivative is {REVERSE_ONLY[gradient]} ({source}), forward mode's is not"
    if gradient != "straight-through":
        return ""
    numeric = evidence.first_numeric
    if not numeric.reliable:
        return f"a straight-through derivative ({source}), and no numerical referee to tell whether it applies here"
    referee = tolerance("ad-vs-numeric", subject.dtypes)
    if referee.close(fwd, numeric.value, scale) and not referee.close(rev, numeric.value, scale):
        return f"reverse mode follows the straight-through convention ({source}) where it departs from the math"
    return ""


def _judge_ad_disagreement(
    subject: Subject, runs: dict[str, ModeRun], values: dict[str, float], scale: float, evidence: Evidence, judgement: Judgement
) -> None:
    """Reverse and forward mode disagree: a finding on their own evidence; the numerical derivative
    (when reliable) says which one is wrong."""
    rev, fwd = values[REV], values[FWD]
    judgement.note("rev vs fwd", "mismatch", f"{rev:.6g} vs {fwd:.6g}")
    convention = _convention_explains(subject, rev, fwd, scale, evidence)
    if convention:
        evidence.convention = convention
        judgement.filter("by-design", "rev vs fwd", convention)
        return
    point = evidence.first_point(scale)
    if not point.reason:
        point = evidence.sensitive(product_norms(runs))
    if point.reason:
        judgement.filter(point.reason, "rev vs fwd", point.detail)
        return
    confirmation = _confirmation(subject, REV, FWD, scale)
    judgement.note("rev vs fwd confirmation", "mismatch" if confirmation.confirmed else "ok", confirmation.note)
    if not confirmation.confirmed:
        judgement.filter("unconfirmed", "rev vs fwd", confirmation.note)
        return
    tol = tolerance("ad-vs-ad", subject.dtypes)
    pair = (REV, FWD, rev, fwd)
    kind, blame = "rev-vs-fwd", "the numerical derivative cannot referee"
    if subject.properties.gradient in (None, "straight-through"):  # away from where it applies, a convention is the math
        numeric = evidence.first_numeric
        referee = tolerance("ad-vs-numeric", subject.dtypes)
        if numeric.reliable:
            n = numeric.value
            if referee.close(fwd, n, scale) and not referee.close(rev, n, scale):
                kind, pair, tol, blame = "rev-vs-numeric", (REV, "numeric", rev, n), referee, f"forward mode agrees: {fwd:.6g}"
            elif referee.close(rev, n, scale) and not referee.close(fwd, n, scale):
                kind, pair, tol, blame = "fwd-vs-numeric", (FWD, "numeric", fwd, n), referee, f"reverse mode agrees: {rev:.6g}"
            else:
                both = referee.close(rev, n, scale) and referee.close(fwd, n, scale)
                blame = f"the numerical derivative {n:.6g} agrees with {'both within its tolerance' if both else 'neither'}"
        else:
            blame = f"no numerical referee ({numeric.unreliable})"
    a, b, value_a, value_b = pair
    if b == "numeric" and _absent_explains(subject, runs[a], value_a, scale, evidence, judgement, provider=_other_mode(a)):
        return
    message = f"<u, J v> by {a} = {value_a:.6g}, by {b} = {value_b:.6g}; {blame}"
    judgement.add(
        subject.finding(
            kind,
            a,
            b,
            message,
            abs(value_a - value_b),
            projection=(value_a, value_b),
            location=confirmation.location,
            confirmed_by=confirmation.how,
            rtol=tol.rtol,
            atol=tol.atol,
            scale=scale,
        )
    )


def _judge_against_numeric(
    subject: Subject, runs: dict[str, ModeRun], values: dict[str, float], scale: float, evidence: Evidence, judgement: Judgement
) -> None:
    """The AD modes agree (or there is one): their derivative against the numerical one (named after
    the library's primary mode when both agree: the other is derived from its rules)."""
    mode = subject.backend.primary_mode if subject.backend.primary_mode in values else next(iter(values))
    value = values[mode]
    if len(values) == 2:
        judgement.note("rev vs fwd", "ok", f"{values[REV]:.6g} vs {values[FWD]:.6g}")
    if subject.properties.gradient:
        source = subject.properties.sources.get("gradient", "the catalog")
        judgement.filter("by-design", f"{mode} vs numeric", f"gradient {subject.properties.gradient} ({source})")
        return
    numeric = evidence.first_numeric
    if not numeric.reliable:
        judgement.filter(numeric.unreliable or "", f"{mode} vs numeric", numeric.detail)
        return
    tol = tolerance("ad-vs-numeric", subject.dtypes)
    agree = tol.close(value, numeric.value, scale)
    judgement.note(f"{mode} vs numeric", "ok" if agree else "mismatch", f"{value:.6g} vs {numeric.value:.6g}")
    if agree:
        if value == 0.0 and evidence.flushed(evidence.projected_output(), subject.v, numeric.value):
            zero_derivative(subject, judgement, mode, numeric.value)
        return
    point = evidence.first_point(max(scale, abs(numeric.value)))
    if not point.reason:
        point = evidence.sensitive(product_norms(runs))
    if point.reason:
        judgement.filter(point.reason, f"{mode} vs numeric", point.detail)
        return
    if evidence.changes_nearby(evidence.projected_output(), subject.v, numeric.value, max(scale, abs(numeric.value))):
        judgement.filter(
            "non-differentiable-point", f"{mode} vs numeric", "the numerical derivative changes at neighbouring points"
        )
        return
    # The modes agree: either one's absent products (rev: inputs, fwd: outputs) may explain the gap.
    if any(_absent_explains(subject, run, value, scale, evidence, judgement) for run in runs.values()):
        return
    confirmation = _confirmation(subject, mode, "numeric", scale)
    judgement.note(f"{mode} vs numeric confirmation", "mismatch" if confirmation.confirmed else "ok", confirmation.note)
    if not confirmation.confirmed:
        judgement.filter("unconfirmed", f"{mode} vs numeric", confirmation.note)
        return
    both = " (forward mode agrees with reverse mode)" if len(values) == 2 else ""
    message = f"<u, J v> by {mode} = {value:.6g}, numerically {numeric.value:.6g}{both}"
    judgement.add(
        subject.finding(
            f"{mode}-vs-numeric",
            mode,
            "numeric",
            message,
            abs(value - numeric.value),
            projection=(value, numeric.value),
            location=confirmation.location,
            confirmed_by=confirmation.how,
            rtol=tol.rtol,
            atol=tol.atol,
            scale=scale,
            modes_agree=len(values) == 2,
        )
    )


def zero_derivative(subject: Subject, judgement: Judgement, mode: str, numeric: float) -> None:
    """A derivative AD computes as exactly zero where the numerical one is small but resolved
    (an underflow in the rule, as 1 - tanh(x)^2 at saturation): recorded, below the tolerances' floors."""
    message = f"{mode} computes exactly 0, the numerical derivative is {numeric:.6g} (resolved to 1 %)"
    judgement.add(subject.finding("zero-derivative", mode, "numeric", message, abs(numeric), projection=(0.0, numeric)))


def _other_mode(mode: str) -> str:
    """The other first-order AD mode."""
    return FWD if mode == REV else REV


def _absent_explains(
    subject: Subject,
    run: ModeRun,
    value: float,
    scale: float,
    evidence: Evidence,
    judgement: Judgement,
    provider: str | None = None,
) -> bool:
    """Whether the mismatch is the library reporting no derivative (None) for some inputs (rev) or
    outputs (fwd) that the numerical derivative shows to matter: a missing derivative, not a wrong one;
    a derivative gap when the other AD mode (`provider`) computes that derivative (its user gets a zero)."""
    absent = run.absent
    if not absent:
        return False
    if run.mode == REV:
        present_v = [np.zeros_like(d) if i in absent else d for i, d in enumerate(subject.v)]
        absent_v = [d if i in absent else np.zeros_like(d) for i, d in enumerate(subject.v)]
        on_present = evidence.numeric(evidence.projected_output(), present_v)
        on_absent = evidence.numeric(evidence.projected_output(), absent_v)
        what = "input" + ("s" if len(absent) > 1 else "") + " " + ", ".join(f"#{i}" for i in absent)
    else:
        present_u = [np.zeros_like(d) if i in absent else d for i, d in enumerate(subject.u)]
        absent_u = [d if i in absent else np.zeros_like(d) for i, d in enumerate(subject.u)]
        on_present = evidence.numeric(evidence.projected_output(present_u), subject.v)
        on_absent = evidence.numeric(evidence.projected_output(absent_u), subject.v)
        what = "output" + ("s" if len(absent) > 1 else "") + " " + ", ".join(f"#{i}" for i in absent)
    tol = tolerance("ad-vs-numeric", subject.dtypes)
    if not (on_present.reliable and on_absent.reliable and tol.close(value, on_present.value, scale)):
        return False
    if tol.close(on_absent.value, 0.0, scale):
        return False
    message = f"{run.mode} reports no derivative for {what}, numerically the derivative along it is {on_absent.value:.6g}"
    kind, reference = ("derivative-gap", provider) if provider else ("missing-derivative", "numeric")
    if provider:
        message += f" ({provider} computes it)"
    judgement.add(
        subject.finding(
            kind,
            reference,
            run.mode,
            message,
            abs(on_absent.value),
            absent=absent,
            rtol=tol.rtol,
            atol=tol.atol,
            scale=scale,
        )
    )
    return True
