"""TensorFlow execution scenarios on tf tensors and numpy arrays.

This module imports only tensorflow, numpy and `shared_modes`: the reproducer of a finding embeds
their source verbatim, so a maintainer's script runs exactly the code the fuzzer ran. Every scenario
takes a function of the differentiable inputs `f(*xs)` and returns numpy arrays. Reverse mode is
`tf.GradientTape`, forward mode `tf.autodiff.ForwardAccumulator`. A first-order gradient or tangent
that TensorFlow reports as unconnected (`None`) is returned as `None`, so that the oracle can tell
"no derivative" from "a zero derivative"; inside second-order compositions and compiled scenarios it
is zeros. Sparse results (`IndexedSlices` gradients, `SparseTensor` and ragged outputs) are made
dense. TensorFlow's complex gradients follow the same convention as PyTorch's. The compiled
scenarios are the same functions under `tf.function` (graph) and `tf.function(jit_compile=True)`
(XLA).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's C++ log noise, before its import

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from nabla_atheris.backends.shared_modes import paired, shapes_kept  # noqa: E402

ZERO = tf.UnconnectedGradients.ZERO
NONE = tf.UnconnectedGradients.NONE


# The conversions between the library's values and numpy: an error raised in them is the harness' own.
GLUE = ("dense", "flatten", "to_numpy", "as_like")


def dense(t):
    """A tensor-like result as a dense tensor (IndexedSlices, SparseTensor, RaggedTensor, variables)."""
    if isinstance(t, tf.SparseTensor):
        return tf.sparse.to_dense(t)
    if isinstance(t, tf.RaggedTensor):
        return t.to_tensor()
    return tf.convert_to_tensor(t)


def flatten(out):
    """The outputs of a call as a flat list of dense tensors (nested structures unpacked)."""
    leaves = tf.nest.flatten(out, expand_composites=False)
    return [dense(leaf) for leaf in leaves if leaf is not None]


def to_numpy(t):
    """A tensor's values as numpy (half types widened to float32)."""
    if t.dtype in (tf.float16, tf.bfloat16):
        t = tf.cast(t, tf.float32)
    return np.array(t.numpy())


def is_diff(t):
    return t.dtype.is_floating or t.dtype.is_complex


def as_like(array, like):
    """A numpy array (or tensor) as a tensor of `like`'s dtype (real part only for a real `like`)."""
    t = tf.convert_to_tensor(array)
    if t.dtype.is_complex and not like.dtype.is_complex:
        t = tf.math.real(t)
    return tf.reshape(tf.cast(t, like.dtype), tf.shape(like))


def _inner(tensors, arrays):
    """sum(Re(t * conj(a))) over the floating tensors, as a float64 tensor."""
    terms = [
        tf.cast(tf.reduce_sum(tf.math.real(t * tf.math.conj(as_like(a, t)))), tf.float64)
        for t, a in paired(tensors, arrays)
        if is_diff(t)
    ]
    return tf.add_n(terms) if terms else tf.zeros((), tf.float64)


def _grads(tape, outs, xs, u, unconnected=ZERO):
    """The VJP with cotangents `u` (IndexedSlices made dense; None for an unconnected input when
    `unconnected` is NONE)."""
    pairs = [(o, as_like(ui, o)) for o, ui in zip(outs, u) if is_diff(o)]
    if not pairs:
        return [tf.zeros_like(x) if unconnected == ZERO else None for x in xs]
    targets, cotangents = zip(*pairs)
    grads = tape.gradient(list(targets), xs, output_gradients=list(cotangents), unconnected_gradients=unconnected)
    return [None if g is None else dense(g) for g in grads]


def _tangents(acc, outs, unconnected=ZERO):
    """The JVP of every output (zeros for a non-floating output; IndexedSlices made dense: the JVP of
    a segment sum comes from its gradient's transpose)."""
    tangents = [acc.jvp(o, unconnected_gradients=unconnected) if is_diff(o) else tf.zeros_like(o) for o in outs]
    return [None if t is None else dense(t) for t in tangents]


def direct(f, xs):
    """The call, eagerly."""
    return [to_numpy(o) for o in flatten(f(*xs))]


def vjp_tensors(f, xs, u, unconnected=ZERO):
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(xs)
        outs = flatten(f(*xs))
    return outs, _grads(tape, shapes_kept(outs, u), xs, u, unconnected)


