"""Per-API properties that make documented behaviour declared rather than rediscovered, as PyTorch's
OpInfo declares gradcheck wrappers and skips. `data/<lib>.properties.json` holds them, written by
`scripts/infer_properties.py` (OpInfo, docstrings, name patterns, probing), each with its source:

    {"apis": {"torch.linalg.eigh": {"structures": {"0": "hermitian"},
                                    "sources": {"structures": "opinfo: gradcheck_wrapper_hermitian_input"}}}}

Arguments are named by position ("0") or keyword ("A"). The decoder draws structured values and
unique indices; the oracle projects directions onto the declared spaces, checks eigen- and
singular vectors through gauge-invariant projections (as OpInfo checks their absolute values), expects no derivative of
gradient-cutting APIs, treats ties of tie-sensitive APIs, ill-conditioned inputs of decompositions
and inverses and duplicate indices where they are undefined as points with no derivative, and files
errors of documented-unsupported modes (or dtypes without derivatives) as missing derivatives.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from typing import Any

from nabla_atheris.case import COMPLEX_DTYPES, FLOAT_DTYPES
from nabla_atheris.structures import STRUCTURES, TRIANGULAR
from nabla_atheris.vocabulary import FIRST_ORDER_AD, NESTED_TRANSFORMS, SECOND_ORDER

# no derivative by design; a derivative by convention, not by the math; a program's derivative that
# depends on the sign or phase an earlier call chose for its eigen- or singular vectors (see `combine`);
# no reverse-mode derivative by design (a call's requires_grad=False: forward-mode tangents do not
# depend on requires_grad); a reverse-mode gradient that is not the derivative by design (a call's
# scale_grad_by_freq=True: scaled by the indices' frequencies)
GRADIENTS = ("cut", "straight-through", "gauge", "reverse-cut", "reverse-convention")
# eigen/singular gaps and rank; the smallest singular value only; Householder reflectors' tau_i against 1/|v_i|^2
CONDITIONING = ("spectral", "inverse", "householder")
FIELDS = (
    "structures",
    "gradient",
    "tie_sensitive",
    "conditioning",
    "gauge_vectors",
    "unsupported",
    "dtypes",
    "derivative_dtypes",
    "second_order_dtypes",
    "unique_indices",
    "nondifferentiable",
    "labels",
    "domains",
    "layout_dependent",
)
LABELS = ("sign",)  # label values: -1 or 1
# Keyword attributes by which a call promises that its integer arguments are sorted, or free of
# duplicates (JAX's gather, scatter and segment functions, jnp.delete); the documentation leaves the
# result of a broken promise undefined, so the decoder keeps them and the oracle dismisses a break.
SORTED_PROMISES = ("indices_are_sorted",)
UNIQUE_PROMISES = ("unique_indices", "assume_unique_indices")
# Keyword attributes by which a call combines the values written to one position (scatter's
# reduce='add' or 'multiply', index_put's accumulate=True): repeated indices are then a sum or a
# product, a function of every written value, not the race an API with `unique_indices` leaves undefined.
ACCUMULATING = {"accumulate": (True,), "reduce": ("add", "multiply", "sum", "prod", "mean")}


@dataclass(frozen=True)
class ApiProperties:
    """What an API's documentation declares about its derivatives and inputs."""

    # argument -> input space (see `structures`; "triangular:<default>": by the call's upper/lower flag)
    structures: dict[str, str] = field(default_factory=dict)
    gradient: str | None = None  # one of GRADIENTS
    tie_sensitive: bool = False  # repeated values are non-differentiable points (max, sort, max pool, clamp ...)
    conditioning: str | None = None  # one of CONDITIONING: which inputs are ill-conditioned points
    gauge_vectors: bool = False  # matrix outputs are eigen- or singular vectors: unique up to sign or phase
    unsupported: frozenset[str] = frozenset()  # modes documented to have no derivative
    dtypes: frozenset[str] = frozenset()  # the floating dtypes the API is documented to take (empty: all)
    derivative_dtypes: frozenset[str] = frozenset()  # the dtypes documented to have derivatives (empty: all)
    # the dtypes documented to have second derivatives (empty: those with derivatives): the derivative's
    # own derivative dtypes, when the derivative is another op (i0's is i1, which has no Half backward)
    second_order_dtypes: frozenset[str] = frozenset()
    unique_indices: bool = False  # duplicate indices are undefined (index_put, scatter, max_unpool ...)
    nondifferentiable: tuple[str, ...] = ()  # floating arguments that are parameters, not inputs
    labels: dict[str, str] = field(default_factory=dict)  # argument -> label values (one of LABELS): not inputs
    domains: dict[str, str] = field(default_factory=dict)  # argument -> documented value domain (catalog DOMAINS)
    layout_dependent: bool = False  # the result depends on the inputs' memory layout (as_strided reads storage)
    sources: dict[str, str] = field(default_factory=dict)  # property -> where it was read

    def __post_init__(self) -> None:
        for argument, structure in self.structures.items():
            if structure not in (*STRUCTURES, *TRIANGULAR):
                raise ValueError(f"argument {argument}: unknown structure {structure!r}")
        if self.gradient not in (None, *GRADIENTS):
            raise ValueError(f"unknown gradient property {self.gradient!r}")
        if set(self.labels.values()) - set(LABELS):
            raise ValueError(f"unknown labels {sorted(set(self.labels.values()) - set(LABELS))}")
        if self.conditioning not in (None, *CONDITIONING):
            raise ValueError(f"unknown conditioning {self.conditioning!r}")
        unknown = self.unsupported - set(FIRST_ORDER_AD) - set(SECOND_ORDER)
        if unknown:
            raise ValueError(f"unknown modes {sorted(unknown)}")
        unknown_dtypes = (self.dtypes | self.derivative_dtypes | self.second_order_dtypes) - {*FLOAT_DTYPES, *COMPLEX_DTYPES}
        if unknown_dtypes:
            raise ValueError(f"unknown dtypes {sorted(unknown_dtypes)}")

    def declares_space(self, argument: str) -> bool:
        """Whether the argument is drawn in a declared space: a structure, a domain, labels, or a
        parameter's (an earlier output of a program is not drawn there)."""
        return argument in {*self.structures, *self.domains, *self.labels, *self.nondifferentiable}

    def documents_no_derivative(self, mode: str, dtypes: list[str]) -> bool:
        """Whether the documentation says the AD mode `mode` (or a compiled or batched form of it) has no
        derivative for a call in these floating dtypes."""
        derivative = mode.rsplit("-", 1)[-1] in ("rev", "fwd") or mode in SECOND_ORDER
        if not derivative:
            return False
        if mode in self.unsupported or bool(self.derivative_dtypes and set(dtypes) - self.derivative_dtypes):
            return True
        second = any(name in mode for name in (*SECOND_ORDER, *NESTED_TRANSFORMS))
        return second and bool(self.second_order_dtypes and set(dtypes) - self.second_order_dtypes)


