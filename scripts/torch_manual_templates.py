"""Hand-written PyTorch templates: the catalog generator's first source ("manual").

The starter catalog's APIs, with domains, dtypes and attribute choices picked by hand; they keep
template index 0 of their APIs, so corpora written before the catalog was generated keep their calls.
Then `MODULES`, the `torch.nn` module classes, called as `module_call(torch.nn.X)(*inputs, **options)`
(see torch_modes.module_call): keyword arguments construct the module (seeded, in the inputs' dtype,
in evaluation mode), positional arguments are its inputs, and derivatives are taken of the inputs. A
size the constructor fixes (`in_features`, `num_features` ...) is a number in the input's shape, not a
symbol, so the decoder's changes of sizes keep the call valid. Last, `RELATED`: functions whose
arguments need related shapes (weights of a cell, lengths of a sequence) that probing does not find.
"""

from nabla_atheris.catalog.spec import ALL, REAL, call, t, v


def unary(dtypes=ALL, domain=None):
    slot = t("n", "m", domain=domain) if domain else t("n", "m")
    return [{"dims": {"n": 2, "m": 3}, "dtypes": dtypes, "args": [slot]}]


def binary(dtypes=ALL):
    return [
        {"dims": {"n": 2, "m": 3}, "dtypes": dtypes, "args": [t("n", "m"), t("n", "m")]},
        {"dims": {"n": 2, "m": 3}, "dtypes": dtypes, "args": [t("n", "m"), t("m")]},
    ]


def reduction(dtypes=REAL, keepdim=True):
    kwargs = {"dim": v(1, 0, -1, [0, 1])}
    if keepdim:
        kwargs["keepdim"] = v(False, True)
    return [{"dims": {"n": 3, "m": 4}, "dtypes": dtypes, "args": [t("n", "m")], "kwargs": kwargs}]


