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
tensors; any other JSON value is an attribute. Unknown keys are an error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from nabla_atheris.backends import LIBRARIES
from nabla_atheris.case import DTYPES, Attr, Case, CaseFormatError, Tensor, TensorList, is_floating, storage_dtype
from nabla_atheris.catalog import load_catalog
from nabla_atheris.catalog.properties import properties_of
from nabla_atheris.structures import STRUCTURES, applies, resolve

CASE_KEYS = {"library", "api", "args", "kwargs"}
TENSOR_KEYS = {"dtype", "shape", "values", "seed", "range", "requires_grad", "structure"}


def _tensor(spec: dict, declared: str | None = None) -> Tensor:
    unknown = set(spec) - TENSOR_KEYS
    if unknown:
        raise CaseFormatError(f"unknown tensor key(s) {', '.join(sorted(unknown))} (known: {', '.join(sorted(TENSOR_KEYS))})")
    dtype, shape = spec.get("dtype"), spec.get("shape")
    if dtype not in DTYPES:
        raise CaseFormatError(f"unknown dtype {dtype!r} (one of {', '.join(DTYPES)})")
    if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise CaseFormatError(f"shape must be a list of non-negative ints, not {shape!r}")
    size = int(np.prod(shape, dtype=np.int64))
    if "values" in spec:
        raw = np.asarray(spec["values"], dtype=np.float64).reshape(-1, 2) if dtype.startswith("complex") else None
        values = raw[:, 0] + 1j * raw[:, 1] if raw is not None else np.asarray(spec["values"]).ravel()
    elif "seed" in spec:
        rng = np.random.default_rng(int(spec["seed"]))
        if is_floating(dtype):
            values = rng.uniform(-1, 1, size) + (1j * rng.uniform(-1, 1, size) if dtype.startswith("complex") else 0)
        else:
            low, high = spec.get("range", (0, 2 if dtype == "bool" else 4))
            values = rng.integers(low, high, size)
    else:
        raise CaseFormatError("a tensor needs 'values' or 'seed'")
    if values.size != size:
        raise CaseFormatError(f"shape {shape} needs {size} values, got {values.size}")
    grad = bool(spec.get("requires_grad", is_floating(dtype)))
    structure = spec.get("structure", declared)
    if structure not in (None, *STRUCTURES):
        raise CaseFormatError(f"unknown structure {structure!r} (one of {', '.join(STRUCTURES)})")
    structure = structure if applies(structure, tuple(shape)) else None
    return Tensor(dtype, tuple(shape), values.astype(storage_dtype(dtype)), grad and is_floating(dtype), structure)


def _arg(value: Any, declared: str | None) -> Any:
    if isinstance(value, dict):
        return _tensor(value, declared)
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return TensorList(tuple(_tensor(v, declared) for v in value))
    return Attr(tuple(value) if isinstance(value, list) else value)


def parse_case(obj: Any) -> Case:
    """A case from its JSON form; `CaseFormatError` explains what is wrong."""
    if not isinstance(obj, dict) or "library" not in obj or "api" not in obj:
        raise CaseFormatError("a case is an object with 'library', 'api', 'args' and 'kwargs'")
    unknown = set(obj) - CASE_KEYS
    if unknown:
        raise CaseFormatError(f"unknown case key(s) {', '.join(sorted(unknown))} (known: {', '.join(sorted(CASE_KEYS))})")
    library, api = str(obj["library"]), str(obj["api"])
    try:
        entry = load_catalog(library).by_name(api)
    except CaseFormatError:
        entry = None
    args = obj.get("args", [])
    kwargs = obj.get("kwargs", {})
    if not isinstance(args, list) or not isinstance(kwargs, dict):
        raise CaseFormatError("'args' must be a list and 'kwargs' an object")
    declared = _declared_structures(library, api, kwargs)
    return Case(
        library=library,
        api=api,
        api_id=entry.id if entry else -1,
        template=-1,
        args=tuple(_arg(a, declared.get(str(i))) for i, a in enumerate(args)),
        kwargs=tuple((str(k), _arg(v, declared.get(str(k)))) for k, v in kwargs.items()),
    )


def _declared_structures(library: str, api: str, kwargs: dict) -> dict[str, str]:
    """The catalog's declared input spaces of the API's arguments (a triangle resolved by the call's flags)."""
    declared = dict(properties_of(library, api).structures) if library in LIBRARIES else {}
    return {k: resolve(v, kwargs) for k, v in declared.items()}


def load_case_file(path: Path) -> Case:
    """Read a hand-written JSON case."""
    try:
        obj = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise CaseFormatError(f"cannot read {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise CaseFormatError(f"{path} is not JSON: {exc}") from None
    return parse_case(obj)
