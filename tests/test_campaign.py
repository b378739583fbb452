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
from nabla_atheris.campaign import Display, Workdir, progress_line, read_records, time_accounting
from nabla_atheris.catalog import load_catalog
from nabla_atheris.decoder import seed_bytes
from nabla_atheris.findings import FindingsStore
from nabla_atheris.libraries import LIBRARIES, Limits, record
from nabla_atheris.report import read_campaign, write_campaign_report
from nabla_atheris.reproducer import render_reproducer
from nabla_atheris.supervisor import Plan, run_campaign
from nabla_atheris.workers import WorkerStatus, process_start_ticks

ROOT = Path(__file__).resolve().parents[1]


def test_a_workers_status_lines_give_coverage_corpus_first_pass_and_ending():
    status = WorkerStatus()
    status.feed("#1\tpulse  cov: 3 ft: 4 exec/s: 0 rss: 30Mb\n")  # no corpus yet
    assert (status.cov, status.ft, status.corpus, status.first_pass_done_at) == (3, 4, None, None)
    status.feed("#512\tINITED cov: 1207 ft: 3881 corp: 246/20Kb exec/s: 73 rss: 900Mb\n")
    status.feed("INFO: Running with entropic power schedule (0xFF, 100).\n")
    assert (status.runs, status.cov, status.corpus) == (512, 1207, 246) and status.first_pass_done_at is not None
    status.feed("#600\tNEW    cov: 1210 ft: 3890 corp: 247/21Kb lim: 4 exec/s: 70 rss: 900Mb L: 3/3 MS: 1 ChangeBit-\n")
    status.feed("==7== ERROR: libFuzzer: deadly signal\n")
    status.feed("artifact_prefix='w/artifacts/'; Test unit written to w/artifacts/crash-abc\n")
    assert (status.cov, status.corpus, status.ending, status.artifact) == (1210, 247, "native crash", "w/artifacts/crash-abc")


def test_a_worker_that_ran_inputs_without_coverage_yet_counts_its_runs():
    status = WorkerStatus()
    status.feed("#52\tINITED exec/s: 26 rss: 344Mb\n")  # libFuzzer's line while no input gave coverage
    status.feed("#64\tpulse  corp: 1/1b lim: 4 exec/s: 21 rss: 348Mb\n")
    assert (status.runs, status.cov, status.corpus) == (64, None, 1) and status.first_pass_done_at is not None


def test_time_accounting_splits_start_up_first_pass_and_later_inputs():
    processes = [
        {"pid": 1, "wall_s": 200.0, "ready_s": 10.0, "phase_s": {"replay": 50.0, "fuzz": 130.0}},
        {"pid": 2, "wall_s": 30.0, "ready_s": 10.0, "phase_s": {"replay": 15.0}},  # replaced before its first minute
    ]
    figures = time_accounting(processes, {1: (60.0, 45.0)})
    assert (figures["wall_s"], figures["startup_s"], figures["first_pass_s"], figures["later_s"]) == (230.0, 20.0, 65.0, 130.0)
    assert figures["checking_share"] == round(195 / 230, 4) and figures["later_share"] == round(130 / 230, 4)
    assert figures["checking_share_after_first_minute"] == round((180 - 45) / (200 - 60), 4)


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
        "workers": [{"slot": 1, "first_pass": "done"}, {"slot": 2, "first_pass": "12/300"}],
        "time_accounting": {"checking_share": 0.96},
    }
    line = progress_line(record)
    for part in ("[1:02:05]", "execs 1200", "(3.5/s)", "cov 987", "corpus 40", "first pass 12/300", "APIs 77", "valid 92.5%"):
        assert part in line, line
    record["workers"] = [{"slot": 1, "first_pass": "done"}]
    assert "checking 96%" in progress_line(record)
    assert "findings 3 (rev-vs-numeric 2, crash 1) | " in line and "filtered 34 (invalid-input 30, nan-both 4)" in line
    assert "findings 3 (rev-vs-numeric 2, crash 1), flaky crashes 2 | " in progress_line({**record, "flaky": 2})
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
    log = (workdir / "fuzz.log").read_text(errors="replace")
    assert "w1: " in log and "w2: " in log and "-fork" not in log  # two long-lived workers, no fork mode
    assert {w["slot"] for w in records[-2]["workers"]} == {1, 2} and records[-2]["cov"] > 0, records[-2]
    assert sorted(p.name for p in (workdir / "seeds").iterdir()) == ["w1", "w2"]  # the seeds shared between them

    second = _fuzz(workdir, seeds, "--time", "15")
    out, _ = second.communicate(timeout=600)
    assert second.returncode == 0, out
    resumed = read_records(workdir / "stats.jsonl")[-1]
    assert resumed["run"] == 2 and resumed["event"] == "end", resumed
    assert resumed["elapsed_s"] > records[-1]["elapsed_s"] and resumed["execs"] >= records[-1]["execs"], (resumed, records[-1])
    assert "2 run(s)" in out and "unique findings:" in out and "worker time (last run): start-up" in out, out

    page, markdown = write_campaign_report(read_campaign(workdir), tmp_path / "report")
    html = page.read_text()
    assert html.count("data:image/png;base64,") == 3 and "Root causes (" in html
    assert "| valid-call rate |" in markdown.read_text() and "| worker time |" in markdown.read_text()
    assert (tmp_path / "report" / "coverage.png").stat().st_size > 1000


def _alive(pid):
    return process_start_ticks(pid) is not None


