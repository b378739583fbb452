"""A supervising parent for the commands that run a library in-process (check, repro, minimize,
coverage): the command runs in a child process, so that a native crash (a signal such as SIGSEGV or
SIGABRT) is reported in one line with the signal and the scenario that was running, and its own exit
code, instead of a process that dies without a word.

The child names each scenario before running it in a small file (`tracked` wraps the backend's
bound calls); the parent reads that file when the child died of a signal.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nabla_atheris import exitcodes

SUPERVISED = "NABLA_SUPERVISED"  # set in the child: it runs the command itself
SCENARIO_FILE = "NABLA_SCENARIO_FILE"  # where the child names the scenario it is running
SUPERVISED_COMMANDS = ("check", "repro", "minimize", "coverage")
ROOT = Path(__file__).resolve().parents[1]
STOPPING_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class ScenarioLog:
    """The child's side: the file that holds the scenario in progress (`API<TAB>scenario<TAB>state`)."""

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)

    def write(self, api: str, scenario: str, state: str) -> None:
        line = f"{api}\t{scenario}\t{state}\n".encode()
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, line, 0)


class _TrackedCall:
    """A bound call that names each scenario in the log before running it."""

    def __init__(self, call: Any, api: str, log: ScenarioLog) -> None:
        self._call, self._api, self._log = call, api, log

    def __getattr__(self, name: str) -> Any:
        return getattr(self._call, name)

    def _run(self, scenario: str, method: str, *args: Any, **kwargs: Any) -> Any:
        self._log.write(self._api, scenario, "running")
        result = getattr(self._call, method)(*args, **kwargs)
        self._log.write(self._api, scenario, "done")
        return result

    def direct(self, xs: Any = None) -> Any:
        # the direct call at other points than the case's own: a numerical derivative's evaluations
        return self._run("direct" if xs is None else "numeric", "direct", xs)

    def vjp(self, *args: Any, **kwargs: Any) -> Any:
        return self._run("rev", "vjp", *args, **kwargs)

    def jvp(self, *args: Any, **kwargs: Any) -> Any:
        return self._run("fwd", "jvp", *args, **kwargs)

    def second_order(self, mode: str, *args: Any, **kwargs: Any) -> Any:
        return self._run(mode, "second_order", mode, *args, **kwargs)

    def compiled(self, mode: str, *args: Any, **kwargs: Any) -> Any:
        return self._run(mode, "compiled", mode, *args, **kwargs)

    def batched(self, mode: str, *args: Any, **kwargs: Any) -> Any:
        return self._run(mode, "batched", mode, *args, **kwargs)

    def custom(self, rule: str, mode: str, *args: Any, **kwargs: Any) -> Any:
        return self._run(f"{rule}:{mode}", "custom", rule, mode, *args, **kwargs)


class _TrackedBackend:
    """A backend whose bound calls name their scenarios in the log."""

    def __init__(self, backend: Any, log: ScenarioLog) -> None:
        self._backend, self._log = backend, log

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)

    def bind(self, case: Any, *args: Any, **kwargs: Any) -> Any:
        self._log.write(case.api, "bind", "running")
        return _TrackedCall(self._backend.bind(case, *args, **kwargs), case.api, self._log)


def tracked(backend: Any) -> Any:
    """The backend, wrapped to name its scenarios when this process runs under a supervisor."""
    path = os.environ.get(SCENARIO_FILE)
    return _TrackedBackend(backend, ScenarioLog(path)) if path else backend


def supervise(argv: Sequence[str]) -> int:
    """Run `nabla-atheris ARGV` in a child process; its exit code, or NATIVE_CRASH (with a one-line
    report) when it died of a signal, INTERRUPTED when it was stopped."""
    with tempfile.TemporaryDirectory(prefix="nabla-supervise-") as scratch:
        log = Path(scratch) / "scenario"
        env = dict(
            os.environ,
            PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            **{SUPERVISED: "1", SCENARIO_FILE: str(log)},
        )
        child = subprocess.Popen([sys.executable, "-m", "nabla_atheris", *argv], env=env)
        code = _wait(child)
        if code >= 0:
            return code
        if -code in STOPPING_SIGNALS:
            print("nabla-atheris: interrupted", file=sys.stderr)
            return exitcodes.INTERRUPTED
        print(f"nabla-atheris: {crash_report(-code, log, argv[0])}", file=sys.stderr)
        return exitcodes.NATIVE_CRASH


def _wait(child: subprocess.Popen) -> int:
    """Wait for the child: Ctrl-C reaches it from the terminal (it stops cleanly); SIGTERM and SIGHUP
    sent to this process are passed on to it."""
    previous = {signal.SIGINT: signal.signal(signal.SIGINT, signal.SIG_IGN)}
    for s in (signal.SIGTERM, signal.SIGHUP):
        previous[s] = signal.signal(s, lambda number, _: child.send_signal(number))
    try:
        return child.wait()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def crash_report(number: int, log: Path, command: str) -> str:
    """One line: the signal the child died of, and the scenario it was running."""
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = "an unknown signal"
    what = f"{name} (signal {number}{', perhaps the out-of-memory killer' if number == signal.SIGKILL else ''})"
    try:
        api, scenario, state = log.read_text().rstrip("\n").split("\t")
    except (OSError, ValueError):
        return f"native crash: the {command} process died of {what} before any scenario ran"
    where = f"in scenario {scenario!r}" if state == "running" else f"after scenario {scenario!r} returned"
    hint = "; `minimize --native` shrinks a native crash" if command == "minimize" else ""
    return f"native crash: {api} died of {what} {where}{hint}"
