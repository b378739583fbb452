"""Hand-written TensorFlow templates: the catalog generator's first source ("manual").

Convolutions, pooling and other APIs whose required arguments are layouts, strides or shapes,
which neither docstring examples nor signature probing produce.
"""

from nabla_atheris.catalog.spec import call, t, v

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