NONE = ApiProperties()


def promises(flags: Mapping[str, Any], names: tuple[str, ...]) -> bool:
    """Whether a call's keyword attributes (`flags`) make one of the promises `names`."""
    return any(flags.get(name) is True for name in names)


def accumulates(flags: Mapping[str, Any]) -> bool:
    """Whether a call's keyword attributes (`flags`) combine the values written to one index (ACCUMULATING)."""
    return any(flags.get(name) in values for name, values in ACCUMULATING.items())


def parse_properties(spec: dict[str, Any]) -> ApiProperties:
    """An `ApiProperties` from its JSON form (unknown keys are an error)."""
    unknown = set(spec) - set(FIELDS) - {"sources"}
    if unknown:
        raise ValueError(f"unknown property keys {sorted(unknown)}")
    return ApiProperties(
        structures={str(k): str(v) for k, v in spec.get("structures", {}).items()},
        gradient=spec.get("gradient"),
        tie_sensitive=bool(spec.get("tie_sensitive", False)),
        conditioning=spec.get("conditioning"),
        gauge_vectors=bool(spec.get("gauge_vectors", False)),
        unsupported=frozenset(spec.get("unsupported", ())),
        dtypes=frozenset(spec.get("dtypes", ())),
        derivative_dtypes=frozenset(spec.get("derivative_dtypes", ())),
        second_order_dtypes=frozenset(spec.get("second_order_dtypes", ())),
        unique_indices=bool(spec.get("unique_indices", False)),
        nondifferentiable=tuple(str(a) for a in spec.get("nondifferentiable", ())),
        labels={str(k): str(v) for k, v in spec.get("labels", {}).items()},
        domains={str(k): str(v) for k, v in spec.get("domains", {}).items()},
        layout_dependent=bool(spec.get("layout_dependent", False)),
        sources={str(k): str(v) for k, v in spec.get("sources", {}).items()},
    )


