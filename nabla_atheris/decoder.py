"""The total byte decoder: any byte string becomes a `Case` of a catalog.

Structure (format version, API, template, dtype, dimension sizes, attribute choices, which inputs
are differentiable) is read from the tail of the buffer with `FuzzedDataProvider.ConsumeIntInRange`;
element values are read from the front, a fixed number of bytes per element, so changing a
structural choice does not shift the values and a value byte touches one element only. Optional
parameters (left out by the default call: choice 0) are chosen after the other arguments' structure.
`seed_bytes` writes the bytes that decode to a template's default call. After the first call's
choices, one input in `PROGRAM_ODDS` goes on to one or two further calls, each taking an earlier
call's first output in one floating tensor slot (see `_chaining_templates`), fitted to the shape and
dtype guessed for that output (`_fitting`, `_CaseBuilder.fit`); a call of several tensors may take
a second earlier output in another slot of the same declared shape (`_Link`).
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
from nabla_atheris.catalog.properties import (
    NONE,
    SORTED_PROMISES,
    UNIQUE_PROMISES,
    ApiProperties,
    accumulates,
    promises,
    properties_of,
)
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

Guess = tuple[tuple[int, ...], str] | None  # the shape and dtype an output likely has
Chaining = tuple[ApiEntry, int, int]  # an API, a template of it, the argument slot an earlier output takes


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
        if complex_:  # each part as drawn (1j * inf would make the real part nan)
            parts = reals
            reals = np.empty(count, dtype=np.complex128)
            reals.real, reals.imag = parts[0::2], parts[1::2]
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
        self.extra: tuple[str, tuple[int, ...]] | None = None  # a leading symbol and the dims appended after it

    def fit(self, slot: TensorSlot, guess: Guess) -> None:
        """Fit the other tensors to an earlier output guessed to have `guess`'s shape and dtype, taken in
        `slot`: the template's dtype becomes the output's (where the template has it), each dimension
        symbol of the slot the output's size there, and the output's dims beyond the slot's rank are
        appended to every tensor whose shape starts with the slot's first symbol (a batch of losses'
        (N, C, d1, ...) inputs and (N, d1, ...) targets, same-shape operands)."""
        if guess is None:
            return
        shape, dtype = guess
        if dtype in self.template.dtypes:
            self.dtype = dtype
        for symbol, size in zip(slot.shape, shape):
            if isinstance(symbol, str):
                self.dims[symbol] = size
        if len(shape) > len(slot.shape) and slot.shape and isinstance(slot.shape[0], str):
            self.extra = (slot.shape[0], shape[len(slot.shape) :])

    def shape(self, slot: TensorSlot) -> tuple[int, ...]:
        shape = [self.dims[d] if isinstance(d, str) else int(d) for d in slot.shape]
        if self.extra and slot.shape[:1] == (self.extra[0],):
            shape += self.extra[1]
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
        unique = (self.properties.unique_indices and not accumulates(flags)) or promises(flags, UNIQUE_PROMISES)
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
    outputs = [_output_guess(first)]  # per call, the shape and dtype its first output likely has
    for index in range(1, 2 + src.choice(MAX_FURTHER_CALLS, "further")) if chaining else ():
        pick = src.choice(API_ID_RANGE, f"api:{index}") % len(chaining)
        produced = Ref(src.choice(index, f"ref:{index}"), 0)
        group = chaining[_fitting(chaining, pick, outputs[produced.call])]
        fitting = [link for link in group if _fits(link, outputs[produced.call])] or list(group)
        # A choice only where the group is an API's several templates and slots: a one-tensor pick reads none.
        entry, template_index, slot = fitting[src.choice(len(fitting), f"link:{index}") if len(group) > 1 else 0]
        further.append(_decode_call(src, catalog, entry, template_index, _Link(index, produced, slot, tuple(outputs))))
        outputs.append(outputs[produced.call])
    return dataclasses.replace(case, then=tuple(further)) if further else case


def _output_guess(call: Call) -> Guess:
    """The shape and dtype of a first call's first output as the catalog lets the decoder guess them
    before running: its first floating tensor argument's (elementwise functions, activations and
    normalizations keep both; a later call passes its input's on). None: no floating tensor."""
    tensor = next((a for a in call.args if isinstance(a, Tensor) and is_floating(a.dtype)), None)
    return (tensor.shape, tensor.dtype) if tensor is not None else None


