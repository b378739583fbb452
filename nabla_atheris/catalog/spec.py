"""Shorthands for writing catalog templates by hand (the generators' `*_manual_templates.py`)."""

from __future__ import annotations

from typing import Any

REAL = ["float64", "float32"]
ALL = ["float64", "float32", "complex128", "complex64", "bfloat16"]


def t(*shape: Any, **extra: Any) -> dict:
    """A tensor slot: sizes and dimension symbols, optional dtype, range or domain."""
    return {"tensor": list(shape), **extra}


def v(value: Any, *choices: Any) -> dict:
    """An attribute slot: its default value and the alternatives the decoder may pick."""
    return {"value": value, "choices": list(choices)} if choices else {"value": value}


def call(dims: dict[str, int], args: list, kwargs: dict | None = None, dtypes: list[str] = REAL) -> list[dict]:
    """The one-template list of an API: default dimension sizes, arguments, keyword arguments, dtypes."""
    template: dict[str, Any] = {"dims": dims, "dtypes": dtypes, "args": args}
    if kwargs:
        template["kwargs"] = kwargs
    return [template]
