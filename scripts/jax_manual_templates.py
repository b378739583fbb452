"""Hand-written JAX templates: the catalog generator's first source ("manual").

Structural `jax.lax` APIs whose required arguments are shapes, dimension numbers or index tuples,
which neither docstring examples nor signature probing produce; APIs that take a library function or
object (`OBJECTS`: tagged attribute values, see `nabla_atheris.case.Tagged`).
"""

from nabla_atheris.catalog.spec import ALL, REAL, call, t, v

CONV_DIMS = {"n": 1, "c": 2, "h": 5, "o": 3, "k": 2}

APIS = {
    "jax.lax.conv": call(
        CONV_DIMS, [t("n", "c", "h", "h"), t("o", "c", "k", "k"), v([1, 1], [2, 2], [1, 2]), v("SAME", "VALID")]
    ),
    "jax.lax.conv_general_dilated": call(
        CONV_DIMS,
        [t("n", "c", "h", "h"), t("o", "c", "k", "k"), v([1, 1], [2, 1]), v("VALID", "SAME")],
        {"lhs_dilation": v([1, 1], [2, 2]), "rhs_dilation": v([1, 1], [2, 1]), "feature_group_count": v(1)},
    ),
    "jax.lax.conv_with_general_padding": call(
        CONV_DIMS,
        [
            t("n", "c", "h", "h"),
            t("o", "c", "k", "k"),
            v([1, 1], [2, 2]),
            v([[1, 0], [0, 1]], [[0, 0], [0, 0]]),
            v(None),
            v(None),
        ],
    ),
    "jax.lax.conv_transpose": call(
        {"n": 1, "c": 2, "h": 4, "o": 3, "k": 2},
        [t("n", "h", "h", "c"), t("k", "k", "c", "o"), v([1, 1], [2, 2]), v("SAME", "VALID")],
        {"dimension_numbers": v(["NHWC", "HWIO", "NHWC"])},
    ),
    "jax.lax.dot_general": call(
        {"b": 2, "n": 3, "k": 4, "m": 2},
        [t("b", "n", "k"), t("b", "k", "m"), v([[[2], [1]], [[0], [0]]])],
        dtypes=ALL[:4],
    ),
    "jax.lax.batch_matmul": call({"b": 2, "n": 3, "k": 4, "m": 2}, [t("b", "n", "k"), t("b", "k", "m")], dtypes=ALL[:4]),
    "jax.lax.dynamic_slice": call({"n": 4, "m": 5}, [t("n", "m"), v([1, 2], [0, 0], [3, 4]), v([2, 3], [1, 1])], dtypes=ALL[:4]),
    "jax.lax.dynamic_update_slice": call({"n": 4, "m": 5}, [t("n", "m"), t(2, 3), v([1, 2], [0, 0], [3, 4])], dtypes=ALL[:4]),
    "jax.lax.dynamic_slice_in_dim": call({"n": 5, "m": 3}, [t("n", "m"), v(1, 0, 4), v(2, 1)], {"axis": v(0, 1)}, dtypes=ALL[:4]),
    "jax.lax.dynamic_index_in_dim": call({"n": 5, "m": 3}, [t("n", "m"), v(1, 0, 4)], {"axis": v(0, 1)}, dtypes=ALL[:4]),
    "jax.lax.slice": call({"n": 4, "m": 5}, [t("n", "m"), v([0, 1]), v([3, 4]), v([1, 2], [1, 1])], dtypes=ALL[:4]),
    "jax.lax.slice_in_dim": call({"n": 5, "m": 3}, [t("n", "m"), v(1), v(4)], {"stride": v(1, 2), "axis": v(0, 1)}),
    "jax.lax.pad": call({"n": 3, "m": 4}, [t("n", "m"), v(0.0, 1.0), v([[1, 0, 0], [0, 2, 1]], [[-1, 1, 0], [0, 0, 0]])]),
    "jax.lax.fft": call({"n": 2, "m": 4}, [t("n", "m"), v("fft", "ifft"), v([4])], dtypes=["complex128", "complex64"]),
    "jax.lax.integer_pow": call({"n": 2, "m": 3}, [t("n", "m"), v(3, 2, -2, 0, 1)], dtypes=ALL[:4]),
    "jax.lax.reduce_precision": call({"n": 2, "m": 3}, [t("n", "m"), v(5, 8), v(10, 7)]),
    "jax.lax.broadcast_in_dim": call({"n": 3}, [t("n"), v([2, 3]), v([1])], dtypes=ALL[:4]),
    "jax.lax.reshape": call({"n": 2, "m": 3}, [t("n", "m"), v([3, 2], [6])], dtypes=ALL[:4]),
    "jax.lax.transpose": call({"n": 2, "m": 3, "k": 4}, [t("n", "m", "k"), v([2, 0, 1], [1, 0, 2])], dtypes=ALL[:4]),
    "jax.lax.reduce_sum": call({"n": 2, "m": 3}, [t("n", "m"), v([1], [0], [0, 1])], dtypes=ALL[:4]),
    "jax.lax.reduce_max": call({"n": 2, "m": 3}, [t("n", "m"), v([1], [0], [0, 1])]),
    "jax.lax.reduce_min": call({"n": 2, "m": 3}, [t("n", "m"), v([1], [0], [0, 1])]),
    "jax.lax.reduce_prod": call({"n": 2, "m": 3}, [t("n", "m"), v([1], [0], [0, 1])], dtypes=ALL[:4]),
    "jax.lax.top_k": call({"n": 6}, [t("n"), v(3, 1, 6)]),
    "jax.lax.sort_key_val": call({"n": 5}, [t("n"), t("n")]),
    "jax.lax.cumlogsumexp": call({"n": 3, "m": 4}, [t("n", "m")], {"axis": v(1, 0), "reverse": v(False, True)}),
    "jax.lax.linalg.triangular_solve": call(
        {"n": 3, "m": 2},
        [t("n", "n"), t("n", "m")],
        {"left_side": v(True, False), "lower": v(True, False), "transpose_a": v(False, True)},
    ),
    "jax.lax.linalg.tridiagonal_solve": call({"n": 4, "m": 2}, [t("n"), t("n"), t("n"), t("n", "m")]),
    "jax.image.resize": call({"n": 3, "m": 4}, [t("n", "m"), v([5, 6], [2, 2], [6, 8]), v("linear", "cubic", "lanczos3")]),
    "jax.image.scale_and_translate": call(
        {"n": 3, "m": 4},
        [t("n", "m"), v([5, 6]), v([0, 1]), t(2, domain="positive"), t(2), v("linear", "cubic")],
    ),
    "jax.lax.igamma": call({"n": 2, "m": 3}, [t("n", "m", domain="positive"), t("n", "m", domain="positive")]),
    "jax.lax.igammac": call({"n": 2, "m": 3}, [t("n", "m", domain="positive"), t("n", "m", domain="positive")]),
    "jax.lax.acosh": call({"n": 2, "m": 3}, [t("n", "m", domain="above-one")], dtypes=ALL[:4]),
    "jax.lax.concatenate": call({"n": 2, "m": 3}, [{"tensors": [["n", "m"], ["n", "m"], [1, "m"]]}, v(0)], dtypes=ALL[:4]),
    "jax.numpy.dsplit": call({"n": 2, "m": 3}, [t("n", "m", 4), v(2, [1, 3])]),
}