def _fitting(chaining: list[tuple[Chaining, ...]], pick: int, output: Guess) -> int:
    """The first group from `pick` on with a slot that takes the guessed output (`_fits`); `pick`
    itself when none does or nothing is guessed, so a pick that fits decodes as it did before the
    guess."""
    if output is None:
        return pick
    for step in range(len(chaining)):
        if any(_fits(link, output) for link in chaining[(pick + step) % len(chaining)]):
            return (pick + step) % len(chaining)
    return pick


def _fits(link: Chaining, output: Guess) -> bool:
    """Whether the slot takes an output guessed to have `output`'s shape and dtype: a tensor slot of
    its rank, or of a lower rank in the first argument (elementwise functions take any rank, a loss's
    (N, C) input takes (N, C, d1, ...); a template validated on a higher rank, or without the output's
    dtype, mostly refuses it: 'Dimension out of range', 'expected a matrix', 'Unsupported dtype
    Half'; a later argument of another rank is mostly a bias or a weight of the wrong shape)."""
    if output is None:
        return True
    shape, dtype = output
    entry, index, argument = link
    template = entry.templates[index]
    slot = template.args[argument]
    assert isinstance(slot, TensorSlot)  # a chaining template's slot
    ranks = len(slot.shape) == len(shape) or (argument == 0 and len(slot.shape) < len(shape))
    return ranks and (slot.dtype == dtype if slot.dtype else dtype in template.dtypes)


@dataclasses.dataclass(frozen=True)
class _Link:
    """How a later call (the `index`th) takes earlier outputs: `produced` in argument `slot`, and
    optionally (its choice "reuse:INDEX", read only where a slot allows one) a second earlier output
    whose guess is the same (`outputs`: the guess per earlier call; `produced` itself included, as in
    `x * x`) in the first other floating slot of the same declared shape and dtype, which declares no
    space for it."""

    index: int
    produced: Ref
    slot: int
    outputs: tuple[Guess, ...]

    def placed(self, src: Choices, template: Template, properties: ApiProperties) -> dict[int, Ref]:
        """The argument slots that take earlier outputs, and which."""
        placed = {self.slot: self.produced}
        taker = template.args[self.slot]
        guess = self.outputs[self.produced.call]
        others = [i for i in _open_slots(template, properties) if i != self.slot and template.args[i] == taker]
        candidates = [call for call, output in enumerate(self.outputs) if output == guess] if guess else []
        if others and candidates:
            reuse = src.choice(len(candidates) + 1, f"reuse:{self.index}")
            if reuse:
                placed[others[0]] = Ref(candidates[reuse - 1], 0)
        return placed


def _decode_call(src: Choices, catalog: Catalog, entry: ApiEntry, template_index: int, link: _Link | None = None) -> Call:
    """One call of a template; `link` places earlier outputs in argument slots and fits the other
    tensors to the first of them."""
    template = entry.templates[template_index]
    properties = properties_of(catalog.library, entry.name)
    placed = link.placed(src, template, properties) if link else {}
    builder = _CaseBuilder(src, template, properties)
    if link:
        taker = template.args[link.slot]
        assert isinstance(taker, TensorSlot)
        builder.fit(taker, link.outputs[link.produced.call])
    args = tuple(placed[i] if i in placed else builder.arg(s, str(i)) for i, s in enumerate(template.args))
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


_CHAINING: dict[int, tuple[Catalog, list[tuple[Chaining, ...]]]] = {}