APIS = {
    # elementwise
    "torch.sin": unary(),
    "torch.exp": unary(),
    "torch.tanh": unary(),
    "torch.sigmoid": unary(),
    "torch.log": unary(REAL + ["complex128"], "positive"),
    "torch.sqrt": unary(REAL + ["complex128"], "positive"),
    "torch.asin": unary(REAL, "unit"),
    "torch.abs": unary(),
    "torch.floor": unary(REAL),
    "torch.special.erf": unary(REAL),
    "torch.special.xlogy": binary(REAL),
    "torch.nn.functional.relu": unary(REAL),
    "torch.nn.functional.gelu": [
        {"dims": {"n": 2, "m": 3}, "dtypes": REAL, "args": [t("n", "m")], "kwargs": {"approximate": v("none", "tanh")}}
    ],
    "torch.nn.functional.softplus": [
        {"dims": {"n": 2, "m": 3}, "dtypes": REAL, "args": [t("n", "m")], "kwargs": {"beta": v(1.0), "threshold": v(20.0)}}
    ],
    "torch.mul": binary(),
    "torch.div": binary(),
    "torch.pow": [
        {"dims": {"n": 2, "m": 3}, "dtypes": REAL, "args": [t("n", "m", domain="positive"), t("n", "m")]},
        {"dims": {"n": 2, "m": 3}, "dtypes": ALL, "args": [t("n", "m"), v(2.0, 3.0, 0.5, -1.0)]},
    ],
    "torch.atan2": binary(REAL),
    "torch.where": [{"dims": {"n": 2, "m": 3}, "dtypes": ALL, "args": [t("n", "m", dtype="bool"), t("n", "m"), t("n", "m")]}],
    "torch.clamp": [
        {"dims": {"n": 2, "m": 3}, "dtypes": REAL, "args": [t("n", "m")], "kwargs": {"min": v(-0.5, 0.0), "max": v(0.5, 1.0)}}
    ],
    # reductions
    "torch.sum": reduction(ALL),
    "torch.prod": [{"dims": {"n": 3, "m": 4}, "dtypes": ALL, "args": [t("n", "m"), v(1, 0)]}],
    "torch.amax": reduction(),
    "torch.logsumexp": reduction(),
    "torch.std": [
        {"dims": {"n": 3, "m": 4}, "dtypes": REAL, "args": [t("n", "m")], "kwargs": {"dim": v(1, 0), "correction": v(1, 0)}}
    ],
    "torch.norm": [
        {"dims": {"n": 3, "m": 4}, "dtypes": REAL + ["complex128"], "args": [t("n", "m")], "kwargs": {"p": v(2, 1, "fro", 3)}}
    ],
    "torch.cumsum": [{"dims": {"n": 3, "m": 4}, "dtypes": ALL, "args": [t("n", "m")], "kwargs": {"dim": v(1, 0)}}],
    "torch.cumprod": [
        {"dims": {"n": 3, "m": 4}, "dtypes": REAL + ["complex128"], "args": [t("n", "m")], "kwargs": {"dim": v(1, 0)}}
    ],
    "torch.nn.functional.softmax": [
        {"dims": {"n": 3, "m": 4}, "dtypes": REAL, "args": [t("n", "m")], "kwargs": {"dim": v(-1, 0)}}
    ],
    "torch.nn.functional.normalize": [
        {"dims": {"n": 3, "m": 4}, "dtypes": REAL, "args": [t("n", "m")], "kwargs": {"p": v(2.0, 1.0), "dim": v(1, 0)}}
    ],
    # matrix ops
    "torch.matmul": [
        {"dims": {"n": 2, "k": 3, "m": 4}, "dtypes": ALL, "args": [t("n", "k"), t("k", "m")]},
        {"dims": {"b": 2, "n": 2, "k": 3}, "dtypes": REAL, "args": [t("b", "n", "k"), t("k")]},
    ],
    "torch.addmm": [
        {
            "dims": {"n": 2, "k": 3, "m": 4},
            "dtypes": REAL + ["complex128"],
            "args": [t("n", "m"), t("n", "k"), t("k", "m")],
            "kwargs": {"beta": v(1.0, 0.5), "alpha": v(1.0, 2.0)},
        }
    ],
    "torch.linalg.det": [{"dims": {"n": 3}, "dtypes": REAL + ["complex128"], "args": [t("n", "n")]}],
    "torch.linalg.inv": [{"dims": {"n": 3}, "dtypes": REAL + ["complex128"], "args": [t("n", "n")]}],
    "torch.linalg.solve": [{"dims": {"n": 3, "k": 2}, "dtypes": REAL, "args": [t("n", "n"), t("n", "k")]}],
    "torch.linalg.eigh": [{"dims": {"n": 3}, "dtypes": REAL, "args": [t("n", "n")]}],
    "torch.linalg.svd": [
        {"dims": {"n": 3, "m": 2}, "dtypes": REAL, "args": [t("n", "m")], "kwargs": {"full_matrices": v(False)}}
    ],
    "torch.linalg.qr": [{"dims": {"n": 3, "m": 2}, "dtypes": REAL, "args": [t("n", "m")]}],
    "torch.linalg.vector_norm": [
        {
            "dims": {"n": 3, "m": 4},
            "dtypes": REAL + ["complex128"],
            "args": [t("n", "m")],
            "kwargs": {"ord": v(2, 1, 3, float("inf"))},
        }
    ],
    "torch.trace": [{"dims": {"n": 3}, "dtypes": REAL, "args": [t("n", "n")]}],
    "torch.einsum": [
        {"dims": {"n": 2, "k": 3, "m": 2}, "dtypes": REAL, "args": [v("ij,jk->ik", "ij,jk->ki"), t("n", "k"), t("k", "m")]}
    ],
    # convolutions and pooling
    "torch.nn.functional.conv1d": [
        {
            "dims": {"b": 1, "c": 2, "o": 2, "l": 5, "w": 3},
            "dtypes": REAL,
            "args": [t("b", "c", "l"), t("o", "c", "w"), t("o")],
            "kwargs": {"stride": v(1, 2), "padding": v(0, 1)},
        }
    ],
    "torch.nn.functional.conv2d": [
        {
            "dims": {"b": 1, "c": 2, "o": 2, "h": 4, "w": 2},
            "dtypes": REAL,
            "args": [t("b", "c", "h", "h"), t("o", "c", "w", "w")],
            "kwargs": {"stride": v(1, 2), "padding": v(0, 1), "dilation": v(1, 2)},
        }
    ],
    "torch.nn.functional.conv_transpose2d": [
        {
            "dims": {"b": 1, "c": 2, "o": 2, "h": 3, "w": 2},
            "dtypes": REAL,
            "args": [t("b", "c", "h", "h"), t("c", "o", "w", "w")],
            "kwargs": {"stride": v(1, 2)},
        }
    ],
    "torch.nn.functional.max_pool2d": [
        {
            "dims": {"b": 1, "c": 2, "h": 4},
            "dtypes": REAL,
            "args": [t("b", "c", "h", "h"), v(2, 3)],
            "kwargs": {"stride": v(1, 2)},
        }
    ],
    "torch.nn.functional.avg_pool2d": [
        {
            "dims": {"b": 1, "c": 2, "h": 4},
            "dtypes": REAL,
            "args": [t("b", "c", "h", "h"), v(2, 3)],
            "kwargs": {"ceil_mode": v(False, True)},
        }
    ],
    "torch.nn.functional.interpolate": [
        {
            "dims": {"b": 1, "c": 2, "l": 4},
            "dtypes": REAL,
            "args": [t("b", "c", "l", "l")],
            "kwargs": {"scale_factor": v(2.0, 1.5), "mode": v("bilinear", "bicubic", "nearest"), "align_corners": v(None)},
        }
    ],
    # normalization and losses
    "torch.nn.functional.layer_norm": [
        {"dims": {"n": 2, "m": 4}, "dtypes": REAL, "args": [t("n", "m"), v([4])], "kwargs": {"weight": t("m"), "bias": t("m")}}
    ],
    "torch.nn.functional.batch_norm": [
        {
            "dims": {"n": 3, "c": 2},
            "dtypes": REAL,
            "args": [t("n", "c"), None, None],
            "kwargs": {"weight": t("c"), "bias": t("c"), "training": v(True)},
        }
    ],
    "torch.nn.functional.mse_loss": [
        {
            "dims": {"n": 3, "m": 2},
            "dtypes": REAL,
            "args": [t("n", "m"), t("n", "m")],
            "kwargs": {"reduction": v("mean", "sum", "none")},
        }
    ],
    "torch.nn.functional.cross_entropy": [
        {
            "dims": {"n": 3, "c": 4},
            "dtypes": REAL,
            "args": [t("n", "c"), t("n", dtype="int64", range=[0, 4])],
            "kwargs": {"label_smoothing": v(0.0, 0.1)},
        }
    ],
    "torch.nn.functional.binary_cross_entropy_with_logits": [
        {"dims": {"n": 3, "m": 2}, "dtypes": REAL, "args": [t("n", "m"), t("n", "m", domain="unit")]}
    ],
    "torch.nn.functional.smooth_l1_loss": [
        {"dims": {"n": 3, "m": 2}, "dtypes": REAL, "args": [t("n", "m"), t("n", "m")], "kwargs": {"beta": v(1.0, 0.5)}}
    ],
    "torch.nn.functional.kl_div": [
        {
            "dims": {"n": 3, "m": 2},
            "dtypes": REAL,
            "args": [t("n", "m"), t("n", "m", domain="positive")],
            "kwargs": {"reduction": v("batchmean", "sum")},
        }
    ],
    "torch.nn.functional.cosine_similarity": [
        {"dims": {"n": 3, "m": 4}, "dtypes": REAL, "args": [t("n", "m"), t("n", "m")], "kwargs": {"dim": v(1, 0)}}
    ],
    # complex-valued and spectral
    "torch.fft.fft": [
        {
            "dims": {"n": 2, "m": 4},
            "dtypes": ["complex128", "complex64", "float64"],
            "args": [t("n", "m")],
            "kwargs": {"norm": v(None, "ortho", "forward")},
        }
    ],
    "torch.fft.rfft": [{"dims": {"n": 2, "m": 6}, "dtypes": REAL, "args": [t("n", "m")]}],
    "torch.fft.irfft": [{"dims": {"n": 2, "m": 4}, "dtypes": ["complex128", "complex64"], "args": [t("n", "m")]}],
    "torch.view_as_real": [{"dims": {"n": 2, "m": 3}, "dtypes": ["complex128", "complex64"], "args": [t("n", "m")]}],
    "torch.angle": unary(["complex128", "float64"]),
    "torch.polar": [{"dims": {"n": 2, "m": 3}, "dtypes": REAL, "args": [t("n", "m", domain="positive"), t("n", "m")]}],
    # multi-output and structural
    "torch.max": [{"dims": {"n": 3, "m": 4}, "dtypes": REAL, "args": [t("n", "m"), v(1, 0)]}],
    "torch.sort": [
        {
            "dims": {"n": 3, "m": 4},
            "dtypes": REAL,
            "args": [t("n", "m")],
            "kwargs": {"dim": v(-1, 0), "descending": v(False, True)},
        }
    ],
    "torch.topk": [{"dims": {"n": 3, "m": 4}, "dtypes": REAL, "args": [t("n", "m"), v(2, 1, 3)]}],
    "torch.split": [{"dims": {"n": 4, "m": 3}, "dtypes": ALL, "args": [t("n", "m"), v(2, 1, 3)]}],
    "torch.cat": [
        {
            "dims": {"n": 2, "m": 3, "k": 2},
            "dtypes": ALL,
            "args": [{"tensors": [["n", "m"], ["k", "m"]]}],
            "kwargs": {"dim": v(0)},
        }
    ],
    "torch.stack": [
        {"dims": {"n": 2, "m": 3}, "dtypes": ALL, "args": [{"tensors": [["n", "m"], ["n", "m"]]}], "kwargs": {"dim": v(0, 1, -1)}}
    ],
    "torch.gather": [
        {"dims": {"n": 3, "m": 4}, "dtypes": REAL, "args": [t("n", "m"), v(1, 0), t("n", 2, dtype="int64", range=[0, 3])]}
    ],
    "torch.index_select": [
        {"dims": {"n": 3, "m": 4}, "dtypes": ALL, "args": [t("n", "m"), v(1, 0), t(2, dtype="int64", range=[0, 3])]}
    ],
    "torch.Tensor.masked_fill": [
        {"dims": {"n": 3, "m": 4}, "dtypes": REAL, "args": [t("n", "m"), t("n", "m", dtype="bool"), v(0.0, 1.0)]}
    ],
    "torch.Tensor.expand": [{"dims": {"m": 3}, "dtypes": ALL, "args": [t(1, "m"), v(2), v(3)]}],
    "torch.diff": [{"dims": {"n": 3, "m": 4}, "dtypes": ALL, "args": [t("n", "m")], "kwargs": {"n": v(1, 2), "dim": v(-1, 0)}}],
    "torch.cdist": [
        {"dims": {"n": 3, "m": 2, "d": 3}, "dtypes": REAL, "args": [t("n", "d"), t("m", "d")], "kwargs": {"p": v(2.0, 1.0, 0.5)}}
    ],
}


