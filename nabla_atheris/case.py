"""The `Case`: one API call with concrete tensor and attribute arguments, or a program of several
calls where an argument of a later call is an output of an earlier one (a `Ref`), and its msgpack
codec. A single call encodes as it always did; a program adds its further calls under "then"."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Union

import msgpack
import numpy as np

from nabla_atheris.structures import STRUCTURES

CODEC_VERSION = 1
PROGRAM_ARROW = " -> "  # between the APIs of a program's name

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


_DOTTED = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+")
TAG_FORMS = '{"fn": "lib.name"} or {"object": "lib.Name", "kwargs": {...}}'


@dataclass(frozen=True)
class Tagged:
    """An attribute JSON has no literal for: a library function (`{"fn": "jax.lax.add"}`, a reduction's
    computation) or a library object built from keyword attributes (`{"object":
    "jax.lax.GatherDimensionNumbers", "kwargs": {"offset_dims": [1], ...}}`); lists become tuples, a
    keyword's value may be tagged itself. The backend resolves the name within its library."""

    tag: str  # "fn" or "object"
    name: str
    kwargs: tuple[tuple[str, Any], ...] = ()

    @staticmethod
    def from_json(obj: dict) -> Tagged:
        """The tagged value of its JSON form; `CaseFormatError` (one line) for anything else."""
        tag = "fn" if "fn" in obj else "object"
        known = {"fn"} if tag == "fn" else {"object", "kwargs"}
        if tag not in obj or set(obj) - known:
            raise CaseFormatError(f"a tagged value is {TAG_FORMS}, not one with keys {sorted(map(str, obj))!r:.80}")
        name, kwargs = obj[tag], obj.get("kwargs", {})
        if not isinstance(name, str) or not _DOTTED.fullmatch(name):
            raise CaseFormatError(f"a tagged value's {tag!r} is a dotted name such as jax.lax.add, not {name!r:.40}")
        if not isinstance(kwargs, dict) or not all(isinstance(k, str) and k.isidentifier() for k in kwargs):
            raise CaseFormatError(f"a tagged value's 'kwargs' maps parameter names to values, not {kwargs!r:.40}")
        return Tagged(tag, name, tuple((k, freeze_attribute(v)) for k, v in kwargs.items()))

    def to_json(self) -> dict:
        """The JSON form (lists for tuples)."""
        if self.tag == "fn":
            return {"fn": self.name}
        return {"object": self.name, "kwargs": {k: plain_attribute(v) for k, v in self.kwargs}}

    def build(self, resolve: Callable[[str], Any]) -> Any:
        """The library's function or object (`resolve`: a dotted name's object in the library)."""
        target = resolve(self.name)
        if self.tag == "fn":
            return target
        return target(**{k: build_tagged(v, resolve) for k, v in self.kwargs})

    def source(self, literal: Callable[[Any], str]) -> str:
        """Python source that builds it, as a reproducer writes it (`literal`: a plain value's source)."""
        if self.tag == "fn":
            return self.name
        return f"{self.name}({', '.join(f'{k}={literal(v)}' for k, v in self.kwargs)})"


def holds_tagged(value: Any) -> bool:
    """Is the attribute a tagged value, or a list holding one (`jax.lax.switch`'s branches)?"""
    return isinstance(value, Tagged) or (isinstance(value, tuple) and any(holds_tagged(v) for v in value))


def build_tagged(value: Any, resolve: Callable[[str], Any]) -> Any:
    """The attribute with its tagged values built (see `Tagged.build`), lists as tuples."""
    if isinstance(value, Tagged):
        return value.build(resolve)
    return tuple(build_tagged(v, resolve) for v in value) if isinstance(value, tuple) else value


@dataclass(frozen=True)
class Attr:
    """A non-tensor argument (int, float, bool, str, None or a list of them, or a `Tagged` value)."""

    value: Any


@dataclass(frozen=True, eq=False)
class TensorList:
    """A list of tensors passed as one argument (e.g. to `torch.cat`)."""

    items: tuple[Tensor, ...]


@dataclass(frozen=True)
class Ref:
    """An argument that is output `output` (of the call's flattened outputs) of the program's earlier
    call `call` (0 is the first call)."""

    call: int
    output: int


Arg = Union[Tensor, Attr, TensorList, Ref]


@dataclass(frozen=True, eq=False)
class Call:
    """One API call of a program: which API and template it came from, and its arguments."""

    api: str
    api_id: int
    template: int
    args: tuple[Arg, ...]
    kwargs: tuple[tuple[str, Arg], ...] = ()

    def arguments(self) -> list[Arg]:
        """The positional, then the keyword arguments."""
        return list(self.args) + [a for _, a in self.kwargs]


@dataclass(frozen=True, eq=False)
class Case:
    """One call: which API and template it came from, and its positional and keyword arguments; a
    program's further calls follow in `then` (its outputs are the last call's)."""

    library: str
    api: str
    api_id: int
    template: int
    args: tuple[Arg, ...]
    kwargs: tuple[tuple[str, Arg], ...] = ()
    then: tuple[Call, ...] = ()

    def calls(self) -> tuple[Call, ...]:
        """The calls in the order they run: the case's own call first."""
        return (Call(self.api, self.api_id, self.template, self.args, self.kwargs), *self.then)

    def apis(self) -> list[str]:
        """The APIs of the calls, in order."""
        return [self.api, *(c.api for c in self.then)]

    def name(self) -> str:
        """What a finding on this case is named by: its API, or a program's APIs in call order
        joined by `PROGRAM_ARROW` (`torch.sin -> torch.tanh`)."""
        return PROGRAM_ARROW.join(self.apis()) if self.then else self.api

    def with_calls(self, calls: Sequence[Call]) -> Case:
        """This case's library with other calls (at least one; references as they are)."""
        first, *rest = calls
        return Case(self.library, first.api, first.api_id, first.template, first.args, first.kwargs, tuple(rest))

    def tensors(self) -> list[Tensor]:
        """All tensor arguments of all calls in call order (positional first, list items flattened)."""
        out: list[Tensor] = []
        arguments = [*self.args, *(a for _, a in self.kwargs), *(a for c in self.then for a in c.arguments())]
        for arg in arguments:
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


