"""The structure-level shrinker keeps the finding and makes the case smaller."""

import json

import numpy as np
import planted_torch  # noqa: F401 - registers torch.nabla_planted.*
from conftest import make_case, tensor

from nabla_atheris.case import Tensor, check_references
from nabla_atheris.cli import main
from nabla_atheris.handcase import parse_case
from nabla_atheris.minimize import case_size, case_to_json, minimize_case
from nabla_atheris.oracle import check_case


def test_shrinks_shared_dimensions_values_and_attributes():
    case = make_case("torch.mm", tensor([4, 6], seed=1), tensor([6, 3], seed=2), alpha=2.0)

    def reproduces(c):  # "bug": needs the contraction dimension of both tensors to stay equal and >= 2
        a, b = c.tensors()[:2]
        return len(a.shape) == 2 and len(b.shape) == 2 and a.shape[1] == b.shape[0] >= 2

    smallest = minimize_case(case, reproduces)
    a, b = smallest.tensors()
    assert (a.shape, b.shape) == ((1, 2), (2, 1)) and smallest.kwargs == ()
    assert all(set(np.asarray(t.values).tolist()) <= {0.0} for t in (a, b))
    assert case_size(smallest) < case_size(case)


def test_json_form_round_trips():
    case = make_case("torch.cat", [tensor([2], seed=1), tensor([1], dtype="complex128", seed=2)], dim=0)
    again = parse_case(json.loads(json.dumps(case_to_json(case))))
    assert again == case


def test_minimize_command_keeps_the_signature(torch_backend, tmp_path):
    case_file = tmp_path / "case.json"
    spec = {"library": "torch", "api": "torch.nabla_planted.wrong_backward", "args": [tensor([3, 4], seed=3)]}
    case_file.write_text(json.dumps(spec))
    findings = tmp_path / "findings"
    assert main(["check", str(case_file), "--findings", str(findings)]) == 1
    folder = next(p for p in findings.iterdir() if "first-order" in p.name)
    assert main(["minimize", str(folder), "--max-checks", "12"]) == 1
    signature = json.loads((folder / "finding.json").read_text())["signature"]
    smallest = parse_case(json.loads((folder / "minimized.json").read_text()))
    assert smallest.tensors()[0].size < 12
    assert signature in {f.signature() for f in check_case(smallest, torch_backend).findings}
    assert (folder / "minimized.repro.py").read_text().startswith("#!")


def three_calls():
    """sin(x), tanh(y), then the product of both outputs."""
    x, y = tensor([4], seed=1), tensor([4], seed=2)
    calls = [
        {"api": "torch.sin", "args": [x]},
        {"api": "torch.tanh", "args": [y]},
        {"api": "torch.mul", "args": [{"ref": [0, 0]}, {"ref": [1, 0]}]},
    ]
    return parse_case({"library": "torch", "calls": calls})


def test_calls_are_dropped_first_and_references_rewired_to_the_dropped_calls_inputs():
    tried = []

    def reproduces(c):  # "bug": in torch.mul, whatever feeds it
        check_references(c)  # never a reference to a call that is gone
        tried.append(c.apis())
        return "torch.mul" in c.apis()

    case = three_calls()
    smallest = minimize_case(case, reproduces)
    assert smallest.apis() == ["torch.mul"] and all(isinstance(a, Tensor) for a in smallest.args)
    dropped = [["torch.sin", "torch.tanh"], ["torch.sin"], ["torch.tanh"]]  # each call with mul, which takes its output
    assert tried[:4] == [*dropped, ["torch.tanh", "torch.mul"]]  # then sin alone, mul taking sin's input
    assert case_size(smallest)[0] == 1 < case_size(case)[0]


def test_a_call_is_dropped_with_the_calls_that_take_its_outputs_and_later_calls_arguments_shrink():
    case = parse_case(
        {
            "library": "torch",
            "calls": [
                {"api": "torch.tanh", "args": [tensor([4], seed=1)]},
                {"api": "torch.cos", "args": [tensor([4], seed=3)]},
                {"api": "torch.add", "args": [{"ref": [0, 0]}, tensor([4], seed=2)], "kwargs": {"alpha": 2.0}},
            ],
        }
    )

    def reproduces(c):  # "bug": cos, alone or not
        check_references(c)
        return "torch.cos" in c.apis()

    smallest = minimize_case(case, reproduces)
    assert smallest.apis() == ["torch.cos"]  # tanh went with add, which takes its output
    program = minimize_case(case, lambda c: c.apis()[-1:] == ["torch.add"] and len(c.then) == 1)
    assert program.apis() == ["torch.tanh", "torch.add"] and program.then[0].kwargs == ()  # a later call's attribute
    assert {t.shape for t in program.tensors()} == {(1,)}  # and its tensor's dimension


def test_minimize_command_reduces_a_program_to_the_call_that_shows_its_finding(tmp_path):
    case_file = tmp_path / "case.json"
    planted = {"api": "torch.nabla_planted.wrong_backward", "args": [{"ref": [0, 0]}]}
    calls = [{"api": "torch.sin", "args": [tensor([3], seed=3)]}, planted]
    case_file.write_text(json.dumps({"library": "torch", "calls": calls}))
    findings = tmp_path / "findings"
    assert main(["check", str(case_file), "--findings", str(findings)]) == 1
    folder = next(p for p in findings.iterdir() if "first-order" in p.name)
    assert json.loads((folder / "finding.json").read_text())["signature"] == "torch:wrongbackward:first-order"  # the last call's
    assert main(["minimize", str(folder), "--max-checks", "4"]) == 1
    smallest = parse_case(json.loads((folder / "minimized.json").read_text()))
    assert smallest.apis() == ["torch.nabla_planted.wrong_backward"]
    assert "#!" == (folder / "minimized.repro.py").read_text()[:2]
