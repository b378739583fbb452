"""Bad input of every kind is one line on stderr and exit code 2, never a traceback: malformed and
oversized hand-written cases, corrupted finding and statistics files, wrong arguments of every
command. Property-based tests feed malformed cases and files; the documented exit codes are the
only ones that come out."""

import contextlib
import io
import json
import shutil
import tempfile
from pathlib import Path

import msgpack
import planted_torch  # noqa: F401  (registers torch.nabla_planted)
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nabla_atheris import exitcodes
from nabla_atheris.cli import main
from nabla_atheris.handcase import LIMITS

GOOD = {"library": "torch", "api": "torch.sin", "args": [{"dtype": "float64", "shape": [2], "seed": 0}]}
WRONG = {"library": "torch", "api": "torch.nabla_planted.wrong_jvp", "args": [{"dtype": "float64", "shape": [3], "seed": 1}]}
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def run(*argv):
    """`nabla-atheris ARGV` in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def assert_documented(result, allowed):
    """An allowed exit code, no traceback, and a bad input told in exactly one line."""
    code, out, err = result
    assert code in allowed, (code, out[-500:], err[-500:])
    assert "Traceback" not in out + err, err
    if code == exitcodes.BAD_INPUT:
        assert err.count("\n") == 1 and err.startswith("nabla-atheris: error:"), err


def bad_input(result, *words):
    assert_documented(result, {exitcodes.BAD_INPUT})
    assert all(w in result[2] for w in words), result[2]


@st.composite
def malformed_cases(draw):
    """A valid case with one field replaced, removed or added (case and tensor level)."""
    case = json.loads(json.dumps(GOOD))
    target = draw(st.sampled_from(["case", "tensor"]))
    obj = case if target == "case" else case["args"][0]
    keys = sorted(obj) + ["kwargs", "range", "values", "requires_grad", "structure", "extra"]
    key = draw(st.sampled_from(keys))
    action = draw(st.sampled_from(["replace", "remove"]))
    if action == "remove":
        obj.pop(key, None)
    else:
        obj[key] = draw(json_values | st.integers(-(10**30), 10**30) | st.lists(st.integers(-3, 10**7), max_size=10))
    return case


@PROPERTY
@given(case=malformed_cases())
def test_malformed_cases_are_bad_input_or_checked(case):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "case.json"
        path.write_text(json.dumps(case))
        assert_documented(run("check", path), {exitcodes.AGREE, exitcodes.FINDING, exitcodes.BAD_INPUT})


@PROPERTY
@given(data=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_case_files_of_random_bytes_are_bad_input(data):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "case.json"
        path.write_bytes(data)
        bad_input(run("check", path))


@pytest.mark.parametrize(
    "tensor, words",
    [
        ({"dtype": "float64", "shape": [100000, 100000], "seed": 0}, ["limit on elements", str(LIMITS["elements"])]),
        ({"dtype": "float64", "shape": [1] * 9, "seed": 0}, ["limit on rank"]),
        ({"dtype": "float64", "shape": [2], "seed": -1}, ["seed"]),
        ({"dtype": "float64", "shape": [2], "values": ["a", "b"]}, ["holds numbers"]),
        ({"dtype": "int64", "shape": [2], "seed": 0, "range": [3, 3]}, ["'range' [3, 3)"]),
        ({"dtype": "uint8", "shape": [1], "values": [300]}, ["integers in [0, 255]"]),
        ({"dtype": "float64", "shape": [2], "seed": 0, "value": [1, 2]}, ["unknown tensor key(s) value"]),
        ({"dtype": "float64", "shape": [2], "seed": 0, "values": [1, 2]}, ["'values' or 'seed'"]),
    ],
)
def test_each_malformed_or_oversized_tensor_is_named(tmp_path, tensor, words):
    path = tmp_path / "case.json"
    path.write_text(json.dumps({**GOOD, "args": [tensor]}))
    bad_input(run("check", path), *words)


def test_unknown_case_keys_and_deep_nesting_are_named(tmp_path):
    path = tmp_path / "case.json"
    path.write_text(json.dumps({**GOOD, "kwarg": {"dim": 0}}))
    bad_input(run("check", path), "unknown case key(s) kwarg")
    for depth in (LIMITS["nesting"] + 1, 100_000):  # the second beyond Python's recursion limit
        path.write_text('{"library": "torch", "api": "torch.sin", "args": ' + "[" * depth + "]" * depth + "}")
        bad_input(run("check", path), "limit on nesting")


@pytest.fixture(scope="module")
def finding_folder(tmp_path_factory):
    """A stored finding of a planted bug (fwd-vs-numeric of wrong_jvp)."""
    root = tmp_path_factory.mktemp("store")
    (root / "case.json").write_text(json.dumps(WRONG))
    assert run("check", root / "case.json", "--findings", root / "findings")[0] == exitcodes.FINDING
    return next(p for p in (root / "findings").iterdir() if "first-order" in p.name)


TENSOR_FIELDS = ("t", "s", "d", "g")
CASE_FIELDS = ("v", "library", "api", "args")
corruptions = st.one_of(
    st.tuples(st.just("finding.json"), st.binary(max_size=100)),
    st.tuples(st.just("finding.json"), json_values.map(lambda v: json.dumps(v).encode())),
    st.tuples(st.just("finding.json"), st.tuples(st.sampled_from(["hits", "scenarios", "library", "signature"]), json_values)),
    st.tuples(st.just("case.msgpack"), st.binary(max_size=100)),
    st.tuples(st.just("case.msgpack"), json_values.map(lambda v: msgpack.packb(v))),
    st.tuples(st.just("case.msgpack"), st.tuples(st.sampled_from(CASE_FIELDS + TENSOR_FIELDS), json_values)),
)


def corrupt(folder, corruption):
    """Replace a file with the bytes given, or one field of it (a tensor field of case.msgpack's first argument)."""
    name, how = corruption
    if isinstance(how, tuple):
        field, value = how
        if name == "finding.json":
            meta = json.loads((folder / name).read_text())
            meta[field] = value
            how = json.dumps(meta).encode()
        else:
            case = msgpack.unpackb((folder / name).read_bytes(), raw=False)
            (case["args"][0] if field in TENSOR_FIELDS else case)[field] = value
            how = msgpack.packb(case, use_bin_type=True)
    (folder / name).write_bytes(how)


@PROPERTY
@given(corruption=corruptions)
def test_corrupted_findings_are_bad_input_for_repro_and_minimize(finding_folder, corruption):
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / finding_folder.name
        shutil.copytree(finding_folder, folder)
        corrupt(folder, corruption)
        assert_documented(run("repro", folder), {exitcodes.AGREE, exitcodes.FINDING, exitcodes.BAD_INPUT})
        result = run("minimize", folder, "--max-checks", "2")
        assert_documented(result, {exitcodes.FINDING, exitcodes.BAD_INPUT, exitcodes.NO_RESULT})


@settings(PROPERTY, max_examples=10)
@given(worker=json_values, record=json_values, meta=json_values)
def test_corrupted_statistics_are_skipped_and_named_by_summary_and_report(finding_folder, worker, record, meta):
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        (workdir / "stats").mkdir()
        (workdir / "stats" / "worker-1-1.json").write_text(json.dumps(worker))
        (workdir / "stats.jsonl").write_text(json.dumps({"elapsed_s": 5, "run": 1}) + "\n" + json.dumps(record) + "\n")
        shutil.copytree(finding_folder, workdir / "findings" / "good")
        (workdir / "findings" / "bad").mkdir()
        (workdir / "findings" / "bad" / "finding.json").write_text(json.dumps(meta))
        for command in (["summary", workdir], ["report", workdir, "--out", workdir / "out"]):
            result = run(*command)
            assert_documented(result, {exitcodes.BAD_INPUT})  # the corrupted finding.json at least
            assert "skipped malformed file(s)" in result[2]
        assert "wrong_jvp" in run("summary", workdir)[1]  # what is readable is still summarized


names = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/"), min_size=1, max_size=12).filter(
    lambda n: n not in (".", "..")
)
# What a command may be pointed at: nothing, a file of random bytes (named like a case or not), or a
# folder of such files (like a finding, a campaign or a corpus of garbage).
FOLDER_FILES = ("finding.json", "case.msgpack", "input", "stats", "stats.jsonl")
layouts = st.one_of(
    st.tuples(st.just("missing"), names, st.just(b"")),
    st.tuples(st.sampled_from(["file.json", "file.msgpack"]), names, st.binary(max_size=64)),
    st.tuples(
        st.just("folder"),
        names,
        st.dictionaries(st.sampled_from(FOLDER_FILES), st.binary(max_size=64)),
    ),
)
FILE_COMMANDS = [
    ["check", "{}"],
    ["repro", "{}"],
    ["minimize", "{}", "--max-checks", "2"],
    ["summary", "{}"],
    ["report", "{}"],
    ["seed", "torch", "--out", "{}"],
]