def test_a_campaign_killed_with_sigkill_leaves_no_process_and_resumes_cleanly(tmp_path):
    seeds, workdir = tmp_path / "seeds", tmp_path / "w"
    seeds.mkdir()
    for name in ("torch.sin.0", "torch.tanh.0"):
        shutil.copy(ROOT / "corpus" / "torch" / name, seeds)
    first = _fuzz(workdir, seeds, "--jobs", "2", "--time", "0")
    deadline = time.time() + 300
    # the workers are listed, and the first run's first record is written (a kill before it leaves no run to resume)
    while time.time() < deadline and (len(Workdir(workdir).listed_processes()) < 2 or not read_records(workdir / "stats.jsonl")):
        time.sleep(0.5)
    workers = [p["pid"] for p in Workdir(workdir).listed_processes()]
    assert len(workers) == 2 and all(_alive(pid) for pid in workers)
    first.kill()
    first.communicate(timeout=60)
    deadline = time.time() + 10
    while time.time() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in workers)  # they died with the campaign
    second = _fuzz(workdir, seeds, "--time", "10")
    out, _ = second.communicate(timeout=600)
    assert second.returncode == 0 and "still running" not in out, out
    assert read_records(workdir / "stats.jsonl")[-1]["run"] == 2


def test_the_lock_stops_a_process_an_earlier_run_left_behind(tmp_path):
    place = Workdir(tmp_path / "w")
    place.create()
    survivor = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True)
    try:
        place.list_processes([survivor.pid])
        said = []
        with place.lock(say=said.append):
            assert survivor.wait(timeout=10) == -signal.SIGKILL and said
            assert place.listed_processes() == []
    finally:
        survivor.kill()


KILLS_ON_ABRT = """
import os, sys
import atheris

def one(data):
    if data.startswith(b"ABRT"):
        os.abort()

atheris.Setup(sys.argv, one)
atheris.Fuzz()
"""


def test_a_worker_killed_by_a_seed_is_replaced_and_the_seed_quarantined(tmp_path):
    import hashlib
    import io

    harness, seeds = tmp_path / "kills on ABRT.py", tmp_path / "seeds ü"
    harness.write_text(KILLS_ON_ABRT)
    seeds.mkdir()
    (seeds / "killer").write_bytes(b"ABRT" + bytes(range(20)))
    (seeds / "fine").write_bytes(b"fine" + bytes(range(20)))
    place = Workdir(tmp_path / "work dir é")
    place.create()
    limits = Limits(timeout_s=20, rss_limit_mb=2048, worker_budget_mb=0)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    shown = io.StringIO()
    started = time.time()
    interrupted, left = run_campaign(Plan("torch", harness, seeds, 1, 30, limits, [], env), place, Display(shown))
    assert not interrupted and left == 0 and time.time() - started < 30 + 30
    assert (place.quarantine / hashlib.sha1((seeds / "killer").read_bytes()).hexdigest()).is_file()
    assert "worker 1 ended (native crash); its input killer is quarantined; replaced" in shown.getvalue(), shown.getvalue()
    registry = json.loads((place.artifacts / "triage.json").read_text())
    (artifact,) = registry
    meta = json.loads((place.findings / registry[artifact]["finding"] / "finding.json").read_text())
    written = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime((place.artifacts / artifact).stat().st_mtime))
    assert meta["first_seen"] == written and meta["kind"] == "crash"  # when it happened, not when it was triaged


def test_a_campaign_runs_in_folders_with_spaces_non_ascii_names_and_shell_metacharacters(tmp_path):
    seeds, workdir = tmp_path / "my seeds ü $(false)", tmp_path / "a work dir é;'&*"
    seeds.mkdir()
    for name in ("torch.sin.0", "torch.tanh.0"):
        shutil.copy(ROOT / "corpus" / "torch" / name, seeds)
    out, _ = _fuzz(workdir, seeds, "--time", "15").communicate(timeout=600)
    record = read_records(workdir / "stats.jsonl")[-1]
    assert record["execs"] >= 3 and record["cov"], (record, out)


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
    assert all(m["first_seen"] == m["details"]["happened_at"] for m in metas.values())
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
    script.write_text(render_reproducer(case, finding))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and "every scenario completed" in result.stdout, result.stdout + result.stderr
    assert all(mode in result.stdout for mode in modes), result.stdout


@pytest.mark.parametrize("library", sorted(LIBRARIES))
def test_per_library_limits_leave_the_worker_budget_below_libfuzzers_limit(library):
    limits = record(library).limits
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


def test_a_campaign_started_with_nohup_keeps_running_on_sighup():
    from nabla_atheris.supervisor import stopping_signals

    previous = signal.signal(signal.SIGHUP, signal.SIG_DFL)
    try:
        assert stopping_signals() == [signal.SIGTERM, signal.SIGHUP]
        signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as nohup starts a command
        assert stopping_signals() == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGHUP, previous)


def test_a_worker_that_ended_keeps_its_coverage_in_the_records(tmp_path):
    from nabla_atheris.campaign import Progress, WorkerView

    place = Workdir(tmp_path / "w")
    place.create()
    progress = Progress(place, lambda: [])  # the worker ended between two records and was not replaced
    progress.remember(WorkerView(1, 123, 0, cov=900, ft=2000, corpus=40, first_pass_s=None))
    record = progress.record("end")
    assert (record["cov"], record["ft"], record["corpus"]) == (900, 2000, 40)
