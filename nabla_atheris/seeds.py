"""Seed corpora: one input per catalog template, decoding to that template's default call."""

from __future__ import annotations

import re
from pathlib import Path

from nabla_atheris.catalog import load_catalog
from nabla_atheris.decoder import seed_bytes


def seed_name(api: str, template: int) -> str:
    return f"{re.sub(r'[^A-Za-z0-9._-]', '_', api)}.{template}"


def write_seeds(library: str, out: Path) -> int:
    """Replace `out` with the library's seeds; returns how many were written."""
    catalog = load_catalog(library)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.iterdir():
        if old.is_file():
            old.unlink()
    count = 0
    for entry in catalog.apis.values():
        for index in range(len(entry.templates)):
            (out / seed_name(entry.name, index)).write_bytes(seed_bytes(catalog, entry.id, index))
            count += 1
    return count
