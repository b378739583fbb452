"""Every parameter a choice: signatures and docs read into parameters, domains validated through a
backend (invalid values dropped with the reason), optional parameters left out by seeds and drawn
by the decoder."""

import os

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nabla_atheris.case import Attr, Tensor
from nabla_atheris.catalog import OptionSlot, build_catalog, load_catalog, parse_template
from nabla_atheris.catalog.building import CatalogBuilder, check_template
from nabla_atheris.catalog.parameters import (
    REQUIRED,
    UNKNOWN,
    VARIED,
    Parameter,
    checker,
    doc_paragraph,
    domain,
    drop_misuse,
    integer_indices,
    kind_of,
    read_parameters,
    share_varied,
    vary_parameters,
)
from nabla_atheris.decoder import ChoiceWriter, decode_bytes, decode_from, seed_bytes

PLAIN = {"dims": {"n": 3}, "dtypes": ["float64"], "args": [{"tensor": ["n"]}], "kwargs": {"alpha": {"value": 1.0}}}
OPTIONAL = {"mode": {"optional": ["sum", "none"]}, "weight": {"optional": [{"tensor": ["n"]}]}}
OPTIONS = {**PLAIN, "kwargs": {**PLAIN["kwargs"], **OPTIONAL}}


def fake(x, alpha=1.0, mode="mean", weight=None):
    """A loss.

    Args:
        x (Tensor): the input.
        mode (str, optional): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``
        weight (Tensor, optional): a weight per element.
    """


def test_a_signature_and_its_docs_give_kinds_defaults_and_enumerations():
    parameters = {p.name: p for p in read_parameters("lib.fake", fake)}
    assert parameters["x"].default == REQUIRED and parameters["alpha"].kind == "float"
    assert parameters["mode"].kind == "str" and "'sum'" in parameters["mode"].doc
    assert parameters["weight"].kind == "tensor"


def test_a_docstring_signature_line_stands_in_for_a_missing_signature():
    class Builtin:
        __doc__ = "\n    lib.reduce(input, dim=None, keepdim=False) -> Tensor\n\n    Reduces."

        def __call__(self, *args):
            return None

    with_doc = read_parameters("lib.reduce", Builtin())
    assert [(p.name, p.kind, p.default) for p in with_doc][1:] == [("dim", "dim", None), ("keepdim", "bool", False)]


def test_kinds_from_names_and_type_text():
    assert kind_of("dim", None, "Optional[List[int]]") == "dims"
    assert kind_of("axis", 0, "") == "dim"
    assert kind_of("padding", REQUIRED, 'A `string` from: `"SAME", "VALID"`') == "str"
    assert doc_paragraph(fake.__doc__, "weight").startswith("weight (Tensor, optional)")


def test_an_array_like_union_is_a_tensor_not_a_boolean():
    from jax.scipy.stats import norm

    parameters = {p.name: p for p in read_parameters("jax.scipy.stats.norm.pdf", norm.pdf)}
    assert [parameters[name].kind for name in ("x", "loc", "scale")] == ["tensor"] * 3
    template = {"dims": {"n": 3}, "dtypes": ["float64"], "args": [{"tensor": ["n"]}]}
    assert all(isinstance(v, dict) and "tensor" in v for v in domain(parameters["scale"], template))  # never scale=False
    assert kind_of("x", REQUIRED, "ArrayLike | None") == "tensor"
    assert kind_of("c_and_lower", REQUIRED, "tuple[ArrayLike, bool]") == "bool"  # a tuple, as before
    assert kind_of("left", None, "ArrayLike | str | None") == "str"  # interp's 'extrapolate'
    assert kind_of("transpose_a", False, "A `Tensor` of type `bool`.") == "bool"  # TensorFlow's doc text


def test_documented_dtype_choices_and_enumerations_are_domains():
    template = {"args": [{"tensor": [2, 3]}]}
    index_type = "index_type: An optional `tf.DType` from: `tf.int16, tf.int32, tf.int64`. Defaults to `tf.int32`."
    assert domain(Parameter("index_type", "unknown", UNKNOWN, doc=index_type), template) == ["int16", "int64"]
    order = "ord: Order of the norm. Supported values are `'fro'`, `'euclidean'`, `1`, `2`, `np.inf`."
    assert domain(Parameter("ord", "str", "euclidean", doc=order), template) == ["fro", 1, 2]
    norm = "norm: `None` for no normalization or `'ortho'` for orthonormal normalization."
    assert "ortho" in domain(Parameter("norm", "unknown", None, doc=norm), template)
    assert domain(Parameter("k", "str", "a", doc="k: the `2` largest."), template) == []  # numbers only beside words


def _catalog(*templates):
    return build_catalog("torch", ["torch.sum"], {"torch.sum": list(templates)})


