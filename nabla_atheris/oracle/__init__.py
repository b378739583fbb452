"""The oracle: runs a case under every scenario of a backend and compares them (library-agnostic).

Stages, each a function of the subject (`subject.prepare`) and the first-order runs:
1. direct call: binding, determinism, status (`subject`);
2. first order: statuses of reverse and forward mode, their outputs, their derivatives as scalar
   projections <u, J v> with the numerical derivative as referee (`first_order`);
3. compiled scenarios against eager (`compiled`);
4. second order, compositions against each other, then the numerical referee (`second_order`).
No stage is skipped because another found or filtered something: each compares what it can. An
exception of nabla-atheris' own code ends only its stage, as a harness error of the verdict.
"""

from __future__ import annotations

from collections.abc import Callable

from nabla_atheris.backends import Backend
from nabla_atheris.case import Case
from nabla_atheris.oracle.compiled import judge_compiled
from nabla_atheris.oracle.evidence import Evidence
from nabla_atheris.oracle.first_order import blamed, judge_derivatives, judge_statuses, judge_values, run_first_order
from nabla_atheris.oracle.running import describe, where
from nabla_atheris.oracle.second_order import judge_second_order
from nabla_atheris.oracle.subject import prepare
from nabla_atheris.verdict import Judgement, Verdict


def check_case(case: Case, backend: Backend) -> Verdict:
    """Run every check of the oracle on one case."""
    verdict = Verdict(case=case)
    subject = _stage(verdict, "direct", lambda: prepare(case, backend, verdict))
    if "invalid-input" in verdict.filters:
        verdict.valid = False
    if subject is None:
        return verdict
    evidence = Evidence(subject)
    runs = _stage(verdict, "first order", lambda: run_first_order(subject))
    if runs is None:
        return verdict
    verdict.absorb(_stage(verdict, "first-order status", lambda: judge_statuses(subject, runs)) or Judgement())
    values = _stage(verdict, "first-order values", lambda: judge_values(subject, runs))
    if values is None:
        return verdict
    judgement, agreeing = values
    verdict.absorb(judgement)
    first = _stage(verdict, "first-order derivatives", lambda: judge_derivatives(subject, agreeing, evidence))
    derivatives = first or Judgement()
    verdict.absorb(derivatives)
    # A mode with a wrong first derivative is not composed or compiled further: the same root cause.
    sound = {mode: run for mode, run in agreeing.items() if mode not in blamed(derivatives)}
    for name, stage in (
        ("compiled", lambda: judge_compiled(subject, sound, evidence)),
        ("second order", lambda: judge_second_order(subject, sound, evidence)),
    ):
        verdict.absorb(_stage(verdict, name, stage) or Judgement())
    return verdict


def _stage(verdict: Verdict, name: str, run: Callable[[], object]) -> object:
    """Run one stage; an exception escaping it is the harness' own error (None is returned)."""
    try:
        return run()
    except Exception as exc:  # the library's errors are caught inside the stages: this one is ours
        origin = exc.__cause__ or exc  # a HarnessError names the glue's own exception as its cause
        verdict.harness_error(name, f"{describe(exc)} (at {where(origin)})")
        return None