def jvp_tensors(f, xs, v, unconnected=ZERO):
    with tf.autodiff.ForwardAccumulator(xs, [as_like(vi, x) for vi, x in zip(v, xs)]) as acc:
        outs = flatten(f(*xs))
    return outs, _tangents(acc, outs, unconnected)


def vjp(f, xs, u):
    """Reverse mode: the outputs and the vector-Jacobian product with cotangents `u` (None for an
    unconnected input)."""
    outs, grads = vjp_tensors(f, xs, u, NONE)
    return [to_numpy(o) for o in outs], [None if g is None else to_numpy(g) for g in grads]


def jvp(f, xs, v):
    """Forward mode: the primal outputs and the Jacobian-vector product with tangents `v` (None for
    an unconnected output)."""
    outs, tangents = jvp_tensors(f, xs, v, NONE)
    return [to_numpy(o) for o in outs], [None if t is None else to_numpy(t) for t in tangents]


def _second_order(f, xs, u, v, v2, mode):
    """d/dt <u, J(x + t v2) v> at t = 0 as a float64 tensor."""
    outer, _, inner_mode = mode.split("-")
    inner_product = vjp_tensors if inner_mode == "rev" else jvp_tensors

    def phi():
        _, products = inner_product(f, xs, u if inner_mode == "rev" else v)
        return _inner(products, v) if inner_mode == "rev" else _inner(products, u)

    if outer == "rev":
        with tf.GradientTape() as tape:
            tape.watch(xs)
            value = phi()
        grads = tape.gradient(value, xs, unconnected_gradients=ZERO)
        return _inner([dense(g) for g in grads], v2)
    with tf.autodiff.ForwardAccumulator(xs, [as_like(w, x) for w, x in zip(v2, xs)]) as acc:
        value = phi()
    return acc.jvp(value, unconnected_gradients=ZERO)


def second_order(f, xs, u, v, v2, mode):
    """d/dt <u, J(x + t v2) v> at t = 0, by one of four compositions of forward and reverse mode."""
    return float(_second_order(f, xs, u, v, v2, mode))


def _constants(arrays):
    return [tf.constant(a) for a in arrays]


def at_points(mode, f):
    """Reverse ("rev") or forward ("fwd") mode of `f` as one tf.function (a graph), as g(xs, vectors)
    -> (outputs, products) as numpy (None for an unconnected input or output, as `vjp` and `jvp`):
    the first-order product at the points where a numerical derivative evaluates it, traced once per
    structure instead of run op by op."""
    product = vjp_tensors if mode == "rev" else jvp_tensors
    g = tf.function(lambda xs, w: product(f, list(xs), w, NONE), autograph=False)

    def run(xs, vectors):
        outs, products = g(list(xs), _constants(vectors))
        return [to_numpy(o) for o in outs], [None if p is None else to_numpy(p) for p in products]

    return run


def compiled_function(mode, f, xla):
    """The scenario `mode` ("direct", "rev", "fwd") of `f` under tf.function, as g(xs, vectors)."""
    if mode == "direct":
        body = lambda xs, _: flatten(f(*xs))  # noqa: E731
    elif mode == "rev":
        body = lambda xs, u: vjp_tensors(f, list(xs), u)  # noqa: E731
    else:
        body = lambda xs, v: jvp_tensors(f, list(xs), v)  # noqa: E731
    return tf.function(body, jit_compile=xla, autograph=False)


def compiled(g, mode, xs, vectors):
    """Run a compiled scenario: the outputs and (for rev/fwd) the products, as numpy."""
    result = g(list(xs), [tf.constant(a) for a in vectors])
    if mode == "direct":
        return [to_numpy(o) for o in result], []
    outs, products = result
    return [to_numpy(o) for o in outs], [to_numpy(p) for p in products]


