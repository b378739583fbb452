"""The catalog: per library, the APIs the fuzzer calls and the templates of known-valid calls.

A library's catalog is two files in `data/`: `<lib>.registry` (one API name per line; the line
number is the API's id, and the file is append-only so a corpus keeps decoding to the same calls)
and `<lib>.json` (the templates). A template is the argument structure of a valid call:

    {"dims": {"n": 3}, "dtypes": ["float64", "float32"],
     "args": [{"tensor": ["n", 4]}, {"value": 1, "choices": [0, 1, -1]}],
     "kwargs": {"weight": {"tensor": [4]}}}

Tensor slots give a shape of ints and dimension symbols (shared symbols keep shapes consistent
when the decoder mutates them); a slot without "dtype" takes the template's floating dtype;
integer slots give a value range `[low, high)` and "sorted": true where the call needs its values
in ascending order (segment ids; found in validation, see `building.validate_template`); "domain"
(one of `DOMAINS`) maps values into an API's domain. `{"tensors": [...]}` is a list of tensors,
`{"value": v}` an attribute (with "choices": hand-written alternatives, or "validated": the
alternatives the parameter step validated, none when the list is empty; with neither, type-aware ones;
a JSON object `v` is a library function or object, see `case.Tagged`),
`{"optional": [slot, ...]}` a keyword parameter the default call leaves out, with the values the
decoder may pass instead (validated during generation, see `parameters`). A template may name its
"source" (manual, opinfo, docstring, schema ...); the document's "failed" maps the APIs a generator
could not validate to the reason, "parameters" each API's parameters and whether the fuzzer varies
them, "dropped" the values a parameter's domain lost in validation, with the reason.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Union

from nabla_atheris.case import DTYPES, CaseFormatError, freeze_attribute
from nabla_atheris.palette import DOMAINS
from nabla_atheris.plants import with_plants


@dataclass(frozen=True)
class TensorSlot:
    """A tensor argument: shape (ints and symbols), dtype (None: the template's), value range."""

    shape: tuple[Union[int, str], ...]
    dtype: str | None = None
    low: int = 0
    high: int = 4
    domain: str | None = None
    ascending: bool = False  # integer values the call needs sorted (JSON "sorted")


@dataclass(frozen=True)
class ListSlot:
    """A list of tensors."""

    items: tuple[TensorSlot, ...]


@dataclass(frozen=True)
class AttrSlot:
    """A non-tensor argument with its default value and the alternatives the decoder may pick."""

    value: Any
    choices: tuple[Any, ...] | None = None

    def candidates(self) -> tuple[Any, ...]:
        """Values to choose from, the default first (type-aware when no choices are listed)."""
        if self.choices is not None:
            return (self.value,) + tuple(c for c in self.choices if c != self.value)
        v = self.value
        if isinstance(v, bool):
            return (v, not v)
        if isinstance(v, int):
            return tuple(dict.fromkeys((v, v + 1, v - 1, 0, 1, -1, 2)))
        if isinstance(v, float):
            return tuple(dict.fromkeys((v, 0.0, 1.0, -1.0, 0.5, 2.0 * v, 1e-8)))
        return (v,)


@dataclass(frozen=True)
class OptionSlot:
    """A keyword parameter left out by default; the decoder may pass one of `choices` instead."""

    choices: tuple[Union[TensorSlot, ListSlot, AttrSlot], ...]


Slot = Union[TensorSlot, ListSlot, AttrSlot, OptionSlot]


@dataclass(frozen=True)
class Template:
    """The argument structure of one known-valid call."""

    args: tuple[Slot, ...]
    kwargs: tuple[tuple[str, Slot], ...] = ()
    dims: tuple[tuple[str, int], ...] = ()
    dtypes: tuple[str, ...] = ("float64", "float32")


@dataclass(frozen=True)
class ApiEntry:
    """One API: its registry id, name and templates."""

    id: int
    name: str
    templates: tuple[Template, ...]


@dataclass
class Catalog:
    """The APIs of one library, indexed by append-only id."""

    library: str
    registry: list[str]
    apis: dict[str, ApiEntry] = field(default_factory=dict)

    def by_id(self, api_id: int) -> ApiEntry:
        """The entry for an id, wrapping out-of-range ids and skipping ids without templates."""
        if not self.apis:
            raise CaseFormatError(f"the {self.library} catalog is empty")
        n = len(self.registry)
        for step in range(n):
            entry = self.apis.get(self.registry[(api_id + step) % n])
            if entry is not None:
                return entry
        raise AssertionError("unreachable: a non-empty catalog has an entry")

    def by_name(self, name: str) -> ApiEntry | None:
        return self.apis.get(name)


def _slot(spec: Any) -> Slot:
    if not isinstance(spec, dict):
        return AttrSlot(freeze_attribute(spec))
    if "tensor" in spec:
        dtype = spec.get("dtype")
        if dtype is not None and dtype not in DTYPES:
            raise ValueError(f"unknown dtype {dtype!r}")
        low, high = spec.get("range", (0, 4))
        if spec.get("domain") not in (None, *DOMAINS):
            raise ValueError(f"unknown domain {spec['domain']!r}")
        return TensorSlot(tuple(spec["tensor"]), dtype, int(low), int(high), spec.get("domain"), bool(spec.get("sorted")))
    if "tensors" in spec:
        return ListSlot(tuple(_slot({"tensor": s} if isinstance(s, list) else s) for s in spec["tensors"]))  # type: ignore[misc]
    if "value" in spec:
        choices = spec.get("choices", spec.get("validated"))
        return AttrSlot(freeze_attribute(spec["value"]), None if choices is None else tuple(freeze_attribute(c) for c in choices))
    if "optional" in spec:  # its plain values were validated: each is passed as it is, never varied further
        choices = tuple(_slot(c) if isinstance(c, dict) else AttrSlot(freeze_attribute(c), ()) for c in spec["optional"])
        if not choices or any(isinstance(c, OptionSlot) for c in choices):
            raise ValueError(f"an optional parameter needs plain slots to choose from: {spec!r}")
        return OptionSlot(choices)  # type: ignore[arg-type]
    raise ValueError(f"unknown slot {spec!r}")


def parse_template(spec: dict) -> Template:
    """Build a `Template` from its JSON form."""
    return Template(
        args=tuple(_slot(s) for s in spec.get("args", ())),
        kwargs=tuple((k, _slot(s)) for k, s in spec.get("kwargs", {}).items()),
        dims=tuple(sorted(spec.get("dims", {}).items())),
        dtypes=tuple(spec.get("dtypes", ("float64", "float32"))),
    )


def build_catalog(library: str, registry: list[str], apis: dict[str, list[dict]]) -> Catalog:
    """Assemble a catalog; every API must be in the registry."""
    ids = {name: i for i, name in enumerate(registry)}
    catalog = Catalog(library, registry)
    for name, templates in apis.items():
        if name not in ids:
            raise ValueError(f"{name} is not in the {library} registry")
        catalog.apis[name] = ApiEntry(ids[name], name, tuple(parse_template(t) for t in templates))
    return catalog


class CatalogDataMissing(RuntimeError):
    """The package's `catalog/data` folder is absent: an installation or a frozen build without its data files."""


def _data_text(filename: str) -> str:
    folder = resources.files(__package__).joinpath("data")
    if not folder.is_dir():
        raise CatalogDataMissing(
            f"nabla_atheris' catalog data folder is missing ({folder}); a PyInstaller build must collect it: "
            "install the package (its hook is found through the pyinstaller40 entry point) or pass "
            "--collect-data nabla_atheris"
        )
    return folder.joinpath(filename).read_text(encoding="utf-8")


@cache
def catalog_document(library: str) -> tuple[list[str], dict]:
    """The registry and the raw JSON document of a library's checked-in catalog."""
    try:
        registry = [line.strip() for line in _data_text(f"{library}.registry").splitlines() if line.strip()]
        document = json.loads(_data_text(f"{library}.json"))
    except FileNotFoundError:
        raise CaseFormatError(f"no catalog for library {library!r}") from None
    return registry, document


@cache
def load_catalog(library: str) -> Catalog:
    """Load the checked-in catalog of a library (with the test-only planted ops, see `plants`)."""
    registry, document = catalog_document(library)
    return build_catalog(library, *with_plants(library, registry, document["apis"]))


def catalog_stats(library: str) -> dict:
    """Counts by namespace and by source (of an API's first template), and the failed APIs with reasons."""
    registry, document = catalog_document(library)
    apis: dict[str, list[dict]] = document["apis"]
    by_namespace = Counter(name.rsplit(".", 1)[0] for name in apis)
    by_source = Counter(templates[0].get("source", "manual") for templates in apis.values())
    templates_by_source = Counter(t.get("source", "manual") for templates in apis.values() for t in templates)
    return {
        "library": library,
        "registry_size": len(registry),
        "apis_validated": len(apis),
        "templates": sum(len(t) for t in apis.values()),
        "by_namespace": dict(sorted(by_namespace.items())),
        "by_source": dict(sorted(by_source.items())),
        "templates_by_source": dict(sorted(templates_by_source.items())),
        "failed": dict(sorted(document.get("failed", {}).items())),
    }
