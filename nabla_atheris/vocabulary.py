"""The shared vocabulary of the oracle: scenario names, finding kinds, filter reasons and the
classes that group them (one place, read by the oracle, the backends, the store and the reports)."""

from __future__ import annotations

# -- scenarios ----------------------------------------------------------------------------------
DIRECT = "direct"
REV = "rev"
FWD = "fwd"
FIRST_ORDER_AD = (REV, FWD)
SECOND_ORDER = ("rev-over-rev", "fwd-over-rev", "rev-over-fwd", "fwd-over-fwd")
HARNESS = "harness"  # a native crash, timeout or OOM met by libFuzzer: no one scenario to name


def second_order_parts(mode: str) -> tuple[str, str]:
    """The (outer, inner) first-order modes of a second-order composition such as "fwd-over-rev"."""
    outer, _, inner = mode.split("-")
    return outer, inner


def compiled_parts(mode: str) -> tuple[str, str]:
    """The (compiler, eager scenario) of a compiled scenario such as "jit-rev" or "xla-direct"."""
    compiler, eager = mode.split("-", 1)
    return compiler, eager


# Batched scenarios "<transform>-<eager scenario>": a vectorizing transform of the direct call, reverse or
# forward mode over a batch of independent samples ("vmap-rev": torch.func.vmap or jax.vmap of a VJP;
# "pfor-rev", "while-rev": the rows of TensorFlow's GradientTape.jacobian with and without pfor).
BATCH_TRANSFORMS = ("vmap", "pfor", "while")
BATCHED_AT_ONE_POINT = frozenset({"pfor-rev", "while-rev"})  # Jacobian rows: batched cotangents, one input


def batched_parts(mode: str) -> tuple[str, str]:
    """The (transform, eager scenario) of a batched scenario such as "vmap-rev"."""
    transform, eager = mode.split("-", 1)
    return transform, eager


# User-defined derivative rules "<rule>:<scenario>": the API wrapped as users write their own rules
# ("function:rev": a torch.autograd.Function whose rules call the API's own AD; "custom_vjp:rev-over-rev").
# Nested transforms: the 2 x 2 Hessian of t -> <u, f(x + t0 v + t1 v2)> by jacfwd(jacfwd) and jacrev(jacfwd),
# whose off-diagonal entry is the second-order value d/dt <u, J(x + t v2) v> of the composition it nests.
NESTED_TRANSFORMS = {"jacfwd-jacfwd": "fwd-over-fwd", "jacrev-jacfwd": "rev-over-fwd"}


# Input kinds "<kind>:<scenario>": the API's inputs bound as users also bind them, against plain tensors
# ("strided:rev": torch inputs as non-contiguous views; "variable:fwd": TensorFlow inputs as tf.Variable).
# Named like user-defined rules; these names tell them apart.
INPUT_KINDS = ("strided", "variable")


def custom_parts(name: str) -> tuple[str, str]:
    """The (rule, scenario) of a wrapped scenario such as "custom_vjp:rev-over-rev"."""
    rule, mode = name.split(":", 1)
    return rule, mode


# -- finding kinds ------------------------------------------------------------------------------
# Each kind with what it claims; RECORDED kinds are stored and counted but do not crash a worker
# unless asked (NABLA_RAISE_MISSING=1), all others are raised.
KIND_MEANING = {
    "crash": "an internal error or a native crash of the library",
    "status-mismatch": "a scenario raised an error where another succeeded",
    "value-mismatch": "a differentiating scenario computed other outputs than the direct call",
    "shape-mismatch": "a derivative of another shape than the input (reverse mode) or output (forward mode) it belongs to",
    "rev-vs-fwd": "reverse and forward mode disagree (the numerical derivative cannot referee)",
    "rev-vs-numeric": "reverse mode disagrees with the numerical derivative",
    "fwd-vs-numeric": "forward mode disagrees with the numerical derivative",
    "nan-mismatch": "a derivative is NaN or infinite in one scenario only",
    "compiled-mismatch": "a compiled scenario disagrees with its eager counterpart",
    "batched-mismatch": "a vectorizing transform (vmap, pfor) disagrees with a loop over the samples",
    "custom-rule-mismatch": "the API wrapped in a user-defined derivative rule that calls its own AD disagrees with the API",
    "input-kind-mismatch": "the API with its inputs bound as users also bind them (a non-contiguous view, a tf.Variable) "
    "disagrees with the API on plain tensors",
    "second-order-mismatch": "a second-order composition disagrees with the others or with the numerical derivative",
    "derivative-gap": "a derivative that one mode or order provides is not implemented (or reported absent) in another",
    "missing-derivative": "the library has no derivative for the call in any mode (or in no mode reports one for an input)",
    "zero-derivative": "AD computes exactly zero where a well-resolved numerical derivative is not (an underflow)",
    "timeout": "the library did not finish within libFuzzer's -timeout",
    "oom": "the library exceeded libFuzzer's -rss_limit_mb",
}
KINDS = tuple(KIND_MEANING)
RECORDED_KINDS = frozenset({"missing-derivative", "zero-derivative"})

# Classes of scenario that one root cause shows up in (a wrong rule shows in several pairs).
KIND_CLASS = {
    "crash": "crash",
    "timeout": "crash",
    "oom": "crash",
    "status-mismatch": "status",
    "derivative-gap": "status",
    "missing-derivative": "missing",
    "zero-derivative": "zero",
    "value-mismatch": "value",
    "shape-mismatch": "first-order",
    "rev-vs-fwd": "first-order",
    "rev-vs-numeric": "first-order",
    "fwd-vs-numeric": "first-order",
    "nan-mismatch": "first-order",
    "compiled-mismatch": "compiled",
    "batched-mismatch": "batched",
    "custom-rule-mismatch": "custom-rule",
    "input-kind-mismatch": "input-kind",
    "second-order-mismatch": "second-order",
}
# Kinds whose root cause is an error: grouped by the normalized error message.
ERROR_KINDS = frozenset({"crash", "status-mismatch", "derivative-gap", "missing-derivative"})

# -- filter reasons -----------------------------------------------------------------------------
# Why a comparison produced no finding although it disagreed (or why a case could not be checked).
FILTER_MEANING = {
    "invalid-input": "every scenario rejects the arguments alike",
    "nondeterministic": "the direct call does not repeat itself",
    "no-differentiable-io": "no floating input or output to differentiate",
    "non-finite-output": "the direct output holds NaN or inf",
    "nan-both": "the derivative is NaN or infinite in every scenario",
    "precision-loss": "an output is less precise than an input (numerical comparisons only)",
    "numerical-instability": "the numerical derivative depends on its step (numerical comparisons only)",
    "reference-disagrees": "the widened float64 call does not compute the case's outputs (numerical comparisons only)",
    "non-differentiable-point": "the function has a kink or a tie here: no derivative to be right about",
    "ill-conditioned": "a decomposition's input is (nearly) rank-deficient or has repeated eigenvalues",
    "unconfirmed": "full Jacobians (or further projections) agree",
    "sign-or-phase-ambiguity": "outputs agree up to the signs or phases of vectors that are unique only up to them",
    "by-design": "the catalog declares this behaviour (gradient-cutting, straight-through)",
    "not-compilable": "a compiler or transform refuses the call as written (graph break, value-dependent shape): skipped",
    "input-kind-refused": "the direct call refuses inputs bound another way (a contiguity precondition): not a derivative's",
}
FILTER_REASONS = tuple(FILTER_MEANING)

HARNESS_ERROR = "harness-error"  # an exception raised in nabla-atheris' own code: never a finding
