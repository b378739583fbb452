#!/usr/bin/env python3
"""libFuzzer harness for PyTorch's automatic differentiation (Atheris, OSS-Fuzz style).

Instruments torch's Python AD code (autograd, forward AD, torch.func, decompositions) and the
nabla-atheris oracle. Run it like any libFuzzer binary: `./fuzz_torch.py CORPUS_DIR -max_total_time=60`.
"""

import sys

from nabla_atheris.lifetime import die_with_parent

die_with_parent()  # under a campaign: end with it (before the library's import, which takes seconds)
import nabla_atheris.backends.torch_backend  # noqa: E402,F401  (loaded by name at run time: a static import for PyInstaller)
from nabla_atheris.harness import run  # noqa: E402

if __name__ == "__main__":
    run("torch", sys.argv)
