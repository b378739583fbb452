"""The JAX and TensorFlow catalogs: regeneration matches the checked-in entries, their size and
namespaces, seeds, and the CLI on hand-written cases of each library."""

import importlib.util
import json
from pathlib import Path

import planted_jax  # noqa: F401  (registers jax.nabla_planted)
import planted_tf  # noqa: F401  (registers tf.nabla_planted)
import pytest

from nabla_atheris.catalog import catalog_document, catalog_stats, load_catalog
from nabla_atheris.catalog.building import write_catalog
from nabla_atheris.cli import main

ROOT = Path(__file__).resolve().parents[1]
# Per library: one API of each source (manual, docstring, probe) and one that fails, whose checked-in
# entries must be what the generator writes today; the floor of validated APIs; namespaces that must appear.
LIBRARIES = {
    "jax": (
        ["jax.lax.dot_general", "jax.numpy.sin", "jax.numpy.cumsum", "jax.numpy.argmax"],
        450,
        {"jax.numpy", "jax.numpy.linalg", "jax.numpy.fft", "jax.lax", "jax.nn", "jax.scipy.special", "jax.scipy.linalg"},
    ),
    "tf": (
        ["tf.nn.conv2d", "tf.gather", "tf.math.cumsum", "tf.raw_ops.Sin", "tf.math.argmax"],
        500,
        {"tf.math", "tf.nn", "tf.linalg", "tf.signal", "tf.image", "tf", "tf.raw_ops"},
    ),
}


