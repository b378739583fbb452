"""Seed corpora. `write_seeds` writes one input per catalog template, decoding to that template's
default call, and the library's program seeds (`program_seeds`: chains after common model
patterns). `minimal_seeds` makes the shipped seed corpus from them: one seed per API (its first
template), every program seed and, of the other templates, the smallest set that adds every coverage
feature they add (libFuzzer's -set_cover_merge through the harness); a seed that kills the harness (a
native crash, a timeout, an out-of-memory) is left out, since every worker would replay it and die
(and named in `LIB.left-out.txt` next to the folder). Seeds keep their names (`API.TEMPLATE`,
`LIB.program.PATTERN`) and bytes, so they decode to the same cases as `write_seeds`' do."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from nabla_atheris.catalog import load_catalog
from nabla_atheris.decoder import seed_bytes
from nabla_atheris.program_seeds import is_program_seed, program_seeds
from nabla_atheris.shellsafe import shell_safe


def seed_name(api: str, template: int) -> str:
    return f"{re.sub(r'[^A-Za-z0-9._-]', '_', api)}.{template}"


def write_seeds(library: str, out: Path, apis: set[str] | None = None) -> int:
    """Replace `out` with the library's seeds (of `apis` only, if given); returns how many were written."""
    catalog = load_catalog(library)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.iterdir():
        if old.is_file():
            old.unlink()
    count = 0
    for entry in catalog.apis.values():
        if apis is not None and entry.name not in apis:
            continue
        for index in range(len(entry.templates)):
            (out / seed_name(entry.name, index)).write_bytes(seed_bytes(catalog, entry.id, index))
            count += 1
    for name, data in program_seeds(library).items() if apis is None else ():
        (out / name).write_bytes(data)
        count += 1
    return count


def minimal_seeds(
    library: str,
    out: Path,
    harness: Path,
    env: dict[str, str],
    limit_flags: list[str],
    apis: set[str] | None = None,
    progress: Callable[[str], None] = print,
) -> dict[str, int]:
    """Replace `out` with the library's minimal seed corpus (see the module docstring); returns the
    counts: templates, kept, and left out because they kill the harness."""
    with tempfile.TemporaryDirectory(prefix="nabla-seeds-") as scratch:
        every, first, rest, merged, artifacts = (Path(scratch) / name for name in ("all", "first", "rest", "out", "artifacts"))
        for folder in (first, rest, merged, artifacts):
            folder.mkdir()
        total = write_seeds(library, every, apis)
        for path in every.iterdir():
            kept_whole = path.name.endswith(".0") or is_program_seed(path.name)
            shutil.copyfile(path, (first if kept_whole else rest) / path.name)
            if kept_whole:
                shutil.copyfile(path, merged / path.name)
        firsts, others = len(list(first.iterdir())), len(list(rest.iterdir()))
        progress(f"{total} seeds: {firsts} first templates and program seeds, a set cover of the {others} others")
        with shell_safe([harness, merged, rest, artifacts]) as (h, m, r, a):  # libFuzzer runs its merge through a shell
            command = [str(h), "-set_cover_merge=1", str(m), str(r), *limit_flags, f"-artifact_prefix={a}/"]
            scratch_env = {**env, "NABLA_FINDINGS": str(Path(scratch) / "findings"), "NABLA_RAISE": "0"}  # not kept
            result = subprocess.run(command, env=scratch_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
        log = result.stdout.decode(errors="replace")
        if result.returncode != 0 or "MERGE-OUTER:" not in log:
            raise RuntimeError(f"the merge failed (exit {result.returncode}):\n{log[-3000:]}")
        killers = {_digest(p.read_bytes()) for p in artifacts.iterdir() if p.is_file()}
        names = {_digest(p.read_bytes()): p.name for p in every.iterdir()}
        out.mkdir(parents=True, exist_ok=True)
        for old in out.iterdir():
            if old.is_file():
                old.unlink()
        kept = 0
        for path in merged.iterdir():
            digest = _digest(path.read_bytes())
            if digest not in killers:
                shutil.copyfile(path, out / names.get(digest, path.name))
                kept += 1
        left = sorted(names[d] for d in killers if d in names)
        left_out_file(out).write_text("".join(f"{name}\n" for name in left))
    return {"templates": total, "kept": kept, "left_out_killing_the_harness": len(left)}


def left_out_file(corpus: Path) -> Path:
    """Where `minimal_seeds` names the seeds it left out because they kill the harness (next to the
    corpus folder: every file in it is an input)."""
    return corpus.with_name(f"{corpus.name}.left-out.txt")


def left_out(corpus: Path) -> set[str]:
    """The seeds `minimal_seeds` left out of `corpus` because they kill the harness."""
    path = left_out_file(corpus)
    return set(path.read_text().split()) if path.is_file() else set()


def _digest(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()
