"""Inferring per-API properties (see `properties`) by library-agnostic means: the API's name and
probing calls of its templates through a backend. Each inferred property comes with its source, so
that a reader of the properties file can check it against the documentation.

Docstrings: matrix arguments they require positive definite (`structures_from_docstring`).
Name patterns (source "name"): tie-sensitive functions (max, sort, max pooling, clamp ...), spectral
decompositions and inverses (conditioning), eigen- and singular-vector outputs (gauge),
gradient-cutting and straight-through APIs, index arguments whose duplicates are undefined, results
that depend on the inputs' memory layout (as_strided),
positive-definite inputs of Cholesky factorizations.
Probing (source "probe"): a square-matrix argument of a linear-algebra API whose strict upper (or
lower) triangle does not change the outputs is read in one triangle. Where the library's reverse and
forward mode agree with the numerical derivative along any direction, nothing needs declaring (the
library masks the unread triangle, as tril does); else where they agree along Hermitian directions
at a Hermitian input, the API reads one triangle of a Hermitian matrix (as eigh and cholesky do);
else where they agree in the triangle, it reads a triangular matrix (a factor, as cholesky_solve). An argument reverse
mode refuses to differentiate by name ("not differentiable with respect to argument 'weight'") is
a parameter, not an input.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from nabla_atheris.case import Case, Tensor, is_floating
from nabla_atheris.projections import axpy, inner, random_like, rng_for
from nabla_atheris.structures import make_values, project

Properties = dict[str, Any]  # the JSON form of one API's properties (with "sources")

TIE_TOKENS = {
    "max", "min", "amax", "amin", "maximum", "minimum", "fmax", "fmin", "nanmax", "nanmin", "ptp", "aminmax",
    "sort", "argsort", "msort", "sorted", "topk", "top", "kthvalue", "median", "nanmedian", "mode", "quantile",
    "nanquantile", "percentile", "nanpercentile", "clamp", "clip", "hardtanh", "threshold", "cummax",
    "cummin", "unique", "hardshrink", "softshrink", "rrelu", "approx", "nextafter",
}  # fmt: skip
# Not "pool": average and adaptive-average pooling are linear in their input, ties change nothing
# (max pools are tie-sensitive by "max"; a pool whose mode is an argument, tf.nn.pool's "MAX", by
# `evidence.reduces_by_order`).
# Derivatives undefined where eigenvalues or singular values meet (their gaps), or where the matrix is
# singular; LU's where its pivots tie.
SPECTRAL_TOKENS = {
    "svd", "svdvals", "eig", "eigh", "eigvals", "eigvalsh", "lu", "schur", "eigen", "selfadjoint",
    "householder", "orgqr",
}  # fmt: skip
HOUSEHOLDER_TOKENS = {"householder", "orgqr"}  # a product of reflectors (orgqr: householder_product's alias)
GAUGE_TOKENS = {"eig", "eigh", "svd", "schur"}  # their vector outputs are unique only up to sign or phase
# Derivatives that grow with the inverse of the smallest singular value only: inverses, solves,
# determinants, and factorizations whose derivative solves with the factor (QR's R, Cholesky's L;
# pinv, lstsq and polar: through A^T A or sums of singular values), not with gaps between them.
INVERSE_TOKENS = {
    "inv", "inverse", "solve", "det", "slogdet", "logdet", "determinant", "tensorinv", "tensorsolve", "cond",
    "qr", "cholesky", "pinv", "pinverse", "lstsq", "polar", "geqrf", "ormqr",
}  # fmt: skip
# Mixed-case acronyms of activation modules, one word each: "ReLU" is not "re" and "lu" (LU decomposition).
ACRONYMS = re.compile(r"(RReLU|PReLU|ReLU|SiLU|GELU|SELU|CELU|GLU)")
# inverse_stft, inverse_mdct: signal transforms; slice_inverse: the inverse of a slice (no matrix inverse)
NOT_MATRIX_TOKENS = {"stft", "mdct", "fft", "rfft", "dct", "slice"}
CUT = re.compile(r"^(detach|stop_?gradient|prevent_?gradient)$")
STRAIGHT_THROUGH = re.compile(r"fake_?quant")
LAYOUT_DEPENDENT = re.compile(r"^as_strided(_scatter|_copy)?$")  # reads the input's storage, not its values
UNIQUE_INDEX = re.compile(
    r"^(index_put|put|index_copy|scatter|scatter_nd_update|tensor_scatter_nd_update|tensor_scatter_update|max_unpool\w*)$"
)
NOT_DIFFERENTIABLE_ARG = re.compile(r"not differentiable with respect to argument '(\w+)'")


def tokens(api: str) -> list[str]:
    """The lower-case words of an API's last name (snake and Camel case split, digits and a trailing
    'd' of dimensioned variants dropped: `AdaptiveMaxPool2d` and `max_pool2d` give ..., 'max', 'pool')."""
    last = ACRONYMS.sub(lambda m: "_" + m.group(1).lower() + "_", api.rsplit(".", 1)[-1]).strip("_")
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", last).lower().split("_")
    return [re.sub(r"\d+d?$", "", w) or w for w in words if w]


def snake(api: str) -> str:
    return "_".join(tokens(api))


def from_name(api: str) -> Properties:
    """Properties an API's name implies (see the module's docstring)."""
    words, name = set(tokens(api)), snake(api)
    if ".linalg." not in api:
        words.discard("polar")  # torch.polar builds complex numbers from magnitudes and angles
        words.discard("cond")  # jax.lax.cond is a conditional, not a condition number
    out: Properties = {}
    if words & TIE_TOKENS or name.replace("_", "") in TIE_TOKENS:  # NextAfter: "nextafter"
        out["tie_sensitive"] = True
    if words & HOUSEHOLDER_TOKENS:
        out["conditioning"] = "householder"
    elif words & SPECTRAL_TOKENS:
        out["conditioning"] = "spectral"
    elif words & INVERSE_TOKENS and not words & NOT_MATRIX_TOKENS:
        out["conditioning"] = "inverse"
    if words & GAUGE_TOKENS:
        out["gauge_vectors"] = True
    if CUT.match(name):
        out["gradient"] = "cut"
    elif STRAIGHT_THROUGH.search(name):
        out["gradient"] = "straight-through"
    if UNIQUE_INDEX.match(name):
        out["unique_indices"] = True
    if LAYOUT_DEPENDENT.match(name):
        out["layout_dependent"] = True
    out["sources"] = {key: "name" for key in out}
    return out


SIGN_LABELS = re.compile(r"(?<![\d.])(1 or -1|-1 or 1|\{-1, ?1\}|\{1, ?-1\})")
LABEL_NAMES = ("target", "y", "label", "labels")


ONLY_INTO = re.compile(r"backpropagation\s+will\s+happen\s+only\s+into\s+`(\w+)`", re.IGNORECASE)
AUTOGRAD_IGNORES = re.compile(r"ignored\s+with\s+respect\s+to\s+autograd|straight[- ]through\s+estimator")


def from_docstring(doc: str, parameter_names: list[str], own_doc: str | None = None) -> Properties:
    """Label arguments a docstring gives as 1 or -1 (hinge, margin and cosine-embedding losses): their
    values are labels, drawn as such, and not differentiated (the loss is discontinuous in them); and
    a computation the docstring says autograd ignores (gaussian_nll_loss's clamp of var, straight-
    through estimators): a derivative by convention, not by the math; label arguments beside the one
    argument backpropagation "will happen only into" (TensorFlow 1's softmax cross entropy stops
    the gradient of its labels): not differentiated, where the API's own documentation (`own_doc`,
    by default `doc`) says so: another spelling of the same name can be another function (TensorFlow
    2's softmax_cross_entropy_with_logits and the raw op backpropagate into the labels)."""
    out: Properties = {"sources": {}}
    label = next((n for n in LABEL_NAMES if n in parameter_names), None)
    if label is not None and SIGN_LABELS.search(doc or ""):
        out["labels"] = {k: "sign" for k in (label, str(parameter_names.index(label)))}
        out["sources"]["labels"] = f"docstring: {label!r} holds 1 or -1"
    only = ONLY_INTO.search((doc if own_doc is None else own_doc) or "")
    cut = [n for n in LABEL_NAMES if n in parameter_names and only and n != only.group(1)]
    if cut:
        out["nondifferentiable"] = [k for n in cut for k in (n, str(parameter_names.index(n)))]
        out["sources"]["nondifferentiable"] = f"docstring: backpropagation only into {only.group(1)!r}"
    ignored = AUTOGRAD_IGNORES.search(doc or "")
    if ignored:
        out["gradient"] = "straight-through"
        out["sources"]["gradient"] = f"docstring: {' '.join(ignored.group(0).split())!r}"
    return out if len(out) > 1 else {}


UNIT_INTERVAL = re.compile(r"values?\s+(?:in|of)\s+`?(\w+)`?\s+(?:are|is|must\s+be|should\s+be)\s+in\s+`?\[0,\s*1\]`?")


def domains_from_docstring(doc: str, parameter_names: list[str]) -> Properties:
    """Arguments a docstring restricts to [0, 1] ("only well defined if the value in `images` are in
    [0,1]"): drawn there (outside, the library documents no derivative)."""
    named = [n for n in UNIT_INTERVAL.findall(doc or "") if n in parameter_names]
    if not named:
        return {}
    keys = {k: "unit-interval" for n in named for k in (n, str(parameter_names.index(n)))}
    return {"domains": keys, "sources": {"domains": f"docstring: {', '.join(repr(n) for n in named)} in [0, 1]"}}


POSITIVE_DEFINITE = re.compile(r"`+(\w+)`+\s+must\s+(?:represent|be)\s+(?:a\s+)?(?:hermitian|symmetric),?\s+positive[- ]definite")


def structures_from_docstring(doc: str, parameter_names: list[str]) -> Properties:
    """Matrix arguments a docstring requires to be Hermitian positive definite ("``A`` must represent a
    hermitian, positive definite matrix": conjugate gradients): drawn as such."""
    named = [n for n in POSITIVE_DEFINITE.findall(" ".join((doc or "").split())) if n in parameter_names]
    if not named:
        return {}
    keys = {k: "hermitian-pd" for n in named for k in (n, str(parameter_names.index(n)))}
    return {"structures": keys, "sources": {"structures": f"docstring: {', '.join(repr(n) for n in named)} positive definite"}}


def argument_tensors(case: Case) -> Iterator[tuple[str, Tensor]]:
    """(argument key, tensor) for the tensor arguments of a case: positions, then keyword names."""
    for i, arg in enumerate(case.args):
        if isinstance(arg, Tensor):
            yield str(i), arg
    for name, arg in case.kwargs:
        if isinstance(arg, Tensor):
            yield name, arg


def with_tensor(case: Case, key: str, tensor: Tensor) -> Case:
    """The case with the tensor argument `key` replaced."""
    if key.isdigit():
        args = tuple(tensor if str(i) == key else a for i, a in enumerate(case.args))
        return dataclasses.replace(case, args=args)
    return dataclasses.replace(case, kwargs=tuple((k, tensor if k == key else a) for k, a in case.kwargs))


def _same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(x.shape == y.shape and np.array_equal(x, y, equal_nan=True) for x, y in zip(a, b))


def triangle_read(direct: Callable[[Case], list[np.ndarray]], case: Case, key: str, tensor: Tensor) -> str | None:
    """ "lower" or "upper" when the outputs depend on only that triangle of the matrix argument `key`."""
    rng = rng_for(repr((case.api, key)).encode())
    matrix = tensor.array()
    base = direct(case)
    # An output that is a copy of the matrix (as triangular_solve returns its coefficient) says nothing.
    kept = [i for i, out in enumerate(base) if not (out.shape == matrix.shape and np.array_equal(out, matrix))]
    changed = {}
    for side, mask in (("upper", np.triu), ("lower", np.tril)):
        noise = mask(rng.uniform(0.5, 1.0, matrix.shape), 1 if side == "upper" else -1).astype(matrix.dtype)
        moved = direct(with_tensor(case, key, dataclasses.replace(tensor, values=(matrix + noise).ravel())))
        changed[side] = not _same([base[i] for i in kept], [moved[i] for i in kept if i < len(moved)])
    if changed["upper"] == changed["lower"]:
        return None
    return "lower" if changed["lower"] else "upper"


LINEAR_ALGEBRA_TOKENS = SPECTRAL_TOKENS | INVERSE_TOKENS | {"triangular", "tril", "triu", "matrix", "cholesky"}


def is_linear_algebra(api: str) -> bool:
    """Whether an API works on matrices as such (its namespace or its name say so)."""
    return ".linalg." in api or bool(set(tokens(api)) & LINEAR_ALGEBRA_TOKENS)


def consistent_in(backend: Any, case: Case, key: str, tensor: Tensor, space: str | None) -> bool:
    """Whether the library's AD agrees with the numerical derivative (float64) for the matrix argument
    `key` when its values and direction lie in `space` ("hermitian", "lower", "upper", or None: any
    matrix): the space whose convention the library's derivative rules follow."""
    matrix = make_values(tensor.array().astype(np.complex128 if np.iscomplexobj(tensor.values) else np.float64), space)
    placed = dataclasses.replace(tensor, values=matrix.astype(tensor.values.dtype).ravel())
    at = with_tensor(case, key, placed)
    rng = rng_for(repr((case.api, key, space)).encode())
    direction = project(rng.standard_normal(matrix.shape).astype(matrix.dtype), space)
    index = next(i for i, t in enumerate(at.differentiable()) if t is placed)
    call, wide = backend.bind(at), backend.bind(at, widen=True)
    u = random_like(rng, call.direct())
    v = [np.zeros_like(x) for x in call.inputs]
    v[index] = direction
    h = 1e-6 * max(1.0, float(np.max(np.abs(matrix))))
    numeric = (inner(u, wide.direct(axpy(wide.inputs, h, v))) - inner(u, wide.direct(axpy(wide.inputs, -h, v)))) / (2 * h)
    estimates = [inner(call.vjp(u)[1], v)]
    if "fwd" in backend.first_order_modes:
        try:
            estimates.append(inner(u, call.jvp(v)[1]))
        except Exception:  # noqa: BLE001 - a mode the library lacks says nothing about the space
            pass
    return all(abs(e - numeric) <= 1e-4 * (1.0 + abs(numeric)) for e in estimates)


def structure_of(api: str, read: str, hermitian: bool, has_side_flag: bool) -> str:
    """The declared input space of a matrix read in one triangle (`hermitian`: the library's
    derivative follows a Hermitian reading; `has_side_flag`: an `upper` or `lower` flag decides the
    triangle per call)."""
    if not hermitian:
        return f"triangular:{read}" if has_side_flag else read
    cholesky = "cholesky" in tokens(api) and not {"solve", "inverse"} & set(tokens(api))
    return "hermitian-pd" if cholesky else "hermitian"


def square_matrices(case: Case) -> list[tuple[str, Tensor]]:
    """The floating square-matrix arguments of a case."""
    return [
        (key, t)
        for key, t in argument_tensors(case)
        if is_floating(t.dtype) and len(t.shape) >= 2 and t.shape[-1] == t.shape[-2] >= 2
    ]


def nondifferentiable_argument(message: str, parameter_names: list[str], case: Case) -> str | None:
    """The argument key a library names as not differentiable in an error message, if any."""
    found = NOT_DIFFERENTIABLE_ARG.search(message)
    if not found:
        return None
    name = found.group(1)
    if any(k == name for k, _ in case.kwargs):
        return name
    if name in parameter_names and parameter_names.index(name) < len(case.args):
        return str(parameter_names.index(name))
    return name


def with_name_properties(api: str, spec: Properties) -> Properties:
    """An API's properties with those its name implies made current: the name-sourced ones of `spec`
    replaced by `from_name`'s, where no other source gave the property."""
    sources = spec.get("sources", {})
    out: Properties = {k: v for k, v in spec.items() if k != "sources" and sources.get(k) != "name"}
    out["sources"] = {k: v for k, v in sources.items() if v != "name" and k in out}
    merge(out, from_name(api))
    return out if len(out) > 1 or out["sources"] else {}


def merge(into: Properties, more: Properties) -> None:
    """Add properties (and their sources) that `into` does not have yet."""
    for key, value in more.items():
        if key == "sources":
            continue
        if key in ("structures", "labels", "domains", "nondifferentiable"):
            merged = into.setdefault(key, [] if key == "nondifferentiable" else {})
            if key != "nondifferentiable":
                for arg, structure in value.items():
                    merged.setdefault(arg, structure)
            else:
                merged.extend(v for v in value if v not in merged)
            into.setdefault("sources", {}).setdefault(key, more["sources"][key])
        elif key not in into:
            into[key] = value
            into.setdefault("sources", {})[key] = more["sources"][key]