ROW = {"n": 2, "m": 3}
REDUCTION = v("mean", "sum", "none")


def activation(**options):
    return call(ROW, [t("n", "m")], options or None)


def sequence(options, channels=2, length=5):
    """A module on (batch, channels, length) inputs."""
    return call({"n": 2, "l": length}, [t("n", channels, "l")], options)


def image(options, channels=2, size=4):
    """A module on (batch, channels, height, width) inputs."""
    return call({"n": 1, "h": size, "w": size + 1}, [t("n", channels, "h", "w")], options)


def volume(options, channels=2, size=3):
    """A module on (batch, channels, depth, height, width) inputs."""
    return call({"n": 1, "h": size}, [t("n", channels, "h", "h", "h")], options)


def loss(*targets, **options):
    """A loss of an input and targets of its shape (or the slots given), with its reduction."""
    args = [t("n", "m"), *(targets or [t("n", "m")])]
    return call(ROW, args, {"reduction": REDUCTION, **options})


def labels(classes=4, **options):
    """A loss of scores over `classes` classes and integer labels."""
    target = t("n", dtype="int64", range=[0, classes])
    return call({"n": 3}, [t("n", classes), target], {"reduction": REDUCTION, **options})


def convolution(dims, transposed=False, **options):
    kwargs = {"in_channels": v(2), "out_channels": v(3), "kernel_size": v(2, 3), "stride": v(1, 2)}
    if not transposed:
        kwargs["padding_mode"] = v("zeros", "reflect", "replicate", "circular")
        kwargs["padding"] = v(1, 0)
    return {1: sequence, 2: image, 3: volume}[dims]({**kwargs, **options})


