"""The short command (`./nabla-atheris`), any path (spaces, non-ASCII) in every command that takes
one, and a native crash reported with its signal and scenario (exit code 5)."""

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import planted_torch  # noqa: F401  (registers torch.nabla_planted)
import pytest

from nabla_atheris import exitcodes
from nabla_atheris.campaign import Workdir, findings_tally
from nabla_atheris.cli import main
from nabla_atheris.findings import FindingsStore
from nabla_atheris.handcase import parse_case
from nabla_atheris.verdict import Finding
from nabla_atheris.workers import process_start_ticks

ROOT = Path(__file__).resolve().parents[1]
LAUNCHER = ROOT / "nabla-atheris"
ODD = "dir with space ü ñ 日本"
SIN = {"library": "torch", "api": "torch.sin", "args": [{"dtype": "float64", "shape": [2], "seed": 0}]}
WRONG = {"library": "torch", "api": "torch.nabla_planted.wrong_jvp", "args": [{"dtype": "float64", "shape": [3], "seed": 1}]}
# torch 2.13 dies of a segmentation fault in the backward of pdist on an empty input (an upstream bug).
PDIST = {"library": "torch", "api": "torch.nn.functional.pdist", "args": [{"dtype": "float64", "shape": [0, 3], "seed": 0}]}


