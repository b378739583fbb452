"""The Atheris harness runs as an executable libFuzzer target over the seed corpus."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nabla_atheris.stats import campaign_totals

ROOT = Path(__file__).resolve().parents[1]
# Per library: a few seeds, and a small set of modules to instrument (instrumenting all is slow).
SETUPS = {
    "torch": (
        ["torch.sin.0", "torch.matmul.0", "torch.nn.functional.conv2d.0", "torch.fft.fft.0", "torch.max.0"],
        "torch.autograd.forward_ad,nabla_atheris",
    ),
    "jax": (
        ["jax.numpy.sin.0", "jax.lax.conv.0", "jax.numpy.linalg.det.0", "jax.numpy.fft.fft.0", "jax.numpy.max.0"],
        "jax._src.interpreters.ad,nabla_atheris",
    ),
    "tf": (
        ["tf.math.sin.0", "tf.nn.conv2d.0", "tf.linalg.det.0", "tf.raw_ops.Sin.0", "tf.math.reduce_max.0"],
        "tensorflow.python.ops.math_grad,nabla_atheris",
    ),
}


@pytest.mark.parametrize("library", sorted(SETUPS))
def test_harness_is_an_executable_script(library):
    harness = ROOT / "harnesses" / f"fuzz_{library}.py"
    assert os.access(harness, os.X_OK)
    assert harness.read_text().startswith("#!/usr/bin/env python3\n")


@pytest.mark.parametrize("library", sorted(SETUPS))
def test_harness_fuzzes_seeds_and_records_statistics(tmp_path, library):
    seeds, instrument = SETUPS[library]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in seeds:
        shutil.copy(ROOT / "corpus" / library / name, corpus)
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        NABLA_FINDINGS=str(tmp_path / "findings"),
        NABLA_STATS=str(tmp_path / "stats"),
        NABLA_INSTRUMENT=instrument,
    )
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "harnesses" / f"fuzz_{library}.py"),
            str(corpus),
            "-runs=40",
            "-seed=1",
            "-timeout=600",
            "-rss_limit_mb=6144",
            f"-artifact_prefix={tmp_path}/",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    log = result.stdout + result.stderr
    assert "INITED" in log, log[-3000:]
    if "Done 40 runs" not in log:  # the run stopped at a new finding: it must be stored, with its artifact
        assert "NewFinding" in log and list((tmp_path / "findings").iterdir()), log[-3000:]
        assert list(tmp_path.glob("crash-*")), log[-3000:]
    stats = campaign_totals(tmp_path / "stats")
    assert stats["execs"] >= 2 and stats["valid"] >= 1, (stats, log[-3000:])
    (process,) = stats["processes_time"]  # where the time went: start-up, the first pass (an empty input, the seeds), later
    assert process["replay_inputs"] == 1 + len(seeds) and 0 < process["ready_s"] < process["wall_s"], process
    if "Done 40 runs" in log:
        assert process["phase_execs"] == {"replay": 1 + len(seeds), "fuzz": 40 - 1 - len(seeds)}, process


def test_a_worker_over_its_memory_budget_ends_cleanly(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(ROOT / "corpus" / "jax" / "jax.numpy.sin.0", corpus)
    env = dict(os.environ, PYTHONPATH=str(ROOT), NABLA_FINDINGS=str(tmp_path / "f"), NABLA_INSTRUMENT="nabla_atheris.oracle")
    result = subprocess.run(
        [sys.executable, str(ROOT / "harnesses" / "fuzz_jax.py"), str(corpus), "-runs=100"],
        env={**env, "NABLA_MAX_RSS_MB": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0 and "over NABLA_MAX_RSS_MB=1; this worker ends" in result.stderr, result.stderr[-3000:]


def test_a_command_past_its_deadline_is_stopped_with_its_process_group(tmp_path):
    from nabla_atheris.campaign import run_logged

    # a child that keeps the output pipe open: the loop ends only if the whole group is stopped
    script = (
        "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
        "print('#1 started', flush=True); time.sleep(60)"
    )
    code, stopped = run_logged([sys.executable, "-c", script], dict(os.environ), tmp_path / "log", lambda line: True, deadline=2)
    assert stopped and code != 0 and b"#1 started" in (tmp_path / "log").read_bytes()


def test_merge_keeps_the_coverage_in_fewer_files_and_refuses_empty_input(tmp_path, capsys, monkeypatch):
    from nabla_atheris.cli import main

    # folder names with spaces, non-ASCII characters and shell metacharacters: libFuzzer runs its merge through a shell
    a, b, empty = tmp_path / "corpus a ü", tmp_path / "b é $(false);'&", tmp_path / "empty"
    for folder in (a, b, empty):
        folder.mkdir()
    for name in ("jax.numpy.sin.0", "jax.numpy.tanh.0"):
        shutil.copy(ROOT / "corpus" / "jax" / name, a)
    shutil.copy(ROOT / "corpus" / "jax" / "jax.numpy.sin.0", b / "same-as-sin")
    out = tmp_path / "out dir *"
    assert main(["merge", "jax", str(out), str(a), str(b), "--set-cover", "--findings", str(tmp_path / "f")]) == 0
    printed = capsys.readouterr().out
    assert "3 inputs -> 2 files" in printed and "coverage edges kept" in printed, printed
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    assert main(["merge", "jax", str(tmp_path / "again"), str(a)]) == 0
    assert not any((tmp_path / "cwd").iterdir())  # without --findings, none are written (here or anywhere)
    assert main(["merge", "jax", str(out), str(empty)]) == 2
    assert main(["merge", "jax", str(out), str(tmp_path / "missing")]) == 2
    assert "nothing to merge" in capsys.readouterr().err
