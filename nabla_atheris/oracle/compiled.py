"""Compiled scenarios (`jax.jit`, `tf.function`, XLA, `nn.Graph` of the direct call, reverse and
forward mode) against their eager counterparts: status, outputs and <u, J v> (`compiled-mismatch`).
These are comparisons of AD against AD: no numerical filter applies, only a point with no
derivative dismisses a derivative mismatch. A compiler that refuses the call as written (value-
dependent shapes, Python control flow, no kernel) is skipped for the rest of the case."""

from __future__ import annotations

import numpy as np

from nabla_atheris import projections as P
from nabla_atheris.backends import ErrorClass
from nabla_atheris.oracle.evidence import Evidence
from nabla_atheris.oracle.first_order import ModeRun, error_finding, product_norms, projection, scale_of
from nabla_atheris.oracle.running import describe
from nabla_atheris.oracle.subject import Subject
from nabla_atheris.oracle.values import judge_outputs
from nabla_atheris.tolerances import Tolerance, tolerance
from nabla_atheris.verdict import Judgement
from nabla_atheris.vocabulary import DIRECT, REV, compiled_parts


def same_value(a: float, b: float, tol: Tolerance, scale: float) -> bool:
    """Whether two derivative projections agree: within the tolerance, or the very same inf or NaN."""
    if np.isfinite(a) and np.isfinite(b):
        return tol.close(a, b, scale)
    return bool(np.isnan(a) and np.isnan(b)) or a == b


def judge_compiled(
    subject: Subject, runs: dict[str, ModeRun], evidence: Evidence, modes: tuple[str, ...] | None = None
) -> Judgement:
    """Every compiled scenario of the backend (or those of `modes`) whose eager counterpart ran and
    computed the direct outputs."""
    judgement = Judgement()
    refused: set[str] = set()
    tol = tolerance("ad-vs-ad", subject.dtypes)
    scale = scale_of(runs)
    for mode in subject.backend.compiled_modes if modes is None else modes:
        compiler, eager = compiled_parts(mode)
        if compiler in refused:
            judgement.note(mode, "skipped", f"{compiler} refused the call")
            continue
        if eager != DIRECT and eager not in runs:
            judgement.note(mode, "skipped", f"eager {eager} did not run cleanly")
            continue
        vectors = {DIRECT: [], REV: subject.u}.get(eager, subject.v)
        out = subject.run(subject.call.compiled, mode, vectors)
        if not out.ok:
            if subject.error_class(out.error) is ErrorClass.NOT_COMPILABLE:
                refused.add(compiler)
                judgement.filter("not-compilable", mode, describe(out.error))
            else:
                error_finding(subject, judgement, mode, out.error, eager, others_work=True)
            continue
        outputs, products = out.value
        verdict, same = judge_outputs(subject, mode, outputs, kind="compiled-mismatch")
        judgement.absorb(verdict)
        if not same or eager == DIRECT:
            continue
        value = P.inner(products, subject.v) if eager == REV else P.inner(subject.u, products)
        reference = projection(subject, runs[eager])
        agree = same_value(value, reference, tol, scale)
        judgement.note(f"{mode} vs {eager}", "ok" if agree else "mismatch", f"{value:.6g} vs {reference:.6g}")
        if agree:
            continue
        if not np.isfinite(value) and not np.isfinite(reference):
            judgement.filter("nan-both", f"{mode} vs {eager}", "non-finite in eager and compiled alike")
            continue
        point = evidence.first_point(scale)
        if not point.reason:
            point = evidence.sensitive(product_norms(runs) + [P.norm(products)])
        if point.reason:
            judgement.filter(point.reason, f"{mode} vs {eager}", point.detail)
            continue
        message = f"<u, J v> by {eager} = {reference:.6g}, by {mode} = {value:.6g}"
        judgement.add(
            subject.finding(
                "compiled-mismatch",
                eager,
                mode,
                message,
                abs(value - reference),
                projection=(reference, value),
                rtol=tol.rtol,
                atol=tol.atol,
                scale=scale,
            )
        )
    return judgement
