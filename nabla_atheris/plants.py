"""Test-only: a campaign with the test suite's planted interaction bugs (issue 19's evidence that
programs pay). `NABLA_TEST_PLANTS`, read here only, names the folder of the planted-bug modules
(`tests/` of the checkout: `planted_LIB.py`, whose PROGRAM_PLANTED lists each planted op with the
calls before it). When it is set, importing a library's module registers the ops
(`LIB.nabla_planted.NAME`), `load_catalog` appends each to the library's registry and catalog (one
template: a floating vector) and `program_seeds` adds the seed `LIB.program.plant-NAME`, the calls
before it then the op. Unset (as in every real campaign), nothing changes."""

from __future__ import annotations

import importlib
import os
import sys
from functools import cache

ENVIRONMENT = "NABLA_TEST_PLANTS"
PREFIX = "plant-"  # a planted op's program seed is LIB.program.plant-NAME
TEMPLATE = {"dims": {"a": 6}, "dtypes": ["float64", "float32"], "args": [{"tensor": ["a"]}]}


@cache
def planted_programs(library: str) -> dict[str, tuple[str, ...]]:
    """Each planted op's API name -> its program seed's APIs (the calls before it, then the op);
    empty unless the hook is set and its folder has the library's module."""
    folder = os.environ.get(ENVIRONMENT)
    if not folder or not os.path.isfile(os.path.join(folder, f"planted_{library}.py")):
        return {}
    if folder not in sys.path:
        sys.path.insert(0, folder)
    module = importlib.import_module(f"planted_{library}")
    out = {}
    for name, (_, _, before) in getattr(module, "PROGRAM_PLANTED", {}).items():
        api = f"{library}.nabla_planted.{name}"
        out[api] = (*(first for first, _ in before), api)
    return out


def with_plants(library: str, registry: list[str], apis: dict[str, list[dict]]) -> tuple[list[str], dict[str, list[dict]]]:
    """A catalog's registry and templates with the planted ops appended (unchanged without the hook)."""
    added = [api for api in planted_programs(library) if api not in apis]
    if not added:
        return registry, apis
    return [*registry, *added], {**apis, **{api: [TEMPLATE] for api in added}}


def plant_seed_patterns(library: str) -> dict[str, tuple[str, ...]]:
    """Program seed patterns of the planted ops: `plant-NAME` -> the APIs in call order."""
    return {f"{PREFIX}{api.rsplit('.', 1)[1]}": apis for api, apis in planted_programs(library).items()}
