"""A program's declared properties are its calls' combined (`catalog.properties.combine`), and the
points a later call declares (ties, ill-conditioning) are looked for in the values it takes."""

import math

from conftest import explain, tensor

from nabla_atheris.catalog.properties import ApiProperties, combine
from nabla_atheris.handcase import parse_case
from nabla_atheris.oracle import check_case
from nabla_atheris.oracle.evidence import Evidence
from nabla_atheris.oracle.subject import prepare
from nabla_atheris.verdict import Judgement
from nabla_atheris.vocabulary import FIRST_ORDER_AD, SECOND_ORDER

SMOOTH = ApiProperties()
DET = ApiProperties(conditioning="inverse", sources={"conditioning": "name"})
EIGH = ApiProperties(conditioning="spectral", gauge_vectors=True)
CUT = ApiProperties(gradient="cut", sources={"gradient": "name"})
MAX = ApiProperties(tie_sensitive=True)


def test_a_single_calls_properties_are_its_own():
    assert combine([("torch.linalg.det", DET)]) is DET


def test_each_property_of_a_program_combines_its_calls_by_its_rule():
    after_sin = combine([("torch.sin", SMOOTH), ("torch.linalg.det", DET)])
    assert after_sin.conditioning == "inverse" and after_sin.sources["conditioning"] == "torch.linalg.det: name"
    assert combine([("torch.argmax", CUT), ("torch.sin", SMOOTH)]).gradient == "cut"  # a cut anywhere cuts
    assert combine([("torch.sin", SMOOTH), ("torch.max", MAX)]).tie_sensitive
    assert combine([("torch.sin", SMOOTH), ("torch.as_strided", ApiProperties(layout_dependent=True))]).layout_dependent
    assert combine([("torch.linalg.det", DET), ("torch.linalg.eigh", EIGH)]).conditioning == "spectral"
    eigh_last = combine([("torch.sin", SMOOTH), ("torch.linalg.eigh", EIGH)])
    assert eigh_last.gauge_vectors and eigh_last.gradient is None
    eigh_first = combine([("torch.linalg.eigh", EIGH), ("torch.sin", SMOOTH)])
    assert not eigh_first.gauge_vectors and eigh_first.gradient == "gauge"  # its vectors' gauge reaches the outputs
    single = ApiProperties(dtypes=frozenset({"float32", "float64"}), derivative_dtypes=frozenset({"float64"}))
    double = ApiProperties(dtypes=frozenset({"float64"}), derivative_dtypes=frozenset({"float32"}))
    both = combine([("a", single), ("b", double)])
    assert both.dtypes == {"float64"} and both.unsupported == {*FIRST_ORDER_AD, *SECOND_ORDER}  # no mode has a derivative
    forward = ApiProperties(unsupported=frozenset({"fwd"}))
    assert combine([("a", forward), ("b", SMOOTH)]).unsupported == {"fwd"}


def subject_of(obj, backend):
    judgement = Judgement()
    subject = prepare(parse_case(obj), backend, judgement)
    assert subject is not None, judgement.lines
    return subject


def two_calls(first, second, x):
    return {"library": "torch", "calls": [{"api": first, "args": [x]}, {"api": second, "args": [{"ref": [0, 0]}]}]}


def test_a_later_calls_ill_conditioned_input_is_found_in_the_output_it_takes(torch_backend):
    """sin(X) is singular where X is not: det's conditioning filter sees det's input."""
    x = tensor([2, 2], [0.5, 0.5, 0.5, math.pi - 0.5])
    program = subject_of(two_calls("torch.sin", "torch.linalg.det", x), torch_backend)
    assert program.properties.conditioning == "inverse"
    point = Evidence(program).declared_point
    assert point.reason == "ill-conditioned" and point.detail.startswith("call 1 (torch.linalg.det)"), point
    alone = subject_of({"library": "torch", "api": "torch.linalg.det", "args": [x]}, torch_backend)
    assert Evidence(alone).declared_point.reason is None  # X itself is well conditioned


def test_a_later_calls_tie_is_found_in_the_output_it_takes(torch_backend):
    x = tensor([3], [0.5, -0.5, 0.1])  # no tie in x, a tie in x^2
    point = Evidence(subject_of(two_calls("torch.square", "torch.max", x), torch_backend)).declared_point
    assert point.reason == "non-differentiable-point" and "call 1 (torch.max)" in point.detail, point
    moved = tensor([3], [0.5, 0.6, 0.1])
    assert Evidence(subject_of(two_calls("torch.square", "torch.max", moved), torch_backend)).declared_point.reason is None


def test_an_earlier_output_in_an_argument_with_a_declared_space_is_outside_the_contract(torch_backend):
    x = tensor([2, 2], [0.1, 0.2, 0.3, 0.4])
    verdict = check_case(parse_case(two_calls("torch.sin", "torch.linalg.eigh", x)), torch_backend)
    assert verdict.filtered == "invalid-input" and "declares a space for" in str(explain(verdict)), explain(verdict)


def test_a_gradient_cut_by_a_later_call_cuts_the_programs(torch_backend):
    cut = {"api": "torch.asarray", "args": [{"ref": [0, 0]}], "kwargs": {"requires_grad": False}}
    obj = {"library": "torch", "calls": [{"api": "torch.sin", "args": [tensor([3], [0.1, 0.2, 0.3])]}, cut]}
    subject = subject_of(obj, torch_backend)
    assert subject.properties.gradient == "reverse-cut" and "requires_grad=False" in subject.properties.sources["gradient"]


def test_a_reference_to_an_output_the_earlier_call_lacks_is_an_invalid_input_not_a_harness_error(torch_backend):
    """The decoder cannot know an earlier call's outputs before running: such a program is invalid."""
    obj = two_calls("torch.sin", "torch.tanh", tensor([3], [0.1, 0.2, 0.3]))
    obj["calls"][1]["args"] = [{"ref": [0, 1]}]
    verdict = check_case(parse_case(obj), torch_backend)
    assert verdict.filtered == "invalid-input" and not verdict.harness_errors, explain(verdict)
