"""Second order: d/dt <u, J(x + t v2) v> at t = 0 by every composition the backend offers, over all
differentiable inputs jointly (so mixed partial derivatives are checked too).

The compositions are compared with each other first (AD against AD, a tight tolerance); the
numerical derivative of the first-order product referees: it decides which compositions are wrong
when they disagree, and it is compared with them when they agree, if it is reliable. A composition
runs only when both first-order modes it composes ran; one that raises while first order works is a
derivative gap (or a status mismatch, or a crash).
"""

from __future__ import annotations

import numpy as np

from nabla_atheris.oracle.evidence import Evidence, Numeric, ScalarFn
from nabla_atheris.oracle.first_order import ModeRun, error_finding, scale_of, zero_derivative
from nabla_atheris.oracle.subject import Subject
from nabla_atheris.tolerances import Tolerance, tolerance
from nabla_atheris.verdict import Judgement
from nabla_atheris.vocabulary import REV, second_order_parts


def clusters(values: dict[str, float], tol: Tolerance, scale: float) -> list[list[str]]:
    """The modes grouped by agreement (each joins the first group whose first member it is close to),
    largest group first."""
    groups: list[list[str]] = []
    for mode, value in values.items():
        for group in groups:
            if tol.close(values[group[0]], value, scale):
                group.append(mode)
                break
        else:
            groups.append([mode])
    return sorted(groups, key=len, reverse=True)


def judge_second_order(subject: Subject, runs: dict[str, ModeRun], evidence: Evidence) -> Judgement:
    """Every composition whose first-order parts ran, against the others and the numerical derivative."""
    judgement = Judgement()
    values: dict[str, float] = {}
    for mode in subject.backend.second_order_modes:
        outer, inner = second_order_parts(mode)
        if not (outer in runs and inner in runs):
            judgement.note(mode, "skipped", "a first-order mode it composes did not run cleanly")
            continue
        out = subject.run(subject.call.second_order, mode, subject.u, subject.v, subject.v2)
        if not out.ok:
            error_finding(subject, judgement, mode, out.error, inner, others_work=True)
            continue
        values[mode] = float(out.value)
        judgement.note(mode, "ok" if np.isfinite(values[mode]) else "non-finite", f"{values[mode]:.6g}")
    if not values:
        return judgement
    referee = REV if REV in runs else next(iter(runs))
    phi = evidence.first_order_product(referee)
    finite = {m: v for m, v in values.items() if np.isfinite(v)}
    scale = max([abs(v) for v in finite.values()], default=0.0)
    ad = tolerance("ad-vs-ad", subject.dtypes)
    groups = clusters(finite, ad, scale)
    if len(finite) == len(values) and len(groups) == 1:
        _against_numeric(subject, values, phi, referee, scale, evidence, judgement)
        return judgement
    if evidence.convention:  # the first-order modes follow a documented convention here, so may their compositions
        judgement.filter("by-design", "second order", evidence.convention)
        return judgement
    point = evidence.first_point(scale_of(runs))  # no first derivative here: no second either
    if not point.reason:
        point = evidence.point(phi, subject.v2, scale)
    numeric = second_numeric(subject, evidence, phi)
    if not point.reason:
        point = evidence.sensitive(list(finite.values()) + ([numeric.value] if numeric.reliable else []), order=2)
    if point.reason:
        judgement.filter(point.reason, "second order", point.detail)
        return judgement
    if not finite:
        if not numeric.reliable or not np.isfinite(numeric.value):
            judgement.filter("nan-both", "second order", "non-finite in every composition, no numerical referee")
            return judgement
        wrong, right, claim = list(values), "numeric", f"numerically {numeric.value:.6g}"
    else:
        wrong, right, claim = _blame(values, groups, numeric, tolerance("second-order", subject.dtypes), scale)
    shown = ", ".join(f"{m} = {values[m]:.6g}" for m in values)
    message = f"d/dt <u, J v>: {shown}; wrong: {', '.join(wrong)} ({claim})"
    reference = numeric.value if right == "numeric" else values[right]
    judgement.add(
        subject.finding(
            "second-order-mismatch",
            wrong[0],
            right,
            message,
            abs(values[wrong[0]] - reference) if np.isfinite(values[wrong[0]]) else float("inf"),
            projection=(values[wrong[0]], reference),
            values=values,
            referee=referee,
            rtol=ad.rtol,
            atol=ad.atol,
            scale=scale,
        )
    )
    return judgement


