"""Structure-level shrinking of a finding's case: fewer calls of a program, fewer and smaller
dimensions, simpler values, fewer attributes and differentiable inputs, a simpler dtype, while the
finding stays (its signature, for the case's own sequence of APIs: see `signature_on`).

A program's calls go first. A call is dropped together with the calls that take its outputs, or
alone with their references rewired to one of its own inputs in turn (an elementwise call's output
has its input's shape and dtype; when the input does not fit, the check says so). A program reduced
to one call that still shows the disagreement is filed under that call's signature. Then every
call's arguments shrink as a single call's do.

Greedy, like Hypothesis' shrinker: try the candidate edits of the current case in order (the ones
that remove the most first) and keep the first that still reproduces, until none does or the
budget of checks is spent.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from nabla_atheris.case import Arg, Attr, Call, Case, Ref, Tensor, TensorList, encode, is_floating, plain_attribute, storage_dtype
from nabla_atheris.verdict import Finding

Predicate = Callable[[Case], bool]
SIMPLE_DTYPE = {"float32": "float64", "bfloat16": "float64", "float16": "float64", "complex64": "complex128"}


def case_size(case: Case) -> tuple[int, int, int, int, int]:
    """What the shrinker decreases: calls, elements, arguments, unusual dtypes, then the values' complexity."""
    tensors = case.tensors()
    elements = sum(t.size for t in tensors)
    arguments = sum(len(c.args) + len(c.kwargs) for c in case.calls()) + len(case.differentiable())
    dtypes = sum(t.dtype in SIMPLE_DTYPE for t in tensors)
    return 1 + len(case.then), elements, arguments, dtypes, sum(_value_complexity(t.values) for t in tensors)


def signature_on(finding: Finding, case: Case) -> str:
    """The signature `finding` has when `case` shows it: the same function and class of scenario, for
    the case's own sequence of APIs (fewer once calls are dropped; unchanged for a single call)."""
    return replace(finding, api=case.name()).signature()


def _value_complexity(values: np.ndarray) -> int:
    flat = np.asarray(values).ravel()
    if flat.dtype.kind not in "fc":
        return 0
    parts = np.concatenate([flat.real, flat.imag]) if flat.dtype.kind == "c" else flat
    return int(sum(0 if v in (0.0, 1.0) else 1 if float(v).is_integer() else 2 for v in parts.astype(np.float64)))


def _map_tensors(case: Case, fn: Callable[[int, Tensor], Tensor]) -> Case:
    counter = iter(range(1 << 30))

    def walk(arg: Arg) -> Arg:
        if isinstance(arg, Tensor):
            return fn(next(counter), arg)
        if isinstance(arg, TensorList):
            return TensorList(tuple(walk(t) for t in arg.items))
        return arg

    return case.with_calls([_with_arguments(c, walk) for c in case.calls()])


def _with_arguments(call: Call, fn: Callable[[Arg], Arg]) -> Call:
    return replace(call, args=tuple(fn(a) for a in call.args), kwargs=tuple((k, fn(a)) for k, a in call.kwargs))


def _with_call(case: Case, index: int, call: Call) -> Case:
    calls = list(case.calls())
    calls[index] = call
    return case.with_calls(calls)


def _call_edits(case: Case) -> Iterator[Case]:
    """Each call dropped with the calls that take its outputs (the last call first), then each call
    that has such dependents dropped alone, their references rewired to each of its inputs in turn."""
    calls = case.calls()
    if len(calls) < 2:
        return
    for drop in reversed(range(len(calls))):
        dropped = {drop} | _dependents(calls, drop)
        if len(dropped) < len(calls):
            yield case.with_calls(_renumbered(calls, dropped, {}))
    for drop, call in enumerate(calls):
        if _dependents(calls, drop):
            for substitute in [a for a in call.arguments() if isinstance(a, (Tensor, Ref))]:
                yield case.with_calls(_renumbered(calls, {drop}, {drop: substitute}))


def _dependents(calls: tuple[Call, ...], index: int) -> set[int]:
    """The calls that take an output of call `index`, directly or through other calls."""
    found: set[int] = set()
    for later in range(index + 1, len(calls)):
        if any(isinstance(a, Ref) and (a.call == index or a.call in found) for a in calls[later].arguments()):
            found.add(later)
    return found


def _renumbered(calls: tuple[Call, ...], dropped: set[int], substitutes: dict[int, Arg]) -> list[Call]:
    """The calls without `dropped`, a reference to a dropped call replaced by its substitute (an input
    of that call) and every other reference renumbered."""

    def moved(arg: Arg) -> Arg:
        if not isinstance(arg, Ref):
            return arg
        if arg.call in substitutes:
            return moved(substitutes[arg.call])
        return Ref(arg.call - sum(d < arg.call for d in dropped), arg.output)

    return [_with_arguments(c, moved) for i, c in enumerate(calls) if i not in dropped]


def _resize(tensor: Tensor, old: int, new: int) -> Tensor:
    """Shrink every axis of size `old` to `new` by keeping the leading slice."""
    return _sliced(tensor, lambda axis, size: new if size == old else size)


def _sliced(tensor: Tensor, new_size: Callable[[int, int], int]) -> Tensor:
    index = tuple(slice(0, new_size(axis, size)) for axis, size in enumerate(tensor.shape))
    array = np.ascontiguousarray(tensor.array()[index])
    return Tensor(tensor.dtype, array.shape, array.ravel(), tensor.differentiable)


def _with_values(tensor: Tensor, values: np.ndarray) -> Tensor:
    return Tensor(tensor.dtype, tensor.shape, values.astype(storage_dtype(tensor.dtype)), tensor.differentiable)