def launch(*argv, cwd, launcher=LAUNCHER, timeout=300):
    """The launcher run as a user would, from `cwd`, with no PYTHONPATH of the test's."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NABLA_SUPERVISED", "NABLA_DELEGATED")}
    return subprocess.run([str(launcher), *map(str, argv)], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def test_the_launcher_lists_the_exit_codes():
    result = launch("--help", cwd=ROOT)
    assert result.returncode == 0 and "exit codes:" in result.stdout
    assert all(f"{code:3}  " in result.stdout for code in exitcodes.MEANING)


def test_a_native_crash_is_named_with_its_signal_and_scenario(tmp_path):
    folder = tmp_path / ODD
    folder.mkdir()
    (folder / "pdist.json").write_text(json.dumps(PDIST))
    result = launch("check", "pdist.json", cwd=folder)
    assert result.returncode == exitcodes.NATIVE_CRASH, result
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("nabla-atheris: native crash: torch.nn.functional.pdist died of SIGSEGV") and "scenario 'rev'" in last
    assert "Traceback" not in result.stderr

    case = parse_case(PDIST)  # the same crash stored as a libFuzzer finding, then re-checked by repro
    crash = Finding("crash", ("harness", "harness"), "torch", case.api, "real-float64", "libFuzzer crash")
    stored, _, _ = FindingsStore(folder / "findings").record(crash, case, None, "print()")
    result = launch("repro", stored, cwd=tmp_path)
    assert result.returncode == exitcodes.NATIVE_CRASH and "SIGSEGV" in result.stderr, result


def test_check_repro_minimize_and_seed_take_any_path(tmp_path, capsys):  # coverage: test_cli
    base = tmp_path / ODD
    base.mkdir()
    (base / "case ü.json").write_text(json.dumps(WRONG))
    assert main(["check", str(base / "case ü.json"), "--findings", str(base / "found é")]) == exitcodes.FINDING
    folder = next(p for p in (base / "found é").iterdir() if "first-order" in p.name)
    assert main(["repro", str(folder), "--findings", str(base / "again é")]) == exitcodes.FINDING
    assert any((base / "again é").iterdir())
    assert main(["minimize", str(folder), "--max-checks", "4"]) == exitcodes.FINDING
    assert parse_case(json.loads((folder / "minimized.json").read_text())).api == WRONG["api"]
    assert main(["seed", "torch", "--out", str(base / "seeds é")]) == exitcodes.AGREE
    assert (base / "seeds é" / "torch.sin.0").is_file()
    assert "Traceback" not in capsys.readouterr().err


def test_summary_and_report_take_any_path_and_list_flaky_crashes_apart(tmp_path, capsys):
    workdir = tmp_path / ODD
    (workdir / "stats").mkdir(parents=True)
    worker = {"worker_s": 10.0, "execs": 7, "valid": 5, "apis": ["torch.sin"], "filtered": {"invalid-input": 2}}
    (workdir / "stats" / "worker-1-1.json").write_text(json.dumps(worker))
    (workdir / "stats.jsonl").write_text(json.dumps({"elapsed_s": 12.0, "run": 1, "cov": 40, "corpus": 3}) + "\n")
    store = FindingsStore(workdir / "findings")
    flaky_case = parse_case(SIN)
    flaky = Finding("crash", ("harness", "harness"), "torch", "torch.sin", "real-float64", "libFuzzer crash, flaky")
    flaky.details["flaky"] = True
    store.record(flaky, flaky_case, b"x", "print()")
    (tmp_path / "case.json").write_text(json.dumps(WRONG))
    assert main(["check", str(tmp_path / "case.json"), "--findings", str(workdir / "findings")]) == exitcodes.FINDING
    capsys.readouterr()

    tally = findings_tally(workdir / "findings")  # the progress line's counts agree with the summary
    assert (sum(tally["unique_findings"].values()), tally["root_causes"], tally["flaky"]) == (1, 1, 1)
    assert main(["summary", str(workdir)]) == exitcodes.AGREE
    summary = capsys.readouterr().out
    assert "unique findings: 1" in summary and "flaky native crashes (a re-run did not repeat them; not findings): 1" in summary
    findings_part, flaky_part = summary.split("flaky native crashes")
    assert "wrong_jvp" in findings_part and "torch.sin" not in findings_part and "torch.sin" in flaky_part

    assert main(["report", str(workdir)]) == exitcodes.AGREE
    markdown = (workdir / "report" / "report.md").read_text()
    roots, flaky_table = markdown.split("## Flaky native crashes (1")
    assert "findings (1)" in roots and "`torch.sin`" not in roots.split("## Root causes")[1] and "`torch.sin`" in flaky_table
    page = (workdir / "report" / "report.html").read_text()
    assert "Flaky native crashes (1" in page and "../findings/" in page


@pytest.fixture(scope="module")
def odd_checkout(tmp_path_factory):
    """A copy of the checkout (package, launcher, scripts, environment links) under a path with spaces
    and non-ASCII characters."""
    checkout = tmp_path_factory.mktemp("clone") / "nabla atheris ü"
    checkout.mkdir()
    shutil.copytree(ROOT / "nabla_atheris", checkout / "nabla_atheris", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "scripts", checkout / "scripts")
    for name in ("nabla-atheris", "requirements.txt", "requirements-oneflow.txt"):
        shutil.copy2(ROOT / name, checkout / name)
    for venv in (".venv", ".venv-oneflow"):
        if (ROOT / venv).exists():
            (checkout / venv).symlink_to((ROOT / venv).resolve())
    return checkout


def test_the_launcher_runs_from_a_checkout_at_any_path(odd_checkout, tmp_path):
    here = tmp_path / ODD
    here.mkdir()
    result = launch("catalog", "torch", "--json", cwd=here, launcher=odd_checkout / "nabla-atheris")
    assert result.returncode == 0 and json.loads(result.stdout)["apis_validated"] >= 500, result.stderr
    (here / "case é.json").write_text(json.dumps(SIN))
    result = launch("check", "case é.json", cwd=here, launcher=odd_checkout / "nabla-atheris")
    assert result.returncode == exitcodes.AGREE and "agree" in result.stdout, result.stderr
    assert sorted(p.name for p in here.iterdir()) == ["case é.json"]  # no findings folder without --findings


@pytest.mark.skipif(not (ROOT / ".venv-oneflow" / "bin" / "python").exists(), reason="no OneFlow environment")
def test_the_launcher_delegates_oneflow_from_a_checkout_at_any_path(odd_checkout, tmp_path):
    case = {"library": "oneflow", "api": "oneflow.tanh", "args": [{"dtype": "float32", "shape": [3], "seed": 1}]}
    (tmp_path / "oneflow case ü.json").write_text(json.dumps(case))
    result = launch("check", "oneflow case ü.json", cwd=tmp_path, launcher=odd_checkout / "nabla-atheris")
    assert result.returncode == exitcodes.AGREE and "no forward mode" in result.stdout, result.stderr


@pytest.mark.skipif(not (ROOT / ".venv-oneflow" / "bin" / "python").exists(), reason="no OneFlow environment")
def test_a_oneflow_campaign_started_by_the_launcher_dies_with_it(tmp_path):
    """The launcher's process becomes OneFlow's campaign (no parent left between them to be killed
    alone): a SIGKILL of it leaves no worker behind."""
    seeds, workdir = tmp_path / "seeds", tmp_path / "w"
    seeds.mkdir()
    shutil.copy(ROOT / "corpus" / "oneflow" / "oneflow.sin.0", seeds)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NABLA_SUPERVISED", "NABLA_DELEGATED")}
    command = [str(LAUNCHER), "fuzz", "oneflow", "--time", "0", "--workdir", str(workdir), "--seeds", str(seeds)]
    campaign = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.time() + 180
    while time.time() < deadline and not Workdir(workdir).listed_processes():
        time.sleep(0.5)
    try:
        assert Workdir(workdir).listed_processes() and running_in(workdir)
        campaign.kill()
        campaign.wait(timeout=60)
        deadline = time.time() + 10
        while time.time() < deadline and running_in(workdir):
            time.sleep(0.2)
        assert not running_in(workdir)  # the campaign, its workers, a triage re-run: none is left
    finally:
        for pid in running_in(workdir):
            os.kill(pid, signal.SIGKILL)


def running_in(folder: Path) -> list[int]:
    """The processes whose command line names `folder` (a campaign's, its workers', its re-runs')."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and str(folder).encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return [pid for pid in found if process_start_ticks(pid) is not None]
