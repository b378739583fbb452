"""The byte decoder: total, deterministic, local, stable; seeds decode to their templates."""

from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nabla_atheris.case import Attr, Ref, Tensor, check_references, decode, encode, is_floating
from nabla_atheris.catalog import AttrSlot, ListSlot, TensorSlot, load_catalog
from nabla_atheris.catalog.properties import properties_of
from nabla_atheris.decoder import (
    MAX_ELEMENTS,
    MAX_RANK,
    PROGRAM_ODDS,
    ChoiceWriter,
    _chaining_templates,
    _count_reals,
    _takes_one_floating_tensor,
    decode_bytes,
    decode_from,
    seed_bytes,
)
from nabla_atheris.palette import encode_real
from nabla_atheris.program_seeds import is_program_seed

CATALOG = load_catalog("torch")
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.binary(max_size=600))
def test_any_bytes_decode_within_caps(data):
    case = decode_bytes(data, CATALOG)
    assert case.api in CATALOG.apis
    for t in case.tensors():
        assert len(t.shape) <= MAX_RANK and t.size <= MAX_ELEMENTS and t.values.size == t.size


@SETTINGS
@given(st.binary(max_size=600))
def test_decoding_is_deterministic_and_round_trips_through_the_codec(data):
    case = decode_bytes(data, CATALOG)
    assert decode_bytes(data, CATALOG) == case
    assert decode(encode(case)) == case


def _elements(case):
    return [np.atleast_1d(t.values) for t in case.tensors()]


def _independent_elements(api):
    """APIs whose element values are drawn independently (a declared space couples a matrix's
    entries, unique indices couple a row's; the decoder is local everywhere else)."""
    declared = properties_of("torch", api)
    return not declared.structures and not declared.unique_indices


@SETTINGS
@given(st.sampled_from(sorted(a for a in CATALOG.apis if _independent_elements(a))), st.data())
def test_one_value_byte_changes_at_most_one_element(api, data):
    entry = CATALOG.apis[api]
    seed = bytearray(seed_bytes(CATALOG, entry.id, 0))
    case = decode_bytes(bytes(seed), CATALOG)
    value_region = sum(t.size * (6 if t.dtype.startswith("complex") else 3) for t in case.tensors())
    if value_region == 0:
        return
    position = data.draw(st.integers(0, value_region - 1))
    seed[position] = data.draw(st.integers(0, 255))
    mutated = decode_bytes(bytes(seed), CATALOG)
    assert [t.shape for t in mutated.tensors()] == [t.shape for t in case.tensors()]
    changed = sum(
        int(np.sum(~((a == b) | (np.isnan(a) & np.isnan(b)) if np.issubdtype(a.dtype, np.inexact) else a == b)))
        for a, b in zip(_elements(case), _elements(mutated))
    )
    assert changed <= 1


def _default_tensors(template):
    dims = dict(template.dims)
    slots = [s for s in list(template.args) + [s for _, s in template.kwargs]]
    flat = [item for s in slots for item in (s.items if isinstance(s, ListSlot) else [s]) if isinstance(item, TensorSlot)]
    return [(tuple(dims[d] if isinstance(d, str) else d for d in s.shape), s.dtype or template.dtypes[0]) for s in flat]


def test_every_seed_decodes_to_its_templates_default_call():
    for entry in CATALOG.apis.values():
        for index, template in enumerate(entry.templates):
            case = decode_bytes(seed_bytes(CATALOG, entry.id, index), CATALOG)
            assert (case.api, case.template) == (entry.name, index)
            assert [(t.shape, t.dtype) for t in case.tensors()] == _default_tensors(template)
            attrs = [a.value for a in case.args if isinstance(a, Attr)]
            assert attrs == [s.value for s in template.args if isinstance(s, AttrSlot)]
            declared = properties_of("torch", entry.name)
            parameters = set(declared.nondifferentiable) | set(declared.labels)  # declared: not inputs
            keys = [str(i) for i, a in enumerate(case.args)] + [k for k, _ in case.kwargs]
            arguments = list(case.args) + [a for _, a in case.kwargs]
            for key, arg in zip(keys, arguments):
                if isinstance(arg, Tensor) and is_floating(arg.dtype):
                    assert arg.differentiable == (key not in parameters), (entry.name, key)


def test_api_ids_out_of_range_wrap_to_a_catalog_entry():
    assert CATALOG.by_id(10**6).name in CATALOG.apis


