"""The subject of a check: a case bound to a backend, its direct outputs and the random directions
of its projections. All of a check's state is set here, once; the stages only read it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nabla_atheris import projections as P
from nabla_atheris.backends import Backend, BoundCall, ErrorClass
from nabla_atheris.case import Attr, BadReference, Call, Case, Ref, encode
from nabla_atheris.catalog.properties import ApiProperties, combine, properties_of
from nabla_atheris.numerics import step_for
from nabla_atheris.oracle.running import HarnessError, Outcome, attempt, describe
from nabla_atheris.tolerances import precision_class
from nabla_atheris.verdict import Finding, Judgement

Arrays = list[np.ndarray]
DETERMINISM_REPEATS = 4  # extra direct calls before a mode is blamed for other outputs


class LibraryRaised(Exception):
    """The library raised during a computation of the oracle's (a confirmation, a numerical derivative)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(describe(error))
        self.error = error


def dtype_class(case: Case) -> str:
    """The signature's dtype class: real or complex, and precision class."""
    dtypes = case.float_dtypes()
    kind = "complex" if any(d.startswith("complex") for d in dtypes) else "real"
    return f"{kind}-{precision_class(dtypes)}"


@dataclass
class Subject:
    """A bound case and everything the stages compare against (set by `prepare`)."""

    case: Case
    backend: Backend
    call: BoundCall
    wide: BoundCall  # the float64 (complex128) binding the numerical derivative runs in
    outputs: Arrays  # the direct call's outputs
    u: Arrays  # cotangent: a random unit direction over the outputs
    v: Arrays  # tangent: a random unit direction over the inputs, in their declared spaces
    v2: Arrays  # the second tangent of second order
    rng: np.random.Generator
    properties: ApiProperties = field(default_factory=ApiProperties)  # the program's (`combine`)
    per_call: tuple[ApiProperties, ...] = ()  # each call's own, in call order

    @property
    def structures(self) -> list[str | None]:
        """The declared input space of each differentiable input."""
        return [t.structure for t in self.case.differentiable()]

    @property
    def dtypes(self) -> list[str]:
        """The floating dtypes of inputs and outputs (they choose the tolerances)."""
        return self.case.float_dtypes() + list(self.call.output_dtypes)

    @property
    def glue(self) -> Any:
        return self.backend.glue

    def run(self, fn: Any, *args: Any) -> Outcome:
        """Run a scenario of this subject (library errors as data; glue errors raise HarnessError)."""
        return attempt(fn, *args, glue=self.glue)

    def library(self, fn: Any, *args: Any) -> Any:
        """A library call inside the oracle's own computations: its value, or LibraryRaised."""
        out = attempt(fn, *args, glue=self.glue)
        if not out.ok:
            raise LibraryRaised(out.error)
        return out.value

    def error_class(self, exc: BaseException) -> ErrorClass:
        return self.backend.classify(exc)

    def repeats_itself(self) -> bool:
        """The direct call, repeated, gives the first outputs again (asked before a mode is blamed for
        other outputs: two equal calls of a random op, such as bernoulli, can be luck), and so does
        each earlier call of a program (a later call can reduce a random call's outputs to values that
        repeat by luck: amax of bernoulli's 0s and 1s is 1 in most draws)."""
        for _ in range(DETERMINISM_REPEATS):
            again = self.run(self.call.direct)
            if not again.ok or not P.same_values(self.outputs, again.value):
                return False
        return all(self._earlier_call_repeats(index) for index in range(len(self.case.calls()) - 1))

    def _earlier_call_repeats(self, index: int) -> bool:
        """Call `index` of the program (run up to it) gives the same outputs in repeated direct calls,
        or fails in each."""
        prefix = self.case.with_calls(self.case.calls()[: index + 1])
        runs = [self.run(lambda: self.backend.bind(prefix).direct()) for _ in range(DETERMINISM_REPEATS)]
        if not all(run.ok for run in runs):
            return not any(run.ok for run in runs)
        return all(P.same_values(runs[0].value, run.value) for run in runs[1:])

    def finding(self, kind: str, a: str, b: str, message: str, max_error: float = 0.0, **details: Any) -> Finding:
        """A finding on this subject, with the directions and step its reproducer needs."""
        details.setdefault("step", step_for(self.wide.inputs))
        vectors = {"u": self.u, "v": self.v, "v2": self.v2}
        return Finding(
            kind, (a, b), self.case.library, self.case.name(), dtype_class(self.case), message, max_error, details, vectors
        )


