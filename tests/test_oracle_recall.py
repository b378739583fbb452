"""Recall of real AD bugs (bench/triage/recall): declared properties that dismissed them."""

import json
from pathlib import Path

import pytest
from conftest import explain, kinds, tensor
from fake_backend import FakeBackend

from nabla_atheris.catalog.inference import from_docstring, from_name, with_name_properties
from nabla_atheris.catalog.properties import properties_of
from nabla_atheris.handcase import parse_case
from nabla_atheris.oracle import check_case
from nabla_atheris.oracle.evidence import reduces_by_order

REPEATED = tensor([4], [0.5, 0.5, -0.25, 0.9])  # a repeated value: a tie only where the order of values matters


@pytest.mark.parametrize(
    "api, tie_sensitive",
    [
        ("torch.nn.functional.avg_pool1d", False),  # linear in its input
        ("torch.nn.AdaptiveAvgPool2d", False),
        ("tf.nn.avg_pool2d", False),
        ("tf.raw_ops.AvgPoolGrad", False),
        ("torch.nn.functional.max_pool2d", True),
        ("torch.nn.AdaptiveMaxPool2d", True),
        ("torch.nn.functional.fractional_max_pool2d", True),
    ],
)
def test_only_pools_that_select_by_order_are_tie_sensitive(api, tie_sensitive):
    assert from_name(api).get("tie_sensitive", False) is tie_sensitive
    library = api.split(".")[0]
    assert properties_of(library, api).tie_sensitive is tie_sensitive  # the checked-in declaration agrees


def test_a_pool_whose_mode_is_an_argument_is_tie_sensitive_in_max_mode():
    case = parse_case({"library": "fake", "api": "fake.sin", "args": [REPEATED, [2], "MAX"]})
    assert reduces_by_order(case)  # tf.nn.pool's pooling_type
    assert not reduces_by_order(parse_case({"library": "fake", "api": "fake.sin", "args": [REPEATED, [2], "AVG"]}))


def test_a_compiled_mismatch_of_an_average_pool_at_repeated_values_is_found(monkeypatch):
    # pytorch/pytorch#198119: Inductor's avg_pool1d backward with ceil_mode; the fuzzer's palette repeats values
    declared = properties_of("torch", "torch.nn.functional.avg_pool1d")
    monkeypatch.setattr("nabla_atheris.oracle.subject.properties_of", lambda library, api: declared)
    verdict = check_case(parse_case({"library": "fake", "api": "fake.wrong_jit", "args": [REPEATED]}), FakeBackend())
    assert "compiled-mismatch" in kinds(verdict), explain(verdict)


@pytest.mark.parametrize(
    "api, conditioning",
    [
        ("torch.nn.ReLU", None),  # "ReLU" is one word, not "re" and "lu" (LU decomposition)
        ("torch.nn.LeakyReLU", None),
        ("oneflow.nn.SiLU", None),
        ("torch.slice_inverse", None),  # the inverse of a slice
        ("torch.polar", None),  # complex numbers from magnitudes and angles
        ("jax.lax.broadcast_to_rank", None),
        ("torch.linalg.qr", "inverse"),  # QR's, Cholesky's, pinv's derivatives solve with a factor: no spectral gaps
        ("torch.linalg.cholesky", "inverse"),
        ("jax.scipy.linalg.polar", "inverse"),
        ("jax.numpy.linalg.cond", "inverse"),  # a condition number
        ("jax.lax.cond", None),  # a conditional
        ("torch.linalg.lu_factor", "spectral"),
        ("torch.linalg.eigh", "spectral"),
        ("torch.linalg.svdvals", "spectral"),
    ],
)
def test_conditioning_from_names(api, conditioning):
    assert from_name(api).get("conditioning") == conditioning


@pytest.mark.parametrize("library", ["torch", "tf", "jax", "oneflow"])
def test_checked_in_properties_carry_every_apis_current_name_properties(library):
    data = Path(__file__).resolve().parents[1] / "nabla_atheris" / "catalog" / "data"
    declared = json.loads((data / f"{library}.properties.json").read_text())["apis"]
    stale = [
        api
        for api in json.loads((data / f"{library}.json").read_text())["apis"]
        if with_name_properties(api, declared.get(api, {})) != declared.get(api, {})
    ]
    assert not stale, f"run scripts/infer_properties.py --lib {library} --names: {stale[:5]}"


V1_DOC = "Backpropagation will happen only into `logits`.  To calculate a cross entropy loss that allows ..."
V2_DOC = "Backpropagation will happen into both `logits` and `labels`.  To disallow backpropagation into ..."


def test_labels_are_cut_only_where_the_apis_own_documentation_cuts_them():
    # TensorFlow 1's softmax cross entropy stops its labels' gradient; TensorFlow 2's (and the raw op),
    # spellings of the same name, backpropagate into them (-log_softmax(logits)): another spelling's
    # documentation does not cut them
    names = ["labels", "logits"]
    assert from_docstring(V1_DOC, names)["nondifferentiable"] == ["labels", "0"]
    assert "nondifferentiable" not in from_docstring(V2_DOC + "\n" + V1_DOC, names, V2_DOC)
    assert "nondifferentiable" not in from_docstring(V1_DOC, ["features", "labels"], "")


def test_oneflow_takes_the_declarations_of_its_torch_mirror():
    # torch.batch_norm (running statistics third and fourth, passed as None by its template: nothing
    # declared) must not shadow nn.functional.batch_norm's (first and second), OneFlow's signature
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "scripts" / "infer_properties.py"
    spec = importlib.util.spec_from_file_location("infer_properties", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    declared = module.from_torch_declarations(["oneflow.nn.functional.batch_norm", "oneflow.nn.CrossEntropyLoss"])
    assert declared["oneflow.nn.functional.batch_norm"]["nondifferentiable"] == ["1", "2"]
    assert declared["oneflow.nn.CrossEntropyLoss"]["nondifferentiable"] == ["weight"]
