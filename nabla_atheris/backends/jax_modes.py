"""JAX execution scenarios on jax arrays and numpy arrays.

This module imports only jax, numpy and `shared_modes`: the reproducer of a finding embeds their
source verbatim, so a maintainer's script runs exactly the code the fuzzer ran. Every scenario takes
a function of the differentiable inputs `f(*xs)` and returns numpy arrays. Complex gradients follow
PyTorch's convention (the gradient of Re(sum(conj(u) * f)) as d/da + i d/db), which is the conjugate
of JAX's: a VJP is `conj(pullback(conj(u)))`. The `jit` scenarios are the same functions under
`jax.jit`, taking inputs and directions as arguments so that a structure compiles once.

XLA compiles every JAX computation, eager calls included (op by op). The reference scenarios (eager
calls, first and second order, numerical derivatives) are compiled with XLA's fastest options
(`REFERENCE_XLA_FLAGS`: no LLVM optimization, the classic loop emitters), about twice as fast to
compile; the jit scenarios are compiled with XLA's own defaults (`LIBRARY_XLA_OPTIONS`), the code
generator users get. So a jit scenario compares XLA's optimizing code generator with its plain one.
"""

import os

REFERENCE_XLA_FLAGS = ("--xla_backend_optimization_level=0", "--xla_cpu_use_fusion_emitters=false")
LIBRARY_XLA_OPTIONS = {"xla_backend_optimization_level": 3, "xla_cpu_use_fusion_emitters": True}  # XLA's defaults
_user_flags = os.environ.get("XLA_FLAGS", "")
os.environ["XLA_FLAGS"] = " ".join(
    [_user_flags] + [f for f in REFERENCE_XLA_FLAGS if f.split("=")[0] not in _user_flags]
).strip()  # read when XLA starts, before the first computation

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from nabla_atheris.backends.shared_modes import paired, shapes_kept  # noqa: E402

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
    terms = [jnp.sum(jnp.real(a * jnp.conj(as_like(b, a)))).astype(jnp.float64) for a, b in paired(arrays, others) if is_diff(a)]
    return sum(terms) if terms else jnp.zeros((), jnp.float64)


def flat(f):
    return lambda *xs: flatten(f(*xs))


def direct(f, xs):
    """The call, eagerly."""
    return [to_numpy(o) for o in flat(f)(*xs)]


def _vjp(f, xs, u):
    outs, pullback = jax.vjp(flat(f), *xs)
    grads = pullback(tuple(_cotangent(ui, o) for ui, o in zip(u, shapes_kept(outs, u))))
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


def _second_order(f, xs, u, v, v2, mode):
    outer, _, inner_mode = mode.split("-")
    phi = _phi_rev(f, u, v) if inner_mode == "rev" else _phi_fwd(f, u, v)
    return _directional(phi, xs, v2, outer)


def second_order(f, xs, u, v, v2, mode):
    """d/dt <u, J(x + t v2) v> at t = 0, by one of four compositions of forward and reverse mode."""
    return float(_second_order(f, xs, u, v, v2, mode))


def second_orders(f, modes):
    """The compositions `modes` of `f` as one jitted function (one XLA computation, compiled once per
    structure): g(xs, u, v, v2) -> {composition: value}. A composition that raises while traced is
    left out (run alone, it raises its own error)."""

    def body(xs, u, v, v2):
        values = {}
        for mode in modes:
            try:
                values[mode] = _second_order(f, xs, u, v, v2, mode)
            except Exception:  # left out: the caller runs it alone
                continue
        return values

    g = jax.jit(body)
    return lambda xs, u, v, v2: {mode: float(value) for mode, value in g(tuple(xs), tuple(u), tuple(v), tuple(v2)).items()}


def at_points(mode, f):
    """Reverse ("rev") or forward ("fwd") mode of `f` under jax.jit with the reference options, as
    g(xs, vectors) -> (outputs, products) as numpy: the first-order product at the points where a
    numerical derivative evaluates it, compiled once per structure instead of run op by op."""
    g = jax.jit(lambda xs, w: _vjp(f, xs, w) if mode == "rev" else _jvp(f, xs, w))

    def run(xs, vectors):
        outs, products = g(tuple(xs), tuple(vectors))
        return [to_numpy(o) for o in outs], [to_numpy(p) for p in products]

    return run


def jitted(mode, f):
    """The scenario `mode` ("direct", "rev", "fwd") of `f` under jax.jit, as g(xs, vectors)."""
    if mode == "direct":
        return jax.jit(lambda xs, _: flat(f)(*xs), compiler_options=LIBRARY_XLA_OPTIONS)
    if mode == "rev":
        return jax.jit(lambda xs, u: _vjp(f, xs, u), compiler_options=LIBRARY_XLA_OPTIONS)
    return jax.jit(lambda xs, v: _jvp(f, xs, v), compiler_options=LIBRARY_XLA_OPTIONS)


def compiled(g, mode, xs, vectors):
    """Run a jitted scenario: the outputs and (for rev/fwd) the products, as numpy."""
    result = g(tuple(xs), tuple(vectors))
    if mode == "direct":
        return [to_numpy(o) for o in result], []
    outs, products = result
    return [to_numpy(o) for o in outs], [to_numpy(p) for p in products]


