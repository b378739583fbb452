"""OneFlow execution scenarios on oneflow tensors and numpy arrays.

This module imports only oneflow, numpy and `shared_modes`: the reproducer of a finding embeds their
source verbatim, so a maintainer's script runs exactly the code the fuzzer ran. Every scenario takes
a function of the differentiable inputs `f(*xs)` and returns numpy arrays. OneFlow 0.9 has reverse
mode only. Its `oneflow.autograd.grad` has no `allow_unused` (it fails on an input the outputs do
not depend on, and a failed call leaves partial gradients behind that the next call adds), so
gradients are read from the leaves' `.grad` after `oneflow.autograd.backward`: the program under
test stays as it is, and an input the library gives no gradient is returned as `None` (zeros inside
the second-order composition). The compiled scenarios run `f` inside `oneflow.nn.Graph`: the call
itself ("direct") and a training step ("rev") whose gradient is read from SGD with learning rate 1
on zero-valued parameters added to the inputs (the updated parameters are minus the gradient,
exactly). Graph training compiles in float32 only (float64 has no CPU `sgd_update` kernel, and after
a failed plan the next compilation aborts the process), so the rev graph refuses other dtypes up
front.
"""

import numpy as np
import oneflow as flow

from nabla_atheris.backends.shared_modes import paired, shapes_kept

HALF = (flow.float16, flow.bfloat16)


class GraphRefused(Exception):
    """nn.Graph did not compile the call (tracing or planning failed, or the dtype cannot train)."""


# The conversions between the library's values and numpy: an error raised in them is the harness' own.
GLUE = ("flatten", "to_numpy", "as_like")


