"""Campaigns: parallel workers, progress records, stop and resume, artifact triage, the report."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nabla_atheris.artifacts import Rerun, classify_rerun, native_finding, triage_artifacts
from nabla_atheris.campaign import LIMITS, Display, LibFuzzerStatus, Limits, Workdir, progress_line, read_records
from nabla_atheris.catalog import load_catalog
from nabla_atheris.decoder import seed_bytes
from nabla_atheris.findings import FindingsStore
from nabla_atheris.report import write_report

ROOT = Path(__file__).resolve().parents[1]


def test_libfuzzer_status_lines_of_fork_and_single_process_mode_are_read():
    status = LibFuzzerStatus()
    status.feed("#4226: cov: 1207 ft: 3881 corp: 246 exec/s 73 oom/timeout/crash: 1/2/3 time: 58s job: 5 dft_time: 0\n")
    assert (status.cov, status.ft, status.failures) == (1207, 3881, {"oom": 1, "timeout": 2, "crash": 3})
    status.feed("#2\tINITED cov: 3 ft: 4 corp: 1/1b exec/s: 0 rss: 30Mb\n")
    status.feed("INFO: Running with entropic power schedule (0xFF, 100).\n")
    assert (status.cov, status.ft) == (3, 4)


def test_progress_line_names_every_figure_and_records_survive_a_cut_line(tmp_path):
    record = {
        "elapsed_s": 3725.0,
        "execs": 1200,
        "execs_per_s": 3.5,
        "cov": 987,
        "corpus": 40,
        "apis_exercised": 77,
        "valid_rate": 0.925,
        "unique_findings": {"rev-vs-numeric": 2, "crash": 1},
        "filtered": {"invalid-input": 30, "nan-both": 4},
    }
    line = progress_line(record)
    for part in ("[1:02:05]", "execs 1200", "(3.5/s)", "cov 987", "corpus 40", "APIs 77", "valid 92.5%"):
        assert part in line, line
    assert "findings 3 (rev-vs-numeric 2, crash 1)" in line and "filtered 34 (invalid-input 30, nan-both 4)" in line
    (tmp_path / "stats.jsonl").write_text(json.dumps(record) + "\n" + '{"elapsed_s": 37')  # killed mid-write
    assert read_records(tmp_path / "stats.jsonl") == [record]


def test_display_rewrites_one_line_on_a_terminal_and_prints_plain_lines_otherwise(tmp_path):
    class Tty:
        def __init__(self):
            self.text = ""

        def isatty(self):
            return True

        def fileno(self):
            raise OSError

        def write(self, text):
            self.text += text

        def flush(self):
            pass

    class Plain(Tty):
        def isatty(self):
            return False

    tty, plain = Tty(), Plain()
    for stream in (tty, plain):
        display = Display(stream, plain_every_s=3600)
        display.progress("first")
        display.progress("second")
        display.message("a message")
        display.progress("third", force=True)
        display.close()
    assert tty.text.count("\r\x1b[K") >= 4 and "second" in tty.text and tty.text.endswith("third\n")
    assert plain.text == "first\na message\nthird\n"


def _fuzz(workdir, seeds, *extra, **popen):
    env = dict(os.environ, PYTHONPATH=str(ROOT), NABLA_INSTRUMENT="nabla_atheris.oracle")
    command = [sys.executable, "-m", "nabla_atheris", "fuzz", "torch", "--workdir", str(workdir), "--seeds", str(seeds), *extra]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **popen)


def test_a_two_worker_campaign_stops_on_sigterm_resumes_and_reports(tmp_path):
    seeds, workdir = tmp_path / "seeds", tmp_path / "w"
    seeds.mkdir()
    for name in ("torch.sin.0", "torch.tanh.0", "torch.matmul.0"):
        shutil.copy(ROOT / "corpus" / "torch" / name, seeds)
    first = _fuzz(workdir, seeds, "--jobs", "2", "--time", "0")
    deadline = time.time() + 300
    while time.time() < deadline and not any(r["execs"] >= 5 for r in read_records(workdir / "stats.jsonl")):
        time.sleep(1)
    first.send_signal(signal.SIGTERM)
    out, _ = first.communicate(timeout=120)
    assert first.returncode == 130 and "interrupted" in out, out
    records = read_records(workdir / "stats.jsonl")
    assert records[-1]["event"] == "interrupted" and records[-1]["execs"] >= 5, (records[-1], out)
    assert "-fork=2" in (workdir / "fuzz.log").read_text(errors="replace")

    second = _fuzz(workdir, seeds, "--time", "15")
    out, _ = second.communicate(timeout=600)
    assert second.returncode == 0, out
    resumed = read_records(workdir / "stats.jsonl")[-1]
    assert resumed["run"] == 2 and resumed["event"] == "end", resumed
    assert resumed["elapsed_s"] > records[-1]["elapsed_s"] and resumed["execs"] >= records[-1]["execs"], (resumed, records[-1])
    assert "2 run(s)" in out and "unique findings:" in out, out

    page, markdown = write_report(workdir, tmp_path / "report")
    html = page.read_text()
    assert html.count("data:image/png;base64,") == 3 and "Root causes (" in html
    assert "| valid-call rate |" in markdown.read_text() and (tmp_path / "report" / "coverage.png").stat().st_size > 1000


def test_a_second_campaign_on_a_busy_workdir_is_refused(tmp_path, capsys):
    from nabla_atheris.cli import main

    place = Workdir(tmp_path / "w")
    place.create()
    with place.lock():
        assert main(["fuzz", "torch", "--workdir", str(place.root), "--time", "5"]) == 2
    assert "another campaign is running" in capsys.readouterr().err
    assert main(["fuzz", "torch", "--jobs", "0"]) == 2 and "--jobs" in capsys.readouterr().err


FAKE_HARNESS = """
import os, sys, time
import atheris

