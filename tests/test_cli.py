"""The nabla-atheris command, run in-process: exit codes 0 agree, 1 finding, 2 bad input."""

import json
from pathlib import Path

import planted_torch  # noqa: F401  (registers torch.nabla_planted)
import pytest

from nabla_atheris.catalog import load_catalog
from nabla_atheris.cli import main
from nabla_atheris.program_seeds import PATTERNS

ROOT = Path(__file__).resolve().parents[1]
SIN = {"library": "torch", "api": "torch.sin", "args": [{"dtype": "float64", "shape": [2, 2], "seed": 3}]}
WRONG = {
    "library": "torch",
    "api": "torch.nabla_planted.wrong_jvp",
    "args": [{"dtype": "float64", "shape": [3], "values": [0.1, 0.2, -0.4]}],
}


def write(tmp_path, obj, name="case.json"):
    path = tmp_path / name
    path.write_text(obj if isinstance(obj, str) else json.dumps(obj))
    return path


def test_check_agreeing_case_exits_0(tmp_path, capsys):
    assert main(["check", str(write(tmp_path, SIN)), "--findings", str(tmp_path / "f")]) == 0
    out = capsys.readouterr().out
    assert "rev vs numeric" in out and "agree" in out


def test_check_finding_exits_1_and_writes_it(tmp_path, capsys):
    assert main(["check", str(write(tmp_path, WRONG)), "--findings", str(tmp_path / "f")]) == 1
    assert "FINDING fwd-vs-numeric" in capsys.readouterr().out
    folder = next(p for p in (tmp_path / "f").iterdir() if "first-order" in p.name)
    assert main(["repro", str(folder), "--findings", str(tmp_path / "f")]) == 1
    assert json.loads((folder / "finding.json").read_text())["hits"] == 2


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "is not JSON"),
        ({"library": "torch", "api": "torch.no_such_api", "args": []}, "cannot call torch.no_such_api"),
        ({"library": "torch", "api": "torch.sin", "args": [{"dtype": "float99", "shape": [2], "seed": 0}]}, "unknown dtype"),
        (
            {"library": "torch", "api": "torch.sin", "args": [{"dtype": "float64", "shape": [2], "values": [1.0]}]},
            "needs 2 values",
        ),
        ({"library": "nolib", "api": "x", "args": []}, "unknown library"),
    ],
)
def test_bad_cases_exit_2_with_one_line(tmp_path, capsys, content, message):
    assert main(["check", str(write(tmp_path, content))]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_repro_of_corrupt_or_missing_input_exits_2(tmp_path, capsys):
    assert main(["repro", str(write(tmp_path, "\x93garbage", "case.msgpack"))]) == 2
    assert main(["repro", str(tmp_path / "missing")]) == 2
    (tmp_path / "empty_dir").mkdir()
    assert main(["repro", str(tmp_path / "empty_dir")]) == 2
    assert all(line.startswith("nabla-atheris: error:") for line in capsys.readouterr().err.splitlines())


def test_repro_of_a_raw_seed_rechecks_deterministically(tmp_path, capsys):
    seed = ROOT / "corpus" / "torch" / "torch.sin.0"
    assert main(["repro", str(seed), "--findings", str(tmp_path)]) == 0
    first = capsys.readouterr().out
    assert main(["repro", str(seed), "--findings", str(tmp_path)]) == 0
    assert capsys.readouterr().out == first


def test_doctor_json_reports_torch(capsys):
    assert main(["doctor", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["torch"]["ok"] and report["torch"]["version"].startswith("2.13.0")


def test_catalog_stats_json_and_text(capsys):
    assert main(["catalog", "torch", "--stats", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["apis_validated"] == len(load_catalog("torch").apis) >= 500
    assert main(["catalog", "torch", "--stats"]) == 0
    text = capsys.readouterr().out
    assert f"{stats['apis_validated']} APIs validated" in text and "by source" in text
    name, reason = next(iter(stats["failed"].items()))
    assert f"failed validation: {len(stats['failed'])}" in text and reason in text and name in text


def test_seed_writes_one_input_per_template(tmp_path):
    assert main(["seed", "torch", "--out", str(tmp_path)]) == 0
    generated = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    programs = len(PATTERNS["torch"])  # and the program seeds
    assert len(generated) == sum(len(e.templates) for e in load_catalog("torch").apis.values()) + programs


def test_coverage_of_a_corpus_reports_the_ad_modules_and_writes_html(tmp_path, capsys):
    corpus = tmp_path / "corpus with space ü"
    corpus.mkdir()
    for name in ("torch.sin.0", "torch.matmul.0"):
        (corpus / name).write_bytes((ROOT / "corpus" / "torch" / name).read_bytes())
    assert main(["coverage", "torch", str(corpus), "--out", str(tmp_path / "out ñ")]) == 0
    rows = {line.split()[0]: line.split()[1:] for line in capsys.readouterr().out.splitlines()[1:] if line[:1] != "H"}
    assert int(rows["nabla_atheris"][1]) > 0 and int(rows["torch.autograd"][1]) > 0, rows
    assert (tmp_path / "out ñ" / "html" / "index.html").is_file() and (tmp_path / "out ñ" / "coverage.txt").is_file()
    (tmp_path / "empty").mkdir()
    assert main(["coverage", "torch", str(tmp_path / "empty")]) == 2
