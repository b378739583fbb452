"""User-defined derivative rules: the API wrapped as users write their own rules (the backend's
`custom_rules`: a torch.autograd.Function with backward, jvp and vmap rules, jax.custom_vjp and
custom_jvp, tf.custom_gradient), whose rules call the API's own AD, must agree with the API itself in
every mode and order the rule supports (its scenarios, as the backend lists them): the direct call,
reverse and forward mode, the second-order compositions, and nested transforms (the Hessian of
t -> <u, f(x + t0 v + t1 v2)> by jacfwd(jacfwd) and jacrev(jacfwd), whose off-diagonal entries are
the API's second-order value by the composition they nest) (`custom-rule-mismatch`).

Both sides are AD computing one derivative through the same rules: AD-vs-AD tolerance, and only a
point with no derivative dismisses a mismatch. A wrapped derivative runs only where the API's
first-order modes all ran cleanly (a rule may compute one mode from the other: a jvp rule from the
VJP), and a composition only where the wrapped first-order modes it composes were right (one wrong
rule, one finding). A wrapped scenario that raises where the API works is a status finding, but
not when a derivative is not implemented (the rule may need one the API lacks: a jvp rule built
from the VJP needs the backward's own derivative) or the library documents the limitation.

Input kinds (`judge_input_kinds`) are judged alike: the API with its inputs bound as users also bind
them (the backend's `input_kinds`: torch's non-contiguous views, TensorFlow's tf.Variable) against
the API on plain tensors, in every mode and order (`input-kind-mismatch`). A direct call that refuses
inputs bound so (a contiguity precondition) is filtered (`input-kind-refused`), and an API whose
result depends on its inputs' memory layout by design (as_strided) is not judged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from nabla_atheris.backends import ErrorClass
from nabla_atheris.oracle.evidence import Evidence, Point
from nabla_atheris.oracle.first_order import ModeRun, error_finding, projection, scale_of
from nabla_atheris.oracle.running import Outcome, describe
from nabla_atheris.oracle.subject import Subject
from nabla_atheris.oracle.values import judge_outputs
from nabla_atheris.tolerances import tolerance
from nabla_atheris.verdict import Judgement
from nabla_atheris.vocabulary import DIRECT, FIRST_ORDER_AD, FWD, NESTED_TRANSFORMS, REV, SECOND_ORDER, second_order_parts

KIND = "custom-rule-mismatch"
INPUT_KIND = "input-kind-mismatch"
Rules = Mapping[str, tuple[str, ...]]  # rule (or input kind) -> the scenarios it runs


def parts(mode: str) -> set[str]:
    """The first-order modes a scenario is built on (a composition's, a nested transform's)."""
    if mode in SECOND_ORDER:
        return set(second_order_parts(mode))
    if mode in NESTED_TRANSFORMS:
        return set(second_order_parts(NESTED_TRANSFORMS[mode]))
    return {mode} & set(FIRST_ORDER_AD)


def judge_input_kinds(
    subject: Subject, runs: dict[str, ModeRun], evidence: Evidence, disputed: set[str] = frozenset()
) -> Judgement:
    """Every input kind of the backend, as `judge_custom` judges rules (`input-kind-mismatch`), but for
    an API whose result depends on its inputs' memory layout by design (as_strided: declared)."""
    kinds = getattr(subject.backend, "input_kinds", {})
    if kinds and subject.properties.layout_dependent:
        judgement = Judgement()
        judgement.filter("by-design", "input kinds", "the API's result depends on its inputs' memory layout")
        return judgement
    return judge_custom(subject, runs, evidence, disputed, kinds, INPUT_KIND)


