"""Evidence about a subject that several stages weigh, computed once and only when asked:

- the numerical derivative of a scalar function along a direction, and whether it can referee
  (`Numeric`: the float64 reference computes the case's outputs, no output loses precision, the
  step does not change it);
- the character of the point (`point`): a tie of a tie-sensitive API, an ill-conditioned input of a
  decomposition, or a jump between the one-sided derivatives along the direction mean that the
  function has no derivative here to be right about; this dismisses any derivative comparison;
- whether the numerical derivative changes at neighbouring points (`changes_nearby`): a kink near x
  makes the numerical derivative an unreliable referee; this dismisses numerical comparisons only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from nabla_atheris import numerics
from nabla_atheris import projections as P
from nabla_atheris.case import Attr, Case, Tensor, TensorList, attribute_values, is_floating
from nabla_atheris.catalog.properties import SORTED_PROMISES, UNIQUE_PROMISES, ApiProperties, accumulates, promises
from nabla_atheris.oracle.program_values import standalone
from nabla_atheris.oracle.subject import Arrays, Subject
from nabla_atheris.tolerances import (
    ILL_CONDITIONED,
    NUMERIC_STEP_RATIO,
    SENSITIVITY_LIMIT,
    loses_precision,
    precision_class,
    tolerance,
    underflows,
)

INTEGER_DTYPES = ("int8", "int16", "int32", "int64", "uint8")
RESOLVED = 100.0  # a numerical derivative is resolved when its noise is below 1 % of it

ScalarFn = Callable[[Arrays], float]


@dataclass(frozen=True)
class Numeric:
    """A numerical directional derivative and, when it cannot referee, the filter reason why."""

    value: float
    unreliable: str | None = None  # a filter reason (precision-loss, reference-disagrees, numerical-instability)
    detail: str = ""

    @property
    def reliable(self) -> bool:
        return self.unreliable is None


@dataclass(frozen=True)
class Point:
    """Why the function has no derivative at the subject's point (None: it may have one)."""

    reason: str | None = None  # non-differentiable-point or ill-conditioned
    detail: str = ""