# APIs whose arguments are related across parameters (an index into the data, a kernel whose sizes the
# window fixes, integer selectors next to float data), which probing with independent tensors misses.
# A size another argument fixes is a number, not a symbol, so the decoder's size changes keep the call valid.
RELATED = {
    "jax.lax.conv_general_dilated_patches": call(
        {"n": 1, "c": 2, "h": 5}, [t("n", "c", "h", "h"), v([2, 2], [3, 1]), v([1, 1], [2, 2]), v("VALID", "SAME")]
    ),
    # rhs: O, C * filter size, then the output's spatial sizes (3 x 3 for a 2 x 2 window over 4 x 4, VALID)
    "jax.lax.conv_general_dilated_local": call({"o": 2}, [t(1, 1, 4, 4), t("o", 4, 3, 3), v([1, 1]), v("VALID"), v([2, 2])]),
    "jax.lax.dynamic_update_index_in_dim": call({"m": 3}, [t(5, "m"), t("m"), v(1, 0, 4), v(0)], dtypes=ALL[:4]),
    "jax.lax.index_take": call({"m": 3}, [t(4, "m"), {"tensors": [t(2, dtype="int32", range=[0, 4])]}, v([0])]),
    "jax.lax.ragged_dot": call({"k": 3, "o": 4}, [t(4, "k"), t(2, "k", "o"), t(2, dtype="int32", range=[2, 3])]),
    "jax.lax.full": call({}, [v([2, 3], [4]), t()]),
    "jax.numpy.astype": call({"n": 2, "m": 3}, [t("n", "m"), v("float64", "float32")], dtypes=REAL),
    "jax.scipy.special.bessel_jn": call({"n": 4}, [t("n", domain="positive")], {"v": v(2, 0, 1)}),
    # degree n in 1..3 and order m in 0..1 (|m| <= n), n_max the largest degree
    "jax.scipy.special.sph_harm_y": call(
        {"k": 3},
        [t("k", dtype="int32", range=[1, 4]), t("k", dtype="int32", range=[0, 2]), t("k"), t("k")],
        {"n_max": v(3)},
    ),
    # counts of 1 in each of 3 categories: n = 3 trials
    "jax.scipy.stats.multinomial.pmf": call({}, [t(3, dtype="int32", range=[1, 2]), v(3), t(3, domain="unit-interval")]),
    "jax.scipy.stats.multinomial.logpmf": call({}, [t(3, dtype="int32", range=[1, 2]), v(3), t(3, domain="unit-interval")]),
}


