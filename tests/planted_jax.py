"""A test-only catalog of JAX functions with planted AD bugs (wrong `custom_vjp` / `custom_jvp`
rules, a jit-only divergence, wrong batching rules), and honest traps.

Importing this module registers them as `jax.nabla_planted.<name>`, so cases name them like any
jax API and reproducers can call them once this module is imported.
"""

import types

import jax
import jax.numpy as jnp
from jax.extend.core import Primitive
from jax.interpreters import ad, batching, mlir


@jax.custom_vjp
def wrong_vjp(x):
    """sin, with a VJP 1.5 times too large (no forward rule: forward mode is unsupported)."""
    return jnp.sin(x)


wrong_vjp.defvjp(lambda x: (jnp.sin(x), x), lambda x, g: (g * jnp.cos(x) * 1.5,))


@jax.custom_jvp
def wrong_jvp(x):
    """exp, with a tangent rule that forgets the factor exp(x) (reverse mode transposes it)."""
    return jnp.exp(x)


wrong_jvp.defjvp(lambda primals, tangents: (jnp.exp(primals[0]), tangents[0]))


@jax.custom_jvp
def affine_jvp(x):
    """sin, whose tangent rule adds a constant: forward mode is wrong, reverse mode (the transpose of
    the linear part) is right."""
    return jnp.sin(x)


affine_jvp.defjvp(lambda primals, tangents: (jnp.sin(primals[0]), jnp.cos(primals[0]) * tangents[0] + 0.1))


@jax.custom_jvp
def three_squared(x):
    """3 x^2 (the derivative of x^3) whose own derivative is wrong: 5 x instead of 6 x."""
    return 3 * x * x


three_squared.defjvp(lambda primals, tangents: (3 * primals[0] ** 2, 5 * primals[0] * tangents[0]))


@jax.custom_jvp
def wrong_second_order(x):
    """x^3 with a right first derivative and a wrong second derivative."""
    return x**3


wrong_second_order.defjvp(lambda primals, tangents: (primals[0] ** 3, three_squared(primals[0]) * tangents[0]))


def _under_jit(x):
    while hasattr(x, "primal"):
        x = x.primal
    return isinstance(x, jax.core.Tracer)


def jit_only(x):
    """sin, 0.1 % larger when traced by jax.jit."""
    return jnp.sin(x) * (1.001 if _under_jit(x) else 1.0)


def vjp_raising(error):
    """2 x, whose reverse rule raises `error`."""

    @jax.custom_vjp
    def f(x):
        return x * 2

    def fail(residual, g):
        raise error

    f.defvjp(lambda x: (x * 2, None), fail)
    return f


internal_error_vjp = vjp_raising(RuntimeError("INTERNAL: planted failure in planted.cc:1"))
not_implemented_vjp = vjp_raising(NotImplementedError("Differentiation rule for 'planted' not implemented"))

C = complex(0.5, 2.0)


@jax.custom_vjp
def wrong_complex_vjp(z):
    """z * c, with a VJP that conjugates c (JAX's VJP of z * c is g * c)."""
    return z * C


wrong_complex_vjp.defvjp(lambda z: (z * C, None), lambda _, g: (g * jnp.conj(C),))


@jax.custom_vjp
def right_complex_vjp(z):
    """The correct version of wrong_complex_vjp."""
    return z * C


right_complex_vjp.defvjp(lambda z: (z * C, None), lambda _, g: (g * C,))


def where_glue(x):
    """A C1 function glued by jnp.where at 0: x^2 / 2 for x > 0, 0 otherwise (no kink in f')."""
    return jnp.where(x > 0, x * x / 2, 0.0)


def cond_sign(x):
    """lax.cond on the sign of the sum: x^2 on one side, -x^2 on the other."""
    return jax.lax.cond(jnp.sum(x) > 0, lambda y: y * y, lambda y: -y * y, x)


def boolean_mask(x):
    """The positive entries squared: a value-dependent shape, so jax.jit cannot trace it (not a bug)."""
    return x[x > 0] ** 2


@jax.custom_batching.custom_vmap
def _sin_wrong_vmap(x):
    return jnp.sin(x)


@_sin_wrong_vmap.def_vmap
def _sin_wrong_vmap_rule(axis_size, in_batched, x):
    return jnp.sin(x) * 1.5, in_batched[0]


@jax.custom_jvp
def wrong_vmap_rule(x):
    """sin, right in every mode but with a vmap rule (jax.custom_batching) 1.5 times too large."""
    return _sin_wrong_vmap(x)


wrong_vmap_rule.defjvp(lambda primals, tangents: (_sin_wrong_vmap(primals[0]), tangents[0] * jnp.cos(primals[0])))


