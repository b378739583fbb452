"""Triage of libFuzzer's artifacts (crash-, timeout-, oom- files): each is re-run once through the
harness; a native crash, timeout or out-of-memory becomes a finding of that kind with its input, case
and reproducer, marked flaky when the re-run does not repeat it, first seen when the artifact was
written. A crash artifact that is an oracle finding (a worker that crashed on purpose,
`--crash-on-findings`) is already in the store and is only noted. Every artifact is triaged once:
the outcomes are kept in `artifacts/triage.json`. A campaign triages while it runs (`Triage`, one
artifact at a time, in the background), so that a run ends on time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nabla_atheris import exitcodes
from nabla_atheris.backends import Backend, get_backend
from nabla_atheris.campaign import Workdir, harness_env, harness_path
from nabla_atheris.case import Case
from nabla_atheris.catalog import Catalog, load_catalog
from nabla_atheris.decoder import decode_bytes, first_call_bytes
from nabla_atheris.findings import META_FILE, FindingsStore
from nabla_atheris.libraries import Limits, record
from nabla_atheris.lifetime import PARENT_ENV
from nabla_atheris.minimize import write_minimized
from nabla_atheris.oracle.subject import dtype_class
from nabla_atheris.reproducer import render_reproducer
from nabla_atheris.verdict import Finding
from nabla_atheris.workers import stop_session

TRIAGE_FILE = "triage.json"
NATIVE_SCENARIOS = ("harness", "harness")
KIND_OF_PREFIX = {"crash-": "crash", "leak-": "crash", "timeout-": "timeout", "oom-": "oom"}
NATIVE_KINDS = ("crash", "timeout", "oom")
ORACLE_FINDING = "oracle-finding"
# What a re-run's output says, most specific first.
SIGNS = (
    (ORACLE_FINDING, ("NewFinding",)),
    ("timeout", ("ERROR: libFuzzer: timeout", "ALARM: working on the last Unit")),
    ("oom", ("ERROR: libFuzzer: out-of-memory", "out-of-memory (used:")),
    ("crash", ("ERROR: libFuzzer: deadly signal", "Uncaught Python exception", "ERROR: libFuzzer:", "Segmentation fault")),
)


@dataclass(frozen=True)
class Rerun:
    """The outcome of running one artifact again: what happened (a kind, `oracle-finding` or None for
    a clean run), the exit code and the last lines of output."""

    outcome: str | None
    exit_code: int
    tail: str


def classify_rerun(exit_code: int, output: str) -> str | None:
    """What a re-run's exit code and output say happened: a kind, `oracle-finding`, `error` (a failure
    libFuzzer does not report as a crash, such as a missing file) or None (a clean run)."""
    for outcome, signs in SIGNS:
        if any(sign in output for sign in signs):
            return outcome
    return None if exit_code == 0 else "error"  # it failed, but not as libFuzzer reports a crash: unconfirmed


def scratch_env(env: dict[str, str], scratch: str, **extra: str) -> dict[str, str]:
    """A campaign's harness environment for a one-off run: findings into `scratch`, no statistics."""
    run_env = dict(env, NABLA_FINDINGS=scratch, **extra)
    run_env.pop("NABLA_STATS", None)
    return run_env


class Stopped(Exception):
    """A re-run was stopped before it ended (the campaign's time is up)."""


def rerun(
    harness_argv: list[str], artifact: Path, env: dict[str, str], limits: Limits, stop: threading.Event | None = None
) -> Rerun:
    """Run one input through the harness, as libFuzzer does with a file argument, with the campaign's
    environment and limits and a fresh findings store: under --crash-on-findings an oracle finding
    raises again (it is then recognized as one); by default (NABLA_RAISE=0) none does, so only a
    native crash, timeout or OOM can repeat. Setting `stop` ends the re-run (`Stopped`)."""
    limit = time.time() + limits.timeout_s * 2 + 300
    with tempfile.TemporaryDirectory(prefix="nabla-rerun-") as scratch, tempfile.TemporaryFile() as output:
        proc = subprocess.Popen(
            [*harness_argv, *limits.flags(), str(artifact.resolve())],
            env={**scratch_env(env, scratch), PARENT_ENV: str(os.getpid())},
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=scratch,
            start_new_session=True,
        )
        while proc.poll() is None and time.time() < limit and not (stop is not None and stop.is_set()):
            time.sleep(0.2)
        running = proc.poll() is None
        timed_out = running and time.time() >= limit
        stop_session(proc, grace_s=2.0)
        if running and not timed_out:
            raise Stopped(artifact.name)
        output.seek(0)
        text = output.read().decode(errors="replace") + ("\nALARM: working on the last Unit" if timed_out else "")
    code = -9 if timed_out else proc.returncode
    return Rerun(classify_rerun(code, text), code, "\n".join(text.strip().splitlines()[-12:]))


