"""The oracle: runs a case under every scenario of a backend and compares them (library-agnostic).

Checks, in order: determinism of the direct call; status of every mode; values of every mode
against the direct call; first-order gradients as scalar projections <u, J v> (reverse, forward,
numerical); compiled scenarios (the backend's `compiled_modes`, e.g. jax.jit of direct, reverse and
forward mode) against eager; second order, d/dt <u, J(x + t v2) v>, by every composition the backend offers against
the numerical derivative of the first-order result. A projection mismatch passes the filters
(numerical stability, kinks, precision loss) and is confirmed by full Jacobians before it is a finding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from nabla_atheris import filters
from nabla_atheris import projections as P
from nabla_atheris.backends import Backend, BoundCall, ErrorClass
from nabla_atheris.case import Case, encode
from nabla_atheris.jacobians import confirm_first_order
from nabla_atheris.tolerances import Tolerance, loses_precision, precision_class, tolerance
from nabla_atheris.verdict import Finding, Verdict

DETERMINISM_REPEATS = 4  # extra direct calls before a value mismatch is reported
ERROR_KIND = {
    ErrorClass.INTERNAL: "crash",
    ErrorClass.UNSUPPORTED: "missing-derivative",
    ErrorClass.INVALID: "status-mismatch",
    ErrorClass.NOT_COMPILABLE: "status-mismatch",  # in an eager mode: tracing for AD failed where the call works
}


@dataclass
class Outcome:
    """A scenario's result or the exception it raised."""

    value: Any = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def attempt(fn: Callable[..., Any], *args: Any) -> Outcome:
    try:
        return Outcome(value=fn(*args))
    except Exception as exc:  # any library error is data for the oracle
        return Outcome(error=exc)


def short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200] if text else ''}"


def dtype_class(case: Case) -> str:
    """The signature's dtype class: real or complex, and precision class."""
    dtypes = case.float_dtypes()
    kind = "complex" if any(d.startswith("complex") for d in dtypes) else "real"
    return f"{kind}-{precision_class(dtypes)}"


