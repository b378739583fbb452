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
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from nabla_atheris.case import COMPLEX_DTYPES, FLOAT_DTYPES
from nabla_atheris.structures import STRUCTURES, TRIANGULAR
from nabla_atheris.vocabulary import FIRST_ORDER_AD, SECOND_ORDER

GRADIENTS = ("cut", "straight-through")  # no derivative by design; a derivative by convention, not by the math
CONDITIONING = ("spectral", "inverse")  # eigen/singular gaps and rank; the smallest singular value only
FIELDS = (
    "structures",
    "gradient",
    "tie_sensitive",
    "conditioning",
    "gauge_vectors",
    "unsupported",
    "dtypes",
    "derivative_dtypes",
    "unique_indices",
    "nondifferentiable",
    "labels",
    "domains",
)
LABELS = ("sign",)  # label values: -1 or 1
# Keyword attributes by which a call promises that its integer arguments are sorted, or free of
# duplicates (JAX's gather, scatter and segment functions, jnp.delete); the documentation leaves the
# result of a broken promise undefined, so the decoder keeps them and the oracle dismisses a break.
SORTED_PROMISES = ("indices_are_sorted",)
UNIQUE_PROMISES = ("unique_indices", "assume_unique_indices")


@dataclass(frozen=True)
class ApiProperties:
    """What an API's documentation declares about its derivatives and inputs."""

    # argument -> input space (see `structures`; "triangular:<default>": by the call's upper/lower flag)
    structures: dict[str, str] = field(default_factory=dict)
    gradient: str | None = None  # one of GRADIENTS
    tie_sensitive: bool = False  # repeated values are non-differentiable points (max, sort, pool, clamp ...)
    conditioning: str | None = None  # one of CONDITIONING: which inputs are ill-conditioned points
    gauge_vectors: bool = False  # matrix outputs are eigen- or singular vectors: unique up to sign or phase
    unsupported: frozenset[str] = frozenset()  # modes documented to have no derivative
    dtypes: frozenset[str] = frozenset()  # the floating dtypes the API is documented to take (empty: all)
    derivative_dtypes: frozenset[str] = frozenset()  # the dtypes documented to have derivatives (empty: all)
    unique_indices: bool = False  # duplicate indices are undefined (index_put, scatter, max_unpool ...)
    nondifferentiable: tuple[str, ...] = ()  # floating arguments that are parameters, not inputs
    labels: dict[str, str] = field(default_factory=dict)  # argument -> label values (one of LABELS): not inputs
    domains: dict[str, str] = field(default_factory=dict)  # argument -> documented value domain (catalog DOMAINS)
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
        unknown_dtypes = (self.dtypes | self.derivative_dtypes) - {*FLOAT_DTYPES, *COMPLEX_DTYPES}
        if unknown_dtypes:
            raise ValueError(f"unknown dtypes {sorted(unknown_dtypes)}")

    def documents_no_derivative(self, mode: str, dtypes: list[str]) -> bool:
        """Whether the documentation says the AD mode `mode` (or a compiled or batched form of it) has no
        derivative for a call in these floating dtypes."""
        derivative = mode.rsplit("-", 1)[-1] in ("rev", "fwd") or mode in SECOND_ORDER
        if not derivative:
            return False
        return mode in self.unsupported or bool(self.derivative_dtypes and set(dtypes) - self.derivative_dtypes)


NONE = ApiProperties()


def promises(flags: Mapping[str, Any], names: tuple[str, ...]) -> bool:
    """Whether a call's keyword attributes (`flags`) make one of the promises `names`."""
    return any(flags.get(name) is True for name in names)


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
        unique_indices=bool(spec.get("unique_indices", False)),
        nondifferentiable=tuple(str(a) for a in spec.get("nondifferentiable", ())),
        labels={str(k): str(v) for k, v in spec.get("labels", {}).items()},
        domains={str(k): str(v) for k, v in spec.get("domains", {}).items()},
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
