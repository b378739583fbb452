#!/bin/bash -eu
# Builds nabla-atheris' fuzz targets into $OUT the way OSS-Fuzz builds Python projects: the package
# and the libraries installed with pip, each harness frozen by `compile_python_fuzzer` (PyInstaller
# --onefile plus a wrapper script that preloads the sanitizer and libFuzzer), and per harness a seed
# corpus zip and an .options file. Called by the build.sh of the OSS-Fuzz project folder and of
# .clusterfuzzlite/ (both run it from the checkout, $SRC/nabla-atheris); scripts/check_frozen_harness.sh
# runs it locally with a stand-in compile_python_fuzzer.
#
# NABLA_LIBS: the libraries to build (default "torch jax tf"). OneFlow is left out: it needs
# Python 3.10, and OSS-Fuzz's base-builder-python has one Python (3.11).

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
libs=${NABLA_LIBS:-torch jax tf}

# PyInstaller 6 is what the hooks for torch and tensorflow (pyinstaller-hooks-contrib) need.
if ! python3 -c 'import sys, PyInstaller; sys.exit(int(PyInstaller.__version__.split(".")[0]) < 6)'; then
  python3 -m pip install --no-cache-dir "pyinstaller>=6,<7"
fi

# The library versions the catalogs were generated from, pinned in requirements.txt.
pin() { grep -E "^$1==" requirements.txt; }
for lib in $libs; do
  case $lib in
    torch) python3 -m pip install --no-cache-dir "$(pin torch)" --index-url https://download.pytorch.org/whl/cpu ;;
    jax) python3 -m pip install --no-cache-dir "$(pin jax)" "$(pin jaxlib)" ;;
    tf) python3 -m pip install --no-cache-dir "$(pin tensorflow-cpu)" ;;
    *) echo "build.sh: unknown library $lib" >&2; exit 1 ;;
  esac
done
# The package itself: installed, so that the harnesses import it from site-packages and PyInstaller
# finds its hook (catalog data and sources) through the pyinstaller40 entry point.
python3 -m pip install --no-cache-dir .

# PyInstaller flags per library, on top of the hooks (nabla_atheris' own; hook-torch and
# hook-tensorflow of pyinstaller-hooks-contrib collect those libraries whole).
pyinstaller_flags() {
  case $1 in
    # JAX has no contrib hook. The catalog's APIs are resolved by name at run time (jax.scipy.stats.*,
    # jax.image, ...): their namespaces' submodules are collected (not all of jax: collecting
    # jax.experimental imports jax2tf, hence tensorflow); jaxlib's extension modules are loaded by name.
    jax)
      for ns in numpy scipy lax nn image; do printf -- '--collect-submodules jax.%s ' "$ns"; done
      # The other libraries and optional plotting imports (jax.debug's visualisation, scipy.stats'
      # plots) are left out: 23 MB less, and nothing the harness calls imports them.
      echo "--collect-all jaxlib --exclude-module tensorflow --exclude-module torch --exclude-module matplotlib --exclude-module PIL"
      ;;
    # The contrib hooks collect every submodule of torch, of tensorflow and of keras (whose jax and
    # torch backends import those libraries): the other libraries are kept out of each target.
    # torch: TorchScript compiles Enum classes on first use of forward AD and reads the source of
    # the standard library's Enum methods (inspect.getsource), absent from a frozen build (every
    # forward-mode check failed as a status-mismatch): enum.py goes next to the bundle's modules,
    # where linecache finds it through sys.path.
    torch)
      echo "--exclude-module tensorflow --exclude-module jax --exclude-module jaxlib" \
        "--add-data $(python3 -c 'import enum; print(enum.__file__)'):."
      ;;
    tf) echo "--exclude-module torch --exclude-module jax --exclude-module jaxlib" ;;
  esac
}

for lib in $libs; do
  # shellcheck disable=SC2046  # the flags are words
  compile_python_fuzzer "$repo/harnesses/fuzz_$lib.py" $(pyinstaller_flags "$lib")
done
python3 scripts/build_oss_fuzz_artifacts.py --out "$OUT" --libs "$(echo $libs | tr ' ' ,)"