@SETTINGS
@given(st.binary(max_size=200), st.sampled_from(["positive", "unit", "above-one"]))
def test_domains_hold_for_any_bytes(data, domain):
    from nabla_atheris.catalog import build_catalog

    catalog = build_catalog("torch", ["f"], {"f": [{"args": [{"tensor": [4], "domain": domain}], "dtypes": ["float64"]}]})
    values = decode_bytes(data, catalog).tensors()[0].values
    finite = values[np.isfinite(values)]
    low, high = {"positive": (0, np.inf), "unit": (-1, 1), "above-one": (1, np.inf)}[domain]
    assert np.all((finite >= low) & (finite <= high))


def test_an_unknown_domain_is_refused():
    import pytest

    from nabla_atheris.catalog import build_catalog

    with pytest.raises(ValueError, match="unknown domain"):
        build_catalog("torch", ["f"], {"f": [{"args": [{"tensor": [4], "domain": "negative"}]}]})


def test_every_seed_of_the_corpus_decodes_to_a_single_call_as_before_programs():
    """The program choice is read after the first call's, so a template's seed (which ends there)
    decodes as it did (program seeds are programs on purpose)."""
    corpus = Path(__file__).parent.parent / "corpus" / "torch"
    seeds = sorted(p for p in corpus.iterdir() if not is_program_seed(p.name))
    assert len(seeds) > 100
    for seed in seeds:
        case = decode_bytes(seed.read_bytes(), CATALOG)
        assert not case.then and case.api == seed.name.rsplit(".", 1)[0], seed.name


def test_one_input_in_sixteen_chooses_a_program_whose_later_calls_take_an_earlier_output():
    sin = CATALOG.by_name("torch.sin")
    chaining = _chaining_templates(CATALOG)
    tanh = _group_of(chaining, "torch.tanh")
    writer = ChoiceWriter({"api": sin.id, "program": PROGRAM_ODDS - 1, "further": 1, "api:1": tanh, "api:2": tanh, "ref:2": 1})
    decode_from(writer, CATALOG)
    case = decode_bytes(writer.buffer(), CATALOG)
    assert case.apis() == ["torch.sin", "torch.tanh", "torch.tanh"]
    assert [c.args[0] for c in case.then] == [Ref(0, 0), Ref(1, 0)]
    check_references(case)
    assert all(isinstance(entry.templates[i].args[slot], TensorSlot) for group in chaining for entry, i, slot in group)
    names = {entry.name for group in chaining for entry, _, _ in group}
    assert "torch.det" in names and "torch.linalg.eigh" not in names  # eigh declares its input Hermitian
    assert "torch.nn.functional.nll_loss" in names and "torch.mul" in names  # several tensors
    programs = [decode_bytes(bytes([i % 251, 7, i % 13]) * 40 + bytes([i]), CATALOG) for i in range(256)]
    assert 0 < sum(bool(c.then) for c in programs) < 256 / 4  # a few, not many


def test_templates_of_one_tensor_chain_first_in_their_order_so_old_picks_keep_their_api():
    """The (API, template, slot) triples of templates whose first argument is their only tensor come
    first, one per pick, as the whole list was before calls of several tensors chained; then one pick
    per API of the others, for each floating operand of a template's highest rank that declares no
    space."""
    chaining = _chaining_templates(CATALOG)
    singles = [
        i
        for i, group in enumerate(chaining)
        if len(group) == 1 and _takes_one_floating_tensor(group[0][0].templates[group[0][1]])
    ]
    assert singles == list(range(len(singles))) and 0 < len(singles) < len(chaining)
    assert all(group[0][2] == 0 for group in chaining[: len(singles)])
    apis = [{e.name for e, _, _ in group} for group in chaining[len(singles) :]]
    assert all(len(names) == 1 for names in apis) and len({name for (name,) in apis}) == len(apis)  # one pick per API
    several = {(e.name, slot) for group in chaining[len(singles) :] for e, _, slot in group}
    assert ("torch.mul", 0) in several and ("torch.mul", 1) in several
    assert ("torch.nn.functional.nll_loss", 0) in several and ("torch.nn.functional.nll_loss", 1) not in several  # int64 target
    assert ("torch.nn.functional.conv2d", 2) not in several  # the bias: a lower rank than input and weight


def _group_of(chaining, api):
    """The first pick of the decoder's chaining list that is `api`'s."""
    return next(i for i, group in enumerate(chaining) if group[0][0].name == api)


