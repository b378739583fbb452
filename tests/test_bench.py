"""The benchmark script's data and tables (the measurements themselves are not tests)."""

import importlib.util
import json
import sys
import time
from pathlib import Path

import numpy as np

from nabla_atheris.case import Attr, Case, Tensor
from nabla_atheris.handcase import parse_case
from nabla_atheris.libraries import LIBRARIES
from nabla_atheris.verdict import KINDS

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("bench", ROOT / "scripts" / "bench.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def test_known_bugs_name_a_library_an_api_a_kind_and_an_upstream_issue_or_how_this_tool_found_it():
    bugs = json.loads((ROOT / "bench" / "known_bugs.json").read_text())
    assert len(bugs) >= 5
    for bug in bugs:
        api_named = bug["api"] == "*" or bug["api"].startswith(f"{bug['library']}.")  # "*": any API shows it
        assert bug["library"] in LIBRARIES and api_named and bug["kind"] in KINDS, bug
        assert bug["present_here"] is True, bug
        if bug["upstream"] is None:  # not reported upstream: found by this tool, with a standalone reproducer
            assert bug["found_by"].startswith("nabla-atheris") and bug["verified_snippet"], bug
            assert bench.upstream_link(bug) == "not reported (found by this tool)"
        else:
            assert bug["upstream"]["url"].endswith(str(bug["upstream"]["number"])), bug


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
    assert bench._matches({**bug, "api": "*"}, {**meta, "api": "torch.sign"})


def test_a_finding_under_another_name_of_the_bugs_function_or_keyed_by_it_in_a_program_counts():
    bug = {"library": "torch", "api": "torch.linalg.det", "kind": "second-order-mismatch"}
    meta = {"library": "torch", "api": "torch.Tensor.det", "kind": "second-order-mismatch", "message": "m"}
    assert bench._matches(bug, meta)  # an alias of the same function
    assert bench._matches(bug, {**meta, "api": "torch.Tensor.det -> torch.sum", "signature": "torch:det:second-order"})
    assert bench._matches(bug, {**meta, "api": "torch.sin", "apis": {"torch.sin": 1, "torch.det": 2}})
    assert not bench._matches(bug, {**meta, "api": "torch.Tensor.det -> torch.sum", "signature": "torch:det->sum:second-order"})
    assert not bench._matches(bug, {**meta, "api": "torch.logdet", "signature": "torch:logdet:second-order"})
    softmax = {"library": "torch", "api": "torch.nn.functional.log_softmax", "kind": "status-mismatch"}
    assert bench._matches(softmax, {**meta, "api": "torch.special.log_softmax", "kind": "status-mismatch"})


def test_a_program_finding_matches_a_known_bug_of_calls_it_makes_in_a_row():
    bug = {"library": "jax", "api": "jax.nn.relu -> jax.numpy.sqrt", "kind": "nan-mismatch", "message_contains": "by fwd"}
    meta = {"library": "jax", "api": bug["api"], "kind": "nan-mismatch", "message": "<u, J v> is nan by fwd, 0.5 by rev"}
    assert bench._matches(bug, meta)
    assert bench._matches(bug, {**meta, "api": "jax.numpy.matmul -> jax.nn.relu -> jax.numpy.sqrt"})
    assert bench._matches(bug, {**meta, "api": "jax.nn.relu -> jax.numpy.sqrt -> jax.numpy.mean"})
    assert not bench._matches(bug, {**meta, "api": "jax.numpy.sqrt -> jax.nn.relu"})
    assert not bench._matches(bug, {**meta, "api": "jax.nn.relu -> jax.numpy.exp -> jax.numpy.sqrt"})
    assert not bench._matches(bug, {**meta, "api": "jax.numpy.sqrt"})
    assert not bench._matches(bug, {**meta, "kind": "fwd-vs-numeric"})


def test_known_bugs_of_programs_carry_the_hand_written_case_of_their_calls():
    programs = [b for b in json.loads((ROOT / "bench" / "known_bugs.json").read_text()) if " -> " in b["api"]]
    assert len(programs) >= 3
    for bug in programs:
        case = parse_case(bug["case"])
        assert case.library == bug["library"] and case.name() == bug["api"] and len(case.apis()) >= 2, bug["api"]


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
    bug = {"api": "torch.g", "kind": "compiled-mismatch", "upstream": upstream, "found": False, "time_to_first_detection_s": None}
    results["torch"]["known:default,inductor/8"] = {"campaign_s": 540, "scenarios": "default,inductor/8", "bugs": [bug]}
    text = bench.markdown(results)
    assert "| torch | rev-vs-numeric | 2 / 2 |" in text and "| tf | **traps flagged (must be 0)** | 0 of 5 |" in text
    assert "[pytorch/pytorch#1](https://github.com/pytorch/pytorch/issues/1) | yes | 12.5 | 600 |" in text
    assert "| `torch.g` | compiled-mismatch | [pytorch/pytorch#1]" in text and "| no | - | 540 | default,inductor/8 |" in text


def test_known_bugs_that_no_campaign_was_evaluated_on_read_not_yet_measured():
    upstream = {"repo": "pytorch/pytorch", "number": 1, "url": "https://github.com/pytorch/pytorch/issues/1"}
    row = {"api": "torch.f", "kind": "crash", "upstream": upstream, "found": True, "time_to_first_detection_s": 3.0}
    results = {"torch": {"version": "1.0", "date": "2026-01-01", "known": {"campaign_s": 600, "bugs": [row]}}}
    bugs = [
        {"library": "torch", "api": "torch.f", "kind": "crash", "upstream": upstream},
        {"library": "torch", "api": "torch.f", "kind": "rev-vs-fwd", "upstream": upstream},
        {"library": "torch", "api": "torch.g -> torch.h", "kind": "crash", "upstream": None},
        {"library": "jax", "api": "jax.k", "kind": "crash", "upstream": None},  # no results of its library
    ]
    text = bench.markdown(results, bugs)
    link = bench.upstream_link(bugs[0])
    assert f"| torch | `torch.f` | crash | {link} | yes | 3.0 | 600 |" in text
    assert f"| torch | `torch.f` | rev-vs-fwd | {link} | not yet measured | - | - | - |" in text
    assert "| torch | `torch.g -> torch.h` | crash | not reported (found by this tool) | not yet measured | - | - | - |" in text
    assert text.count("`torch.f` | crash") == 1 and "jax.k" not in text
    assert "not yet measured" not in bench.markdown({"torch": results["torch"]}, bugs[:1])


def test_tables_show_cold_and_warm_speed_ups_start_up_and_a_campaigns_time():
    rows = [
        {"label": label, **{f"{f}_per_check": v for f in ("cold_s", "warm_s", "cold_cpu_s", "warm_cpu_s")}}
        for label, v in (("baseline", 1.0), ("new, empty compilation cache", 0.25))
    ]
    for row in rows:
        for figure in ("cold_s", "warm_s", "cold_cpu_s", "warm_cpu_s"):
            row[f"{figure}_speedup"] = round(1.0 / row[f"{figure}_per_check"], 2)
    accounting = {"startup_s": 9, "first_pass_s": 300, "later_s": 1400, "later_share": 0.8}
    accounting["checking_share_after_first_minute"] = 0.97
    campaign = {
        "seconds": 1800,
        "seeds": 600,
        "first_pass_s": 312.0,
        "time_accounting": accounting,
        "along_the_way": [{"elapsed_s": 60.0, "execs": 100, "cov": 900, "corpus": 80, "corpus_files": 0}],
        "peak_rss_mb": 3000,
        "worker_processes": 2,
        "findings": 7,
        "resumed": {"seconds": 300, "first_pass_inputs": 700, "first_pass_s": None},
        "workdir": "w",
    }
    ending = {"checks": 200, "checks_per_s": 0.33, "apis_exercised": 150, "cov": None, "ft": None, "corpus_files": 3}
    old = {**ending, "command_s": 1850.0, "first_pass_s": None, "first_pass_done": False, "seeds": 1400, "revision": "abc"}
    new = {**ending, "checks": 5000, "cov": 9000, "command_s": 1810.0, "first_pass_s": 312.0}
    campaign["side_by_side"] = {"baseline": old, "new": new}
    results = {
        "jax": {
            "version": "1.0",
            "date": "2026-01-01",
            "throughput": {"baseline": "abc", "inputs": 40, "rounds": 2, "rows": rows, "findings_differ": []},
            "startup": {"instrumented (AD modules and oracle)": {"seconds": 8.5, "functions": 2300}},
            "campaign": campaign,
            "firstpass": {
                "inputs": 20,
                "rounds": 2,
                "rows": [
                    {"label": "whole", "sets": "core, batched", "cold_cpu_s": 0.8, "cold_s": 1.6, "cpu_speedup": 1.0},
                    {"label": "checked before", "sets": "core", "cold_cpu_s": 0.2, "cold_s": 0.4, "cpu_speedup": 4.0},
                ],
            },
        }
    }
    text = bench.markdown(results)
    assert "| checked before | `core` | 0.2 | 4.0 | 0.4 |" in text, text
    assert "| new, empty compilation cache | 0.25 | 4.0 | 4.0 | 0.25 | 4.0 | 4.0 |" in text, text
    assert "| instrumented (AD modules and oracle) | 8.5 | 2300 |" in text
    assert "| first pass over the seeds (start-up included), cold | 312 s (5.2 min) |" in text
    assert "| first pass of a resumed run (700 inputs) | not reached |" in text
    assert "| share of the worker's time checking, after its first minute | 97.0% |" in text
    assert "| 60.0 | 100 | 900 | 80 | 0 |" in text
    assert "| inputs checked (seeds and mutations) | 200 | 5000 | 25.0 |" in text
    assert "| coverage (libFuzzer's cov at the end; baseline: its last fork-mode merge) | - | 9000 | - |" in text
    assert "| first pass over the seeds (start-up included) | not reached | 312 s (5.2 min) | - |" in text


def test_the_input_worker_records_an_exception_escaping_the_harness_entry(tmp_path, monkeypatch):
    from nabla_atheris.session import FuzzSession

    def broken(self, data):
        raise ValueError("our bug")

    monkeypatch.setattr(FuzzSession, "warm_up", lambda self: None)
    monkeypatch.setattr(FuzzSession, "test_one_input", broken)
    state_path = tmp_path / "state.json"
    config = {"source": "random bytes", "seconds": 60, "limit": 3, "state": str(state_path), "instrument": False}
    bench.inputs_worker("torch", {**config, "findings": str(tmp_path / "findings")})
    state = json.loads(state_path.read_text())
    lengths = {len(p.read_bytes()) for p in (ROOT / "corpus" / "torch").iterdir()}
    assert (state["attempted"], state["checks"], state["current"]) == (3, 3, None)
    assert [e["error"].split(" (at")[0] for e in state["harness_exceptions"]] == ["ValueError: our bug"] * 3
    assert all(len(bytes.fromhex(e["input"])) in lengths for e in state["harness_exceptions"])
    bench.inputs_worker("torch", {**config, "limit": 5, "findings": str(tmp_path / "findings")})  # continues the state
    assert json.loads(state_path.read_text())["attempted"] == 5


def test_reliability_table_shows_random_inputs_native_crashes_and_kill_resume():
    state = {**bench.NEW_STATE, "attempted": 2500, "checks": 2499, "valid": 2000, "apis": ["torch.sin"], "seconds": 100.0}
    state["native_crashes"] = [
        {"api": "torch.nn.functional.pdist", "exit": -11, "signal": "SIGSEGV", "input": "torch.nn.functional.pdist-ab"},
        {"api": "torch.nn.functional.pdist", "exit": -11, "signal": "SIGSEGV", "input": "torch.nn.functional.pdist-cd"},
    ]
    state["native_crashes"][0]["call"] = "pdist()"
    state["native_crashes"][0]["repro"] = {"exit": 5, "message": "nabla-atheris: native crash: pdist died of SIGSEGV"}
    state.update(peak_rss_mb=431.2, workers=3, runs=[{"date": "2026-12-01", "seconds": 100, "load_average": [1.5, 2.0]}])
    replayed = {"sampled": 10, "same signature": 9, "other": 1, "killed the process": 0}
    kill = {"seconds": 120, "processes_outliving_the_kill": 0, "findings_before_the_kill": 7, "kept_complete_after_resume": 7}
    kill.update(findings_after_resume=9, replayed=replayed, native_crashes=0, native_repeated_by_a_rerun=0)
    results = {"torch": {"version": "1.0", "date": "2026-12-01", "robustness": bench.robustness_summary(state, 10000)}}
    results["torch"]["reliability"] = kill
    text = bench.markdown(results)
    assert "| torch | 2,500 of 10,000 | 25.0 / s | 0 | 0 | 2 (1 APIs) | 0 | 431 | 7 of 7 | 0 | 9 of 10 |" in text, text
    crashes = "| `torch.nn.functional.pdist` | 2 | SIGSEGV | 1 of 1 | native crash: pdist died of SIGSEGV | `pdist()` | `torch.nn"
    assert crashes in text
    assert "(load average of the machine before-after each: 1.5-2.0); 3 worker processes" in text


def test_a_run_without_time_reads_the_state_and_starts_no_worker(tmp_path):
    state = tmp_path / "state.json"
    state.write_text(json.dumps({**bench.NEW_STATE, "attempted": 7, "workers": 2}))
    read = bench.run_inputs("torch", "random bytes", 0, state, tmp_path)
    assert (read["attempted"], read["workers"], read["runs"]) == (7, 2, [])


def test_a_crash_is_listed_with_its_call_in_one_line():
    empty = Tensor("float32", (7, 0), np.zeros(0, np.float32))
    pool = Case("torch", "torch.nn.functional.max_pool1d", 0, 0, (empty, Attr(2)), (("dilation", Attr(-1)),))
    assert bench.call_summary(pool) == "torch.nn.functional.max_pool1d(float32[7, 0], 2, dilation=-1)"


def test_a_worker_stuck_on_an_input_is_killed_as_a_hang_and_another_ends_with_its_code(tmp_path):
    state = tmp_path / "state.json"
    stuck = f"import json, time; open({str(state)!r}, 'w').write(json.dumps({{'current': 'ab'}})); time.sleep(60)"
    started = time.time()
    assert bench.run_worker([sys.executable, "-c", stuck], state, 2) is None
    assert time.time() - started < 30
    assert bench.run_worker([sys.executable, "-c", "raise SystemExit(3)"], tmp_path / "none.json", 2) == 3


def test_the_precision_section_shows_every_later_triage_round_from_its_readme():
    lines = bench.precision_table()
    for folder in sorted(bench.TRIAGE.glob("round*")):
        link = f"({folder.relative_to(ROOT).as_posix()}/README.md)"
        (summary,) = [line for line in lines if link in line]
        first_table_row = next(line for line in (folder / "README.md").read_text().splitlines() if line.startswith("|"))
        assert lines.index(first_table_row) > lines.index(summary), folder


def test_reach_table_names_the_value_regimes_a_corpus_hit(tmp_path, monkeypatch):
    from nabla_atheris.palette import VALUE_REGIMES

    shares = {regime: 0.5 for regime in VALUE_REGIMES} | {"tiny": 0.1, "negative zeros": 0.0, "mixed": 0.0}
    figures = {"library": "torch", "apis": 900, "failed": 300, "parameters": 10, "parameters_varied": 9}
    figures |= {"share_varied": 0.9, "samples": 100, "valid_rate": 0.8, "regimes": shares, "corpus_inputs": 40}
    (tmp_path / "torch.json").write_text(json.dumps(figures))
    monkeypatch.setattr(bench, "REACH", tmp_path)
    row = next(line for line in bench.reach_table() if line.startswith("| torch"))
    assert "| 9 / 11 in 40 inputs; rarest tiny 10%; none: negative zeros, mixed |" in row
    (tmp_path / "torch.json").write_text(json.dumps(figures | {"corpus_inputs": 0}))
    assert next(line for line in bench.reach_table() if line.startswith("| torch")).endswith("| empty corpus |")
    (tmp_path / "torch.json").write_text(json.dumps({k: v for k, v in figures.items() if k != "regimes"}))
    assert next(line for line in bench.reach_table() if line.startswith("| torch")).endswith("| - |")


def test_reach_regimes_count_the_inputs_of_a_corpus_per_regime(tmp_path):
    sys.path.insert(0, str(ROOT / "scripts"))
    import reach

    from nabla_atheris.decoder import seed_bytes
    from nabla_atheris.palette import VALUE_REGIMES

    catalog, _ = reach.load("torch", None)
    entry = catalog.apis["torch.sin"]
    (tmp_path / "a").write_bytes(seed_bytes(catalog, entry.id, 0))  # the mixed palette's unit-range values
    (tmp_path / "b").write_bytes(seed_bytes(catalog, entry.id, 0))
    found = reach.regimes(catalog, tmp_path)
    assert found["corpus_inputs"] == 2 and list(found["regimes"]) == list(VALUE_REGIMES)
    assert found["regimes"]["unit"] == 1.0 and found["regimes_hit"] == ["unit"]
    (tmp_path / "a").unlink()
    (tmp_path / "b").unlink()
    assert reach.regimes(catalog, tmp_path)["corpus_inputs"] == 0


def test_the_mix_sections_inputs_are_seeds_and_every_fourth_a_seed_made_a_program_by_inserted_bytes():
    spec = importlib.util.spec_from_file_location("input_speed", ROOT / "scripts" / "input_speed.py")
    input_speed = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(input_speed)
    from nabla_atheris.catalog import load_catalog
    from nabla_atheris.decoder import decode_bytes

    catalog = load_catalog("torch")
    made = input_speed.inputs("torch", catalog, 24, 0)
    assert made == input_speed.inputs("torch", catalog, 24, 0)  # the same bytes for both decoders
    cases = [decode_bytes(data, catalog) for data in made]
    seeds = {p.read_bytes() for p in (ROOT / "corpus" / "torch").iterdir()}
    assert all(data in seeds for i, data in enumerate(made) if i % input_speed.PROGRAM_EVERY != input_speed.PROGRAM_EVERY - 1)
    programs = [c for c in cases if c.then]
    assert len(programs) >= 5
    for case, data in zip(cases, made):
        if case.then:  # the seed with bytes inserted: its call first
            size, gap = len(data) - input_speed.INSERTED, input_speed.INSERTED
            (seed,) = [s for s in seeds if len(s) == size and any(data[:k] + data[k + gap :] == s for k in range(size))]
            assert decode_bytes(seed, catalog).api == case.api


def test_robustness_shards_merge_into_the_state_and_vanish(tmp_path):
    state = tmp_path / "jax.json"
    bench._write_state(state, {**bench.NEW_STATE, "attempted": 10, "checks": 10, "valid": 9, "apis": ["a"], "seconds": 5.0})
    crash = {"api": "b", "exit": None, "signal": "hang", "input": "b-1"}
    for k, (attempted, apis, crashes, seconds) in enumerate([(3, ["b"], [crash], 7.0), (4, ["a", "c"], [], 9.0)]):
        run = {"date": "2026-12-02", "seconds": seconds, "load_average": [1, 2]}
        shard = {**bench.NEW_STATE, "attempted": attempted, "checks": attempted, "valid": attempted, "apis": apis}
        shard |= {"native_crashes": crashes, "seconds": seconds, "runs": [run], "workers": 1}
        bench._write_state(tmp_path / f"jax.shard{k}.json", shard)
    merged = bench._merge_shards(state)  # as after an interrupted run: the longest shard's time
    assert (merged["attempted"], merged["checks"], merged["valid"], merged["workers"]) == (17, 17, 16, 2)
    assert merged["apis"] == ["a", "b", "c"] and merged["native_crashes"] == [crash]
    assert merged["seconds"] == 14.0 and merged["runs"][-1]["workers"] == 2
    assert bench._read_state(state) == merged and not list(tmp_path.glob("jax.shard*"))


def test_root_causes_only_programs_showed_are_counted_and_listed_apart_from_those_single_calls_showed_too():
    def meta(root, apis, kind="rev-vs-numeric", flaky=False):
        return {"root_cause": root, "api": apis[0], "apis": dict.fromkeys(apis, 1), "kind": kind, "details": {"flaky": flaky}}

    metas = [
        meta("torch:a", ["torch.a"]),
        meta("torch:b", ["torch.b", "torch.x -> torch.b"]),  # a single call showed it too
        meta("torch:c", ["torch.c -> torch.d"]),
        meta("torch:c", ["torch.c -> torch.e"], kind="crash"),
        meta("torch:f", ["torch.f -> torch.g"], kind="crash", flaky=True),  # flaky: left out
    ]
    roots = bench.program_roots(metas)
    assert roots["root_causes"] == 3 and roots["with_program_findings"] == 2
    only = [{"root": "torch:c", "programs": ["torch.c -> torch.d", "torch.c -> torch.e"], "kinds": ["crash", "rev-vs-numeric"]}]
    assert roots["only_programs"] == only
    results = {
        "torch": {
            "version": "1.0",
            "date": "2026-01-01",
            "known:default@1800": {"campaign_s": 1800.2, "bugs": [], "roots": roots},
        }
    }
    text = bench.markdown(results, [])
    assert "| 3 | 2 | 1 | `torch.c -> torch.d`, `torch.c -> torch.e` (crash, rev-vs-numeric) |" in text, text


def test_a_campaign_of_another_length_is_shown_after_the_600_second_one():
    accounting = {
        "startup_s": 9,
        "first_pass_s": 300,
        "later_s": 1400,
        "later_share": 0.8,
        "checking_share_after_first_minute": 0.9,
    }
    resumed = {"seconds": 180, "first_pass_inputs": 700, "first_pass_s": 90.0}
    campaign = {"seeds": 600, "first_pass_s": 312.0, "time_accounting": accounting, "along_the_way": [], "resumed": resumed}
    campaign.update(peak_rss_mb=3000, worker_processes=1, findings=7, workdir="w")
    results = {
        "tf": {
            "version": "1.0",
            "date": "2026-01-01",
            "campaign:1800": {**campaign, "seconds": 1800},
            "campaign": {**campaign, "seconds": 600},
        }
    }
    text = bench.markdown(results)
    assert text.index("A 10-minute one-worker campaign") < text.index("A 30-minute one-worker campaign"), text
    assert "| first pass of a resumed run (700 inputs) | 90 s (1.5 min) |" in text


def test_the_first_pass_is_timed_from_the_runs_start_across_workers_that_died_during_it():
    def record(stamp, workers, processes):
        return {"time": stamp, "elapsed_s": 0.3, "workers": workers, "processes": processes}

    start = bench._epoch("2026-01-01T00:00:00Z")
    first = {"pid": 1, "process_started": start + 1.0}
    second = {"pid": 2, "process_started": start + 50.0}  # replaced the first after a native crash
    records = [
        record("2026-01-01T00:00:00Z", [{"pid": 1, "first_pass_s": None}], [first]),
        record("2026-01-01T00:01:10Z", [{"pid": 2, "first_pass_s": 14.6}], [first, second]),
    ]
    assert bench._first_pass(records) == 64.6
    assert bench._first_pass(records[:1]) is None
