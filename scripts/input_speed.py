#!/usr/bin/env python3
"""What programs cost a campaign's single calls: random byte strings (lengths 8 to 199, from a seeded
generator, as `program_validity.py` draws them) decoded and checked one after the other, as a worker
does (decode and the whole oracle with the library's default scenario sets), until COUNT inputs;
wall-clock and CPU seconds of single calls and of programs (every input in its natural share: one in
16 chooses a program), so single calls checked per second of the whole run. The nabla_atheris first
on PYTHONPATH is the one measured: `scripts/bench.py`'s mix section runs this for a baseline revision
and for the current tree, on the same bytes.

OUT.json is written after every input, with the one in progress: a run that a native crash ends is
started again on the same file, skips the inputs counted and counts the one in progress as a native
crash (the same seed gives the same byte strings).

    input_speed.py LIB COUNT SEED OUT.json
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

from nabla_atheris.backends import get_backend
from nabla_atheris.catalog import load_catalog
from nabla_atheris.decoder import decode_bytes
from nabla_atheris.oracle import check_case

FIGURES = ("single_calls", "programs", "single_s", "program_s", "single_cpu_s", "program_cpu_s", "native_crashes")


def main() -> None:
    library, count, seed, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
    catalog, backend = load_catalog(library), get_backend(library)
    state = json.loads(out.read_text()) if out.is_file() else {}
    figures: dict[str, float] = {key: state.get(key, 0) for key in FIGURES}
    done = state.get("done", 0)
    if state.get("current") is not None:  # the run before died in it
        figures["native_crashes"] += 1
        done += 1
    rng = random.Random(seed)
    for index in range(count):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(8, 200)))
        if index < done:  # counted by a run before
            continue
        out.write_text(json.dumps({**figures, "done": done, "current": index}))
        start, cpu = time.perf_counter(), time.process_time()
        case = decode_bytes(data, catalog)
        check_case(case, backend)
        kind = "program" if case.then else "single"
        figures[f"{kind}_s"] += time.perf_counter() - start
        figures[f"{kind}_cpu_s"] += time.process_time() - cpu
        figures["programs" if case.then else "single_calls"] += 1
        done += 1
    out.write_text(json.dumps({**figures, "done": done, "current": None}))


if __name__ == "__main__":
    main()
