"""Hand-written PyTorch templates: the catalog generator's first source ("manual").

The starter catalog's APIs, with domains, dtypes and attribute choices picked by hand; they keep
template index 0 of their APIs, so corpora written before the catalog was generated keep their calls.
"""

from nabla_atheris.catalog.spec import ALL, REAL, t, v


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