def geom(k_low: int) -> list[dict]:
    """geom.pmf/logpmf(k, p): success probability p in (0, 1] (its docs; the probe drew p > 1)."""
    k = {"dtype": "int32", "range": [k_low, 2]}
    half = ["float64", "float32", "bfloat16", "float16"]
    return call({"a": 2, "b": 3}, [t("a", "b", **k), t("a", "b", domain="unit-interval")], dtypes=half) + call(
        {"a": 4}, [t("a", **k), t("a", domain="unit-interval")], dtypes=half
    )


RELATED |= {"jax.scipy.stats.geom.pmf": geom(0), "jax.scipy.stats.geom.logpmf": geom(1)}
APIS |= RELATED

# jax.experimental.sparse: a dense-to-sparse conversion needs its number of stored elements `nse` under
# jax.jit (its docs).
SPARSE = {
    f"jax.experimental.sparse.{name}_fromdense": call({}, [t(2, 3)], {"nse": v(6)}) for name in ("bcoo", "bcsr", "coo", "csr")
}
APIS |= SPARSE


# APIs that take a library function ({"fn": ...}: a reduction's computation, a mapped function) or an
# object built from attributes ({"object": ...}: dimension numbers). A scatter promises unique indices
# (the decoder keeps that promise), since which of two updates of one element wins is unspecified;
# gather and scatter clip out-of-bounds indices; a promise or an initial value stays as written.
def fn(name: str) -> dict:
    """A library function as an attribute value."""
    return {"fn": name}


def obj(name: str, **kwargs: object) -> dict:
    """A library object built from keyword attributes, as an attribute value."""
    return {"object": name, "kwargs": kwargs}


def fixed(value: object) -> dict:
    """An attribute the decoder and the parameter step leave as it is."""
    return {"value": value, "choices": []}


