"""A numpy backend with planted defects, for unit tests of the oracle's stages and filters that need
no deep-learning library.

Every op is a smooth function with hand-written derivative rules (`Op`): the direct call, a VJP, a
JVP, the second-order projection d/dt <u, J(x + t v2) v>, and a compiled variant. A defect is a
rule that is wrong, missing or raising, or a result the harness' glue cannot convert. Cases name
ops as `fake.<name>`; their differentiable tensors are the op's inputs (float64 or float32).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from nabla_atheris.backends import ErrorClass, glue_of
from nabla_atheris.case import Case

Arrays = list[np.ndarray]


class Unconvertible:
    """A library result the glue cannot convert."""


def to_numpy(value: Any) -> np.ndarray:
    """The fake library's conversion glue (an error raised here is the harness' own)."""
    if isinstance(value, Unconvertible):
        raise TypeError("cannot convert an Unconvertible to numpy")
    return np.asarray(value)


GLUE = ("to_numpy",)


class InternalError(RuntimeError):
    pass


class NotCompilable(RuntimeError):
    pass


class Documented(RuntimeError):
    pass


@dataclasses.dataclass
class Op:
    """An elementwise function of its inputs (summed over inputs) and its derivative rules."""

    f: Callable[[np.ndarray], np.ndarray]
    df: Callable[[np.ndarray], np.ndarray]  # the true derivative, elementwise
    d2f: Callable[[np.ndarray], np.ndarray]  # the true second derivative, elementwise
    rev_scale: float = 1.0  # a wrong VJP: scaled
    fwd_scale: float = 1.0  # a wrong JVP: scaled
    second_scale: dict[str, float] = dataclasses.field(default_factory=dict)  # wrong compositions: scaled
    jit_scale: float = 1.0  # a wrong compiled VJP
    raises: dict[str, Exception] = dataclasses.field(default_factory=dict)  # scenario -> exception raised
    absent_rev: bool = False  # the VJP reports no gradient (None)
    nan_fwd: bool = False  # the JVP returns NaN
    wrong_shape_rev: bool = False  # the VJP returns a gradient of another shape than its input
    rev_outputs_shift: float = 0.0  # reverse mode computes other outputs
    unconvertible: bool = False  # the output cannot be converted by the glue
    noisy: bool = False  # the direct call differs on each call
    output_dtype: str | None = None  # e.g. float16: an output less precise than the input
    order_by_dtype: bool = False  # outputs in another order in float64 (as eigenvalues may be)
    rev_df: Callable[[np.ndarray], np.ndarray] | None = None  # reverse mode's own rule (a documented convention)


def smooth(**defects: Any) -> Op:
    return Op(np.sin, np.cos, lambda x: -np.sin(x), **defects)


def _rule(op: Op, mode: str) -> Callable[[np.ndarray], np.ndarray]:
    """The elementwise derivative a first-order mode computes."""
    return op.rev_df if mode == "rev" and op.rev_df is not None else op.df


def _sin_clamped(x: np.ndarray) -> np.ndarray:
    return np.sin(np.maximum(x, 0.5))


def _sin_clamped_df(x: np.ndarray) -> np.ndarray:
    return np.cos(np.maximum(x, 0.5)) * (x > 0.5)


def _sin_clamped_d2f(x: np.ndarray) -> np.ndarray:
    return -np.sin(np.maximum(x, 0.5)) * (x > 0.5)


def _sin_clamped_rev(x: np.ndarray) -> np.ndarray:
    return np.cos(np.maximum(x, 0.5))


def _tie_max_rev(x: np.ndarray) -> np.ndarray:
    grad = np.zeros_like(x)
    grad.flat[int(np.argmax(x))] = 1.0  # the first maximum
    return grad


def _tie_max_fwd(x: np.ndarray) -> np.ndarray:
    grad = np.zeros_like(x)
    grad.flat[x.size - 1 - int(np.argmax(x.ravel()[::-1]))] = 1.0  # the last maximum
    return grad


OPS: dict[str, Op] = {
    "sin": smooth(),
    "wrong_rev": smooth(rev_scale=1.5),
    "wrong_fwd": smooth(fwd_scale=0.5),
    "wrong_both": smooth(rev_scale=1.5, fwd_scale=1.5),
    "unstable_disagree": Op(
        lambda x: np.sin(x) + 1e-3 * np.sin(1e7 * x), np.cos, lambda x: -np.sin(x), rev_scale=1.0, fwd_scale=2.0
    ),
    "unstable_wrong_second": Op(
        lambda x: np.sin(x) + 1e-3 * np.sin(1e7 * x), np.cos, lambda x: -np.sin(x), second_scale={"rev-over-rev": 3.0}
    ),
    "nan_fwd": smooth(nan_fwd=True),
    "nan_fwd_tanh": Op(np.tanh, lambda x: 1.0 / np.cosh(x) ** 2, lambda x: -2.0 * np.tanh(x) / np.cosh(x) ** 2, nan_fwd=True),
    "wrong_shape_rev": smooth(wrong_shape_rev=True),
    "absent_rev": smooth(absent_rev=True),
    "gap_rev": smooth(raises={"rev": NotImplementedError("derivative for 'fake' is not implemented")}),
    "no_derivative": smooth(
        raises={
            "rev": NotImplementedError("derivative for 'fake' is not implemented"),
            "fwd": NotImplementedError("derivative for 'fake' is not implemented"),
        }
    ),
    "gap_second": smooth(raises={"fwd-over-rev": NotImplementedError("derivative for 'fake_backward' is not implemented")}),
    "documented_fwd": smooth(raises={"fwd": Documented("forward mode is not supported for this kind of function")}),
    "internal_rev": smooth(raises={"rev": InternalError("INTERNAL ASSERT FAILED")}),
    "status_rev": smooth(raises={"rev": ValueError("expected a contiguous tensor")}),
    "contract_breach": smooth(raises={"rev": ValueError("input must be at least rank 1")}),
    "value_rev": smooth(rev_outputs_shift=1.0),
    "noisy": smooth(noisy=True),
    "wrong_rev_over_rev": smooth(second_scale={"rev-over-rev": 2.0}),
    "wrong_all_second": smooth(second_scale={m: 2.0 for m in ("rev-over-rev", "fwd-over-rev", "rev-over-fwd", "fwd-over-fwd")}),
    "wrong_jit": smooth(jit_scale=3.0),
    "not_compilable": smooth(raises={"jit-direct": NotCompilable("needs concrete values"), "jit-rev": NotCompilable("x")}),
    "glue_error": smooth(unconvertible=True),
    "abs": Op(np.abs, np.sign, np.zeros_like),
    "half_output": smooth(output_dtype="float16"),
    "cut": Op(lambda x: x, np.zeros_like, np.zeros_like, absent_rev=True),
    "order_by_dtype": smooth(order_by_dtype=True),
    # sin(max(x, 0.5)) whose gradient ignores the clamp (a straight-through convention, as gaussian_nll_loss
    # documents for its var) while forward mode differentiates it; rev-over-rev differentiates the convention
    "straight_through": Op(
        _sin_clamped, _sin_clamped_df, _sin_clamped_d2f, rev_df=_sin_clamped_rev, second_scale={"rev-over-rev": 2.0}
    ),
    "straight_through_wrong_fwd": Op(_sin_clamped, _sin_clamped_df, _sin_clamped_d2f, rev_df=_sin_clamped_rev, fwd_scale=0.5),
    "huge_slope": Op(lambda x: np.sin(1e9 * x), lambda x: 1e9 * np.cos(1e9 * x), np.zeros_like, fwd_scale=1 + 1e-3),
    "wildly_wrong_rev": smooth(rev_scale=1e16),
    "infinite_slope": Op(np.cbrt, lambda x: 1.0 / (3.0 * np.cbrt(x) ** 2), np.zeros_like),
    "flushed": Op(
        lambda x: 1e-9 * np.sin(x), lambda x: 1e-9 * np.cos(x), lambda x: -1e-9 * np.sin(x), rev_scale=0.0, fwd_scale=0.0
    ),
    "flushed_second": Op(
        lambda x: 1e-9 * np.sin(x),
        lambda x: 1e-9 * np.cos(x),
        lambda x: -1e-9 * np.sin(x),
        second_scale={m: 0.0 for m in ("rev-over-rev", "fwd-over-rev", "rev-over-fwd", "fwd-over-fwd")},
    ),
}
# The maximum over all entries (ties: reverse mode picks the first, forward mode the last maximum).
TIE = "tie_max"
# The eigenvalues of sym(lower triangle): reads one triangle, gradient in the Hermitian convention.
EIGVALSH = "eigvalsh"


def _x_sum(xs: Sequence[np.ndarray]) -> np.ndarray:
    return sum(np.asarray(x, dtype=np.float64) for x in xs)  # type: ignore[return-value]


class FakeCall:
    """A case bound to the fake library."""

    def __init__(self, case: Case, widen: bool, compiled_bias: float = 0.0) -> None:
        self.case = case
        self.name = case.api.split(".", 1)[1]
        self.dtype = "float64" if widen else case.differentiable()[0].dtype
        self.inputs: Arrays = [t.array().astype(self.dtype) for t in case.differentiable()]
        self.output_dtypes: list[str] = []
        self.calls = 0

    # -- the function and its rules ---------------------------------------------------------------
    def _eval(self, xs: Arrays) -> Arrays:
        if self.name == TIE:
            return [np.array(np.max(xs[0]))]
        if self.name == EIGVALSH:
            a = np.tril(xs[0])
            return [np.linalg.eigvalsh(a + np.tril(a, -1).T)]
        op = OPS[self.name]
        out = op.f(_x_sum(xs))
        if op.order_by_dtype and self.dtype == "float64" and self.case.differentiable()[0].dtype != "float64":
            out = out.ravel()[::-1].reshape(out.shape)
        if op.noisy:
            self.calls += 1
            out = out + 1e-3 * self.calls
        return [out.astype(op.output_dtype or self.dtype)]

    def _jacobian_product(self, xs: Arrays, v: Arrays, mode: str) -> Arrays:
        x = _x_sum(xs)
        if self.name == TIE:
            pick = _tie_max_rev(xs[0]) if mode == "rev" else _tie_max_fwd(xs[0])
            return [np.array(np.sum(pick * v[0]))]
        op = OPS[self.name]
        scale = op.rev_scale if mode == "rev" else op.fwd_scale
        return [(scale * _rule(op, mode)(x) * _x_sum(v)).astype(self.dtype)]

    def _raise(self, scenario: str) -> None:
        if self.name in OPS and scenario in OPS[self.name].raises:
            raise OPS[self.name].raises[scenario]

    def _xs(self, xs: Sequence[np.ndarray] | None) -> Arrays:
        return [np.asarray(x, dtype=self.dtype) for x in (self.inputs if xs is None else xs)]

    # -- the scenarios ------------------------------------------------------------------------------
    def direct(self, xs: Sequence[np.ndarray] | None = None) -> Arrays:
        outs = self._eval(self._xs(xs))
        self.output_dtypes = [str(o.dtype) for o in outs]
        if self.name in OPS and OPS[self.name].unconvertible:
            return [to_numpy(Unconvertible())]
        return [to_numpy(o) for o in outs]

    def vjp(self, u: Arrays, xs: Sequence[np.ndarray] | None = None) -> tuple[Arrays, list[np.ndarray | None]]:
        self._raise("rev")
        xs = self._xs(xs)
        outs = self._eval(xs)
        op = OPS.get(self.name)
        if op is not None and op.rev_outputs_shift:
            outs = [o + op.rev_outputs_shift for o in outs]
        if op is not None and op.absent_rev:
            return outs, [None for _ in xs]
        if op is not None and op.wrong_shape_rev:
            return outs, [np.zeros(1) for _ in xs]
        if self.name == TIE:
            return outs, [np.real(u[0]) * _tie_max_rev(xs[0])]
        if self.name == EIGVALSH:
            return outs, [self._eigvalsh_gradient(xs[0], u[0])]
        x = _x_sum(xs)
        grad = op.rev_scale * _rule(op, "rev")(x) * np.real(u[0])  # type: ignore[arg-type]
        return outs, [grad.astype(self.dtype) for _ in xs]

    def jvp(self, v: Arrays, xs: Sequence[np.ndarray] | None = None) -> tuple[Arrays, list[np.ndarray | None]]:
        self._raise("fwd")
        xs = self._xs(xs)
        outs = self._eval(xs)
        if self.name == EIGVALSH:
            g = np.linalg.eigh(self._sym(xs[0]))[1]
            return outs, [np.einsum("ji,jk,ki->i", g, self._sym_direction(v[0]), g)]
        tangents = self._jacobian_product(xs, v, "fwd")
        if self.name in OPS and OPS[self.name].nan_fwd:
            tangents = [t * np.nan for t in tangents]
        return outs, tangents

    def second_order(self, mode: str, u: Arrays, v: Arrays, v2: Arrays) -> float:
        self._raise(mode)
        if self.name not in OPS:
            raise Documented("the fake library has no second order for this op")
        op = OPS[self.name]
        x = _x_sum(self.inputs)
        value = float(np.sum(op.d2f(x) * np.real(u[0]) * _x_sum(v) * _x_sum(v2)))
        return value * op.second_scale.get(mode, 1.0)

    def compiled(self, mode: str, vectors: Arrays) -> tuple[Arrays, Arrays]:
        self._raise(mode)
        if mode == "jit-direct":
            return self.direct(), []
        if mode == "jit-rev":
            outs, grads = self.vjp(vectors)
            scale = OPS[self.name].jit_scale if self.name in OPS else 1.0
            return outs, [g * scale if g is not None else np.zeros_like(x) for g, x in zip(grads, self.inputs)]
        outs, tangents = self.jvp(vectors)
        return outs, [t if t is not None else np.zeros(0) for t in tangents]

    # -- eigvalsh -----------------------------------------------------------------------------------
    @staticmethod
    def _sym(a: np.ndarray) -> np.ndarray:
        lower = np.tril(a)
        return lower + np.tril(lower, -1).T

    @staticmethod
    def _sym_direction(d: np.ndarray) -> np.ndarray:
        return FakeCall._sym(d)

    def _eigvalsh_gradient(self, a: np.ndarray, u: np.ndarray) -> np.ndarray:
        """The gradient in the Hermitian convention (symmetric), as eigvalsh libraries return it."""
        vectors = np.linalg.eigh(self._sym(a))[1]
        return (vectors * np.real(u)) @ vectors.T


class FakeBackend:
    """The fake library's backend."""

    name = "fake"
    primary_mode = "rev"
    first_order_modes = ("rev", "fwd")
    second_order_modes = ("rev-over-rev", "fwd-over-rev", "rev-over-fwd", "fwd-over-fwd")
    compiled_modes = ("jit-direct", "jit-rev", "jit-fwd")

    def __init__(self) -> None:
        import sys

        self.glue = glue_of(sys.modules[__name__])

    def version(self) -> str:
        return "0"

    def bind(self, case: Case, widen: bool = False) -> FakeCall:
        name = case.api.split(".", 1)[1]
        if name not in OPS and name not in (TIE, EIGVALSH):
            raise ValueError(f"no fake op {name}")
        return FakeCall(case, widen)

    def contract_violation(self, call: FakeCall) -> str | None:
        """The fake library's static check (as TensorFlow's shape inference): `contract_breach` fails it."""
        return "a static check rejects the input" if call.name == "contract_breach" else None

    def classify(self, exc: BaseException) -> ErrorClass:
        if isinstance(exc, InternalError):
            return ErrorClass.INTERNAL
        if isinstance(exc, NotImplementedError):
            return ErrorClass.UNSUPPORTED
        if isinstance(exc, NotCompilable):
            return ErrorClass.NOT_COMPILABLE
        if isinstance(exc, Documented):
            return ErrorClass.DOCUMENTED
        return ErrorClass.INVALID
