"""libFuzzer's -merge, -fork and -minimize_crash run their child processes through the shell with
the command line joined by spaces, unquoted: a path with a space or a non-ASCII character breaks
them (a merge of nothing, exit 0). `shell_safe` gives stand-ins for such paths: symbolic links with
plain names in a temporary folder."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SAFE = re.compile(r"[A-Za-z0-9_./+=:,@%-]+")


def is_safe(path: Path | str) -> bool:
    """Whether a path passes through a shell unchanged."""
    return SAFE.fullmatch(str(path)) is not None


@contextmanager
def shell_safe(paths: list[Path]) -> Iterator[list[Path]]:
    """The paths, each replaced by a symbolic link with a plain name when it is not shell-safe (the
    links live as long as the context)."""
    if all(is_safe(p) for p in paths):
        yield list(paths)
        return
    base = Path(tempfile.gettempdir())
    folder = Path(tempfile.mkdtemp(prefix="nabla-links-", dir=base if is_safe(base) else "/tmp"))
    try:
        stand_ins = []
        for number, path in enumerate(paths):
            if is_safe(path):
                stand_ins.append(path)
                continue
            suffix = path.suffix if path.suffix and is_safe(path.suffix) else ""
            link = folder / f"p{number}{suffix}"
            link.symlink_to(path.resolve())
            stand_ins.append(link)
        yield stand_ins
    finally:
        for link in folder.iterdir():
            link.unlink()
        folder.rmdir()
