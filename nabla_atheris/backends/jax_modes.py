"""JAX execution scenarios on jax arrays and numpy arrays.

This module imports only jax and numpy: the reproducer of a finding embeds its source verbatim,
so a maintainer's script runs exactly the code the fuzzer ran. Every scenario takes a function of
the differentiable inputs `f(*xs)` and returns numpy arrays. Complex gradients follow PyTorch's
convention (the gradient of Re(sum(conj(u) * f)) as d/da + i d/db), which is the conjugate of
JAX's: a VJP is `conj(pullback(conj(u)))`. The `jit` scenarios are the same functions under
`jax.jit`, taking inputs and directions as arguments so that a structure compiles once.
"""

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)



# The conversions between the library's values and numpy: an error raised in them is the harness' own.
GLUE = ("flatten", "to_numpy", "as_like", "_cotangent")

def flatten(out):
    """The outputs of a call as a flat tuple of arrays (tuples, lists, named tuples, pytrees unpacked)."""
    return tuple(jnp.asarray(leaf) for leaf in jax.tree_util.tree_leaves(out))


def to_numpy(a):
    """An array's values as numpy (half types widened to float32, float0 tangents as zeros)."""
    a = np.asarray(a)
    if a.dtype == jax.dtypes.float0:
        return np.zeros(a.shape, dtype=np.float32)
    if a.dtype in (jnp.bfloat16, np.float16):
        return a.astype(np.float32)
    return a


def is_diff(a):
    return jnp.issubdtype(a.dtype, jnp.inexact)


def as_like(array, like):
    """A numpy array as a jax array of `like`'s dtype (real part only for a real `like`)."""
    array = jnp.asarray(array)
    if not jnp.issubdtype(like.dtype, jnp.complexfloating):
        array = jnp.real(array)
    return array.astype(like.dtype).reshape(like.shape)


def _cotangent(u, out):
    if not is_diff(out):
        return np.zeros(out.shape, dtype=jax.dtypes.float0)
    return jnp.conj(as_like(u, out))


def _inner(arrays, others):
    """sum(Re(a * conj(b))) over the floating pairs, as a traceable jax scalar."""
    terms = [jnp.sum(jnp.real(a * jnp.conj(as_like(b, a)))).astype(jnp.float64) for a, b in zip(arrays, others) if is_diff(a)]
    return sum(terms) if terms else jnp.zeros((), jnp.float64)


def flat(f):
    return lambda *xs: flatten(f(*xs))


def direct(f, xs):
    """The call, eagerly."""
    return [to_numpy(o) for o in flat(f)(*xs)]


def _vjp(f, xs, u):
    outs, pullback = jax.vjp(flat(f), *xs)
    grads = pullback(tuple(_cotangent(ui, o) for ui, o in zip(u, outs)))
    return outs, [jnp.conj(g) for g in grads]


def _jvp(f, xs, v):
    return jax.jvp(flat(f), tuple(xs), tuple(as_like(vi, x) for vi, x in zip(v, xs)))


def vjp(f, xs, u):
    """Reverse mode: the outputs and the vector-Jacobian product with cotangents `u`."""
    outs, grads = _vjp(f, xs, u)
    return [to_numpy(o) for o in outs], [to_numpy(g) for g in grads]


def jvp(f, xs, v):
    """Forward mode: the primal outputs and the Jacobian-vector product with tangents `v`."""
    outs, tangents = _jvp(f, xs, v)
    return [to_numpy(o) for o in outs], [to_numpy(t) for t in tangents]


def _phi_rev(f, u, v):
    """x -> <J(x)^T u, v>, a real scalar function of the inputs."""
    return lambda *xs: _inner(_vjp(f, xs, u)[1], v)


def _phi_fwd(f, u, v):
    """x -> <u, J(x) v> by forward mode."""
    return lambda *xs: _inner(_jvp(f, xs, v)[1], u)


def _directional(phi, xs, v2, mode):
    """d/dt phi(x + t v2) by reverse mode (full gradient) or forward mode."""
    if mode == "rev":
        _, pullback = jax.vjp(phi, *xs)
        return _inner([jnp.conj(g) for g in pullback(jnp.ones((), jnp.float64))], v2)
    return jax.jvp(phi, tuple(xs), tuple(as_like(w, x) for w, x in zip(v2, xs)))[1]


def second_order(f, xs, u, v, v2, mode):
    """d/dt <u, J(x + t v2) v> at t = 0, by one of four compositions of forward and reverse mode."""
    outer, _, inner_mode = mode.split("-")
    phi = _phi_rev(f, u, v) if inner_mode == "rev" else _phi_fwd(f, u, v)
    return float(_directional(phi, xs, v2, outer))


def jitted(mode, f):
    """The scenario `mode` ("direct", "rev", "fwd") of `f` under jax.jit, as g(xs, vectors)."""
    if mode == "direct":
        return jax.jit(lambda xs, _: flat(f)(*xs))
    if mode == "rev":
        return jax.jit(lambda xs, u: _vjp(f, xs, u))
    return jax.jit(lambda xs, v: _jvp(f, xs, v))


def compiled(g, mode, xs, vectors):
    """Run a jitted scenario: the outputs and (for rev/fwd) the products, as numpy."""
    result = g(tuple(xs), tuple(vectors))
    if mode == "direct":
        return [to_numpy(o) for o in result], []
    outs, products = result
    return [to_numpy(o) for o in outs], [to_numpy(p) for p in products]
