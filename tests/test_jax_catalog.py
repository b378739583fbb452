"""The JAX catalog: regeneration matches the checked-in entries, its size, seeds, and the CLI on jax cases."""

import importlib.util
import json
from pathlib import Path

import planted_jax  # noqa: F401  (registers jax.nabla_planted)

from nabla_atheris.catalog import catalog_document, catalog_stats, load_catalog
from nabla_atheris.catalog.building import write_catalog
from nabla_atheris.cli import main

ROOT = Path(__file__).resolve().parents[1]
# One API of each source (manual, docstring, probe) and one that fails; their checked-in entries
# must be what the generator writes today.
SUBSET = ["jax.lax.dot_general", "jax.numpy.cumsum", "jax.numpy.sin", "jax.numpy.argmax"]


def _generator():
    spec = importlib.util.spec_from_file_location("gen_jax_catalog", ROOT / "scripts" / "gen_jax_catalog.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_regenerating_a_subset_matches_the_checked_in_catalog(tmp_path):
    generator = _generator()
    builder, _ = generator.generate(SUBSET, generator.SOURCES, lambda api: api in SUBSET)
    write_catalog(tmp_path, "jax", builder.apis, builder.failed)
    generated = json.loads((tmp_path / "jax.json").read_text())
    _, checked_in = catalog_document("jax")
    assert {api: checked_in["apis"].get(api) for api in generated["apis"]} == generated["apis"]
    assert {api: checked_in["failed"].get(api) for api in generated["failed"]} == generated["failed"]
    assert set(generated["apis"]) | set(generated["failed"]) == set(SUBSET)
    assert {t["source"] for entry in generated["apis"].values() for t in entry} == {"manual", "docstring", "probe"}


def test_checked_in_catalog_reaches_450_apis_in_the_asked_namespaces():
    stats = catalog_stats("jax")
    assert stats["apis_validated"] >= 450
    namespaces = set(stats["by_namespace"])
    assert {"jax.numpy", "jax.numpy.linalg", "jax.numpy.fft", "jax.lax", "jax.nn", "jax.scipy.special"} <= namespaces
    assert any(n.startswith("jax.scipy.stats.") for n in namespaces) and "jax.scipy.linalg" in namespaces
    assert all(reason for reason in stats["failed"].values())


def test_catalog_json_names_the_validated_count(capsys):
    assert main(["catalog", "jax", "--stats", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["library"] == "jax" and stats["apis_validated"] == len(load_catalog("jax").apis)


def test_checked_in_seeds_match_the_catalog(tmp_path):
    assert main(["seed", "jax", "--out", str(tmp_path)]) == 0
    generated = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    checked_in = {p.name: p.read_bytes() for p in (ROOT / "corpus" / "jax").iterdir()}
    assert generated == checked_in


def test_hand_written_jax_case_checks_and_reproduces(tmp_path, capsys):
    agree = {"library": "jax", "api": "jax.numpy.tanh", "args": [{"dtype": "float32", "shape": [2, 3], "seed": 1}]}
    wrong = {"library": "jax", "api": "jax.nabla_planted.wrong_jvp", "args": [{"dtype": "float64", "shape": [3], "seed": 2}]}
    (tmp_path / "agree.json").write_text(json.dumps(agree))
    (tmp_path / "wrong.json").write_text(json.dumps(wrong))
    assert main(["check", str(tmp_path / "agree.json"), "--findings", str(tmp_path / "f")]) == 0
    assert "jit-rev vs rev" in capsys.readouterr().out
    assert main(["check", str(tmp_path / "wrong.json"), "--findings", str(tmp_path / "f")]) == 1
    folder = next(p for p in (tmp_path / "f").iterdir() if "fwd-vs-numeric" in p.name)
    assert main(["repro", str(folder), "--findings", str(tmp_path / "f")]) == 1
    assert json.loads((folder / "finding.json").read_text())["hits"] == 2