@settings(PROPERTY, max_examples=30)
@given(layout=layouts, command=st.sampled_from(FILE_COMMANDS))
def test_any_file_or_folder_given_to_any_command_gives_a_documented_exit(layout, command):
    kind, name, content = layout
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / (name + kind.removeprefix("file") if kind.startswith("file") else name)
        if kind.startswith("file"):
            path.write_bytes(content)
        elif kind == "folder":
            path.mkdir()
            for file, data in content.items():
                (path / file).write_bytes(data)
        argv = [a.replace("{}", str(path)) for a in command]
        allowed = {exitcodes.AGREE, exitcodes.FINDING, exitcodes.BAD_INPUT, exitcodes.NO_RESULT}
        assert_documented(run(*argv), allowed)


def test_every_command_refuses_bad_arguments_in_one_line(tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    (tmp_path / "not-campaign").mkdir()
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "notes.txt").write_text("mine")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "one").write_bytes(b"\x00")
    refused = [
        (["nosuchcommand"], "invalid choice"),
        (["check"], "required"),
        (["catalog", "nolib"], "invalid choice"),
        (["fuzz", "torch", "--jobs", "0"], "--jobs"),
        (["fuzz", "torch", "--time", "x"], "invalid int"),
        (["fuzz", "torch", "--workdir", a_file], "is a file"),
        (["merge", "torch", a_file, corpus], "is a file"),
        (["merge", "torch", tmp_path / "out", tmp_path / "missing"], "not a corpus folder"),
        (["coverage", "torch", tmp_path / "missing"], "not a corpus folder"),
        (["coverage", "torch", corpus, "--out", a_file], "is a file"),
        (["seed", "torch", "--out", a_file], "is a file"),
        (["seed", "torch", "--out", tmp_path / "foreign"], "not torch seeds"),
        (["summary", tmp_path / "not-campaign"], "not a campaign folder"),
        (["summary", tmp_path / "missing"], "no such campaign folder"),
        (["report", tmp_path / "not-campaign"], "not a campaign folder"),
        (["check", tmp_path / "missing.json"], "No such file"),
        (["check", tmp_path], "cannot read"),
        (["repro", tmp_path / "missing"], "no such file"),
        (["repro", tmp_path / "not-campaign"], "not a finding folder"),
        (["minimize", tmp_path / "missing"], "no such file"),
        (["minimize", a_file, "--max-checks", "0"], "--max-checks"),
    ]
    for argv, words in refused:
        bad_input(run(*argv), words)
    assert (tmp_path / "foreign" / "notes.txt").read_text() == "mine"  # seed did not empty a folder of other files


def test_minimize_of_a_case_that_reproduces_nothing_exits_3_in_one_line(tmp_path):
    path = tmp_path / "case.json"
    path.write_text(json.dumps(GOOD))
    code, out, err = run("minimize", path)
    assert code == exitcodes.NO_RESULT and err.count("\n") == 1 and "nothing to minimize" in err
    assert not list(tmp_path.glob("*.minimized*"))


def test_check_and_repro_store_findings_only_where_asked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "case.json").write_text(json.dumps(WRONG))
    code, out, _ = run("check", "case.json")
    assert code == exitcodes.FINDING and "not stored" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.json"]
    code, out, _ = run("repro", "case.json", "--findings", "kept here")
    assert code == exitcodes.FINDING and any("first-order" in p.name for p in (tmp_path / "kept here").iterdir())