def output_difference(a: np.ndarray, b: np.ndarray, tol: Tolerance) -> tuple[str, float | None, bool] | None:
    """How a mode's output `b` differs from the direct output `a` beyond `tol`: what differs, the
    largest error (floating outputs), and whether they agree up to signs or phases; None if they agree."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return f": {a.dtype}{list(a.shape)} vs {b.dtype}{list(b.shape)}", None, False
    if not P.is_floating(a):
        return None if np.array_equal(a, b) else (" (non-floating) differs", None, False)
    scale = float(np.max(np.abs(a))) if a.size else 0.0
    err = float(np.max(np.abs(a - b))) if a.size else 0.0
    bound = tol.atol + tol.rtol * scale
    if np.all(np.isfinite(b)) and err <= bound:
        return None
    return f" differs by {err:.3g}", err, float(np.max(np.abs(np.abs(a) - np.abs(b)))) <= bound


class Checker:
    """Checks one case against one backend; `run` returns the verdict."""

    def __init__(self, case: Case, backend: Backend) -> None:
        self.case = case
        self.backend = backend
        self.verdict = Verdict(case)
        self.rng = P.rng_for(encode(case))
        self.dtypes = case.float_dtypes()
        self.location: dict[str, Any] = {}

    # -- helpers ---------------------------------------------------------------------------------
    def finding(self, kind: str, a: str, b: str, message: str, max_error: float = 0.0, **details: Any) -> None:
        vectors = {k: getattr(self, k) for k in ("u", "v", "v2") if hasattr(self, k)}
        if hasattr(self, "wide"):
            details.setdefault("step", filters.step_for(self.wide.inputs))
        self.verdict.add(
            Finding(kind, (a, b), self.case.library, self.case.api, dtype_class(self.case), message, max_error, details, vectors)
        )

    def error_finding(self, scenario: str, exc: BaseException, reference: str = "direct") -> None:
        kind = ERROR_KIND[self.backend.classify(exc)]
        message = f"{scenario} raised where {reference} succeeded: {short(exc)}"
        self.finding(kind, reference, scenario, message, error=short(exc), failing=scenario)

    # -- the checks ------------------------------------------------------------------------------
    def run(self) -> Verdict:
        bound = attempt(self.backend.bind, self.case)
        if not bound.ok:
            self.verdict.valid = False
            return self.verdict.filter("invalid-input", "bind", short(bound.error))
        call: BoundCall = bound.value
        first, second = attempt(call.direct), attempt(call.direct)
        if not self.check_direct(call, first, second):
            return self.verdict
        self.outputs = first.value
        if not call.inputs or not any(P.is_floating(o) for o in self.outputs):
            return self.verdict.filter("no-differentiable-io", "direct", "nothing to differentiate")
        if not P.all_finite(self.outputs):
            return self.verdict.filter("non-finite-output", "direct", "NaN or inf in the direct output")
        self.call = call
        self.wide = (
            call
            if self.case.float_dtypes() and all(d in ("float64", "complex128") for d in self.dtypes)
            else self.backend.bind(self.case, widen=True)
        )
        if self.check_first_order() and not self.verdict.findings and not self.verdict.filtered:
            self.check_compiled()
            if not self.verdict.findings:
                self.check_second_order()
        return self.verdict

    def check_direct(self, call: BoundCall, first: Outcome, second: Outcome) -> bool:
        """Determinism and status of the direct call; False when the case goes no further."""
        if not first.ok:
            if self.backend.classify(first.error) is ErrorClass.INTERNAL:
                self.finding(
                    "crash", "direct", "direct", f"direct call: {short(first.error)}", error=short(first.error), failing="direct"
                )
                return False
            if second.ok:
                self.verdict.filter("nondeterministic", "direct", "the direct call failed once and succeeded once")
                return False
            rev = attempt(call.vjp, [np.ones_like(x) for x in call.inputs]) if call.inputs else Outcome(error=first.error)
            if rev.ok:
                message = f"direct raised but rev succeeded: {short(first.error)}"
                self.finding("status-mismatch", "direct", "rev", message, error=short(first.error), failing="direct")
                return False
            self.verdict.valid = False
            self.verdict.filter("invalid-input", "direct", short(first.error))
            return False
        if not second.ok or not P.same_values(first.value, second.value):
            self.verdict.filter("nondeterministic", "direct", "two direct calls differ")
            return False
        self.verdict.note("direct", "ok", f"{len(first.value)} output(s)")
        return True

    def repeats_itself(self) -> bool:
        """The direct call, repeated, gives the first outputs again (asked before a mode is blamed for
        other outputs: two equal calls of a random op, such as bernoulli, can be luck)."""
        for _ in range(DETERMINISM_REPEATS):
            again = attempt(self.call.direct)
            if not again.ok or not P.same_values(self.outputs, again.value):
                self.verdict.filter("nondeterministic", "direct", "a repeated direct call gives other outputs")
                return False
        return True

    def check_values(self, mode: str, outputs: list[np.ndarray], kind: str = "value-mismatch") -> bool:
        """A mode's outputs equal the direct outputs."""
        tol = tolerance("value", self.dtypes + self.call.output_dtypes)
        for i, (a, b) in enumerate(zip(self.outputs, outputs)):
            difference = output_difference(a, b, tol)
            if difference is None:
                continue
            what, err, up_to_sign = difference
            if kind == "compiled-mismatch" and up_to_sign:
                # eigenvectors, singular vectors: each is unique only up to its sign or phase
                self.verdict.filter("sign-or-phase-ambiguity", mode, f"output {i} agrees up to signs or phases")
            elif self.repeats_itself():
                details = {} if err is None else {"output": i, "rtol": tol.rtol, "atol": tol.atol}
                self.finding(kind, "direct", mode, f"output {i}{what}", err or 0.0, **details)
            return False
        self.verdict.note(f"value {mode}", "ok")
        return True

    def check_first_order(self) -> bool:
        """Status, values, NaN pattern and projections of first order; True if it all agreed."""
        u = P.random_like(self.rng, self.outputs)
        v = P.random_like(self.rng, self.call.inputs)
        self.u, self.v = u, v
        results: dict[str, float] = {}
        magnitudes = [0.0]
        for mode in self.backend.first_order_modes:
            out = attempt(self.call.vjp, u) if mode == "rev" else attempt(self.call.jvp, v)
            if not out.ok:
                self.error_finding(mode, out.error)
                continue
            outputs, products = out.value
            if not self.check_values(mode, outputs):
                continue
            if not P.all_finite(products):
                results[mode] = float("nan")
                continue
            results[mode] = P.inner(products, v) if mode == "rev" else P.inner(u, products)
            magnitudes.append(P.norm(products))
        if len(self.backend.first_order_modes) == 1:
            self.verdict.note("fwd", "skipped", f"{self.backend.name} has no forward mode")
        if any(f.kind != "missing-derivative" for f in self.verdict.findings) or not results:
            return False
        self.eager = dict(results)
        self.scale = max(magnitudes)
        numeric, stable = self.numeric(lambda xs: P.inner(u, self.wide.direct(xs)), v)
        results["numeric"] = numeric
        return self.compare_first_order(results, stable, self.scale)

    def numeric(self, fn: Callable[[list[np.ndarray]], float], direction: list[np.ndarray]) -> tuple[float, bool]:
        out = attempt(filters.numeric_derivative, fn, self.wide.inputs, direction)
        return out.value if out.ok else (float("nan"), False)

    def compare_first_order(self, results: dict[str, float], stable: bool, scale: float) -> bool:
        ad = [m for m in self.backend.first_order_modes if m in results]
        nonfinite = [m for m in ad if not np.isfinite(results[m])]
        if nonfinite:
            if len(nonfinite) == len(ad) or not np.isfinite(results["numeric"]):
                self.verdict.filter("nan-both", "first order", f"non-finite gradient in {', '.join(nonfinite)}")
                return False
            if self.at_kink(lambda xs: P.inner(self.u, self.wide.direct(xs)), results["numeric"], scale):
                return False
            finite = next(m for m in ad if m not in nonfinite)
            self.finding("nan-mismatch", finite, nonfinite[0], f"NaN/inf gradient in {nonfinite[0]} only")
            return False
        pairs = [("rev", "fwd", "ad-vs-ad"), ("rev", "numeric", "ad-vs-numeric"), ("fwd", "numeric", "ad-vs-numeric")]
        mismatches = []
        for a, b, check in pairs:
            if a in results and b in results:
                tol = tolerance(check, self.dtypes + self.call.output_dtypes)
                agree = tol.close(results[a], results[b], scale)
                self.verdict.note(f"{a} vs {b}", "ok" if agree else "mismatch", f"{results[a]:.6g} vs {results[b]:.6g}")
                if not agree:
                    mismatches.append((a, b))
        if not mismatches:
            return True
        if self.filtered_first_order(mismatches, results, stable, scale):
            return False
        for a, b in confirm_first_order(self, mismatches, scale):
            tol = tolerance("ad-vs-ad" if b != "numeric" else "ad-vs-numeric", self.dtypes + self.call.output_dtypes)
            self.finding(
                "rev-vs-fwd" if b == "fwd" else f"{a}-vs-numeric",
                a,
                b,
                f"<u, J v> by {a} = {results[a]:.6g}, by {b} = {results[b]:.6g}",
                abs(results[a] - results[b]),
                projection=(results[a], results[b]),
                location=dict(self.location),
                rtol=tol.rtol,
                atol=tol.atol,
                scale=scale,
            )
        if not self.verdict.findings:
            self.verdict.filter("unconfirmed", "first order", "full Jacobians agree")
        return False

    def filtered_first_order(
        self, mismatches: list[tuple[str, str]], results: dict[str, float], stable: bool, scale: float
    ) -> bool:
        """Apply the instability filters to mismatches that involve the numerical derivative."""
        if all(b != "numeric" for _, b in mismatches):
            return False
        if loses_precision(self.dtypes, self.call.output_dtypes):
            self.verdict.filter("precision-loss", "first order", "an output is less precise than an input")
            return True
        if not stable:
            self.verdict.filter("numerical-instability", "first order", "the numerical derivative depends on the step")
            return True
        return self.at_kink(lambda xs: P.inner(self.u, self.wide.direct(xs)), results["numeric"], scale)

    def at_kink(self, fn: Callable[[list[np.ndarray]], float], at_x: float, scale: float) -> bool:
        kink = attempt(filters.is_kink, fn, self.wide.inputs, self.v, at_x, self.rng, scale)
        if not kink.ok or kink.value:
            self.verdict.filter("non-differentiable-point", "first order", "the derivative changes at neighbouring points")
            return True
        return False

    def check_compiled(self) -> None:
        """Each compiled scenario against its eager counterpart: outputs and <u, J v> (`compiled-mismatch`)."""
        tol = tolerance("ad-vs-ad", self.dtypes + self.call.output_dtypes)
        for mode in self.backend.compiled_modes:
            eager = mode.split("-", 1)[1]
            out = attempt(self.call.compiled, mode, {"direct": [], "rev": self.u, "fwd": self.v}[eager])
            if not out.ok and self.backend.classify(out.error) is ErrorClass.NOT_COMPILABLE:
                self.verdict.note(mode, "skipped", f"not compilable: {short(out.error)}")
                return
            if not out.ok:
                self.error_finding(mode, out.error, reference=eager)
                continue
            outputs, products = out.value
            if not self.check_values(mode, outputs, kind="compiled-mismatch"):
                if self.verdict.filtered:
                    return
                continue
            if eager == "direct":
                continue
            value = P.inner(products, self.v) if eager == "rev" else P.inner(self.u, products)
            agree = bool(np.isfinite(value)) and tol.close(value, self.eager[eager], self.scale)
            self.verdict.note(f"{mode} vs {eager}", "ok" if agree else "mismatch", f"{value:.6g} vs {self.eager[eager]:.6g}")
            if not agree:
                self.finding(
                    "compiled-mismatch",
                    eager,
                    mode,
                    f"<u, J v> by {eager} = {self.eager[eager]:.6g}, by {mode} = {value:.6g}",
                    abs(value - self.eager[eager]),
                    projection=(self.eager[eager], value),
                    rtol=tol.rtol,
                    atol=tol.atol,
                    scale=self.scale,
                )

    def check_second_order(self) -> None:
        """d/dt <u, J(x + t v2) v> by each composition against the numerical derivative of reverse mode."""
        v2 = self.v2 = P.random_like(self.rng, self.call.inputs)
        u, v = self.u, self.v
        phi = lambda xs: P.inner(self.wide.vjp(u, xs)[1], v)  # noqa: E731
        numeric, stable = self.numeric(phi, v2)
        tol = tolerance("second-order", self.dtypes + self.call.output_dtypes)
        for mode in self.backend.second_order_modes:
            out = attempt(self.call.second_order, mode, u, v, v2)
            if not out.ok:
                self.error_finding(mode, out.error, reference="rev")
                continue
            value = float(out.value)
            agree = bool(np.isfinite(value)) and tol.close(value, numeric, abs(numeric))
            self.verdict.note(f"{mode} vs numeric", "ok" if agree else "mismatch", f"{value:.6g} vs {numeric:.6g}")
            if agree:
                continue
            if not stable or not np.isfinite(numeric):
                self.verdict.filter("numerical-instability", "second order", "the numerical derivative depends on the step")
                return
            kink = attempt(filters.is_kink, phi, self.wide.inputs, v2, numeric, self.rng, abs(numeric))
            if not kink.ok or kink.value:
                self.verdict.filter("non-differentiable-point", "second order", "the first derivative has a kink here")
                return
            self.finding(
                "second-order-mismatch",
                mode,
                "numeric",
                f"d/dt <u, J v> by {mode} = {value:.6g}, numerically {numeric:.6g}",
                abs(value - numeric),
                projection=(value, numeric),
                rtol=tol.rtol,
                atol=tol.atol,
                scale=abs(numeric),
            )


def check_case(case: Case, backend: Backend) -> Verdict:
    """Run every check of the oracle on one case."""
    return Checker(case, backend).run()