def every_scenario(backend: Backend) -> list[str]:
    """The scenarios a native-crash reproducer runs in turn after the direct call."""
    return [*backend.first_order_modes, *backend.compiled_modes, *backend.second_order_modes]


def native_finding(
    kind: str, data: bytes, catalog: Catalog, result: Rerun, artifact: str, backend: Backend
) -> tuple[Finding, Case]:
    """The finding of a native crash, timeout or OOM, and its case."""
    case = decode_bytes(data, catalog)
    flaky = result.outcome != kind
    what = f"not repeated by a re-run (exit {result.exit_code}): flaky" if flaky else "repeated by a re-run"
    finding = Finding(
        kind,
        NATIVE_SCENARIOS,
        case.library,
        case.name(),
        dtype_class(case),
        f"libFuzzer {kind} ({artifact}), {what}",
        details={
            "artifact": artifact,
            "flaky": flaky,
            "rerun_exit": result.exit_code,
            "rerun_tail": result.tail,
            "modes": every_scenario(backend),
        },
    )
    return finding, case


def key_by_first_call(finding: Finding, case: Case, data: bytes, catalog: Catalog, rerun_alone: Callable[[Path], Rerun]) -> None:
    """A program's native crash, timeout or OOM that its first call repeats alone (`rerun_alone` of
    that call's bytes) is keyed by that call: the harness cannot tell which call of a program died,
    and a program that merely reaches a call's crash is that call's finding."""
    alone = first_call_bytes(data, catalog) if case.then else None
    if alone is None:
        return
    with tempfile.TemporaryDirectory(prefix="nabla-first-call-") as scratch:
        path = Path(scratch) / "first-call"
        path.write_bytes(alone)
        if rerun_alone(path).outcome == finding.kind:
            finding.keyed_by = case.api


def triage_artifacts(
    workdir: Workdir,
    library: str,
    harness_argv: list[str],
    env: dict[str, str],
    limits: Limits,
    catalog: Catalog | None = None,
    progress: Callable[[str], None] = print,
    stop: threading.Event | None = None,
) -> dict[str, Any]:
    """Re-run every artifact not yet triaged and record what it is; returns the triage registry.
    Setting `stop` ends the triage: an artifact whose re-run was stopped is left for the next one."""
    from nabla_atheris.backends import get_backend

    registry_path = workdir.artifacts / TRIAGE_FILE
    registry = _read_registry(registry_path)
    pending = [p for p in workdir.artifact_files() if p.name not in registry]
    if not pending:
        return registry
    catalog = catalog or load_catalog(library)
    backend = get_backend(library)
    store = FindingsStore(workdir.findings)
    for number, artifact in enumerate(pending, 1):
        if stop is not None and stop.is_set():
            break
        kind = next(k for prefix, k in KIND_OF_PREFIX.items() if artifact.name.startswith(prefix))
        progress(f"triage {number}/{len(pending)}: {artifact.name} ({kind}): re-running")
        try:
            result = rerun(harness_argv, artifact, env, limits, stop)
        except Stopped:
            progress(f"triage {number}/{len(pending)}: {artifact.name}: stopped, left for the next run")
            break
        entry: dict[str, Any] = {"kind": kind, "rerun": result.outcome or "clean", "exit": result.exit_code}
        if result.outcome == ORACLE_FINDING:
            entry["note"] = "an oracle finding (stored by the worker that met it)"
        else:
            data = artifact.read_bytes()
            finding, case = native_finding(kind, data, catalog, result, artifact.name, backend)
            if not finding.details["flaky"]:
                try:
                    key_by_first_call(finding, case, data, catalog, lambda path: rerun(harness_argv, path, env, limits, stop))
                except Stopped:  # the campaign's time is up: the program keeps its own key
                    pass
            happened = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(artifact.stat().st_mtime))
            finding.details["happened_at"] = happened
            folder, new, _ = store.record(finding, case, data, render_reproducer(case, finding), backend.version())
            if new:
                date_first_seen(store, folder, happened)
            entry.update(finding=folder.name, flaky=finding.details["flaky"], new=new)
        progress(f"triage {number}/{len(pending)}: {artifact.name}: {entry.get('finding', entry.get('note'))}")
        registry[artifact.name] = entry
        _write_registry(registry_path, registry)
    return registry


def date_first_seen(store: FindingsStore, folder: Path, happened: str) -> None:
    """A native finding was first seen when its artifact was written, not when triage recorded it."""
    with store._lock():  # the store's own lock: workers may update the finding meanwhile
        meta = json.loads((folder / META_FILE).read_text())
        meta["first_seen"] = min(meta["first_seen"], happened)
        tmp = folder / f".{META_FILE}.{os.getpid()}"
        tmp.write_text(json.dumps(meta, indent=2))
        os.replace(tmp, folder / META_FILE)


