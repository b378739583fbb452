#!/usr/bin/env python3
"""Build the OSS-Fuzz artifacts of the harnesses: `<fuzzer>_seed_corpus.zip` (from `corpus/<lib>/`)
and `<fuzzer>.options` (libFuzzer flags) per harness, into an output folder (OSS-Fuzz's $OUT).

    python3 scripts/build_oss_fuzz_artifacts.py --out "$OUT" [--libs torch,jax,tf]

No dictionary is written: the decoder (nabla_atheris/decoder.py) reads positional integers with
FuzzedDataProvider (format version, API id, template, dtype, sizes and choices from the tail; 3 bytes
per element value from the front, a selector byte below 32 picking a special value), so there are
no tokens whose insertion at a random offset means something; the comparisons a dictionary would
teach are traced by Atheris' instrumentation (libFuzzer's table of recent compares) anyway.

Only the standard library is used: OSS-Fuzz's build.sh runs it before the libraries matter.
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from nabla_atheris.libraries import RECORDS, record  # noqa: E402

# The libraries OSS-Fuzz builds: those of the main environment (OneFlow, with an environment of its own,
# needs Python 3.10; the base image has 3.11).
LIBRARIES = tuple(name for name, library in RECORDS.items() if not library.own_environment)
# libFuzzer flags per harness: the `fuzz` command's per-library timeout (the library's record: a check
# runs up to 13 scenarios and the first call of a structure compiles it, so seconds per input are
# normal) and a memory limit of at most 6144 MB, a size fuzzing services' machines give a target
# (the harness then keeps 85% of it as its own budget: above it a process ends cleanly instead of
# being reported as an OOM).
OSS_FUZZ_RSS_LIMIT_MB = 6144
OPTIONS: dict[str, dict[str, int]] = {
    library: {"timeout": limits.timeout_s, "rss_limit_mb": min(limits.rss_limit_mb, OSS_FUZZ_RSS_LIMIT_MB)}
    for library, limits in ((name, record(name).limits) for name in LIBRARIES)
}
# A fixed timestamp keeps the zips byte-identical across builds.
ZIP_DATE = (2020, 1, 1, 0, 0, 0)


def fuzzer_name(library: str) -> str:
    """The fuzz target's name: the harness file's stem (`harnesses/fuzz_jax.py` -> `fuzz_jax`)."""
    return f"fuzz_{library}"


def seed_files(library: str, root: Path = ROOT) -> list[Path]:
    """The seed inputs of a library, sorted (hidden files skipped)."""
    folder = root / "corpus" / library
    if not folder.is_dir():
        raise SystemExit(f"build_oss_fuzz_artifacts: no seed corpus folder {folder}")
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def write_seed_zip(library: str, out: Path, root: Path = ROOT) -> Path:
    """`<fuzzer>_seed_corpus.zip`: every seed at the top level of the archive, deterministic."""
    path = out / f"{fuzzer_name(library)}_seed_corpus.zip"
    files = seed_files(library, root)
    if not files:
        raise SystemExit(f"build_oss_fuzz_artifacts: the {library} seed corpus is empty")
    tmp = path.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for seed in files:
            info = zipfile.ZipInfo(seed.name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, seed.read_bytes())
    tmp.replace(path)
    return path


def options_text(library: str) -> str:
    """The `.options` file: an ini file whose [libfuzzer] section OSS-Fuzz passes as `-flag=value`."""
    lines = ["[libfuzzer]"] + [f"{key} = {value}" for key, value in OPTIONS[library].items()]
    return "\n".join(lines) + "\n"


def write_options(library: str, out: Path) -> Path:
    path = out / f"{fuzzer_name(library)}.options"
    path.write_text(options_text(library))
    return path


def build(out: Path, libraries: list[str], root: Path = ROOT) -> list[Path]:
    """Write every artifact of the libraries into `out`; the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for library in libraries:
        written.append(write_seed_zip(library, out, root))
        written.append(write_options(library, out))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="output folder (OSS-Fuzz's $OUT)")
    parser.add_argument("--libs", default=",".join(LIBRARIES), help=f"comma-separated (default {','.join(LIBRARIES)})")
    args = parser.parse_args(argv)
    libraries = [lib for lib in args.libs.replace(" ", ",").split(",") if lib]
    unknown = sorted(set(libraries) - set(LIBRARIES))
    if unknown:
        parser.error(f"unknown libraries: {', '.join(unknown)} (have {', '.join(LIBRARIES)})")
    for path in build(args.out, libraries):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
