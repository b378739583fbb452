"""Catalog generation: recorded calls become templates, regeneration is deterministic, ids are append-only."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from nabla_atheris.catalog import catalog_document, catalog_stats, discovery
from nabla_atheris.catalog.building import (
    CatalogBuilder,
    TensorInfo,
    Unrepresentable,
    merge_registry,
    recorded_variants,
    template_from_call,
    write_catalog,
)

ROOT = Path(__file__).resolve().parents[1]
# A few APIs of each source; their checked-in entries must be what the generator writes today.
SUBSET = [
    "torch.sin",
    "torch.Tensor.sin",
    "torch.absolute",
    "torch.special.expit",
    "torch.linalg.det",
    "torch.logaddexp",
    "torch.nn.Linear",
]


def info(shape, dtype="float64", values=None):
    values = np.linspace(-0.9, 0.8, int(np.prod(shape))) if values is None else np.asarray(values)
    return TensorInfo(dtype, tuple(shape), values)


def test_template_shares_symbols_and_keeps_attributes():
    index = TensorInfo("int64", (3,), np.array([0, 2, 1]))
    template = template_from_call([info([3, 4]), info([4]), index], {"dim": 1, "flag": True}, "test")
    assert template["args"][0]["tensor"] == ["a", "b"] and template["args"][1]["tensor"] == ["b"]
    assert template["dims"] == {"a": 3, "b": 4}
    assert template["args"][2] == {"tensor": ["a"], "dtype": "int64", "range": [0, 3]}
    assert template["kwargs"] == {"dim": {"value": 1}, "flag": {"value": True}}
    assert template["dtypes"] == ["float64"] and template["source"] == "test"


def test_oversized_dimensions_shrink_consistently():
    template = template_from_call([info([10, 20]), info([20])], {}, "t")
    assert template["args"][0]["tensor"] == ["a", "b"] and template["args"][1]["tensor"] == ["b"]
    assert template["dims"] == {"a": 5, "b": 6}
    assert template_from_call([info([8, 8, 8])], {}, "t")["dims"] == {"a": 4}  # 512 elements: a stronger map


def test_template_infers_domains_from_values():
    positive = template_from_call([info([4], values=[0.1, 2.0, 3.0, 0.5])], {}, "t")["args"][0]
    unit = template_from_call([info([4], values=[0.1, -0.2, 0.3, 0.5])], {}, "t")["args"][0]
    free = template_from_call([info([4], values=[0.1, -2.0, 0.3, 0.5])], {}, "t")["args"][0]
    assert (positive.get("domain"), unit.get("domain"), free.get("domain")) == ("positive", "unit", None)


@pytest.mark.parametrize(
    "args",
    [[info([2] * 6)], [info([2, 2]), object()], [TensorInfo("int64", (2,), np.array([1, 2]))], [info([2]), float("nan")]],
    ids=["rank over the cap", "unknown attribute type", "no floating tensor", "non-finite attribute"],
)
def test_unrepresentable_calls_are_refused(args):
    with pytest.raises(Unrepresentable):
        template_from_call(args, {}, "t")


def test_an_example_with_integer_data_also_offers_floating_variants():
    data, index = TensorInfo("int64", (2, 3), np.arange(6)), TensorInfo("int64", (3,), np.array([0, 1, 1]))
    first, *variants = recorded_variants(lambda value: value, [data, index], {}, "docstring")
    with pytest.raises(Unrepresentable):
        first()
    slots = [[slot.get("dtype") for slot in make()["args"]] for make in variants]
    assert slots == [[None, None], [None, "int64"], ["int64", None]]  # all floating, then each alone
    assert len(recorded_variants(lambda value: value, [info([2]), index], {}, "docstring")) == 1  # has floating data


def test_typed_probe_values_are_sorted_indices_with_duplicates_and_mixed_masks():
    rng = np.random.default_rng(0)
    index = discovery.typed_array("index", (4, 3), rng)
    assert index.dtype == np.int32 and np.all(np.diff(index.ravel()) >= 0) and set(index.ravel()) == {0, 1}
    assert set(discovery.typed_array("mask", (2, 3), rng).ravel()) == {True, False}
    assert discovery.argument_kind("f", "segment_ids", (4,)) == "index"
    assert discovery.argument_kind("f", "ksize", (2, 2, 2, 2)) == discovery.Attribute([1, 1, 1, 1])


def test_typed_probe_passes_index_tensors_where_float_probes_fail(torch_backend):
    builder = CatalogBuilder("torch", torch_backend)
    discovery.from_probes(builder, _generator().library(), ["torch.nn.functional.max_unpool1d"])
    template = builder.apis["torch.nn.functional.max_unpool1d"][0]
    assert template["source"] == "probe" and template["args"][1]["dtype"] == "int64"
    assert template["args"][2] == {"value": 1}  # kernel_size, an attribute by its name


def test_schema_probe_passes_none_for_an_optional_argument_without_default():
    generator = _generator()
    schema = next(s for s in generator.schemas()["batch_norm"] if s.overload_name == "")
    args, _ = generator.probe_arguments(schema, (2, 3), method=False)
    assert args[1:5] == [None] * 4 and isinstance(args[5], bool)


def test_builder_validates_through_the_backend(torch_backend):
    builder = CatalogBuilder("torch", torch_backend)
    assert builder.offer("torch.sin", lambda: template_from_call([info([2, 3])], {}, "t"))
    assert not builder.offer("torch.sin", lambda: template_from_call([info([4, 5])], {}, "t"))  # same structure
    assert not builder.offer("torch.argmax", lambda: template_from_call([info([2, 3])], {}, "t"))
    assert not builder.offer("torch.mm", lambda: template_from_call([info([2, 3]), info([2, 3])], {}, "t"))
    assert not builder.offer("torch.rand_like", lambda: template_from_call([info([2, 3])], {}, "t"))
    assert "complex128" in builder.apis["torch.sin"][0]["dtypes"]
    assert builder.failed["torch.argmax"] == "no floating output"
    assert builder.failed["torch.mm"].startswith("direct call fails: RuntimeError")
    assert builder.failed["torch.rand_like"] == "nondeterministic output"


def test_registry_is_append_only(tmp_path):
    assert merge_registry(["b", "a"], ["c", "a", "0"]) == ["b", "a", "0", "c"]
    registry, _ = catalog_document("torch")
    (tmp_path / "torch.registry").write_text("".join(f"{n}\n" for n in registry))
    written = write_catalog(tmp_path, "torch", {"torch.zzz_new": [{"args": []}], registry[0]: [{"args": []}]}, {})
    assert written[: len(registry)] == registry and written[len(registry) :] == ["torch.zzz_new"]


def _generator():
    spec = importlib.util.spec_from_file_location("gen_torch_catalog", ROOT / "scripts" / "gen_torch_catalog.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_regenerating_is_deterministic_and_matches_the_checked_in_catalog(tmp_path):
    generator = _generator()
    outputs = []
    for run in ("one", "two"):
        builder, _ = generator.generate(set(SUBSET), generator.SOURCES)
        (tmp_path / run).mkdir()
        write_catalog(tmp_path / run, "torch", builder.apis, builder.failed)
        outputs.append((tmp_path / run / "torch.json").read_bytes())
    assert outputs[0] == outputs[1]
    _, checked_in = catalog_document("torch")
    generated = json.loads(outputs[0])["apis"]
    assert set(generated) == set(SUBSET)
    assert {api: checked_in["apis"][api] for api in SUBSET} == generated


def test_checked_in_catalog_reaches_500_apis():
    stats = catalog_stats("torch")
    assert stats["apis_validated"] >= 500
    assert sum(stats["by_source"].values()) == stats["apis_validated"]
    assert {"manual", "opinfo"} <= set(stats["by_source"])
    assert all(reason for reason in stats["failed"].values())


def test_a_call_that_needs_sorted_segment_ids_gets_a_sorted_slot(tf_backend):
    builder = CatalogBuilder("tf", tf_backend)
    ids = info([4], "int32", [0, 0, 1, 1])
    assert builder.offer("tf.math.segment_sum", lambda: template_from_call([info([4]), ids], {}, "t"))
    assert builder.apis["tf.math.segment_sum"][0]["args"][1]["sorted"] is True  # unsorted ids fail: "not increasing"
    assert builder.offer("tf.math.unsorted_segment_sum", lambda: template_from_call([info([4]), ids, 2], {}, "t"))
    assert "sorted" not in builder.apis["tf.math.unsorted_segment_sum"][0]["args"][1]  # any order works
