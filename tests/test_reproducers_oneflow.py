"""OneFlow (run in its Python 3.10 environment): every finding of a short campaign over seeds of
APIs with known disagreements has a reproducer that exits 1 while the disagreement is present."""

import json
from pathlib import Path

import pytest

pytest.importorskip("oneflow")

from conftest import run_reproducer  # noqa: E402

from nabla_atheris.session import FuzzSession  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
APIS = ("lgamma", "matmul", "mv", "mm", "clamp_min", "bincount", "sin", "nn.functional.prelu")


def test_every_reproducer_of_a_short_campaign_exits_as_the_oracle_says(tmp_path, monkeypatch):
    seeds = sorted(
        p for p in (ROOT / "corpus" / "oneflow").iterdir() if p.name.rsplit(".", 1)[0] in {f"oneflow.{a}" for a in APIS}
    )
    session = FuzzSession("oneflow", tmp_path / "findings", raise_new=False)
    for seed in seeds:
        session.test_one_input(seed.read_bytes())
    folders = session.store.folders()
    assert folders, "the sample reaches no finding"
    for folder in folders:
        meta = json.loads((folder / "finding.json").read_text())
        assert run_reproducer(folder / "repro.py", monkeypatch) == 1, (meta["kind"], meta["api"], meta["message"])