def recurrent(hidden=4, **options):
    """An RNN, LSTM or GRU on (length, batch, features) inputs."""
    kwargs = {"input_size": v(3), "hidden_size": v(hidden), "num_layers": v(1, 2), "bidirectional": v(False, True)}
    return call({"l": 3, "n": 2}, [t("l", "n", 3)], {**kwargs, "bias": v(True, False), **options})


def cell(hidden=4, state=True):
    """An RNN, LSTM or GRU cell, without and with a state."""
    kwargs = {"input_size": v(3), "hidden_size": v(hidden), "bias": v(True, False)}
    first = call({"n": 2}, [t("n", 3)], kwargs)
    return first + (call({"n": 2}, [t("n", 3), t("n", hidden)], kwargs) if state else [])


ATTENTION = {"embed_dim": v(4), "num_heads": v(2, 1)}
LAYER = {"d_model": v(4), "nhead": v(2, 1), "dim_feedforward": v(8)}

MODULES = {
    "torch.nn.CELU": activation(alpha=v(1.0, 0.5, 2.0)),
    "torch.nn.ELU": activation(alpha=v(1.0, 0.5, 2.0)),
    "torch.nn.GELU": activation(approximate=v("none", "tanh")),
    "torch.nn.GLU": call({"n": 2}, [t("n", 4)], {"dim": v(-1)}),
    "torch.nn.Hardshrink": activation(lambd=v(0.5, 0.1)),
    "torch.nn.Hardsigmoid": activation(),
    "torch.nn.Hardswish": activation(),
    "torch.nn.Hardtanh": activation(min_val=v(-1.0, -0.5), max_val=v(1.0, 0.5)),
    "torch.nn.Identity": activation(),
    "torch.nn.LeakyReLU": activation(negative_slope=v(0.01, 0.2, -0.5)),
    "torch.nn.LogSigmoid": activation(),
    "torch.nn.LogSoftmax": activation(dim=v(1, 0)),
    "torch.nn.Mish": activation(),
    "torch.nn.PReLU": activation() + call({"n": 2}, [t("n", 3)], {"num_parameters": v(3)}),
    "torch.nn.RReLU": activation(lower=v(0.125, 0.0), upper=v(1 / 3, 0.5)),
    "torch.nn.ReLU": activation(),
    "torch.nn.ReLU6": activation(),
    "torch.nn.SELU": activation(),
    "torch.nn.SiLU": activation(),
    "torch.nn.Sigmoid": activation(),
    "torch.nn.Softmax": activation(dim=v(1, 0)),
    "torch.nn.Softmax2d": image({}),
    "torch.nn.Softmin": activation(dim=v(1, 0)),
    "torch.nn.Softplus": activation(beta=v(1.0, 2.0, 0.5), threshold=v(20.0, 1.0)),
    "torch.nn.Softshrink": activation(lambd=v(0.5, 0.1)),
    "torch.nn.Softsign": activation(),
    "torch.nn.Tanh": activation(),
    "torch.nn.Tanhshrink": activation(),
    "torch.nn.Threshold": activation(threshold=v(0.1, 0.5), value=v(20.0, -1.0)),
    "torch.nn.Linear": call({"n": 2}, [t("n", 3)], {"in_features": v(3), "out_features": v(4)}),
    "torch.nn.Bilinear": call(
        {"n": 2}, [t("n", 3), t("n", 2)], {"in1_features": v(3), "in2_features": v(2), "out_features": v(4)}
    ),
    "torch.nn.Conv1d": convolution(1),
    "torch.nn.Conv2d": convolution(2),
    "torch.nn.Conv3d": convolution(3),
    "torch.nn.ConvTranspose1d": convolution(1, True),
    "torch.nn.ConvTranspose2d": convolution(2, True),
    "torch.nn.ConvTranspose3d": convolution(3, True),
    "torch.nn.BatchNorm1d": call({"n": 4}, [t("n", 3)], {"num_features": v(3)}) + sequence({"num_features": v(2)}),
    "torch.nn.BatchNorm2d": image({"num_features": v(2)}),
    "torch.nn.BatchNorm3d": volume({"num_features": v(2)}),
    "torch.nn.InstanceNorm1d": sequence({"num_features": v(2), "affine": v(False, True)}),
    "torch.nn.InstanceNorm2d": image({"num_features": v(2), "affine": v(False, True)}),
    "torch.nn.InstanceNorm3d": volume({"num_features": v(2), "affine": v(False, True)}),
    "torch.nn.LayerNorm": call({"n": 2}, [t("n", 4)], {"normalized_shape": v(4), "eps": v(1e-5, 1e-3)}),
    "torch.nn.RMSNorm": call({"n": 2}, [t("n", 4)], {"normalized_shape": v(4)}),
    "torch.nn.GroupNorm": sequence({"num_groups": v(2, 1, 4), "num_channels": v(4)}, channels=4),
    "torch.nn.LocalResponseNorm": sequence({"size": v(2, 3)}, channels=3),
    "torch.nn.CrossMapLRN2d": image({"size": v(3, 2)}, channels=3),
    "torch.nn.AvgPool1d": sequence({"kernel_size": v(2, 3), "stride": v(1, 2)}),
    "torch.nn.AvgPool2d": image({"kernel_size": v(2, 3), "stride": v(1, 2)}),
    "torch.nn.AvgPool3d": volume({"kernel_size": v(2)}),
    "torch.nn.MaxPool1d": sequence({"kernel_size": v(2, 3), "stride": v(1, 2)}),
    "torch.nn.MaxPool2d": image({"kernel_size": v(2, 3), "stride": v(1, 2)}),
    "torch.nn.MaxPool3d": volume({"kernel_size": v(2)}),
    "torch.nn.LPPool1d": sequence({"norm_type": v(2.0, 1.0, 3.0), "kernel_size": v(2, 3)}),
    "torch.nn.LPPool2d": image({"norm_type": v(2.0, 1.0, 3.0), "kernel_size": v(2, 3)}),
    "torch.nn.LPPool3d": volume({"norm_type": v(2.0, 1.0), "kernel_size": v(2)}),
    "torch.nn.AdaptiveAvgPool1d": sequence({"output_size": v(3, 1, 2)}),
    "torch.nn.AdaptiveAvgPool2d": image({"output_size": v(3, 1, 2)}),
    "torch.nn.AdaptiveAvgPool3d": volume({"output_size": v(2, 1)}),
    "torch.nn.AdaptiveMaxPool1d": sequence({"output_size": v(3, 1, 2)}),
    "torch.nn.AdaptiveMaxPool2d": image({"output_size": v(3, 1, 2)}),
    "torch.nn.AdaptiveMaxPool3d": volume({"output_size": v(2, 1)}),
    "torch.nn.CircularPad1d": sequence({"padding": v(1, 2)}),
    "torch.nn.CircularPad2d": image({"padding": v(1, 2)}),
    "torch.nn.CircularPad3d": volume({"padding": v(1, 2)}),
    "torch.nn.ConstantPad1d": sequence({"padding": v(1, 2), "value": v(0.5, 0.0)}),
    "torch.nn.ConstantPad2d": image({"padding": v(1, 2), "value": v(0.5, 0.0)}),
    "torch.nn.ConstantPad3d": volume({"padding": v(1, 2), "value": v(0.5, 0.0)}),
    "torch.nn.ReflectionPad1d": sequence({"padding": v(1, 2)}),
    "torch.nn.ReflectionPad2d": image({"padding": v(1, 2)}),
    "torch.nn.ReflectionPad3d": volume({"padding": v(1, 2)}),
    "torch.nn.ReplicationPad1d": sequence({"padding": v(1, 2)}),
    "torch.nn.ReplicationPad2d": image({"padding": v(1, 2)}),
    "torch.nn.ReplicationPad3d": volume({"padding": v(1, 2)}),
    "torch.nn.ZeroPad1d": sequence({"padding": v(1, 2)}),
    "torch.nn.ZeroPad2d": image({"padding": v(1, 2)}),
    "torch.nn.ZeroPad3d": volume({"padding": v(1, 2)}),
    "torch.nn.Flatten": image({"start_dim": v(1, 0, 2)}),
    "torch.nn.Unflatten": call({"n": 2}, [t("n", 4)], {"dim": v(1), "unflattened_size": v([2, 2])}),
    "torch.nn.Fold": call({"n": 1}, [t("n", 8, 4)], {"output_size": v([3, 3]), "kernel_size": v(2)}),
    "torch.nn.Unfold": image({"kernel_size": v(2, 3), "stride": v(1, 2)}),
    "torch.nn.PixelShuffle": image({"upscale_factor": v(2)}, channels=4),
    "torch.nn.PixelUnshuffle": call({"n": 1, "c": 2}, [t("n", "c", 4, 6)], {"downscale_factor": v(2)}),
    "torch.nn.ChannelShuffle": image({"groups": v(2)}, channels=4),
    "torch.nn.Upsample": image({"scale_factor": v(2.0, 1.5), "mode": v("nearest", "bilinear", "bicubic", "nearest-exact")}),
    "torch.nn.UpsamplingBilinear2d": image({"scale_factor": v(2.0, 3.0)}),
    "torch.nn.UpsamplingNearest2d": image({"scale_factor": v(2.0, 3.0)}),
    "torch.nn.CosineSimilarity": call(ROW, [t("n", "m"), t("n", "m")], {"dim": v(1, 0)}),
    "torch.nn.PairwiseDistance": call(ROW, [t("n", "m"), t("n", "m")], {"p": v(2.0, 1.0, 3.0)}),
    "torch.nn.L1Loss": loss(),
    "torch.nn.MSELoss": loss(),
    "torch.nn.SmoothL1Loss": loss(beta=v(1.0, 0.5)),
    "torch.nn.HuberLoss": loss(delta=v(1.0, 0.5)),
    "torch.nn.BCELoss": call(
        ROW, [t("n", "m", domain="unit-interval"), t("n", "m", domain="unit-interval")], {"reduction": REDUCTION}
    ),
    "torch.nn.BCEWithLogitsLoss": loss(),
    "torch.nn.KLDivLoss": loss(log_target=v(False, True)),
    "torch.nn.SoftMarginLoss": loss(),
    "torch.nn.MultiLabelSoftMarginLoss": loss(),
    "torch.nn.HingeEmbeddingLoss": loss(margin=v(1.0, 0.5)),
    "torch.nn.PoissonNLLLoss": loss(t("n", "m", domain="positive"), log_input=v(True, False)),
    "torch.nn.GaussianNLLLoss": loss(t("n", "m"), t("n", "m", domain="positive"), full=v(False, True)),
    "torch.nn.CosineEmbeddingLoss": call(
        ROW, [t("n", "m"), t("n", "m"), t("n")], {"margin": v(0.0, 0.5), "reduction": REDUCTION}
    ),
    "torch.nn.MarginRankingLoss": call({"n": 4}, [t("n"), t("n"), t("n")], {"margin": v(0.0, 0.5), "reduction": REDUCTION}),
    "torch.nn.TripletMarginLoss": loss(t("n", "m"), t("n", "m"), margin=v(1.0, 0.5), p=v(2.0, 1.0)),
    "torch.nn.TripletMarginWithDistanceLoss": loss(t("n", "m"), t("n", "m"), margin=v(1.0, 0.5)),
    "torch.nn.CrossEntropyLoss": labels(label_smoothing=v(0.0, 0.1)),
    "torch.nn.NLLLoss": labels(),
    "torch.nn.NLLLoss2d": call(
        {"n": 1, "h": 3}, [t("n", 3, "h", "h"), t("n", "h", "h", dtype="int64", range=[0, 3])], {"reduction": REDUCTION}
    ),
    "torch.nn.MultiMarginLoss": labels(p=v(1, 2), margin=v(1.0, 0.5)),
    "torch.nn.MultiLabelMarginLoss": call(
        {"n": 2}, [t("n", 4), t("n", 4, dtype="int64", range=[-1, 4])], {"reduction": REDUCTION}
    ),
    "torch.nn.AdaptiveLogSoftmaxWithLoss": call(
        {"n": 3}, [t("n", 4), t("n", dtype="int64", range=[0, 6])], {"in_features": v(4), "n_classes": v(6), "cutoffs": v([2, 4])}
    ),
    "torch.nn.LinearCrossEntropyLoss": call(
        {"n": 3}, [t("n", 3), t("n", dtype="int64", range=[0, 4])], {"in_features": v(3), "num_classes": v(4)}
    ),
    "torch.nn.EmbeddingBag": call(
        {"n": 2},
        [t("n", 3, dtype="int64", range=[0, 5]), None, t("n", 3)],
        {"num_embeddings": v(5), "embedding_dim": v(3), "mode": v("sum")},
    ),
    "torch.nn.RNN": recurrent(nonlinearity=v("tanh", "relu")),
    "torch.nn.LSTM": recurrent(),
    "torch.nn.GRU": recurrent(),
    "torch.nn.RNNCell": cell(),
    "torch.nn.LSTMCell": cell(state=False),
    "torch.nn.GRUCell": cell(),
    "torch.nn.MultiheadAttention": call(  # query, key, value; forward's need_weights and average_attn_weights
        {"l": 3, "s": 2, "n": 2},
        [t("l", "n", 4), t("s", "n", 4), t("s", "n", 4), None, v(True, False), None, v(True, False)],
        ATTENTION,
    ),
    "torch.nn.TransformerEncoderLayer": call({"l": 3, "n": 2}, [t("l", "n", 4)], LAYER),
    "torch.nn.TransformerDecoderLayer": call({"l": 3, "s": 2, "n": 2}, [t("l", "n", 4), t("s", "n", 4)], LAYER),
    "torch.nn.Transformer": call(
        {"l": 3, "s": 2, "n": 2},
        [t("s", "n", 4), t("l", "n", 4)],
        {**LAYER, "num_encoder_layers": v(1), "num_decoder_layers": v(1)},
    ),
}

