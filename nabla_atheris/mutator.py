"""A structure-aware mutation for libFuzzer: libFuzzer's own mutations, and now and then a new API.

libFuzzer's byte mutations of a corpus input mostly keep the API its tail bytes choose (the decoder
reads the format version and then the API from the end of the buffer), so a guided campaign goes deep
into the APIs it has met and wide only slowly. One mutation in `API_SWITCH_ODDS` rewrites just the
API's bytes with random ones: the input's other choices and its element values carry over to another
API of the catalog, drawn uniformly as random bytes would draw it.
"""

from __future__ import annotations

import random

import atheris

from nabla_atheris.decoder import API_ID_RANGE, VERSION_RANGE

API_SWITCH_ODDS = 4  # one mutation in 4 draws a new API


def _width(n: int) -> int:
    """Bytes a choice among `n` takes from the buffer's tail (as FuzzedDataProvider reads it)."""
    return ((n - 1).bit_length() + 7) // 8


VERSION_BYTES, API_BYTES = _width(VERSION_RANGE), _width(API_ID_RANGE)


def switch_api(data: bytes, rng: random.Random) -> bytes:
    """`data` with the bytes that choose its API drawn anew (a buffer too short to hold them is padded
    at the front, where element values are read, so its tail choices stay as they were)."""
    tail = VERSION_BYTES + API_BYTES
    buffer = bytearray(bytes(max(0, tail - len(data))) + data)
    buffer[len(buffer) - tail : len(buffer) - VERSION_BYTES] = rng.randbytes(API_BYTES)
    return bytes(buffer)


def mutate(data: bytes, max_size: int, seed: int) -> bytes:
    """libFuzzer's custom mutator: one call in `API_SWITCH_ODDS` a new API, else libFuzzer's mutation."""
    rng = random.Random(seed)
    if rng.randrange(API_SWITCH_ODDS) == 0 and max_size >= VERSION_BYTES + API_BYTES:
        return switch_api(data, rng)
    return atheris.Mutate(data, max_size)
