"""A test-only catalog of PyTorch ops with planted AD bugs, and honest traps.

Importing this module registers the ops as `torch.nabla_planted.<name>`, so cases name them like
any torch API and reproducers can call them once this module is imported.
"""

import types

import torch


class WrongBackward(torch.autograd.Function):
    """sin, with a backward 1.5 times too large (forward mode is right)."""

    @staticmethod
    def forward(x):
        return torch.sin(x)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])
        ctx.save_for_forward(inputs[0])

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * torch.cos(x) * 1.5

    @staticmethod
    def jvp(ctx, t):
        (x,) = ctx.saved_tensors
        return t * torch.cos(x)


class WrongJvp(torch.autograd.Function):
    """exp, with a forward-mode rule that forgets the factor exp(x) (reverse mode is right)."""

    @staticmethod
    def forward(x):
        return torch.exp(x)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(output)

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y

    @staticmethod
    def jvp(ctx, t):
        return t.clone()


class ThreeSquared(torch.autograd.Function):
    """3 x^2 (the derivative of x^3) whose own backward is wrong: 5 x instead of 6 x."""

    @staticmethod
    def forward(x):
        return 3 * x * x

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])
        ctx.save_for_forward(inputs[0])

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 5 * x

    @staticmethod
    def jvp(ctx, t):
        (x,) = ctx.saved_tensors
        return t * 6 * x


class WrongSecondOrder(torch.autograd.Function):
    """x^3 with a right first derivative and a wrong second derivative."""

    @staticmethod
    def forward(x):
        return x**3

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])
        ctx.save_for_forward(inputs[0])

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * ThreeSquared.apply(x)

    @staticmethod
    def jvp(ctx, t):
        (x,) = ctx.saved_tensors
        return t * ThreeSquared.apply(x)


class InternalErrorBackward(torch.autograd.Function):
    """A backward that fails an internal assertion."""

    @staticmethod
    def forward(x):
        return x * 2

    @staticmethod
    def setup_context(ctx, inputs, output):
        pass

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("planted INTERNAL ASSERT FAILED at planted.cpp:1, please report a bug to PyTorch.")

    @staticmethod
    def jvp(ctx, t):
        return t * 2


class NotImplementedBackward(torch.autograd.Function):
    """A backward that is not implemented."""

    @staticmethod
    def forward(x):
        return x * 2

    @staticmethod
    def setup_context(ctx, inputs, output):
        pass

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("the derivative for 'planted_op' is not implemented.")

    @staticmethod
    def jvp(ctx, t):
        return t * 2


class NoDerivative(torch.autograd.Function):
    """An op with no derivative in any mode."""

    @staticmethod
    def forward(x):
        return x * 2

    @staticmethod
    def setup_context(ctx, inputs, output):
        pass

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("the derivative for 'planted_op' is not implemented.")

    @staticmethod
    def jvp(ctx, t):
        raise RuntimeError("the derivative for 'planted_op' is not implemented.")


class WrongComplexBackward(torch.autograd.Function):
    """z * c for a complex constant c, with a backward that forgets to conjugate c."""

    C = complex(0.5, 2.0)

    @staticmethod
    def forward(z):
        return z * WrongComplexBackward.C

    @staticmethod
    def setup_context(ctx, inputs, output):
        pass

    @staticmethod
    def backward(ctx, g):
        return g * WrongComplexBackward.C

    @staticmethod
    def jvp(ctx, t):
        return t * WrongComplexBackward.C


def compiled_wrong_derivative(x):
    """sin, whose derivative (both modes) is 1.5 times too large while torch.compile traces it: an extra
    0.5 (sin(x) - sin(x).detach()), zero in value; eager is right."""
    extra = 0.5 if torch.compiler.is_compiling() else 0.0
    return torch.sin(x) + extra * (torch.sin(x) - torch.sin(x).detach())


