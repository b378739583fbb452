"""Shared entry point of the Atheris harnesses in `harnesses/`.

`atheris.instrument_imports` instruments whole top-level packages (all of torch: minutes of
start-up), so the harness imports normally and then instruments only the functions of the
AD-relevant modules it names, plus the project's own oracle, so that oracle outcomes guide the search.

Environment: NABLA_FINDINGS (findings folder, default ./findings, or a folder in the temporary
directory when the working folder is read-only, as it may be on a fuzzing service), NABLA_STATS
(statistics folder: this process writes its own worker-*.json there; default none), NABLA_RAISE=0
(findings are stored, none crashes: for merges), NABLA_RAISE_MISSING=1 (a new `missing-derivative`
finding crashes too), NABLA_INSTRUMENT (comma-separated module prefixes to instrument instead of
the library's AD modules and nabla_atheris), NABLA_UNGUIDED=1 (every input replaced by random bytes of its length: no
feedback, for benchmarks), NABLA_MUTATOR=libfuzzer (libFuzzer's mutations only, without `mutator.mutate`'s new
APIs: for benchmarks), NABLA_ONLY_API (inputs that decode to another API are skipped: crash
minimization cannot drift to another API's crash), NABLA_MAX_RSS_MB (default 4096, or 85% of
libFuzzer's -rss_limit_mb when that is lower; 0 for none): above 60% of it the process drops its
compiled code (JAX and TensorFlow keep it for every structure they meet), above it the process ends
cleanly before its next input, so that a campaign replaces the worker (and OSS-Fuzz restarts the
target) before libFuzzer's -rss_limit_mb calls it an OOM. NABLA_PARENT_PID (set by a campaign): the
process dies with it. NABLA_INSTRUMENT_CACHE (a folder; a campaign sets the user's cache
folder, `instrumentation.default_folder`): the instrumented code is kept there for the next process.
The statistics split the process' time: start-up until its first input, libFuzzer's first pass over the
corpus, later inputs.
The harness reads nothing relative to the source tree (the catalog is package data), so it also
runs frozen by PyInstaller, where argv[0] is the binary.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import sys
import tempfile
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import atheris

from nabla_atheris import instrumentation
from nabla_atheris.libraries import record

if TYPE_CHECKING:
    from nabla_atheris.backends import Backend

OWN_MODULES = ["nabla_atheris"]


DEFAULT_MAX_RSS_MB = 4096
RSS_LIMIT_SHARE = 0.85  # of libFuzzer's -rss_limit_mb: the memory budget when NABLA_MAX_RSS_MB is unset
RELEASE_SHARE = 0.6  # of the memory budget: above it, compiled code is dropped (JAX and TF keep it per structure)
ORIGINAL_CODE: dict[types.FunctionType, types.CodeType] = {}  # each instrumented function's own code


def guiding_modules(library: str) -> list[str]:
    """The modules whose coverage guides the search (and `coverage` reports): the library's AD
    machinery (its record's `ad_modules`) and nabla_atheris itself."""
    return [*record(library).ad_modules, *OWN_MODULES]


def _functions_of(module: types.ModuleType) -> list[types.FunctionType]:
    """Functions and methods defined in a module (not the ones it imports)."""
    found = []
    for value in list(vars(module).values()):
        if isinstance(value, types.FunctionType) and value.__module__ == module.__name__:
            found.append(value)
        elif isinstance(value, type) and value.__module__ == module.__name__:
            for member in list(vars(value).values()):
                target: Any = member.__func__ if isinstance(member, (staticmethod, classmethod)) else member
                if isinstance(target, property):
                    target = target.fget
                if isinstance(target, types.FunctionType):
                    found.append(target)
    return found


def instrument_modules(prefixes: list[str], cache: Path | None = None) -> int:
    """Instrument every function of the loaded modules under `prefixes` (reusing the instrumented code
    stored in `cache`, and adding to it); returns how many."""
    functions = [
        fn
        for name, module in list(sys.modules.items())
        if module is not None and name != __name__ and any(name == p or name.startswith(p + ".") for p in prefixes)
        for fn in _functions_of(module)
    ]
    originals = instrumentation.instrument(functions, cache)
    ORIGINAL_CODE.update(originals)
    return len(originals)


def run(library: str, argv: list[str]) -> None:
    """Import the library and the oracle, instrument its AD modules (or NABLA_INSTRUMENT's), then fuzz."""
    from nabla_atheris.mutator import mutate
    from nabla_atheris.session import FuzzSession

    session = FuzzSession(
        library,
        findings_dir(),
        Path(os.environ["NABLA_STATS"]) if os.environ.get("NABLA_STATS") else None,
        raise_missing=os.environ.get("NABLA_RAISE_MISSING") == "1",
        raise_new=os.environ.get("NABLA_RAISE", "1") != "0",
        only_api=os.environ.get("NABLA_ONLY_API") or None,
    )
    session.warm_up()
    start = time.time()
    chosen = os.environ.get("NABLA_INSTRUMENT")
    cache = os.environ.get("NABLA_INSTRUMENT_CACHE")
    prefixes = chosen.split(",") if chosen else guiding_modules(library)
    count = instrument_modules(prefixes, instrumentation.cache_file(Path(cache), library) if cache else None)
    print(f"INFO: nabla-atheris instrumented {count} functions in {time.time() - start:.1f} s", file=sys.stderr)
    target = unguided(session.test_one_input) if os.environ.get("NABLA_UNGUIDED") == "1" else session.test_one_input
    release = lambda: release_memory(session.backend)  # noqa: E731
    session.stats.replay_inputs = first_pass_inputs(argv)
    mutator = {} if os.environ.get("NABLA_MUTATOR") == "libfuzzer" or session.only_api else {"custom_mutator": mutate}
    atheris.Setup(argv, within_memory_budget(target, memory_budget_mb(argv), release), **mutator)
    atheris.Fuzz()


OTHER_MODES = ("-merge=", "-set_cover_merge=", "-minimize_crash=", "-fork=", "-jobs=")


def first_pass_inputs(argv: list[str]) -> int:
    """How many inputs libFuzzer's first pass over the corpus runs when fuzzing: an empty input, then
    every non-empty file of the corpus folders (0 in other modes: merges, minimization, single files)."""
    flags = [a for a in argv[1:] if a.startswith("-")]
    paths = [Path(a) for a in argv[1:] if not a.startswith("-")]
    if any(f.startswith(OTHER_MODES) for f in flags) or not paths or not all(p.is_dir() for p in paths):
        return 0
    return 1 + sum(1 for folder in paths for f in folder.rglob("*") if f.is_file() and f.stat().st_size > 0)


def unguided(test_one_input: Callable[[bytes], None]) -> Callable[[bytes], None]:
    """`test_one_input` fed random bytes of the length libFuzzer chose: coverage feedback cannot
    steer what runs (the baseline of the coverage-guidance benchmark)."""
    return lambda data: test_one_input(os.urandom(len(data)))


def findings_dir() -> Path:
    """NABLA_FINDINGS; else ./findings, or a folder in the temporary directory if the working folder is read-only."""
    if os.environ.get("NABLA_FINDINGS"):
        return Path(os.environ["NABLA_FINDINGS"])
    if os.access(".", os.W_OK):
        return Path("findings")
    return Path(tempfile.gettempdir()) / "nabla-atheris-findings"


def memory_budget_mb(argv: list[str]) -> float:
    """NABLA_MAX_RSS_MB; else the default, lowered to RSS_LIMIT_SHARE of libFuzzer's last -rss_limit_mb flag."""
    if os.environ.get("NABLA_MAX_RSS_MB"):
        return float(os.environ["NABLA_MAX_RSS_MB"])
    limits = [arg.split("=", 1)[1] for arg in argv[1:] if arg.startswith("-rss_limit_mb=")]
    limit = int(limits[-1]) if limits and limits[-1].isdigit() else 0
    return min(DEFAULT_MAX_RSS_MB, RSS_LIMIT_SHARE * limit) if limit > 0 else DEFAULT_MAX_RSS_MB


@contextlib.contextmanager
def uninstrumented(keep: tuple[str, ...] = ()) -> Any:
    """The instrumented functions, but those of the modules `keep` names (prefixes), run their own
    code inside the block (TorchDynamo cannot trace atheris' hooks: torch.compile traces without them)."""
    swapped = {fn: code for fn, code in ORIGINAL_CODE.items() if not fn.__module__.startswith(keep)}
    instrumented = {fn: fn.__code__ for fn in swapped}
    for fn, code in swapped.items():
        fn.__code__ = code
    try:
        yield
    finally:
        for fn, code in instrumented.items():
            fn.__code__ = code


def rss_mb() -> float:
    """The resident set size of this process in MiB (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def release_memory(backend: Backend) -> None:
    """Drop the backend's compiled code (recompiled on demand, from the persistent compilation cache
    where the library has one) and give freed heap memory back to the system."""
    backend.clear_cache()
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the memory stays with the process
        pass


def within_memory_budget(
    test_one_input: Callable[[bytes], None], budget_mb: float, release: Callable[[], None] = lambda: None
) -> Callable[[bytes], None]:
    """`test_one_input` that first keeps the process within `budget_mb`: above RELEASE_SHARE of it,
    `release` drops caches; still above the budget, the process ends (exit 0), to be replaced."""

    def guarded(data: bytes) -> None:
        if budget_mb and rss_mb() > RELEASE_SHARE * budget_mb:
            release()
            used = rss_mb()
            if used > budget_mb:
                print(
                    f"INFO: nabla-atheris: RSS {used:.0f} MB over NABLA_MAX_RSS_MB={budget_mb:.0f}; this worker ends",
                    file=sys.stderr,
                )
                sys.stderr.flush()
                os._exit(0)
        test_one_input(data)

    return guarded