def _dimension_edits(case: Case) -> Iterator[Case]:
    sizes = sorted({d for t in case.tensors() for d in t.shape if d > 1}, reverse=True)
    for old in sizes:
        for new in dict.fromkeys((1, old // 2, old - 1)):
            if 0 < new < old:
                yield _map_tensors(case, lambda i, t, old=old, new=new: _resize(t, old, new))


def _axis_edits(case: Case) -> Iterator[Case]:
    for target, tensor in enumerate(case.tensors()):
        for axis, size in enumerate(tensor.shape):
            for new in dict.fromkeys((1, size - 1)) if size > 1 else ():
                smaller = _sliced(tensor, lambda a, s, axis=axis, new=new: new if a == axis else s)
                yield _map_tensors(case, lambda i, t, target=target, smaller=smaller: smaller if i == target else t)


def _argument_edits(case: Case) -> Iterator[Case]:
    for at, call in enumerate(case.calls()):
        for index in range(len(call.kwargs)):
            yield _with_call(case, at, replace(call, kwargs=call.kwargs[:index] + call.kwargs[index + 1 :]))
        for index, arg in enumerate(call.args):
            if isinstance(arg, TensorList) and len(arg.items) > 1:
                for drop in range(len(arg.items)):
                    shorter = TensorList(arg.items[:drop] + arg.items[drop + 1 :])
                    yield _with_call(case, at, replace(call, args=call.args[:index] + (shorter,) + call.args[index + 1 :]))


def _differentiability_edits(case: Case) -> Iterator[Case]:
    if len(case.differentiable()) < 2:
        return
    for target in range(len(case.tensors())):
        yield _map_tensors(
            case, lambda i, t, target=target: replace(t, differentiable=False) if i == target and t.differentiable else t
        )


def _dtype_edits(case: Case) -> Iterator[Case]:
    if any(t.dtype in SIMPLE_DTYPE for t in case.tensors()):
        yield _map_tensors(
            case,
            lambda i, t: _with_values(replace(t, dtype=SIMPLE_DTYPE[t.dtype]), t.values) if t.dtype in SIMPLE_DTYPE else t,
        )


def _value_edits(case: Case) -> Iterator[Case]:
    tensors = case.tensors()
    for target, tensor in enumerate(tensors):
        if not is_floating(tensor.dtype) or not tensor.size:
            continue
        values = np.asarray(tensor.values)
        for simpler in (np.zeros_like(values), np.ones_like(values), np.round(values), np.round(values, 1)):
            if not np.array_equal(simpler, values, equal_nan=True):
                yield _map_tensors(case, lambda i, t, target=target, v=simpler: _with_values(t, v) if i == target else t)
        for element in range(min(tensor.size, 64)):
            if values[element] not in (0.0, 1.0):
                for simple in (0.0, 1.0, float(np.round(values[element].real))):
                    changed = values.copy()
                    changed[element] = simple
                    if not np.array_equal(changed, values, equal_nan=True):
                        yield _map_tensors(case, lambda i, t, target=target, v=changed: _with_values(t, v) if i == target else t)


EDITS = (_call_edits, _dimension_edits, _axis_edits, _argument_edits, _differentiability_edits, _dtype_edits, _value_edits)


def minimize_case(case: Case, reproduces: Predicate, max_checks: int = 300, progress: Callable[[str], Any] | None = None) -> Case:
    """The smallest case found (by `case_size`) for which `reproduces` still holds."""
    checks = 0
    improved = True
    while improved and checks < max_checks:
        improved = False
        for edits in EDITS:
            for candidate in edits(case):
                if checks >= max_checks:
                    break
                if case_size(candidate) >= case_size(case):
                    continue
                checks += 1
                if reproduces(candidate):
                    case, improved = candidate, True
                    if progress:
                        progress(f"check {checks}: size {case_size(case)}")
                    break
            if improved:
                break
    return case


def case_to_json(case: Case) -> dict:
    """The hand-written JSON form of a case (for `nabla-atheris check`), values included."""

    def tensor(t: Tensor) -> dict:
        flat = np.asarray(t.values).ravel()
        values: list[Any] = [[float(v.real), float(v.imag)] for v in flat] if t.dtype.startswith("complex") else flat.tolist()
        spec = {"dtype": t.dtype, "shape": list(t.shape), "values": values}
        if is_floating(t.dtype) and not t.differentiable:
            spec["requires_grad"] = False
        return spec

    def arg(a: Arg) -> Any:
        if isinstance(a, Tensor):
            return tensor(a)
        if isinstance(a, TensorList):
            return [tensor(t) for t in a.items]
        if isinstance(a, Ref):
            return {"ref": [a.call, a.output]}
        assert isinstance(a, Attr)
        return plain_attribute(a.value)

    calls = [{"api": c.api, "args": [arg(a) for a in c.args], "kwargs": {k: arg(a) for k, a in c.kwargs}} for c in case.calls()]
    return {"library": case.library, **calls[0]} if len(calls) == 1 else {"library": case.library, "calls": calls}


def write_minimized(prefix: Path, case: Case, reproducer: str) -> list[Path]:
    """Write a minimized case as PREFIX.case.msgpack, PREFIX.json (a case for `check`) and PREFIX.repro.py."""
    outputs = {
        Path(f"{prefix}.case.msgpack"): encode(case),
        Path(f"{prefix}.json"): (json.dumps(case_to_json(case), indent=1) + "\n").encode(),
        Path(f"{prefix}.repro.py"): reproducer.encode(),
    }
    for path, data in outputs.items():
        path.write_bytes(data)
    return list(outputs)
