"""A test-only catalog of OneFlow functions with planted AD bugs (`oneflow.autograd.Function` with a
wrong backward or a wrong second order, an output that changes with `requires_grad`, a graph-only
divergence), and honest traps (kinks, correct custom functions, unused inputs).

Importing this module registers them as `oneflow.nabla_planted.<name>`, so cases name them like any
oneflow API and reproducers can call them once this module is imported.
"""

import types

import numpy as np
import oneflow as flow


class WrongBackward(flow.autograd.Function):
    """sin, with a backward 1.5 times too large."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return flow.sin(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * flow.cos(x) * 1.5


class RightBackward(flow.autograd.Function):
    """sin with its correct backward (built from differentiable ops: second order is right too)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return flow.sin(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * flow.cos(x)


class ThreeSquared(flow.autograd.Function):
    """3 x^2 (the derivative of x^3) whose own backward is wrong: 5 x instead of 6 x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return 3 * x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 5 * x


class WrongSecondOrder(flow.autograd.Function):
    """x^3 with a right first derivative and a wrong second derivative."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * ThreeSquared.apply(x)


class InternalErrorBackward(flow.autograd.Function):
    """A backward that fails an internal check."""

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("Check failed: planted (1 vs. 2) at planted.cpp:1")


class NotImplementedBackward(flow.autograd.Function):
    """A backward OneFlow has not implemented."""

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        raise NotImplementedError("planted backward is not implemented")


class SparseInputBackward(flow.autograd.Function):
    """sin, whose backward takes a wrong "sparse input" shortcut: when its input holds an exact zero,
    it forgets the factor cos(x) everywhere. The oracle's single calls take dense inputs; a program
    meets sparse ones whenever an earlier op zeroes entries (relu, masking), as models do."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return flow.sin(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        sparse = (x == 0).any().to(x.dtype)
        return g * (flow.cos(x) * (1 - sparse) + sparse)


def wrong_backward(x):
    return WrongBackward.apply(x)


def right_backward(x):
    return RightBackward.apply(x)


def wrong_second_order(x):
    return WrongSecondOrder.apply(x)


def internal_error_backward(x):
    return InternalErrorBackward.apply(x)


def not_implemented_backward(x):
    return NotImplementedBackward.apply(x)


def sparse_input_backward(x):
    return SparseInputBackward.apply(x)


def output_differs_with_grad(x):
    """sin, 0.1 % larger when gradients are recorded (∇Fuzz's OneFlow oracle: with vs without requires_grad)."""
    return flow.sin(x) * (1.001 if x.requires_grad else 1.0)


def graph_only(x):
    """sin, 0.1 % larger when traced by nn.Graph (its inputs are lazy tensors there)."""
    return flow.sin(x) * (1.0 if x.is_eager else 1.001)


def ignores_second(x, y):
    """Depends on x only: OneFlow's grad of y fails (no allow_unused); it counts as zeros."""
    return flow.sin(x)


def where_glue(x):
    """A C1 function glued by where at 0: x^2 / 2 for x > 0, 0 otherwise."""
    return flow.where(x > 0, x * x / 2, flow.zeros_like(x))


def numpy_roundtrip(x):
    """A call nn.Graph cannot trace (it reads values): eager only, the graph refuses (not a finding)."""
    return x * float(np.asarray(x.numpy()).sum() > -1e9)


PLANTED = {
    "wrong_backward": (wrong_backward, "rev-vs-numeric"),
    "wrong_second_order": (wrong_second_order, "second-order-mismatch"),
    "output_differs_with_grad": (output_differs_with_grad, "value-mismatch"),
    "graph_only": (graph_only, "compiled-mismatch"),
    "internal_error_backward": (internal_error_backward, "crash"),
    "not_implemented_backward": (not_implemented_backward, "missing-derivative"),
}
# Planted interaction bugs only a program shows: name -> (function, expected kind, the program's calls
# before it: (API, extra arguments) each, the first one fed the case's input).
PROGRAM_PLANTED = {"sparse_input_backward": (sparse_input_backward, "rev-vs-numeric", [("oneflow.relu", [])])}
TRAPS = {
    "right_backward": right_backward,
    "ignores_second": ignores_second,
    "where_glue": where_glue,
    "numpy_roundtrip": numpy_roundtrip,
}

flow.nabla_planted = types.SimpleNamespace(
    **{k: fn for k, (fn, _) in PLANTED.items()}, **{k: v[0] for k, v in PROGRAM_PLANTED.items()}, **TRAPS
)
