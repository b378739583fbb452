"""The Atheris harness runs as an executable libFuzzer target over the seed corpus."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HARNESS = ROOT / "harnesses" / "fuzz_torch.py"


def test_harness_is_an_executable_script():
    assert os.access(HARNESS, os.X_OK)
    assert HARNESS.read_text().startswith("#!/usr/bin/env python3\n")


def test_harness_fuzzes_seeds_and_records_statistics(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("torch.sin.0", "torch.matmul.0", "torch.nn.functional.conv2d.0", "torch.fft.fft.0", "torch.max.0"):
        shutil.copy(ROOT / "corpus" / "torch" / name, corpus)
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        NABLA_FINDINGS=str(tmp_path / "findings"),
        NABLA_STATS=str(tmp_path / "stats.json"),
        NABLA_INSTRUMENT="torch.autograd.forward_ad,nabla_atheris",  # a small set: instrumenting is slow
    )
    result = subprocess.run(
        [
            sys.executable,
            str(HARNESS),
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
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["execs"] >= 2 and stats["valid"] >= 1, (stats, log[-3000:])
