#!/bin/bash -eu
# ClusterFuzzLite runs the OSS-Fuzz build (oss-fuzz/build.sh) of the JAX harness only: its frozen
# target is the smallest and starts fastest, which suits minutes of fuzzing per pull request.
# Add "torch tf" to fuzz those too (each adds a multi-GB install and a large one-file target).
NABLA_LIBS=${NABLA_LIBS:-jax} "$SRC/nabla-atheris/oss-fuzz/build.sh"
