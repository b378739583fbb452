#!/usr/bin/env bash
# Create (or reuse) the Python 3.11 environment with the pinned libraries, then OneFlow's Python 3.10
# one (scripts/setup_oneflow.sh) (the package runs from
# the checkout: the Makefile puts it on PYTHONPATH).
# Idempotent: the environment lives in a cache folder keyed by requirements.txt, so clones of the
# same revision share it; `.venv` in the checkout links to it. Prints the environment's path.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${NABLA_PYTHON311:-python3.11}
key=$(cat requirements.txt | sha256sum | cut -c1-12)
cache=${NABLA_ENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nabla-atheris}
venv="$cache/py311-$key"
if [ ! -f "$venv/.complete" ]; then
  echo "setting up $venv (first time: a few minutes)" >&2
  rm -rf "$venv"
  mkdir -p "$cache"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --no-compile --upgrade pip >&2
  "$venv/bin/python" -m pip install -q --no-compile -r requirements.txt >&2
  touch "$venv/.complete"
fi
# Byte-compile every installed package, once: the environment may set PYTHONDONTWRITEBYTECODE, and
# then each process would compile the libraries' Python sources again on import (TensorFlow's import
# took 22-30 s instead of a few, JAX's 5 s, in every worker, merge child and test subprocess).
if [ ! -f "$venv/.compiled-site-packages" ]; then
  echo "byte-compiling the installed packages in $venv (first time only)" >&2
  "$venv/bin/python" -m compileall -q -j 2 "$venv/lib/python3.11/site-packages" >/dev/null 2>&1 || true
  touch "$venv/.compiled-site-packages"
fi
ln -sfn "$venv" .venv
# OneFlow's Python 3.10 environment (its own requirements, cache key and link: `.venv-oneflow`).
bash scripts/setup_oneflow.sh >/dev/null
echo "$venv"
