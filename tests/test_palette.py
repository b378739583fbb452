"""The value palette: every regime reachable per tensor, elements local to their bytes, declared
domains respected with their edges reached, seeds in the mixed palette."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from nabla_atheris.catalog import build_catalog
from nabla_atheris.decoder import ChoiceReader, ChoiceWriter, decode_bytes, decode_from, seed_bytes
from nabla_atheris.palette import DOMAINS, EDGES, MIXED, REGIME_CHOICES, REGIMES, in_regime, regime_of

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