def flatten(out):
    """The outputs of a call as a flat list of tensors (tuples, lists and named tuples unpacked)."""
    if isinstance(out, flow.Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [t for item in out for t in flatten(item)]
    if isinstance(out, (bool, int, float)):
        return [flow.tensor(out)]
    if out is None:
        return []
    raise TypeError(f"unsupported output type {type(out).__name__}")


def to_numpy(t):
    """A tensor's values as numpy (half types widened to float32)."""
    t = t.detach()
    if t.dtype in HALF:
        t = t.to(flow.float32)
    return np.array(t.numpy(), copy=True)


def is_diff_output(t):
    return t.is_floating_point()


def as_like(array, like):
    """A numpy array as a tensor of `like`'s dtype and shape (0-d arrays stay 0-d)."""
    return flow.tensor(np.array(np.real(array), dtype=np.float64).reshape(tuple(like.shape)), dtype=like.dtype)


MODULES = []  # the nn modules module_call built: their parameters are leaves too


def module_call(module_type):
    """An `oneflow.nn` module as a function: keyword arguments construct it (seeded, in the inputs'
    floating dtype, once per options and dtype), positional arguments are its inputs. nn.Graph traces
    a copy of the eager instance (the same weights): a graph's training step leaves the parameters it
    traced unusable for eager autograd."""
    modules = {}

    def eager_module(options, dtype):
        key = (repr(sorted(options.items())), str(dtype))
        if key not in modules:
            with flow._oneflow_internal.lazy_mode.guard(False):
                flow.manual_seed(0)
                module = module_type(**options)
                modules[key] = module.to(dtype) if dtype is not None else module
                twin = module_type(**options)
                twin = twin.to(dtype) if dtype is not None else twin
                twin.load_state_dict(modules[key].state_dict())
                modules[(*key, "graph")] = twin
            MODULES.append(modules[key])  # its parameters' gradients are cleared by `grad`
        return modules[key] if not flow._oneflow_internal.lazy_mode.is_enabled() else modules[(*key, "graph")]

    def call(*inputs, **options):
        dtype = next((x.dtype for x in inputs if isinstance(x, flow.Tensor) and x.is_floating_point()), None)
        return eager_module(options, dtype)(*inputs)

    return call


def direct(f, xs):
    """The call with gradients off."""
    with flow.no_grad():
        return [to_numpy(t) for t in flatten(f(*xs))]


def _leaves(xs):
    return [x.detach().clone().requires_grad_(True) for x in xs]


def _project(outs, cotangents):
    """The outputs connected to the graph, and their cotangents."""
    outs = shapes_kept(outs, cotangents)
    pairs = [(o, as_like(u, o)) for o, u in zip(outs, cotangents) if is_diff_output(o) and o.requires_grad]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def grad(targets, leaves, cotangents, create_graph=False):
    """The leaves' gradients of <cotangents, targets> as OneFlow accumulates them (None for a leaf
    the targets do not depend on). The `.grad` of the leaves and of the nn modules' parameters is
    cleared afterwards, so that no scenario sees another's gradients."""
    flow.autograd.backward(targets, cotangents, retain_graph=create_graph, create_graph=create_graph)
    grads = [x.grad for x in leaves]
    for x in [*leaves, *(p for module in MODULES for p in module.parameters())]:
        x.grad = None
    return grads


def vjp(f, xs, cotangents):
    """Reverse mode: the outputs (computed with gradients on) and the vector-Jacobian product (None
    for an input that no output is connected to)."""
    leaves = _leaves(xs)
    outs = flatten(f(*leaves))
    targets, us = _project(outs, cotangents)
    if not targets:
        return [to_numpy(o) for o in outs], [None for _ in xs]
    return [to_numpy(o) for o in outs], [None if g is None else to_numpy(g) for g in grad(targets, leaves, us)]


def jvp(f, xs, tangents):
    raise NotImplementedError("OneFlow 0.9 has no forward-mode AD")


def _inner(tensors, arrays):
    """Real inner product sum(t * a) over the floating tensors, in float64."""
    terms = [(t.to(flow.float64) * as_like(a, t).to(flow.float64)).sum() for t, a in paired(tensors, arrays) if is_diff_output(t)]
    return sum(terms) if terms else flow.zeros((), dtype=flow.float64)


def second_order(f, xs, u, v, v2, mode):
    """d/dt <u, J(x + t v2) v> at t = 0 by reverse over reverse (OneFlow's only composition)."""
    if mode != "rev-over-rev":
        raise ValueError(f"OneFlow has no second-order mode {mode}")
    leaves = _leaves(xs)
    targets, us = _project(flatten(f(*leaves)), u)
    if not targets:
        return 0.0
    phi = _inner(zeros_for_none(grad(targets, leaves, us, create_graph=True), leaves), v)
    if not phi.requires_grad:
        return 0.0
    return float(_inner(zeros_for_none(grad([phi], leaves, [flow.ones_like(phi)]), leaves), v2).detach().numpy())


def zeros_for_none(grads, like):
    return [flow.zeros_like(x) if g is None else g for g, x in zip(grads, like)]


class _Offsets(flow.nn.Module):
    """Zero-valued parameters added to the inputs: their gradient is the inputs' gradient."""

    def __init__(self, xs):
        super().__init__()
        self.count = len(xs)
        for i, x in enumerate(xs):
            setattr(self, f"d{i}", flow.nn.Parameter(flow.zeros_like(x)))

    def forward(self, f, xs):
        return f(*[x + getattr(self, f"d{i}") for i, x in enumerate(xs)])

    def reset(self):
        with flow.no_grad():
            for i in range(self.count):
                getattr(self, f"d{i}").fill_(0.0)

    def gradients(self):
        return [-to_numpy(getattr(self, f"d{i}")) for i in range(self.count)]


class _Graph(flow.nn.Graph):
    """`f` under nn.Graph: the call ("direct"), or a training step on <u, f(x)> ("rev")."""

    def __init__(self, mode, f, xs):
        super().__init__()
        self.mode, self.f, self.count, self.built = mode, f, len(xs), False
        if mode == "rev":
            offsets = _Offsets(xs)
            self.eager_offsets = [offsets]  # the module itself: a graph's module attributes become proxies
            self.offsets = offsets
            self.add_optimizer(flow.optim.SGD(offsets.parameters(), lr=1.0))

    def build(self, *tensors):
        if self.mode == "direct":
            outs = flatten(self.f(*tensors))
        else:
            xs, us = tensors[: self.count], tensors[self.count :]
            outs = flatten(self.offsets(self.f, list(xs)))
            loss = sum((o * w).sum() for o, w in zip(outs, us) if is_diff_output(o))
            loss.backward()
        self.built = True
        return tuple(outs)


POISONED = []  # set after a failed graph plan: the next compilation in this process would abort


def compiled_function(mode, f):
    """The compiled scenario `mode` ("direct" or "rev") of `f`, compiled on its first call."""
    return {"mode": mode, "f": f, "graph": None}


def compiled(g, mode, xs, vectors):
    """Run a compiled scenario: the outputs and (for rev) the gradient, as numpy."""
    if mode == "rev" and any(x.dtype != flow.float32 for x in xs):
        raise GraphRefused("nn.Graph trains in float32 only (no CPU sgd_update kernel for other dtypes)")
    if any(0 in tuple(x.shape) for x in xs):
        raise GraphRefused("nn.Graph aborts the process on empty tensors (interface_op_util.cpp CHECK)")
    if g["graph"] is None:
        if POISONED:
            raise GraphRefused(f"an earlier nn.Graph plan failed in this process: {POISONED[0]}")
        graph = _Graph(mode, g["f"], xs)
        try:
            result = _run(graph, mode, xs, vectors)
        except Exception as exc:
            if graph.built:  # tracing succeeded, planning failed: OneFlow cannot compile again
                POISONED.append(f"{type(exc).__name__}: {str(exc).strip()[:200]}")
            raise GraphRefused(f"nn.Graph did not compile the call: {type(exc).__name__}: {str(exc).strip()[:300]}") from None
        g["graph"] = graph
        return result
    return _run(g["graph"], mode, xs, vectors)


def _run(graph, mode, xs, vectors):
    if mode == "direct":
        return [to_numpy(o) for o in graph(*xs)], []
    offsets = graph.eager_offsets[0]
    offsets.reset()
    us = [flow.tensor(np.array(np.real(u), dtype=np.float32)) for u in vectors]
    outs = graph(*xs, *us)
    return [to_numpy(o) for o in outs], offsets.gradients()
