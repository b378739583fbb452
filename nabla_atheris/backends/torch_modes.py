"""PyTorch execution scenarios on plain torch tensors and numpy arrays.

This module imports only torch, numpy and `shared_modes`: the reproducer of a finding embeds their
source verbatim, so a maintainer's script runs exactly the code the fuzzer ran. Every scenario takes
a function of the differentiable inputs `f(*xs) -> list of outputs` and returns numpy arrays. A
first-order gradient or tangent that torch reports as absent (`None`: the output is not connected to
the input) is returned as `None`, so that the oracle can tell "no derivative" from "a zero
derivative"; inside second-order compositions absent gradients are zeros.
"""

import numpy as np
import torch
import torch.autograd.forward_ad as fwd_ad

from nabla_atheris.backends.shared_modes import paired, shapes_kept

# The conversions between the library's values and numpy: an error raised in them is the harness' own.
GLUE = ("flatten", "to_numpy", "as_like")


def flatten(out):
    """The outputs of a call as a flat list of tensors (tuples, lists and named tuples unpacked)."""
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [t for item in out for t in flatten(item)]
    if isinstance(out, (bool, int, float, complex)):
        return [torch.tensor(out)]
    if out is None:
        return []
    raise TypeError(f"unsupported output type {type(out).__name__}")


def to_numpy(t):
    """A tensor's values as numpy (half types widened to float32; lazily-zero, sparse, conjugated and
    negated views materialized)."""
    t = t.detach()
    if t._is_zerotensor():  # autograd's efficient zeros (e.g. the gradient of sgn) refuse .numpy()
        t = torch.zeros(t.shape, dtype=t.dtype)
    if t.layout != torch.strided:
        t = t.to_dense()
    t = t.resolve_conj().resolve_neg().cpu()
    if t.dtype in (torch.float16, torch.bfloat16):
        t = t.float()
    return t.numpy().copy()


def is_diff_output(t):
    return t.is_floating_point() or t.is_complex()


def as_like(array, like):
    """A numpy array as a tensor of `like`'s dtype (0-d arrays stay 0-d)."""
    return torch.from_numpy(np.array(array, copy=True, order="C")).to(like.dtype)


def zeros_for_none(grads, like):
    return [torch.zeros_like(x) if g is None else g for g, x in zip(grads, like)]


MODULES = {}  # (module class, options, dtype) -> the nn module module_call built
MAX_MODULES = 256  # modules kept at most (the cache starts over beyond)


def _frozen(value):
    return tuple(_frozen(v) for v in value) if isinstance(value, (list, tuple)) else value


def module_call(module_type):
    """A `torch.nn` module as a function: keyword arguments construct it, positional arguments are its
    inputs. It is built once per options and dtype (the inputs' first floating one) and kept: its
    weights drawn under `torch.manual_seed(0)` (the global generator's state restored afterwards),
    cast to that dtype, in evaluation mode (dropout off, batch norm on its running statistics), so
    every scenario and every reproducer calls the same deterministic function. The weights are the
    module's own (requiring gradients, as users build it); derivatives are taken of its inputs."""

    def call(*inputs, **options):
        dtype = next((x.dtype for x in inputs if isinstance(x, torch.Tensor) and is_diff_output(x)), None)
        key = (module_type, tuple(sorted((k, _frozen(v)) for k, v in options.items())), dtype)
        if key not in MODULES:
            if len(MODULES) >= MAX_MODULES:
                MODULES.clear()
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(0)
                module = module_type(**options)
            MODULES[key] = (module if dtype is None else module.to(dtype)).eval()
        return MODULES[key](*inputs)

    return call


def direct(f, xs):
    """The call with gradients off."""
    with torch.no_grad():
        return [to_numpy(t) for t in flatten(f(*xs))]


def _leaves(xs):
    return [x.detach().clone().requires_grad_(True) for x in xs]


def _project(outs, cotangents):
    """The terms of <u, f> for the differentiable outputs that are connected to the graph."""
    outs = shapes_kept(outs, cotangents)
    pairs = [(o, as_like(u, o)) for o, u in zip(outs, cotangents) if is_diff_output(o) and o.requires_grad]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def vjp(f, xs, cotangents):
    """Reverse mode: the outputs and the vector-Jacobian product with `cotangents` (None for an
    input that no output is connected to)."""
    leaves = _leaves(xs)
    outs = flatten(f(*leaves))
    targets, us = _project(outs, cotangents)
    if not targets:
        return [to_numpy(o) for o in outs], [None for _ in xs]
    grads = torch.autograd.grad(targets, leaves, us, allow_unused=True)
    return [to_numpy(o) for o in outs], [None if g is None else to_numpy(g) for g in grads]


