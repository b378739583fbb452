"""The oracle: runs a case under every scenario of a backend and compares them (library-agnostic).

Stages, each a function of the subject (`subject.prepare`) and the first-order runs:
1. direct call: binding, determinism, status (`subject`);
2. first order: statuses of reverse and forward mode, their outputs, their derivatives as scalar
   projections <u, J v> with the numerical derivative as referee (`first_order`);
3. compiled scenarios against eager (`compiled`), one compiler set at a time;
4. second order, compositions against each other, then the numerical referee (`second_order`);
5. batched scenarios (vmap, pfor) against a loop over the samples (`batched`);
6. the API wrapped in user-defined derivative rules against the API itself (`custom`);
7. the API's inputs bound as users also bind them against plain tensors (`custom.judge_input_kinds`);
8. a program's findings that one of its calls shows alone, on the values it received, are keyed
   by the earliest such call (`program_values.key_by_single_call`: one root cause per bug across programs and calls),
   also when the check stops after first order.
Stages 3, 5, 6 and 7 run for the scenario sets chosen that run on the case (`scenario_sets`); the
time of each set is recorded in the verdict. No stage is skipped because another found or filtered something: each
compares what it can. An exception of nabla-atheris' own code ends only its stage, as a harness
error of the verdict.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from nabla_atheris import scenario_sets
from nabla_atheris.backends import Backend
from nabla_atheris.case import Case, encode
from nabla_atheris.oracle.batched import judge_batched
from nabla_atheris.oracle.compiled import judge_compiled
from nabla_atheris.oracle.custom import judge_custom, judge_input_kinds
from nabla_atheris.oracle.evidence import Evidence
from nabla_atheris.oracle.first_order import blamed, judge_derivatives, judge_statuses, judge_values, run_first_order
from nabla_atheris.oracle.program_values import key_by_single_call
from nabla_atheris.oracle.running import describe, where
from nabla_atheris.oracle.second_order import judge_second_order
from nabla_atheris.oracle.subject import Subject, prepare
from nabla_atheris.verdict import Judgement, Verdict
from nabla_atheris.vocabulary import compiled_parts

CORE = scenario_sets.CORE


def check_case(
    case: Case, backend: Backend, selection: scenario_sets.Selection | None = None, first_order_only: bool = False
) -> Verdict:
    """Run every check of the oracle on one case, for the scenario sets of `selection` that run on it
    (default: NABLA_SCENARIOS, else the library's defaults); `first_order_only`: stop after the
    first-order stages (stage 2)."""
    selection = scenario_sets.from_environment(backend.name) if selection is None else selection
    sets = scenario_sets.active(selection, encode(case))
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
    if first_order_only:
        _key_by_single_calls(subject, verdict, sets, first_order_only=True)
        return verdict
    # A mode with a wrong first derivative is not composed or compiled further: the same root cause.
    sound = {mode: run for mode, run in agreeing.items() if mode not in blamed(derivatives)}
    stages: list[tuple[str, str, Callable[[], Judgement]]] = [
        ("compiled", chosen, lambda modes=modes: judge_compiled(subject, sound, evidence, modes))
        for chosen, modes in _compiled_sets(backend, sets).items()
    ]
    stages.append(("second order", CORE, lambda: judge_second_order(subject, sound, evidence)))
    if "batched" in sets:
        stages.append(("batched", "batched", lambda: judge_batched(subject, sound, evidence)))
    if "custom" in sets:
        stages.append(("custom rules", "custom", lambda: judge_custom(subject, sound, evidence, disputed(verdict))))
    if "inputs" in sets:
        stages.append(("input kinds", "inputs", lambda: judge_input_kinds(subject, sound, evidence, disputed(verdict))))
    for name, chosen, stage in stages:
        verdict.absorb(_stage(verdict, name, stage, chosen) or Judgement())
    _key_by_single_calls(subject, verdict, sets)
    return verdict


def _key_by_single_calls(subject: Subject, verdict: Verdict, sets: frozenset[str], first_order_only: bool = False) -> None:
    """Stage 8 for a program with findings: each keyed by the earliest call that shows it alone, checked
    with the program's sets (up to first order where the program was: a case a campaign's first pass
    meets again, whose first-order findings are a single call's as much as on a full check)."""
    if subject.case.then and verdict.findings:
        every = {name: 1 for name in sets}  # the program's sets, on the single call whatever its bytes
        alone = lambda single: check_case(single, subject.backend, every, first_order_only)  # noqa: E731
        _stage(verdict, "single calls alone", lambda: key_by_single_call(subject, verdict, alone))


def disputed(verdict: Verdict) -> set[str]:
    """The second-order compositions of the verdict's second-order findings (all it compared: which
    is right is the referee's call, not a reference for another stage)."""
    found = [f for f in verdict.findings if f.kind == "second-order-mismatch"]
    return {s for f in found for s in (*f.scenarios, *f.details.get("values", ()))}


def _compiled_sets(backend: Backend, sets: frozenset[str]) -> dict[str, tuple[str, ...]]:
    """The backend's compiled scenarios of each chosen set, in the backend's order."""
    chosen: dict[str, tuple[str, ...]] = {}
    for mode in backend.compiled_modes:
        name = scenario_sets.set_of_compiler(compiled_parts(mode)[0])
        if name in sets:
            chosen[name] = chosen.get(name, ()) + (mode,)
    return chosen


def _stage(verdict: Verdict, name: str, run: Callable[[], object], scenario_set: str = CORE) -> object:
    """Run one stage, its time counted to its scenario set; an exception escaping it is the harness'
    own error (None is returned)."""
    started = time.perf_counter()
    try:
        return run()
    except Exception as exc:  # the library's errors are caught inside the stages: this one is ours
        origin = exc.__cause__ or exc  # a HarnessError names the glue's own exception as its cause
        verdict.harness_error(name, f"{describe(exc)} (at {where(origin)})")
        return None
    finally:
        verdict.seconds[scenario_set] = verdict.seconds.get(scenario_set, 0.0) + time.perf_counter() - started
