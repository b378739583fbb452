"""A test-only catalog of TensorFlow functions with planted AD bugs (wrong `tf.custom_gradient`
rules, a graph-only divergence, a wrong pfor converter, a regression of tf.custom_gradient's eager
path), and honest traps.

Importing this module registers them as `tf.nabla_planted.<name>`, so cases name them like any
tf API and reproducers can call them once this module is imported. It also changes two pieces of
TensorFlow's machinery, process-wide, in a process that imports this module:
- a pfor converter for the Reverse op (pfor has none; the only way to change how pfor vectorizes an
  op is its converter registry, pfor.RegisterPFor, which TensorFlow itself uses): `tf.raw_ops.Reverse`
  under pfor is wrong;
- the eager path of `tf.custom_gradient` (`custom_gradient._eager_mode_decorator`, which the
  decorator looks up at every call): the gradient function of a rule with several outputs loses its
  second order (see `_eager_mode_decorator` below).
"""

import functools
import types

import tensorflow as tf
from tensorflow.python.eager import record
from tensorflow.python.ops import custom_gradient
from tensorflow.python.ops.parallel_for import pfor
from tensorflow.python.util import nest


@tf.custom_gradient
def wrong_gradient(x):
    """sin, with a gradient 1.5 times too large (forward mode transposes it: wrong too)."""
    return tf.sin(x), lambda g: g * tf.cos(x) * 1.5


@tf.custom_gradient
def three_squared(x):
    """3 x^2 (the derivative of x^3) whose own gradient is wrong: 5 x instead of 6 x."""
    return 3 * x * x, lambda g: g * 5 * x


@tf.custom_gradient
def wrong_second_order(x):
    """x^3 with a right first derivative and a wrong second derivative."""
    return x**3, lambda g: g * three_squared(x)


def graph_only(x):
    """sin, 0.1 % larger when traced by tf.function."""
    return tf.sin(x) * (1.0 if tf.executing_eagerly() else 1.001)


@tf.custom_gradient
def internal_error_gradient(x):
    def grad(g):
        raise RuntimeError("INTERNAL: planted failure in planted.cc:1")

    return x * 2, grad


@tf.custom_gradient
def no_gradient(x):
    def grad(g):
        raise LookupError("No gradient defined for operation 'Planted' (op type: Planted)")

    return x * 2, grad


C = complex(0.5, 2.0)


@tf.custom_gradient
def wrong_complex_gradient(z):
    """z * c, with a gradient that forgets to conjugate c (TensorFlow's is g * conj(c))."""
    return z * C, lambda g: g * C


@tf.custom_gradient
def right_complex_gradient(z):
    """The correct version of wrong_complex_gradient."""
    return z * C, lambda g: g * tf.math.conj(tf.constant(C, z.dtype))


def where_glue(x):
    """A C1 function glued by tf.where at 0: x^2 / 2 for x > 0, 0 otherwise."""
    return tf.where(x > 0, x * x / 2, tf.zeros_like(x))


def ignores_second(x, y):
    """Depends on x only: the gradient of y is unconnected (None), which counts as zeros."""
    return tf.sin(x)


@pfor.RegisterPFor("Reverse")
def _convert_reverse(pfor_input):
    """pfor's converter of Reverse (ReverseV2's predecessor, whose boolean `dims` name the axes to
    reverse; pfor has none), written after pfor's own for ReverseV2, but with the loop's axis appended
    to `dims` where it belongs in front: a stacked input is reversed along the axis before the one
    asked for (the loop's own axis shifts every other by one)."""
    value = pfor_input.stacked_input(0)
    dims = pfor_input.unstacked_input(1)
    return [pfor.wrap(tf.raw_ops.Reverse(tensor=value, dims=tf.concat([dims, [False]], axis=0)), True)]


def reversed_sin(x):
    """sin(x) reversed along its last axis by the Reverse kernel (right in every mode); its pfor
    converter above reverses the wrong axis, so vectorized_map and the Jacobian's rows by pfor differ
    from the loop's."""
    dims = [False] * (len(x.shape) - 1) + [True]
    return tf.raw_ops.Reverse(tensor=tf.sin(x), dims=dims)


_tf_eager_mode_decorator = custom_gradient._eager_mode_decorator


