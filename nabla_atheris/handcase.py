"""Cases written by hand as JSON, for `nabla-atheris check`.

    {
      "library": "torch",
      "api": "torch.nn.functional.conv2d",
      "args": [
        {"dtype": "float64", "shape": [1, 1, 4, 4], "seed": 0},
        {"dtype": "float64", "shape": [1, 1, 2, 2], "values": [1, 0.5, -1, 2]},
        [{"dtype": "float64", "shape": [2], "seed": 1}, {"dtype": "float64", "shape": [2], "seed": 2}]
      ],
      "kwargs": {"stride": 1, "padding": [1, 1]}
    }

A tensor is an object with "dtype" and "shape", and either "values" (row-major; a complex value
is a [re, im] pair) or "seed" (values drawn uniformly from [-1, 1), or from "range": [low, high)
for integer tensors). Floating tensors are differentiable unless "requires_grad": false.
"structure" ("hermitian", "hermitian-pd", "lower", "upper") names the space the API reads a matrix
in: directions and perturbations stay in it (the values are taken as given); without it, the
catalog's declared structure of the argument applies. A list of tensor objects is a list of
tensors; {"fn": "jax.lax.add"} is a function of the library and {"object": "jax.lax.GatherDimensionNumbers",
"kwargs": {"offset_dims": [1], ...}} an object of it built from keyword attributes (`case.Tagged`);
any other JSON value is an attribute. Unknown keys are an error.

A program of several calls lists them under "calls" instead of "api", "args" and "kwargs"; an
argument of a later call may be {"ref": [call, output]}, output `output` (counting the flattened
outputs from 0) of the earlier call `call` (counting from 0). The program's outputs are the last
call's; every floating tensor of every call is an input:

    {
      "library": "torch",
      "calls": [
        {"api": "torch.sin", "args": [{"dtype": "float64", "shape": [3], "seed": 0}]},
        {"api": "torch.mul", "args": [{"ref": [0, 0]}, {"dtype": "float64", "shape": [3], "seed": 1}]}
      ]
    }

Every malformed field raises `CaseFormatError` with a one-line message, and a case larger than the
caps in `LIMITS` (rank, elements, arguments, nesting, file size) is refused with the cap's name, so
that a hand-written case never exhausts the machine inside the oracle.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from nabla_atheris.case import (
    DTYPES,
    Attr,
    Call,
    Case,
    CaseFormatError,
    Ref,
    Tagged,
    Tensor,
    TensorList,
    check_references,
    is_floating,
    plain_attribute,
    storage_dtype,
)
from nabla_atheris.catalog import load_catalog
from nabla_atheris.catalog.properties import properties_of
from nabla_atheris.libraries import LIBRARIES
from nabla_atheris.structures import STRUCTURES, applies, resolve

CASE_KEYS = {"library", "api", "args", "kwargs"}
PROGRAM_KEYS = {"library", "calls"}
CALL_KEYS = {"api", "args", "kwargs"}
TENSOR_KEYS = {"dtype", "shape", "values", "seed", "range", "requires_grad", "structure"}
# Caps of a case given to `check`, `repro` or `minimize` (the decoder's own are far smaller).
LIMITS = {
    "rank": 8,  # dimensions of one tensor
    "elements": 1 << 20,  # elements of all tensors of a case together
    "arguments": 64,  # positional and keyword arguments, and tensors of one tensor list
    "attribute items": 4096,  # numbers and strings in one attribute
    "string length": 1000,  # characters of a string attribute or an API name
    "nesting": 32,  # levels of JSON arrays and objects
    "calls": 16,  # calls of a program
    "file bytes": 64 << 20,  # size of a case file
}
INT64 = (-(1 << 63), (1 << 63) - 1)


def over_limit(name: str, value: int | None = None) -> CaseFormatError:
    """The error for a case over one of the caps, naming it (and the case's figure, when known)."""
    figure = f"{value} > {LIMITS[name]}" if value is not None else f"more than {LIMITS[name]}"
    return CaseFormatError(f"the case exceeds the limit on {name} ({figure})")


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> bool:
    """A JSON number that a float64 holds (NaN and infinities included; no integer beyond float range)."""
    if isinstance(value, float):
        return True
    return _integer(value) and abs(value) <= sys.float_info.max


def _refuse_unknown_keys(what: str, given: dict, known: set[str]) -> None:
    unknown = sorted(str(k)[:40] for k in set(given) - known)
    if unknown:
        raise CaseFormatError(f"unknown {what} key(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")


def _flat(values: Any) -> Iterator[Any]:
    """The leaves of nested lists, row-major."""
    if isinstance(values, list):
        for v in values:
            yield from _flat(v)
    else:
        yield values


def _value_range(dtype: str) -> tuple[int, int]:
    """The representable [low, high] of an integer or bool dtype."""
    if dtype == "bool":
        return 0, 1
    info = np.iinfo(np.dtype(dtype))
    return int(info.min), int(info.max)


def _values(spec: dict, dtype: str, size: int) -> np.ndarray:
    """The values given in `values`, checked against the dtype and the shape's size."""
    leaves = list(_flat(spec["values"]))
    if dtype.startswith("complex"):
        if not all(_number(v) for v in leaves) or len(leaves) != 2 * size:
            raise CaseFormatError(f"a {dtype} tensor of {size} elements needs {size} [re, im] pairs of numbers")
        raw = np.asarray(leaves, dtype=np.float64).reshape(-1, 2)
        return raw[:, 0] + 1j * raw[:, 1]
    if len(leaves) != size:
        raise CaseFormatError(f"the shape needs {size} values, got {len(leaves)}")
    if is_floating(dtype):
        if not all(_number(v) for v in leaves):
            bad = next(v for v in leaves if not _number(v))
            raise CaseFormatError(f"a {dtype} tensor holds numbers, not {bad!r:.40}")
        return np.asarray(leaves, dtype=np.float64)
    low, high = _value_range(dtype)
    for v in leaves:
        whole = _integer(v) or isinstance(v, bool) or (isinstance(v, float) and v.is_integer())
        if not whole or not low <= v <= high:
            raise CaseFormatError(f"a {dtype} tensor holds integers in [{low}, {high}], not {v!r:.40}")
    return np.asarray([int(v) for v in leaves], dtype=np.int64)


def _drawn(spec: dict, dtype: str, size: int) -> np.ndarray:
    """Values drawn from `seed` (and `range` for integer tensors)."""
    seed = spec["seed"]
    if not _integer(seed) or not 0 <= seed <= INT64[1]:
        raise CaseFormatError(f"'seed' must be an integer in [0, 2**63), not {seed!r:.40}")
    rng = np.random.default_rng(seed)
    if is_floating(dtype):
        if "range" in spec:
            raise CaseFormatError("'range' applies to integer and bool tensors only")
        complex_part = 1j * rng.uniform(-1, 1, size) if dtype.startswith("complex") else 0
        return rng.uniform(-1, 1, size) + complex_part
    lowest, highest = _value_range(dtype)
    bounds = spec.get("range", [0, 2 if dtype == "bool" else 4])
    if not (isinstance(bounds, list) and len(bounds) == 2 and all(_integer(b) for b in bounds)):
        raise CaseFormatError(f"'range' must be [low, high] with integers, not {bounds!r:.40}")
    low, high = bounds
    if not lowest <= low < high <= highest + 1:
        raise CaseFormatError(f"'range' [{low}, {high}) must be non-empty and within {dtype}'s [{lowest}, {highest + 1})")
    return rng.integers(low, high, size)


def _tensor(spec: dict, declared: str | None = None) -> Tensor:
    _refuse_unknown_keys("tensor", spec, TENSOR_KEYS)
    dtype, shape = spec.get("dtype"), spec.get("shape")
    if not isinstance(dtype, str) or dtype not in DTYPES:
        raise CaseFormatError(f"unknown dtype {dtype!r:.40} (one of {', '.join(DTYPES)})")
    if not isinstance(shape, list) or not all(_integer(d) and d >= 0 for d in shape):
        raise CaseFormatError(f"shape must be a list of non-negative ints, not {shape!r:.60}")
    if len(shape) > LIMITS["rank"]:
        raise over_limit("rank", len(shape))
    size = math.prod(shape)
    if size > LIMITS["elements"]:
        raise over_limit("elements", size)
    if ("values" in spec) == ("seed" in spec):
        raise CaseFormatError("a tensor needs 'values' or 'seed' (one of them)")
    if "values" in spec and "range" in spec:
        raise CaseFormatError("'range' goes with 'seed', not with 'values'")
    values = _values(spec, dtype, size) if "values" in spec else _drawn(spec, dtype, size)
    grad = spec.get("requires_grad", is_floating(dtype))
    if not isinstance(grad, bool):
        raise CaseFormatError(f"'requires_grad' must be true or false, not {grad!r:.40}")
    structure = spec.get("structure", declared)
    if structure is not None and structure not in STRUCTURES:
        raise CaseFormatError(f"unknown structure {structure!r:.40} (one of {', '.join(STRUCTURES)})")
    structure = structure if applies(structure, tuple(shape)) else None
    return Tensor(dtype, tuple(shape), values.astype(storage_dtype(dtype)), grad and is_floating(dtype), structure)


def _attribute(value: Any) -> Any:
    """An attribute checked for what a call can take: scalars, strings and lists of them, in bounds."""
    leaves = list(_flat(value))
    if len(leaves) > LIMITS["attribute items"]:
        raise over_limit("attribute items", len(leaves))
    for leaf in leaves:
        if isinstance(leaf, dict):
            raise CaseFormatError("a list holds tensor objects and other values: tensors go in a list of tensors only")
        if _integer(leaf) and not INT64[0] <= leaf <= INT64[1]:
            raise CaseFormatError(f"integer attribute {leaf} is outside int64")
        if isinstance(leaf, str) and len(leaf) > LIMITS["string length"]:
            raise over_limit("string length", len(leaf))
    return tuple(value) if isinstance(value, list) else value


def _reference(value: dict) -> Ref:
    """{"ref": [call, output]} as a reference to an earlier call's output (checked by `check_references`)."""
    _refuse_unknown_keys("reference", value, {"ref"})
    pair = value["ref"]
    if not (isinstance(pair, list) and len(pair) == 2 and all(_integer(i) and 0 <= i <= INT64[1] for i in pair)):
        raise CaseFormatError(f'a reference is {{"ref": [call, output]}} with two non-negative integers, not {pair!r:.40}')
    return Ref(pair[0], pair[1])


def _is_tagged(value: Any) -> bool:
    return isinstance(value, dict) and ("fn" in value or "object" in value)


def _tagged(value: dict, library: str) -> Tagged:
    """A tagged attribute ({"fn": ...} or {"object": ..., "kwargs": ...}, see `Tagged`) naming an object of the library."""
    tagged = Tagged.from_json(value)
    if tagged.name.split(".")[0] != library:
        raise CaseFormatError(f"a tagged value names an object of {library}, not {tagged.name!r:.60}")
    for _, v in tagged.kwargs:
        if not isinstance(v, Tagged):
            _attribute(plain_attribute(v))
    return tagged


def _arg(value: Any, declared: str | None, library: str) -> Any:
    if isinstance(value, dict) and "ref" in value:
        return _reference(value)
    if _is_tagged(value) and library in LIBRARIES:
        return Attr(_tagged(value, library))
    if isinstance(value, list) and value and all(_is_tagged(v) for v in value) and library in LIBRARIES:
        return Attr(tuple(_tagged(v, library) for v in value))
    if isinstance(value, dict):
        return _tensor(value, declared)
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        if len(value) > LIMITS["arguments"]:
            raise over_limit("arguments", len(value))
        return TensorList(tuple(_tensor(v, declared) for v in value))
    return Attr(_attribute(value))


def parse_case(obj: Any) -> Case:
    """A case (a single call, or a program under "calls") from its JSON form; `CaseFormatError`
    explains what is wrong."""
    if not isinstance(obj, dict) or "library" not in obj or not ("api" in obj or "calls" in obj):
        raise CaseFormatError("a case is an object with 'library', 'api', 'args' and 'kwargs' (or 'library' and 'calls')")
    _refuse_unknown_keys("program" if "calls" in obj else "case", obj, PROGRAM_KEYS if "calls" in obj else CASE_KEYS)
    library = obj["library"]
    if not isinstance(library, str) or not library:
        raise CaseFormatError(f"'library' must be one of {', '.join(LIBRARIES)}, not {library!r:.40}")
    specs = obj["calls"] if "calls" in obj else [{k: v for k, v in obj.items() if k in CALL_KEYS}]
    if not isinstance(specs, list) or not specs or not all(isinstance(c, dict) for c in specs):
        raise CaseFormatError("'calls' must be a non-empty list of objects with 'api', 'args' and 'kwargs'")
    if len(specs) > LIMITS["calls"]:
        raise over_limit("calls", len(specs))
    first, *then = [_call(library, spec) for spec in specs]
    case = Case(library, first.api, first.api_id, first.template, first.args, first.kwargs, tuple(then))
    check_references(case)
    check_limits(case)
    return case


def _call(library: str, obj: dict) -> Call:
    """One call of a case from its JSON form."""
    _refuse_unknown_keys("call", obj, CALL_KEYS)
    api = obj.get("api")
    if not isinstance(api, str) or not api:
        raise CaseFormatError(f"'api' must be a name such as {library}.sin, not {api!r:.40}")
    if len(api) > LIMITS["string length"]:
        raise over_limit("string length", len(api))
    args, kwargs = obj.get("args", []), obj.get("kwargs", {})
    if not isinstance(args, list) or not isinstance(kwargs, dict):
        raise CaseFormatError("'args' must be a list and 'kwargs' an object")
    if len(args) + len(kwargs) > LIMITS["arguments"]:
        raise over_limit("arguments", len(args) + len(kwargs))
    entry = load_catalog(library).by_name(api) if library in LIBRARIES else None  # others: test doubles
    declared = _declared_structures(library, api, kwargs)
    return Call(
        api=api,
        api_id=entry.id if entry else -1,
        template=-1,
        args=tuple(_arg(a, declared.get(str(i)), library) for i, a in enumerate(args)),
        kwargs=tuple((k, _arg(v, declared.get(k), library)) for k, v in kwargs.items()),
    )


def validate(case: Case) -> None:
    """Refuse a case given to a command (a hand-written one, a decoded case.msgpack) that names no
    library of nabla-atheris or exceeds the caps of `LIMITS`."""
    if case.library not in LIBRARIES:
        raise CaseFormatError(f"unknown library {case.library!r:.40} (one of {', '.join(LIBRARIES)})")
    check_limits(case)


def check_limits(case: Case) -> None:
    """Refuse a case over the caps of `LIMITS`, naming the cap."""
    tensors = case.tensors()
    calls = case.calls()
    if len(calls) > LIMITS["calls"]:
        raise over_limit("calls", len(calls))
    for call in calls:
        if len(call.arguments()) > LIMITS["arguments"]:
            raise over_limit("arguments", len(call.arguments()))
    for t in tensors:
        if len(t.shape) > LIMITS["rank"]:
            raise over_limit("rank", len(t.shape))
    total = sum(math.prod(t.shape) for t in tensors)
    if total > LIMITS["elements"]:
        raise over_limit("elements", total)


def _declared_structures(library: str, api: str, kwargs: dict) -> dict[str, str]:
    """The catalog's declared input spaces of the API's arguments (a triangle resolved by the call's flags)."""
    declared = dict(properties_of(library, api).structures) if library in LIBRARIES else {}
    return {k: resolve(v, kwargs) for k, v in declared.items()}


def _depth(obj: Any) -> int:
    """How deeply JSON arrays and objects nest (iteratively: no recursion limit to hit)."""
    deepest, stack = 0, [(obj, 1)]
    while stack:
        value, level = stack.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        if deepest > LIMITS["nesting"]:
            break
        stack.extend((child, level + 1) for child in children)
    return deepest


def load_case_file(path: Path) -> Case:
    """Read a hand-written JSON case."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > LIMITS["file bytes"]:
            raise over_limit("file bytes", size)
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CaseFormatError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise CaseFormatError(f"{path} is not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CaseFormatError(f"{path} is not JSON: {exc}") from None
    except RecursionError:
        raise over_limit("nesting") from None
    depth = _depth(obj)
    if depth > LIMITS["nesting"]:
        raise over_limit("nesting", depth)
    case = parse_case(obj)
    validate(case)
    return case
