"""Hand-written TensorFlow templates: the catalog generator's first source ("manual").

Convolutions, pooling and other APIs whose required arguments are layouts, strides or shapes,
which neither docstring examples nor signature probing produce.
"""

from nabla_atheris.catalog.spec import REAL, call, t, v

IMAGE = {"n": 1, "h": 5, "c": 2, "k": 2, "o": 3}

APIS = {
    "tf.nn.conv2d": call(IMAGE, [t("n", "h", "h", "c"), t("k", "k", "c", "o"), v(1, 2), v("SAME", "VALID")]),
    "tf.nn.conv1d": call(IMAGE, [t("n", "h", "c"), t("k", "c", "o"), v(1, 2), v("SAME", "VALID")]),
    "tf.nn.conv3d": call(
        {"n": 1, "h": 3, "c": 1, "k": 2, "o": 2},
        [t("n", "h", "h", "h", "c"), t("k", "k", "k", "c", "o"), v([1, 1, 1, 1, 1]), v("SAME", "VALID")],
    ),
    "tf.nn.depthwise_conv2d": call(IMAGE, [t("n", "h", "h", "c"), t("k", "k", "c", 2), v([1, 1, 1, 1]), v("SAME", "VALID")]),
    "tf.nn.conv2d_transpose": call(
        {"n": 1, "h": 3, "c": 2, "k": 2, "o": 3},
        [t("n", "h", "h", "c"), t("k", "k", "o", "c"), v([1, 6, 6, 3]), v(2)],
        {"padding": v("SAME")},
    ),
    "tf.nn.atrous_conv2d": call(IMAGE, [t("n", "h", "h", "c"), t("k", "k", "c", "o"), v(2), v("SAME", "VALID")]),
    "tf.nn.avg_pool2d": call(IMAGE, [t("n", "h", "h", "c"), v(2, 3), v(1, 2), v("VALID", "SAME")]),
    "tf.nn.max_pool2d": call(IMAGE, [t("n", "h", "h", "c"), v(2, 3), v(1, 2), v("VALID", "SAME")]),
    "tf.nn.avg_pool1d": call(IMAGE, [t("n", "h", "c"), v(2, 3), v(1, 2), v("VALID", "SAME")]),
    "tf.nn.max_pool1d": call(IMAGE, [t("n", "h", "c"), v(2, 3), v(1, 2), v("VALID", "SAME")]),
    "tf.nn.pool": call(IMAGE, [t("n", "h", "h", "c"), v([2, 2]), v("AVG", "MAX")], {"padding": v("VALID", "SAME")}),
    "tf.nn.separable_conv2d": call(
        IMAGE, [t("n", "h", "h", "c"), t("k", "k", "c", 2), t(1, 1, 4, "o"), v([1, 1, 1, 1]), v("VALID", "SAME")]
    ),
    "tf.nn.bias_add": call({"n": 2, "c": 3}, [t("n", "c"), t("c")]),
    "tf.nn.batch_normalization": call(
        {"n": 4, "c": 3}, [t("n", "c"), t("c"), t("c", domain="positive"), t("c"), t("c"), v(0.001)]
    ),
    "tf.nn.local_response_normalization": call(IMAGE, [t("n", "h", "h", "c")], {"depth_radius": v(1, 2)}),
    "tf.nn.softmax_cross_entropy_with_logits": call({"n": 2, "c": 4}, [t("n", "c", domain="unit"), t("n", "c")]),
    "tf.einsum": call({"n": 2, "k": 3, "m": 4}, [v("ij,jk->ik", "ij,jk->ki"), t("n", "k"), t("k", "m")]),
    "tf.image.resize": call(
        {"n": 1, "h": 4, "c": 2}, [t("n", "h", "h", "c"), v([6, 5], [2, 3])], {"method": v("bilinear", "bicubic", "area")}
    ),
    "tf.linalg.triangular_solve": call({"n": 3, "m": 2}, [t("n", "n"), t("n", "m")], {"lower": v(True, False)}),
}

