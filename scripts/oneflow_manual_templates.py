"""Hand-written OneFlow templates: the catalog generator's first source ("manual").

`MODULES`: `oneflow.nn` modules written before PyTorch's templates covered modules (the other
modules take `torch.nn.X`'s templates, see gen_oneflow_catalog.torch_name). A module API is called
as `module_call(oneflow.nn.X)(*inputs, **options)`: keyword arguments construct the module (seeded,
cast to the inputs' dtype), positional arguments are its inputs; gradients are taken with respect to
the inputs (the module's weights are fixed by the seed). `FUNCTIONS`: APIs whose OneFlow signature
differs from PyTorch's (required arguments PyTorch defaults, another argument order) or whose
arguments are related across parameters, which neither PyTorch's templates nor probing call.
"""

from nabla_atheris.catalog.spec import REAL, call, t, v

ROW = {"n": 2, "m": 3}
IMAGE = {"n": 1, "c": 2, "h": 5}
SEQUENCE = {"n": 1, "c": 2, "l": 6}
VOLUME = {"n": 1, "c": 1, "h": 4}


def activation(**options):
    return call(ROW, [t("n", "m")], options or None, REAL)


def image(module_options, dims=IMAGE):
    return call(dims, [t("n", "c", "h", "h")], module_options, REAL)


def sequence(module_options):
    return call(SEQUENCE, [t("n", "c", "l")], module_options, REAL)


def volume(module_options):
    return call(VOLUME, [t("n", "c", "h", "h", "h")], module_options, REAL)


def loss(*extra, **options):
    return call(ROW, [t("n", "m"), t("n", "m", *extra)], {"reduction": v("mean", "sum", "none"), **options}, REAL)


TRANSPOSED = {"in_channels": v(2), "out_channels": v(3), "kernel_size": v(2, 3), "stride": v(1, 2)}

