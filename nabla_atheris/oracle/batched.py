"""Batched scenarios: a vectorizing transform (torch.func.vmap, jax.vmap, tf.vectorized_map, the rows
of GradientTape.jacobian with and without pfor) of the direct call, reverse or forward mode over a
batch of independent samples, against the same scenario run on each sample in turn (`batched-mismatch`).

The batch holds the case's own inputs and directions and BATCH_SIZE - 1 samples at nearby inputs
(each entry moved by SAMPLE_RADIUS relative to its size, in the input's declared space) with
directions of their own; a Jacobian's rows share the case's inputs and differ in the cotangent.
Outputs are compared at the value tolerance, products at the AD-vs-AD tolerance (both sides are AD,
no numerical filter applies); a point with no derivative dismisses a product mismatch. A transform
that refuses the call as written (a value-dependent shape, data-dependent control flow) is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nabla_atheris import numerics
from nabla_atheris import projections as P
from nabla_atheris.backends import ErrorClass
from nabla_atheris.case import encode
from nabla_atheris.oracle.evidence import Evidence, Point
from nabla_atheris.oracle.first_order import ModeRun, error_finding
from nabla_atheris.oracle.running import Outcome, describe
from nabla_atheris.oracle.subject import Arrays, Subject, gauge_invariant_cotangent
from nabla_atheris.oracle.values import output_difference
from nabla_atheris.projections import is_floating
from nabla_atheris.structures import project
from nabla_atheris.tolerances import Tolerance, tolerance
from nabla_atheris.verdict import Finding, Judgement
from nabla_atheris.vocabulary import BATCHED_AT_ONE_POINT, DIRECT, FWD, REV, batched_parts

BATCH_SIZE = 3
SAMPLE_RADIUS = 1e-2  # relative to each entry's magnitude (at least 1)
JACOBIAN_LIMIT = 65536  # entries of a full Jacobian: above it, the Jacobian rows are not computed


@dataclass
class Sample:
    """One sample of a batch: inputs, their direct outputs, a cotangent and a tangent, and the loop's
    results there by eager scenario (outputs and products; no products for the direct call)."""

    xs: Arrays
    outputs: Arrays
    u: Arrays
    v: Arrays
    loops: dict[str, Outcome] = field(default_factory=dict)

    def vectors(self, eager: str) -> Arrays:
        return {DIRECT: [], REV: self.u, FWD: self.v}[eager]


def nearby(rng: np.random.Generator, xs: Arrays, structures: list[str | None]) -> Arrays:
    """Inputs moved by SAMPLE_RADIUS (relative to each entry, at least 1) in their declared spaces."""
    out = []
    for x, structure in zip(xs, structures):
        noise = rng.standard_normal(x.shape) + (1j * rng.standard_normal(x.shape) if np.iscomplexobj(x) else 0)
        offset = project(np.asarray(noise * SAMPLE_RADIUS * (1.0 + np.abs(x))), structure)
        out.append(np.asarray(x + (offset if np.iscomplexobj(x) else np.real(offset)), dtype=x.dtype))
    return out


def make_samples(subject: Subject, runs: dict[str, ModeRun], at_one_point: bool) -> list[Sample]:
    """The case's own sample (its direct outputs and first-order runs are its loop results) and
    BATCH_SIZE - 1 others at nearby inputs (or at the case's inputs: the rows of a Jacobian) with
    directions of their own; a sample where the direct call raises, or gives outputs of other shapes
    (unique, nonzero), is left out."""
    rng = P.rng_for(encode(subject.case), f"batched at one point {at_one_point}")
    own = Sample(subject.call.inputs, subject.outputs, subject.u, subject.v, {DIRECT: Outcome(value=(subject.outputs, []))})
    own.loops.update({mode: run.outcome for mode, run in runs.items()})
    batch = [own]
    for _ in range(BATCH_SIZE - 1):
        xs = subject.call.inputs if at_one_point else nearby(rng, subject.call.inputs, subject.structures)
        v = P.random_like(rng, xs, subject.structures)
        direct = Outcome(value=subject.outputs) if at_one_point else subject.run(subject.call.direct, xs)
        if not direct.ok or [np.shape(o) for o in direct.value] != [np.shape(o) for o in subject.outputs]:
            continue  # (an output whose shape depends on the values has no batch of samples)
        u = P.random_like(rng, direct.value)
        if subject.properties.gauge_vectors:
            u = gauge_invariant_cotangent(rng, direct.value, u)
        batch.append(Sample(xs, direct.value, u, v, {DIRECT: Outcome(value=(direct.value, []))}))
    return batch


def loop(subject: Subject, sample: Sample, eager: str) -> Outcome:
    """The eager scenario at one sample (computed once): outputs and products."""
    if eager not in sample.loops:
        call = subject.call.vjp if eager == REV else subject.call.jvp
        sample.loops[eager] = subject.run(call, sample.vectors(eager), sample.xs)
    return sample.loops[eager]


def stacked(arrays: list[Arrays]) -> Arrays:
    """Per position, the samples' arrays stacked along a new first axis."""
    return [np.stack(items) for items in zip(*arrays)] if arrays and arrays[0] else []


def jacobian_size(subject: Subject) -> int:
    """Entries of the full Jacobian of the floating outputs with respect to the inputs."""
    outputs = sum(o.size for o in subject.outputs if P.is_floating(o))
    return outputs * sum(x.size for x in subject.call.inputs)


def judge_batched(subject: Subject, runs: dict[str, ModeRun], evidence: Evidence) -> Judgement:
    """Every batched scenario of the backend whose eager counterpart ran and computed the direct outputs."""
    judgement = Judgement()
    samples: dict[bool, list[Sample]] = {}
    for mode in getattr(subject.backend, "batched_modes", ()):
        _, eager = batched_parts(mode)
        at_one_point = mode in BATCHED_AT_ONE_POINT
        if eager != DIRECT and eager not in runs:
            judgement.note(mode, "skipped", f"eager {eager} did not run cleanly")
            continue
        if at_one_point and jacobian_size(subject) > JACOBIAN_LIMIT:
            judgement.note(mode, "skipped", f"a Jacobian of {jacobian_size(subject)} entries")
            continue
        if at_one_point not in samples:
            samples[at_one_point] = make_samples(subject, runs, at_one_point)
        batch = [s for s in samples[at_one_point] if loop(subject, s, eager).ok]
        if len(batch) < 2:
            judgement.note(mode, "skipped", f"the eager {eager} raised, or its outputs changed shape, at the other samples")
            continue
        xs = stacked([s.xs for s in batch])
        out = subject.run(subject.call.batched, mode, xs, stacked([s.vectors(eager) for s in batch]))
        if not out.ok:
            if subject.error_class(out.error) is ErrorClass.NOT_COMPILABLE:
                judgement.filter("not-compilable", mode, describe(out.error))
            else:
                error_finding(subject, judgement, mode, out.error, eager, others_work=True)
                judgement.findings[-1:] = [with_batch(f, batch) for f in judgement.findings[-1:]]
            continue
        _compare(subject, evidence, judgement, mode, batch, out.value)
    return judgement


def _compare(
    subject: Subject, evidence: Evidence, judgement: Judgement, mode: str, batch: list[Sample], result: tuple[Arrays, Arrays]
) -> None:
    """Each sample of the transform's result against the loop's; one finding per scenario at most."""
    _, eager = batched_parts(mode)
    outputs, products = result
    values, derivatives = tolerance("value", subject.dtypes), tolerance("ad-vs-ad", subject.dtypes)
    for k, sample in enumerate(batch):
        loop_outputs, loop_products = sample.loops[eager].value
        difference = differs(loop_outputs, sample_of(outputs, k, loop_outputs), values)
        what = "output"
        if difference is None and eager != DIRECT:
            like = sample.xs if eager == REV else sample.outputs
            looped = absent_as_zeros(loop_products, like)
            if not P.all_finite([p for p in looped if P.is_floating(p)]):  # a domain edge (asin at 1): rows hold 0 * inf
                continue
            difference = differs(looped, sample_of(products, k, looped), derivatives, products=True)
            what = "product"
        if difference is None:
            continue
        index, error, up_to_sign = difference
        where = f"sample {k}: {what} {index} differs by {error:.3g}"
        if what == "output" and up_to_sign:
            judgement.filter("sign-or-phase-ambiguity", mode, f"{where}, agrees up to signs or phases")
            return
        point = _point(subject, evidence, sample, eager) if what == "product" else Point()
        if point.reason:
            judgement.filter(point.reason, f"{mode} vs {eager}", point.detail)
            return
        tol = derivatives if what == "product" else values
        message = f"{mode} vs a loop of {eager}: {where}"
        finding = subject.finding(
            "batched-mismatch", eager, mode, message, error, sample=k, rtol=tol.rtol, atol=tol.atol,
            tolerances={"value": (values.rtol, values.atol), "ad-vs-ad": (derivatives.rtol, derivatives.atol)},
        )  # fmt: skip
        judgement.add(with_batch(finding, batch))
        return
    judgement.note(f"{mode} vs {eager}", "ok", f"{len(batch)} samples")


def sample_of(stacked: Arrays, k: int, loop: Arrays) -> Arrays:
    """Sample k of each stacked result of a transform. A result with no values, where the loop's has
    none either, is the loop's own: a transform may return it without the batch axis (torch.func.vmap
    returns torch.lu_unpack's empty L and U unbatched), and there is nothing in it to compare."""
    return [
        np.asarray(loop[i]) if np.size(s) == 0 and i < len(loop) and np.size(loop[i]) == 0 else s[k]
        for i, s in enumerate(stacked)
    ]


def with_batch(finding: Finding, batch: list[Sample]) -> Finding:
    """The finding with the batch's samples (inputs and directions), which its reproducer runs."""
    finding.vectors["batch"] = [(s.xs, s.u, s.v) for s in batch]
    return finding


def absent_as_zeros(products, like):
    """Products with an absent one (None) as zeros shaped like its input (VJP) or output (JVP) in `like`."""
    return [np.zeros(np.shape(x), dtype=np.result_type(x, np.float32)) if p is None else p for p, x in zip(products, like)]


def differs(a, b, tol, products=False):
    """The first position where `b` differs from `a` beyond `tol` (entries that are NaN or infinite
    alike on both sides agree; products are compared relative to the largest of them all): its
    index, the error and whether it agrees up to signs or phases; None if they agree."""
    if len(a) != len(b):
        return min(len(a), len(b)), float("inf"), False
    finite = [np.abs(x[np.isfinite(x)]) for x in map(np.asarray, a + b) if is_floating(x) and np.isfinite(x).any()]
    bound = Tolerance(tol.rtol, tol.atol + tol.rtol * max([float(np.max(f)) for f in finite], default=0.0)) if products else tol
    for i, (x, y) in enumerate(zip(a, b)):
        x, y = np.asarray(x), np.asarray(y)
        if products and x.shape == y.shape:  # an absent product became zeros of another dtype
            x, y = x.astype(np.result_type(x, y)), y.astype(np.result_type(x, y))
        if x.shape == y.shape and is_floating(x) and is_floating(y):
            alike = ~np.isfinite(x) & ~np.isfinite(y) & ((x == y) | (np.isnan(x) & np.isnan(y)))
            x, y = np.where(alike, 0, x), np.where(alike, 0, y)
        difference = output_difference(x, y, bound)
        if difference is not None:
            return i, float("inf") if difference[1] is None else difference[1], difference[2]
    return None


def _point(subject: Subject, evidence: Evidence, sample: Sample, eager: str) -> Point:
    """Whether the sample's point has no derivative along its tangent (the case's own evidence for the
    case's sample, else the one-sided derivatives of <u_k, f> in float64 along v_k), or a derivative
    so large that rounding decides the comparison."""
    products = sample.loops[eager].value[1]
    scale = P.norm([p for p in products if p is not None])
    if sample.xs is subject.call.inputs and sample.u is subject.u:
        point = evidence.first_point(scale)
    else:
        wide = [np.asarray(x, dtype=np.complex128 if np.iscomplexobj(x) else np.float64) for x in sample.xs]
        gap = numerics.one_sided_gap(evidence.projected_output(sample.u), wide, sample.v, scale)
        point = Point() if gap is None else Point("non-differentiable-point", f"the one-sided derivatives differ by {gap:.3g}")
    if point.reason:
        return point
    return evidence.sensitive([P.inner(products, sample.v) if eager == REV else P.inner(sample.u, products)])
