"""A program's later call as a single call: its own arguments, and in place of each reference a
tensor holding the earlier output it names (the program run up to the call that produced it), so
that the points a call declares (ties, ill-conditioned matrices, duplicate indices) are looked for
in the values the call meets, not in the program's inputs; and a program's findings that one of its
calls shows alone, on those values, keyed by that call (`key_by_single_call`)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nabla_atheris.case import DTYPES, Arg, Call, Case, Ref, Tensor, is_floating, storage_dtype
from nabla_atheris.oracle.subject import Arrays, Subject
from nabla_atheris.rootcause import finding_key
from nabla_atheris.verdict import Verdict


def standalone(subject: Subject, index: int) -> Case | None:
    """Call `index` of the subject's program as a single-call case whose references are tensors (None
    when running the program up to an earlier call raised)."""
    calls = subject.case.calls()
    outputs: dict[int, Arrays] = {}
    for ref in {a for a in calls[index].arguments() if isinstance(a, Ref)}:
        if ref.call not in outputs:
            prefix = subject.case.with_calls(calls[: ref.call + 1])
            run = subject.run(lambda: subject.backend.bind(prefix).direct())
            if not run.ok:
                return None
            outputs[ref.call] = run.value
        if ref.output >= len(outputs[ref.call]):
            return None

    def materialize(arg: Arg) -> Arg:
        return as_tensor(np.asarray(outputs[arg.call][arg.output])) if isinstance(arg, Ref) else arg

    call = calls[index]
    kwargs = tuple((k, materialize(a)) for k, a in call.kwargs)
    return subject.case.with_calls([Call(call.api, call.api_id, call.template, tuple(materialize(a) for a in call.args), kwargs)])


def key_by_single_call(subject: Subject, verdict: Verdict, check: Callable[[Case], Verdict]) -> None:
    """Key each finding of a program that one of its calls shows alone, on the values that call
    received (the same kind of disagreement in the same class of scenario, or the same error), by the
    earliest such call: a program that merely reaches a single call's bug is not a root cause of its
    own. Calls are tried in order and the search stops once every finding is keyed. `check` is the
    oracle, with the program's scenario sets."""
    calls = subject.case.calls()
    for index, call in enumerate(calls):
        open_ = [f for f in verdict.findings if not f.keyed_by]
        if not open_:
            return
        alone = standalone(subject, index)
        if alone is None:
            return  # the program fails before this call: no later call runs on its own values either
        shown = {f.signature() for f in check(alone).findings}
        for finding in open_:
            error = str(finding.details.get("error", ""))
            if finding_key(finding.library, call.api, finding.kind, finding.scenarios, error) in shown:
                finding.keyed_by = call.api


def as_tensor(array: np.ndarray) -> Tensor:
    """A tensor holding an output's values (differentiable when floating)."""
    dtype = array.dtype.name if array.dtype.name in DTYPES else _closest_dtype(array)
    return Tensor(dtype, tuple(array.shape), array.ravel().astype(storage_dtype(dtype)), is_floating(dtype))


def _closest_dtype(array: np.ndarray) -> str:
    if np.iscomplexobj(array):
        return "complex128"
    return "float64" if np.issubdtype(array.dtype, np.floating) else "int64"
