"""The Case msgpack codec: round trips, versioning, and clear errors on corrupt bytes."""

import msgpack
import numpy as np
import pytest

from nabla_atheris.case import Attr, Case, CaseFormatError, Tensor, TensorList, decode, encode


def sample_case():
    return Case(
        library="torch",
        api="torch.cat",
        api_id=7,
        template=0,
        args=(
            TensorList(
                (
                    Tensor("float32", (2, 2), np.array([1, np.nan, -np.inf, 0.5], dtype=np.float32), True),
                    Tensor("complex128", (1,), np.array([1 + 2j]), False),
                )
            ),
        ),
        kwargs=(("dim", Attr(0)), ("idx", Tensor("int64", (3,), np.array([0, 1, 2]), False)), ("shape", Attr((1, 2)))),
    )


def test_round_trip_keeps_every_field():
    case = sample_case()
    back = decode(encode(case))
    assert back == case
    assert back.kwargs[2][1].value == (1, 2)
    first = back.args[0].items[0]
    assert first.dtype == "float32" and first.differentiable and np.isnan(first.values[1])


@pytest.mark.parametrize("blob", [b"", b"\x00\x01garbage", encode(sample_case())[:-5], msgpack.packb({"v": 99})])
def test_corrupt_bytes_raise_case_format_error(blob):
    with pytest.raises(CaseFormatError):
        decode(blob)


def test_wrong_element_count_is_rejected():
    obj = msgpack.unpackb(encode(sample_case()))
    obj["kwargs"][1][1]["s"] = [4]
    with pytest.raises(CaseFormatError, match="holds 3 values"):
        decode(msgpack.packb(obj, use_bin_type=True))
