"""Shared entry point of the Atheris harnesses in `harnesses/`.

Environment: NABLA_FINDINGS (findings folder, default ./findings), NABLA_STATS (statistics JSON,
default none), NABLA_RAISE_MISSING=1 (a new `missing-derivative` finding crashes too).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import atheris

OWN_MODULES = ["nabla_atheris"]


def run(library: str, argv: list[str], instrument: list[str]) -> None:
    """Import the library and the oracle with `instrument` packages instrumented, then fuzz."""
    with atheris.instrument_imports(include=instrument + OWN_MODULES):
        from nabla_atheris.session import FuzzSession

        session = FuzzSession(
            library,
            Path(os.environ.get("NABLA_FINDINGS", "findings")),
            Path(os.environ["NABLA_STATS"]) if os.environ.get("NABLA_STATS") else None,
            raise_missing=os.environ.get("NABLA_RAISE_MISSING") == "1",
        )
    atheris.Setup(argv, session.test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    sys.exit("run a harness from harnesses/ instead")