def second_numeric(subject: Subject, evidence: Evidence, phi: ScalarFn) -> Numeric:
    """The numerical derivative of the first-order product along v2; not a referee where eigen- or
    singular vectors are outputs (the float64 call's gauge at x + h v2 is not the AD rules' gauge)."""
    if subject.properties.gauge_vectors:
        return Numeric(float("nan"), "sign-or-phase-ambiguity", "eigen- or singular vectors: the numerical gauge is not AD's")
    return evidence.numeric(phi, subject.v2)


def _blame(
    values: dict[str, float], groups: list[list[str]], numeric: Numeric, referee: Tolerance, scale: float
) -> tuple[list[str], str, str]:
    """Which compositions are wrong, the scenario that is right, and why: the non-finite ones and the
    groups the reliable numerical derivative disagrees with, else every group but the largest."""
    nonfinite = [m for m, v in values.items() if not np.isfinite(v)]
    if numeric.reliable and np.isfinite(numeric.value):
        agreeing = [g for g in groups if referee.close(values[g[0]], numeric.value, max(scale, abs(numeric.value)))]
        if len(agreeing) == 1:
            wrong = nonfinite + [m for g in groups if g is not agreeing[0] for m in g]
            return wrong, agreeing[0][0], f"the numerical derivative {numeric.value:.6g} agrees with {', '.join(agreeing[0])}"
        if not agreeing:  # every composition is wrong: the referee is the reference
            return list(values), "numeric", f"the numerical derivative {numeric.value:.6g} agrees with none"
    why = "no numerical referee" if not numeric.reliable else f"the numerical derivative is {numeric.value:.6g}"
    wrong = nonfinite + [m for g in groups[1:] for m in g]
    return wrong, groups[0][0], why


def _against_numeric(
    subject: Subject,
    values: dict[str, float],
    phi: ScalarFn,
    referee: str,
    scale: float,
    evidence: Evidence,
    judgement: Judgement,
) -> None:
    """Every composition agrees: their value against the numerical derivative of the first-order product."""
    mode, value = next(iter(values.items()))
    if subject.properties.gradient:
        judgement.filter("by-design", "second order vs numeric", f"gradient {subject.properties.gradient}")
        return
    numeric = second_numeric(subject, evidence, phi)
    if not numeric.reliable or not np.isfinite(numeric.value):
        judgement.filter(numeric.unreliable or "numerical-instability", "second order vs numeric", numeric.detail)
        return
    tol = tolerance("second-order", subject.dtypes)
    size = max(scale, abs(numeric.value))
    agree = tol.close(value, numeric.value, size)
    judgement.note("second order vs numeric", "ok" if agree else "mismatch", f"{value:.6g} vs {numeric.value:.6g}")
    if agree:
        if value == 0.0 and evidence.flushed(phi, subject.v2, numeric.value):
            zero_derivative(subject, judgement, mode, numeric.value)
        return
    point = evidence.point(phi, subject.v2, size)
    if not point.reason:
        point = evidence.sensitive([value, numeric.value], order=2)
    if point.reason:
        judgement.filter(point.reason, "second order vs numeric", point.detail)
        return
    if evidence.changes_nearby(phi, subject.v2, numeric.value, size):
        judgement.filter("non-differentiable-point", "second order vs numeric", "the first derivative has a kink nearby")
        return
    together = f" (all {len(values)} compositions agree)" if len(values) > 1 else ""
    message = f"d/dt <u, J v> by {mode} = {value:.6g}, numerically {numeric.value:.6g}{together}"
    judgement.add(
        subject.finding(
            "second-order-mismatch",
            mode,
            "numeric",
            message,
            abs(value - numeric.value),
            projection=(value, numeric.value),
            values=values,
            referee=referee,
            rtol=tol.rtol,
            atol=tol.atol,
            scale=size,
        )
    )
