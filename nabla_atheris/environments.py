"""Which Python environment runs a library, and running a command there.

PyTorch, JAX and TensorFlow run in the main environment (`.venv`, Python 3.11); OneFlow 0.9.0 has
wheels for Python <= 3.10 only and runs in `.venv-oneflow` (`scripts/setup_oneflow.sh`), with its
CUDA libraries on LD_LIBRARY_PATH before `import oneflow` (the dynamic loader reads it at process
start, so it is set for a new process, never inside a running one).

`delegate` lets the command line serve every library from either environment: a command about a
library whose environment is not the current one is run again, unchanged, by that environment's
python (`fuzz`, `merge`, `check`, `repro`, `minimize`, `coverage`: the harness and the checks import
the library; `catalog`, `seed` and `summary` read files only and run anywhere). OneFlow's glog
lines below FATAL (CUDA-driver warnings on a CPU machine) are silenced unless GLOG_minloglevel is set;
a failed CHECK (FATAL) still shows.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nabla_atheris.libraries import RECORDS

ROOT = Path(__file__).resolve().parents[1]
DELEGATED = "NABLA_DELEGATED"  # set in a delegated process, so that it never delegates again
IMPORTING_COMMANDS = ("fuzz", "merge", "coverage", "check", "repro", "minimize")
MAX_PEEK_BYTES = 64 << 20  # a larger file is not read to find its library


@dataclass(frozen=True)
class Environment:
    """A library's interpreter and the variables its processes need."""

    python: str
    variables: dict[str, str]

    def is_current(self) -> bool:
        return Path(self.python).parent.parent.resolve() == Path(sys.prefix).resolve()


def oneflow_venv() -> Path:
    """The OneFlow environment: NABLA_ONEFLOW_VENV, else `.venv-oneflow` in the checkout."""
    return Path(os.environ.get("NABLA_ONEFLOW_VENV") or ROOT / ".venv-oneflow")


def oneflow_library_path(venv: Path) -> str:
    """LD_LIBRARY_PATH for OneFlow: the cuBLAS and cuDNN libraries of its nvidia packages, then the current one."""
    site = venv.resolve() / "lib" / "python3.10" / "site-packages" / "nvidia"
    parts = [str(site / "cublas" / "lib"), str(site / "cudnn" / "lib"), os.environ.get("LD_LIBRARY_PATH", "")]
    return os.pathsep.join(p for p in parts if p)


def environment(library: str) -> Environment:
    """The interpreter and extra variables that run `library` (the current ones for the 3.11 libraries)."""
    if library not in RECORDS or not RECORDS[library].own_environment:  # an unknown one: the command says so
        return Environment(sys.executable, {})
    venv = oneflow_venv()
    if not (venv / "bin" / "python").exists() and importlib.util.find_spec(RECORDS[library].import_name):
        return Environment(sys.executable, {})  # oneflow installed here: the caller set up its library path
    quiet = {} if "GLOG_minloglevel" in os.environ else {"GLOG_minloglevel": "3"}
    return Environment(str(venv / "bin" / "python"), {"LD_LIBRARY_PATH": oneflow_library_path(venv), **quiet})


def command_library(args: Any) -> str | None:
    """The library a parsed command is about (a case file's or finding's own library for check and repro)."""
    if args.command not in IMPORTING_COMMANDS:
        return None
    target = getattr(args, "case", None) or getattr(args, "target", None)
    if target is not None:
        found = _library_of(Path(target))
        if found is not None:
            return found
    return getattr(args, "lib", None)


def _library_of(path: Path) -> str | None:
    """The library named by a JSON case, a finding folder or a case.msgpack file, if readable (the
    command itself reports a file it cannot read)."""
    try:
        if path.is_file() and path.stat().st_size > MAX_PEEK_BYTES:
            return None
        from nabla_atheris import case as case_codec
        from nabla_atheris.findings import CASE_FILE, folder_meta

        meta = folder_meta(path)
        if meta is not None:
            return str(meta["library"])
        if path.suffix == ".json" and path.is_file():
            return str(json.loads(path.read_text())["library"])
        if path.suffix == ".msgpack" and path.is_file() or (path / CASE_FILE).is_file():
            return case_codec.decode((path / CASE_FILE if path.is_dir() else path).read_bytes()).library
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return None
    return None


def delegate(args: Any, argv: Sequence[str] | None, replace: bool = False) -> int | None:
    """Run the command in its library's environment when that is not this one: its exit code, or
    None when the command runs here. With `replace` (the process' entry point) the other
    environment's python takes this process' place, so that a signal or a kill of it reaches the
    command itself (a campaign and its workers); otherwise it runs as a child."""
    library = command_library(args)
    if library is None or os.environ.get(DELEGATED):
        return None
    env = environment(library)
    if env.is_current() and (not env.variables or _library_path_set(env)):
        return None
    if not Path(env.python).exists():
        print(f"nabla-atheris: error: {library} needs its own environment: run scripts/setup_oneflow.sh", file=sys.stderr)
        return 2
    variables = dict(
        os.environ,
        **env.variables,
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        **{DELEGATED: "1"},
    )
    command = [env.python, "-m", "nabla_atheris", *(sys.argv[1:] if argv is None else argv)]
    if replace:
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(env.python, command, variables)
    code = subprocess.call(command, env=variables)
    return code if code >= 0 else 128 - code  # killed by a signal: the shell's convention


def _library_path_set(env: Environment) -> bool:
    first = env.variables.get("LD_LIBRARY_PATH", "").split(os.pathsep)[0]
    return first in os.environ.get("LD_LIBRARY_PATH", "").split(os.pathsep)
