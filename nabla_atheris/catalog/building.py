"""Library-agnostic parts of catalog generation: recorded calls become templates, templates are
validated by running them through a backend, and the catalog files are written deterministically.

A generator (one per library, in `scripts/`) finds example calls of an API (test inputs, docstring
examples, probing) and describes their arguments as plain Python: `TensorInfo` for a tensor, a list
of `TensorInfo` for a tensor list, anything else as an attribute value.
"""

from __future__ import annotations

import contextlib
import json
import math
import signal
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nabla_atheris.case import is_floating
from nabla_atheris.catalog import build_catalog
from nabla_atheris.decoder import MAX_DIM, MAX_ELEMENTS, MAX_RANK, decode_bytes, seed_bytes

FLOATING_DTYPES = ("float64", "float32", "complex128", "complex64", "bfloat16", "float16")
ATTR_TYPES = (bool, int, float, str, type(None))


class Unrepresentable(ValueError):
    """A recorded call has an argument the case format cannot express."""


class TooLarge(Unrepresentable):
    """A tensor exceeds the decoder's rank or element caps."""


@dataclass(frozen=True)
class TensorInfo:
    """A recorded tensor argument: dtype name, shape and its values (to infer domains and ranges)."""

    dtype: str
    shape: tuple[int, ...]
    values: np.ndarray


