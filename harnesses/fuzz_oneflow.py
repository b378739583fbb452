#!/usr/bin/env python3
"""libFuzzer harness for OneFlow's automatic differentiation (Atheris, OSS-Fuzz style).

OneFlow 0.9 runs on Python 3.10 with its CUDA libraries on LD_LIBRARY_PATH: start it through
`scripts/oneflow-env` (which puts `.venv-oneflow/bin` first on PATH, so libFuzzer's workers start
through this shebang in the same environment). OneFlow's AD is C++, so coverage comes from its
Python layer (autograd.Function, nn.Graph, the functional and module front ends) and the oracle:
`scripts/oneflow-env harnesses/fuzz_oneflow.py CORPUS_DIR corpus/oneflow -max_total_time=60`.
"""

import sys

from nabla_atheris.lifetime import die_with_parent

die_with_parent()  # under a campaign: end with it (before the library's import, which takes seconds)
from nabla_atheris.harness import run  # noqa: E402

if __name__ == "__main__":
    run("oneflow", sys.argv)
