"""The OneFlow catalog, seeds and command line (run in the OneFlow environment): at least 450
validated APIs in the asked namespaces, seeds that decode to their templates, `check` and `repro`
of a hand-written oneflow case, regeneration of a subset matching the checked-in entries, PyTorch's
module templates under OneFlow's module names, and a rerun that skips the template that aborted."""

import importlib.util
import json
from pathlib import Path

import pytest

pytest.importorskip("oneflow")

import planted_oneflow  # noqa: E402, F401  (registers oneflow.nabla_planted)

from nabla_atheris.catalog import catalog_document, catalog_stats, load_catalog  # noqa: E402
from nabla_atheris.catalog.building import write_catalog  # noqa: E402
from nabla_atheris.cli import main  # noqa: E402
from nabla_atheris.decoder import decode_bytes, seed_bytes  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NAMESPACES = {"oneflow", "oneflow.nn.functional", "oneflow.linalg", "oneflow.Tensor", "oneflow.nn"}


def test_catalog_has_450_validated_apis_in_the_asked_namespaces(capsys):
    stats = catalog_stats("oneflow")
    assert stats["apis_validated"] >= 450 and NAMESPACES <= set(stats["by_namespace"])
    assert any(source.startswith("torch-") for source in stats["by_source"]), stats["by_source"]
    assert main(["catalog", "oneflow", "--stats", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["library"] == "oneflow" and printed["apis_validated"] == len(load_catalog("oneflow").apis)


def test_checked_in_seeds_are_templates_and_decode_to_their_templates(tmp_path):
    assert main(["seed", "oneflow", "--out", str(tmp_path)]) == 0
    generated = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert {p.name: p.read_bytes() for p in (ROOT / "corpus" / "oneflow").iterdir()}.items() <= generated.items()
    catalog = load_catalog("oneflow")
    for entry in catalog.apis.values():
        for index in range(len(entry.templates)):
            case = decode_bytes(seed_bytes(catalog, entry.id, index), catalog)
            assert (case.api, case.template) == (entry.name, index)


def load_generator():
    spec = importlib.util.spec_from_file_location("gen_oneflow_catalog", ROOT / "scripts" / "gen_oneflow_catalog.py")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    return generator


def test_regenerating_a_subset_matches_the_checked_in_catalog(tmp_path):
    generator = load_generator()
    subset = ["oneflow.nn.Conv2d", "oneflow.sin", "oneflow.nn.functional.conv2d", "oneflow.Tensor.unfold"]
    subset = [api for api in subset if api in generator.public_names()]
    builder, _ = generator.generate(subset, generator.SOURCES, lambda api: api in subset)
    write_catalog(tmp_path, "oneflow", builder.apis, builder.failed)
    generated = json.loads((tmp_path / "oneflow.json").read_text())
    _, checked_in = catalog_document("oneflow")
    assert {api: checked_in["apis"].get(api) for api in generated["apis"]} == generated["apis"]


def test_hand_written_oneflow_case_checks_and_reproduces(tmp_path, capsys):
    agree = {"library": "oneflow", "api": "oneflow.tanh", "args": [{"dtype": "float32", "shape": [2, 3], "seed": 1}]}
    x = {"dtype": "float64", "shape": [3], "seed": 2}
    wrong = {"library": "oneflow", "api": "oneflow.nabla_planted.wrong_backward", "args": [x]}
    (tmp_path / "agree.json").write_text(json.dumps(agree))
    (tmp_path / "wrong.json").write_text(json.dumps(wrong))
    assert main(["check", str(tmp_path / "agree.json"), "--findings", str(tmp_path / "f")]) == 0
    out = capsys.readouterr().out
    assert "graph-rev vs rev" in out and "no forward mode" in out, out
    assert main(["check", str(tmp_path / "wrong.json"), "--findings", str(tmp_path / "f")]) == 1
    folder = next(p for p in (tmp_path / "f").iterdir() if "first-order" in p.name)
    assert json.loads((folder / "finding.json").read_text())["library"] == "oneflow"
    assert main(["repro", str(folder), "--findings", str(tmp_path / "f")]) == 1
    assert json.loads((folder / "finding.json").read_text())["hits"] == 2
    assert main(["repro", str(folder / "case.msgpack"), "--findings", str(tmp_path / "f")]) == 1


def test_modules_without_a_hand_written_template_take_pytorchs(oneflow_backend):
    generator = load_generator()
    assert generator.torch_name("oneflow.nn.BatchNorm3d") == ["torch.nn.BatchNorm3d"]
    assert generator.torch_name("oneflow.nn.functional.relu") == ["torch.nn.functional.relu"]
    builder = generator.ResumableBuilder("oneflow", oneflow_backend)
    generator.from_torch(builder, ["oneflow.nn.BatchNorm3d", "oneflow.nn.Sigmoid"])
    assert builder.apis["oneflow.nn.BatchNorm3d"][0]["source"] == "torch-manual"
    builder.apis["oneflow.nn.Tanh"] = [{"source": "manual"}]
    generator.from_torch(builder, ["oneflow.nn.Tanh"])
    assert builder.apis["oneflow.nn.Tanh"] == [{"source": "manual"}]  # its hand-written template only


def test_a_rerun_skips_the_offered_template_that_aborted(tmp_path, monkeypatch, oneflow_backend):
    generator = load_generator()
    state = tmp_path / "state.json"
    monkeypatch.setenv("ONEFLOW_CATALOG_STATE", str(state))
    first = generator.ResumableBuilder("oneflow", oneflow_backend)
    first.pending("torch", ["oneflow.sin"])
    first.start("oneflow.sin")  # saves the state, as before an offer
    (tmp_path / "state.json.offer").write_text('["torch", "oneflow.sin", 1]')  # the first offer ended the process
    rerun = generator.ResumableBuilder("oneflow", oneflow_backend)
    assert not (tmp_path / "state.json.offer").exists() and ("torch", "oneflow.sin") not in rerun.done
    rerun.pending("torch", ["oneflow.sin"])
    template = {"dims": {"n": 3}, "dtypes": ["float64"], "args": [{"tensor": ["n"]}]}
    assert not rerun.offer("oneflow.sin", lambda: template)
    assert rerun.failed["oneflow.sin"] == "aborts the process (torch template)"
    assert rerun.offer("oneflow.sin", lambda: template)  # the second offer is called
    assert "oneflow.sin" not in rerun.failed and not (tmp_path / "state.json.offer").exists()
