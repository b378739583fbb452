"""PyInstaller hook: the catalog data and the package's sources travel with a frozen harness.

The library backends (`nabla_atheris.backends.<lib>_backend`, imported by name) are not hidden
imports here: each harness imports its own backend, so a frozen JAX harness does not bundle torch.
"""

from PyInstaller.utils.hooks import collect_data_files

# include_py_files: `inspect.getsource` (reproducers) reads the .py files next to the frozen modules.
datas = collect_data_files("nabla_atheris", include_py_files=True, excludes=["**/__pycache__", "_pyinstaller"])
