"""`torch.nn` module classes as catalog APIs: `module_call` builds the same module for every scenario
and reproducer (seeded, evaluation mode), the generator lists every class, and a module case runs
through the oracle and its reproducer."""

import importlib.util
from pathlib import Path

import torch
from conftest import make_case, run_reproducer, tensor

from nabla_atheris.backends import torch_modes
from nabla_atheris.catalog import catalog_document
from nabla_atheris.findings import FindingsStore
from nabla_atheris.oracle import check_case
from nabla_atheris.session import store_findings

ROOT = Path(__file__).resolve().parents[1]


def _generator():
    spec = importlib.util.spec_from_file_location("gen_torch_catalog", ROOT / "scripts" / "gen_torch_catalog.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_module_call_builds_one_seeded_module_in_evaluation_mode_and_keeps_the_global_generator():
    x = torch.linspace(-1, 1, 6, dtype=torch.float64).reshape(2, 3)
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    linear = torch_modes.module_call(torch.nn.Linear)
    first = linear(x, in_features=3, out_features=2)
    assert torch.equal(torch.random.get_rng_state(), state)  # the seeded construction restored it
    built = [m for key, m in torch_modes.MODULES.items() if key[0] is torch.nn.Linear and key[2] == torch.float64]
    assert built and not built[-1].training and built[-1].weight.dtype == torch.float64
    torch_modes.MODULES.clear()
    again = torch_modes.module_call(torch.nn.Linear)(x, in_features=3, out_features=2)
    assert torch.equal(first, again)  # a new construction: the same weights
    dropout = torch_modes.module_call(torch.nn.Dropout)(x, p=0.5)
    assert torch.equal(dropout, x)  # evaluation mode: dropout off


def test_a_module_case_runs_every_core_scenario_and_agrees(torch_backend):
    case = make_case("torch.nn.Conv1d", tensor([1, 2, 5], seed=3), in_channels=2, out_channels=3, kernel_size=2)
    verdict = check_case(case, torch_backend)
    assert verdict.valid and not verdict.findings, [(f.kind, f.message) for f in verdict.findings]
    assert {"rev vs fwd", "rev vs numeric"} <= {line.check for line in verdict.lines}


def test_a_module_finding_has_a_reproducer_that_builds_the_module(torch_backend, tmp_path, monkeypatch):
    """torch.func.vmap of nn.LSTM's reverse mode raises a shape error where the loop over the batch
    runs (the functional torch.lstm does the same: not the module's construction)."""
    case = make_case("torch.nn.LSTM", tensor([3, 2, 3], seed=0), input_size=3, hidden_size=2)
    verdict = check_case(case, torch_backend, {"batched": 1})
    stored = store_findings(verdict, torch_backend, FindingsStore(tmp_path))
    assert stored, [(line.check, line.status, line.detail) for line in verdict.lines]
    source = (stored[0].folder / "repro.py").read_text()
    assert "module_call(torch.nn.LSTM)(x0, input_size=3, hidden_size=2)" in source
    assert run_reproducer(stored[0].folder / "repro.py", monkeypatch) == 1


def test_module_classes_are_candidates_with_their_constructor_as_keyword_parameters():
    generator = _generator()
    assert "torch.nn.Linear" in generator.module_names() and "torch.nn.LazyLinear" not in generator.module_names()
    skipped = generator.skipped()
    assert skipped["torch.nn.Sequential"].startswith("not a candidate") and "torch.nn.Dropout" in skipped
    parameters = {p.name: p for p in generator.parameters("torch.nn.Linear")}
    assert list(parameters)[0] == "input" and parameters["input"].positional
    assert not parameters["in_features"].positional and parameters["bias"].default is True


def test_every_public_function_and_module_class_is_in_the_catalog_or_in_the_failure_list():
    generator = _generator()
    _, document = catalog_document("torch")
    listed = set(document["apis"]) | set(document["failed"])
    assert set(generator.public_names().values()) | set(generator.module_classes()) <= listed
    assert {"torch.nn.Linear", "torch.nn.LSTM", "torch.nn.MultiheadAttention"} <= set(document["apis"])
    modules = [t for api, entry in document["apis"].items() if api.startswith("torch.nn.") and api[9].isupper() for t in entry]
    assert modules and all(t["source"] == "manual" for t in modules)
    assert document["failed"]["torch.nn.Sequential"].startswith("not a candidate")
