"""The OneFlow harness (run in the OneFlow environment): an executable libFuzzer target that fuzzes
seeds and records statistics, and the environment a OneFlow command runs in."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("oneflow")

from nabla_atheris import environments  # noqa: E402
from nabla_atheris.stats import campaign_totals  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ["oneflow.sin.0", "oneflow.nn.Conv2d.0", "oneflow.matmul.0", "oneflow.nn.functional.softmax.0"]


def test_harness_is_an_executable_script():
    harness = ROOT / "harnesses" / "fuzz_oneflow.py"
    assert os.access(harness, os.X_OK) and harness.read_text().startswith("#!/usr/bin/env python3\n")


def test_harness_fuzzes_seeds_and_records_statistics(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in SEEDS:
        if (ROOT / "corpus" / "oneflow" / name).is_file():
            shutil.copy(ROOT / "corpus" / "oneflow" / name, corpus)
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        NABLA_FINDINGS=str(tmp_path / "findings"),
        NABLA_STATS=str(tmp_path / "stats"),
        NABLA_INSTRUMENT="oneflow.autograd,nabla_atheris.oracle",
        NABLA_RAISE="0",
    )
    harness = [sys.executable, str(ROOT / "harnesses" / "fuzz_oneflow.py"), str(corpus)]
    flags = ["-runs=30", "-seed=1", "-timeout=300", "-rss_limit_mb=6144", f"-artifact_prefix={tmp_path}/"]
    result = subprocess.run([*harness, *flags], env=env, capture_output=True, text=True, timeout=600)
    log = result.stdout + result.stderr
    assert "INITED" in log, log[-3000:]
    stats = campaign_totals(tmp_path / "stats")
    assert stats["execs"] >= 2 and stats["valid"] >= 1, (stats, log[-3000:])


def test_oneflow_runs_in_an_environment_with_its_library_path():
    env = environments.environment("oneflow")
    assert env.is_current()
    if env.variables:
        assert env.variables["LD_LIBRARY_PATH"].split(os.pathsep)[0].endswith(os.path.join("nvidia", "cublas", "lib"))
    assert environments.environment("torch").python == sys.executable