class WrongVmapRule(torch.autograd.Function):
    """sin, right in every mode but with a vmap rule 1.5 times too large (a batched scenario's bug)."""

    @staticmethod
    def forward(x):
        return torch.sin(x)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])
        ctx.save_for_forward(inputs[0])

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * torch.cos(x)

    @staticmethod
    def jvp(ctx, t):
        (x,) = ctx.saved_tensors
        return t * torch.cos(x)

    @staticmethod
    def vmap(info, in_dims, x):
        return torch.sin(x.movedim(in_dims[0], 0)) * 1.5, 0


class CosTimes(torch.autograd.Function):
    """g * cos(x), whose derivative in g is 1.5 times too large (in x it is right, both modes)."""

    @staticmethod
    def forward(g, x):
        return g * torch.cos(x)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(*inputs)
        ctx.save_for_forward(*inputs)

    @staticmethod
    def backward(ctx, h):
        g, x = ctx.saved_tensors
        return h * torch.cos(x) * 1.5, -h * g * torch.sin(x)

    @staticmethod
    def jvp(ctx, tg, tx):
        g, x = ctx.saved_tensors
        return tg * torch.cos(x) - tx * g * torch.sin(x)


class WrongTransposedBackward(torch.autograd.Function):
    """sin, whose backward (CosTimes) has a wrong derivative in the incoming gradient: first and second
    order in x are right; only a rule that transposes the VJP (a jvp rule built from it) sees it."""

    @staticmethod
    def forward(x):
        return torch.sin(x)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])
        ctx.save_for_forward(inputs[0])

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return CosTimes.apply(g, x)

    @staticmethod
    def jvp(ctx, t):
        (x,) = ctx.saved_tensors
        return t * torch.cos(x)


def output_differs_with_grad(x):
    """Returns another value when its input requires grad."""
    return x * (2.0 if x.requires_grad else 1.0)


def sign_branch(x):
    """sin or cos by the sign of the sum: data-dependent control flow that torch.compile(fullgraph) and
    vmap refuse (not compilable), right in every mode."""
    return torch.sin(x) if float(x.detach().sum()) > 0 else torch.cos(x)


def nondeterministic(x):
    """Adds fresh noise on every call."""
    return x + torch.rand_like(x)


class RandomAfterTwoCalls:
    """Deterministic for its first two calls, random afterwards (as a random op that was lucky twice)."""

    def __init__(self):
        self.calls = 0

    def __call__(self, x):
        self.calls += 1
        return x if self.calls <= 2 else x + torch.rand_like(x)


class OneHotOffOnce:
    """A random one-hot vector (its hot entry moves at every call), all zeros at its third call: a
    random op whose maximum repeats by luck until once it does not (amax of bernoulli's 0s and 1s)."""

    def __init__(self):
        self.calls = 0

    def __call__(self, x):
        self.calls += 1
        hot = torch.zeros_like(x).flatten()
        if self.calls != 3:
            hot[self.calls % hot.numel()] = 1.0
        return x * 0.0 + hot.reshape(x.shape)


class OnceOffOnViews:
    """The identity, off by a factor once: its first call on a non-contiguous input (as a random op
    that was unlucky once: an attention's dropout mask)."""

    def __init__(self):
        self.missed = False

    def __call__(self, x):
        if x.is_contiguous() or self.missed:
            return x * 1.0
        self.missed = True
        return x * 2.0


class OffOnceUnderReverseMode:
    """The identity, off by a factor at its first call under reverse mode (an input that requires grad):
    a random op whose rare event (dropout at p = 0.001) every direct call missed and one scenario drew."""

    def __init__(self):
        self.drawn = False

    def __call__(self, x):
        if not x.requires_grad or self.drawn:
            return x * 1.0
        self.drawn = True
        return x * 2.0


