#!/usr/bin/env python3
"""Checks per second of the projection oracle vs a full-Jacobian (∇Fuzz-style) check vs the bare
direct call, on the same cases (the seed corpus), measured side by side in one run. For a backend
with compiled scenarios (JAX, TensorFlow), also the oracle without them (eager only), with one
compiler's scenarios at a time (jit; graph, xla), and with a cold compile cache (every structure
compiled anew, as for structures a campaign meets for the first time).

    PYTHONPATH=. .venv/bin/python scripts/bench_oracle.py [--lib torch] [--rounds 2] [--limit N] [--out bench-oracle.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from nabla_atheris.backends import get_backend
from nabla_atheris.catalog import load_catalog
from nabla_atheris.decoder import decode_bytes
from nabla_atheris.jacobians import full_jacobian_check
from nabla_atheris.oracle import check_case

ROOT = Path(__file__).resolve().parents[1]


class WithCompiledModes:
    """A backend seen with only some of its compiled scenarios."""

    def __init__(self, backend, compiled_modes: tuple[str, ...]) -> None:
        self.backend = backend
        self.compiled_modes = compiled_modes

    def __getattr__(self, name):
        return getattr(self.backend, name)


def timed(label: str, fn, cases, rounds: int) -> dict:
    errors = 0
    start = time.perf_counter()
    for _ in range(rounds):
        for case in cases:
            try:
                fn(case)
            except Exception:  # invalid calls count as checks, as in a campaign
                errors += 1
    elapsed = time.perf_counter() - start
    return {
        "label": label,
        "checks": len(cases) * rounds,
        "seconds": round(elapsed, 3),
        "checks_per_s": round(len(cases) * rounds / elapsed, 2),
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lib", default="torch")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--limit", type=int, default=0, help="use N seeds spread over the corpus (0: all)")
    parser.add_argument("--out", type=Path, default=Path("bench-oracle.json"))
    args = parser.parse_args()
    catalog, backend = load_catalog(args.lib), get_backend(args.lib)
    seeds = sorted((ROOT / "corpus" / args.lib).iterdir())
    if args.limit:  # evenly spread over the corpus (sorted by API name), not its first namespace
        seeds = seeds[:: max(1, len(seeds) // args.limit)][: args.limit]
    cases = [decode_bytes(p.read_bytes(), catalog) for p in seeds]

    def direct(case):
        backend.bind(case).direct()

    methods = [
        ("direct call only", direct),
        ("projection oracle (all checks, second order included)", lambda c: check_case(c, backend)),
        ("full-Jacobian first-order check (∇Fuzz-style)", lambda c: full_jacobian_check(c, backend)),
    ]
    if backend.compiled_modes:
        compilers = sorted({mode.split("-", 1)[0] for mode in backend.compiled_modes})

        def cold(case):
            backend.clear_cache()
            check_case(case, backend)

        for subset, label in [
            ((), "eager only"),
            *((tuple(m for m in backend.compiled_modes if m.startswith(c)), c) for c in compilers),
        ]:
            view = WithCompiledModes(backend, subset)
            methods.append(
                (f"projection oracle, {label} (compiled scenarios: {len(subset)})", lambda c, view=view: check_case(c, view))
            )
        methods.append(("projection oracle, cold compile cache (every structure compiled anew)", cold))
    rows = []
    for label, fn in methods:  # each timed right after an untimed pass of its own (lazy imports, compilation)
        timed(label, fn, cases, 1)
        rows.append(timed(label, fn, cases, args.rounds))
    base = rows[1]["checks_per_s"]
    for row in rows:
        row["relative_to_projection"] = round(row["checks_per_s"] / base, 3)
    args.out.write_text(json.dumps({"library": args.lib, "cases": len(cases), "rows": rows}, indent=2))
    print(f"| scenario ({len(cases)} seed cases x {args.rounds}) | checks/s | relative to projection oracle |")
    print("|---|---|---|")
    for row in rows:
        print(f"| {row['label']} | {row['checks_per_s']} | {row['relative_to_projection']} |")


if __name__ == "__main__":
    main()
