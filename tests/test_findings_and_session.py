"""Findings store, standalone reproducers and the fuzzing session's crash-once behaviour."""

import dataclasses
import json
import os

import planted_torch  # noqa: F401  (registers torch.nabla_planted)
import pytest
import torch
from conftest import SMOOTH, imported_modules, make_case, run_reproducer

from nabla_atheris import scenario_sets
from nabla_atheris import session as session_module
from nabla_atheris.catalog import build_catalog
from nabla_atheris.decoder import decode_bytes, seed_bytes
from nabla_atheris.findings import FindingsStore
from nabla_atheris.oracle import check_case
from nabla_atheris.session import FuzzSession, NewFinding, store_findings
from nabla_atheris.stats import campaign_totals
from nabla_atheris.verdict import Finding


@pytest.mark.parametrize(
    "name",
    [
        "wrong_backward",
        "wrong_jvp",
        "wrong_second_order",
        "output_differs_with_grad",
        "internal_error_backward",
        "not_implemented_backward",
        "no_derivative",
    ],
)
def test_reproducer_fails_while_the_bug_is_present_and_passes_once_fixed(tmp_path, torch_backend, monkeypatch, name):
    verdict = check_case(make_case(f"torch.nabla_planted.{name}", SMOOTH), torch_backend)
    expected = planted_torch.PLANTED[name][1]
    stored = [s for s in store_findings(verdict, torch_backend, FindingsStore(tmp_path)) if s.kind == expected]
    folder = stored[0].folder
    assert stored[0].new and stored[0].new_root
    assert sorted(p.name for p in folder.iterdir()) == ["case.msgpack", "finding.json", "input", "report.md", "repro.py"]
    assert imported_modules((folder / "repro.py").read_text()) <= {"__future__", "sys", "dataclasses", "numpy", "torch"}
    assert run_reproducer(folder / "repro.py", monkeypatch) == 1  # missing derivatives too: the reproducer shows it
    monkeypatch.setattr(torch.nabla_planted, name, lambda x: torch.sin(x))
    assert run_reproducer(folder / "repro.py", monkeypatch) == 0


def test_repeated_hits_count_up_and_keep_the_smallest_input(tmp_path, torch_backend):
    store = FindingsStore(tmp_path)
    verdict = check_case(make_case("torch.nabla_planted.wrong_jvp", SMOOTH), torch_backend)
    finding = verdict.findings[0]
    folder, new, new_root = store.record(finding, verdict.case, b"x" * 50, "print()")
    assert new and new_root
    assert store.record(finding, verdict.case, b"x" * 80, "print()") == (folder, False, False)
    finding.message = "the smaller input's own message"
    assert store.record(finding, verdict.case, b"x" * 10, "print()") == (folder, False, False)
    meta = json.loads((folder / "finding.json").read_text())
    assert meta["hits"] == 3 and (folder / "input").read_bytes() == b"x" * 10
    assert meta["message"] == "the smaller input's own message"  # finding.json describes the stored input
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".new-")] == []
    assert [m["signature"] for m in store.metas()] == [finding.signature()]


def test_a_rule_machinery_disagreement_is_one_finding_that_lists_its_apis(tmp_path, torch_backend):
    store = FindingsStore(tmp_path)
    verdict = check_case(make_case("torch.sin", SMOOTH), torch_backend)
    pair = ("fwd-over-fwd", "function:fwd-over-fwd")
    sin = Finding("custom-rule-mismatch", pair, "torch", "torch.sin", "real", "the rule's tangent is 0")
    cos = dataclasses.replace(sin, api="torch.cos")
    folder, new, _ = store.record(sin, verdict.case, b"x" * 20, "print()")
    assert new and store.record(cos, verdict.case, b"x" * 30, "print()")[:2] == (folder, False)
    meta = json.loads((folder / "finding.json").read_text())
    assert meta["apis"] == {"torch.sin": 1, "torch.cos": 1} and meta["root_cause"] == "torch:custom-rule:function:fwd-over-fwd"
    sin_again = FindingsStore(tmp_path).record(sin, verdict.case, b"x" * 5, "print()")[0]  # smaller: the report is rewritten
    assert sin_again == folder and "seen in 2 APIs: torch.cos, torch.sin" in (folder / "report.md").read_text()


def planted_catalog():
    names = ["torch.nabla_planted.wrong_backward", "torch.nabla_planted.no_derivative", "torch.sin"]
    template = [{"dims": {"n": 3}, "dtypes": ["float64"], "args": [{"tensor": ["n"]}]}]
    return build_catalog("torch", names, {name: template for name in names})


def test_session_crashes_once_per_root_cause_and_not_for_missing_derivatives(tmp_path):
    catalog = planted_catalog()
    session = FuzzSession("torch", tmp_path / "findings", tmp_path / "stats", catalog=catalog)
    wrong, missing, fine = (seed_bytes(catalog, i, 0) for i in range(3))
    with pytest.raises(NewFinding, match="wrong_backward"):
        session.test_one_input(wrong)
    session.test_one_input(wrong)  # known root cause: no crash
    session.test_one_input(missing)  # recorded, not raised by default
    session.test_one_input(fine)
    kinds = sorted(m["kind"] for m in session.store.metas())
    assert "rev-vs-numeric" in kinds and "missing-derivative" in kinds and "rev-vs-fwd" not in kinds, kinds
    stats = campaign_totals(tmp_path / "stats")
    assert stats["execs"] == 4 and stats["valid"] == 4 and stats["findings"]["rev-vs-numeric"] == 2
    assert stats["harness_errors"] == {}
    restarted = FuzzSession("torch", tmp_path / "findings", tmp_path / "stats", catalog=catalog)  # a second worker
    restarted.test_one_input(fine)
    added = campaign_totals(tmp_path / "stats")
    assert (added["processes"], added["execs"], added["findings"]["rev-vs-numeric"], len(added["apis"])) == (2, 5, 2, 3)
    quiet = FuzzSession("torch", tmp_path / "quiet", raise_new=False, catalog=catalog)  # merges: store, never crash
    quiet.test_one_input(wrong)
    assert any("wrong_backward" in m["api"] for m in quiet.store.metas())
    strict = FuzzSession("torch", tmp_path / "strict", raise_missing=True, catalog=catalog)
    with pytest.raises(NewFinding, match="missing-derivative"):
        strict.test_one_input(missing)