class Evidence:
    """Lazily computed evidence about one subject."""

    def __init__(self, subject: Subject) -> None:
        self.subject = subject
        self._first_point: Point | None = None
        self.convention = ""  # why the first-order modes may disagree here by the documentation (set by first order)

    # -- scalar functions of the widened inputs ---------------------------------------------------
    def projected_output(self, u: Arrays | None = None) -> ScalarFn:
        """x -> <u, f(x)> in float64 (NaN where the library raises)."""
        u = self.subject.u if u is None else u
        wide = self.subject.wide
        return lambda xs: _or_nan(self.subject, lambda out: _inner_or_nan(u, out), wide.direct, xs)

    def first_order_product(self, mode: str) -> ScalarFn:
        """x -> <u, J(x) v> in float64 by the first-order AD mode `mode` (NaN where the library raises)."""
        s = self.subject
        if mode == "rev":
            return lambda xs: _or_nan(s, lambda out: _inner_or_nan(out[1], s.v), s.wide.vjp, s.u, xs)
        return lambda xs: _or_nan(s, lambda out: _inner_or_nan(s.u, out[1]), s.wide.jvp, s.v, xs)

    # -- the numerical derivative -----------------------------------------------------------------
    def numeric(self, fn: ScalarFn, direction: Arrays) -> Numeric:
        """The derivative of fn along `direction` at the widened inputs, with its reliability."""
        s = self.subject
        if loses_precision(s.case.float_dtypes(), list(s.call.output_dtypes)):
            return Numeric(float("nan"), "precision-loss", "an output is less precise than an input")
        if self.reference_disagrees:
            return Numeric(float("nan"), "reference-disagrees", self.reference_disagrees)
        if s.wide is not s.call and loses_precision(["float64"], list(s.wide.output_dtypes)):
            detail = f"the float64 call's outputs are {sorted(set(s.wide.output_dtypes))}: no float64 reference"
            return Numeric(float("nan"), "precision-loss", detail)
        value, stable = numerics.numeric_derivative(fn, s.wide.inputs, direction)
        if not stable:
            return Numeric(value, "numerical-instability", "the numerical derivative depends on the step")
        return Numeric(value)

    @cached_property
    def first_numeric(self) -> Numeric:
        """d/dt <u, f(x + t v)>: the first-order referee."""
        return self.numeric(self.projected_output(), self.subject.v)

    @cached_property
    def reference_disagrees(self) -> str:
        """Why the widened call is no reference for the case's outputs ('' when it is one)."""
        s = self.subject
        if s.wide is s.call:
            return ""
        wide = s.run(s.wide.direct)
        if not wide.ok:
            return f"the float64 call raised: {type(wide.error).__name__}"
        tol = tolerance("value", s.dtypes)
        for i, (a, b) in enumerate(zip(s.outputs, wide.value)):
            if a.shape != b.shape:
                return f"output {i} has shape {list(b.shape)} in float64, {list(a.shape)} in {s.case.float_dtypes()[0]}"
            if P.is_floating(a) and a.size:
                with np.errstate(all="ignore"):
                    err = float(np.max(np.abs(a.astype(b.dtype) - b)))
                if not err <= tol.atol + tol.rtol * float(np.max(np.abs(b))):
                    return f"output {i} differs by {err:.3g} between the case's dtype and float64 (order or conditioning)"
        return ""

    def flushed(self, fn: ScalarFn, direction: Arrays, value: float) -> bool:
        """Whether a derivative AD computes as exactly zero is really not zero: the numerical one stands
        far above its own step-to-step noise (the difference at a tenfold step), it is representable in
        the case's dtypes (below the smallest subnormal, 0 is the rounded value), and fn is smooth here
        (a tiny derivative the tolerances' floors absorb is still a derivative; a kink's is not)."""
        s = self.subject
        if underflows(value, s.dtypes):
            return False
        h = numerics.step_for(s.wide.inputs)
        coarse = numerics.central_difference(fn, s.wide.inputs, direction, h * NUMERIC_STEP_RATIO)
        if not (value != 0.0 and np.isfinite(coarse) and abs(value - coarse) * RESOLVED < abs(value)):
            return False
        scale = abs(value)
        return self.point(fn, direction, scale).reason is None and not self.changes_nearby(fn, direction, value, scale)

    def changes_nearby(self, fn: ScalarFn, direction: Arrays, at_x: float, scale: float) -> bool:
        """Whether the numerical derivative of fn moves at neighbouring points (a kink nearby)."""
        s = self.subject
        return numerics.changes_nearby(fn, s.wide.inputs, direction, at_x, s.rng, scale)

    # -- the point --------------------------------------------------------------------------------
    def point(self, fn: ScalarFn, direction: Arrays, scale: float) -> Point:
        """Whether fn has no derivative at x along `direction`: declared ties, ill-conditioning, a
        jump between one-sided derivatives, or a jump of the value itself."""
        declared = self.declared_point
        if declared.reason:
            return declared
        samples = numerics.one_sided_samples(fn, self.subject.wide.inputs, direction)
        gap = numerics.one_sided_gap(fn, self.subject.wide.inputs, direction, scale, samples)
        if gap is not None:
            return Point("non-differentiable-point", f"the one-sided derivatives differ by {gap:.3g} (a kink)")
        jump = numerics.value_jump(samples)
        if jump is not None:
            return Point("non-differentiable-point", f"the value jumps by {jump:.3g} at the point (a discontinuity)")
        return Point()

    def sensitive(self, estimates: list[float], order: int = 1) -> Point:
        """Whether the derivative is so large against the inputs and outputs that rounding decides any
        comparison of it: the smallest estimate's condition number |d| max(|x|, 1)^order / max(|f|, 1)
        above the precision's limit (the smallest, so that one mode's wildly wrong value does not excuse it).
        Estimates are magnitudes of the derivative: the norms of AD modes' products (a projection can
        cancel to a small number while every entry is rounding noise), or second-order projections."""
        finite = [abs(e) for e in estimates if np.isfinite(e)]
        if not finite:
            return Point()
        s = self.subject
        kappa = min(finite) * max(P.norm(s.wide.inputs), 1.0) ** order / max(P.norm(s.outputs), 1.0)
        limit = SENSITIVITY_LIMIT[precision_class(s.dtypes)]
        if kappa > limit:
            return Point("ill-conditioned", f"condition number {kappa:.3g} > {limit:g}: rounding decides the comparison")
        return Point()

    @cached_property
    def declared_point(self) -> Point:
        """Ties of a tie-sensitive API, an ill-conditioned input of a decomposition or an inverse, or
        duplicate indices where the API's documentation calls them undefined; in a program, of each
        call that declares them, in the values it takes (`program_values.standalone`); and an input entry
        that is infinite or NaN, which has no neighbourhood to differentiate in (whatever a mode returns there)."""
        s = self.subject
        if not all(np.all(np.isfinite(x)) for x in s.call.inputs):
            return Point("non-differentiable-point", "an input entry is infinite or NaN: no derivative there")
        point = declared_point_of(s.case, s.call.inputs, s.properties) if not s.case.then else self._program_point()
        if point.reason:
            return point
        broken = broken_promise(s.case)
        if broken:
            return Point("by-design", broken)
        return Point()

    def _program_point(self) -> Point:
        """The first declared point of a program's calls, each in the values it takes."""
        s = self.subject
        for index, (call, properties) in enumerate(zip(s.case.calls(), s.per_call)):
            if not (properties.tie_sensitive or properties.conditioning or properties.unique_indices or reduces_by_order(call)):
                continue
            alone = standalone(s, index)
            point = declared_point_of(alone, [t.array() for t in alone.differentiable()], properties) if alone else Point()
            if point.reason:
                return Point(point.reason, f"call {index} ({call.api}): {point.detail}")
        return Point()

    def first_point(self, scale: float) -> Point:
        """The point's character for <u, f> along v (computed once; `scale`: the derivatives' magnitude)."""
        if self._first_point is None:
            self._first_point = self.point(self.projected_output(), self.subject.v, scale)
        return self._first_point