def _chaining_templates(catalog: Catalog) -> list[tuple[Chaining, ...]]:
    """The (API, template, argument slot) triples that take an earlier output, in groups a later call
    picks from: first each template whose floating first argument is its only tensor (elementwise
    functions, activations, reductions, normalizations without weights), in its first argument, a
    group of its own, in the order the whole list had before calls of several tensors chained; then
    one group per API of the other templates' open slots (`_open_slots`: losses' inputs, either
    operand of a product), among which a further choice picks (as many picks for such an API as for
    one template of one tensor: their programs are more often an invalid input). Only slots that
    declare no space for the output (a structure, a domain, a label or a parameter: an earlier output
    is not drawn there; the oracle combines the calls' other properties). The output's shape is not
    known before running: one the call refuses is filtered as an invalid input."""
    cached = _CHAINING.get(id(catalog))
    if cached is None or cached[0] is not catalog:
        single: list[Chaining] = []
        several: dict[int, list[Chaining]] = {}
        for entry in catalog.apis.values():
            properties = properties_of(catalog.library, entry.name)
            for index, template in enumerate(entry.templates):
                if _takes_one_floating_tensor(template):
                    single += [(entry, index, 0)] if not properties.declares_space("0") else []
                else:
                    several.setdefault(entry.id, []).extend((entry, index, slot) for slot in _open_slots(template, properties))
        groups = [(link,) for link in sorted(single, key=lambda t: (t[0].id, t[1]))]
        groups += [tuple(sorted(links, key=lambda t: t[1:])) for _, links in sorted(several.items()) if links]
        cached = _CHAINING[id(catalog)] = (catalog, groups)
    return cached[1]


def _open_slots(template: Template, properties: ApiProperties) -> list[int]:
    """The positional floating tensor slots that may take an earlier output: operands of the template's
    highest rank (a bias or a scale of lower rank seldom fits an output), none declaring a space."""
    tensors = [slot for slot in (*template.args, *(s for _, s in template.kwargs)) if isinstance(slot, TensorSlot)]
    rank = max((len(slot.shape) for slot in tensors), default=0)
    return [
        i
        for i, slot in enumerate(template.args)
        if isinstance(slot, TensorSlot)
        and len(slot.shape) == rank
        and (slot.dtype is None or is_floating(slot.dtype))
        and not properties.declares_space(str(i))
    ]


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


class _Recorder:
    """A `ChoiceReader` that keeps the choices it made and the value bytes it gave, in order."""

    def __init__(self, data: bytes) -> None:
        self._reader, self.picks, self.values = ChoiceReader(data), [], bytearray()

    def choice(self, n: int, key: str = "") -> int:
        self.picks.append(self._reader.choice(n, key))
        return self.picks[-1]

    def value_bytes(self, n: int) -> bytes:
        chunk = self._reader.value_bytes(n)
        self.values.extend(chunk)
        return chunk


class _Replay(ChoiceWriter):
    """A `ChoiceWriter` that makes recorded choices again, in order, except those `forced` by key."""

    def __init__(self, picks: list[int], values: bytes, forced: dict[str, int]) -> None:
        super().__init__({}, values)
        self._picks, self._forced = iter(picks), forced

    def choice(self, n: int, key: str = "") -> int:
        recorded = next(self._picks, 0)
        self.wanted = {key: self._forced.get(key, recorded)}
        return super().choice(n, key)


def first_call_bytes(data: bytes, catalog: Catalog) -> bytes | None:
    """Bytes that decode to the first call of the program `data` decodes to, alone (the same API,
    template, arguments and values); None when `data` decodes to a single call."""
    recorder = _Recorder(data)
    if not decode_from(recorder, catalog).then:
        return None
    replay = _Replay(recorder.picks, bytes(recorder.values), {"program": 0})
    decode_from(replay, catalog)
    return replay.buffer()


def program_seed_bytes(catalog: Catalog, apis: Sequence[str]) -> bytes:
    """Bytes that decode to a chain of 2 or 3 calls: the default call of the first API's first template
    that lets the chain form, then each further API's first template that takes an earlier output
    (`_chaining_templates`) and fits the one it takes (`_fitting`), taking the call before's output."""
    if not 2 <= len(apis) <= MAX_FURTHER_CALLS + 1:
        raise ValueError(f"a program seed has 2 to {MAX_FURTHER_CALLS + 1} calls, not {len(apis)}")
    chaining = [group[0][0].name for group in _chaining_templates(catalog)]
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
