#!/usr/bin/env python3
"""libFuzzer harness for TensorFlow's automatic differentiation (Atheris, OSS-Fuzz style).

Instruments TensorFlow's Python gradient code (the registered gradient functions of math, nn,
array and linalg ops, the eager tape and forward accumulator, gradient aggregation) and the
nabla-atheris oracle; TensorFlow's C++ and Python log noise is silenced. Run it like any libFuzzer
binary: `./fuzz_tf.py CORPUS_DIR -max_total_time=60`.
"""

import sys

from nabla_atheris.harness import run

TF_AD_MODULES = [
    "tensorflow.python.ops.math_grad",
    "tensorflow.python.ops.nn_grad",
    "tensorflow.python.ops.array_grad",
    "tensorflow.python.ops.linalg_grad",
    "tensorflow.python.ops.gradients_util",
    "tensorflow.python.eager.backprop",
    "tensorflow.python.eager.forwardprop",
    "tensorflow.python.eager.forwardprop_util",
]

if __name__ == "__main__":
    run("tf", sys.argv, TF_AD_MODULES)
