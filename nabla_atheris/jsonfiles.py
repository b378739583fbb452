"""Reading the JSON files a campaign writes (finding metadata, worker statistics): one error type per
file kind, whose message names the file and what is wrong with it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_json_object(path: Path, error: type[ValueError]) -> dict[str, Any]:
    """The JSON object in `path`; `error` (naming the file) when it cannot be read, is not JSON or is not an object."""
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, RecursionError) as exc:
        raise error(f"cannot read {path}: {exc}") from None
    except ValueError as exc:
        raise error(f"{path} is not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise error(f"{path} is not a JSON object")
    return obj
