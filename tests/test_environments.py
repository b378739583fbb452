"""Which interpreter runs a library's commands: OneFlow's run in its Python 3.10 environment,
started from the main one with its library path; catalog statistics need no library at all."""

import json
import os
import sys
from pathlib import Path

import pytest

from nabla_atheris import environments
from nabla_atheris.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_the_main_libraries_run_here():
    assert environments.environment("torch") == environments.Environment(sys.executable, {})


def test_oneflow_runs_in_its_own_environment_with_its_library_path(monkeypatch, tmp_path):
    monkeypatch.setenv("NABLA_ONEFLOW_VENV", str(tmp_path / "venv"))
    (tmp_path / "venv" / "bin").mkdir(parents=True)
    (tmp_path / "venv" / "bin" / "python").touch()
    env = environments.environment("oneflow")
    assert env.python == str(tmp_path / "venv" / "bin" / "python")
    cublas = tmp_path.resolve() / "venv" / "lib" / "python3.10" / "site-packages" / "nvidia" / "cublas" / "lib"
    assert env.variables["LD_LIBRARY_PATH"].split(os.pathsep)[0] == str(cublas)


def test_commands_name_their_library(tmp_path):
    case = tmp_path / "case.json"
    case.write_text(json.dumps({"library": "oneflow", "api": "oneflow.sin", "args": []}))

    def library(*argv):
        from nabla_atheris.cli import build_parser

        return environments.command_library(build_parser().parse_args(list(argv)))

    assert library("check", str(case)) == "oneflow"
    assert library("fuzz", "oneflow") == "oneflow"
    assert library("repro", str(tmp_path / "crash-1"), "--lib", "oneflow") == "oneflow"
    assert library("catalog", "oneflow") is None  # reads files only: runs anywhere


def test_catalog_statistics_of_oneflow_need_no_oneflow(capsys):
    assert main(["catalog", "oneflow", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["apis_validated"] >= 300


@pytest.mark.skipif(not (ROOT / ".venv-oneflow" / "bin" / "python").exists(), reason="no OneFlow environment")
@pytest.mark.skipif(environments.environment("oneflow").is_current(), reason="already in the OneFlow environment")
def test_check_of_a_oneflow_case_is_delegated_to_its_environment(tmp_path, capfd):
    case = tmp_path / "case.json"
    x = {"dtype": "float32", "shape": [3], "seed": 1}
    case.write_text(json.dumps({"library": "oneflow", "api": "oneflow.tanh", "args": [x]}))
    assert main(["check", str(case), "--findings", str(tmp_path / "f")]) == 0
    assert "no forward mode" in capfd.readouterr().out
