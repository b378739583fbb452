"""The benchmark script's data and tables (the measurements themselves are not tests)."""

import importlib.util
import json
from pathlib import Path

from nabla_atheris.backends import LIBRARIES
from nabla_atheris.verdict import KINDS

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("bench", ROOT / "scripts" / "bench.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def test_known_bugs_name_a_library_an_api_a_kind_and_an_upstream_issue():
    bugs = json.loads((ROOT / "bench" / "known_bugs.json").read_text())
    assert len(bugs) >= 5
    for bug in bugs:
        assert bug["library"] in LIBRARIES and bug["api"].startswith(f"{bug['library']}.") and bug["kind"] in KINDS, bug
        assert bug["upstream"]["url"].endswith(str(bug["upstream"]["number"])) and bug["present_here"] is True, bug


def test_a_finding_matches_a_known_bug_by_api_kind_and_message():
    bug = {"library": "torch", "api": "torch.sgn", "kind": "status-mismatch", "message_contains": "ZeroTensor"}
    meta = {
        "library": "torch",
        "api": "torch.sgn",
        "kind": "status-mismatch",
        "message": "rev raised: Cannot convert a ZeroTensor",
    }
    assert bench._matches(bug, meta)
    assert not bench._matches(bug, {**meta, "message": "rev raised: something else"})
    assert not bench._matches(bug, {**meta, "api": "torch.sign"})


def test_tables_show_accuracy_of_every_library_and_known_bugs():
    upstream = {"repo": "pytorch/pytorch", "number": 1, "url": "https://github.com/pytorch/pytorch/issues/1"}
    results = {
        lib: {
            "version": "1.0",
            "date": "2026-01-01",
            "accuracy": {"by_kind": {"rev-vs-numeric": {"detected": 2, "planted": 2}}, "traps": 5, "traps_flagged": []},
            "known": {
                "campaign_s": 600,
                "bugs": [
                    {"api": f"{lib}.f", "kind": "crash", "upstream": upstream, "found": True, "time_to_first_detection_s": 12.5}
                ],
            },
        }
        for lib in ("torch", "tf")
    }
    text = bench.markdown(results)
    assert "| torch | rev-vs-numeric | 2 / 2 |" in text and "| tf | **traps flagged (must be 0)** | 0 of 5 |" in text
    assert "[pytorch/pytorch#1](https://github.com/pytorch/pytorch/issues/1) | yes | 12.5 | 600 |" in text
