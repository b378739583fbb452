"""The total byte decoder: any byte string becomes a `Case` of a catalog.

Structure (format version, API, template, dtype, dimension sizes, attribute choices, which inputs
are differentiable) is read from the tail of the buffer with `FuzzedDataProvider.ConsumeIntInRange`;
element values are read from the front, a fixed number of bytes per element, so changing a
structural choice does not shift the values and a value byte touches one element only. Optional
parameters (left out by the default call: choice 0) are chosen after the other arguments' structure.
`seed_bytes` writes the bytes that decode to a template's default call. After the first call's
choices, one input in `PROGRAM_ODDS` goes on to one or two further calls, each taking an earlier
call's first output as its first argument (see `_chaining_templates`), fitted to the rank and dtype
guessed for that output (`_fitting`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any, Protocol

import atheris
import numpy as np

from nabla_atheris.case import Attr, Call, Case, Ref, Tensor, TensorList, attribute_values, is_floating, storage_dtype
from nabla_atheris.catalog import ApiEntry, AttrSlot, Catalog, ListSlot, OptionSlot, Template, TensorSlot
from nabla_atheris.catalog.properties import NONE, SORTED_PROMISES, UNIQUE_PROMISES, ApiProperties, promises, properties_of
from nabla_atheris.palette import (
    BYTES_PER_REAL,
    DEFAULT_PATTERN,
    INDEX_REGIME_CHOICES,
    MIXED,
    REGIME_CHOICES,
    decode_real,
    encode_real,
    in_index_regime,
    in_regime,
    index_regime_of,
    regime_of,
)
from nabla_atheris.structures import applies, make_values, resolve

FORMAT_VERSION = 1
VERSION_RANGE = 256  # the format version's choice, the buffer's last byte
MAX_DIM = 8
MAX_RANK = 5
MAX_ELEMENTS = 256
API_ID_RANGE = 1 << 16
TEMPLATE_RANGE = 256

SHAPE_MUTATIONS = 16  # choice 0..13: the template's shape; 14: drop the last dim; 15: append a 1
DIFF_CHOICES = 8  # choice 7 makes a floating tensor non-differentiable
PROGRAM_ODDS = 16  # choice 15 (never read from an exhausted buffer, such as a seed's) makes a program
MAX_FURTHER_CALLS = 2  # a program has up to 3 calls


class Choices(Protocol):
    """Where the decoder's choices and value bytes come from; `key` names what a choice decides
    ("api", "dtype", "dim:N", "shape", "grad", "regime", "index-regime", "attr", "option:NAME")."""

    def choice(self, n: int, key: str = "") -> int: ...

    def value_bytes(self, n: int) -> bytes: ...


class ChoiceReader:
    """Choices from a fuzzer's buffer, via atheris' FuzzedDataProvider."""

    def __init__(self, data: bytes) -> None:
        self._fdp = atheris.FuzzedDataProvider(data)

    def choice(self, n: int, key: str = "") -> int:
        return self._fdp.ConsumeIntInRange(0, n - 1) if n > 1 else 0

    def value_bytes(self, n: int) -> bytes:
        return self._fdp.ConsumeBytes(n)


class ChoiceWriter:
    """Makes the choices `choices` asks for by key (0 otherwise) and lays them out, with the value
    bytes, as `ChoiceReader` reads them."""

    def __init__(self, choices: dict[str, int] | None = None, values: bytes = b"") -> None:
        self._tail: list[int] = []  # in reading order, from the end of the buffer backwards
        self._front = bytearray()
        self._values = values
        self._tail_before_values_end = 0  # tail bytes written up to the last value read
        self.wanted = choices or {}

    def choice(self, n: int, key: str = "") -> int:
        value = min(self.wanted.get(key, 0), n - 1) if n > 1 else 0
        width = (max(n - 1, 0).bit_length() + 7) // 8
        self._tail.extend(value.to_bytes(width, "big") if width else b"")
        return value

    def value_bytes(self, n: int) -> bytes:
        chunk = self._values[len(self._front) : len(self._front) + n]
        self._front.extend(chunk)
        self._tail_before_values_end = len(self._tail)
        return bytes(chunk)

    def buffer(self) -> bytes:
        """The bytes; zero choices made after the last value need none (an exhausted buffer reads 0),
        so a seed ends with its first call's values, as before the program choice followed them."""
        tail = self._tail
        while len(tail) > self._tail_before_values_end and tail[-1] == 0:
            tail = tail[:-1]
        return bytes(self._front) + bytes(reversed(tail))


