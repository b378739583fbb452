#!/usr/bin/env python3
"""How many of the decoder's programs are valid: random byte strings (lengths 8 to 199, from a seeded
generator) are decoded until COUNT of them are programs, and each program's direct call is run
(`oracle.subject.prepare`: binding, determinism, status). Counts the programs the oracle refuses as
an invalid input and those it goes on to check (no filter at all), with the most common reasons.
The nabla_atheris first on PYTHONPATH is the one measured: `scripts/bench.py`'s programs-validity
section runs this for a baseline revision and for the current tree, side by side.

    program_validity.py LIB COUNT SEED OUT.json
"""

from __future__ import annotations

import json
import random
import sys
from collections import Counter
from pathlib import Path

from nabla_atheris.backends import get_backend
from nabla_atheris.catalog import load_catalog
from nabla_atheris.decoder import decode_bytes
from nabla_atheris.oracle.subject import prepare
from nabla_atheris.verdict import Judgement


def main() -> None:
    library, count, seed, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
    catalog, backend = load_catalog(library), get_backend(library)
    rng = random.Random(seed)
    programs = invalid = checked = 0
    reasons: Counter[str] = Counter()
    while programs < count:
        case = decode_bytes(bytes(rng.randrange(256) for _ in range(rng.randrange(8, 200))), catalog)
        if not case.then:
            continue
        programs += 1
        judgement = Judgement()
        subject = prepare(case, backend, judgement)
        invalid += "invalid-input" in judgement.filters
        checked += subject is not None and not judgement.filters
        for reason in judgement.filters:
            reasons[reason] += 1
    result = {"programs": programs, "invalid": invalid, "checked": checked, "filters": dict(reasons.most_common())}
    out.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