# APIs whose arguments are related across parameters (sizes an output shape or a block size fixes,
# index tensors into the data, lists of tensors), which probing with independent tensors misses.
# A size another argument fixes is a number, not a symbol, so the decoder's size changes keep the call valid.
COMPLEX = ["complex128", "complex64"]
ROW = {"n": 2, "m": 3}
F32 = ["float32"]  # ops with float32 kernels only
ONES4, ONES5 = v([1, 1, 1, 1]), v([1, 1, 1, 1, 1])
BLOCK = {"c": 2}
NO_CROPS = v([[0, 0], [0, 0]], [[0, 1], [1, 0]])
SCATTER = call({"k": 3}, [t(4, 3), t("k", 1, dtype="int32", range=[0, 4]), t("k", 3)])


def kw(sizes: dict, dtypes: list[str] = REAL, **kwargs: dict) -> list[dict]:
    """A raw op's template: every argument by keyword."""
    return call(sizes, [], kwargs, dtypes)


def scatter(dtypes: list[str] = REAL) -> list[dict]:
    """A raw tensor scatter: updates at index rows of a fixed 4 x 3 tensor."""
    return kw({"k": 3}, dtypes, tensor=t(4, 3), indices=t("k", 1, dtype="int32", range=[0, 4]), updates=t("k", 3))


def part(name: str) -> list[dict]:
    """Real, Imag, Angle, ComplexAbs of a complex128 tensor with `Tout` float64 (their default `Tout`,
    float32, runs only on complex64, whose float64 numerical reference has the wrong output dtype)."""
    return call(ROW, [], {name: t("n", "m"), "Tout": v("float64")}, ["complex128"])