def judge_custom(
    subject: Subject,
    runs: dict[str, ModeRun],
    evidence: Evidence,
    disputed: set[str] = frozenset(),
    rules: Rules | None = None,
    kind: str = KIND,
) -> Judgement:
    """Every user-defined rule of the backend (or `rules`), in each of its scenarios whose unwrapped
    counterpart ran (and, for a composition, is not `disputed`: the second-order stage found it or
    its peers wrong); a disagreement is a finding of `kind`."""
    judgement = Judgement()
    rules = getattr(subject.backend, "custom_rules", {}) if rules is None else rules
    for rule, modes in rules.items():
        unsound: set[str] = set()  # wrapped first-order modes that computed a wrong derivative
        for mode in modes:
            name = f"{rule}:{mode}"
            if mode != DIRECT and not set(subject.backend.first_order_modes) <= set(runs):
                judgement.note(name, "skipped", "a first-order mode of the API did not run cleanly")
                continue
            if NESTED_TRANSFORMS.get(mode, mode) in disputed:
                judgement.note(name, "skipped", f"the unwrapped {NESTED_TRANSFORMS.get(mode, mode)} is disputed")
                continue
            if parts(mode) & unsound:
                judgement.note(name, "skipped", f"the wrapped {', '.join(sorted(parts(mode) & unsound))} is wrong")
                continue
            reference = _unwrapped(subject, runs, mode)
            if not reference.ok:
                if subject.error_class(reference.error) is ErrorClass.NOT_COMPILABLE:
                    judgement.filter("not-compilable", mode, describe(reference.error))
                else:
                    judgement.note(name, "skipped", f"the unwrapped {mode} raised: {describe(reference.error)}")
                continue
            wrapped = subject.run(subject.call.custom, rule, mode, subject.u, subject.v, subject.v2)
            if not wrapped.ok:
                error_class = subject.error_class(wrapped.error)
                if error_class is ErrorClass.NOT_COMPILABLE:
                    judgement.filter("not-compilable", name, describe(wrapped.error))
                elif error_class is ErrorClass.UNSUPPORTED and kind == KIND:  # the rule needs a derivative the API lacks
                    judgement.note(name, "skipped", f"the rule needs a derivative the API lacks: {describe(wrapped.error)}")
                elif kind == INPUT_KIND and mode == DIRECT and error_class is not ErrorClass.INTERNAL:
                    judgement.filter("input-kind-refused", name, describe(wrapped.error))
                    break  # a precondition of the API (contiguity), not of a derivative: its modes would raise too
                else:
                    error_finding(subject, judgement, name, wrapped.error, mode, others_work=True)
                continue
            verdict = _compare(subject, runs, evidence, mode, name, reference.value, wrapped.value, kind)
            if verdict.findings and not _reproduces(subject, runs, evidence, rule, mode, reference.value, kind):
                judgement.filter("nondeterministic", name, "run again, the scenario or the direct call gives other results")
                continue
            if verdict.findings and mode in FIRST_ORDER_AD:
                unsound.add(mode)
            judgement.absorb(verdict)
    return judgement


def _reproduces(
    subject: Subject, runs: dict[str, ModeRun], evidence: Evidence, rule: str, mode: str, reference: Any, kind: str
) -> bool:
    """Whether a wrapped scenario that disagrees disagrees again when run again, with a direct call that
    repeats itself (a random API, such as attention with dropout, differs between any two runs)."""
    again = subject.run(subject.call.custom, rule, mode, subject.u, subject.v, subject.v2)
    if not again.ok:
        return False
    verdict = _compare(subject, runs, evidence, mode, f"{rule}:{mode}", reference, again.value, kind)
    return bool(verdict.findings) and subject.repeats_itself()


def _unwrapped(subject: Subject, runs: dict[str, ModeRun], mode: str) -> Outcome:
    """The API's own result in a scenario: the direct outputs and first-order runs of the case, the
    second-order composition (for a nested transform, the one it nests)."""
    if mode == DIRECT:
        return Outcome(value=subject.outputs)
    if mode in FIRST_ORDER_AD:
        return runs[mode].outcome
    composition = NESTED_TRANSFORMS.get(mode, mode)
    return subject.run(subject.call.second_order, composition, subject.u, subject.v, subject.v2)