def declared_point_of(case: Case, inputs: Arrays, properties: ApiProperties) -> Point:
    """The declared point of a single call with these properties (`inputs`: its differentiable inputs)."""
    if properties.tie_sensitive or reduces_by_order(case):
        tie = repeated_value(case)
        if tie is not None:
            return Point("non-differentiable-point", f"a tie: the value {tie:.6g} occurs more than once")
    if properties.conditioning:
        kind = properties.conditioning
        if kind == "householder":
            worst, what = householder_gap(case), "|1 - tau_i |v_i|^2| (the gradient is undefined at 0, documented)"
        else:
            worst = conditioning(inputs, spectral=kind == "spectral")
            what = "relative gap or smallest singular value" if kind == "spectral" else "1 / condition number"
        limit = ILL_CONDITIONED[precision_class(case.float_dtypes())]
        if worst is not None and worst < limit:
            return Point("ill-conditioned", f"{what} {worst:.3g} < {limit:g}")
    if properties.unique_indices and duplicate_indices(case) and not accumulates(attribute_values(case.kwargs)):
        return Point("by-design", "duplicate indices, which the documentation calls undefined")
    return Point()


def _inner_or_nan(a: Arrays, b: Arrays) -> float:
    """<a, b>, or NaN where the shapes differ: an output whose shape depends on the values (unique,
    nonzero) has no derivative across points where its shape changes."""
    if any(x is not None and y is not None and np.shape(x) != np.shape(y) for x, y in zip(a, b)):
        return float("nan")
    return P.inner(a, b)


def _or_nan(subject: Subject, reduce: Callable[[Any], float], fn: Callable[..., Any], *args: Any) -> float:
    """reduce(fn(*args)) where fn is a library call; NaN where the library raises."""
    out = subject.run(fn, *args)
    return float(reduce(out.value)) if out.ok else float("nan")


ORDER_REDUCTIONS = frozenset({"max", "min", "amax", "amin", "median"})


def reduces_by_order(case: object) -> bool:
    """Whether a string attribute asks for a reduction by order (embedding_bag's or scatter_reduce's
    mode "max", tf.nn.pool's pooling_type "MAX"): its ties are non-differentiable points like max's."""
    attrs = [a for a in list(case.args) + [a for _, a in case.kwargs] if isinstance(a, Attr)]  # type: ignore[attr-defined]
    return any(isinstance(a.value, str) and a.value.lower() in ORDER_REDUCTIONS for a in attrs)


def repeated_value(case: object) -> float | None:
    """A value that occurs more than once among the differentiable inputs' entries and the floating
    attributes (a tie for max, sort, pooling or a clamp at its bound), if any."""
    values: list[np.ndarray] = []
    for arg in list(case.args) + [a for _, a in case.kwargs]:  # type: ignore[attr-defined]
        items = arg.items if isinstance(arg, TensorList) else (arg,)
        for item in items:
            if isinstance(item, Tensor) and item.differentiable:
                values.append(np.real(np.asarray(item.values, dtype=np.complex128)).ravel())
            elif isinstance(item, Attr) and isinstance(item.value, float):
                values.append(np.array([item.value]))
    if not values:
        return None
    flat = np.concatenate(values)
    flat = flat[np.isfinite(flat)]
    unique, counts = np.unique(flat, return_counts=True)
    repeated = unique[counts > 1]
    return float(repeated[0]) if repeated.size else None


