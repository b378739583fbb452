"""A case may be a program: several calls, a later one taking an earlier one's output. Its JSON form,
its encoding (a single call's bytes unchanged), its execution by the torch and JAX bindings under
every scenario, and its reproducers."""

import dataclasses
import json

import msgpack
import planted_jax  # noqa: F401  (registers jax.nabla_planted)
import planted_tf  # noqa: F401  (registers tf.nabla_planted)
import planted_torch  # registers torch.nabla_planted
import pytest
from conftest import explain, kinds, make_case, run_reproducer, tensor
from test_bad_input import run

from nabla_atheris import exitcodes, scenario_sets
from nabla_atheris.case import CaseFormatError, Ref, decode, encode
from nabla_atheris.findings import FindingsStore
from nabla_atheris.handcase import parse_case
from nabla_atheris.minimize import case_to_json
from nabla_atheris.oracle import check_case
from nabla_atheris.report import summarize
from nabla_atheris.reproducer import render_reproducer
from nabla_atheris.session import store_findings

X = tensor([3], [0.3, -0.6, 1.1])


def program(library, first, second, second_args=({"ref": [0, 0]},)):
    """The JSON form of `second(first(x), ...)` in `library`."""
    return {
        "library": library,
        "calls": [{"api": first, "args": [X]}, {"api": second, "args": list(second_args)}],
    }


def test_a_program_parses_into_calls_whose_later_arguments_are_earlier_outputs():
    y = tensor([3], [1.0, 2.0, 3.0])
    case = parse_case(program("torch", "torch.sin", "torch.mul", ({"ref": [0, 0]}, y)))
    assert case.apis() == ["torch.sin", "torch.mul"]
    assert case.then[0].args[0] == Ref(0, 0)
    assert len(case.differentiable()) == 2  # the tensors of every call are inputs
    assert case.then[0].args[1] is case.tensors()[1]


@pytest.mark.parametrize(
    "obj, words",
    [
        ({**program("torch", "torch.sin", "torch.tanh"), "api": "torch.sin"}, "unknown program key(s) api"),
        ({"library": "torch", "calls": [{"api": "torch.sin", "args": [X], "out": 1}]}, "unknown call key(s) out"),
        ({"library": "torch", "calls": []}, "non-empty list"),
        ({"library": "torch", "api": "torch.sin", "args": [{"ref": [0, 0]}]}, "the first call (torch.sin) has no earlier call"),
        (program("torch", "torch.sin", "torch.tanh", ({"ref": [1, 0]},)), "call 1 (torch.tanh) refers to output 0 of call 1"),
        (program("torch", "torch.sin", "torch.tanh", ({"ref": [2, 0]},)), "refers to output 0 of call 2"),
        (program("torch", "torch.sin", "torch.tanh", ({"ref": [0, -1]},)), "two non-negative integers"),
        (program("torch", "torch.sin", "torch.tanh", ({"ref": [0, 0], "x": 1},)), "unknown reference key(s) x"),
    ],
)
def test_each_malformed_program_is_named(obj, words):
    with pytest.raises(CaseFormatError, match=words.replace("(", r"\(").replace(")", r"\)")):
        parse_case(obj)


@pytest.mark.parametrize(
    "second_args, words",
    [(({"ref": [1, 0]},), "refers to output 0 of call 1"), (({"ref": [0, 1]},), "names output 1 of call 0, which has 1 output")],
)
def test_check_refuses_a_bad_reference_with_exit_2_in_one_line(tmp_path, second_args, words):
    path = tmp_path / "case.json"
    path.write_text(json.dumps(program("torch", "torch.sin", "torch.tanh", second_args)))
    code, out, err = run("check", path)
    assert code == exitcodes.BAD_INPUT and words in err and len(err.strip().splitlines()) == 1, (code, out, err)


def test_a_program_encodes_and_decodes_to_itself_and_a_single_call_encodes_as_before():
    case = parse_case(program("torch", "torch.sin", "torch.tanh"))
    assert decode(encode(case)) == case and decode(encode(case)).then[0].args[0] == Ref(0, 0)
    assert parse_case(case_to_json(case)) == case
    single = make_case("torch.sin", X)
    (t,) = single.tensors()
    before = {  # the codec's layout before programs existed
        "v": 1,
        "library": "torch",
        "api": "torch.sin",
        "api_id": single.api_id,
        "template": -1,
        "args": [{"t": "float64", "s": [3], "d": t.values.astype("<f8").tobytes(), "g": True}],
        "kwargs": [],
    }
    assert encode(single) == msgpack.packb(before, use_bin_type=True)
    assert "then" not in msgpack.unpackb(encode(single))


FIRST = {"torch": "torch.sin", "jax": "jax.numpy.sin", "tf": "tf.math.sin"}
PLANTED = {  # sin, with a reverse-mode derivative 1.5 times too large
    "torch": "torch.nabla_planted.wrong_backward",
    "jax": "jax.nabla_planted.wrong_vjp",
    "tf": "tf.nabla_planted.wrong_gradient",
}
RIGHT = {"torch": "torch.tanh", "jax": "jax.numpy.tanh", "tf": "tf.math.tanh"}