MODULES = {
    "oneflow.nn.ReLU": activation(),
    "oneflow.nn.ReLU6": activation(),
    "oneflow.nn.ELU": activation(alpha=v(1.0, 0.5, 2.0)),
    "oneflow.nn.CELU": activation(alpha=v(1.0, 0.5, 2.0)),
    "oneflow.nn.SELU": activation(),
    "oneflow.nn.GELU": activation(),
    "oneflow.nn.QuickGELU": activation(),
    "oneflow.nn.GLU": call({"n": 2, "m": 4}, [t("n", "m")], {"dim": v(-1, 0)}, REAL),
    "oneflow.nn.Hardshrink": activation(lambd=v(0.5, 0.1)),
    "oneflow.nn.Hardsigmoid": activation(),
    "oneflow.nn.Hardswish": activation(),
    "oneflow.nn.Hardtanh": activation(min_val=v(-1.0, -0.5), max_val=v(1.0, 0.5)),
    "oneflow.nn.LeakyReLU": activation(negative_slope=v(0.01, 0.2, -0.5)),
    "oneflow.nn.LogSigmoid": activation(),
    "oneflow.nn.LogSoftmax": activation(dim=v(1, 0)),
    "oneflow.nn.Softmax": activation(dim=v(1, 0)),
    "oneflow.nn.Mish": activation(),
    "oneflow.nn.PReLU": activation(),
    "oneflow.nn.SiLU": activation(),
    "oneflow.nn.Sigmoid": activation(),
    "oneflow.nn.Softplus": activation(beta=v(1.0, 2.0, 0.5), threshold=v(20.0, 1.0)),
    "oneflow.nn.Softshrink": activation(lambd=v(0.5, 0.1)),
    "oneflow.nn.Softsign": activation(),
    "oneflow.nn.Tanh": activation(),
    "oneflow.nn.Threshold": activation(threshold=v(0.1, 0.5), value=v(20.0, -1.0)),
    "oneflow.nn.Identity": activation(),
    "oneflow.nn.Flatten": image({"start_dim": v(1, 0, 2)}),
    "oneflow.nn.Linear": call({"n": 2, "i": 3, "o": 4}, [t("n", "i")], {"in_features": v(3), "out_features": v(4)}, REAL),
    "oneflow.nn.Conv1d": sequence({"in_channels": v(2), "out_channels": v(3), "kernel_size": v(2, 3), "stride": v(1, 2)}),
    "oneflow.nn.Conv2d": image({"in_channels": v(2), "out_channels": v(3), "kernel_size": v(2, 3), "padding": v(0, 1)}),
    "oneflow.nn.Conv3d": volume({"in_channels": v(1), "out_channels": v(2), "kernel_size": v(2)}),
    "oneflow.nn.ConvTranspose1d": sequence(TRANSPOSED),
    "oneflow.nn.ConvTranspose2d": image(TRANSPOSED),
    "oneflow.nn.BatchNorm1d": call({"n": 4, "c": 3}, [t("n", "c")], {"num_features": v(3)}, REAL),
    "oneflow.nn.BatchNorm2d": image({"num_features": v(2)}, {"n": 2, "c": 2, "h": 3}),
    "oneflow.nn.InstanceNorm1d": sequence({"num_features": v(2), "affine": v(False, True)}),
    "oneflow.nn.InstanceNorm2d": image({"num_features": v(2), "affine": v(False, True)}),
    "oneflow.nn.LayerNorm": call({"n": 2, "m": 4}, [t("n", "m")], {"normalized_shape": v(4), "eps": v(1e-5, 1e-3)}, REAL),
    "oneflow.nn.GroupNorm": image({"num_groups": v(2, 1), "num_channels": v(2)}, {"n": 1, "c": 2, "h": 3}),
    "oneflow.nn.AvgPool1d": sequence({"kernel_size": v(2, 3), "stride": v(1, 2)}),
    "oneflow.nn.AvgPool2d": image({"kernel_size": v(2, 3), "stride": v(1, 2)}),
    "oneflow.nn.AvgPool3d": volume({"kernel_size": v(2)}),
    "oneflow.nn.MaxPool1d": sequence({"kernel_size": v(2, 3), "stride": v(1, 2)}),
    "oneflow.nn.MaxPool2d": image({"kernel_size": v(2, 3), "stride": v(1, 2)}),
    "oneflow.nn.MaxPool3d": volume({"kernel_size": v(2)}),
    "oneflow.nn.AdaptiveAvgPool1d": sequence({"output_size": v(3, 1, 2)}),
    "oneflow.nn.AdaptiveAvgPool2d": image({"output_size": v(3, 1, 2)}),
    "oneflow.nn.AdaptiveAvgPool3d": volume({"output_size": v(2, 1)}),
    "oneflow.nn.AdaptiveMaxPool1d": sequence({"output_size": v(3, 1, 2)}),
    "oneflow.nn.AdaptiveMaxPool2d": image({"output_size": v(3, 1, 2)}),
    "oneflow.nn.ConstantPad1d": sequence({"padding": v(1, 2), "value": v(0.5, 0.0)}),
    "oneflow.nn.ConstantPad2d": image({"padding": v(1, 2), "value": v(0.5, 0.0)}),
    "oneflow.nn.ReflectionPad1d": sequence({"padding": v(1, 2)}),
    "oneflow.nn.ReflectionPad2d": image({"padding": v(1, 2)}),
    "oneflow.nn.ReplicationPad1d": sequence({"padding": v(1, 2)}),
    "oneflow.nn.ReplicationPad2d": image({"padding": v(1, 2)}),
    "oneflow.nn.ZeroPad2d": image({"padding": v(1, 2)}),
    "oneflow.nn.PixelShuffle": call({"n": 1, "c": 4, "h": 3}, [t("n", "c", "h", "h")], {"upscale_factor": v(2)}, REAL),
    "oneflow.nn.Upsample": image({"scale_factor": v(2.0, 1.5), "mode": v("nearest", "bilinear", "bicubic")}),
    "oneflow.nn.UpsamplingNearest2d": image({"scale_factor": v(2.0, 3.0)}),
    "oneflow.nn.UpsamplingBilinear2d": image({"scale_factor": v(2.0, 3.0)}),
    "oneflow.nn.Unfold": image({"kernel_size": v(2, 3), "stride": v(1, 2)}),
    "oneflow.nn.L1Loss": loss(),
    "oneflow.nn.MSELoss": loss(),
    "oneflow.nn.SmoothL1Loss": loss(beta=v(1.0, 0.5)),
    "oneflow.nn.BCEWithLogitsLoss": loss(),
    "oneflow.nn.KLDivLoss": loss(log_target=v(False, True)),
    "oneflow.nn.CrossEntropyLoss": call(
        {"n": 3, "c": 4}, [t("n", "c"), t("n", dtype="int64", range=[0, 4])], {"reduction": v("mean", "sum", "none")}, REAL
    ),
    "oneflow.nn.NLLLoss": call(
        {"n": 3, "c": 4}, [t("n", "c"), t("n", dtype="int64", range=[0, 4])], {"reduction": v("mean", "sum", "none")}, REAL
    ),
    "oneflow.nn.MarginRankingLoss": call(
        {"n": 4}, [t("n"), t("n"), t("n")], {"margin": v(0.0, 0.5), "reduction": v("mean", "sum", "none")}, REAL
    ),
    "oneflow.nn.TripletMarginLoss": call(
        {"n": 2, "m": 3}, [t("n", "m"), t("n", "m"), t("n", "m")], {"margin": v(1.0, 0.5), "p": v(2.0, 1.0)}, REAL
    ),
    "oneflow.nn.CosineSimilarity": call(ROW, [t("n", "m"), t("n", "m")], {"dim": v(1, 0)}, REAL),
    "oneflow.nn.PairwiseDistance": call(ROW, [t("n", "m"), t("n", "m")], {"p": v(2.0, 1.0, 3.0)}, REAL),
    "oneflow.nn.RNN": call(
        {"l": 3, "n": 2, "i": 3}, [t("l", "n", "i")], {"input_size": v(3), "hidden_size": v(4), "num_layers": v(1, 2)}, REAL
    ),
    "oneflow.nn.GRU": call(
        {"l": 3, "n": 2, "i": 3}, [t("l", "n", "i")], {"input_size": v(3), "hidden_size": v(4), "num_layers": v(1, 2)}, REAL
    ),
    "oneflow.nn.LSTM": call(
        {"l": 3, "n": 2, "i": 3}, [t("l", "n", "i")], {"input_size": v(3), "hidden_size": v(4), "num_layers": v(1, 2)}, REAL
    ),
}