def broken_promise(case: Case) -> str | None:
    """What a call promises of its integer tensors by keyword (`indices_are_sorted=True`,
    `unique_indices=True`: properties.SORTED_PROMISES, UNIQUE_PROMISES) and they break; its result is
    undefined there (None: no promise is broken)."""
    for call in case.calls():
        flags = attribute_values(call.kwargs)
        indices = [a.values.ravel() for a in call.arguments() if isinstance(a, Tensor) and a.dtype in INTEGER_DTYPES]
        if promises(flags, SORTED_PROMISES) and any(np.any(np.diff(i) < 0) for i in indices):
            return f"{call.api} is promised sorted indices ({', '.join(SORTED_PROMISES)}) and they are not"
        if promises(flags, UNIQUE_PROMISES) and any(_repeats(i) for i in indices):
            return f"{call.api} is promised unique indices ({', '.join(UNIQUE_PROMISES)}) and they repeat"
    return None


def duplicate_indices(case: object) -> bool:
    """Whether an integer tensor argument repeats a value (anywhere: which positions compete depends
    on the API, so any repeat may be one the documentation calls undefined)."""
    return any(t.dtype in INTEGER_DTYPES and _repeats(t.values) for t in case.tensors())  # type: ignore[attr-defined]


def _repeats(values: np.ndarray) -> bool:
    """Whether some value occurs more than once."""
    return len(np.unique(values)) < np.size(values)


def householder_gap(case: Case) -> float | None:
    """For a product of Householder reflectors H_i = I - tau_i v_i v_i^H (householder_product(A, tau),
    v_i: A's column i below the diagonal, with a 1 on it), min_i |1 - tau_i |v_i|^2|: its gradient
    is undefined where tau_i = 1/|v_i|^2 (torch.linalg.householder_product docs). None without an
    (A, tau) pair of matching batch shapes."""
    floating = [t for t in case.tensors() if is_floating(t.dtype)]
    if len(floating) < 2:
        return None
    a_t, tau_t = floating[:2]
    if len(a_t.shape) < 2 or len(tau_t.shape) < 1 or a_t.shape[:-2] != tau_t.shape[:-1] or 0 in a_t.shape:
        return None
    a = np.asarray(a_t.values, dtype=np.complex128).reshape(a_t.shape)
    tau = np.asarray(tau_t.values, dtype=np.complex128).reshape(tau_t.shape)
    k = min(tau.shape[-1], a.shape[-1], a.shape[-2])
    if k == 0:
        return None
    gaps = [np.abs(1.0 - tau[..., i] * (1.0 + np.sum(np.abs(a[..., i + 1 :, i]) ** 2, axis=-1))) for i in range(k)]
    return float(np.min(gaps))


def conditioning(inputs: Arrays, spectral: bool = True) -> float | None:
    """The worst relative conditioning measure over the matrix inputs: the smallest singular value,
    and (`spectral`) for square matrices the smallest gap between singular values or eigenvalues,
    each relative to the largest singular value (None when no input is a matrix)."""
    worst = None
    for x in inputs:
        if x.ndim < 2 or 0 in x.shape or not np.all(np.isfinite(x)):
            continue
        matrices = np.asarray(x, dtype=np.complex128 if np.iscomplexobj(x) else np.float64).reshape(-1, *x.shape[-2:])
        for m in matrices:
            s = np.linalg.svd(m, compute_uv=False)
            top = float(s[0]) if s.size else 0.0
            if top == 0.0:
                return 0.0
            measures = [float(s[-1]) / top]
            if spectral and s.size > 1:
                measures.append(float(np.min(np.abs(np.diff(s)))) / top)
            if spectral and m.shape[0] == m.shape[1] and m.shape[0] > 1:
                eig = np.linalg.eigvals(m)
                gaps = np.abs(eig[:, None] - eig[None, :]) + np.eye(len(eig)) * np.inf
                measures.append(float(np.min(gaps)) / top)
            worst = min(measures) if worst is None else min(worst, *measures)
    return worst
