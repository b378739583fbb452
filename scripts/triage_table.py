#!/usr/bin/env python3
"""The skeleton of a campaign's triage table (bench/triage/LIB.md): one row per unique finding other
than missing derivatives and flaky native crashes, grouped by root cause, with its reproducer's exit code (run here) and an
empty verdict for a person to fill in: TRUE (a library bug), BY-DESIGN (documented behaviour) or
FALSE-POSITIVE (not a bug of the library: the harness' or the oracle's), with one line of reason
from the library's documentation or the math.

    PYTHONPATH=. .venv/bin/python scripts/triage_table.py WORKDIR [PYTHON] [--previous OLD.md] > bench/triage/LIB.md

With --previous, a row whose API, kind and scenario pair an earlier table judged keeps that
verdict and reason (marked "(carried over)"), so that a re-run campaign needs judging only for
what is new.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nabla_atheris.findings import REPRO_FILE  # noqa: E402
from nabla_atheris.report import read_campaign, root_counts  # noqa: E402

VERDICTS = ("TRUE", "BY-DESIGN", "FALSE-POSITIVE")
COLUMNS = ("#", "root cause", "API", "kind", "scenarios", "what the finding says", "repro exit", "verdict", "reason")


def repro_exit(path: Path, python: str) -> str:
    """The reproducer's exit code (a native crash shows as a negative signal number)."""
    try:
        return str(subprocess.run([python, str(path)], capture_output=True, timeout=600).returncode)
    except subprocess.TimeoutExpired:
        return "timeout"


def judged_rows(path: Path) -> dict[tuple[str, str, str], tuple[str, str]]:
    """(API, kind, scenarios) -> (verdict, reason) of an earlier table's judged rows."""
    judged = {}
    for line in path.read_text().splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        if line.startswith("| ") and cells[0].isdigit() and len(cells) >= 9 and cells[7] in VERDICTS:
            reason = cells[8].removesuffix(" (carried over)")
            judged[(cells[2], cells[3], cells[4])] = (cells[7], reason)
    return judged


def main() -> int:
    parser = argparse.ArgumentParser(description="The skeleton of a campaign's triage table (Markdown, on stdout).")
    parser.add_argument("workdir", type=Path, help="the campaign folder")
    parser.add_argument("python", nargs="?", default=sys.executable, help="the interpreter that runs the reproducers")
    parser.add_argument("--previous", type=Path, help="an earlier table whose verdicts carry over")
    args = parser.parse_args()
    if not (args.workdir / "findings").is_dir():
        parser.error(f"{args.workdir} is not a campaign folder (it has no findings/)")
    if args.previous is not None and not args.previous.is_file():
        parser.error(f"{args.previous}: no such table")
    previous = judged_rows(args.previous) if args.previous is not None else {}
    campaign = read_campaign(args.workdir)
    python = args.python
    rows = [r for r in campaign.findings if r["kind"] != "missing-derivative"]  # flaky crashes are apart already
    counts = root_counts(rows)
    print(f"Campaign `{campaign.root.name}`: {campaign.totals['execs']} cases, {len(rows)} unique findings other than")
    print(f"missing derivatives in {counts['root_causes']} root causes.\n")
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "---|" * len(COLUMNS))
    for number, r in enumerate(rows, 1):
        code = repro_exit(r["folder"] / REPRO_FILE, python)
        message = r["message"][:160]
        verdict, reason = previous.get((f"`{r['api']}`", r["kind"], r["scenarios"]), ("?", "?"))
        reason = reason if verdict == "?" else f"{reason} (carried over)"
        cells = [str(number), f"`{r['root']}`", f"`{r['api']}`", r["kind"], r["scenarios"], message, code, verdict, reason]
        print("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