def jvp(f, xs, tangents):
    """Forward mode with dual tensors: the primal outputs and the Jacobian-vector product (None for
    an output that carries no tangent)."""
    with fwd_ad.dual_level():
        duals = [fwd_ad.make_dual(x.detach().clone(), as_like(v, x)) for x, v in zip(xs, tangents)]
        outs = flatten(f(*duals))
        primals, tangent_outs = [], []
        for o in outs:
            if o.layout != torch.strided:  # forward AD cannot unpack a sparse result: no tangent to read
                primals.append(to_numpy(o))
                tangent_outs.append(None)
                continue
            p, t = fwd_ad.unpack_dual(o)
            primals.append(to_numpy(p))
            tangent_outs.append(None if t is None else to_numpy(t))
    return primals, tangent_outs


def _phi_rev(f, leaves, u, v):
    """<u, J v> computed as <J^T u, v>, differentiable with respect to the leaves."""
    outs = flatten(f(*leaves))
    targets, us = _project(outs, u)
    if not targets:
        return None
    grads = torch.autograd.grad(targets, leaves, us, allow_unused=True, create_graph=True)
    return _inner(zeros_for_none(grads, leaves), v)


def _inner(tensors, arrays):
    """Real inner product sum(Re(t * conj(a))) over the differentiable tensors."""
    terms = [(t * as_like(a, t).conj()).real.sum() for t, a in paired(tensors, arrays) if is_diff_output(t)]
    return sum(terms) if terms else torch.zeros((), dtype=torch.float64)


def _phi_fwd_dual(f, leaves, u, v):
    """<u, J v> from dual tensors, differentiable with respect to the leaves."""
    with fwd_ad.dual_level():
        duals = [fwd_ad.make_dual(x, as_like(vi, x)) for x, vi in zip(leaves, v)]
        tangents = []
        for o in flatten(f(*duals)):
            if o.layout != torch.strided:  # as in jvp: forward AD cannot unpack a sparse result
                tangents.append(None)
                continue
            t = fwd_ad.unpack_dual(o).tangent
            tangents.append(torch.zeros_like(fwd_ad.unpack_dual(o).primal) if t is None else t)
    return _inner([t for t in tangents if t is not None], [a for t, a in zip(tangents, u) if t is not None])


def _phi_func_jvp(f, xs, u, v):
    """<u, J v> from torch.func.jvp (composable with an outer torch.func.jvp), over the strided
    outputs (as in jvp: forward AD has no tangent of a sparse result)."""
    strided = []

    def dense(*a):
        outs = flatten(f(*a))
        strided[:] = [o.layout == torch.strided for o in outs]
        return tuple(o for o in outs if o.layout == torch.strided) or (torch.zeros(()),)  # jvp needs an output

    _, tangents = torch.func.jvp(dense, tuple(xs), tuple(as_like(vi, x) for vi, x in zip(v, xs)))
    return _inner(tangents, [a for a, keep in zip(u, strided) if keep])


def second_order(f, xs, u, v, v2, mode):
    """d/dt <u, J(x + t v2) v> at t = 0, by one of four compositions of forward and reverse mode."""
    if mode == "rev-over-rev":
        leaves = _leaves(xs)
        phi = _phi_rev(f, leaves, u, v)
        if phi is None or not phi.requires_grad:
            return 0.0
        grads = zeros_for_none(torch.autograd.grad(phi, leaves, allow_unused=True), leaves)
        return float(_inner(grads, v2).detach())
    if mode == "fwd-over-rev":
        with fwd_ad.dual_level():
            duals = [fwd_ad.make_dual(x, as_like(w, x)) for x, w in zip(_leaves(xs), v2)]
            phi = _phi_rev(f, duals, u, v)
            if phi is None:
                return 0.0
            tangent = fwd_ad.unpack_dual(phi).tangent
            return 0.0 if tangent is None else float(tangent.detach())
    if mode == "rev-over-fwd":
        leaves = _leaves(xs)
        phi = _phi_fwd_dual(f, leaves, u, v)
        if not phi.requires_grad:
            return 0.0
        grads = zeros_for_none(torch.autograd.grad(phi, leaves, allow_unused=True), leaves)
        return float(_inner(grads, v2).detach())
    if mode == "fwd-over-fwd":
        tangent_v2 = tuple(as_like(w, x) for w, x in zip(v2, xs))
        _, out = torch.func.jvp(lambda *a: _phi_func_jvp(f, a, u, v), tuple(x.detach() for x in xs), tangent_v2)
        return float(out.detach())
    raise ValueError(f"unknown second-order mode {mode}")