fused_scale_p = Primitive("nabla_fused_scale")


def fused_scale(c, t):
    """c * t (same shapes) as one primitive, as a user's fused kernel: bilinear, so JAX derives its
    JVP and transposes from `ad.defbilinear`; its batching rule is `_fused_scale_batched`."""
    return fused_scale_p.bind(c, t)


fused_scale_p.def_impl(lambda c, t: c * t)
fused_scale_p.def_abstract_eval(lambda c, t: t)
mlir.register_lowering(fused_scale_p, mlir.lower_fun(lambda c, t: c * t, multiple_results=False))
ad.defbilinear(fused_scale_p, lambda ct, c, t: fused_scale(ct, t), lambda ct, c, t: fused_scale(c, ct))


def _fused_scale_batched(args, dims):
    """The kernel takes no broadcasting, so an unbatched operand is stacked to the batch by hand, with
    jnp.repeat where jnp.tile was meant: each sample gets a block of the wrong rows. Right when both
    operands are batched (jax.vmap of the function, its JVP and VJP); wrong when only one is, as in
    jacfwd and jacrev of a JVP (the tangents batched, the point not)."""
    size = next(x.shape[d] for x, d in zip(args, dims) if d is not None)
    stacked = [
        jnp.moveaxis(x, d, 0) if d is not None else jnp.repeat(x, size, axis=0).reshape((size, *x.shape))
        for x, d in zip(args, dims)
    ]
    return fused_scale(*stacked), 0


batching.primitive_batchers[fused_scale_p] = _fused_scale_batched


@jax.custom_jvp
def fused_scale_jvp(x):
    """sin, whose JVP rule scales the tangent by cos(x) with the fused kernel above: right in every mode
    and order, and under jax.vmap; its nested transforms (jacfwd(jacfwd), jacrev(jacfwd)) are wrong."""
    return jnp.sin(x)


fused_scale_jvp.defjvp(lambda primals, tangents: (jnp.sin(primals[0]), fused_scale(jnp.cos(primals[0]), tangents[0])))


@jax.custom_jvp
def sparse_input_jvp(x):
    """sin, whose tangent rule takes a wrong "sparse input" shortcut: when its input holds an exact
    zero, it forgets the factor cos(x) everywhere (reverse mode transposes the rule: wrong too). The
    oracle's single calls take dense inputs; a program meets sparse ones whenever an earlier op zeroes
    entries (relu, masking), as models do."""
    return jnp.sin(x)


def _sparse_input_jvp_rule(primals, tangents):
    (x,), (t,) = primals, tangents
    return jnp.sin(x), t * jnp.where(jnp.any(x == 0), jnp.ones_like(x), jnp.cos(x))


sparse_input_jvp.defjvp(_sparse_input_jvp_rule)


PLANTED = {
    "wrong_vjp": (wrong_vjp, "rev-vs-numeric"),
    "wrong_jvp": (wrong_jvp, "fwd-vs-numeric"),
    "affine_jvp": (affine_jvp, "fwd-vs-numeric"),
    "wrong_second_order": (wrong_second_order, "second-order-mismatch"),
    "jit_only": (jit_only, "compiled-mismatch"),
    "internal_error_vjp": (internal_error_vjp, "crash"),
    "not_implemented_vjp": (not_implemented_vjp, "missing-derivative"),
    "wrong_complex_vjp": (wrong_complex_vjp, "rev-vs-numeric"),
}
# Planted bugs only a scenario set beyond the core sees: name -> (function, expected kind, scenario set).
SCENARIO_PLANTED = {
    "wrong_vmap_rule": (wrong_vmap_rule, "batched-mismatch", "batched"),
    "fused_scale_jvp": (fused_scale_jvp, "custom-rule-mismatch", "custom"),
}
# Planted interaction bugs only a program shows: name -> (function, expected kind, the program's calls
# before it: (API, extra arguments) each, the first one fed the case's input).
PROGRAM_PLANTED = {"sparse_input_jvp": (sparse_input_jvp, "fwd-vs-numeric", [("jax.nn.relu", [])])}
TRAPS = {"right_complex_vjp": right_complex_vjp, "where_glue": where_glue, "cond_sign": cond_sign, "boolean_mask": boolean_mask}

jax.nabla_planted = types.SimpleNamespace(
    **{k: fn for k, (fn, _) in PLANTED.items()},
    **{k: v[0] for k, v in SCENARIO_PLANTED.items()},
    **{k: v[0] for k, v in PROGRAM_PLANTED.items()},
    **TRAPS,
)
