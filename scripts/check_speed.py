#!/usr/bin/env python3
"""Seconds per check (wall-clock and CPU time of the process) of seed inputs in one process, each on
a structure new to the process (cold) and then again (warm), with the finding kinds of each check.
The nabla_atheris first on PYTHONPATH is the one measured: `scripts/bench.py`'s throughput section
runs this for a baseline revision and for the current tree, side by side.

    check_speed.py LIB OUT.json WARMUP_INPUT... -- INPUT...

NABLA_SCENARIOS chooses the scenario sets; NABLA_FIRST_ORDER_ONLY=1 checks the inputs (not the warm-up
ones) up to first order, as a worker replays a case its campaign checked before.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from nabla_atheris.backends import get_backend
from nabla_atheris.catalog import load_catalog
from nabla_atheris.decoder import decode_bytes
from nabla_atheris.oracle import check_case


def main() -> None:
    library, out = sys.argv[1], Path(sys.argv[2])
    split = sys.argv.index("--")
    warmup, inputs = sys.argv[3:split], sys.argv[split + 1 :]
    catalog, backend = load_catalog(library), get_backend(library)
    for path in warmup:  # imports and lazily loaded AD modules, outside the measurement
        check_case(decode_bytes(Path(path).read_bytes(), catalog), backend)
    cases = [decode_bytes(Path(path).read_bytes(), catalog) for path in inputs]
    result: dict[str, list] = {"cold_s": [], "warm_s": [], "cold_cpu_s": [], "warm_cpu_s": [], "findings": []}
    # Only when asked: a baseline revision's check_case may predate the keyword.
    only = {"first_order_only": True} if os.environ.get("NABLA_FIRST_ORDER_ONLY") == "1" else {}
    for label in ("cold", "warm"):
        for case in cases:
            start, cpu = time.perf_counter(), time.process_time()
            verdict = check_case(case, backend, **only)
            result[f"{label}_s"].append(time.perf_counter() - start)
            result[f"{label}_cpu_s"].append(time.process_time() - cpu)
            if label == "cold":
                result["findings"].append(sorted(f"{f.kind} {'/'.join(f.scenarios)}" for f in verdict.findings))
    out.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
