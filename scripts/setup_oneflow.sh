#!/usr/bin/env bash
# Create (or reuse) the Python 3.10 environment for OneFlow 0.9.0 (no wheels for newer Pythons).
# Idempotent, cached like the 3.11 environment: a folder keyed by requirements-oneflow.txt in the
# cache, linked as `.venv-oneflow`. Prints the environment's path. Python: NABLA_PYTHON310, else
# python3.10 on PATH, else pyenv's 3.10.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${NABLA_PYTHON310:-}
if [ -z "$python" ]; then
  # pyenv's shims answer `command -v python3.10` even when 3.10 is not selected: ask each candidate to run
  candidates=(python3.10)
  if command -v pyenv >/dev/null 2>&1; then
    for dir in $(ls -d "$(pyenv root)"/versions/3.10* 2>/dev/null | sort -rV); do candidates+=("$dir/bin/python"); done
  fi
  for candidate in "${candidates[@]}"; do
    if "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; then
      python=$candidate
      break
    fi
  done
  if [ -z "$python" ]; then
    echo "no Python 3.10 found (set NABLA_PYTHON310)" >&2
    exit 1
  fi
fi
key=$(cat requirements-oneflow.txt | sha256sum | cut -c1-12)
cache=${NABLA_ENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nabla-atheris}
venv="$cache/py310-oneflow-$key"
if [ ! -f "$venv/.complete" ]; then
  echo "setting up $venv (first time: a few minutes, OneFlow's wheel is about 1 GB)" >&2
  rm -rf "$venv"
  mkdir -p "$cache"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --no-compile --upgrade pip >&2
  "$venv/bin/python" -m pip install -q --no-compile -r requirements-oneflow.txt >&2
  touch "$venv/.complete"
fi
# Byte-compile every installed package once (see setup.sh: PYTHONDONTWRITEBYTECODE may be set).
if [ ! -f "$venv/.compiled-site-packages" ]; then
  "$venv/bin/python" -m compileall -q -j 2 "$venv/lib/python3.10/site-packages" >/dev/null 2>&1 || true
  touch "$venv/.compiled-site-packages"
fi
ln -sfn "$venv" .venv-oneflow
echo "$venv"
