"""Comparing a scenario's outputs with the direct call's (`value-mismatch`, or `compiled-mismatch` for a
compiled scenario). Reproducers embed `output_difference` verbatim."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nabla_atheris import projections as P
from nabla_atheris.oracle.subject import Arrays, Subject
from nabla_atheris.tolerances import Tolerance, tolerance
from nabla_atheris.verdict import Judgement


def output_difference(a, b, tol):
    """How a scenario's output `b` differs from the direct output `a` beyond `tol`: what differs, the
    largest error (floating outputs), and whether they agree up to signs or phases; None if they agree."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return f": {a.dtype}{list(a.shape)} vs {b.dtype}{list(b.shape)}", None, False
    if not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.complexfloating)):
        return None if np.array_equal(a, b) else (" (non-floating) differs", None, False)
    scale = float(np.max(np.abs(a))) if a.size else 0.0
    err = float(np.max(np.abs(a - b))) if a.size else 0.0
    bound = tol.atol + tol.rtol * scale
    if np.all(np.isfinite(b)) and err <= bound:
        return None
    return f" differs by {err:.3g}", err, float(np.max(np.abs(np.abs(a) - np.abs(b)))) <= bound


def _repeated(outputs: Arrays, again: Arrays | None) -> bool:
    """A scenario run again (None: it failed) gave the same outputs (the determinism check's equality)."""
    return again is not None and P.same_values(outputs, again)


def judge_outputs(
    subject: Subject, mode: str, outputs: Arrays, kind: str = "value-mismatch", again: Callable[[], Arrays | None] | None = None
) -> tuple[Judgement, bool]:
    """A scenario's outputs against the direct outputs: the judgement, and whether they agree. `again`
    runs the scenario once more (its outputs, None if it failed): a scenario that does not repeat its
    own other outputs drew them (a rare random event, as dropout at a small p, can repeat in every
    direct call and miss in one scenario's)."""
    judgement = Judgement()
    tol: Tolerance = tolerance("value", subject.dtypes)
    if len(outputs) != len(subject.outputs):
        message = f"{len(outputs)} output(s), the direct call has {len(subject.outputs)}"
        judgement.add(subject.finding(kind, "direct", mode, message))
        return judgement, False
    for i, (a, b) in enumerate(zip(subject.outputs, outputs)):
        difference = output_difference(a, b, tol)
        if difference is None:
            continue
        what, err, up_to_sign = difference
        if kind == "compiled-mismatch" and up_to_sign:
            # eigenvectors, singular vectors: each is unique only up to its sign or phase
            judgement.filter("sign-or-phase-ambiguity", mode, f"output {i} agrees up to signs or phases")
        elif not subject.repeats_itself():
            judgement.filter("nondeterministic", mode, "a repeated direct call gives other outputs")
        elif again is not None and not _repeated(outputs, again()):
            judgement.filter("nondeterministic", mode, f"{mode}, run again, gives other outputs")
        else:
            details = {} if err is None else {"output": i, "rtol": tol.rtol, "atol": tol.atol}
            judgement.add(subject.finding(kind, "direct", mode, f"output {i}{what}", err or 0.0, **details))
        return judgement, False
    judgement.note(f"value {mode}", "ok")
    return judgement, True