def attribute_values(kwargs: Sequence[tuple[str, Arg]]) -> dict[str, Any]:
    """A call's keyword attributes by name, as plain values (its flags: upper=, indices_are_sorted= ...)."""
    return {name: a.value for name, a in kwargs if isinstance(a, Attr)}


def _pack_arg(arg: Arg) -> dict:
    if isinstance(arg, Tensor):
        data = np.ascontiguousarray(arg.values, dtype=storage_dtype(arg.dtype).newbyteorder("<"))
        packed = {"t": arg.dtype, "s": list(arg.shape), "d": data.tobytes(), "g": arg.differentiable}
        return packed if arg.structure is None else {**packed, "st": arg.structure}
    if isinstance(arg, TensorList):
        return {"l": [_pack_arg(t) for t in arg.items]}
    if isinstance(arg, Ref):
        return {"r": [arg.call, arg.output]}
    return {"a": plain_attribute(arg.value)}


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
        return Attr(freeze_attribute(obj["a"]))
    if "r" in obj:
        call, output = (int(i) for i in obj["r"])
        return Ref(call, output)
    raise CaseFormatError(f"unknown argument kind: {sorted(obj)!r}")


def freeze_attribute(value: Any) -> Any:
    """A JSON or msgpack attribute as a hashable value: lists as tuples, objects as `Tagged` values."""
    if isinstance(value, dict):
        return Tagged.from_json(value)
    return tuple(freeze_attribute(v) for v in value) if isinstance(value, (list, tuple)) else value


def plain_attribute(value: Any) -> Any:
    """An attribute as msgpack and JSON write it (`Tagged` values as their JSON objects)."""
    if isinstance(value, Tagged):
        return value.to_json()
    return [plain_attribute(v) for v in value] if isinstance(value, tuple) else value


def check_references(case: Case) -> None:
    """Refuse a reference that is not to an output of an earlier call (one in the first call, to the
    call itself or a later one, a negative index); whether the output exists shows when it runs."""
    for index, call in enumerate(case.calls()):
        for arg in call.arguments():
            if not isinstance(arg, Ref):
                continue
            if index == 0:
                raise CaseFormatError(f"the first call ({call.api}) has no earlier call whose output it could take")
            if not 0 <= arg.call < index or arg.output < 0:
                raise CaseFormatError(
                    f"call {index} ({call.api}) refers to output {arg.output} of call {arg.call}: "
                    f"a reference names an earlier call (0 to {index - 1}) and an output index from 0"
                )


class BadReference(CaseFormatError):
    """A reference to an output the earlier call does not have (found when the program runs)."""


def referenced(results: list[Any], ref: Ref, flatten: Callable[[Any], Sequence[Any]]) -> Any:
    """The earlier output `ref` names, from the calls' results so far (`flatten` lists a result's outputs)."""
    outputs = flatten(results[ref.call])
    if ref.output >= len(outputs):
        raise BadReference(f"a reference names output {ref.output} of call {ref.call}, which has {len(outputs)} output(s)")
    return outputs[ref.output]


def _pack_call(call: Call) -> dict:
    return {
        "api": call.api,
        "api_id": call.api_id,
        "template": call.template,
        "args": [_pack_arg(a) for a in call.args],
        "kwargs": [[k, _pack_arg(a)] for k, a in call.kwargs],
    }


def _unpack_call(obj: dict) -> Call:
    return Call(
        api=str(obj["api"]),
        api_id=int(obj["api_id"]),
        template=int(obj["template"]),
        args=tuple(_unpack_arg(a) for a in obj["args"]),
        kwargs=tuple((str(k), _unpack_arg(a)) for k, a in obj["kwargs"]),
    )


def encode(case: Case) -> bytes:
    """Serialize a case to versioned msgpack bytes (a single call's bytes do not depend on programs)."""
    first = {"v": CODEC_VERSION, "library": case.library, **_pack_call(case.calls()[0])}
    then = {"then": [_pack_call(c) for c in case.then]} if case.then else {}
    return msgpack.packb({**first, **then}, use_bin_type=True)


def decode(data: bytes) -> Case:
    """Parse bytes written by `encode`; raise `CaseFormatError` on anything else."""
    try:
        obj = msgpack.unpackb(data, raw=False, strict_map_key=False)
    except Exception as exc:  # msgpack raises several unrelated types
        raise CaseFormatError(f"not a msgpack case ({type(exc).__name__})") from None
    if not isinstance(obj, dict) or obj.get("v") != CODEC_VERSION:
        raise CaseFormatError(f"not a case of codec version {CODEC_VERSION}")
    try:
        first = _unpack_call(obj)
        then = tuple(_unpack_call(c) for c in obj.get("then", ()))
        case = Case(str(obj["library"]), first.api, first.api_id, first.template, first.args, first.kwargs, then)
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, CaseFormatError):
            raise
        raise CaseFormatError(f"malformed case: {exc}") from None
    check_references(case)
    return case
