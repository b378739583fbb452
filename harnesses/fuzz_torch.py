#!/usr/bin/env python3
"""libFuzzer harness for PyTorch's automatic differentiation (Atheris, OSS-Fuzz style).

Instruments torch's Python AD code (autograd, forward AD, torch.func, decompositions) and the
nabla-atheris oracle. Run it like any libFuzzer binary: `./fuzz_torch.py CORPUS_DIR -max_total_time=60`.
"""

import sys

import nabla_atheris.backends.torch_backend  # noqa: F401  (loaded by name at run time: a static import for PyInstaller)
from nabla_atheris.harness import run

if __name__ == "__main__":
    run("torch", sys.argv)
