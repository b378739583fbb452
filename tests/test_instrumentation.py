"""Instrumented code kept between processes: loaded code is atheris' code with counters of its own."""

from __future__ import annotations

import io
import types

import atheris
import pytest

from nabla_atheris import instrumentation
from nabla_atheris.campaign import Display, Workdir
from nabla_atheris.libraries import Limits
from nabla_atheris.supervisor import Plan, Supervisor

SOURCE = """
def compare(a, b):
    if a < b and a != 3:
        return [x for x in range(a) if x in {"p", "q"} or x > 1]
    return (lambda y: y == b)(a) or a >= 5

def text(s):
    return s.startswith("ab") and "c" not in s
"""


def fresh_functions(source: str = SOURCE) -> list[types.FunctionType]:
    """New function objects from the source (never instrumented yet)."""
    namespace: dict = {"__name__": "nabla_test_instrumented"}
    exec(compile(source, "nabla_test_instrumented.py", "exec"), namespace)
    return [value for value in namespace.values() if isinstance(value, types.FunctionType)]


def counters(code: types.CodeType) -> list[int]:
    """The coverage counters a piece of instrumented code passes to atheris (its int constants above 5)."""
    found = [c for c in code.co_consts if type(c) is int and c > 5]
    for nested in code.co_consts:
        if isinstance(nested, types.CodeType):
            found += counters(nested)
    return found


CALLS = [("compare", (1, 9)), ("compare", (3, 9)), ("compare", (7, 2)), ("compare", (5, 5))]
CALLS += [("text", ("abd",)), ("text", ("abc",))]


def results(functions: list[types.FunctionType]) -> list:
    by_name = {fn.__name__: fn for fn in functions}
    return [by_name[name](*args) for name, args in CALLS]


def test_stored_instrumentation_is_reused_with_fresh_counters(tmp_path, monkeypatch):
    cache = instrumentation.cache_file(tmp_path, "test")
    plain = results(fresh_functions())
    recorded = fresh_functions()
    assert len(instrumentation.instrument(recorded, cache)) == 2 and cache.is_file()
    monkeypatch.setattr(atheris, "instrument_func", lambda fn: pytest.fail("instrumented again"))
    loaded = fresh_functions()
    assert len(instrumentation.instrument(loaded, cache)) == 2
    for before, after in zip(recorded, loaded):
        assert instrumentation.MARK in after.__code__.co_consts
        assert before.__code__.co_code == after.__code__.co_code  # atheris' rewrite, taken from the file
        assert counters(after.__code__) and not set(counters(before.__code__)) & set(counters(after.__code__))
        assert all(type(c) is int for c in counters(after.__code__))
    assert results(recorded) == results(loaded) == plain


def test_changed_code_is_instrumented_anew(tmp_path):
    cache = instrumentation.cache_file(tmp_path, "test")
    instrumentation.instrument(fresh_functions(), cache)
    changed = fresh_functions(SOURCE.replace('"ab"', '"xy"'))
    instrumentation.instrument(changed, cache)
    assert {fn.__name__: fn for fn in changed}["text"]("xyz") is True
    assert len(instrumentation._load(cache)) == 2  # what the last process used: compare, the changed text


def test_an_unreadable_cache_is_replaced(tmp_path, capsys):
    cache = instrumentation.cache_file(tmp_path, "test")
    cache.write_bytes(b"\x00 not marshal")
    functions = fresh_functions()
    assert len(instrumentation.instrument(functions, cache)) == 2
    assert results(functions) == results(fresh_functions())
    assert "unreadable instrumentation cache" in capsys.readouterr().err
    assert len(instrumentation._load(cache)) == 2


def test_fingerprints_are_stable_and_tell_code_apart():
    first, second = fresh_functions(), fresh_functions()
    assert [instrumentation.fingerprint(f.__code__) for f in first] == [instrumentation.fingerprint(f.__code__) for f in second]
    other = fresh_functions(SOURCE.replace("a >= 5", "a >= 6"))
    assert instrumentation.fingerprint(first[0].__code__) != instrumentation.fingerprint(other[0].__code__)


def test_a_campaigns_workers_keep_instrumentation_in_the_users_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("NABLA_INSTRUMENT_CACHE", raising=False)
    workdir = Workdir(tmp_path / "work")
    workdir.create()
    plan = Plan("jax", tmp_path / "harness.py", tmp_path, 1, 10, Limits(10, 1024, 0), [], {})
    env = Supervisor(plan, workdir, Display(io.StringIO())).env
    assert env["NABLA_INSTRUMENT_CACHE"] == str(tmp_path / "xdg" / "nabla-atheris" / "instrumented")


def test_code_whose_counters_went_unseen_is_instrumented_anew_not_stored(tmp_path, monkeypatch):
    def unseen_counter(fn):  # an atheris that reserves counters where the recording cannot see them
        fn.__code__ = fn.__code__.replace(co_consts=(*fn.__code__.co_consts, instrumentation.MARK, 10**6))

    monkeypatch.setattr(atheris, "instrument_func", unseen_counter)
    cache = instrumentation.cache_file(tmp_path, "test")
    assert len(instrumentation.instrument(fresh_functions(), cache)) == 2
    assert instrumentation._load(cache) == {}
    again = fresh_functions()
    assert len(instrumentation.instrument(again, cache)) == 2 and all(10**6 in f.__code__.co_consts for f in again)
