"""A case's call as Python source: the literals of its attributes and the call on its tensors, as a
reproducer writes it and as torch.compile's scenarios run it."""

from __future__ import annotations

from typing import Any

import numpy as np

from nabla_atheris.case import Attr, Case, Tensor, TensorList


def literal(value: Any) -> str:
    """Python source for a number, list or scalar attribute (NaN and inf included)."""
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


def call_source(case: Case, constant: str = "cs", callee: str | None = None) -> tuple[list[str], str]:
    """Tensor constructors for the case's tensors and the source of the call on `xs` and constants."""
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
        assert isinstance(arg, Attr)
        return literal(list(arg.value) if isinstance(arg.value, tuple) else arg.value)

    parts = [render(a) for a in case.args] + [f"{k}={render(a)}" for k, a in case.kwargs]
    return diff_names, f"{callee or case.api}({', '.join(parts)})"
