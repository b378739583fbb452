"""PyInstaller support: the hook directory of nabla_atheris (found through the `pyinstaller40`
entry point once the package is installed, or passed with `--additional-hooks-dir`).

A frozen harness (OSS-Fuzz's `compile_python_fuzzer` builds one-file executables) needs the
catalog data (`catalog/data/*`, read with importlib.resources) and the package's `.py` sources
(reproducers embed the `*_modes.py` modules with `inspect.getsource`); the hook collects both.
"""

from __future__ import annotations

import os


def get_hook_dirs() -> list[str]:
    """The folder holding `hook-nabla_atheris.py`."""
    return [os.path.dirname(__file__)]
