"""The structure-aware mutation: a new API for the same choices and values, nothing else changed."""

import random

from nabla_atheris.catalog import load_catalog
from nabla_atheris.decoder import decode_bytes, seed_bytes
from nabla_atheris.mutator import API_BYTES, API_SWITCH_ODDS, VERSION_BYTES, mutate, switch_api

CATALOG = load_catalog("torch")


def test_a_switch_rewrites_only_the_bytes_that_choose_the_api():
    data = seed_bytes(CATALOG, 5, 0)
    tail = VERSION_BYTES + API_BYTES
    for seed in range(20):
        out = switch_api(data, random.Random(seed))
        assert len(out) == len(data)
        assert out[: len(data) - tail] == data[: len(data) - tail] and out[-VERSION_BYTES:] == data[-VERSION_BYTES:]


def test_switches_reach_many_apis_and_every_result_decodes():
    data = seed_bytes(CATALOG, 5, 0)
    apis = {decode_bytes(switch_api(data, random.Random(seed)), CATALOG).api for seed in range(200)}
    assert len(apis) > 150  # uniform over the catalog's APIs, as random bytes draw them


def test_a_buffer_shorter_than_the_api_choice_is_padded_in_front():
    out = switch_api(b"\x07", random.Random(0))
    assert len(out) == VERSION_BYTES + API_BYTES and out[-1:] == b"\x07"
    assert decode_bytes(out, CATALOG).api in CATALOG.apis


def test_mutate_switches_the_api_at_its_odds_without_calling_libfuzzer():
    data = seed_bytes(CATALOG, 5, 0)
    switching = [s for s in range(100) if random.Random(s).randrange(API_SWITCH_ODDS) == 0]
    assert 10 < len(switching) < 45
    for seed in switching[:5]:  # the other seeds call atheris.Mutate, which needs a running libFuzzer
        assert mutate(data, 4096, seed) == switch_api(data, _after_odds(seed))


def _after_odds(seed: int) -> random.Random:
    rng = random.Random(seed)
    rng.randrange(API_SWITCH_ODDS)
    return rng
