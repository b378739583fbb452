"""The value palette: every regime reachable per tensor, elements local to their bytes, declared
domains respected with their edges reached, seeds in the mixed palette; integer tensors' regimes, and
the order and uniqueness a call promises for them."""

import dataclasses
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from nabla_atheris.case import Attr
from nabla_atheris.catalog import build_catalog
from nabla_atheris.decoder import ChoiceReader, ChoiceWriter, decode_bytes, decode_from, seed_bytes
from nabla_atheris.oracle.evidence import broken_promise
from nabla_atheris.palette import (
    DOMAINS,
    EDGES,
    INDEX_REGIME_CHOICES,
    INDEX_REGIMES,
    MIXED,
    REGIME_CHOICES,
    REGIMES,
    SPECIAL_VALUES,
    UNIFORM,
    encode_real,
    in_index_regime,
    in_regime,
    index_regime_of,
    regime_of,
    value_regimes,
)

RAW = np.linspace(-1.0, 1.0, 41)


class RecordingReader(ChoiceReader):
    """The decoder's reader, keeping every (key, choice) it made."""

    def __init__(self, data):
        super().__init__(data)
        self.made = []

    def choice(self, n, key=""):
        value = super().choice(n)
        self.made.append((key, value))
        return value


def tensor_regimes(data, catalog):
    """The value regime of every floating tensor the bytes decode to, in call order."""
    reader = RecordingReader(data)
    decode_from(reader, catalog)
    return [regime_of(value) for key, value in reader.made if key == "regime"]


def _catalog(domain=None):
    slot = {"tensor": [8], **({"domain": domain} if domain else {})}
    return build_catalog("torch", ["f"], {"f": [{"args": [slot], "dtypes": ["float64"]}]})


def test_each_regime_moves_values_where_it_says():
    assert np.max(np.abs(in_regime(RAW, "large", None))) == 1e3
    assert 0 < np.max(np.abs(in_regime(RAW, "tiny", None))) <= 1e-8
    assert 0 < np.max(np.abs(in_regime(RAW, "tinier", None))) <= 1e-16
    integers = in_regime(RAW, "integers", None)
    assert np.array_equal(integers, np.round(integers))
    halves = in_regime(RAW, "half-integers", None)
    assert np.allclose(halves - np.floor(halves), 0.5)
    assert np.sum(in_regime(RAW, "sparse", None) == 0) > 10
    assert len(np.unique(in_regime(RAW, "repeated", None))) <= 5
    for domain in (None, *DOMAINS):
        assert set(in_regime(RAW, "edges", domain)) == set(EDGES[domain])


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(REGIMES), st.sampled_from(DOMAINS))
def test_domains_hold_in_every_regime(regime, domain):
    values = in_regime(RAW * 3.0, regime, domain)
    low, high = {"positive": (0, np.inf), "unit": (-1, 1), "above-one": (1, np.inf), "unit-interval": (0, 1)}[domain]
    assert np.all((values >= low) & (values <= high))


def test_every_regime_is_reached_from_bytes_and_seeds_stay_mixed():
    catalog = _catalog()
    assert tensor_regimes(seed_bytes(catalog, 0, 0), catalog) == [MIXED]
    seen = set()
    for choice in range(REGIME_CHOICES):
        writer = ChoiceWriter({"regime": choice})
        decode_from(writer, catalog)
        seen.update(tensor_regimes(writer.buffer(), catalog))
    assert seen == {MIXED, *REGIMES}


@settings(max_examples=40, deadline=None)
@given(st.binary(min_size=40, max_size=80))
def test_a_regime_keeps_elements_local(data):
    catalog = _catalog()
    case = decode_bytes(data, catalog)
    mutated = bytearray(data)
    mutated[0] ^= 0xFF  # the first element's selector byte
    after = decode_bytes(bytes(mutated), catalog)
    before_values, after_values = case.tensors()[0].values, after.tensors()[0].values
    if before_values.shape == after_values.shape:
        same = (before_values == after_values) | (np.isnan(before_values) & np.isnan(after_values))
        assert np.sum(~same) <= 1


INTS = np.arange(8) % 5  # integers as drawn uniformly in [0, 5)


def test_each_index_regime_moves_integers_where_it_says():
    assert list(in_index_regime(INTS, "sorted", 0, 5)) == sorted(INTS)
    assert len(np.unique(in_index_regime(INTS, "repeated", 0, 5))) == 2
    assert set(in_index_regime(INTS, "boundary", 0, 5)) == {0, 4}
    negative = in_index_regime(INTS, "negative", 0, 5)
    assert np.all((negative >= -5) & (negative < 0)) and np.array_equal(negative % 5, INTS)
    assert np.array_equal(in_index_regime(INTS, "negative", 0, 5, signed=False), INTS)
    assert np.array_equal(in_index_regime(INTS + 1, "negative", 1, 6), INTS + 1)  # not an index range
    assert np.array_equal(in_index_regime(INTS, UNIFORM, 0, 5), INTS)


def _index_catalog(**kwargs):
    slots = [{"tensor": [6]}, {"tensor": [6], "dtype": "int64", "range": [0, 6]}]
    return build_catalog("jax", ["f"], {"f": [{"args": slots, "kwargs": kwargs, "dtypes": ["float64"]}]})