def _eager_mode_decorator(f, args, kwargs):
    """tf.custom_gradient's eager path with a regression as an optimization could bring: for a rule
    with several outputs it runs the gradient function with recording stopped unless a tape watches
    the upstream gradients (meant to skip recording the zeros TensorFlow fills in for unused outputs),
    forgetting that the gradient function also reads the rule's inputs, which an outer tape or
    accumulator may watch. First order and forward mode (which watches the upstream gradients to
    transpose the rule) are right; reverse mode over reverse (and forward over reverse) through the
    rule lose the second derivative. Graph mode (tf.function) is unchanged."""

    @functools.wraps(f)
    def rule(*rule_args, **rule_kwargs):
        result, grad_fn = f(*rule_args, **rule_kwargs)
        if len(nest.flatten(result)) < 2:
            return result, grad_fn

        def grad(*upstream, **grad_kwargs):
            if record.should_record_backprop(upstream):
                return grad_fn(*upstream, **grad_kwargs)
            with record.stop_recording():
                return grad_fn(*upstream, **grad_kwargs)

        return result, grad

    return _tf_eager_mode_decorator(rule, args, kwargs)


custom_gradient._eager_mode_decorator = _eager_mode_decorator


def sin_and_cos(x):
    """(sin x, cos x), plain TensorFlow (right in every mode); wrapped in a user-defined rule it has
    two outputs, so the regression above drops its second order through the rule."""
    return tf.sin(x), tf.cos(x)


@tf.custom_gradient
def right_gradient(x):
    """sin with a correct hand-written gradient (differentiable, so second order through it is right):
    the custom set's wrapper around a user's rule must not be blamed."""
    return tf.sin(x), lambda g: g * tf.cos(x)


@tf.custom_gradient
def sparse_input_gradient(x):
    """sin, whose gradient takes a wrong "sparse input" shortcut: when its input holds an exact zero,
    it forgets the factor cos(x) everywhere (forward mode transposes the rule: wrong too). The
    oracle's single calls take dense inputs; a program meets sparse ones whenever an earlier op zeroes
    entries (relu, masking), as models do."""

    def grad(g):
        return g * tf.where(tf.reduce_any(tf.equal(x, 0)), tf.ones_like(x), tf.cos(x))

    return tf.sin(x), grad


PLANTED = {
    "wrong_gradient": (wrong_gradient, "rev-vs-numeric"),
    "wrong_second_order": (wrong_second_order, "second-order-mismatch"),
    "graph_only": (graph_only, "compiled-mismatch"),
    "internal_error_gradient": (internal_error_gradient, "crash"),
    "no_gradient": (no_gradient, "missing-derivative"),
    "wrong_complex_gradient": (wrong_complex_gradient, "rev-vs-numeric"),
}


def variable_path(x):
    """sin, by a path of its own for a tf.Variable (as tf.gather takes ResourceGather), whose gradient
    is 1.5 times too large."""
    if not isinstance(x, tf.Variable):
        return tf.math.sin(x)

    @tf.custom_gradient
    def read(value):
        return tf.math.sin(value), lambda g: g * tf.math.cos(value) * 1.5

    return read(x.read_value())


# Planted bugs only a scenario set beyond the core sees: name -> (function, expected kind, scenario set).
SCENARIO_PLANTED = {
    "reversed_sin": (reversed_sin, "batched-mismatch", "batched"),
    "sin_and_cos": (sin_and_cos, "custom-rule-mismatch", "custom"),
    "variable_path": (variable_path, "input-kind-mismatch", "inputs"),
}
# Planted interaction bugs only a program shows: name -> (function, expected kind, the program's calls
# before it: (API, extra arguments) each, the first one fed the case's input).
PROGRAM_PLANTED = {"sparse_input_gradient": (sparse_input_gradient, "rev-vs-numeric", [("tf.nn.relu", [])])}
TRAPS = {
    "right_complex_gradient": right_complex_gradient,
    "where_glue": where_glue,
    "ignores_second": ignores_second,
    "right_gradient": right_gradient,
}

tf.nabla_planted = types.SimpleNamespace(
    **{k: fn for k, (fn, _) in PLANTED.items()},
    **{k: v[0] for k, v in SCENARIO_PLANTED.items()},
    **{k: v[0] for k, v in PROGRAM_PLANTED.items()},
    **TRAPS,
)