def test_seeds_leave_optional_parameters_out():
    catalog = _catalog(OPTIONS)
    case = decode_bytes(seed_bytes(catalog, 0, 0), catalog)
    assert [name for name, _ in case.kwargs] == ["alpha"]
    assert isinstance(parse_template(OPTIONS).kwargs[1][1], OptionSlot)


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=200))
def test_inputs_written_before_the_options_existed_decode_to_the_same_api_and_template(data):
    old, new = _catalog(PLAIN, PLAIN), _catalog(PLAIN, OPTIONS)
    before, after = decode_bytes(data, old), decode_bytes(data, new)
    assert (before.api, before.template) == (after.api, after.template)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=200))
def test_an_optional_parameter_passes_only_its_validated_values(data):
    """A plain value of an optional parameter is not varied further: OneFlow's MaxPool2d, whose
    validation dropped dilation=0 (it aborts or hangs), was called with dilation=0, a neighbour of
    the validated -1, and hung a worker."""
    pool = {**PLAIN, "kwargs": {"dilation": {"optional": [2, -1]}, "scale": {"optional": [0.5]}}}
    case = decode_bytes(data, _catalog(pool))
    passed = dict(case.kwargs)
    assert passed.get("dilation", Attr(2)).value in (2, -1)
    assert passed.get("scale", Attr(0.5)).value == 0.5


def test_optional_values_and_tensors_are_drawn():
    catalog = _catalog(OPTIONS)
    seen = set()
    for wanted in ({"option:mode": 1}, {"option:mode": 2, "option:weight": 1}):
        writer = ChoiceWriter(wanted)
        decode_from(writer, catalog)
        for name, arg in decode_bytes(writer.buffer(), catalog).kwargs:
            if name == "mode":
                seen.add(arg.value)
            if name == "weight":
                assert isinstance(arg, Tensor) and arg.values.size == arg.size
                seen.add("weight")
    assert seen == {"sum", "none", "weight"}


def test_validation_keeps_valid_values_and_drops_the_others_with_their_reasons(torch_backend):
    builder = CatalogBuilder("torch", torch_backend)
    labels = {"tensor": ["n"], "dtype": "int64", "range": [0, 4]}
    template = {"dims": {"n": 3, "c": 4}, "dtypes": ["float64"], "args": [{"tensor": ["n", "c"]}, labels]}
    builder.apis = {"torch.nn.functional.cross_entropy": [template]}
    vary_parameters(builder, list(builder.apis), lambda api: read_parameters(api, torch.nn.functional.cross_entropy))
    kwargs = builder.apis["torch.nn.functional.cross_entropy"][0]["kwargs"]
    assert set(kwargs["reduction"]["optional"]) == {"none", "sum"}
    assert kwargs["weight"]["optional"] == [{"tensor": ["c"]}]  # one weight per class
    dropped = builder.dropped["torch.nn.functional.cross_entropy"]
    assert "label_smoothing=2.0" in dropped and "between 0.0 and 1.0" in dropped["label_smoothing=2.0"]
    statuses = builder.parameters["torch.nn.functional.cross_entropy"]
    assert statuses["reduction"] == VARIED and statuses["size_average"].startswith("fixed: deprecated")
    varied, pairs = share_varied(builder.parameters)
    assert 0 < varied <= pairs


def test_attributes_a_template_passes_get_validated_choices(torch_backend):
    builder = CatalogBuilder("torch", torch_backend)
    builder.apis = {"torch.cumsum": [{"dims": {"n": 3}, "dtypes": ["float64"], "args": [{"tensor": ["n"]}, {"value": 0}]}]}
    vary_parameters(builder, ["torch.cumsum"], lambda api: [Parameter("input", "tensor"), Parameter("dim", "dim")])
    slot = builder.apis["torch.cumsum"][0]["args"][1]
    assert slot["value"] == 0 and slot["validated"] == [-1]  # a 1-d input: dims 0 and -1 only
    case = decode_bytes(b"\xff" * 64, build_catalog("torch", ["torch.cumsum"], builder.apis))
    assert isinstance(case.args[1], Attr) and case.args[1].value in (0, -1)


class _AbortingBackend:
    """A backend whose call aborts the process when passed `mode="abort"` (as a failed CHECK does)."""

    def bind(self, case):
        class Call:
            output_dtypes = ["float64"]

            def direct(self):
                if dict(case.kwargs).get("mode") is not None and dict(case.kwargs)["mode"].value == "abort":
                    os.abort()
                return [np.ones(2)]

        return Call()

    def contract_violation(self, call):
        return None


def test_isolated_validation_drops_a_value_that_kills_the_process():
    builder = CatalogBuilder("torch", _AbortingBackend())
    builder.apis = {"torch.sum": [{"dims": {"n": 3}, "dtypes": ["float64"], "args": [{"tensor": ["n"]}]}]}
    parameters = [Parameter("input", "tensor"), Parameter("mode", "str", "mean", doc="mode: 'abort' | 'sum'")]
    isolated = lambda api: checker("torch", api, builder.backend, isolated=True)  # noqa: E731
    vary_parameters(builder, ["torch.sum"], lambda api: parameters, make_check=isolated)
    assert builder.apis["torch.sum"][0]["kwargs"]["mode"] == {"optional": ["sum"]}
    assert builder.dropped["torch.sum"]["mode='abort'"].startswith("crashes the process")