GATHER = obj("jax.lax.GatherDimensionNumbers", offset_dims=[1], collapsed_slice_dims=[0], start_index_map=[0])
SCATTER = obj(
    "jax.lax.ScatterDimensionNumbers", update_window_dims=[1], inserted_window_dims=[0], scatter_dims_to_operand_dims=[0]
)
INDICES = t(2, 1, dtype="int32", range=[0, 5])
SCATTERS = {
    f"jax.lax.{name}": call(
        {}, [t(5, 3), INDICES, t(2, 3), v(SCATTER)], {"unique_indices": fixed(True), "mode": fixed("clip")}, dtypes=ALL[:4]
    )
    for name in ("scatter", "scatter_add", "scatter_sub", "scatter_mul", "scatter_min", "scatter_max")
}
OBJECTS = {
    "jax.lax.gather": call({}, [t(5, 3), INDICES, v(GATHER), v([1, 3])], {"mode": fixed("clip")}, dtypes=ALL[:4]),
    **SCATTERS,
    "jax.lax.reduce": call({"n": 2, "m": 3}, [t("n", "m"), fixed(0.0), v(fn("jax.lax.add")), v([1], [0], [0, 1])]),
    "jax.lax.reduce_window": call(
        {"n": 4, "m": 5},
        [t("n", "m"), fixed(0.0), v(fn("jax.lax.add")), v([2, 2], [1, 2]), v([1, 1], [2, 1]), v("VALID", "SAME")],
    ),
    "jax.lax.ragged_dot_general": call(
        {"k": 3, "o": 4},
        [
            t(4, "k"),
            t(2, "k", "o"),
            t(2, dtype="int32", range=[2, 3]),
            v(
                obj(
                    "jax.lax.RaggedDotDimensionNumbers",
                    dot_dimension_numbers=[[[1], [1]], [[], []]],
                    lhs_ragged_dimensions=[0],
                    rhs_group_dimensions=[0],
                )
            ),
        ],
    ),
    "jax.lax.associative_scan": call({"n": 4, "m": 3}, [v(fn("jax.lax.add"), fn("jax.lax.mul")), t("n", "m")], {"axis": v(0, 1)}),
    "jax.lax.map": call({"n": 4, "m": 3}, [v(fn("jax.numpy.sin"), fn("jax.numpy.cumsum")), t("n", "m")]),
    "jax.lax.cond": call({"n": 3}, [t(dtype="bool"), v(fn("jax.numpy.sin")), v(fn("jax.numpy.exp")), t("n")]),
    "jax.lax.fori_loop": call({"n": 3}, [v(0), v(3, 1), v(fn("jax.numpy.add")), t("n")]),
    "jax.numpy.apply_along_axis": call({"n": 3, "m": 4}, [v(fn("jax.numpy.cumsum"), fn("jax.numpy.sort")), v(1, 0), t("n", "m")]),
    "jax.numpy.apply_over_axes": call(
        {"n": 3, "m": 4}, [v(fn("jax.numpy.sum"), fn("jax.numpy.max")), t("n", "m"), v([0], [1], [0, 1])]
    ),
    # scan's body returns (carry, output): sort_key_val(carry, row) sorts the carry, permuting the row alike
    "jax.lax.scan": call({"n": 4, "m": 3}, [v(fn("jax.lax.sort_key_val")), t("m"), t("n", "m")]),
    # solve(matvec, b) solves matvec(x) = b: mapping negative over b's rows solves -x = b
    "jax.lax.custom_linear_solve": call(
        {"n": 4, "m": 3}, [v(fn("jax.numpy.negative")), t("n", "m"), v(fn("jax.lax.map"))], {"symmetric": fixed(True)}
    ),
    "jax.lax.switch": call(
        {"n": 3}, [t(dtype="int32", range=[0, 3]), v([fn("jax.numpy.sin"), fn("jax.numpy.tanh"), fn("jax.numpy.exp")]), t("n")]
    ),
    "jax.experimental.sparse.bcsr_extract": call(
        {}, [t(6, dtype="int32", range=[0, 3]), t(3, dtype="int32", range=[0, 7], sorted=True), t(2, 3)]
    ),
    "jax.experimental.sparse.bcoo_dot_general_sampled": call(
        {"k": 3},
        [t(2, "k"), t("k", 4), t(5, 2, dtype="int32", range=[0, 2])],
        {"dimension_numbers": fixed([[[1], [0]], [[], []]])},
    ),
}
APIS |= OBJECTS
