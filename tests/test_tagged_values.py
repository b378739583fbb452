"""Tagged attribute values, a library function (`{"fn": ...}`) or object (`{"object": ...}`) a call
takes: built by the backend, kept by the case codec, written by reproducers as library code, accepted
by hand-written cases, and refused with a one-line error when malformed."""

import numpy as np
import planted_jax  # noqa: F401  (registers jax.nabla_planted)
import pytest
from conftest import make_case, run_reproducer

from nabla_atheris.call_source import call_source
from nabla_atheris.case import CaseFormatError, Tagged, decode, encode
from nabla_atheris.catalog import build_catalog, load_catalog, parse_template
from nabla_atheris.decoder import decode_bytes, seed_bytes
from nabla_atheris.findings import FindingsStore
from nabla_atheris.handcase import parse_case
from nabla_atheris.minimize import case_to_json
from nabla_atheris.oracle import check_case
from nabla_atheris.session import store_findings

GATHER = {
    "object": "jax.lax.GatherDimensionNumbers",
    "kwargs": {"offset_dims": [1], "collapsed_slice_dims": [0], "start_index_map": [0]},
}
TEMPLATE = {
    "dtypes": ["float64"],
    "args": [{"tensor": [5, 3]}, {"tensor": [2, 1], "dtype": "int32", "range": [0, 5]}, {"value": GATHER}, {"value": [1, 3]}],
}
X = {"dtype": "float64", "shape": [3], "seed": 0}


def test_a_template_s_object_is_built_kept_by_the_codec_and_written_as_library_code(jax_backend):
    catalog = build_catalog("jax", ["jax.lax.gather"], {"jax.lax.gather": [TEMPLATE]})
    case = decode_bytes(seed_bytes(catalog, 0, 0), catalog)
    assert isinstance(case.args[2].value, Tagged)
    assert decode(encode(case)) == case and parse_case(case_to_json(case)).args[2:] == case.args[2:]
    operand, indices = case.args[0].array(), case.args[1].array()
    np.testing.assert_allclose(jax_backend.bind(case).direct()[0], operand[indices[:, 0]])  # rows at the indices
    _, lines = call_source(case)
    numbers = "jax.lax.GatherDimensionNumbers(offset_dims=(1,), collapsed_slice_dims=(0,), start_index_map=(0,))"
    assert lines == [f"return jax.lax.gather(x0, cs[0], {numbers}, [1, 3])"]


def test_a_list_of_functions_is_built_and_written_as_a_list_of_them(jax_backend):
    branches = [{"fn": "jax.numpy.sin"}, {"fn": "jax.numpy.exp"}]
    case = make_case("jax.lax.switch", {"dtype": "int32", "shape": [], "values": [1]}, branches, X)
    x = case.args[2].array()
    np.testing.assert_allclose(jax_backend.bind(case).direct()[0], np.exp(x))
    assert call_source(case)[1] == ["return jax.lax.switch(cs[0], [jax.numpy.sin, jax.numpy.exp], x0)"]


def test_a_reproducer_calls_a_tagged_function_as_library_code(jax_backend, tmp_path, monkeypatch):
    case = make_case("jax.lax.map", {"fn": "jax.nabla_planted.wrong_vjp"}, X)
    stored = store_findings(check_case(case, jax_backend), jax_backend, FindingsStore(tmp_path))
    assert stored, "the planted VJP is wrong inside lax.map too"
    source = (stored[0].folder / "repro.py").read_text()
    assert "return jax.lax.map(jax.nabla_planted.wrong_vjp, x0)" in source
    assert run_reproducer(stored[0].folder / "repro.py", monkeypatch) == 1


@pytest.mark.parametrize(
    "value, message",
    [
        ({"fn": "jax.lax.add", "kwargs": {}}, "a tagged value is"),
        ({"object": "jax.lax.GatherDimensionNumbers", "args": [1]}, "a tagged value is"),
        ({"fn": "jax.lax.add", "object": "jax.lax.GatherDimensionNumbers"}, "a tagged value is"),
        ({"fn": "add"}, "a dotted name"),
        ({"fn": "os.system"}, "names an object of jax"),
        ({"object": "jax.lax.GatherDimensionNumbers", "kwargs": [1]}, "'kwargs' maps"),
    ],
)
def test_a_malformed_tagged_value_is_refused_in_one_line(value, message):
    with pytest.raises(CaseFormatError) as refused:
        make_case("jax.lax.reduce", X, 0.0, value, [0])
    assert message in str(refused.value) and "\n" not in str(refused.value)


def test_a_template_with_a_malformed_tagged_value_is_refused():
    bad = {**TEMPLATE, "args": [*TEMPLATE["args"][:2], {"value": {"object": "jax.lax.GatherDimensionNumbers", "x": 1}}]}
    with pytest.raises(ValueError, match="a tagged value is"):
        parse_template(bad)


def test_the_jax_catalog_s_tagged_templates_decode_to_tagged_values():
    catalog = load_catalog("jax")
    for api in ("jax.lax.reduce", "jax.lax.scatter_add", "jax.lax.switch"):
        entry = catalog.by_name(api)
        assert entry is not None, api
        case = decode_bytes(seed_bytes(catalog, entry.id, 0), catalog)
        values = [a.value for a in case.args if hasattr(a, "value")]
        assert any(isinstance(v, Tagged) or (isinstance(v, tuple) and v and isinstance(v[0], Tagged)) for v in values), api