RELATED = {
    "tf.nn.avg_pool3d": call(IMAGE, [t("n", 4, 4, 4, "c"), v(2), v(1, 2), v("VALID", "SAME")], dtypes=F32),
    "tf.nn.max_pool3d": call(IMAGE, [t("n", 4, 4, 4, "c"), v(2), v(1, 2), v("VALID", "SAME")], dtypes=F32),
    "tf.nn.conv1d_transpose": call({}, [t(1, 3, 2), t(2, 3, 2), v([1, 6, 3]), v(2)], {"padding": v("SAME")}),
    "tf.nn.conv3d_transpose": call({}, [t(1, 3, 3, 3, 2), t(2, 2, 2, 1, 2), v([1, 6, 6, 6, 1]), v(2)], {"padding": v("SAME")}),
    "tf.nn.conv_transpose": call({}, [t(1, 3, 3, 2), t(2, 2, 3, 2), v([1, 6, 6, 3]), v(2)], {"padding": v("SAME")}),
    "tf.nn.atrous_conv2d_transpose": call({}, [t(1, 5, 5, 2), t(2, 2, 3, 2), v([1, 5, 5, 3]), v(2), v("SAME")]),
    "tf.nn.depth_to_space": call(IMAGE, [t("n", "h", "h", 4), v(2)]),
    "tf.nn.space_to_depth": call(BLOCK, [t(1, 4, 4, "c"), v(2)]),
    "tf.nn.space_to_batch": call(BLOCK, [t(1, 4, 4, "c"), v([2, 2]), NO_CROPS]),
    "tf.nn.dilation2d": call(IMAGE, [t("n", "h", "h", "c"), t(2, 2, "c"), ONES4, v("VALID", "SAME"), v("NHWC"), ONES4]),
    "tf.nn.erosion2d": call(IMAGE, [t("n", "h", "h", "c"), t(2, 2, "c"), ONES4, v("VALID", "SAME"), v("NHWC"), ONES4]),
    "tf.nn.depthwise_conv2d_backprop_filter": call({}, [t(1, 5, 5, 2), v([2, 2, 2, 1]), t(1, 4, 4, 2), ONES4, v("VALID")]),
    "tf.nn.depthwise_conv2d_backprop_input": call({}, [v([1, 5, 5, 2]), t(2, 2, 2, 1), t(1, 4, 4, 2), ONES4, v("VALID")]),
    "tf.compat.v1.nn.conv1d": call(IMAGE, [t("n", "h", "c"), t("k", "c", "o"), v(1, 2), v("SAME", "VALID")]),
    "tf.compat.v1.nn.conv2d": call(IMAGE, [t("n", "h", "h", "c"), t("k", "k", "c", "o"), ONES4, v("SAME", "VALID")]),
    "tf.compat.v1.nn.conv3d": call(
        {"n": 1, "h": 3, "c": 1, "k": 2, "o": 2},
        [t("n", "h", "h", "h", "c"), t("k", "k", "k", "c", "o"), ONES5, v("SAME", "VALID")],
    ),
    "tf.compat.v1.nn.conv2d_transpose": call({}, [t(1, 3, 3, 2), t(2, 2, 3, 2), v([1, 6, 6, 3]), v([1, 2, 2, 1])]),
    "tf.compat.v1.nn.conv3d_transpose": call({}, [t(1, 3, 3, 3, 2), t(2, 2, 2, 1, 2), v([1, 6, 6, 6, 1]), v([1, 2, 2, 2, 1])]),
    "tf.compat.v1.nn.conv2d_backprop_filter": call({}, [t(1, 5, 5, 2), v([2, 2, 2, 3]), t(1, 4, 4, 3), ONES4, v("VALID")]),
    "tf.compat.v1.nn.conv2d_backprop_input": call({}, [v([1, 5, 5, 2]), t(2, 2, 2, 3), t(1, 4, 4, 3), ONES4, v("VALID")]),
    "tf.compat.v1.nn.conv3d_backprop_filter": call(
        {}, [t(1, 3, 3, 3, 1), v([2, 2, 2, 1, 2]), t(1, 2, 2, 2, 2), ONES5, v("VALID")]
    ),
    "tf.compat.v1.nn.depth_to_space": call(IMAGE, [t("n", "h", "h", 4), v(2)]),
    "tf.compat.v1.nn.space_to_depth": call(BLOCK, [t(1, 4, 4, "c"), v(2)]),
    "tf.compat.v1.nn.dilation2d": call(IMAGE, [t("n", "h", "h", "c"), t(2, 2, "c"), ONES4, ONES4, v("VALID", "SAME")]),
    "tf.compat.v1.nn.erosion2d": call(IMAGE, [t("n", "h", "h", "c"), t(2, 2, "c"), ONES4, ONES4, v("VALID", "SAME")]),
    "tf.compat.v1.nn.pool": call(IMAGE, [t("n", "h", "h", "c"), v([2, 2]), v("AVG", "MAX"), v("VALID", "SAME")]),
    "tf.compat.v1.nn.relu_layer": call({"n": 2, "k": 3, "m": 4}, [t("n", "k"), t("k", "m"), t("m")]),
    "tf.compat.v1.nn.xw_plus_b": call({"n": 2, "k": 3, "m": 4}, [t("n", "k"), t("k", "m"), t("m")]),
    "tf.compat.v1.nn.separable_conv2d": call(
        IMAGE, [t("n", "h", "h", "c"), t("k", "k", "c", 2), t(1, 1, 4, "o"), ONES4, v("VALID", "SAME")]
    ),
    "tf.compat.v1.nn.sigmoid_cross_entropy_with_logits": call(
        ROW, [], {"labels": t("n", "m", domain="unit-interval"), "logits": t("n", "m")}
    ),
    "tf.compat.v1.nn.weighted_cross_entropy_with_logits": call(
        ROW, [t("n", "m", domain="unit-interval"), t("n", "m"), v(2.0, 0.5)]
    ),
    "tf.compat.v1.nn.softmax_cross_entropy_with_logits": call(
        {"n": 2, "c": 4}, [], {"labels": t("n", "c", domain="unit-interval"), "logits": t("n", "c")}
    ),
    "tf.compat.v1.nn.fused_batch_norm": call(
        {"n": 2, "h": 3, "c": 2}, [t("n", "h", "h", "c"), t("c"), t("c")], {"is_training": v(True)}, ["float32"]
    ),
    "tf.compat.v1.batch_to_space": call(BLOCK, [t(4, 2, 2, "c"), NO_CROPS, v(2)]),
    "tf.compat.v1.batch_to_space_nd": call(BLOCK, [t(4, 2, 2, "c"), v([2, 2]), NO_CROPS]),
    "tf.compat.v1.space_to_batch": call(BLOCK, [t(1, 4, 4, "c"), NO_CROPS, v(2)]),
    "tf.compat.v1.depth_to_space": call(IMAGE, [t("n", "h", "h", 4), v(2)]),
    "tf.compat.v1.space_to_depth": call(BLOCK, [t(1, 4, 4, "c"), v(2)]),
    "tf.compat.v1.expand_dims": call(ROW, [t("n", "m"), v(0, 1, -1)]),
    "tf.compat.v1.check_numerics": call(ROW, [t("n", "m"), v("checked")]),
    "tf.compat.v1.verify_tensor_all_finite": call(ROW, [t("n", "m"), v("checked")]),
    "tf.compat.v1.extract_image_patches": call(IMAGE, [t("n", "h", "h", "c"), v([1, 2, 2, 1]), ONES4, ONES4, v("VALID", "SAME")]),
    "tf.compat.v1.reverse_sequence": call(
        {"b": 2, "c": 3}, [t("b", 4, "c"), t("b", dtype="int64", range=[0, 5])], {"seq_axis": v(1), "batch_axis": v(0)}
    ),
    "tf.compat.v1.image.resize_bilinear": call({"n": 1, "h": 4, "c": 2}, [t("n", "h", "h", "c"), v([6, 5], [2, 3])]),
    "tf.compat.v1.image.resize_bicubic": call({"n": 1, "h": 4, "c": 2}, [t("n", "h", "h", "c"), v([6, 5], [2, 3])]),
    "tf.compat.v1.image.resize_area": call({"n": 1, "h": 4, "c": 2}, [t("n", "h", "h", "c"), v([6, 5], [2, 3])]),
    "tf.compat.v1.image.resize_nearest_neighbor": call({"n": 1, "h": 4, "c": 2}, [t("n", "h", "h", "c"), v([6, 5], [2, 3])]),
    "tf.compat.v1.image.resize": call({"n": 1, "h": 4, "c": 2}, [t("n", "h", "h", "c"), v([6, 5], [2, 3]), v(0, 1, 2)]),
    "tf.compat.v1.image.crop_and_resize": call(
        {"b": 2}, [t(1, 4, 4, 2), t("b", 4, domain="unit-interval"), t("b", dtype="int32", range=[0, 1]), v([3, 3])], dtypes=F32
    ),
    "tf.compat.v1.image.extract_image_patches": call(
        IMAGE, [t("n", "h", "h", "c"), v([1, 2, 2, 1]), ONES4, ONES4, v("VALID", "SAME")]
    ),
    "tf.compat.v1.image.extract_patches": call(IMAGE, [t("n", "h", "h", "c"), v([1, 2, 2, 1]), ONES4, ONES4, v("VALID", "SAME")]),
    "tf.compat.v1.image.resize_image_with_pad": call({"h": 4, "c": 2}, [t("h", "h", "c"), v(6), v(5)]),
    "tf.image.extract_patches": call(IMAGE, [t("n", "h", "h", "c"), v([1, 2, 2, 1]), ONES4, ONES4, v("VALID", "SAME")]),
    "tf.image.resize_with_pad": call({"h": 4, "c": 2}, [t("h", "h", "c"), v(6), v(5)], {"method": v("bilinear", "bicubic")}),
    "tf.image.ssim": call(
        {"n": 1, "h": 5, "c": 2},
        [t("n", "h", "h", "c", domain="unit-interval"), t("n", "h", "h", "c", domain="unit-interval"), v(1.0)],
        {"filter_size": v(3)},
    ),
    "tf.linalg.band_part": call(ROW, [t("n", "m"), v(1, 0, -1), v(0, 1, -1)]),
    "tf.linalg.tensordot": call({"n": 2, "k": 3, "m": 4}, [t("n", "k"), t("k", "m"), v(1)]),
    "tf.linalg.lu_reconstruct": call({}, [t(3, 3), v([2, 0, 1], [0, 1, 2])]),
    "tf.linalg.lu_matrix_inverse": call({}, [t(3, 3), v([2, 0, 1], [0, 1, 2])]),
    "tf.linalg.lu_solve": call({"m": 2}, [t(3, 3), v([2, 0, 1], [0, 1, 2]), t(3, "m")]),
    "tf.signal.fft3d": call({"a": 2, "b": 3, "c": 4}, [t("a", "b", "c")], dtypes=COMPLEX),
    "tf.signal.ifft3d": call({"a": 2, "b": 3, "c": 4}, [t("a", "b", "c")], dtypes=COMPLEX),
    "tf.signal.irfft3d": call({"a": 2, "b": 3, "c": 4}, [t("a", "b", "c")], dtypes=COMPLEX),
    "tf.signal.stft": call({"n": 2}, [t("n", 16), v(8), v(4)]),
    "tf.signal.inverse_stft": call({}, [t(3, 5), v(8), v(4)], dtypes=COMPLEX),
    "tf.signal.mdct": call({"n": 2}, [t("n", 16), v(8)], dtypes=["float32", "float64"]),
    "tf.signal.overlap_and_add": call({"f": 3}, [t("f", 4), v(2, 1, 4)]),
    "tf.batch_to_space": call(BLOCK, [t(4, 2, 2, "c"), v([2, 2]), NO_CROPS]),
    "tf.space_to_batch_nd": call(BLOCK, [t(1, 4, 4, "c"), v([2, 2]), NO_CROPS]),
    "tf.dynamic_partition": call(ROW, [t("n", "m"), t("n", dtype="int32", range=[0, 2]), v(2)]),
    "tf.extract_volume_patches": call(
        {"n": 1, "h": 3, "c": 2}, [t("n", "h", "h", "h", "c"), v([1, 2, 2, 2, 1]), ONES5, v("VALID", "SAME")]
    ),
    "tf.scatter_nd": call({"k": 3}, [t("k", 1, dtype="int32", range=[0, 4]), t("k", 3), v([4, 3])]),
    "tf.slice": call({}, [t(4, 3), v([1, 0], [0, 1]), v([2, 3], [3, 2])]),
    "tf.strided_slice": call({}, [t(4, 3), v([0, 0]), v([4, 3]), v([2, 1], [1, 2])]),
    "tf.tensor_scatter_nd_add": SCATTER,
    "tf.tensor_scatter_nd_sub": SCATTER,
    "tf.tensor_scatter_nd_min": SCATTER,
    "tf.tensor_scatter_nd_max": SCATTER,
    "tf.saturate_cast": call(ROW, [t("n", "m"), v("float64", "float32")]),
    "tf.experimental.numpy.broadcast_to": call({}, [t(3), v([2, 3])]),
    "tf.experimental.numpy.einsum": call({"n": 2, "k": 3, "m": 4}, [v("ij,jk->ik", "ij,jk->ki"), t("n", "k"), t("k", "m")]),
    "tf.experimental.numpy.moveaxis": call({"a": 2, "b": 3, "c": 4}, [t("a", "b", "c"), v(0, 1), v(-1, 0)]),
    "tf.experimental.numpy.swapaxes": call({"a": 2, "b": 3, "c": 4}, [t("a", "b", "c"), v(0, 1), v(2, -1)]),
    "tf.experimental.numpy.pad": call(ROW, [t("n", "m"), v([[1, 1], [0, 2]], 1)], {"mode": v("constant")}),
    "tf.experimental.numpy.reshape": call({}, [t(2, 3), v([3, 2], [6], [-1])]),
    "tf.raw_ops.Real": part("input"),
    "tf.raw_ops.Imag": part("input"),
    "tf.raw_ops.Angle": part("input"),
    "tf.raw_ops.ComplexAbs": part("x"),
    "tf.raw_ops.Complex": call(ROW, [], {"real": t("n", "m"), "imag": t("n", "m"), "Tout": v("complex128")}, ["float64"]),
    "tf.raw_ops.AvgPool3D": kw(
        IMAGE, F32, input=t("n", 4, 4, 4, "c"), ksize=v([1, 2, 2, 2, 1]), strides=ONES5, padding=v("VALID", "SAME")
    ),
    "tf.raw_ops.MaxPool3D": kw(
        IMAGE, F32, input=t("n", 4, 4, 4, "c"), ksize=v([1, 2, 2, 2, 1]), strides=ONES5, padding=v("VALID", "SAME")
    ),
    "tf.raw_ops.BatchToSpace": kw(BLOCK, input=t(4, 2, 2, "c"), crops=NO_CROPS, block_size=v(2)),
    "tf.raw_ops.BatchToSpaceND": kw(BLOCK, input=t(4, 2, 2, "c"), block_shape=v([2, 2]), crops=NO_CROPS),
    "tf.raw_ops.SpaceToBatch": kw(BLOCK, input=t(1, 4, 4, "c"), paddings=NO_CROPS, block_size=v(2)),
    "tf.raw_ops.SpaceToBatchND": kw(BLOCK, input=t(1, 4, 4, "c"), block_shape=v([2, 2]), paddings=NO_CROPS),
    "tf.raw_ops.DepthToSpace": kw(IMAGE, input=t("n", "h", "h", 4), block_size=v(2)),
    "tf.raw_ops.SpaceToDepth": kw(BLOCK, input=t(1, 4, 4, "c"), block_size=v(2)),
    "tf.raw_ops.BroadcastTo": kw({}, input=t(3), shape=v([2, 3])),
    "tf.raw_ops.Conv2DBackpropFilter": kw(
        {}, input=t(1, 5, 5, 2), filter_sizes=v([2, 2, 2, 3]), out_backprop=t(1, 4, 4, 3), strides=ONES4, padding=v("VALID")
    ),
    "tf.raw_ops.Conv2DBackpropInput": kw(
        {}, input_sizes=v([1, 5, 5, 2]), filter=t(2, 2, 2, 3), out_backprop=t(1, 4, 4, 3), strides=ONES4, padding=v("VALID")
    ),
    "tf.raw_ops.Conv3DBackpropFilterV2": kw(
        {},
        input=t(1, 3, 3, 3, 1),
        filter_sizes=v([2, 2, 2, 1, 2]),
        out_backprop=t(1, 2, 2, 2, 2),
        strides=ONES5,
        padding=v("VALID"),
    ),
    "tf.raw_ops.Conv3DBackpropInputV2": kw(
        {},
        input_sizes=v([1, 3, 3, 3, 1]),
        filter=t(2, 2, 2, 1, 2),
        out_backprop=t(1, 2, 2, 2, 2),
        strides=ONES5,
        padding=v("VALID"),
    ),
    "tf.raw_ops.DepthwiseConv2dNativeBackpropFilter": kw(
        {}, input=t(1, 5, 5, 2), filter_sizes=v([2, 2, 2, 1]), out_backprop=t(1, 4, 4, 2), strides=ONES4, padding=v("VALID")
    ),
    "tf.raw_ops.DepthwiseConv2dNativeBackpropInput": kw(
        {}, input_sizes=v([1, 5, 5, 2]), filter=t(2, 2, 2, 1), out_backprop=t(1, 4, 4, 2), strides=ONES4, padding=v("VALID")
    ),
    "tf.raw_ops.CropAndResize": kw(
        {"b": 2},
        F32,
        image=t(1, 4, 4, 2),
        boxes=t("b", 4, domain="unit-interval"),
        box_ind=t("b", dtype="int32", range=[0, 1]),
        crop_size=v([3, 3]),
    ),
    "tf.raw_ops.Dilation2D": kw(
        IMAGE, input=t("n", "h", "h", "c"), filter=t(2, 2, "c"), strides=ONES4, rates=ONES4, padding=v("VALID", "SAME")
    ),
    "tf.raw_ops.FFT3D": kw({"a": 2, "b": 3, "c": 4}, COMPLEX, input=t("a", "b", "c")),
    "tf.raw_ops.IFFT3D": kw({"a": 2, "b": 3, "c": 4}, COMPLEX, input=t("a", "b", "c")),
    "tf.raw_ops.RFFT": kw({"n": 2}, F32, input=t("n", 6), fft_length=v([6], [4])),
    "tf.raw_ops.RFFT2D": kw({"n": 2}, F32, input=t("n", 4, 6), fft_length=v([4, 6])),
    "tf.raw_ops.IRFFT": kw({"n": 2}, ["complex64"], input=t("n", 4), fft_length=v([6])),
    "tf.raw_ops.IRFFT2D": kw({"n": 2}, ["complex64"], input=t("n", 4, 4), fft_length=v([4, 6])),
    "tf.raw_ops.LRN": kw(IMAGE, ["float32"], input=t("n", "h", "h", "c"), depth_radius=v(1, 2)),
    "tf.raw_ops.MatrixDiagV2": kw(ROW, diagonal=t("n", "m"), k=v(0, 1), num_rows=v(-1), num_cols=v(-1), padding_value=v(0.0)),
    "tf.raw_ops.MatrixDiagV3": kw(
        ROW, diagonal=t("n", "m"), k=v(0, 1), num_rows=v(-1), num_cols=v(-1), padding_value=v(0.0), align=v("RIGHT_LEFT")
    ),
    "tf.raw_ops.MatrixSetDiagV2": kw({"n": 3}, input=t("n", "n"), diagonal=t("n"), k=v(0)),
    "tf.raw_ops.MatrixSetDiagV3": kw({"n": 3}, input=t("n", "n"), diagonal=t("n"), k=v(0), align=v("RIGHT_LEFT")),
    "tf.raw_ops.MatrixSolveLs": kw({"m": 2}, matrix=t(4, 3), rhs=t(4, "m"), l2_regularizer=v(0.0, 0.5)),
    "tf.raw_ops.ResizeBilinear": kw({"n": 1, "h": 4, "c": 2}, images=t("n", "h", "h", "c"), size=v([6, 5], [2, 3])),
    "tf.raw_ops.ResizeBicubic": kw({"n": 1, "h": 4, "c": 2}, images=t("n", "h", "h", "c"), size=v([6, 5], [2, 3])),
    "tf.raw_ops.ResizeNearestNeighbor": kw({"n": 1, "h": 4, "c": 2}, images=t("n", "h", "h", "c"), size=v([6, 5], [2, 3])),
    "tf.raw_ops.Reverse": call(ROW, [], {"tensor": t("n", "m"), "dims": v([True, False], [False, True], [True, True])}),
    "tf.raw_ops.ReverseSequence": kw(
        {"b": 2, "c": 3}, input=t("b", 4, "c"), seq_lengths=t("b", dtype="int64", range=[0, 5]), seq_dim=v(1), batch_dim=v(0)
    ),
    "tf.raw_ops.ScatterNd": kw({"k": 3}, indices=t("k", 1, dtype="int32", range=[0, 4]), updates=t("k", 3), shape=v([4, 3])),
    "tf.raw_ops.Slice": kw({}, input=t(4, 3), begin=v([1, 0], [0, 1]), size=v([2, 3], [3, 2])),
    "tf.raw_ops.StridedSlice": kw({}, input=t(4, 3), begin=v([0, 0]), end=v([4, 3]), strides=v([2, 1], [1, 2])),
    "tf.raw_ops.SplitV": kw({}, value=t(4, 3), size_splits=v([1, 3], [2, 2]), axis=v(0), num_split=v(2)),
    "tf.raw_ops.TensorScatterAdd": scatter(),
    "tf.raw_ops.TensorScatterSub": scatter(),
    "tf.raw_ops.TensorScatterMin": scatter(),
    "tf.raw_ops.TensorScatterMax": scatter(),
    "tf.raw_ops.TensorScatterUpdate": scatter(),
    "tf.raw_ops.TridiagonalMatMul": kw(
        {"m": 3, "k": 2}, superdiag=t(1, "m"), maindiag=t(1, "m"), subdiag=t(1, "m"), rhs=t("m", "k")
    ),
    "tf.raw_ops.AvgPoolGrad": kw(
        {},
        orig_input_shape=v([1, 4, 4, 2]),
        grad=t(1, 2, 2, 2),
        ksize=v([1, 2, 2, 1]),
        strides=v([1, 2, 2, 1]),
        padding=v("VALID"),
    ),
    "tf.raw_ops.FusedBatchNormV3": kw(
        {"n": 2, "h": 3, "c": 2},
        ["float32"],
        x=t("n", "h", "h", "c"),
        scale=t("c"),
        offset=t("c"),
        mean=t("c"),
        variance=t("c", domain="positive"),
        is_training=v(False),
    ),
}
APIS |= RELATED