@cache
def library_properties(library: str) -> dict[str, ApiProperties]:
    """Every API's declared properties for a library (empty when it has no properties file)."""
    path = resources.files("nabla_atheris.catalog").joinpath("data", f"{library}.properties.json")
    if not path.is_file():
        return {}
    document = json.loads(path.read_text(encoding="utf-8"))
    return {name: parse_properties(spec) for name, spec in document["apis"].items()}


def properties_of(library: str, api: str) -> ApiProperties:
    """The declared properties of one API (none declared: `NONE`)."""
    return library_properties(library).get(api, NONE)


ANY_CALL = ("tie_sensitive", "unique_indices", "layout_dependent")  # a program has them when any call has them


def combine(calls: Sequence[tuple[str, ApiProperties]]) -> ApiProperties:
    """A program's properties from its calls' (api, properties), in call order; a single call's are
    its own. The rules, per property:

    - gradient: the first call that declares one decides: a derivative cut or set by convention
      anywhere leaves the program's derivative without a numerical referee. A call before the last
      that returns eigen- or singular vectors makes it "gauge": the sign or phase its vectors were
      given reaches the outputs, by AD's convention in the derivatives and LAPACK's in the values;
    - gauge_vectors: the last call's (the program's outputs are its outputs);
    - tie_sensitive, unique_indices, layout_dependent: any call's; conditioning: any call's
      ("spectral" over "inverse"). The oracle looks for ties, ill-conditioned matrices and duplicate indices in the
      arguments of each call that declares them, earlier outputs included (`oracle.program_values`);
    - unsupported: the union (a mode one call documents no derivative for has none for the program);
      derivative_dtypes, second_order_dtypes, dtypes: the intersection of the declared sets (a program's
      dtypes must be documented for every call); disjoint derivative dtypes leave no mode supported
      (disjoint second-order dtypes no second order), and
      `oracle.subject.prepare` checks each call's documented dtypes itself, disjoint sets included;
    - structures, nondifferentiable, labels, domains: the first call's. They say how the decoder
      draws a call's own tensors; an earlier output passed in such an argument is outside the
      contract (`misplaced_reference`);
    - sources: each property's source, after the API of the call it came from (programs only).
    """
    if len(calls) == 1:
        return calls[0][1]
    (_, first), (_, last) = calls[0], calls[-1]
    sources: dict[str, str] = {}

    def declared(key: str, api: str, properties: ApiProperties) -> None:
        if properties.sources.get(key) and key not in sources:
            sources[key] = f"{api}: {properties.sources[key]}"

    gradient = None
    for index, (api, properties) in enumerate(calls):
        if properties.gradient and gradient is None:
            gradient = properties.gradient
            declared("gradient", api, properties)
        elif properties.gauge_vectors and index < len(calls) - 1 and gradient is None:
            gradient = "gauge"
            sources["gradient"] = f"{api} returns eigen- or singular vectors that a later call reads"
        for key in ANY_CALL + ("conditioning", "unsupported", "dtypes", "derivative_dtypes", "second_order_dtypes"):
            declared(key, api, properties)
    conditionings = {p.conditioning for _, p in calls}
    derivative_dtypes = _intersection([p.derivative_dtypes for _, p in calls])
    unsupported = frozenset().union(*(p.unsupported for _, p in calls))
    if derivative_dtypes is None:
        derivative_dtypes, unsupported = frozenset(), frozenset({*FIRST_ORDER_AD, *SECOND_ORDER})
    dtypes = _intersection([p.dtypes for _, p in calls])
    second_order_dtypes = _intersection([p.second_order_dtypes for _, p in calls])
    if second_order_dtypes is None:
        second_order_dtypes, unsupported = frozenset(), unsupported | frozenset(SECOND_ORDER)
    return replace(
        first,
        gradient=gradient,
        **{key: any(getattr(p, key) for _, p in calls) for key in ANY_CALL},
        conditioning=next((c for c in CONDITIONING if c in conditionings), None),
        gauge_vectors=last.gauge_vectors,
        unsupported=unsupported,
        dtypes=dtypes or frozenset(),
        derivative_dtypes=derivative_dtypes,
        second_order_dtypes=second_order_dtypes,
        sources={**{k: f"{calls[0][0]}: {v}" for k, v in first.sources.items()}, **sources},
    )


def _intersection(declared: list[frozenset[str]]) -> frozenset[str] | None:
    """The dtypes in every declared (non-empty) set: empty when none is declared, None when the
    declared sets are disjoint."""
    sets = [d for d in declared if d]
    if not sets:
        return frozenset()
    return frozenset.intersection(*sets) or None