@pytest.mark.parametrize("library", ["torch", "jax", "tf"])
def test_a_wrong_derivative_fed_by_an_earlier_call_is_found_and_a_right_program_agrees(request, library):
    backend = request.getfixturevalue(f"{library}_backend")
    found = check_case(parse_case(program(library, FIRST[library], PLANTED[library])), backend)
    assert kinds(found) & {"rev-vs-numeric", "fwd-vs-numeric"} and not found.harness_errors, explain(found)
    sequence = f"{FIRST[library]} -> {PLANTED[library]}"
    assert {f.api for f in found.findings} == {sequence}, explain(found)  # named by its calls' APIs
    name = {"torch": "wrongbackward", "jax": "wrongvjp", "tf": "wronggradient"}[library]
    # the last call alone, on the values sin gave it, shows the same: the planted op's root cause, not the program's
    assert f"{library}:{name}:first-order" in {f.signature() for f in found.findings}, explain(found)
    clean = check_case(parse_case(program(library, FIRST[library], RIGHT[library])), backend)
    assert not clean.findings and not clean.harness_errors and not clean.filters, explain(clean)
    ran = {line.check for line in clean.lines if line.status == "ok"}
    assert {"rev vs fwd", "rev-over-rev", "fwd-over-fwd", "second order vs numeric"} <= ran, explain(clean)
    assert any(check.endswith("vs numeric") for check in ran - {"second order vs numeric"}), explain(clean)
    compiled = {"jax": {"jit-rev vs rev", "jit-fwd vs fwd"}, "tf": {"graph-rev vs rev", "xla-rev vs rev"}}.get(library, set())
    assert compiled <= ran, explain(clean)  # the usual compiler traces the whole program


@pytest.mark.parametrize("library", ["torch", "jax"])
def test_a_program_that_reaches_a_single_call_bug_is_that_calls_root_cause_and_finding(request, tmp_path, library):
    backend = request.getfixturevalue(f"{library}_backend")
    reached = check_case(parse_case(program(library, FIRST[library], PLANTED[library])), backend)
    alone = check_case(make_case(PLANTED[library], X), backend)
    found = [f for f in reached.findings if f.kind == "rev-vs-numeric"]
    assert found and {f.keyed_by for f in found} == {PLANTED[library]}, explain(reached)
    assert {f.signature() for f in found} <= {f.signature() for f in alone.findings}, explain(alone)
    store = FindingsStore(tmp_path / "findings")
    store_findings(alone, backend, store)
    for s in store_findings(reached, backend, store):
        assert not s.new and not s.new_root, s  # grouped with the single call's finding
    (meta,) = [m for m in store.metas() if m["kind"] == "rev-vs-numeric"]
    assert set(meta["apis"]) == {PLANTED[library], f"{FIRST[library]} -> {PLANTED[library]}"}
    # the planted op FIRST, before a right one: the first call alone, on the program's inputs, shows it
    first = check_case(parse_case(program(library, PLANTED[library], RIGHT[library])), backend)
    wrong = [f for f in first.findings if f.kind == "rev-vs-numeric"]
    assert wrong and {f.keyed_by for f in wrong} == {PLANTED[library]}, explain(first)
    for s in store_findings(first, backend, store):
        assert not s.new_root, s  # one root cause: the planted op's
    (meta,) = [m for m in store.metas() if m["kind"] == "rev-vs-numeric"]
    assert f"{PLANTED[library]} -> {RIGHT[library]}" in meta["apis"], meta


def test_torch_compile_traces_the_whole_program(torch_backend):
    """A derivative wrong only while torch.compile traces, fed by torch.sin: found by its compiled scenarios."""
    case = parse_case(program("torch", "torch.sin", "torch.nabla_planted.compiled_wrong_derivative"))
    assert "compiled-mismatch" not in kinds(check_case(case, torch_backend))  # eager: right
    verdict = check_case(case, torch_backend, scenario_sets.parse("torch", "core,aot"))
    assert "compiled-mismatch" in kinds(verdict), explain(verdict)


@pytest.mark.parametrize("library", ["torch", "jax", "tf"])
def test_a_programs_reproducer_writes_every_call_and_exits_1_while_the_bug_is_there(request, tmp_path, monkeypatch, library):
    backend = request.getfixturevalue(f"{library}_backend")
    case = parse_case(program(library, FIRST[library], PLANTED[library]))
    verdict = check_case(case, backend)
    stored = store_findings(verdict, backend, FindingsStore(tmp_path / "findings"))
    assert stored
    sequence = f"{FIRST[library]} -> {PLANTED[library]}"
    assert f" {sequence} " in summarize(tmp_path)  # the summary (and the report) name the sequence
    for s in stored:
        assert json.loads((s.folder / "finding.json").read_text())["api"] == sequence
        assert f"`{sequence}`" in (s.folder / "report.md").read_text()
        source = (s.folder / "repro.py").read_text()
        assert f"y0 = {FIRST[library]}(x0)" in source and f"return {PLANTED[library]}(flatten(y0)[0])" in source
        assert run_reproducer(s.folder / "repro.py", monkeypatch) == 1
    repaired = dataclasses.replace(case, then=(dataclasses.replace(case.then[0], api=FIRST[library]),))  # sin, right
    path = tmp_path / "repaired.py"
    path.write_text(render_reproducer(repaired, verdict.findings[0]))
    assert run_reproducer(path, monkeypatch) == 0