# --- the scenario sets beyond the core: torch.compile, batching, user-defined rules ---------------
COMPILE_BACKENDS = {"aot": "aot_eager", "inductor": "inductor"}


def compiled_function(f, kind, mode="direct"):
    """f under torch.compile with the backend of `kind` ("aot": aot_eager, "inductor"), a whole graph
    for the shapes it meets (fullgraph, no dynamic shapes); for forward mode ("fwd"), torch.func.jvp
    of f compiled as one function, the forward mode torch.compile supports (dual tensors passed into
    a compiled function are not: Inductor drops their tangents, pytorch/pytorch#187284)."""
    target = f if mode != "fwd" else jvp_function(f)
    return torch.compile(target, backend=COMPILE_BACKENDS[kind], fullgraph=True, dynamic=False)


def jvp_function(f):
    """g(xs, vs) = torch.func.jvp(f, xs, vs), from source of its own (a fuzzing harness instruments
    this module, and TorchDynamo cannot trace instrumented code)."""
    namespace = {"torch": torch, "f": f}
    exec(compile("def g(xs, vs):\n    return torch.func.jvp(f, tuple(xs), tuple(vs))\n", "<jvp>", "exec"), namespace)
    return namespace["g"]


def compiled(g, mode, xs, vectors):
    """A scenario ("direct", "rev", "fwd") of the compiled function g of `compiled_function`: outputs
    and products, as the eager scenario computes them (the backward graph AOTAutograd compiled; the
    compiled JVP, no tangent for an output that is not floating)."""
    if mode == "direct":
        return direct(g, xs), []
    if mode == "rev":
        return vjp(g, xs, vectors)
    primals = [x.detach() for x in xs]
    outs, tangents = g(primals, [as_like(v, x) for v, x in zip(vectors, primals)])
    outs, tangents = flatten(outs), flatten(tangents)
    return [to_numpy(o) for o in outs], [to_numpy(t) if is_diff_output(o) else None for o, t in zip(outs, tangents)]


def cast_like(t, like):
    """A direction tensor in `like`'s dtype and shape (real part only for a real `like`); traceable."""
    if t.is_complex() and not like.is_complex():
        t = t.real
    return t.to(like.dtype).reshape(like.shape)


def func_vjp(f, xs, u):
    """Reverse mode by torch.func.vjp (composable with vmap): outputs and the VJP with cotangents u
    (tensors), as tensors."""

    def floating(*a):
        outs = flatten(f(*a))
        return tuple(o for o in outs if is_diff_output(o)), outs

    diff_outs, pullback, outs = torch.func.vjp(floating, *xs, has_aux=True)
    us = [ui for ui, o in zip(u, outs) if is_diff_output(o)]
    # an empty output has nothing to weigh (under vmap it may come without its batch axis and size: lu_unpack's P)
    weights = tuple(torch.zeros_like(o) if 0 in (o.numel(), ui.numel()) else cast_like(ui, o) for ui, o in zip(us, diff_outs))
    return tuple(outs), pullback(weights)


def func_jvp(f, xs, v):
    """Forward mode by torch.func.jvp (composable with vmap): outputs and the JVP with tangents v (tensors)."""
    return torch.func.jvp(lambda *a: tuple(flatten(f(*a))), tuple(xs), tuple(cast_like(vi, x) for vi, x in zip(v, xs)))


def batched(mode, f, xs, vectors):
    """The scenario `mode` ("direct", "rev", "fwd") of f under torch.func.vmap over the first axis of
    the inputs and the directions (tensors): the stacked outputs and products, as numpy."""
    if mode == "direct":
        return [to_numpy(o) for o in torch.func.vmap(lambda *a: tuple(flatten(f(*a))))(*xs)], []
    product = func_vjp if mode == "rev" else func_jvp
    n = len(xs)
    outs, products = torch.func.vmap(lambda *a: product(f, a[:n], a[n:]))(*xs, *vectors)
    return [to_numpy(o) for o in outs], [to_numpy(p) for p in products]