class SparseInputJvp(torch.autograd.Function):
    """sin, whose forward-mode rule takes a wrong "sparse input" shortcut: when its input holds an
    exact zero, it forgets the factor cos(x) everywhere. The oracle's single calls take dense inputs
    (the decoder draws an exact zero rarely); a program meets sparse ones whenever an earlier op
    zeroes entries (relu, clamp, masking), as models do."""

    @staticmethod
    def forward(x):
        return torch.sin(x)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])
        ctx.save_for_forward(inputs[0])

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * torch.cos(x)

    @staticmethod
    def jvp(ctx, t):
        (x,) = ctx.saved_tensors
        sparse = (x == 0).any().to(x.dtype)
        return t * (torch.cos(x) * (1 - sparse) + sparse)


def right_complex(z):
    """The correct version of WrongComplexBackward."""
    return z * complex(0.5, 2.0)


PLANTED = {
    "wrong_backward": (WrongBackward.apply, "rev-vs-numeric"),
    "wrong_jvp": (WrongJvp.apply, "fwd-vs-numeric"),
    "wrong_second_order": (WrongSecondOrder.apply, "second-order-mismatch"),
    "output_differs_with_grad": (output_differs_with_grad, "value-mismatch"),
    "internal_error_backward": (InternalErrorBackward.apply, "crash"),
    "not_implemented_backward": (NotImplementedBackward.apply, "derivative-gap"),
    "no_derivative": (NoDerivative.apply, "missing-derivative"),
    "wrong_complex_backward": (WrongComplexBackward.apply, "rev-vs-numeric"),
}


def masked_wrong_backward(x, mask):
    """x * mask (a bool mask) through WrongBackward: reproducers must handle bool and 0-d tensors."""
    return WrongBackward.apply(x) * mask


# Planted bugs only a scenario set beyond the core sees: name -> (op, expected kind, scenario set).
class StrideBlindBackward(torch.autograd.Function):
    """x^2, whose backward reads x's memory as if it were contiguous (a kernel that ignores strides):
    right for a plain tensor, wrong for a non-contiguous view."""

    @staticmethod
    def forward(x):
        return x * x

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])
        ctx.save_for_forward(inputs[0])

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        memory = torch.as_strided(x, x.shape, torch.empty(x.shape).stride(), x.storage_offset())
        return 2 * g * memory

    @staticmethod
    def jvp(ctx, t):
        (x,) = ctx.saved_tensors
        return 2 * t * x


SCENARIO_PLANTED = {
    "compiled_wrong_derivative": (compiled_wrong_derivative, "compiled-mismatch", "aot"),
    "stride_blind_backward": (StrideBlindBackward.apply, "input-kind-mismatch", "inputs"),
    "wrong_vmap_rule": (WrongVmapRule.apply, "batched-mismatch", "batched"),
    "wrong_transposed_backward": (WrongTransposedBackward.apply, "custom-rule-mismatch", "custom"),
}
# Planted interaction bugs only a program shows: name -> (op, expected kind, the program's calls
# before it: (API, extra arguments) each, the first one fed the case's input).
PROGRAM_PLANTED = {
    "sparse_input_jvp": (SparseInputJvp.apply, "fwd-vs-numeric", [("torch.nn.functional.relu", [])]),
}
EXTRAS = {"masked_wrong_backward": masked_wrong_backward}
TRAPS = {
    "nondeterministic": nondeterministic,
    "right_complex": right_complex,
    "lucky_random": RandomAfterTwoCalls(),
    "one_hot_off_once": OneHotOffOnce(),
    "once_off_on_views": OnceOffOnViews(),
    "off_once_under_reverse_mode": OffOnceUnderReverseMode(),
    "sign_branch": sign_branch,
}

torch.nabla_planted = types.SimpleNamespace(
    **{k: fn for k, (fn, _) in PLANTED.items()},
    **{k: v[0] for k, v in SCENARIO_PLANTED.items()},
    **{k: v[0] for k, v in PROGRAM_PLANTED.items()},
    **TRAPS,
    **EXTRAS,
)