def _decode_values(src: Choices, dtype: str, count: int, slot: TensorSlot, regime: str = MIXED) -> np.ndarray:
    complex_ = dtype.startswith("complex")
    width = BYTES_PER_REAL * (2 if complex_ else 1)
    raw = src.value_bytes(width * count)
    if is_floating(dtype):
        reals = np.array(
            [decode_real(raw[i * BYTES_PER_REAL : (i + 1) * BYTES_PER_REAL], i) for i in range(count * (2 if complex_ else 1))],
            dtype=np.float64,
        )
        reals = in_regime(reals, regime, slot.domain)
        if complex_:
            reals = reals[0::2] + 1j * reals[1::2]
        with np.errstate(over="ignore"):
            return reals.astype(storage_dtype(dtype))
    span = max(slot.high - slot.low, 1)
    ints = []
    for i in range(count):
        chunk = raw[i * width : (i + 1) * width]
        n = int.from_bytes(chunk[1:3], "little") if len(chunk) == width else i
        ints.append(slot.low + n % span)
    if dtype == "bool":
        return np.array([v % 2 == 1 for v in ints], dtype=bool)
    return np.array(ints, dtype=storage_dtype(dtype))


def _clamp_shape(shape: list[int]) -> tuple[int, ...]:
    shape = [min(max(d, 0), MAX_DIM) for d in shape[:MAX_RANK]]
    while math.prod(shape) > MAX_ELEMENTS:
        biggest = shape.index(max(shape))
        shape[biggest] = shape[biggest] // 2
    return tuple(shape)