def _compare(
    subject: Subject, runs: dict[str, ModeRun], evidence: Evidence, mode: str, name: str, reference: Any, wrapped: Any, kind: str
) -> Judgement:
    """The wrapped result against the unwrapped one: outputs (direct, first order), then the derivative."""
    if mode == DIRECT:
        return judge_outputs(subject, name, wrapped, kind=kind)[0]
    judgement = Judgement()
    if mode in FIRST_ORDER_AD:
        verdict, same = judge_outputs(subject, name, wrapped[0], kind=kind)
        judgement.absorb(verdict)
        if not same:
            return judgement
        run = ModeRun(mode, Outcome(value=wrapped))
        ours, theirs = np.array([projection(subject, run)]), np.array([projection(subject, runs[mode])])
        scale = scale_of({mode: runs[mode], name: run})
    else:  # a nested transform: the off-diagonal entries of its Hessian against the composition it nests
        ours = np.asarray(wrapped, dtype=np.float64)[[0, 1], [1, 0]] if mode in NESTED_TRANSFORMS else np.array([float(wrapped)])
        theirs = np.full(ours.shape, float(reference))
        scale = max([float(np.max(np.abs(a[np.isfinite(a)]))) for a in (ours, theirs) if np.isfinite(a).any()], default=0.0)
    tol = tolerance("ad-vs-ad", subject.dtypes)
    entry = _disagreement(ours, theirs, tol.rtol, tol.atol, scale)
    judgement.note(f"{name} vs {mode}", "ok" if entry is None else "mismatch", f"{_shown(ours)} vs {_shown(theirs)}")
    if entry is None:
        return judgement
    value, other = float(ours.flat[entry]), float(theirs.flat[entry])
    point = _point(subject, runs, evidence, mode, scale, [value, other])
    if point.reason:
        judgement.filter(point.reason, f"{name} vs {mode}", point.detail)
        return judgement
    what = "<u, J v>" if mode in FIRST_ORDER_AD else "d/dt <u, J v>"
    by = f"{NESTED_TRANSFORMS[mode]} (Hessian entry {[(0, 1), (1, 0)][entry]} of {mode})" if mode in NESTED_TRANSFORMS else mode
    message = f"{what} by {by} = {other:.6g}, by {name} = {value:.6g}"
    error = abs(value - other) if np.isfinite(value) and np.isfinite(other) else float("inf")
    details = {"entry": [(0, 1), (1, 0)][entry]} if mode in NESTED_TRANSFORMS else {}
    reference_name = NESTED_TRANSFORMS.get(mode, mode)
    details.update(projection=(other, value), rtol=tol.rtol, atol=tol.atol, scale=scale)
    judgement.add(subject.finding(kind, reference_name, name, message, error, **details))
    return judgement


def _disagreement(ours: np.ndarray, theirs: np.ndarray, rtol: float, atol: float, scale: float) -> int | None:
    """The first entry where two results disagree (NaN or inf alike on both sides agree)."""
    for i, (a, b) in enumerate(zip(ours.flat, theirs.flat)):
        if not (np.isfinite(a) and np.isfinite(b)):
            if not (a == b or (np.isnan(a) and np.isnan(b))):
                return i
        elif abs(a - b) > atol + rtol * max(abs(a), abs(b), scale):
            return i
    return None


def _point(
    subject: Subject, runs: dict[str, ModeRun], evidence: Evidence, mode: str, scale: float, estimates: list[float]
) -> Point:
    """Whether the case's point has no derivative of the scenario's order, or one so large that rounding
    decides the comparison."""
    if mode in FIRST_ORDER_AD:
        point = evidence.first_point(scale)
        return point if point.reason else evidence.sensitive(estimates)
    referee = REV if REV in runs else FWD
    point = evidence.point(evidence.first_order_product(referee), subject.v2, scale)
    return point if point.reason else evidence.sensitive(estimates, order=2)


def _shown(values: np.ndarray) -> str:
    return ", ".join(f"{v:.6g}" for v in values.flat) if values.size > 1 else f"{float(values.flat[0]):.6g}"
