"""Root causes: one wrong rule shows up as several findings (under several spellings of an API, in
several scenario pairs, in several dtypes). A disagreement's root cause is the underlying function
and the class of scenario it is in; an error's is its normalized message (which names the failing
op, and is shared by every API that reaches it):

    torch:det:second-order                torch.linalg.det, torch.det, torch.Tensor.det; any composition
    tf:cumulativelogsumexp:second-order   tf.math.cumulative_logsumexp, tf.raw_ops.CumulativeLogsumexp
    torch:error:RuntimeError: derivative for aten::scatter is not implemented
    torch:custom-rule:function:fwd-over-fwd   any API wrapped in a torch.autograd.Function, its
                                              fwd-over-fwd and jacfwd(jacfwd)

A user-defined rule's disagreement is the rule machinery's (the wrapper delegates to the API's own
AD, whose results are the reference): its root cause is the library, the rule and the scenario (a
nested transform is the composition it nests), shared by every API that shows it, and so is its
finding (the store lists the APIs that showed it).

A program (a case of several calls, see `case.Case.then`) is named by its APIs in call order
(`torch.sin -> torch.nn.functional.gelu`), and its function by the sequence of their functions:

    torch:sin->gelu:first-order           torch.sin then torch.nn.functional.gelu, any spelling of either

A program finding that one of its calls shows alone, on the values that call received (the first
call: the program's inputs; a later one: the earlier outputs it takes), with the same kind in the
same class of scenario or the same error, is keyed by the earliest such call instead
(`Finding.keyed_by`, set by the oracle: `oracle.program_values.key_by_single_call`), so a program that merely reaches a single
call's bug is that bug's finding, not a root cause of its own; otherwise the key is the sequence
(`minimize` drops calls first, and a program it reduces to one call gets that call's key). An
error's root cause stays its message (shared by programs and single calls that reach the failing
op); a user-defined rule's stays the rule's.

The function's name is the API's last name with namespaces, an in-place underscore, underscores and
case removed (`tf.raw_ops.CumulativeLogsumexp` and `tf.math.cumulative_logsumexp` meet), then looked
up in the library's aliases (`ALIASES`: functions the documentation calls aliases under other names).
A method of a probability distribution (`DISTRIBUTION_METHODS`: scipy.stats' names) keeps its
distribution: `jax.scipy.stats.pareto.cdf` is `pareto.cdf`, not every distribution's `cdf`.

A finding's root cause is the function whose rule computes it: an API the library computes entirely
by another public API (`COMPUTED_BY`, read from the library's source and checked against the
installed one by the tests) is keyed by that API, so `jax.scipy.stats.geom.pmf`, computed as
exp(geom.logpmf), shares logpmf's root cause, and a torch module class whose forward is one functional
call (`torch.nn.InstanceNorm2d`: `F.instance_norm`) shares the functional's (`function_name` itself
still names the API).
"""

from __future__ import annotations

import re

from nabla_atheris.case import PROGRAM_ARROW
from nabla_atheris.vocabulary import (
    ERROR_KINDS,
    KIND_CLASS,
    NESTED_TRANSFORMS,
    batched_parts,
    compiled_parts,
    custom_parts,
)

