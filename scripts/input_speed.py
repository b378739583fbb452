#!/usr/bin/env python3
"""What programs cost a campaign's single calls: inputs as a campaign's mutations make them from the
shipped seeds, decoded and checked one after the other as a worker does (decode and the whole oracle
with the library's default scenario sets), until COUNT inputs: seed single calls (every seed in turn,
from a seeded shuffle), and every fourth one the same seed made a program (random bytes inserted
between the seed's values and its choices, the program choice among them, as libFuzzer's insertions
do). Wall-clock and CPU seconds of single calls and of programs, after one check that loads what a
first check loads. The nabla_atheris first on PYTHONPATH is the one measured: `scripts/bench.py`'s
mix section runs this for a baseline revision and for the current tree, on the same bytes (the
programs' bytes decode to the programs each decoder makes).

OUT.json is written after every input, with the one in progress: a run that a native crash ends is
started again on the same file, skips the inputs counted and counts the one in progress as a native
crash (the same seed gives the same inputs).

    input_speed.py LIB COUNT SEED OUT.json
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

from nabla_atheris.backends import get_backend
from nabla_atheris.catalog import Catalog, load_catalog
from nabla_atheris.decoder import ChoiceReader, decode_bytes, decode_from
from nabla_atheris.oracle import check_case
from nabla_atheris.program_seeds import is_program_seed

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ("single_calls", "programs", "single_s", "program_s", "single_cpu_s", "program_cpu_s", "native_crashes")
PROGRAM_EVERY = 4  # every fourth input a program: more of them measured than the decoder's one in 16
INSERTED = 96  # random bytes a program's input gains


class _Counting(ChoiceReader):
    """A reader that counts the value bytes it hands out (the first call's, in a seed)."""

    values = 0

    def value_bytes(self, n: int) -> bytes:
        chunk = super().value_bytes(n)
        self.values += len(chunk)
        return chunk


def with_program(seed: bytes, catalog: Catalog, rng: random.Random) -> bytes | None:
    """The seed with random bytes inserted after its values, the last of them choosing a program (a
    few more set where the first call's last choices take them); None when none makes a program."""
    reader = _Counting(seed)
    decode_from(reader, catalog)
    inserted = bytearray(rng.randrange(256) for _ in range(INSERTED))
    for last in range(1, 9):
        inserted[-last:] = b"\xff" * last
        data = seed[: reader.values] + bytes(inserted) + seed[reader.values :]
        if decode_bytes(data, catalog).then:
            return data
    return None


def inputs(library: str, catalog: Catalog, count: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    seeds = sorted(p for p in (ROOT / "corpus" / library).iterdir() if not is_program_seed(p.name))
    rng.shuffle(seeds)
    out = []
    for index in range(count):
        data = seeds[index % len(seeds)].read_bytes()
        program = with_program(data, catalog, rng) if index % PROGRAM_EVERY == PROGRAM_EVERY - 1 else None
        out.append(program or data)
    return out


def main() -> None:
    library, count, seed, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
    catalog, backend = load_catalog(library), get_backend(library)
    state = json.loads(out.read_text()) if out.is_file() else {}
    figures: dict[str, float] = {key: state.get(key, 0) for key in FIGURES}
    done = state.get("done", 0)
    if state.get("current") is not None:  # the run before died in it
        figures["native_crashes"] += 1
        done += 1
    made = inputs(library, catalog, count, seed)
    check_case(decode_bytes(made[0], catalog), backend)  # imports and lazily loaded AD modules, outside the measurement
    for index, data in enumerate(made):
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