def func_transposed_vjp(f, xs, v):
    """The JVP with tangents v as the transpose of torch.func.vjp (a VJP of the VJP): forward mode from
    reverse-mode rules, as a jvp rule may compute it (torch.func.jvp cannot run inside a rule that
    autograd's forward mode called: nested forward mode is not supported). Outputs and tangents
    (None for a non-floating output)."""

    def floating(*a):
        outs = flatten(f(*a))
        return tuple(o for o in outs if is_diff_output(o)), outs

    diff_outs, pullback, outs = torch.func.vjp(floating, *xs, has_aux=True)
    _, transpose = torch.func.vjp(pullback, tuple(torch.zeros_like(o) for o in diff_outs))
    tangents = iter(transpose(tuple(torch.zeros_like(x) if t is None else cast_like(t, x) for t, x in zip(v, xs)))[0])
    return tuple(outs), tuple(next(tangents) if is_diff_output(o) else None for o in outs)


def user_rule(f):
    """f wrapped as users write their own derivative rules: a torch.autograd.Function whose backward
    is torch.func.vjp of f, whose jvp is the transpose of that VJP (`func_transposed_vjp`) and whose
    vmap rule is torch.func.vmap of f (inputs saved for both modes, non-floating outputs marked
    non-differentiable)."""

    class UserRule(torch.autograd.Function):
        @staticmethod
        def forward(*xs):  # an input returned as it is becomes a view (autograd.Function's rule for saved inputs);
            # a view of an input (as_strided) is copied: a Function returning a view needs a jvp returning one
            return tuple(o.view_as(o) if any(o is x for x in xs) else o.clone() if o._is_view() else o for o in flatten(f(*xs)))

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(*inputs)
            ctx.save_for_forward(*inputs)
            ctx.mark_non_differentiable(*[o for o in output if not is_diff_output(o)])

        @staticmethod
        def backward(ctx, *grads):
            return func_vjp(f, ctx.saved_tensors, grads)[1]

        @staticmethod
        def jvp(ctx, *tangents):
            return func_transposed_vjp(f, ctx.saved_tensors, tangents)[1]

        @staticmethod
        def vmap(info, in_dims, *xs):
            moved = [x if d is None else x.movedim(d, 0) for x, d in zip(xs, in_dims)]
            dims = tuple(None if d is None else 0 for d in in_dims)
            outs = torch.func.vmap(lambda *a: tuple(flatten(f(*a))), in_dims=dims, randomness=info.randomness)(*moved)
            return outs, tuple(0 for _ in outs)

    return UserRule.apply


def nested_hessian(g, xs, u, v, v2, outer):
    """The 2 x 2 Hessian of t -> <u, g(x + t0 v + t1 v2)> at t = 0 by `outer`(jacfwd) (outer: "jacfwd"
    or "jacrev"), as numpy: its off-diagonal entry is d/dt <u, J(x + t v2) v>."""

    def line(t):
        moved = [x + t[0] * as_like(vi, x) + t[1] * as_like(wi, x) for x, vi, wi in zip(xs, v, v2)]
        return _inner(flatten(g(*moved)), u)

    transform = torch.func.jacrev if outer == "jacrev" else torch.func.jacfwd
    return to_numpy(transform(torch.func.jacfwd(line))(torch.zeros(2, dtype=torch.float64)))


def strided(x):
    """x as a non-contiguous view of a larger tensor (every other element of a new last axis), made
    differentiably, as users pass slices and transposes."""
    return torch.stack([x, torch.zeros_like(x)], dim=-1)[..., 0]


def strided_inputs(f):
    """f called with its inputs as non-contiguous views (`strided`)."""
    return lambda *xs: f(*(strided(x) for x in xs))


def custom(rule, mode, f, xs, u, v, v2):
    """A scenario of f wrapped in the user-defined rule `rule` ("function": `user_rule`) or with its
    inputs bound another way (the input kind "strided": `strided_inputs`): "direct", "rev", "fwd" as
    `direct`, `vjp`, `jvp`; a second-order composition as `second_order`; "jacfwd-jacfwd" and
    "jacrev-jacfwd" as `nested_hessian`."""
    g = {"function": user_rule, "strided": strided_inputs}[rule](f)
    if mode == "direct":
        return direct(g, xs)
    if mode == "rev":
        return vjp(g, xs, u)
    if mode == "fwd":
        return jvp(g, xs, v)
    if mode in ("jacfwd-jacfwd", "jacrev-jacfwd"):
        return nested_hessian(g, [x.detach() for x in xs], u, v, v2, mode.split("-")[0])
    return second_order(g, xs, u, v, v2, mode)