# --- the scenario sets beyond the core: batching, user-defined rules ------------------------------
def _jacobian_products(f, x, u, use_pfor):
    """The VJPs with each cotangent of the batch `u` (per output, a leading batch axis) from the rows
    of GradientTape.jacobian at the inputs x, with or without pfor (a while loop); an empty output or
    input has no Jacobian rows or columns (its terms are left out: zeros). The rows of a complex output
    by a real input hold only the real part of its derivative: there the real and imaginary parts of
    the output have rows of their own, weighted by the cotangent's real and imaginary parts."""
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        outs = flatten(f(*x))
        parts = [(tf.math.real(o), tf.math.imag(o)) if o.dtype.is_complex else () for o in outs]
    products = [tf.zeros((u[0].shape[0],) + tuple(xi.shape), xi.dtype) for xi in x]
    for o, uo, part in zip(outs, u, parts):
        n = o.shape.num_elements()
        if not is_diff(o) or n == 0:
            continue
        rows = tape.jacobian(o, x, unconnected_gradients=ZERO, experimental_use_pfor=use_pfor)
        real_inputs = any(not xi.dtype.is_complex for xi in x)
        split = [tape.jacobian(p, x, unconnected_gradients=ZERO, experimental_use_pfor=use_pfor) for p in part if real_inputs]
        w = tf.cast(tf.reshape(uo if o.dtype.is_complex else tf.math.real(uo), [-1, n]), o.dtype)
        for i, (xi, row) in enumerate(zip(x, rows)):
            if xi.shape.num_elements() == 0:
                continue
            if split and not xi.dtype.is_complex:
                weights = (tf.math.real(uo), tf.math.imag(uo))
                term = sum(
                    tf.linalg.matmul(tf.cast(tf.reshape(c, [-1, n]), xi.dtype), tf.cast(tf.reshape(r[i], [n, -1]), xi.dtype))
                    for c, r in zip(weights, split)
                )
                products[i] = products[i] + tf.reshape(term, (-1,) + tuple(xi.shape))
                continue
            flat_row = tf.reshape(row, [n, -1])
            # a real output's rows by a complex input are complex: multiplied in the input's dtype
            dtype = xi.dtype if xi.dtype.is_complex and not o.dtype.is_complex else o.dtype
            term = tf.reshape(tf.linalg.matmul(tf.cast(w, dtype), tf.cast(flat_row, dtype)), (-1,) + tuple(xi.shape))
            products[i] = products[i] + tf.cast(term if xi.dtype.is_complex else tf.math.real(term), xi.dtype)
    return outs, products


def batched(mode, f):
    """A batched scenario of f as one tf.function (traced once per structure), g(xs, vectors) ->
    the stacked outputs and products as numpy: "pfor-direct", tf.vectorized_map over the first axis
    of the inputs; "pfor-rev" and "while-rev", the VJP with each cotangent of the batch from the
    rows of GradientTape.jacobian (with pfor, or a while loop) at the first sample's inputs."""
    if mode == "pfor-direct":
        g = tf.function(lambda xs, _: tf.vectorized_map(lambda a: tuple(flatten(f(*a))), tuple(xs)), autograph=False)
    else:
        g = tf.function(lambda xs, u: _jacobian_products(f, [x[0] for x in xs], u, use_pfor=mode == "pfor-rev"), autograph=False)

    def run(xs, vectors):
        result = g(list(xs), _constants(vectors))
        if mode == "pfor-direct":
            return [to_numpy(o) for o in result], []
        outs, products = result
        size = vectors[0].shape[0]
        return [np.stack([to_numpy(o)] * size) for o in outs], [to_numpy(p) for p in products]

    return run


def custom_gradient_rule(f):
    """f wrapped as users write a gradient of their own: tf.custom_gradient whose gradient function
    is a GradientTape's gradient of f, recorded in the forward pass."""

    @tf.custom_gradient
    def g(*xs):
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(xs)
            outs = flatten(f(*xs))
        return outs, lambda *upstream: _grads(tape, outs, list(xs), upstream)

    return g


def variables(xs):
    """The inputs as tf.Variable, as users pass a model's weights (ops read them through their handles:
    ReadVariableOp, ResourceGather)."""
    return [tf.Variable(x) for x in xs]


def custom(rule, mode, f, xs, u, v, v2):
    """A scenario of f wrapped in the user-defined rule `rule` ("custom_gradient"), or of f with its
    inputs bound another way (the input kind "variable": `variables`): "direct", "rev", "fwd" as
    `direct`, `vjp`, `jvp`; a second-order composition as `second_order`."""
    if rule == "variable":
        g, xs = f, variables(xs)
    else:
        g = {"custom_gradient": custom_gradient_rule}[rule](f)
    if mode == "direct":
        return direct(g, xs)
    if mode == "rev":
        return vjp(g, xs, u)
    if mode == "fwd":
        return jvp(g, xs, v)
    return second_order(g, xs, u, v, v2, mode)