MODULES |= {
    "oneflow.nn.RMSLayerNorm": call({"n": 2}, [t("n", 4)], {"hidden_size": v(4), "eps": v(1e-6, 1e-3)}, REAL),
    # without a state its forward fails (`input.is_global()` of a property, OneFlow 0.9.0)
    "oneflow.nn.LSTMCell": call(
        {"n": 2}, [t("n", 3), {"tensors": [t("n", 4), t("n", 4)]}], {"input_size": v(3), "hidden_size": v(4)}, REAL
    ),
    "oneflow.nn.FusedBatchNorm1d": call({"n": 4, "c": 3}, [t("n", 3)], {"num_features": v(3)}, REAL),
    "oneflow.nn.FusedBatchNorm2d": image({"num_features": v(2)}, {"n": 2, "c": 2, "h": 3}),
    "oneflow.nn.FusedBatchNorm3d": call({"n": 2, "h": 3}, [t("n", 2, "h", "h", "h")], {"num_features": v(2)}, REAL),
    # cosines (the margins act through arccos) and class labels
    "oneflow.nn.CombinedMarginLoss": call(
        {"n": 3},
        [t("n", 4, domain="unit"), t("n", dtype="int64", range=[0, 4])],
        {"m1": v(1.0, 0.9), "m2": v(0.0, 0.5), "m3": v(0.0, 0.2)},
        REAL,
    ),
}