class _CaseBuilder:
    """Walks a template, taking each choice from `src` in a fixed order; the API's declared
    properties give structured values, unique indices and parameters that are not inputs."""

    def __init__(self, src: Choices, template: Template, properties: ApiProperties = NONE) -> None:
        self.src = src
        self.template = template
        self.properties = properties
        self.dtype = template.dtypes[src.choice(len(template.dtypes), "dtype")]
        self.dims: dict[str, int] = {}
        for name, _default in template.dims:
            self.dims[name] = src.choice(MAX_DIM + 1, f"dim:{name}")
        self.pending: list[tuple[Tensor, TensorSlot, str, str]] = []  # tensor, slot, argument name, value regime

    def shape(self, slot: TensorSlot) -> tuple[int, ...]:
        shape = [self.dims[d] if isinstance(d, str) else int(d) for d in slot.shape]
        mutation = self.src.choice(SHAPE_MUTATIONS, "shape")
        if mutation == SHAPE_MUTATIONS - 2 and shape:
            shape.pop()
        elif mutation == SHAPE_MUTATIONS - 1:
            shape.append(1)
        return _clamp_shape(shape)

    def tensor(self, slot: TensorSlot, name: str) -> Tensor:
        dtype = slot.dtype or self.dtype
        shape = self.shape(slot)
        differentiable, regime = False, MIXED
        if is_floating(dtype):
            differentiable = self.src.choice(DIFF_CHOICES, "grad") != DIFF_CHOICES - 1
            regime = regime_of(self.src.choice(REGIME_CHOICES, "regime"))
        parameter = name in self.properties.nondifferentiable or name in self.properties.labels
        placeholder = Tensor(dtype, shape, np.zeros(0), differentiable and not parameter)
        self.pending.append((placeholder, slot, name, regime))
        return placeholder

    def arg(self, slot: Any, name: str) -> Any:
        if isinstance(slot, TensorSlot):
            return self.tensor(slot, name)
        if isinstance(slot, ListSlot):
            return TensorList(tuple(self.tensor(s, name) for s in slot.items))
        assert isinstance(slot, AttrSlot)
        options = slot.candidates()
        return Attr(options[self.src.choice(len(options), "attr")])

    def fill_values(self, flags: dict[str, Any]) -> dict[int, tuple[np.ndarray, str | None]]:
        """Read the element values of every tensor, in call order, from the value region, and put them
        in the argument's declared space (`flags`: the call's keyword attributes, for its triangle and
        the order or uniqueness its integer tensors are promised to have). Each integer tensor's regime
        is chosen after the call's values, so that a seed (whose bytes end with its values) decodes as
        before there were integer regimes."""
        decoded = []
        for t, slot, name, regime in self.pending:
            declared = self.properties.domains.get(name)
            slot = dataclasses.replace(slot, domain=declared) if declared else slot
            decoded.append((t, slot, name, _decode_values(self.src, t.dtype, math.prod(t.shape), slot, regime)))
        unique = self.properties.unique_indices or promises(flags, UNIQUE_PROMISES)
        ordered = promises(flags, SORTED_PROMISES)
        filled = {}
        for t, slot, name, values in decoded:
            structure = resolve(self.properties.structures.get(name), flags)
            if self.properties.labels.get(name) == "sign" and is_floating(t.dtype):
                values = np.where(np.real(values) >= 0, 1.0, -1.0).astype(values.dtype)
            elif structure is not None and applies(structure, t.shape) and is_floating(t.dtype):
                values = make_values(values.reshape(t.shape), structure).astype(values.dtype).ravel()
            elif not is_floating(t.dtype) and t.dtype != "bool":
                values = self._index_values(values.reshape(t.shape), slot, unique, ordered).ravel()
            filled[id(t)] = (values, structure if applies(structure, t.shape) else None)
        return filled

    def _index_values(self, values: np.ndarray, slot: TensorSlot, unique: bool, ordered: bool) -> np.ndarray:
        """An integer tensor's values in the regime its next choice names, then made distinct and
        sorted where the API, the call or the template requires it."""
        regime = index_regime_of(self.src.choice(INDEX_REGIME_CHOICES, "index-regime"))
        signed = values.dtype.kind != "u"
        values = in_index_regime(values, regime, slot.low, slot.high, signed).astype(values.dtype)
        if unique:
            values = _unique(values, slot)
        if ordered or slot.ascending:
            values = np.sort(values, axis=None).reshape(values.shape)  # row-major order: a unique tensor stays unique
        return values

    def options(self, slots: tuple[tuple[str, Any], ...]) -> list[tuple[str, Any]]:
        """The optional parameters the input passes (choice 0 leaves one out), in template order."""
        passed = []
        for name, slot in slots:
            pick = self.src.choice(len(slot.choices) + 1, f"option:{name}")
            if pick:
                passed.append((name, self.arg(slot.choices[pick - 1], name)))
        return passed


def _unique(values: np.ndarray, slot: TensorSlot) -> np.ndarray:
    """Integer values made distinct within the slot's range (each repeat moves to the next free value)
    over the largest trailing block of dimensions the range has room for (the whole tensor, a plane of
    max_unpool's indices, a row)."""
    span = slot.high - slot.low
    if values.ndim == 0 or values.size == 0 or values.dtype == bool or values.shape[-1] > span:
        return values
    block = values.shape[-1]
    for size in reversed(values.shape[:-1]):
        if block * size > span:
            break
        block *= size
    rows = values.reshape(-1, block).copy()
    for row in rows:
        taken: set[int] = set()
        for i, v in enumerate(row.tolist()):
            while v in taken:
                v = slot.low + (v - slot.low + 1) % span
            taken.add(v)
            row[i] = v
    return rows.reshape(values.shape)


def _with_values(arg: Any, values: dict[int, tuple[np.ndarray, str | None]]) -> Any:
    if isinstance(arg, Tensor):
        data, structure = values[id(arg)]
        return Tensor(arg.dtype, arg.shape, data, arg.differentiable, structure)
    if isinstance(arg, TensorList):
        return TensorList(tuple(_with_values(t, values) for t in arg.items))
    return arg