def _attr(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_attr(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        raise Unrepresentable(f"non-finite attribute {value!r}")
    if isinstance(value, ATTR_TYPES):
        return value
    raise Unrepresentable(f"argument of type {type(value).__name__}")


# Ever stronger maps of dimension sizes into the decoder's caps; equal sizes stay equal.
SHRINK_LEVELS: tuple[Callable[[int], int], ...] = (
    lambda d: d if d <= MAX_DIM else 4 + d % 3,  # 10 -> 5, 20 -> 6
    lambda d: min(d, 4),
    lambda d: d if d <= 2 else 2 + d % 2,
)


def _tensor_slot(info: TensorInfo, symbols: dict[int, str], shrink: Callable[[int], int]) -> dict:
    sizes = [shrink(d) for d in info.shape]
    if len(sizes) > MAX_RANK or math.prod(sizes) > MAX_ELEMENTS:
        raise TooLarge(f"tensor of shape {list(info.shape)} exceeds the decoder's caps")
    shape = [d if d < 2 else symbols.setdefault(d, "abcdefgh"[len(symbols) % 8]) for d in sizes]
    slot: dict[str, Any] = {"tensor": shape}
    values = np.asarray(info.values, dtype=np.complex128 if info.dtype.startswith("complex") else None).ravel()
    if info.dtype in ("float64", "float32", "bfloat16", "float16") and values.size >= 2:
        real = values.astype(np.float64)
        if np.all(real > 0):
            slot["domain"] = "positive"
        elif np.all(np.abs(real) <= 1):
            slot["domain"] = "unit"
    if not is_floating(info.dtype):
        slot["dtype"] = info.dtype
        if info.dtype != "bool" and values.size:
            slot["range"] = [int(values.min()), int(values.max()) + 1]
    return slot


def recorded(describe: Callable[[Any], Any], args: Sequence[Any], kwargs: dict[str, Any], source: str) -> Callable[[], dict]:
    """A template factory for one recorded call, describing the arguments now (examples may mutate
    them later); a factory that raises `Unrepresentable` when an argument cannot be described."""
    try:
        described = [describe(a) for a in args], {k: describe(v) for k, v in kwargs.items()}
    except Exception as exc:  # noqa: BLE001 - tracers, sparse or otherwise unreadable arguments
        message = f"{type(exc).__name__}: {exc}"

        def fail() -> dict:
            raise Unrepresentable(message)

        return fail
    return lambda: template_from_call(described[0], described[1], source)


def _integer(value: Any) -> bool:
    return isinstance(value, TensorInfo) and value.dtype != "bool" and not is_floating(value.dtype)


def _floated(value: Any, chosen: Callable[[TensorInfo], bool]) -> Any:
    if isinstance(value, TensorInfo) and _integer(value) and chosen(value):
        return TensorInfo("float64", value.shape, np.asarray(value.values, dtype=np.float64))
    if isinstance(value, list):
        return [_floated(v, chosen) for v in value]
    return value


def recorded_variants(
    describe: Callable[[Any], Any], args: Sequence[Any], kwargs: dict[str, Any], source: str
) -> list[Callable[[], dict]]:
    """`recorded` of a call, then, when it has integer tensors and no floating one (an example written
    with integer data, `jnp.einsum("ij->i", jnp.arange(6).reshape(2, 3))`), the same call with its
    integer tensors as float64: all of them, then each alone (an index tensor beside the data stays)."""
    first = recorded(describe, args, kwargs, source)
    try:
        described = [describe(a) for a in args], {k: describe(v) for k, v in kwargs.items()}
    except Exception:  # noqa: BLE001 - `first` reports why
        return [first]
    values = (*described[0], *described[1].values())
    leaves = [leaf for value in values for leaf in (value if isinstance(value, list) else [value])]
    if any(isinstance(leaf, TensorInfo) and is_floating(leaf.dtype) for leaf in leaves):
        return [first]
    integers = [leaf for leaf in leaves if _integer(leaf)]
    choices: list[Callable[[TensorInfo], bool]] = [lambda info: True]
    if len(integers) > 1:
        choices += [lambda info, one=one: info is one for one in integers]

    def variant(chosen: Callable[[TensorInfo], bool]) -> Callable[[], dict]:
        new_args = [_floated(a, chosen) for a in described[0]]
        new_kwargs = {k: _floated(v, chosen) for k, v in described[1].items()}
        return lambda: template_from_call(new_args, new_kwargs, source)

    return [first, *(variant(chosen) for chosen in choices)] if integers else [first]


class Timeout(Exception):
    """A generator's call ran out of time (see `time_limit`)."""


@contextlib.contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """Raise `Timeout` in the main thread after `seconds` (SIGALRM)."""

    def expire(signum: int, frame: Any) -> None:
        raise Timeout()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def template_from_call(args: Sequence[Any], kwargs: dict[str, Any], source: str) -> dict:
    """The JSON template of a recorded call: dimension sizes >= 2 become shared symbols, sizes over
    the decoder's caps shrink (the validation run tells whether the call still works)."""
    for shrink in SHRINK_LEVELS[:-1]:
        try:
            return _template(args, kwargs, source, shrink)
        except TooLarge:
            continue
    return _template(args, kwargs, source, SHRINK_LEVELS[-1])


def _template(args: Sequence[Any], kwargs: dict[str, Any], source: str, shrink: Callable[[int], int]) -> dict:
    symbols: dict[int, str] = {}
    floats: list[str] = []

    def slot(arg: Any) -> dict:
        if isinstance(arg, TensorInfo):
            if is_floating(arg.dtype):
                floats.append(arg.dtype)
            return _tensor_slot(arg, symbols, shrink)
        if isinstance(arg, (list, tuple)) and arg and all(isinstance(a, TensorInfo) for a in arg):
            return {"tensors": [slot(a) for a in arg]}
        return {"value": _attr(arg)}

    template: dict[str, Any] = {"args": [slot(a) for a in args]}
    if kwargs:
        template["kwargs"] = {k: slot(v) for k, v in sorted(kwargs.items())}
    if not floats:
        raise Unrepresentable("no floating tensor argument")
    template["dims"] = {name: size for size, name in symbols.items()}
    template["dtypes"] = [floats[0]]
    template["source"] = source
    return template


def _check_one(library: str, api: str, template: dict, backend: Any) -> str | None:
    try:
        catalog = build_catalog(library, [api], {api: [template]})
        case = decode_bytes(seed_bytes(catalog, 0, 0), catalog)
    except (ValueError, TypeError) as exc:
        return f"template does not decode: {exc}"
    if not case.differentiable():
        return "no differentiable input"
    try:
        call = backend.bind(case)
        first = call.direct()
        second = call.direct()
    except Exception as exc:  # noqa: BLE001 - any library error means the template is not valid
        text = f"{type(exc).__name__}: {exc}".strip().splitlines()[0]
        return f"direct call fails: {text[:160]}"
    if not any(is_floating(d) for d in call.output_dtypes):
        return "no floating output"
    if any(a.shape != b.shape or not np.array_equal(a, b, equal_nan=True) for a, b in zip(first, second)):
        return "nondeterministic output"
    return None


def _sorted_indices(template: dict) -> dict:
    """The template with its integer tensors' values sorted (`"sorted": true`)."""

    def sort(slot: Any) -> Any:
        if isinstance(slot, dict) and "tensors" in slot:
            return {**slot, "tensors": [sort(s) for s in slot["tensors"]]}
        if isinstance(slot, dict) and "tensor" in slot and slot.get("dtype") not in (None, "bool"):
            return {**slot, "sorted": True} if not is_floating(slot["dtype"]) else slot
        return slot

    kwargs = {name: sort(s) for name, s in template.get("kwargs", {}).items()}
    return {**template, "args": [sort(s) for s in template["args"]], **({"kwargs": kwargs} if kwargs else {})}


def check_template(library: str, api: str, template: dict, backend: Any) -> str | None:
    """Why the template's default call is not valid (None: it is), the backend's static contract and
    reverse mode's argument types included."""
    reason = _check_one(library, api, template, backend)
    if reason is not None:
        return reason
    catalog = build_catalog(library, [api], {api: [template]})
    call = backend.bind(decode_bytes(seed_bytes(catalog, 0, 0), catalog))
    violation = backend.contract_violation(call)
    return f"contract: {violation}" if violation is not None else reverse_refusal(call)


def reverse_refusal(call: Any) -> str | None:
    """Why reverse mode refuses the call's arguments, or None: a TypeError there means the signature
    takes no argument requiring a gradient where the call passes one (torch.bernoulli's `p`: a 0-d
    tensor converts to its `float p` in a direct call, but not once it requires a gradient). Other
    errors are the library's to report (a missing derivative, a refused argument)."""
    try:
        call.vjp([np.ones_like(o) for o in call.direct()])
    except TypeError as exc:
        return f"reverse call fails: {f'{type(exc).__name__}: {exc}'.strip().splitlines()[0][:160]}"
    except Exception:  # noqa: BLE001 - the library's refusal or failure, for the oracle to judge
        return None
    return None


def validate_template(
    library: str, api: str, template: dict, backend: Any, probe_dtypes: bool = True
) -> tuple[dict | None, str | None]:
    """Run the template's default call, then (with `probe_dtypes`) each other floating dtype; the
    template with the dtypes that work (float64 first), or None and the reason it failed."""
    first = template["dtypes"][0]
    reason = _check_one(library, api, template, backend)
    ascending = _sorted_indices(template)
    if reason is not None and reason.startswith("direct call fails") and ascending != template:
        if _check_one(library, api, ascending, backend) is None:  # segment ids must ascend
            template, reason = ascending, None
    if reason is not None or not probe_dtypes:
        return (None, reason) if reason is not None else (template, None)
    dtypes = [first]
    for dtype in FLOATING_DTYPES:
        if dtype != first and _check_one(library, api, {**template, "dtypes": [dtype]}, backend) is None:
            dtypes.append(dtype)
    if "float64" in dtypes:  # the default call in float64: the most exact numerical reference
        dtypes.insert(0, dtypes.pop(dtypes.index("float64")))
    return {**template, "dtypes": dtypes}, None


@dataclass
class CatalogBuilder:
    """Collects validated templates per API (at most `max_templates` distinct ones) and failures."""

    library: str
    backend: Any
    max_templates: int = 3

    def __post_init__(self) -> None:
        self.apis: dict[str, list[dict]] = {}
        self.failed: dict[str, str] = {}
        self.parameters: dict[str, dict[str, str]] = {}  # API -> parameter -> status (see `parameters`)
        self.dropped: dict[str, dict[str, str]] = {}  # API -> "parameter=value" -> why the call failed
        self.variants: dict[str, list[Callable[[], dict]]] = {}  # API -> its examples with integer data as floating

    def covered(self, api: str) -> bool:
        return len(self.apis.get(api, ())) >= self.max_templates

    def offer(self, api: str, make_template: Callable[[], dict], probe_dtypes: bool = True) -> bool:
        """Validate one candidate template of `api`; True when it was added."""
        if self.covered(api):
            return False
        try:
            template = make_template()
        except Unrepresentable as exc:
            self.failed.setdefault(api, f"unrepresentable: {exc}")
            return False
        known = self.apis.get(api, [])
        shape_key = _structure_key(template)
        if any(_structure_key(t) == shape_key for t in known):
            return False
        valid, reason = validate_template(self.library, api, template, self.backend, probe_dtypes)
        if valid is None:
            self.failed.setdefault(api, str(reason))
            return False
        self.apis.setdefault(api, []).append(valid)
        self.failed.pop(api, None)
        return True


def _structure_key(template: dict) -> str:
    """Templates that differ only in default sizes, dtypes or source are one (the decoder varies sizes)."""
    return json.dumps({k: v for k, v in template.items() if k not in ("dims", "dtypes", "source")}, sort_keys=True)


def merge_registry(old: list[str], names: Iterable[str]) -> list[str]:
    """The append-only registry: old names keep their ids, new names are appended in sorted order."""
    known = set(old)
    return old + sorted(set(names) - known)


def write_catalog(
    data_dir: Path, library: str, apis: dict[str, list[dict]], failed: dict[str, str], extra: dict[str, Any] | None = None
) -> list[str]:
    """Write `<library>.registry` and `<library>.json` byte-for-byte deterministically (`extra`: more
    top-level entries of the document, such as the parameter statuses)."""
    registry_path = data_dir / f"{library}.registry"
    old = [line.strip() for line in registry_path.read_text().splitlines() if line.strip()] if registry_path.is_file() else []
    registry = merge_registry(old, apis)
    registry_path.write_text("".join(f"{name}\n" for name in registry))
    document = {"library": library, "apis": apis, "failed": {k: v for k, v in failed.items() if k not in apis}, **(extra or {})}
    (data_dir / f"{library}.json").write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    return registry


def preload(builder: CatalogBuilder, data_dir: Path) -> None:
    """Start a builder from a catalog folder's document (to run later sources only)."""
    document = json.loads((data_dir / f"{builder.library}.json").read_text())
    builder.apis, builder.failed = document["apis"], document["failed"]
    builder.parameters, builder.dropped = document.get("parameters", {}), document.get("dropped", {})


def builder_extra(builder: CatalogBuilder) -> dict[str, Any]:
    """The document entries of the parameter step (none when it did not run)."""
    return {"parameters": builder.parameters, "dropped": builder.dropped} if builder.parameters else {}