def prepare(case: Case, backend: Backend, judgement: Judgement) -> Subject | None:
    """Bind the case and run the direct call twice (determinism, status); the subject, or None when
    the case goes no further (its reasons and findings in `judgement`)."""
    glue = backend.glue
    bound = attempt(backend.bind, case, glue=glue)
    if not bound.ok:
        judgement.filter("invalid-input", "bind", describe(bound.error))
        return None
    call: BoundCall = bound.value
    try:
        first, second = attempt(call.direct, glue=glue), attempt(call.direct, glue=glue)
    except HarnessError as exc:  # a decoder-made program names an output an earlier call turned out not to have
        if not isinstance(exc.__cause__, BadReference):
            raise
        judgement.filter("invalid-input", "direct", str(exc.__cause__))
        return None
    if not _direct_ok(case, backend, call, first, second, judgement):
        return None
    outputs = first.value
    if not call.inputs or not any(P.is_floating(o) for o in outputs):
        judgement.filter("no-differentiable-io", "direct", "nothing to differentiate")
        return None
    if not P.all_finite(outputs):
        judgement.filter("non-finite-output", "direct", "NaN or inf in the direct output")
        return None
    violation = backend.contract_violation(call)
    if violation:
        judgement.filter("invalid-input", "direct", violation)
        return None
    per_call = tuple(declared_properties(case.library, c) for c in case.calls())
    properties = combine(list(zip(case.apis(), per_call)))
    outside = misplaced_reference(case, per_call) or undocumented_dtypes(case, per_call)
    if outside:  # a call that ran anyway (a 0-d tensor skips the dtype check) is outside the contract
        judgement.filter("invalid-input", "direct", outside)
        return None
    wide = call if all(d in ("float64", "complex128") for d in case.float_dtypes()) else backend.bind(case, widen=True)
    rng = P.rng_for(encode(case))
    structures = [t.structure for t in case.differentiable()]
    u = P.random_like(rng, outputs)
    if properties.gauge_vectors:
        u = gauge_invariant_cotangent(rng, outputs, u)
    v = P.random_like(rng, call.inputs, structures)
    v2 = P.random_like(rng, call.inputs, structures)
    return Subject(case, backend, call, wide, outputs, u, v, v2, rng, properties, per_call)


# Keyword flags, and the value by which a call asks for a reverse-mode gradient that is not the
# derivative (the gradient property it declares): requires_grad=False asks a constructor
# (torch.asarray, oneflow.tensor ...) for a result that does not require a gradient, reverse mode's
# flag (forward-mode tangents do not depend on it); scale_grad_by_freq=True asks embedding and
# embedding_bag (torch, OneFlow) to "scale gradients by the inverse of frequency of the words in the
# mini-batch" (their docs), which forward mode does not do.
REVERSE_MODE_FLAGS = {("requires_grad", False): "reverse-cut", ("scale_grad_by_freq", True): "reverse-convention"}
# Keyword options whose integer value (None: the option is off) asks for such a gradient: padding_idx=N
# asks embedding and embedding_bag (torch, OneFlow) to leave row N out of the weight's gradient ("the
# entries at padding_idx do not contribute to the gradient", their docs), which forward mode does not do.
REVERSE_MODE_OPTIONS = {"padding_idx": "reverse-convention"}


def declared_properties(library: str, call: Call) -> ApiProperties:
    """The API's declared properties, and what the call itself declares by its keyword flags and options
    (`REVERSE_MODE_FLAGS`, `REVERSE_MODE_OPTIONS`)."""
    properties = properties_of(library, call.api)
    for name, arg in call.kwargs:
        value = arg.value if isinstance(arg, Attr) else None
        if isinstance(value, bool):
            gradient = REVERSE_MODE_FLAGS.get((name, value))
        else:
            gradient = REVERSE_MODE_OPTIONS.get(name) if isinstance(value, int) else None
        if gradient:
            sources = {**properties.sources, "gradient": f"the call passes {name}={value}"}
            return dataclasses.replace(properties, gradient=gradient, sources=sources)
    return properties