# NumPy's spellings and the C library's name one function alike in every library (jnp.arcsin and
# lax.asin, tf.experimental.numpy.arcsin and tf.raw_ops.Asin, torch.arcsin and torch.asin).
NUMPY_NAMES = {
    "arccos": "acos",
    "arcsin": "asin",
    "arctan": "atan",
    "arctan2": "atan2",
    "arccosh": "acosh",
    "arcsinh": "asinh",
    "arctanh": "atanh",
    "absolute": "abs",
    "negative": "neg",
    "multiply": "mul",
    "divide": "div",
    "truedivide": "div",
    "subtract": "sub",
    "concatenate": "cat",
    "concat": "cat",
    "power": "pow",
    "greaterequal": "ge",
    "swapaxes": "transpose",
    "expit": "sigmoid",
    "gammaln": "lgamma",
    # NumPy 2's unique_all/counts/inverse/values are documented as unique(x) with return_* flags set
    "uniqueall": "unique",
    "uniquecounts": "unique",
    "uniqueinverse": "unique",
    "uniquevalues": "unique",
}
# Per library, further names the documentation gives as aliases of one function.
ALIASES: dict[str, dict[str, str]] = {
    "torch": {
        "psi": "digamma",  # torch.special.psi: "Alias for torch.special.digamma"
        "clip": "clamp",  # torch.clip: "Alias for torch.clamp"
        "fix": "trunc",
        "ger": "outer",
        "swapdims": "transpose",
        "moveaxis": "movedim",
        "igamma": "gammainc",  # torch.igamma: "Alias for torch.special.gammainc"
        "igammac": "gammaincc",
    },
    "tf": {"reducesum": "sum", "reducemean": "mean", "reducemax": "max", "reducemin": "min", "reduceprod": "prod"},
    "jax": {},
    "oneflow": {"clip": "clamp"},
}
# scipy.stats' methods of a distribution: each distribution's are functions of their own.
DISTRIBUTION_METHODS = frozenset(
    {"pdf", "logpdf", "pmf", "logpmf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf", "entropy", "moment"}
)
_STATS = "jax.scipy.stats."
# Per library, APIs computed entirely by another public API (the library's source at the version the
# catalog is built for; `tests/test_rootcause_and_structures.py` checks each against the installed
# source): their findings are that API's root cause.
COMPUTED_BY: dict[str, dict[str, str]] = {
    "jax": {
        # jax.scipy.stats: `return lax.exp(logpdf(...))` (logpmf, logsf, logcdf alike)
        **{
            f"{_STATS}{dist}.{method}": f"{_STATS}{dist}.log{method}"
            for dist, methods in {
                "bernoulli": ("pmf",),
                "beta": ("pdf",),
                "betabinom": ("pmf",),
                "binom": ("pmf",),
                "cauchy": ("pdf",),
                "chi2": ("pdf",),
                "dirichlet": ("pdf",),
                "expon": ("pdf", "sf"),
                "gamma": ("pdf",),
                "gennorm": ("pdf",),
                "geom": ("pmf",),
                "gumbel_l": ("pdf", "sf", "cdf"),
                "gumbel_r": ("pdf", "cdf"),
                "laplace": ("pdf",),
                "logistic": ("pdf",),
                "multinomial": ("pmf",),
                "multivariate_normal": ("pdf",),
                "nbinom": ("pmf",),
                "norm": ("pdf",),
                "pareto": ("pdf", "sf"),
                "poisson": ("pmf",),
                "t": ("pdf",),
                "truncnorm": ("pdf", "sf", "cdf"),
                "uniform": ("pdf",),
                "vonmises": ("pdf",),
                "wrapcauchy": ("pdf",),
            }.items()
            for method in methods
        },
        # set operations that call unique without a size (it concretizes its input)
        **{f"jax.numpy.{op}": "jax.numpy.unique" for op in ("union1d", "setdiff1d", "setxor1d", "intersect1d")},
        "jax.numpy.roots": "jax.numpy.linalg.eigvals",  # the eigenvalues of the companion matrix
    },
    "torch": {
        # torch.nn module classes whose forward (or the helper it calls) is one functional call under
        # another name; the others' names already meet their functional's (Conv2d and conv2d, GELU and
        # gelu). Padding and upsampling modules stay apart: each mode is a kernel of its own.
        **{f"torch.nn.BatchNorm{d}d": "torch.nn.functional.batch_norm" for d in (1, 2, 3)},
        **{f"torch.nn.InstanceNorm{d}d": "torch.nn.functional.instance_norm" for d in (1, 2, 3)},
        "torch.nn.BCELoss": "torch.nn.functional.binary_cross_entropy",
        "torch.nn.BCEWithLogitsLoss": "torch.nn.functional.binary_cross_entropy_with_logits",
        "torch.nn.CrossEntropyLoss": "torch.nn.functional.cross_entropy",
        "torch.nn.KLDivLoss": "torch.nn.functional.kl_div",
        "torch.nn.LinearCrossEntropyLoss": "torch.nn.functional.linear_cross_entropy",
        "torch.nn.NLLLoss2d": "torch.nn.functional.nll_loss",
        "torch.nn.MultiheadAttention": "torch.nn.functional.multi_head_attention_forward",
        "torch.nn.ReLU6": "torch.nn.functional.hardtanh",
        "torch.nn.Softmax2d": "torch.nn.functional.softmax",
        # Linear-algebra functions whose derivative is another's rule (their autograd graph holds its
        # backward node, views aside): the _ex variants and what calls them, logdet through slogdet.
        "torch.linalg.solve_ex": "torch.linalg.solve",
        "torch.linalg.tensorsolve": "torch.linalg.solve",
        "torch.linalg.inv_ex": "torch.linalg.inv",
        "torch.inverse": "torch.linalg.inv",
        "torch.Tensor.inverse": "torch.linalg.inv",
        "torch.linalg.cholesky_ex": "torch.linalg.cholesky",
        "torch.linalg.lu_factor_ex": "torch.linalg.lu_factor",
        "torch.logdet": "torch.linalg.slogdet",
        "torch.Tensor.logdet": "torch.linalg.slogdet",
    },
}
_DTYPES = re.compile(
    r"\b(b?float(16|32|64)|half|double|float|complex(64|128)|c?(Half|Float|Double|BFloat16|ComplexFloat|ComplexDouble))\b",
    re.IGNORECASE,
)
_TENSOR_TYPES = re.compile(r"\b(torch\.)?((Double|Float|Half|BFloat16|ComplexFloat|ComplexDouble)Tensor|CPU\w*Type)\b")
_SHAPES = re.compile(r"[\[(]\s*(-?\d+(\s*,\s*-?\d+)*\s*,?)?\s*[\])]")
_NUMBERS = re.compile(r"(0x[0-9a-f]+|-?\d+(\.\d+)?(e[-+]?\d+)?)", re.IGNORECASE)