REDUCTION = v("mean", "sum", "none")
FUNCTIONS = {
    "oneflow.nn.functional.smooth_l1_loss": loss(beta=v(1.0, 0.5)),
    "oneflow.nn.functional.triplet_margin_loss": call(
        ROW,
        [t("n", "m"), t("n", "m"), t("n", "m")],
        {"margin": v(1.0, 0.5), "p": v(2.0, 1.0), "eps": v(1e-6), "swap": v(False, True), "reduction": REDUCTION},
        REAL,
    ),
    "oneflow.quantile": call(
        {"n": 3, "m": 4}, [t("n", "m"), v(0.5, 0.25, 0.9)], {"dim": v(1, 0), "keepdim": v(False, True)}, REAL
    ),
    "oneflow.repeat": call(ROW, [t("n", "m"), v([2, 2], [1, 3])], None, REAL),
    "oneflow.threshold": call(ROW, [t("n", "m")], {"threshold": v(0.1, 0.5), "value": v(2.0, -1.0)}, REAL),
    "oneflow.Tensor.softplus": call(ROW, [t("n", "m"), v(1.0, 2.0, 0.5), v(20.0, 1.0)], None, REAL),
    "oneflow.Tensor.where": call(ROW, [t("n", "m", dtype="bool"), t("n", "m"), t("n", "m")], None, REAL),  # self: the condition
    "oneflow.pad": call(ROW, [t("n", "m"), v([1, 1], [1, 0], [0, 2])], {"mode": v("constant", "replicate")}, REAL),
    "oneflow.adaptive_avg_pool1d": call(SEQUENCE, [t("n", "c", "l"), v(3, 1, 2)], None, REAL),
    "oneflow.nn.functional.adaptive_max_pool1d": call(SEQUENCE, [t("n", "c", "l"), v(3, 1, 2)], None, REAL),
    "oneflow.nn.functional.adaptive_max_pool2d": call(IMAGE, [t("n", "c", "h", "h"), v(3, 1, 2)], None, REAL),
    "oneflow.nn.functional.adaptive_max_pool3d": call(VOLUME, [t("n", "c", "h", "h", "h"), v(2, 1)], None, REAL),
    "oneflow.Tensor.topk": call({"n": 3, "m": 4}, [t("n", "m"), v(2, 1)], {"dim": v(1, 0), "largest": v(True, False)}, REAL),
    # a fixed number of rows (3) that the two indices stay within
    "oneflow.index_add": call(
        {"m": 4}, [t(3, "m"), v(0), t(2, dtype="int64", range=[0, 3]), t(2, "m")], {"alpha": v(1.0, 2.0)}, REAL
    ),
    "oneflow.Tensor.index_add": call({"m": 4}, [t(3, "m"), v(0), t(2, dtype="int64", range=[0, 3]), t(2, "m")], None, REAL),
    "oneflow.stft": call({"l": 16}, [t("l"), v(4, 8)], {"return_complex": v(False)}, REAL),
    "oneflow.nn.functional.conv3d": call(
        {"n": 1, "h": 4}, [t("n", 2, "h", "h", "h"), t(3, 2, 2, 2, 2), t(3)], {"stride": v(1, 2), "padding": v(0, 1)}, REAL
    ),
    # offset: 2 * kernel height * kernel width channels over the output's (3, 3) positions
    "oneflow.nn.functional.deform_conv2d": call({}, [t(1, 2, 4, 4), t(1, 8, 3, 3), t(3, 2, 2, 2), t(3)], None, REAL),
}

APIS = {**MODULES, **FUNCTIONS}
