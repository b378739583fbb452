#!/usr/bin/env python3
"""Write a library's shipped seed corpus, corpus/LIB/ (see nabla_atheris.seeds.minimal_seeds): one
seed per API, the other templates that add coverage, none that kills the harness. It replays every
template once through the instrumented harness (minutes for JAX and TensorFlow).

    PYTHONPATH=. .venv/bin/python scripts/minimal_seeds.py LIB [--out DIR]
    scripts/oneflow-env python scripts/minimal_seeds.py oneflow
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nabla_atheris.campaign import harness_env, harness_path  # noqa: E402
from nabla_atheris.libraries import LIBRARIES, record  # noqa: E402
from nabla_atheris.seeds import minimal_seeds  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lib", choices=sorted(LIBRARIES))
    parser.add_argument("--out", type=Path, help="default corpus/LIB")
    args = parser.parse_args()
    out = args.out or ROOT / "corpus" / args.lib
    start = time.time()
    counts = minimal_seeds(args.lib, out, harness_path(args.lib), harness_env(), record(args.lib).limits.flags())
    print(f"{args.lib}: {counts} -> {out} in {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