def test_every_index_regime_is_reached_from_bytes_and_seeds_stay_uniform():
    catalog = _index_catalog()
    values = bytes((i * 37) % 251 for i in range(36))  # the six reals' and the six integers' bytes
    seen = {}
    for choice in range(INDEX_REGIME_CHOICES):
        writer = ChoiceWriter({"index-regime": choice}, values)
        decode_from(writer, catalog)
        seen[index_regime_of(choice)] = decode_bytes(writer.buffer(), catalog).tensors()[1].values
    assert set(seen) == {UNIFORM, *INDEX_REGIMES}
    uniform = seen[UNIFORM]
    assert len(set(uniform.tolist())) > 2 and not np.array_equal(uniform, np.sort(uniform))
    assert np.array_equal(seen["sorted"], np.sort(uniform)) and np.array_equal(seen["negative"], uniform - 6)
    seed = ChoiceWriter({}, values)
    decode_from(seed, catalog)
    assert np.array_equal(decode_bytes(seed.buffer(), catalog).tensors()[1].values, uniform)


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=20, max_size=120))
def test_a_call_promising_sorted_or_unique_indices_gets_them(data):
    catalog = _index_catalog(indices_are_sorted={"optional": [True]}, unique_indices={"optional": [True]})
    case = decode_bytes(data, catalog)
    flags = {name: a.value for name, a in case.kwargs}
    indices = case.tensors()[1].values
    if flags.get("indices_are_sorted"):
        assert np.all(np.diff(indices) >= 0)
    if flags.get("unique_indices"):
        assert len(np.unique(indices)) == indices.size
    assert broken_promise(case) is None  # the oracle's reading of the promises agrees with the decoder's


def test_the_oracle_dismisses_a_broken_promise_of_a_hand_written_call():
    catalog = _index_catalog(indices_are_sorted={"optional": [True]}, unique_indices={"optional": [True]})
    case = decode_bytes(b"", catalog)
    ids = dataclasses.replace(case.tensors()[1], values=np.array([2, 0, 2, 1, 3, 5]))
    kept = dataclasses.replace(case, args=(case.args[0], ids), kwargs=())
    assert broken_promise(kept) is None  # no promise made
    assert "sorted" in broken_promise(dataclasses.replace(kept, kwargs=(("indices_are_sorted", Attr(True)),)))
    assert "repeat" in broken_promise(dataclasses.replace(kept, kwargs=(("unique_indices", Attr(True)),)))


def test_value_regimes_name_what_a_tensor_holds():
    assert value_regimes(np.array([0.25, 0.5, -0.5])) == {"unit"}
    held = value_regimes(np.array([0.5, -0.0, 1e3, -700.0, 1e-8, 3.0, 2.5, 2.5]))
    assert held == {"unit", "negative zeros", "large positive", "large negative", "tiny", "integers", "half-integers"} | {
        "repeated",
        "mixed",
    }
    assert value_regimes(np.array([0.0, 0.3]), "positive") == {"zeros", "unit", "domain edges"}
    assert "domain edges" not in value_regimes(np.array([0.0, 0.3]))
    assert value_regimes(np.array([np.nan, np.inf, 1e-300 + 2j])) == {"tiny", "integers", "zeros", "mixed"}


def test_each_regime_of_the_decoder_is_seen_in_its_values():
    expected = {"large": "large positive", "tiny": "tiny", "tinier": "tiny", "integers": "integers"}
    expected |= {"half-integers": "half-integers", "sparse": "zeros", "repeated": "repeated", "edges": "domain edges"}
    for regime, seen in expected.items():
        domain = "unit" if regime == "edges" else None
        assert seen in value_regimes(in_regime(RAW, regime, domain), domain), regime
    assert "large negative" in value_regimes(in_regime(RAW, "large", None))
    assert "negative zeros" in value_regimes(in_regime(RAW, "edges", None))


def test_an_api_with_unique_indices_draws_repeats_where_the_call_accumulates():
    # torch.scatter declares unique indices (a plain scatter's repeats race); reduce='multiply' multiplies them
    slots = [{"tensor": [6]}, {"tensor": [6], "dtype": "int64", "range": [0, 6]}]
    plain = build_catalog("torch", ["torch.scatter"], {"torch.scatter": [{"args": slots, "dtypes": ["float64"]}]})
    multiplying = {"args": slots, "kwargs": {"reduce": {"value": "multiply"}}, "dtypes": ["float64"]}
    reducing = build_catalog("torch", ["torch.scatter"], {"torch.scatter": [multiplying]})
    values = bytes([0] * 24 + [7] * 12)  # the six reals, then six equal integers
    assert len(np.unique(decode_bytes(values, plain).tensors()[1].values)) == 6
    assert len(np.unique(decode_bytes(values, reducing).tensors()[1].values)) < 6


def test_a_complex_tensor_keeps_each_part_as_drawn():
    catalog = build_catalog("torch", ["torch.abs"], {"torch.abs": [{"args": [{"tensor": [2]}], "dtypes": ["complex128"]}]})
    special = bytes([SPECIAL_VALUES.index(1.5), 0, 0, SPECIAL_VALUES.index(math.inf), 0, 0])
    writer = ChoiceWriter({}, special + encode_real(-0.5) + encode_real(0.5))
    decode_from(writer, catalog)
    values = decode_bytes(writer.buffer(), catalog).tensors()[0].values
    assert values[0].real == 1.5 and values[0].imag == math.inf  # 1.5 + 1j * inf would be nan + inf j