def function_name(library: str, api: str) -> str:
    """The underlying function of an API name, independent of namespace and spelling; a program's
    name (APIs joined by `case.PROGRAM_ARROW`) gives its functions joined by "->"."""
    if PROGRAM_ARROW in api:
        return "->".join(function_name(library, part) for part in api.split(PROGRAM_ARROW))
    parent, _, last = api.rpartition(".")
    key = last.rstrip("_").replace("_", "").lower()
    if key in DISTRIBUTION_METHODS and parent:
        return f"{parent.rsplit('.', 1)[-1].replace('_', '').lower()}.{key}"
    key = NUMPY_NAMES.get(key, key)
    return ALIASES.get(library, {}).get(key, key)


def cause_name(library: str, api: str) -> str:
    """The function whose rule computes an API (`COMPUTED_BY`, else the API's own function); a
    program's, the sequence of its calls'."""
    computed_by = COMPUTED_BY.get(library, {})
    return "->".join(function_name(library, computed_by.get(part, part)) for part in api.split(PROGRAM_ARROW))


def normalized_error(text: str) -> str:
    """An error message without what varies between inputs: dtypes, shapes, numbers, spacing."""
    text = text.strip().splitlines()[0] if text.strip() else ""
    text = _TENSOR_TYPES.sub("<dtype>Tensor", text)
    text = _DTYPES.sub("<dtype>", text)
    text = _SHAPES.sub("<shape>", text)
    text = _NUMBERS.sub("N", text)
    return re.sub(r"\s+", " ", text)[:160]


def finding_key(library: str, api: str, kind: str, scenarios: tuple[str, str] | list[str], error: str = "") -> str:
    """A finding's identity in the store: its root cause, and for an error also the function that
    raised it (an error's root cause is shared by every function that reaches the failing op)."""
    if kind in ERROR_KINDS and error:
        return f"{library}:{cause_name(library, api)}:error:{normalized_error(error)}"
    return root_cause(library, api, kind, scenarios, error)


def root_cause(library: str, api: str, kind: str, scenarios: tuple[str, str] | list[str], error: str = "") -> str:
    """The root-cause key of a finding (see the module's docstring)."""
    if kind in ERROR_KINDS and error:
        return f"{library}:error:{normalized_error(error)}"
    scenario_class = KIND_CLASS[kind]
    if scenario_class == "custom-rule":
        rule, mode = custom_parts(scenarios[1])
        return f"{library}:custom-rule:{rule}:{NESTED_TRANSFORMS.get(mode, mode)}"
    if scenario_class == "batched":
        return f"{library}:{cause_name(library, api)}:batched:{batched_parts(scenarios[1])[0]}"
    if scenario_class == "compiled":
        compiler = next(
            (compiled_parts(s)[0] for s in scenarios if "-" in s and s.split("-", 1)[1] in ("direct", "rev", "fwd")), ""
        )
        scenario_class = f"compiled:{compiler}"
    return f"{library}:{cause_name(library, api)}:{scenario_class}"
