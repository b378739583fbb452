"""Line coverage of a corpus: every input replayed once (decoded and checked, as the harness does)
under coverage.py, measured over the library's AD modules and nabla_atheris itself.

Only the replay is measured: lines that run at import (module level, `def` lines) count as missed,
so the percentages are lower bounds; compare corpora by their covered counts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import coverage

from nabla_atheris.backends import get_backend
from nabla_atheris.catalog import load_catalog
from nabla_atheris.decoder import decode_bytes
from nabla_atheris.harness import guiding_modules
from nabla_atheris.oracle import check_case


def package_of(filename: str, prefixes: list[str]) -> str:
    """The measured module prefix a file belongs to (the longest that matches its dotted path)."""
    dotted = "." + filename.removesuffix(".py").replace("/", ".") + "."
    found = [p for p in prefixes if f".{p}." in dotted]
    return max(found, key=len) if found else "other"


def corpus_coverage(
    library: str, inputs: list[Path], html_dir: Path | None = None, progress: Callable[[str], None] | None = None
) -> dict[str, tuple[int, int]]:
    """Replay `inputs` once under coverage; (statements, covered statements) per measured module prefix."""
    catalog, backend = load_catalog(library), get_backend(library)
    prefixes = guiding_modules(library)
    cov = coverage.Coverage(source_pkgs=prefixes, data_file=None)
    cov.set_option("run:disable_warnings", ["module-not-measured", "no-data-collected"])  # imported before the replay
    cov.start()
    try:
        for i, path in enumerate(inputs, 1):
            check_case(decode_bytes(path.read_bytes(), catalog), backend)
            if progress and (i % 50 == 0 or i == len(inputs)):
                progress(f"replayed {i}/{len(inputs)}")
    finally:
        cov.stop()
    totals: dict[str, tuple[int, int]] = {}
    for filename in cov.get_data().measured_files():
        _, statements, _, missing, _ = cov.analysis2(filename)
        package = package_of(filename, prefixes)
        total, covered = totals.get(package, (0, 0))
        totals[package] = (total + len(statements), covered + len(statements) - len(missing))
    if html_dir is not None:
        cov.html_report(directory=str(html_dir), title=f"nabla-atheris: {library} corpus coverage")
    return dict(sorted(totals.items()))


def render(totals: dict[str, tuple[int, int]]) -> str:
    """The coverage table as text."""
    lines = [f"{'module':42} {'statements':>10} {'covered':>8} {'%':>6}"]
    for package, (total, covered) in totals.items():
        lines.append(f"{package:42} {total:>10} {covered:>8} {100 * covered / max(total, 1):>6.1f}")
    return "\n".join(lines)
