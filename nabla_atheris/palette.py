"""The decoder's value palette: how bytes become element values.

Each element has `BYTES_PER_REAL` bytes: a selector byte below `len(SPECIAL_VALUES)` gives an
interesting value (zeros of both signs, units, tiny and huge magnitudes, NaN and infinities, kinks
of common functions); any other selector scales a 16-bit mantissa in [-1, 1] by one of `SCALES`,
so one tensor mixes regimes. A floating tensor also has a regime (a structural choice, 0 by
default: the mixed palette alone) that moves all of its elements into one region where AD tends to
break: large magnitudes up to 1e3, tiny values (1e-8, 1e-16), integers, half-integers, exact zeros
among others, a few repeated values, or the edges of the API's declared domain. Every element still
depends on its own bytes only.

An integer tensor (indices, segment ids, selectors) has a regime of its own, drawn the same way (0 by
default: uniform in the slot's range): sorted, two values repeated throughout (duplicates), the
range's two ends, or counted from the end (Python's negative indices, where the range starts at 0).
"""

from __future__ import annotations

import math

import numpy as np

BYTES_PER_REAL = 3
SPECIAL_VALUES = (
    0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 1e-8, -1e-8, 1e-300, 5e-324, 1e30, -1e30, 1e300, math.nan,
    math.inf, -math.inf, math.pi, -math.pi, math.pi / 2, math.pi / 4, 0.1, 1e-4, 100.0, -100.0, 10.0, -10.0,
    0.25, 3.0, -3.0, 0.999, 1e-16, -1e-16, 1e3, -1e3, 1.5, -1.5, 7.0, -0.999,
)  # fmt: skip
SCALES = (1.0, 1.0, 1.0, 1.0, 2.0, 4.0, 0.5, 10.0, 100.0, 1e-3, 1.0, 3.0, 1e3, 1e-8)
# Elements the buffer has no bytes for take these values (no zeros: they sit on many kinks).
DEFAULT_PATTERN = (0.5, -0.75, 0.25, 0.9, -0.3, 0.6, -0.9, 0.15, 1.3, -0.45, 0.7, -1.2)
MIXED = "mixed"
REGIMES = ("large", "tiny", "tinier", "integers", "half-integers", "sparse", "repeated", "edges")
REGIME_CHOICES = 2 * len(REGIMES)  # choices below len(REGIMES) keep the mixed palette, the others pick a regime
INDEX_REGIMES = ("sorted", "repeated", "boundary", "negative")
INDEX_REGIME_CHOICES = 2 * len(INDEX_REGIMES)  # as REGIME_CHOICES: the lower half keeps uniform values
UNIFORM = "uniform"
DOMAINS = ("positive", "unit", "above-one", "unit-interval")  # |x|, clip to [-1, 1], 1 + |x|, clip |x| to [0, 1]
# Four edge values per declared domain (None: the unit range's edges and the zeros).
EDGES: dict[str | None, tuple[float, float, float, float]] = {
    None: (-1.0, -0.0, 0.0, 1.0),
    "positive": (0.0, 1e-16, 1e-8, 1.0),
    "unit": (-1.0, -1.0 + 1e-8, 1.0 - 1e-8, 1.0),
    "above-one": (1.0, 1.0 + 1e-16, 1.0 + 1e-8, 2.0),
    "unit-interval": (0.0, 1e-8, 1.0 - 1e-8, 1.0),
}


def regime_of(choice: int) -> str:
    """The regime a structural choice in range(REGIME_CHOICES) names."""
    return MIXED if choice < len(REGIMES) else REGIMES[choice - len(REGIMES)]


def index_regime_of(choice: int) -> str:
    """The integer regime a structural choice in range(INDEX_REGIME_CHOICES) names."""
    return UNIFORM if choice < len(INDEX_REGIMES) else INDEX_REGIMES[choice - len(INDEX_REGIMES)]


def in_index_regime(values: np.ndarray, regime: str, low: int, high: int, signed: bool = True) -> np.ndarray:
    """Integers drawn uniformly in [low, high) moved into a regime (see the module's docstring;
    unsigned ones are not counted from the end)."""
    if regime == "sorted":
        return np.sort(values, axis=None).reshape(values.shape)
    if regime == "repeated":
        return low + (values - low) % min(2, max(high - low, 1))
    if regime == "boundary":
        return np.where((values - low) % 2 == 0, low, max(high - 1, low))
    if regime == "negative" and low == 0 and signed:
        return values - high
    return values


