"""Running a scenario: its result or the library's exception, told apart from nabla-atheris' own errors.

A library's error is data for the oracle (`Outcome.error`). An exception raised in the harness'
glue (a backend's conversion of a library result: the functions its modes module lists in `GLUE`)
or anywhere in the oracle's own code is a `HarnessError`: it propagates to the stage that ran the
scenario and becomes a `harness-error` of the verdict, never a finding against the library.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass
from types import CodeType
from typing import Any

from nabla_atheris.case import CaseFormatError


class HarnessError(Exception):
    """An error of nabla-atheris' own code met while running a scenario."""


@dataclass(frozen=True)
class Outcome:
    """A scenario's result, or the exception the library raised."""

    value: Any = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def raised_in(exc: BaseException, codes: frozenset[CodeType]) -> bool:
    """Whether the exception passed through one of the given functions (by their code objects)."""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code in codes:
            return True
        tb = tb.tb_next
    return False


def attempt(fn: Callable[..., Any], *args: Any, glue: frozenset[CodeType] = frozenset()) -> Outcome:
    """Run a scenario: its value, or the library's exception; an exception of the glue is a HarnessError."""
    try:
        return Outcome(value=fn(*args))
    except HarnessError:  # the backend's own check failed: never the library's error
        raise
    except CaseFormatError as exc:  # a program's reference to an output its call lacks: the case's error
        raise HarnessError(f"the case: {exc}") from exc
    except Exception as exc:  # any library error is data for the oracle
        if raised_in(exc, glue):
            raise HarnessError(f"converting a result: {describe(exc)}") from exc
        return Outcome(error=exc)


def describe(exc: BaseException) -> str:
    """`Type: first line of the message` (at most 200 characters of it)."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200] if text else ''}"


def where(exc: BaseException) -> str:
    """The innermost frame of an exception's traceback, as `file:line in function`."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "?"
    last = frames[-1]
    return f"{last.filename.rsplit('/', 1)[-1]}:{last.lineno} in {last.name}"
