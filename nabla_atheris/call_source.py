"""A case's calls as Python source: the literals of their attributes and the calls on its tensors
and earlier outputs, as a reproducer writes them and as torch.compile's scenarios run them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from nabla_atheris.case import Attr, Case, Ref, Tagged, Tensor, TensorList


def literal(value: Any) -> str:
    """Python source for a number, list or scalar attribute (NaN and inf included), or a tagged value."""
    if isinstance(value, Tagged):
        return value.source(literal)
    if isinstance(value, (list, tuple)):
        inner = ", ".join(literal(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return repr(v) if np.isfinite(v) else f'float("{v}")'
    if isinstance(value, (complex, np.complexfloating)):
        return f"complex({literal(float(np.real(value)))}, {literal(float(np.imag(value)))})"
    if isinstance(value, (bool, np.bool_)):
        return repr(bool(value))
    if isinstance(value, (int, np.integer)):
        return repr(int(value))
    return repr(value)


def call_source(case: Case, constant: str = "cs", callee: Callable[[str], str] | None = None) -> tuple[list[str], list[str]]:
    """The names of the differentiable inputs and the statements of `f`'s body that run the case on
    them and its constants: one line per call of a program (`y0 = torch.sin(x0)`, an earlier output
    as `flatten(y0)[0]`), the last one `return ...`. `callee` writes an API's callable."""
    diff_names, const_tensors = [], []

    def render(arg: Any) -> str:
        if isinstance(arg, Tensor):
            if arg.differentiable:
                diff_names.append(f"x{len(diff_names)}")
                return diff_names[-1]
            const_tensors.append(arg)
            return f"{constant}[{len(const_tensors) - 1}]"
        if isinstance(arg, TensorList):
            return "[" + ", ".join(render(t) for t in arg.items) + "]"
        if isinstance(arg, Ref):
            return f"flatten(y{arg.call})[{arg.output}]"
        assert isinstance(arg, Attr)
        return literal(list(arg.value) if isinstance(arg.value, tuple) else arg.value)

    calls = case.calls()
    lines = []
    for index, call in enumerate(calls):
        parts = [render(a) for a in call.args] + [f"{k}={render(a)}" for k, a in call.kwargs]
        target = "return " if index == len(calls) - 1 else f"y{index} = "
        lines.append(f"{target}{callee(call.api) if callee else call.api}({', '.join(parts)})")
    return diff_names, lines
