"""The findings store: one folder per signature (a function, a class of scenario, an error: see
`rootcause.finding_key`), written atomically, with input, case, standalone reproducer and report;
repeated hits count up by variant (kind, scenario pair, dtype class) and by API, and keep the smallest input
(whose kind, message, error and details then describe the stored input). Each finding names its root cause
(`rootcause`); `roots/` holds one marker file per root cause, created atomically, so that several
processes agree on which finding was the first of its root cause."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nabla_atheris.case import Case, encode
from nabla_atheris.jsonfiles import read_json_object
from nabla_atheris.rootcause import root_cause
from nabla_atheris.verdict import Finding

INPUT_FILE = "input"
CASE_FILE = "case.msgpack"
REPRO_FILE = "repro.py"
REPORT_FILE = "report.md"
META_FILE = "finding.json"
ROOTS_DIR = "roots"


def finding_root(finding: Finding) -> str:
    """The root-cause key of a finding."""
    return root_cause(finding.library, finding.key_api, finding.kind, finding.scenarios, str(finding.details.get("error", "")))


def meta_root(meta: dict[str, Any]) -> str:
    """A stored finding's root cause (computed for findings stored before root causes were recorded)."""
    if meta.get("root_cause"):
        return str(meta["root_cause"])
    error = str(meta.get("details", {}).get("error", ""))
    return root_cause(meta["library"], meta["api"], meta["kind"], tuple(meta["scenarios"]), error)


def slug(signature: str) -> str:
    """A folder name for a signature: readable, and unique by a short hash."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", signature)[:100]
    return f"{readable}-{hashlib.sha256(signature.encode()).hexdigest()[:10]}"


def render_report(finding: Finding, case: Case, meta: dict[str, Any]) -> str:
    """A short Markdown report of a finding."""
    a, b = finding.scenarios
    lines = [
        f"# {finding.kind}: `{finding.api}` ({finding.library} {meta.get('library_version', '')})",
        "",
        f"- scenarios: **{a}** vs **{b}**",
        f"- dtype class: {finding.dtype_class}",
        f"- what: {finding.message}",
        f"- max error: {finding.max_error:.6g}",
        f"- hits: {meta['hits']}, first seen {meta['first_seen']}",
        *([f"- seen in {len(meta['apis'])} APIs: {', '.join(sorted(meta['apis']))}"] if len(meta.get("apis", {})) > 1 else []),
        f"- signature: `{finding.signature()}`",
        f"- root cause: `{meta.get('root_cause', finding_root(finding))}`",
        *([f"- keyed by its call `{finding.keyed_by}`, which shows it alone on its values"] if finding.keyed_by else []),
    ]
    location = finding.details.get("location")
    if location:
        lines.append(
            f"- worst Jacobian entry: d output{location['output']} / d input{location['input']}: "
            f"{location['a']:.6g} ({a}) vs {location['b']:.6g} ({b})"
        )
    tensors = ", ".join(f"{t.dtype}{list(t.shape)}{'*' if t.differentiable else ''}" for t in case.tensors())
    lines += [
        f"- tensors (* differentiable): {tensors}",
        "",
        "Reproduce: `python repro.py` (imports only the library and numpy; exits 1 while the bug is present),",
        f"or `nabla-atheris repro {slug(finding.signature())}`.",
        "",
    ]
    return "\n".join(lines)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and value != value:
        return "nan"
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


class FindingFormatError(ValueError):
    """A finding's finding.json is missing, unreadable or malformed."""


# The fields of finding.json its readers rely on, and their types (a number may be NaN, written as such).
META_FIELDS: dict[str, tuple[type, ...]] = {
    "signature": (str,),
    "kind": (str,),
    "scenarios": (list,),
    "library": (str,),
    "api": (str,),
    "message": (str,),
    "hits": (int,),
    "first_seen": (str,),
    "input_size": (int,),
}
OPTIONAL_META_FIELDS: dict[str, tuple[type, ...]] = {
    "root_cause": (str,),
    "details": (dict,),
    "max_error": (int, float, str),
    "last_seen": (str,),
    "from_fuzzer": (bool,),
    "dtype_class": (str,),
    "library_version": (str,),
    "apis": (dict,),
}


def read_meta(folder: Path) -> dict[str, Any]:
    """A finding's metadata (finding.json), checked field by field; `FindingFormatError` names what is wrong."""
    path = folder / META_FILE
    meta = read_json_object(path, FindingFormatError)
    for name, types in {**META_FIELDS, **OPTIONAL_META_FIELDS}.items():
        if name not in meta and name in OPTIONAL_META_FIELDS:
            continue
        value = meta.get(name)
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise FindingFormatError(f"{path}: field {name!r} is {'missing' if name not in meta else 'malformed'}")
    scenarios_ok = len(meta["scenarios"]) == 2 and all(isinstance(s, str) for s in meta["scenarios"])
    if not scenarios_ok or meta["hits"] < 1 or meta["input_size"] < 0:
        raise FindingFormatError(f"{path}: malformed scenarios, hits or input_size")
    return meta


def folder_meta(path: Path) -> dict[str, Any] | None:
    """The metadata of a finding folder, None for any other path; `FindingFormatError` for a corrupted one."""
    return read_meta(path) if path.is_dir() and (path / META_FILE).is_file() else None