def misplaced_reference(case: Case, per_call: tuple[ApiProperties, ...]) -> str:
    """Why a program is outside its calls' contract: an earlier output passed in an argument that a
    call declares a structure, a domain, a label or a parameter for (the decoder draws such
    arguments in their space; a produced tensor is not); '' when none is."""
    for index, (call, properties) in enumerate(zip(case.calls(), per_call)):
        keyed = [(str(i), a) for i, a in enumerate(call.args)] + list(call.kwargs)
        for key, arg in keyed:
            if isinstance(arg, Ref) and properties.declares_space(key):
                return f"call {index} ({call.api}) takes an earlier output in argument {key}, which it declares a space for"
    return ""


def undocumented_dtypes(case: Case, per_call: tuple[ApiProperties, ...]) -> str:
    """Why the case's floating dtypes are outside a call's documented ones ('' when they are not): every
    call of a program is held to the program's dtypes (an earlier output's dtype shows only when it runs)."""
    dtypes = set(case.float_dtypes())
    for call, properties in zip(case.calls(), per_call):
        undocumented = dtypes - properties.dtypes if properties.dtypes else set()
        if undocumented:
            where = f" of {call.api}" if case.then else ""
            return f"dtypes {sorted(undocumented)} are not among the documented ones{where}"
    return ""


def gauge_invariant_cotangent(rng: np.random.Generator, outputs: Arrays, u: Arrays) -> Arrays:
    """A cotangent whose projection does not see the sign or phase of eigen- or singular vectors:
    on each matrix output v it is 2 w v for a random real w, so <u, dv> = d sum(w |v|^2) (OpInfo
    checks |v| for the same reason); vector outputs (eigen- and singular values) keep u. Vectors
    beyond the values' count k (svd's full_matrices=True: U's last m - k columns, Vh's last n - k
    rows) are any basis of a subspace, which AD ignores (torch.linalg.svd docs): the cotangent is 0
    on a square output's rows and columns from k on (both, as which of them hold vectors is not known)."""
    out = [2.0 * rng.standard_normal(o.shape) * o if o.ndim >= 2 and P.is_floating(o) else ui for o, ui in zip(outputs, u)]
    count = _value_count(outputs)
    if count is not None:
        out = [_without_vectors_from(o, count) for o in out]
    norm = P.norm(out)
    return [o / norm for o in out] if norm > 0 else out


def _value_count(outputs: Arrays) -> int | None:
    """How many eigen- or singular values the outputs hold: the last size of the floating outputs
    with one dimension fewer than the matrices (None without both)."""
    floating = [o for o in outputs if P.is_floating(o)]
    matrices = max((o.ndim for o in floating), default=0)
    values = [o.shape[-1] for o in floating if o.ndim == matrices - 1 >= 1]
    return min(values) if matrices >= 2 and values else None


def _without_vectors_from(o: np.ndarray, count: int) -> np.ndarray:
    """A square matrix output's cotangent with its rows and columns from `count` on set to 0."""
    if o.ndim < 2 or o.shape[-1] != o.shape[-2] or o.shape[-1] <= count:
        return o
    out = np.array(o, copy=True)
    out[..., count:, :] = 0
    out[..., :, count:] = 0
    return out


def _direct_ok(case: Case, backend: Backend, call: BoundCall, first: Outcome, second: Outcome, judgement: Judgement) -> bool:
    """Determinism and status of the direct call; False when the case goes no further."""
    if not first.ok:
        error = describe(first.error)
        if backend.classify(first.error) is ErrorClass.INTERNAL:
            message = f"direct call: {error}"
            finding = Finding("crash", ("direct", "direct"), case.library, case.name(), dtype_class(case), message)
            finding.details.update(error=error, failing="direct")
            judgement.add(finding)
            return False
        if second.ok:
            judgement.filter("nondeterministic", "direct", "the direct call failed once and succeeded once")
            return False
        rev = attempt(call.vjp, [np.ones_like(x) for x in call.inputs], glue=backend.glue) if call.inputs else first
        if rev.ok:
            message = f"direct raised but rev succeeded: {error}"
            finding = Finding("status-mismatch", ("direct", "rev"), case.library, case.name(), dtype_class(case), message)
            finding.details.update(error=error, failing="direct")
            judgement.add(finding)
            return False
        judgement.filter("invalid-input", "direct", error)
        return False
    if not second.ok or not P.same_values(first.value, second.value):
        judgement.filter("nondeterministic", "direct", "two direct calls differ")
        return False
    judgement.note("direct", "ok", f"{len(first.value)} output(s)")
    return True
