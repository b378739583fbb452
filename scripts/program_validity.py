#!/usr/bin/env python3
"""How many of the decoder's programs are valid: random byte strings (lengths 8 to 199, from a seeded
generator) are decoded until COUNT of them are programs, and each program's direct call is run
(`oracle.subject.prepare`: binding, determinism, status). Counts the programs the oracle refuses as
an invalid input and those it goes on to check (no filter at all), with the most common reasons,
the checked programs whose later calls take several tensors, and their distinct sequences of APIs.
The nabla_atheris first on PYTHONPATH is the one measured: `scripts/bench.py`'s chaining section
runs this for a baseline revision and for the current tree, side by side.

OUT.json is written after every program, with the one in progress: a run that a native crash ends
is started again on the same file, skips the programs counted and counts the one in progress as a
native crash (the same seed gives the same byte strings). A program still running after the
library's campaign timeout (libFuzzer's -timeout) ends the run the same way, counted as a timeout.

    program_validity.py LIB COUNT SEED OUT.json
"""

from __future__ import annotations

import json
import os
import random
import sys
import threading
from collections import Counter
from pathlib import Path

from nabla_atheris.backends import get_backend
from nabla_atheris.case import Case, Ref, Tensor, TensorList
from nabla_atheris.catalog import load_catalog
from nabla_atheris.decoder import decode_bytes
from nabla_atheris.libraries import record
from nabla_atheris.oracle.subject import prepare
from nabla_atheris.verdict import Judgement


def main() -> None:
    library, count, seed, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
    catalog, backend = load_catalog(library), get_backend(library)
    state = json.loads(out.read_text()) if out.is_file() else {}
    keys = ("programs", "invalid", "checked", "native_crashes", "timeouts", "checked_several")
    figures = Counter({key: state.get(key, 0) for key in keys})
    reasons: Counter[str] = Counter(state.get("filters", {}))
    sequences = set(state.get("checked_sequences", []))
    timed_out = out.with_suffix(".timeout")
    if state.get("current") is not None:  # the run before died in it
        figures.update(programs=1, **{"timeouts" if timed_out.exists() else "native_crashes": 1})
        timed_out.unlink(missing_ok=True)
    rng, seen = random.Random(seed), 0
    while figures["programs"] < count:
        case = decode_bytes(bytes(rng.randrange(256) for _ in range(rng.randrange(8, 200))), catalog)
        if not case.then:
            continue
        seen += 1
        if seen <= figures["programs"]:  # counted by a run before
            continue
        out.write_text(json.dumps({**figures, "filters": reasons, "checked_sequences": sorted(sequences), "current": seen}))
        judgement = Judgement()
        watchdog = threading.Timer(record(library).limits.timeout_s, give_up, (timed_out,))
        watchdog.start()
        subject = prepare(case, backend, judgement)
        watchdog.cancel()
        checked = subject is not None and not judgement.filters
        figures.update(programs=1, invalid=int("invalid-input" in judgement.filters), checked=int(checked))
        figures.update(checked_several=int(checked and takes_several_tensors(case)))
        sequences |= {case.name()} if checked else set()
        for reason in judgement.filters:
            reasons[reason] += 1
    done = {"filters": dict(reasons.most_common()), "checked_sequences": sorted(sequences), "current": None}
    out.write_text(json.dumps({**figures, **done}))


def give_up(marker: Path) -> None:
    """End the run in the program that has run too long (the next run counts it as a timeout)."""
    marker.touch()
    os._exit(3)


def takes_several_tensors(case: Case) -> bool:
    """Whether a later call of the program takes more than one tensor (earlier outputs included)."""
    return any(sum(isinstance(a, (Tensor, TensorList, Ref)) for a in call.arguments()) > 1 for call in case.then)


if __name__ == "__main__":
    main()
