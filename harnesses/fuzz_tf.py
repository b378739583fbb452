#!/usr/bin/env python3
"""libFuzzer harness for TensorFlow's automatic differentiation (Atheris, OSS-Fuzz style).

Instruments TensorFlow's Python gradient code (the registered gradient functions of math, nn,
array and linalg ops, the eager tape and forward accumulator, gradient aggregation) and the
nabla-atheris oracle; TensorFlow's C++ and Python log noise is silenced. Run it like any libFuzzer
binary: `./fuzz_tf.py CORPUS_DIR -max_total_time=60`.
"""

import sys

from nabla_atheris.lifetime import die_with_parent

die_with_parent()  # under a campaign: end with it (before the library's import, which takes seconds)
import nabla_atheris.backends.tf_backend  # noqa: E402,F401  (loaded by name at run time: a static import for PyInstaller)
from nabla_atheris.harness import run  # noqa: E402

if __name__ == "__main__":
    run("tf", sys.argv)
