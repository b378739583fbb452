#!/usr/bin/env python3
"""libFuzzer harness for PyTorch's automatic differentiation (Atheris, OSS-Fuzz style).

Instruments torch's Python AD code (autograd, forward AD, torch.func, decompositions) and the
nabla-atheris oracle. Run it like any libFuzzer binary: `./fuzz_torch.py CORPUS_DIR -max_total_time=60`.
"""

import sys

from nabla_atheris.harness import run

if __name__ == "__main__":
    run("torch", sys.argv)