def is_native(meta: dict[str, Any]) -> bool:
    """Whether a finding is a native crash, timeout or OOM met by libFuzzer (scenarios `harness`)."""
    return meta["scenarios"] == ["harness", "harness"]


def _read_meta(folder: Path) -> dict[str, Any] | None:
    """A finding's metadata, or None with a warning on stderr (for the writers, which carry on)."""
    try:
        return read_meta(folder)
    except FindingFormatError as exc:
        print(f"nabla-atheris: warning: unreadable finding ({exc}); skipped", file=sys.stderr)
        return None


class FindingsStore:
    """Findings under one folder; safe for several processes writing at once."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def _lock(self) -> Iterator[None]:
        with open(self.root / ".lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def folders(self) -> list[Path]:
        return sorted(p for p in self.root.iterdir() if (p / META_FILE).is_file())

    def entries(self) -> list[tuple[Path, dict[str, Any]]]:
        """(folder, metadata) of every readable stored finding (an unreadable one is named on stderr)."""
        pairs = [(p, _read_meta(p)) for p in self.folders()]
        return [(p, m) for p, m in pairs if m is not None]

    def scan(self) -> tuple[list[tuple[Path, dict[str, Any]]], list[str]]:
        """(folder, metadata) of every readable stored finding, and what is wrong with the others (quietly)."""
        readable, problems = [], []
        for folder in self.folders():
            try:
                readable.append((folder, read_meta(folder)))
            except FindingFormatError as exc:
                problems.append(str(exc))
        return readable, problems

    def metas(self) -> list[dict[str, Any]]:
        """The metadata of every readable stored finding."""
        return [m for _, m in self.entries()]

    def claim_root(self, root: str) -> bool:
        """Mark a root cause as met; True for the first claim in this store (atomic across processes)."""
        folder = self.root / ROOTS_DIR
        folder.mkdir(exist_ok=True)
        try:
            fd = os.open(folder / slug(root), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w") as handle:
            handle.write(root + "\n")
        return True

    def record(
        self, finding: Finding, case: Case, data: bytes | None, reproducer: str, library_version: str = ""
    ) -> tuple[Path, bool, bool]:
        """Store a finding; returns its folder, whether its signature is new and whether its root cause is."""
        root = finding_root(finding)
        new_root = self.claim_root(root)
        folder, new = self._record(finding, case, data, reproducer, library_version, root)
        return folder, new, new_root

    def _record(
        self, finding: Finding, case: Case, data: bytes | None, reproducer: str, library_version: str, root: str
    ) -> tuple[Path, bool]:
        folder = self.root / slug(finding.signature())
        payload = data if data is not None else encode(case)
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        with self._lock():
            meta = _read_meta(folder) if (folder / META_FILE).is_file() else None
            if meta is not None:  # an unreadable finding.json is written anew below
                meta["hits"] += 1
                meta["last_seen"] = now
                variants = meta.setdefault("variants", {})
                variants[finding.variant()] = variants.get(finding.variant(), 0) + 1
                apis = meta.setdefault("apis", {meta["api"]: meta["hits"] - 1})
                apis[finding.api] = apis.get(finding.api, 0) + 1
                if len(payload) < meta["input_size"]:  # the smaller input's own kind, message, error and details
                    meta.update(input_size=len(payload), message=finding.message, max_error=finding.max_error, api=finding.api)
                    meta.update(kind=finding.kind, scenarios=list(finding.scenarios), dtype_class=finding.dtype_class)
                    meta["details"] = _jsonable(finding.details)
                    self._write_files(folder, finding, case, payload, reproducer, meta)
                else:
                    _atomic_write(folder / META_FILE, json.dumps(meta, indent=2).encode())
                return folder, False
            meta = {
                "signature": finding.signature(),
                "root_cause": root,
                "kind": finding.kind,
                "scenarios": list(finding.scenarios),
                "library": finding.library,
                "library_version": library_version,
                "api": finding.api,
                "dtype_class": finding.dtype_class,
                "message": finding.message,
                "max_error": finding.max_error,
                "details": _jsonable(finding.details),
                "hits": 1,
                "variants": {finding.variant(): 1},
                "apis": {finding.api: 1},
                "first_seen": now,
                "last_seen": now,
                "input_size": len(payload),
                "from_fuzzer": data is not None,
            }
            if folder.is_dir():  # its finding.json was unreadable: the files are rewritten in place
                self._write_files(folder, finding, case, payload, reproducer, meta)
                return folder, True
            staging = Path(tempfile.mkdtemp(prefix=".new-", dir=self.root))
            self._write_files(staging, finding, case, payload, reproducer, meta)
            os.rename(staging, folder)
            return folder, True

    def _write_files(self, folder: Path, finding: Finding, case: Case, payload: bytes, reproducer: str, meta: dict) -> None:
        _atomic_write(folder / INPUT_FILE, payload)
        _atomic_write(folder / CASE_FILE, encode(case))
        _atomic_write(folder / REPRO_FILE, reproducer.encode(), mode=0o755)
        _atomic_write(folder / REPORT_FILE, render_report(finding, case, meta).encode())
        _atomic_write(folder / META_FILE, json.dumps(meta, indent=2).encode())


def _atomic_write(path: Path, data: bytes, mode: int = 0o644) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)
