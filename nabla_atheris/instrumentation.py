"""Atheris' instrumentation of the guiding functions, kept between a campaign's processes.

Atheris rewrites each function's bytecode in Python: for JAX's AD modules that is 15-20 s of every
worker's start-up. The rewritten code depends only on the function's own code, but for its coverage
counters, which atheris numbers as it goes. So the instrumented code is stored (marshal) with a
placeholder per counter and per module object it references; a later process loads it, reserves as
many counters again and puts them in. A function whose code changed (another library version, an
edited file) has another fingerprint and is instrumented again.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import marshal
import os
import sys
import tempfile
import types
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

MARK = "__ATHERIS_INSTRUMENTED__"
FORMAT = 2  # of the stored file: part of its name (1: atheris 2.3's counters were stored as numbers)
_COUNTER = "__nabla_atheris_counter__"
_MODULE = "__nabla_atheris_module__"
_FAILED = b""  # stored for a function atheris cannot patch: not tried again
_UNSTORED = b"-"  # instrumented, but with no counter seen: instrumented anew by every process


class _Counter(int):
    """A counter number atheris reserved while instrumentation is recorded. It equals no plain int, so
    atheris never reuses its constant slot for another number (a comparison's operator, say)."""

    def __eq__(self, other: object) -> bool:
        return type(other) is _Counter and int(self) == int(other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = int.__hash__


def default_folder() -> Path:
    """Where campaigns keep instrumented code: the user's cache (`$XDG_CACHE_HOME/nabla-atheris/instrumented`),
    shared by every campaign of the machine (fingerprints keep library versions apart)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "nabla-atheris" / "instrumented"


def cache_file(folder: Path, library: str) -> Path:
    """Where a folder keeps a library's instrumented code: per Python and atheris version and file format."""
    try:
        version = importlib.metadata.version("atheris")
    except importlib.metadata.PackageNotFoundError:  # frozen by PyInstaller: no package metadata
        version = "unknown"
    python = f"py{sys.version_info[0]}{sys.version_info[1]}"
    return folder / f"{library}-{python}-atheris{version}-v{FORMAT}.marshal"


def fingerprint(code: types.CodeType) -> str:
    """A digest of what a function's code is (its bytecode, names, constants and nested code; not where it
    lives in memory), stable across processes."""
    digest = hashlib.sha256()

    def feed(c: types.CodeType) -> None:
        digest.update(c.co_code)
        digest.update(c.co_exceptiontable if hasattr(c, "co_exceptiontable") else b"")
        names = (c.co_name, c.co_filename, c.co_firstlineno, c.co_names, c.co_varnames, c.co_freevars, c.co_cellvars)
        digest.update(repr(names).encode())
        for const in c.co_consts:
            if isinstance(const, types.CodeType):
                feed(const)
            elif isinstance(const, frozenset):  # its repr's order follows string hashing, which varies per process
                digest.update(repr(sorted(map(repr, const))).encode())
            else:
                digest.update(repr(const).encode())

    feed(code)
    return digest.hexdigest()


def _map_constants(code: types.CodeType, replace: Callable[[Any], Any]) -> types.CodeType:
    """The code with `replace` applied to every constant, in nested code too."""
    consts = tuple(_map_constants(c, replace) if isinstance(c, types.CodeType) else replace(c) for c in code.co_consts)
    return code.replace(co_consts=consts)


def _portable(code: types.CodeType) -> tuple[types.CodeType, int]:
    """Recorded instrumented code with its counters and module objects as placeholders (marshal can store
    it), and how many counters it has."""
    numbering: dict[int, int] = {}

    def replace(const: Any) -> Any:
        if type(const) is _Counter:
            return (_COUNTER, numbering.setdefault(int(const), len(numbering)))
        if isinstance(const, types.ModuleType):
            return (_MODULE, const.__name__)
        return const

    return _map_constants(code, replace), len(numbering)


def _live(code: types.CodeType, reserve: Callable[[], int]) -> types.CodeType:
    """Stored or recorded code made runnable: each counter placeholder gets a counter of this process
    (recorded counters become plain ints), each module placeholder its module."""
    counters: dict[int, int] = {}

    def replace(const: Any) -> Any:
        if type(const) is _Counter:
            return int(const)
        if type(const) is tuple and len(const) == 2 and const[0] == _COUNTER:
            if const[1] not in counters:
                counters[const[1]] = reserve()
            return counters[const[1]]
        if type(const) is tuple and len(const) == 2 and const[0] == _MODULE:
            return sys.modules[const[1]]
        return const

    return _map_constants(code, replace)


def _load(path: Path | None) -> dict[str, bytes]:
    """The stored instrumented code by fingerprint; empty when there is none or the file is unreadable."""
    if path is None or not path.is_file():
        return {}
    try:
        stored = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        print(f"INFO: nabla-atheris: unreadable instrumentation cache {path.name}; instrumenting anew", file=sys.stderr)
        return {}
    return stored if isinstance(stored, dict) else {}


def _store(path: Path, entries: dict[str, bytes]) -> None:
    """Write the entries atomically (workers of one campaign may write at once: the last one stays)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".instrumented-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(marshal.dumps(entries))
        os.replace(temporary, path)
    except OSError:
        Path(temporary).unlink(missing_ok=True)


def instrument(functions: Iterable[types.FunctionType], cache: Path | None = None) -> dict[types.FunctionType, types.CodeType]:
    """Instrument the functions (those not yet instrumented) with atheris, reusing and extending the
    instrumented code stored in the `cache` file; returns each instrumented function's own code."""
    import atheris  # here, not at the top: campaigns read `default_folder` without loading atheris

    stored = _load(cache)
    used: dict[str, bytes] = {}  # what this process looked up: the file keeps only that (code that changed drops out)
    originals: dict[types.FunctionType, types.CodeType] = {}
    real_reserve = atheris._reserve_counter
    recording = lambda: _Counter(real_reserve())  # noqa: E731
    # atheris 3 reads the package's attribute at each counter, atheris 2.3 its own module's name
    modules = (atheris, getattr(atheris, "instrument_bytecode", None))
    owners = [module for module in modules if hasattr(module, "_reserve_counter")]
    for module in owners:
        module._reserve_counter = recording
    try:
        for fn in functions:
            original = fn.__code__
            if MARK in original.co_consts:
                continue
            key = fingerprint(original)
            blob = stored.get(key, used.get(key))
            recorded = blob is None
            blob = _recorded(fn) if recorded else blob
            if blob != _UNSTORED:
                used[key] = blob
            if blob == _FAILED:
                continue
            fn.__code__ = _live(fn.__code__ if recorded else marshal.loads(blob), real_reserve)
            originals[fn] = original
    finally:
        for module in owners:
            module._reserve_counter = real_reserve
    if cache is not None and used != stored:
        _store(cache, used)
    return originals


def _recorded(fn: types.FunctionType) -> bytes:
    """Instrument the function with atheris; its code in the stored form (_FAILED if atheris cannot patch it)."""
    import atheris

    try:
        atheris.instrument_func(fn)
    except Exception:  # some generated code cannot be patched; it stays uninstrumented
        return _FAILED
    portable, counters = _portable(fn.__code__)
    # Code whose counters were not seen as they were reserved would keep this process' numbers: not stored.
    return marshal.dumps(portable) if counters else _UNSTORED