def decode_from(src: Choices, catalog: Catalog) -> Case:
    """Build a case from a source of choices (the decoder and the seed writer share this walk): one
    call, and for one input in `PROGRAM_ODDS` further calls that take an earlier call's output."""
    src.choice(VERSION_RANGE, "version")  # the format version; every value decodes with the current format
    entry = catalog.by_id(src.choice(API_ID_RANGE, "api"))
    template_index = src.choice(TEMPLATE_RANGE, "template") % len(entry.templates)
    first = _decode_call(src, catalog, entry, template_index)
    case = Case(catalog.library, first.api, first.api_id, first.template, first.args, first.kwargs)
    # Read after the first call, so an input without this choice (every seed) decodes as before programs.
    chaining = _chaining_templates(catalog) if src.choice(PROGRAM_ODDS, "program") == PROGRAM_ODDS - 1 else []
    further: list[Call] = []
    outputs = [_output_guess(first)]  # per call, the rank and dtype its first output likely has
    for index in range(1, 2 + src.choice(MAX_FURTHER_CALLS, "further")) if chaining else ():
        pick = src.choice(API_ID_RANGE, f"api:{index}") % len(chaining)
        produced = Ref(src.choice(index, f"ref:{index}"), 0)
        entry, template_index = chaining[_fitting(chaining, pick, outputs[produced.call])]
        further.append(_decode_call(src, catalog, entry, template_index, produced))
        outputs.append(outputs[produced.call])
    return dataclasses.replace(case, then=tuple(further)) if further else case


def _output_guess(call: Call) -> tuple[int, str] | None:
    """The rank and dtype of a first call's first output as the catalog lets the decoder guess them
    before running: its first floating tensor argument's (elementwise functions, activations and
    normalizations keep both; a later call passes its input's on). None: no floating tensor."""
    tensor = next((a for a in call.args if isinstance(a, Tensor) and is_floating(a.dtype)), None)
    return (len(tensor.shape), tensor.dtype) if tensor is not None else None


def _fitting(chaining: list[tuple[ApiEntry, int]], pick: int, output: tuple[int, str] | None) -> int:
    """The first (API, template) pair from `pick` on whose first argument takes the guessed output: a
    tensor slot of its rank or less (elementwise functions take any rank; a template validated on a
    higher rank, or without the output's dtype, mostly refuses it: 'Dimension out of range',
    'expected a matrix', 'Unsupported dtype Half'); `pick` itself when none does or nothing is guessed,
    so a pick that fits decodes as it did before the guess."""
    if output is None:
        return pick
    rank, dtype = output
    for step in range(len(chaining)):
        entry, index = chaining[(pick + step) % len(chaining)]
        template = entry.templates[index]
        slot = template.args[0]
        assert isinstance(slot, TensorSlot)  # a chaining template's first argument
        if len(slot.shape) <= rank and (slot.dtype == dtype if slot.dtype else dtype in template.dtypes):
            return (pick + step) % len(chaining)
    return pick


def _decode_call(src: Choices, catalog: Catalog, entry: ApiEntry, template_index: int, produced: Ref | None = None) -> Call:
    """One call of a template; `produced` (an earlier call's output) takes the first argument's place."""
    template = entry.templates[template_index]
    builder = _CaseBuilder(src, template, properties_of(catalog.library, entry.name))
    slots = template.args[1:] if produced else template.args
    args = (produced,) if produced else ()
    args += tuple(builder.arg(s, str(i)) for i, s in enumerate(slots, start=len(args)))
    kwargs = tuple((name, builder.arg(s, name)) for name, s in template.kwargs if not isinstance(s, OptionSlot))
    kwargs += tuple(builder.options(tuple((name, s) for name, s in template.kwargs if isinstance(s, OptionSlot))))
    values = builder.fill_values(attribute_values(kwargs))
    return Call(
        api=entry.name,
        api_id=entry.id,
        template=template_index,
        args=tuple(_with_values(a, values) for a in args),
        kwargs=tuple((k, _with_values(a, values)) for k, a in kwargs),
    )


_CHAINING: dict[int, tuple[Catalog, list[tuple[ApiEntry, int]]]] = {}


def _chaining_templates(catalog: Catalog) -> list[tuple[ApiEntry, int]]:
    """The (API, template) pairs that take an earlier output: a floating first argument and no other
    tensor (elementwise functions, activations, reductions, normalizations without weights) that
    declares no space for that argument (a structure, a domain, a label or a parameter: an earlier
    output is not drawn there; the oracle combines the calls' other properties). The output's shape
    is not known before running: one the call refuses is filtered as an invalid input."""
    cached = _CHAINING.get(id(catalog))
    if cached is None or cached[0] is not catalog:
        pairs = [
            (entry, index)
            for entry in catalog.apis.values()
            for index, template in enumerate(entry.templates)
            if _takes_one_floating_tensor(template) and not properties_of(catalog.library, entry.name).declares_space("0")
        ]
        cached = _CHAINING[id(catalog)] = (catalog, sorted(pairs, key=lambda pair: (pair[0].id, pair[1])))
    return cached[1]