def _program(first: str, *later: str, **choices: int):
    """A decoded program: `first`'s default call, then each API of `later` at its first triple."""
    chaining = _chaining_templates(CATALOG)
    wanted = {"api": CATALOG.by_name(first).id, "program": PROGRAM_ODDS - 1, "further": len(later) - 1, **choices}
    for index, api in enumerate(later, start=1):
        wanted.setdefault(f"api:{index}", _group_of(chaining, api))
        wanted.setdefault(f"ref:{index}", index - 1)
    values = b"".join(encode_real(0.5 + i) for i in range(_count_reals(CATALOG, wanted)))
    writer = ChoiceWriter(wanted, values)
    decode_from(writer, CATALOG)
    return decode_bytes(writer.buffer(), CATALOG)


def test_a_later_call_of_several_tensors_takes_an_earlier_output_and_draws_the_others_to_fit_it():
    """nll_loss's (N, C) input takes movedim's 4-d output: its dims are the output's guessed (N, C),
    the (N) target gains the output's further dims, and its dtype is the output's."""
    case = _program("torch.movedim", "torch.nn.functional.nll_loss", **{"dim:a": 1, "dim:b": 3, "dim:c": 3, "dtype": 1})
    (loss,) = case.then
    first = case.args[0]
    assert case.apis() == ["torch.movedim", "torch.nn.functional.nll_loss"] and loss.args[0] == Ref(0, 0)
    target = loss.args[1]
    assert first.shape == (1, 3, 3, 1) and first.dtype == "float32"
    assert target.dtype == "int64" and target.shape == (1, 3, 1)  # (N, d1, d2) of the output guessed (1, 3, 3, 1)
    check_references(case)


def test_a_later_call_may_take_a_second_earlier_output_in_an_operand_of_the_same_shape():
    """identity -> multiply -> multiply as in tensorflow#127753: multiply(m, m), then (m * m) * m;
    the second operand's choice ("reuse:N": fresh, or one of the earlier outputs of the same guess)
    is read only for a template that has such an operand, so a one-tensor chain decodes as before."""
    case = _program("torch.sin", "torch.mul", "torch.mul", **{"reuse:1": 1, "reuse:2": 1})
    assert case.apis() == ["torch.sin", "torch.mul", "torch.mul"]
    assert [c.args for c in case.then] == [(Ref(0, 0), Ref(0, 0)), (Ref(1, 0), Ref(0, 0))]
    check_references(case)
    fresh = _program("torch.sin", "torch.mul")
    assert fresh.then[0].args[0] == Ref(0, 0) and isinstance(fresh.then[0].args[1], Tensor)
    assert fresh.then[0].args[1].shape == fresh.args[0].shape  # the operand drawn in the output's guessed shape


def _fits(slot, argument, rank):
    """A slot of the output's rank, or of a lower one in the first argument."""
    return len(slot.shape) == rank or (argument == 0 and len(slot.shape) < rank)


def test_a_later_call_is_fitted_to_the_rank_and_dtype_guessed_for_the_output_it_takes():
    import random

    from nabla_atheris.decoder import _output_guess

    chaining = _chaining_templates(CATALOG)
    rng, fitted = random.Random(1), 0
    while fitted < 100:
        case = decode_bytes(bytes(rng.randrange(256) for _ in range(rng.randrange(8, 200))), CATALOG)
        guess = _output_guess(case.calls()[0])  # every later call passes its input's guess on
        for call in case.then if guess else ():
            shape, dtype = guess
            template = CATALOG.by_name(call.api).templates[call.template]
            argument = next(i for i, a in enumerate(call.args) if isinstance(a, Ref))
            slot = template.args[argument]
            fits = _fits(slot, argument, len(shape)) and (slot.dtype == dtype if slot.dtype else dtype in template.dtypes)
            assert fits or not any(  # a pick no template fits stays as it is
                _fits(e.templates[i].args[a], a, len(shape)) and dtype in e.templates[i].dtypes
                for group in chaining
                for e, i, a in group
            ), (case.name(), shape, dtype)
            fitted += 1
    # a fitting pick decodes as before the guess: sin's output takes tanh's template
    sin, tanh = CATALOG.by_name("torch.sin"), _group_of(chaining, "torch.tanh")
    writer = ChoiceWriter({"api": sin.id, "program": PROGRAM_ODDS - 1, "api:1": tanh})
    decode_from(writer, CATALOG)
    assert decode_bytes(writer.buffer(), CATALOG).apis() == ["torch.sin", "torch.tanh"]
