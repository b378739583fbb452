"""The `Case`: one API call with concrete tensor and attribute arguments, and its msgpack codec."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

import msgpack
import numpy as np

from nabla_atheris.structures import STRUCTURES

CODEC_VERSION = 1

FLOAT_DTYPES = ("float16", "bfloat16", "float32", "float64")
COMPLEX_DTYPES = ("complex64", "complex128")
INT_DTYPES = ("int8", "int16", "int32", "int64", "uint8")
DTYPES = FLOAT_DTYPES + COMPLEX_DTYPES + INT_DTYPES + ("bool",)


class CaseFormatError(ValueError):
    """Raised when bytes or JSON do not hold a valid case."""


def is_floating(dtype: str) -> bool:
    """True for real and complex floating-point dtypes (the differentiable ones)."""
    return dtype in FLOAT_DTYPES or dtype in COMPLEX_DTYPES


def storage_dtype(dtype: str) -> np.dtype:
    """The numpy dtype that holds a tensor's values exactly (half types widen to float32)."""
    if dtype in ("float16", "bfloat16"):
        return np.dtype("float32")
    return np.dtype(dtype)


@dataclass(frozen=True, eq=False)
class Tensor:
    """A tensor argument: dtype, shape and row-major values; floating tensors may be differentiable.
    `structure` names the input space the API reads it in (see `structures`: "hermitian", "lower" ...)."""

    dtype: str
    shape: tuple[int, ...]
    values: np.ndarray
    differentiable: bool = False
    structure: str | None = None

    def array(self) -> np.ndarray:
        """The values as a numpy array of the tensor's shape."""
        return self.values.reshape(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))


@dataclass(frozen=True)
class Attr:
    """A non-tensor argument (int, float, bool, str, None or a list of them)."""

    value: Any


@dataclass(frozen=True, eq=False)
class TensorList:
    """A list of tensors passed as one argument (e.g. to `torch.cat`)."""

    items: tuple[Tensor, ...]


Arg = Union[Tensor, Attr, TensorList]


@dataclass(frozen=True, eq=False)
class Case:
    """One call: which API and template it came from, and its positional and keyword arguments."""

    library: str
    api: str
    api_id: int
    template: int
    args: tuple[Arg, ...]
    kwargs: tuple[tuple[str, Arg], ...] = ()

    def tensors(self) -> list[Tensor]:
        """All tensor arguments in call order (positional first, list items flattened)."""
        out: list[Tensor] = []
        for arg in list(self.args) + [a for _, a in self.kwargs]:
            if isinstance(arg, Tensor):
                out.append(arg)
            elif isinstance(arg, TensorList):
                out.extend(arg.items)
        return out

    def differentiable(self) -> list[Tensor]:
        """The tensors that are differentiated."""
        return [t for t in self.tensors() if t.differentiable]

    def float_dtypes(self) -> list[str]:
        return [t.dtype for t in self.tensors() if is_floating(t.dtype)]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Case) and encode(self) == encode(other)

    def __hash__(self) -> int:
        return hash(encode(self))


def _pack_arg(arg: Arg) -> dict:
    if isinstance(arg, Tensor):
        data = np.ascontiguousarray(arg.values, dtype=storage_dtype(arg.dtype).newbyteorder("<"))
        packed = {"t": arg.dtype, "s": list(arg.shape), "d": data.tobytes(), "g": arg.differentiable}
        return packed if arg.structure is None else {**packed, "st": arg.structure}
    if isinstance(arg, TensorList):
        return {"l": [_pack_arg(t) for t in arg.items]}
    return {"a": arg.value}


def _unpack_arg(obj: Any) -> Arg:
    if not isinstance(obj, dict):
        raise CaseFormatError(f"argument is not a map: {obj!r:.60}")
    if "t" in obj:
        dtype, shape = obj["t"], tuple(int(d) for d in obj["s"])
        if dtype not in DTYPES or any(d < 0 for d in shape):
            raise CaseFormatError(f"bad tensor dtype or shape: {dtype} {shape}")
        values = np.frombuffer(obj["d"], dtype=storage_dtype(dtype).newbyteorder("<")).astype(storage_dtype(dtype))
        if values.size != int(np.prod(shape, dtype=np.int64)):
            raise CaseFormatError(f"tensor of shape {shape} holds {values.size} values")
        structure = obj.get("st")
        if structure is not None and structure not in STRUCTURES:
            raise CaseFormatError(f"unknown input structure {structure!r}")
        return Tensor(dtype, shape, values, bool(obj["g"]), structure)
    if "l" in obj:
        items = tuple(_unpack_arg(t) for t in obj["l"])
        if not all(isinstance(t, Tensor) for t in items):
            raise CaseFormatError("a tensor list holds a non-tensor")
        return TensorList(items)  # type: ignore[arg-type]
    if "a" in obj:
        return Attr(_freeze(obj["a"]))
    raise CaseFormatError(f"unknown argument kind: {sorted(obj)!r}")


def _freeze(value: Any) -> Any:
    return tuple(_freeze(v) for v in value) if isinstance(value, (list, tuple)) else value


def encode(case: Case) -> bytes:
    """Serialize a case to versioned msgpack bytes."""
    return msgpack.packb(
        {
            "v": CODEC_VERSION,
            "library": case.library,
            "api": case.api,
            "api_id": case.api_id,
            "template": case.template,
            "args": [_pack_arg(a) for a in case.args],
            "kwargs": [[k, _pack_arg(a)] for k, a in case.kwargs],
        },
        use_bin_type=True,
    )


def decode(data: bytes) -> Case:
    """Parse bytes written by `encode`; raise `CaseFormatError` on anything else."""
    try:
        obj = msgpack.unpackb(data, raw=False, strict_map_key=False)
    except Exception as exc:  # msgpack raises several unrelated types
        raise CaseFormatError(f"not a msgpack case ({type(exc).__name__})") from None
    if not isinstance(obj, dict) or obj.get("v") != CODEC_VERSION:
        raise CaseFormatError(f"not a case of codec version {CODEC_VERSION}")
    try:
        return Case(
            library=str(obj["library"]),
            api=str(obj["api"]),
            api_id=int(obj["api_id"]),
            template=int(obj["template"]),
            args=tuple(_unpack_arg(a) for a in obj["args"]),
            kwargs=tuple((str(k), _unpack_arg(a)) for k, a in obj["kwargs"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, CaseFormatError):
            raise
        raise CaseFormatError(f"malformed case: {exc}") from None