def test_a_decoder_made_program_of_a_later_call_of_two_tensors_goes_through_every_step(torch_backend, tmp_path, monkeypatch):
    """movedim -> nll_loss made by the decoder (nll_loss's target drawn beside movedim's output; the
    known bug pytorch/pytorch#175084 of bench/known_bugs.json): the program's finding, not keyed by
    nll_loss (alone, on the values it received, it agrees), its hand-written JSON form, its reproducer
    and the minimizer, which keeps both calls; x * x by the decoder runs as well."""
    from test_decoder import _program

    from nabla_atheris.minimize import minimize_case, signature_on

    case = _program("torch.movedim", "torch.nn.functional.nll_loss", **{"dim:a": 1, "dim:b": 3, "dim:c": 3, "dtype": 1})
    verdict = check_case(case, torch_backend)
    (finding,) = [f for f in verdict.findings if f.kind == "status-mismatch"]
    assert finding.api == case.name() and not finding.keyed_by and not verdict.harness_errors, explain(verdict)
    assert "grad_input must be contiguous" in finding.message
    again = check_case(parse_case(json.loads(json.dumps(case_to_json(case)))), torch_backend)
    assert finding.signature() in {f.signature() for f in again.findings}, explain(again)
    (stored,) = [s for s in store_findings(verdict, torch_backend, FindingsStore(tmp_path)) if s.kind == finding.kind]
    assert run_reproducer(stored.folder / "repro.py", monkeypatch) == 1

    def reproduces(candidate):
        return finding.signature() in {signature_on(f, candidate) for f in check_case(candidate, torch_backend).findings}

    assert minimize_case(case, reproduces, max_checks=4).apis() == case.apis()
    square = _program("torch.sin", "torch.mul", **{"reuse:1": 1})
    assert square.then[0].args == (Ref(0, 0), Ref(0, 0))
    clean = check_case(square, torch_backend)
    assert clean.valid and not clean.findings and not clean.harness_errors and not clean.filters, explain(clean)


def test_a_programs_native_crash_that_its_first_call_repeats_alone_is_keyed_by_that_call():
    from nabla_atheris.artifacts import Rerun, key_by_first_call
    from nabla_atheris.catalog import load_catalog
    from nabla_atheris.decoder import decode_bytes, first_call_bytes
    from nabla_atheris.program_seeds import program_seeds
    from nabla_atheris.verdict import Finding

    catalog = load_catalog("torch")
    data = program_seeds("torch")["torch.program.square-mean"]
    program = decode_bytes(data, catalog)
    alone = decode_bytes(first_call_bytes(data, catalog), catalog)
    assert program.then and not alone.then  # the first call with its arguments and values, alone
    assert (alone.api, alone.template, repr(alone.args), repr(alone.kwargs)) == (
        program.api,
        program.template,
        repr(program.args),
        repr(program.kwargs),
    )
    assert first_call_bytes(first_call_bytes(data, catalog), catalog) is None  # a single call has none

    def crash(outcome):
        finding = Finding("crash", ("harness", "harness"), "torch", program.name(), "real-float", "libFuzzer crash")
        key_by_first_call(finding, program, data, catalog, lambda path: Rerun(outcome, 1 if outcome else 0, ""))
        return finding

    assert crash("crash").keyed_by == "torch.square" and crash("crash").signature() != crash(None).signature()
    assert crash(None).keyed_by == ""  # the first call alone runs cleanly: the program's own crash


def test_a_random_first_call_whose_reduction_repeats_by_luck_is_nondeterministic(torch_backend):
    # the program's outputs repeat in every direct call but one scenario's; its first call's never do
    planted_torch.TRAPS["one_hot_off_once"].calls = 0
    verdict = check_case(parse_case(program("torch", "torch.nabla_planted.one_hot_off_once", "torch.amax")), torch_backend)
    assert not verdict.findings and not verdict.harness_errors, explain(verdict)
    assert "nondeterministic" in verdict.filters, explain(verdict)


def test_a_first_order_only_check_of_a_program_keys_its_findings_by_the_single_call(torch_backend):
    # a campaign's first pass checks a case it met before (a restarted worker's replay) up to first order only
    reached = check_case(parse_case(program("torch", FIRST["torch"], PLANTED["torch"])), torch_backend, first_order_only=True)
    found = [f for f in reached.findings if f.kind == "rev-vs-numeric"]
    assert found and {f.keyed_by for f in found} == {PLANTED["torch"]}, explain(reached)