def test_documented_misuse_is_never_drawn_and_is_listed_with_its_reason():
    pool = {"args": [{"tensor": ["n", "n"]}, {"value": 3, "validated": [1, 0, 2]}], "kwargs": {"mode": {"optional": ["r"]}}}
    parameters = [Parameter("input", "tensor"), Parameter("output_size", "int", 3)]
    dropped = {"output_size=-1": "an earlier reason"}
    cleaned = drop_misuse("torch.nn.functional.adaptive_avg_pool2d", pool, parameters, dropped)
    assert cleaned["args"][1]["validated"] == [1, 2] and cleaned["kwargs"] == pool["kwargs"]
    assert dropped["output_size=0"].startswith("misuse") and dropped["output_size=-1"] == "an earlier reason"
    qr = drop_misuse("torch.linalg.qr", pool, parameters, {})
    assert "kwargs" not in qr  # mode='r' was its only value: the parameter is no longer drawn
    assert drop_misuse("torch.sin", pool, parameters, {}) == pool


def test_a_logit_eps_of_one_half_or_more_is_misuse():
    logit = {"args": [{"tensor": []}, {"value": 0.2, "validated": [0.0, 0.5, 1.0, 2.0, -1.0, 0.001]}]}
    parameters = [Parameter("input", "tensor"), Parameter("eps", "float", None)]
    dropped: dict[str, str] = {}
    cleaned = drop_misuse("torch.special.logit", logit, parameters, dropped)
    assert cleaned["args"][1]["validated"] == [0.0, -1.0, 0.001]  # clamp(x, eps, 1 - eps) is empty from eps = 0.5 on
    assert sorted(dropped) == ["eps=0.5", "eps=1.0", "eps=2.0"]


def test_a_tensor_value_that_reverse_mode_refuses_by_type_is_dropped_on_a_rerun(torch_backend):
    # a Number parameter (bernoulli's `p`, leaky_relu's slope) takes a 0-d tensor in the direct call,
    # not once the tensor requires a gradient
    builder = CatalogBuilder("torch", torch_backend)
    template = {"dims": {"n": 3}, "dtypes": ["float64"], "args": [{"tensor": ["n"]}]}
    slope = {"negative_slope": {"optional": [{"tensor": []}, 0.2]}}
    builder.apis = {"torch.nn.functional.leaky_relu": [{**template, "kwargs": slope}]}
    parameters = [Parameter("input", "tensor"), Parameter("negative_slope", "float", 0.01)]
    vary_parameters(builder, list(builder.apis), lambda api: parameters)
    assert builder.apis["torch.nn.functional.leaky_relu"][0]["kwargs"]["negative_slope"] == {"optional": [0.2]}
    reason = builder.dropped["torch.nn.functional.leaky_relu"]["negative_slope={'tensor': []}"]
    assert reason.startswith("reverse call fails: TypeError")


def test_a_tensor_value_reverse_mode_names_as_not_differentiable_stays_valid(torch_backend):
    bce = {"dims": {"n": 3}, "dtypes": ["float64"], "args": [{"tensor": ["n"], "domain": "unit-interval"}] * 2}
    weighted = {**bce, "kwargs": {"weight": {"tensor": ["n"]}}}
    assert check_template("torch", "torch.nn.functional.binary_cross_entropy", weighted, torch_backend) is None


def test_a_tensor_documented_as_cast_to_integers_is_an_integer_slot():
    parameters = read_parameters("torch.sparse_coo_tensor", torch.sparse_coo_tensor)
    float_indices = {"dims": {"a": 2, "b": 3}, "args": [{"tensor": ["a", "b"]}, {"tensor": ["b"]}], "dtypes": ["float64"]}
    typed = integer_indices(float_indices, parameters)
    assert typed["args"][0] == {"tensor": ["a", "b"], "dtype": "int64", "range": [0, 1]} and typed["args"][1] == {"tensor": ["b"]}
    assert integer_indices({**float_indices, "args": [{"tensor": [1, 0]}, {"value": []}]}, parameters) is None


def test_an_optional_weight_reverse_mode_calls_not_differentiable_is_drawn_as_a_parameter():
    # declared by scripts/infer_properties.py, which probes calls passing each optional tensor
    catalog = load_catalog("torch")
    entry = catalog.by_name("torch.nn.functional.binary_cross_entropy")
    index = next(i for i, t in enumerate(entry.templates) if "weight" in dict(t.kwargs))
    case = decode_bytes(seed_bytes(catalog, entry.id, index, {"option:weight": 1}), catalog)
    weight = dict(case.kwargs)["weight"]
    assert isinstance(weight, Tensor) and not weight.differentiable and case.args[0].differentiable