def decode_real(chunk: bytes, index: int) -> float:
    """One real value from its bytes (a default when the buffer ran out)."""
    if len(chunk) < BYTES_PER_REAL:
        return DEFAULT_PATTERN[index % len(DEFAULT_PATTERN)]
    selector = chunk[0]
    if selector < len(SPECIAL_VALUES):
        return SPECIAL_VALUES[selector]
    mantissa = int.from_bytes(chunk[1:3], "little") / 65535.0 * 2.0 - 1.0
    return mantissa * SCALES[(selector - len(SPECIAL_VALUES)) % len(SCALES)]


def encode_real(value: float) -> bytes:
    """Bytes that `decode_real` maps close to `value` (for |value| <= 1)."""
    mantissa = round((max(-1.0, min(1.0, value)) + 1.0) / 2.0 * 65535.0)
    return bytes([len(SPECIAL_VALUES)]) + mantissa.to_bytes(2, "little")


def apply_domain(values: np.ndarray, domain: str | None) -> np.ndarray:
    """Values mapped into a declared domain (see DOMAINS)."""
    if domain == "positive":
        return np.abs(values)
    if domain == "unit":
        return np.clip(values, -1.0, 1.0)
    if domain == "above-one":
        return 1.0 + np.abs(values)
    if domain == "unit-interval":
        return np.clip(np.abs(values), 0.0, 1.0)
    return values


def in_regime(values: np.ndarray, regime: str, domain: str | None) -> np.ndarray:
    """Decoded reals moved into a regime, then into the domain (edges: each onto one of the domain's
    four edges, by the value's position in [-1, 1])."""
    with np.errstate(invalid="ignore", over="ignore"):
        if regime == "edges":
            position = np.clip(np.nan_to_num(values, nan=0.0), -1.0, 1.0)
            return np.asarray(EDGES[domain])[np.clip(np.floor((position + 1.0) * 2.0), 0, 3).astype(int)]
        if regime == "large":
            values = values * 1e3
        elif regime == "tiny":
            values = values * 1e-8
        elif regime == "tinier":
            values = values * 1e-16
        elif regime == "integers":
            values = np.round(values * 4.0)
        elif regime == "half-integers":
            values = np.floor(values * 4.0) + 0.5
        elif regime == "sparse":
            values = np.where(np.abs(values) < 0.5, 0.0, values)
        elif regime == "repeated":
            values = np.round(values * 2.0) / 2.0
        return apply_domain(values, domain)


# The value regimes an input's floating tensor may hold (`value_regimes`), as issue 18's palette asks:
# the unit range, large magnitudes of both signs, exact zeros of both signs, tiny values, integers and
# half-integers, repeated values, the edges of a declared domain, and several of these in one tensor.
VALUE_REGIMES = (
    "unit", "large positive", "large negative", "zeros", "negative zeros", "tiny", "integers", "half-integers",
    "repeated", "domain edges", "mixed",
)  # fmt: skip
LARGE = 10.0  # |x| at least this is a large magnitude
TINY = 1e-6  # nonzero |x| at most this is a tiny value
MIXED_AT_LEAST = 3  # magnitude regimes (unit, large, zeros, tiny, integers) one tensor holds to count as mixed


def value_regimes(values: np.ndarray, domain: str | None = None) -> set[str]:
    """The `VALUE_REGIMES` a floating tensor's values hold (complex: both parts; `domain`: the slot's
    declared domain, whose `EDGES` count as domain edges)."""
    array = np.asarray(values).ravel()
    reals = np.concatenate([array.real, array.imag]) if np.iscomplexobj(array) else array.astype(np.float64)
    finite = reals[np.isfinite(reals)]
    magnitude = np.abs(finite)
    nonzero = finite[finite != 0]
    found = {
        "unit": bool(np.any((magnitude > TINY) & (magnitude <= 1.0))),
        "large positive": bool(np.any(finite >= LARGE)),
        "large negative": bool(np.any(finite <= -LARGE)),
        "zeros": bool(np.any((finite == 0) & ~np.signbit(finite))),
        "negative zeros": bool(np.any((finite == 0) & np.signbit(finite))),
        "tiny": bool(np.any((magnitude > 0) & (magnitude <= TINY))),
        "integers": bool(np.any((np.abs(nonzero) >= 2.0) & (nonzero == np.round(nonzero)))),
        "half-integers": bool(np.any((np.abs(nonzero) >= 1.5) & (np.abs(nonzero) % 1.0 == 0.5))),
        "repeated": nonzero.size > np.unique(nonzero).size,
        "domain edges": domain is not None and bool(np.any(np.isin(finite, EDGES[domain]))),
    }
    magnitudes = ("unit", "zeros", "tiny", "integers")
    found["mixed"] = sum(found[r] for r in magnitudes) + (found["large positive"] or found["large negative"]) >= MIXED_AT_LEAST
    return {regime for regime, hit in found.items() if hit}