def _takes_one_floating_tensor(template: Template) -> bool:
    if not template.args or not isinstance(template.args[0], TensorSlot):
        return False
    dtype = template.args[0].dtype
    others = [*template.args[1:], *(slot for _, slot in template.kwargs)]
    others += [choice for s in others if isinstance(s, OptionSlot) for choice in s.choices]
    return (dtype is None or is_floating(dtype)) and not any(isinstance(s, (TensorSlot, ListSlot)) for s in others)


def decode_bytes(data: bytes, catalog: Catalog) -> Case:
    """The decoder: total, deterministic, local."""
    return decode_from(ChoiceReader(data), catalog)


def seed_bytes(catalog: Catalog, api_id: int, template_index: int, choices: dict[str, int] | None = None) -> bytes:
    """Bytes that decode to the template's default call (default dims, dtype and attributes), with
    the further `choices` by key (`{"option:weight": 1}` passes an optional parameter's first value)."""
    return _default_call_bytes(catalog, api_id, template_index, choices or {})


def program_seed_bytes(catalog: Catalog, apis: Sequence[str]) -> bytes:
    """Bytes that decode to a chain of 2 or 3 calls: the default call of the first API's first template
    that lets the chain form, then each further API's first template that takes an earlier output
    (`_chaining_templates`) and fits the one it takes (`_fitting`), taking the call before's output."""
    if not 2 <= len(apis) <= MAX_FURTHER_CALLS + 1:
        raise ValueError(f"a program seed has 2 to {MAX_FURTHER_CALLS + 1} calls, not {len(apis)}")
    chaining = [entry.name for entry, _ in _chaining_templates(catalog)]
    for api in apis[1:]:
        if api not in chaining:
            raise ValueError(f"{api} has no template that takes an earlier output")
    first = catalog.by_name(apis[0])
    for template in range(len(first.templates)):
        wanted = _chain_choices(catalog, chaining, apis, first.id, template)
        if wanted is not None:
            return _default_call_bytes(catalog, first.id, template, wanted)
    raise ValueError(f"no template of {apis[0]} gives an output that {' then '.join(apis[1:])} take")


def _chain_choices(
    catalog: Catalog, chaining: list[str], apis: Sequence[str], first: int, template: int
) -> dict[str, int] | None:
    """The program choices of a chain after the first API's `template`, each later API's first pick
    that decodes to it (None: one decodes to no pick of its API)."""
    wanted = {"program": PROGRAM_ODDS - 1, "further": len(apis) - 2}
    start = {"version": FORMAT_VERSION, "api": first, "template": template}
    for index, api in enumerate(apis[1:], start=1):
        wanted[f"ref:{index}"] = index - 1
        for pick in (pick for pick, name in enumerate(chaining) if name == api):
            wanted[f"api:{index}"] = pick
            if decode_from(ChoiceWriter({**start, **wanted}), catalog).apis()[index] == api:
                break
        else:
            return None
    return wanted


def _default_call_bytes(catalog: Catalog, api_id: int, template_index: int, further: dict[str, int]) -> bytes:
    entry = catalog.by_id(api_id)
    template = entry.templates[template_index]
    wanted = {"version": FORMAT_VERSION, "api": api_id, "template": template_index, **further}
    wanted.update({f"dim:{name}": size for name, size in template.dims})
    value_count = _count_reals(catalog, wanted)
    values = b"".join(encode_real(DEFAULT_PATTERN[i % len(DEFAULT_PATTERN)]) for i in range(value_count))
    writer = ChoiceWriter(wanted, values)
    decode_from(writer, catalog)
    return writer.buffer()


def _count_reals(catalog: Catalog, wanted: dict[str, int]) -> int:
    writer = ChoiceWriter(wanted)
    case = decode_from(writer, catalog)
    return sum(t.size * (2 if t.dtype.startswith("complex") else 1) for t in case.tensors())