def _generator(library):
    spec = importlib.util.spec_from_file_location(f"gen_{library}_catalog", ROOT / "scripts" / f"gen_{library}_catalog.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("library", sorted(LIBRARIES))
def test_regenerating_a_subset_matches_the_checked_in_catalog(tmp_path, library):
    subset = LIBRARIES[library][0]
    generator = _generator(library)
    builder, _ = generator.generate(subset, generator.SOURCES, lambda api: api in subset)
    write_catalog(tmp_path, library, builder.apis, builder.failed)
    generated = json.loads((tmp_path / f"{library}.json").read_text())
    _, checked_in = catalog_document(library)
    assert {api: checked_in["apis"].get(api) for api in generated["apis"]} == generated["apis"]
    assert {api: checked_in["failed"].get(api) for api in generated["failed"]} == generated["failed"]
    assert set(generated["apis"]) | set(generated["failed"]) == set(subset) and generated["failed"]
    assert {t["source"] for entry in generated["apis"].values() for t in entry} == {"manual", "docstring", "probe"}


@pytest.mark.parametrize("library", sorted(LIBRARIES))
def test_checked_in_catalog_reaches_its_floor_in_the_asked_namespaces(library):
    _, floor, namespaces = LIBRARIES[library]
    stats = catalog_stats(library)
    assert stats["apis_validated"] >= floor
    assert namespaces <= set(stats["by_namespace"])
    assert all(reason for reason in stats["failed"].values())


def test_jax_catalog_covers_scipy_stats():
    assert any(n.startswith("jax.scipy.stats.") for n in catalog_stats("jax")["by_namespace"])


def test_a_distributions_scale_is_drawn_inside_its_documented_domain():
    """scipy.stats' scale is > 0 (a scale of 0 is a degenerate distribution whose derivatives are
    0 * inf): no jax.scipy.stats template passes a boolean or a scale outside it (the generator's
    parameter step once recorded scale=False)."""
    apis = json.loads((ROOT / "nabla_atheris" / "catalog" / "data" / "jax.json").read_text())["apis"]
    scales = [
        (api, value)
        for api, templates in apis.items()
        if api.startswith("jax.scipy.stats.")
        for template in templates
        for value in (template.get("kwargs") or {}).get("scale", {}).get("optional", [])
        if not isinstance(value, dict)
    ]
    assert len(scales) > 200
    outside = [(api, value) for api, value in scales if isinstance(value, bool) or not value > 0]
    assert not outside, outside[:5]


@pytest.mark.parametrize("library", sorted(LIBRARIES))
def test_catalog_json_names_the_validated_count(capsys, library):
    assert main(["catalog", library, "--stats", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["library"] == library and stats["apis_validated"] == len(load_catalog(library).apis)


@pytest.mark.parametrize("library", sorted(LIBRARIES))
def test_checked_in_seeds_are_templates_one_per_api_at_least(tmp_path, library):
    from nabla_atheris.seeds import left_out

    assert main(["seed", library, "--out", str(tmp_path)]) == 0
    generated = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    corpus = ROOT / "corpus" / library
    checked_in = {p.name: p.read_bytes() for p in corpus.iterdir()}
    assert checked_in.items() <= generated.items()  # the same bytes: they decode to the same calls
    firsts = {name for name in generated if name.endswith(".0")}
    assert firsts - set(checked_in) <= left_out(corpus) and len(checked_in) < len(generated)  # every API, not every template


@pytest.mark.parametrize(
    "library, agree_api, planted, compiled_line",
    [
        ("jax", "jax.numpy.tanh", "jax.nabla_planted.wrong_jvp", "jit-rev vs rev"),
        ("tf", "tf.math.tanh", "tf.nabla_planted.wrong_gradient", "xla-rev vs rev"),
    ],
)
def test_hand_written_case_checks_and_reproduces(tmp_path, capsys, library, agree_api, planted, compiled_line):
    agree = {"library": library, "api": agree_api, "args": [{"dtype": "float32", "shape": [2, 3], "seed": 1}]}
    wrong = {"library": library, "api": planted, "args": [{"dtype": "float64", "shape": [3], "seed": 2}]}
    (tmp_path / "agree.json").write_text(json.dumps(agree))
    (tmp_path / "wrong.json").write_text(json.dumps(wrong))
    assert main(["check", str(tmp_path / "agree.json"), "--findings", str(tmp_path / "f")]) == 0
    assert compiled_line in capsys.readouterr().out
    assert main(["check", str(tmp_path / "wrong.json"), "--findings", str(tmp_path / "f")]) == 1
    folder = next(p for p in (tmp_path / "f").iterdir() if "first-order" in p.name)
    assert main(["repro", str(folder), "--findings", str(tmp_path / "f")]) == 1
    assert json.loads((folder / "finding.json").read_text())["hits"] == 2


def test_changed_probes_find_complex_data_counts_beside_floats_and_a_finite_domain():
    generator = _generator("jax")
    apis = ["jax.scipy.special.ndtri", "jax.scipy.stats.binom.pmf", "jax.lax.real", "jax.lax.select_n"]
    builder, _ = generator.generate(apis, ["probe"], lambda api: True)
    ndtri, binom, real, select = (builder.apis[api][0] for api in apis)
    assert ndtri["args"][0]["domain"] == "unit-interval"  # finite across it; positives above 1 are not
    k, n, p = binom["args"]
    assert (k["dtype"], k["range"], n["dtype"], n["range"]) == ("int32", [0, 2], "int32", [0, 3])
    assert "dtype" not in p and p["domain"] == "unit-interval"
    assert real["dtypes"][0].startswith("complex")
    assert select["args"][0]["dtype"] == "bool" and len(select["args"]) == 3  # the predicate and two cases


@pytest.mark.parametrize("library, not_tried", [("jax", "jax.lax.while_loop"), ("tf", "tf.raw_ops.Print")])
def test_every_public_function_is_in_the_catalog_or_in_the_failure_list(library, not_tried):
    generator = _generator(library)
    _, document = catalog_document(library)
    listed = set(document["apis"]) | set(document["failed"])
    assert set(generator.public_names().values()) | set(generator.skipped()) <= listed
    assert document["failed"][not_tried].startswith("not a candidate") and not_tried in generator.skipped()