def jitted_together(f):
    """Reverse and forward mode of `f` as one jitted function (one XLA computation, compiled once per
    structure): g(xs, u, v) -> {"rev": (outputs, VJP), "fwd": (outputs, JVP)} as numpy."""
    g = jax.jit(lambda xs, u, v: (_vjp(f, xs, u), _jvp(f, xs, v)), compiler_options=LIBRARY_XLA_OPTIONS)

    def run(xs, u, v):
        results = g(tuple(xs), tuple(u), tuple(v))
        numpy = lambda values: [to_numpy(value) for value in values]  # noqa: E731
        return {mode: (numpy(outs), numpy(products)) for mode, (outs, products) in zip(("rev", "fwd"), results)}

    return run


# --- the scenario sets beyond the core: batching, user-defined rules ------------------------------
def batched(mode, f):
    """The scenario `mode` ("direct", "rev", "fwd") of f under jax.vmap over the first axis of the
    inputs and the directions, jitted with the reference options (compiled once per structure), as
    g(xs, vectors) -> the stacked outputs and products as numpy."""
    if mode == "direct":
        g = jax.jit(lambda xs, _: jax.vmap(flat(f))(*xs))
    else:
        product = _vjp if mode == "rev" else _jvp
        g = jax.jit(lambda xs, w: jax.vmap(lambda a, b: product(f, a, b))(tuple(xs), tuple(w)))

    def run(xs, vectors):
        result = g(tuple(xs), tuple(vectors))
        outs, products = (result, []) if mode == "direct" else result
        return [to_numpy(o) for o in outs], [to_numpy(p) for p in products]

    return run


def custom_vjp_rule(f):
    """f wrapped as users write a reverse-mode rule: jax.custom_vjp whose forward pass returns jax.vjp's
    pullback as the residual and whose backward pass applies it."""
    g = jax.custom_vjp(flat(f))

    def forward(*xs):
        return jax.vjp(flat(f), *xs)

    g.defvjp(forward, lambda pullback, cotangents: pullback(cotangents))
    return g


def custom_jvp_rule(f):
    """f wrapped as users write a forward-mode rule: jax.custom_jvp whose rule is jax.jvp of f."""
    g = jax.custom_jvp(flat(f))
    g.defjvp(lambda primals, tangents: jax.jvp(flat(f), primals, tangents))
    return g


RULES = {"custom_vjp": custom_vjp_rule, "custom_jvp": custom_jvp_rule}


def nested_hessian(g, xs, u, v, v2, outer):
    """The 2 x 2 Hessian of t -> <u, g(x + t0 v + t1 v2)> at t = 0 by `outer`(jacfwd) (outer: "jacfwd"
    or "jacrev"): its off-diagonal entry is d/dt <u, J(x + t v2) v>."""

    def line(t):
        moved = [x + t[0] * as_like(vi, x) + t[1] * as_like(wi, x) for x, vi, wi in zip(xs, v, v2)]
        return _inner(flat(g)(*moved), u)

    transform = jax.jacrev if outer == "jacrev" else jax.jacfwd
    return transform(jax.jacfwd(line))(jnp.zeros(2, jnp.float64))


def _custom(rule, mode, f, xs, u, v, v2):
    g = RULES[rule](f)
    if mode == "direct":
        return flat(g)(*xs)
    if mode == "rev":
        return _vjp(g, xs, u)
    if mode == "fwd":
        return _jvp(g, xs, v)
    if mode in ("jacfwd-jacfwd", "jacrev-jacfwd"):
        return nested_hessian(g, xs, u, v, v2, mode.split("-")[0])
    return _second_order(g, xs, u, v, v2, mode)


def _custom_numpy(mode, value):
    if mode == "direct":
        return [to_numpy(o) for o in value]
    if mode in ("rev", "fwd"):
        return [to_numpy(o) for o in value[0]], [to_numpy(p) for p in value[1]]
    if mode in ("jacfwd-jacfwd", "jacrev-jacfwd"):
        return to_numpy(value)
    return float(value)


def custom(rule, mode, f, xs, u, v, v2):
    """A scenario of f wrapped in the user-defined rule `rule` ("custom_vjp", "custom_jvp"), eagerly:
    "direct", "rev", "fwd" as `direct`, `vjp`, `jvp`; a second-order composition as `second_order`;
    "jacfwd-jacfwd" and "jacrev-jacfwd" as `nested_hessian`."""
    return _custom_numpy(mode, _custom(rule, mode, f, xs, u, v, v2))


def custom_scenarios(f, scenarios):
    """The (rule, mode) `scenarios` of `custom` as one jitted function with the reference options
    (one XLA computation, compiled once per structure): g(xs, u, v, v2) -> {(rule, mode): value}. A
    scenario that raises while traced is left out (run alone, it raises its own error)."""

    def body(xs, u, v, v2):
        values = {}
        for i, (rule, mode) in enumerate(scenarios):
            try:
                values[i] = _custom(rule, mode, f, xs, u, v, v2)
            except Exception:  # left out: the caller runs it alone
                continue
        return values

    g = jax.jit(body)

    def run(xs, u, v, v2):
        values = g(tuple(xs), tuple(u), tuple(v), tuple(v2))
        return {scenarios[i]: _custom_numpy(scenarios[i][1], value) for i, value in values.items()}

    return run


def custom_alone(rule, mode, f, xs, u, v, v2):
    """One scenario of `custom` as the backend runs it: jitted on its own, or eagerly when it cannot be
    traced (then it raises its own error)."""
    values = custom_scenarios(f, ((rule, mode),))(xs, u, v, v2)
    return values[(rule, mode)] if (rule, mode) in values else custom(rule, mode, f, xs, u, v, v2)
