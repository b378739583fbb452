"""The structure-level shrinker keeps the finding and makes the case smaller."""

import json

import numpy as np
import planted_torch  # noqa: F401 - registers torch.nabla_planted.*
from conftest import make_case, tensor

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