class Triage:
    """A campaign's triage in the background: new artifacts are triaged one at a time while the workers
    run, and what is still running when the run ends gets until a deadline."""

    def __init__(self, workdir: Workdir, plan: Any, env: dict[str, str], say: Callable[[str], None]) -> None:
        self.workdir, self.plan, self.env, self.say = workdir, plan, env, say
        self.ending = threading.Event()  # no new artifact is started
        self.stop = threading.Event()  # the running re-run is stopped
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _loop(self) -> None:
        harness_argv = [self.plan.python, str(self.plan.harness)]
        while not self.ending.is_set():
            triage_artifacts(
                self.workdir, self.plan.library, harness_argv, self.env, self.plan.limits, progress=self.say, stop=self.stop
            )
            self.ending.wait(2.0)
        if not self.stop.is_set():  # artifacts written as the workers stopped
            triage_artifacts(
                self.workdir, self.plan.library, harness_argv, self.env, self.plan.limits, progress=self.say, stop=self.stop
            )

    def finish(self, deadline: float | None) -> int:
        """End the triage by `deadline` (None: at once); returns how many artifacts are left untriaged."""
        self.ending.set()
        if deadline is not None and self.thread.is_alive():
            self.thread.join(timeout=max(0.0, deadline - time.time()))
        if self.thread.is_alive():
            self.stop.set()
            self.thread.join()
        registry = _read_registry(self.workdir.artifacts / TRIAGE_FILE)
        return sum(1 for p in self.workdir.artifact_files() if p.name not in registry)


def _read_registry(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text()) if path.is_file() else {}
    except ValueError:
        return {}  # unreadable: every artifact is triaged again (findings count hits, none is lost)


def _write_registry(path: Path, registry: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps(registry, indent=1))
    os.replace(tmp, path)


def minimize_native(
    harness_argv: list[str], artifact: Path, out: Path, env: dict[str, str], limits: Limits, api: str, seconds: int
) -> Rerun | None:
    """libFuzzer's -minimize_crash over a native crash, guarded against drift: the harness skips
    inputs that decode to another API (NABLA_ONLY_API) and oracle findings do not crash it
    (NABLA_RAISE=0). The smallest input goes to `out`; it is re-run, and the re-run is returned
    (None if libFuzzer wrote nothing). libFuzzer's output goes to `out`.log."""
    out.unlink(missing_ok=True)
    log = out.with_name(out.name + ".log")
    with tempfile.TemporaryDirectory(prefix="nabla-minimize-") as scratch, open(log, "wb") as output:
        flags = ["-minimize_crash=1", f"-max_total_time={seconds}", f"-exact_artifact_path={out.resolve()}", *limits.flags()]
        subprocess.run(
            [*harness_argv, *flags, str(artifact.resolve())],
            env=scratch_env(env, scratch, NABLA_RAISE="0", NABLA_ONLY_API=api),
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=scratch,
            timeout=seconds * 2 + limits.timeout_s * 2 + 300,
        )
    if not out.is_file():
        return None
    return rerun(harness_argv, out, env, limits)


def minimize_native_crash(source: Path, library: str, prefix: Path, seconds: int) -> int:
    """libFuzzer's -minimize_crash for a native crash, timeout or OOM of `source` (`minimize_native`),
    which must stay the same kind of crash of the same API; writes the smallest input and its case
    and reproducer (`write_minimized`) at `prefix`. The exit code of `minimize`."""
    catalog, harness, limits = load_catalog(library), harness_path(library), record(library).limits
    api = decode_bytes(source.read_bytes(), catalog).api
    env = harness_env()  # each run gets a scratch findings folder
    before = rerun([str(harness)], source, env, limits)
    if before.outcome not in NATIVE_KINDS:
        what = f"{source} does not end in a native crash, timeout or OOM ({before.outcome or 'a clean run'})"
        print(f"nabla-atheris: {what}: nothing to minimize", file=sys.stderr)
        return exitcodes.NO_RESULT
    size = source.stat().st_size
    print(f"minimizing a {before.outcome} of {api} ({size} bytes) with libFuzzer's -minimize_crash for {seconds} s", flush=True)
    out = Path(f"{prefix}.input")
    after = minimize_native([str(harness)], source, out, env, limits, api, seconds)
    data = out.read_bytes() if out.is_file() else b""
    got = None if after is None else (after.outcome, decode_bytes(data, catalog).api)
    if got != (before.outcome, api):
        out.unlink(missing_ok=True)
        what = "nothing" if got is None else f"{got[0] or 'a clean run'} of {got[1]}"
        wanted = f"a {before.outcome} of {api}"
        print(f"nabla-atheris: error: minimization gave {what}, not {wanted}; kept the original", file=sys.stderr)
        return exitcodes.NO_RESULT
    finding, case = native_finding(before.outcome, data, catalog, after, out.name, get_backend(library))
    outputs = write_minimized(prefix, case, render_reproducer(case, finding))
    print(f"minimized {size} -> {len(data)} bytes, still a {after.outcome} of {api}: {out}, {', '.join(map(str, outputs))}")
    return exitcodes.FINDING