def test_unreadable_finding_and_statistics_files_are_skipped_and_named(tmp_path, torch_backend, capsys):
    from nabla_atheris.cli import main

    verdict = check_case(make_case("torch.nabla_planted.wrong_jvp", SMOOTH), torch_backend)
    store = FindingsStore(tmp_path / "findings")
    folder, _, _ = store.record(verdict.findings[0], verdict.case, b"x", "print()")
    (folder / "finding.json").write_text("{truncated")
    (tmp_path / "stats").mkdir()
    (tmp_path / "stats" / "worker-1-1.json").write_text("not json")
    assert store.metas() == [] and "unreadable" in capsys.readouterr().err
    assert main(["summary", str(tmp_path)]) == 2  # what is readable is summarized, the rest named in one line
    out, err = capsys.readouterr()
    assert "unique findings: 0" in out and err.count("\n") == 1 and "worker-1-1.json" in err and "1 more" in err
    again, new, _ = store.record(verdict.findings[0], verdict.case, b"x", "print()")  # written anew, not lost
    assert again == folder and new and store.metas()[0]["hits"] == 1
    totals = campaign_totals(tmp_path / "stats")
    assert totals["execs"] == 0 and totals["processes"] == 0 and "worker-1-1.json is not JSON" in totals["unreadable"][0]


def test_a_first_pass_thins_the_default_sets_a_library_thins_and_later_inputs_run_them_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(scenario_sets, "FIRST_PASS_THINS", {"torch": ("batched",)})
    monkeypatch.delenv(scenario_sets.ENVIRONMENT, raising=False)  # no --scenarios: the defaults
    catalog = planted_catalog()
    seen: list[dict] = []
    checked = check_case

    def recording(case, backend, selection, first_order_only=False):
        seen.append(dict(selection))
        return checked(case, backend, selection, first_order_only)

    monkeypatch.setattr(session_module, "check_case", recording)
    session = FuzzSession("torch", tmp_path / "findings", catalog=catalog, raise_new=False)
    session.stats.replay_inputs = 1
    fine = seed_bytes(catalog, 2, 0)
    session.test_one_input(fine)  # the first pass
    session.test_one_input(fine)
    defaults = scenario_sets.defaults("torch")
    thinned = {**defaults, "batched": defaults["batched"] * scenario_sets.FIRST_PASS_THINNING}
    assert "batched" in defaults and seen == [thinned, defaults]
    monkeypatch.setenv(scenario_sets.ENVIRONMENT, "default")  # sets the user named run as named, defaults included
    chosen = FuzzSession("torch", tmp_path / "findings", catalog=catalog)
    assert chosen.first_pass_selection == defaults


def test_a_replacement_worker_replays_the_cases_checked_before_up_to_first_order(tmp_path, monkeypatch):
    catalog = planted_catalog()
    calls: list[bool] = []
    checked = check_case

    def recording(case, backend, selection, first_order_only=False):
        calls.append(first_order_only)
        return checked(case, backend, selection, first_order_only)

    monkeypatch.setattr(session_module, "check_case", recording)
    wrong, fine = seed_bytes(catalog, 0, 0), seed_bytes(catalog, 2, 0)
    first = FuzzSession("torch", tmp_path / "findings", tmp_path / "stats", catalog=catalog, raise_new=False)
    first.test_one_input(fine)  # fuzzing: checked whole, recorded
    replacement = FuzzSession("torch", tmp_path / "findings", tmp_path / "stats", catalog=catalog, raise_new=False)
    replacement.stats.replay_inputs = 3
    replacement.test_one_input(fine)  # its first pass: up to first order
    replacement.test_one_input(wrong)  # new to the campaign: whole
    replacement.test_one_input(wrong)  # checked by this worker: up to first order
    assert calls == [False, True, False, True]
    partial = check_case(decode_bytes(fine, catalog), replacement.backend, {"core": 1}, first_order_only=True)
    assert partial.valid and not any(line.check.startswith("rev-over-rev") for line in partial.lines)
    assert len(list((tmp_path / "stats").glob("checked-*.txt"))) == 1  # one file per process


def test_a_worker_records_at_most_a_bounded_number_of_checked_cases(tmp_path, monkeypatch):
    from nabla_atheris import checked

    monkeypatch.setattr(checked, "RECORD_LIMIT", 1)
    catalog = planted_catalog()
    record = checked.CheckedCases(tmp_path, "context")
    first, second = (decode_bytes(seed_bytes(catalog, i, 0), catalog) for i in (0, 2))
    record.add(first)
    record.add(second)
    assert first in record and second not in record
    assert len((tmp_path / f"checked-{os.getpid()}.txt").read_text().split()) == 1
    assert first in checked.CheckedCases(tmp_path, "context") and first not in checked.CheckedCases(tmp_path, "other")