RNN_WEIGHTS = [t(4, 3), t(4, 4), t(4), t(4)]  # w_ih, w_hh, b_ih, b_hh of hidden size 4
GRU_WEIGHTS = [t(6, 3), t(6, 2), t(6), t(6)]  # of hidden size 2 (3 and 4 gates: sizes within the decoder's caps)
LSTM_WEIGHTS = [t(8, 3), t(8, 2), t(8), t(8)]
SEQUENCE = {"l": 3, "n": 2}
RNN_FLAGS = [
    v(True),
    v(1),
    v(0.0),
    v(False),
    v(False),
    v(False),
]  # has_biases, num_layers, dropout, train, bidirectional, batch_first

RELATED = {
    "torch.batch_norm": call(
        {"n": 3, "c": 2}, [t("n", "c"), t("c"), t("c"), None, None, v(True), v(0.1), v(1e-5, 1e-3), v(False)]
    ),
    "torch.instance_norm": call(
        {"n": 2, "c": 2, "l": 4}, [t("n", "c", "l"), t("c"), t("c"), None, None, v(True), v(0.1), v(1e-5, 1e-3), v(False)]
    ),
    "torch.bilinear": call({"n": 2}, [t("n", 3), t("n", 2), t(4, 3, 2), t(4)]),
    "torch.cosine_embedding_loss": call(ROW, [t("n", "m"), t("n", "m"), t("n"), v(0.0, 0.5), v(1, 0, 2)]),
    "torch.nn.functional.embedding": call({"n": 2}, [t("n", 3, dtype="int64", range=[0, 5]), t(5, 3)]),
    "torch.embedding_bag": call(
        {"n": 6}, [t(5, 3), t("n", dtype="int64", range=[0, 5]), t(2, dtype="int64", range=[0, 1]), v(False), v(0, 1, 2)]
    ),
    "torch.rnn_tanh": call(SEQUENCE, [t("l", "n", 3), t(1, "n", 4), {"tensors": RNN_WEIGHTS}, *RNN_FLAGS]),
    "torch.rnn_relu": call(SEQUENCE, [t("l", "n", 3), t(1, "n", 4), {"tensors": RNN_WEIGHTS}, *RNN_FLAGS]),
    "torch.gru": call(SEQUENCE, [t("l", "n", 3), t(1, "n", 2), {"tensors": GRU_WEIGHTS}, *RNN_FLAGS]),
    "torch.lstm": call(
        SEQUENCE, [t("l", "n", 3), {"tensors": [t(1, "n", 2), t(1, "n", 2)]}, {"tensors": LSTM_WEIGHTS}, *RNN_FLAGS]
    ),
    "torch.gru_cell": call({"n": 2}, [t("n", 3), t("n", 2), *GRU_WEIGHTS]),
    "torch.lstm_cell": call({"n": 2}, [t("n", 3), {"tensors": [t("n", 2), t("n", 2)]}, *LSTM_WEIGHTS]),
    "torch.max_pool3d": call({"n": 1, "h": 3}, [t("n", 2, "h", "h", "h"), v([2, 2, 2])]),
    "torch.nn.functional.fold": call({"n": 1}, [t("n", 8, 4), v([3, 3]), v(2)]),
    "torch.nn.functional.upsample": call(
        {"n": 1, "h": 3}, [t("n", 2, "h", "h")], {"scale_factor": v(2.0), "mode": v("nearest", "bilinear")}
    ),
    "torch.nn.functional.affine_grid": call({}, [t(1, 2, 3), v([1, 1, 3, 4])], {"align_corners": v(False, True)}),
    "torch.affine_grid_generator": call({}, [t(1, 2, 3), v([1, 1, 3, 4]), v(False, True)]),
    "torch.grid_sampler": call({}, [t(1, 2, 3, 3), t(1, 3, 3, 2, domain="unit"), v(0, 1), v(0, 1, 2), v(False, True)]),
    "torch.segment_reduce": call(
        {"m": 3}, [t(4, "m"), v("sum", "mean", "max", "min")], {"lengths": t(2, dtype="int64", range=[2, 3])}
    ),
    "torch.conv_tbc": call({"l": 4, "n": 2}, [t("l", "n", 2), t(2, 2, 3), t(3), v(0, 1)]),
}

APIS.update(MODULES)
APIS.update(RELATED)