def one(data):
    if data.startswith(b"ABRT"):
        os.abort()
    if data.startswith(b"SLOW"):
        time.sleep(60)
    if data.startswith(b"ONCE") and not os.path.exists(sys.argv[-1] + ".seen"):
        open(sys.argv[-1] + ".seen", "w").close()
        os.abort()

atheris.Setup(sys.argv, one)
atheris.Fuzz()
"""


def test_classify_rerun_reads_libfuzzer_outcomes():
    assert classify_rerun(1, "... NewFinding: torch.sin ...") == "oracle-finding"
    assert classify_rerun(70, "ALARM: working on the last Unit for 3 seconds") == "timeout"
    assert classify_rerun(71, "==1== ERROR: libFuzzer: out-of-memory (malloc(1))") == "oom"
    assert classify_rerun(1, "==1== ERROR: libFuzzer: deadly signal") == "crash"
    assert classify_rerun(0, "Executed x in 3 ms") is None
    assert classify_rerun(1, 'ERROR: The required directory "x" does not exist') == "error"


def test_native_crash_timeout_and_flaky_artifacts_become_findings_once(tmp_path, torch_backend):
    harness = tmp_path / "fake_harness.py"
    harness.write_text(FAKE_HARNESS)
    place = Workdir(Path(os.path.relpath(tmp_path / "w")))  # relative, as a user gives it: the re-run runs elsewhere
    place.create()
    (place.artifacts / "crash-abrt").write_bytes(b"ABRT" + bytes(range(40)))
    (place.artifacts / "timeout-slow").write_bytes(b"SLOW" + bytes(range(40, 80)))
    (place.artifacts / "crash-flaky").write_bytes(b"FLAKY" + bytes(range(80, 120)))
    limits = Limits(timeout_s=2, rss_limit_mb=2048, worker_budget_mb=0)
    registry = triage_artifacts(place, "torch", [sys.executable, str(harness)], dict(os.environ), limits, progress=lambda _: None)
    assert {name: (e["kind"], e["rerun"], e["flaky"]) for name, e in registry.items()} == {
        "crash-abrt": ("crash", "crash", False),
        "timeout-slow": ("timeout", "timeout", False),
        "crash-flaky": ("crash", "clean", True),
    }
    store = FindingsStore(place.findings)
    metas = {m["details"]["artifact"]: m for m in store.metas()}
    assert metas["crash-flaky"]["details"]["flaky"] and "flaky" in metas["crash-flaky"]["message"]
    folder = place.findings / registry["crash-abrt"]["finding"]
    assert (folder / "input").read_bytes().startswith(b"ABRT") and "def main" in (folder / "repro.py").read_text()
    assert triage_artifacts(place, "torch", ["false"], {}, limits, progress=print) == registry  # each artifact once


def test_native_crash_reproducer_runs_every_scenario(tmp_path, torch_backend):
    catalog = load_catalog("torch")
    data = seed_bytes(catalog, catalog.apis["torch.sin"].id, 0)
    modes = [*torch_backend.first_order_modes, *torch_backend.second_order_modes]
    finding, case = native_finding("crash", data, catalog, Rerun("crash", -6, "deadly signal"), "crash-x", torch_backend)
    assert case.api == "torch.sin" and finding.signature() == "torch:sin:crash"
    script = tmp_path / "repro.py"
    script.write_text(torch_backend.render_reproducer(case, finding))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and "every scenario completed" in result.stdout, result.stdout + result.stderr
    assert all(mode in result.stdout for mode in modes), result.stdout


@pytest.mark.parametrize("library", sorted(LIMITS))
def test_per_library_limits_leave_the_worker_budget_below_libfuzzers_limit(library):
    limits = LIMITS[library]
    assert 0 < limits.worker_budget_mb < limits.rss_limit_mb and limits.timeout_s >= 60


def test_minimize_crash_shrinks_a_native_crash_and_confirms_it(tmp_path):
    from nabla_atheris.artifacts import minimize_native

    harness = tmp_path / "crashes_on_A.py"
    harness.write_text("#!/usr/bin/env python3\n" + CRASHES_ON_A)
    harness.chmod(0o755)
    artifact = tmp_path / "crash-big"
    artifact.write_bytes(bytes(range(60, 120)) + b"A" + bytes(range(130, 200)))
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))
    limits = Limits(timeout_s=20, rss_limit_mb=2048, worker_budget_mb=0)
    result = minimize_native([str(harness)], artifact, tmp_path / "small", env, limits, "any", seconds=20)
    assert result is not None and result.outcome == "crash", result
    small = (tmp_path / "small").read_bytes()
    assert b"A" in small and len(small) < artifact.stat().st_size, small


CRASHES_ON_A = """
import os, sys
import atheris

def one(data):
    if b"A" in data:
        os.abort()

atheris.Setup(sys.argv, one)
atheris.Fuzz()
"""


def test_a_session_limited_to_one_api_skips_inputs_of_other_apis(tmp_path):
    from nabla_atheris.session import FuzzSession

    catalog = load_catalog("torch")
    only_sin = FuzzSession("torch", tmp_path / "f", tmp_path / "stats", catalog=catalog, only_api="torch.sin")
    only_sin.test_one_input(seed_bytes(catalog, catalog.apis["torch.tanh"].id, 0))
    assert only_sin.stats.execs == 0
    only_sin.test_one_input(seed_bytes(catalog, catalog.apis["torch.sin"].id, 0))
    assert only_sin.stats.execs == 1
