"""Scenario code every library's modes module shares: numpy only, for any library's tensors.

Reproducers embed these functions before the modes module's own code (and leave out its import of
them), so a maintainer's script still runs exactly the code the fuzzer ran.
"""

import numpy as np


def shapes_kept(outs, cotangents):
    """The outputs, checked against the cotangents built from the outputs at the case's point: an output
    whose shape depends on the input values (unique, nonzero) has none at a point where it changed
    (raised here, outside the conversion glue, as the library's refusal)."""
    for o, u in zip(outs, cotangents):
        if u is not None and tuple(o.shape) != tuple(np.shape(u)):
            raise ValueError(f"the output's shape changed with the values: {tuple(o.shape)}, was {tuple(np.shape(u))}")
    return outs


def paired(tensors, arrays):
    """The pairs of an inner product; a derivative of another shape than the value it belongs to is
    the library's error (raised here, outside the conversion glue)."""
    for t, a in zip(tensors, arrays):
        if t is not None and tuple(t.shape) != tuple(np.shape(a)):
            shapes = f"{tuple(t.shape)} for a value of shape {tuple(np.shape(a))}"
            raise ValueError(f"the library returned a derivative of shape {shapes}")
    return zip(tensors, arrays)
