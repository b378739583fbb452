"""Persistent compilation caches: a library that can keep its compiled code on disk does so in a
folder of the campaign's workdir, shared by its workers and kept for resumed runs (JAX's persistent
compilation cache; TensorFlow's persistent XLA cache for `jit_compile=True` functions; Inductor's
caches of generated code and compiled graphs for torch.compile). OneFlow's `nn.Graph` has no
persistent cache.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_env(library: str, folder: Path) -> dict[str, str]:
    """The environment variables that make a harness process of `library` keep its compiled code in
    `folder` (none for a library without a persistent cache). Read when the library starts."""
    if library == "jax":
        return {
            "JAX_COMPILATION_CACHE_DIR": str(folder),
            "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",  # every computation: most compile in milliseconds
            "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
        }
    if library == "torch":
        return {"TORCHINDUCTOR_CACHE_DIR": str(folder / "inductor")}
    if library == "tf" and '"' not in str(folder):  # TF_XLA_FLAGS: whitespace-separated, values may be quoted
        flags = os.environ.get("TF_XLA_FLAGS", "")
        return {"TF_XLA_FLAGS": f'{flags} --tf_xla_persistent_cache_directory="{folder}"'.strip()}
    return {}
