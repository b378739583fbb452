#!/bin/bash -eu
# The build lives in the repository (oss-fuzz/build.sh: install the package and torch, jax and
# tensorflow-cpu, compile_python_fuzzer for harnesses/fuzz_{torch,jax,tf}.py, seed corpus zips and
# .options files into $OUT), so that it changes together with the harnesses.
"$SRC/nabla-atheris/oss-fuzz/build.sh"
