"""Scenario sets: the groups of scenarios a check runs, chosen per campaign (`fuzz --scenarios`, or
NABLA_SCENARIOS in a harness' environment), since some cost far more than others (Inductor compiles
C++ for seconds per call structure; a user-defined rule repeats every mode and order).

A choice is a comma-separated list of set names, each optionally with a period: `custom/8` runs the
user-defined rules on one case in 8 (chosen by the case's bytes, so the same input always runs the
same scenarios), `custom` on every case; `default` stands for the library's defaults and `all` for
every set available. The core scenarios (direct call, first order, numerical derivative, second
order) always run: every other set compares against them. The option names sets of its library;
NABLA_SCENARIOS, one environment for the harnesses of every library, may name sets another library
has (`core,compiled,batched`: jax.jit for JAX, nothing more for PyTorch, whose compilers are `aot`
and `inductor`).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping

from nabla_atheris.vocabulary import BATCH_TRANSFORMS, INPUT_KINDS, custom_parts

CORE = "core"
SETS = {
    CORE: "direct call, reverse and forward mode, numerical derivative, second-order compositions (always run)",
    "compiled": "the library's compilers of the direct call, reverse and forward mode: jax.jit, tf.function "
    "(graph and XLA), oneflow nn.Graph",
    "aot": "torch.compile(fullgraph=True, backend='aot_eager') of the direct call, reverse and forward mode",
    "inductor": "torch.compile(fullgraph=True, backend='inductor') of the direct call, reverse and forward mode "
    "(C++ code generation: seconds per call structure)",
    "batched": "vectorizing transforms over a batch of samples against a loop: torch.func.vmap, jax.vmap, "
    "tf.vectorized_map and GradientTape.jacobian with and without pfor",
    "custom": "the API wrapped in user-defined derivative rules that call its own AD: torch.autograd.Function "
    "(backward, jvp, vmap), jax.custom_vjp and custom_jvp, tf.custom_gradient",
    "inputs": "the inputs bound as users also bind them, in every mode and order: torch non-contiguous views, "
    "TensorFlow tf.Variable",
}
AVAILABLE = {
    "torch": (CORE, "aot", "inductor", "batched", "custom", "inputs"),
    "jax": (CORE, "compiled", "batched", "custom"),
    "tf": (CORE, "compiled", "batched", "custom", "inputs"),
    "oneflow": (CORE, "compiled"),
}
# Per library, each default set with its period (1: every case): a check costs less than twice the core
# and compiled scenarios alone (measured in the README); torch.compile's sets are asked for by name.
DEFAULTS: dict[str, dict[str, int]] = {
    "torch": {CORE: 1, "batched": 1, "custom": 16, "inputs": 8},
    "jax": {CORE: 1, "compiled": 1, "batched": 1, "custom": 2},
    "tf": {CORE: 1, "compiled": 1, "batched": 2, "custom": 4, "inputs": 16},
    "oneflow": {CORE: 1, "compiled": 1},
}
# Per library, default sets a worker's first pass over the corpus runs on FIRST_PASS_THINNING times
# fewer cases: there every structure is new and compiles each of its scenarios (the compiled set alone
# is 30 % of a cold JAX check, batched and custom another third); mutated inputs, half of which repeat
# a seed's structure, run them at their own period, so a seed's structure meets them when it is mutated.
FIRST_PASS_THINS: dict[str, tuple[str, ...]] = {
    "jax": ("compiled", "batched", "custom"),
    "tf": ("compiled", "batched", "custom", "inputs"),
}
FIRST_PASS_THINNING = 4
COMPILER_SET = {"jit": "compiled", "graph": "compiled", "xla": "compiled", "aot": "aot", "inductor": "inductor"}
ENVIRONMENT = "NABLA_SCENARIOS"

OTHER = (CORE, "compiled")  # the sets and defaults of a backend not listed (a test double)
Selection = Mapping[str, int]  # set name -> period (1: every case, n: one case in n)


def parse(library: str, text: str, strict: bool = True) -> dict[str, int]:
    """The sets a comma-separated list names, with their periods; the core set always runs.
    ValueError names an unknown set, a bad period, or (strict) a set the library does not have."""
    chosen = {CORE: 1}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, period = item.partition("/")
        if period and not (period.isdigit() and int(period) >= 1):
            raise ValueError(f"scenario set {item!r}: the period after '/' must be a positive whole number")
        available = AVAILABLE.get(library, OTHER)
        if name == "default":
            chosen.update(defaults(library))
        elif name == "all":
            chosen.update({s: 1 for s in available})
        elif name not in SETS:
            raise ValueError(f"unknown scenario set {name!r} (have: default, all, {', '.join(SETS)})")
        elif name not in available:
            if strict:
                raise ValueError(f"scenario set {name!r} is not available for {library} (have: {', '.join(available)})")
        else:
            chosen[name] = int(period or 1)
    chosen[CORE] = 1
    return chosen


def from_environment(library: str) -> dict[str, int]:
    """The sets NABLA_SCENARIOS names (those the library has), or the library's defaults when it is
    unset or empty."""
    text = os.environ.get(ENVIRONMENT, "").strip()
    return parse(library, text, strict=False) if text else defaults(library)


def defaults(library: str) -> dict[str, int]:
    """The library's default sets with their periods."""
    return dict(DEFAULTS.get(library, {name: 1 for name in OTHER}))


def for_first_pass(library: str, selection: Selection, chosen_by_user: bool) -> dict[str, int]:
    """The sets of `selection` for a worker's first pass over the corpus: the library's defaults with
    the sets it thins (`FIRST_PASS_THINS`) on fewer cases; a selection the user chose runs as chosen."""
    if chosen_by_user:
        return dict(selection)
    thinned = FIRST_PASS_THINS.get(library, ())
    return {name: period * FIRST_PASS_THINNING if name in thinned else period for name, period in selection.items()}


def chosen_by_user() -> bool:
    """Whether the harness' environment names scenario sets (`fuzz --scenarios`)."""
    return bool(os.environ.get(ENVIRONMENT, "").strip())


def active(selection: Selection, data: bytes) -> frozenset[str]:
    """The sets that run on the case whose bytes are `data`: those of period 1, and each other set
    on the cases whose hash it picks (one in its period)."""
    return frozenset(
        name
        for name, period in selection.items()
        if period == 1 or int.from_bytes(hashlib.sha256(data + name.encode()).digest()[:8], "little") % period == 0
    )


def describe(selection: Selection) -> str:
    """`core, batched, custom/16`: a selection as the option spells it."""
    return ", ".join(name if period == 1 else f"{name}/{period}" for name, period in selection.items())


def set_of_compiler(compiler: str) -> str:
    """The set of a compiled scenario's compiler ("jit" of "jit-rev": compiled)."""
    return COMPILER_SET[compiler]


def sets_of_scenarios(library: str, scenarios: tuple[str, ...] | list[str]) -> frozenset[str]:
    """The sets a finding's scenarios belong to (so that re-checking it runs them)."""
    found = set()
    for name in scenarios:
        prefix = name.split("-", 1)[0]
        if ":" in name:
            found.add("inputs" if custom_parts(name)[0] in INPUT_KINDS else "custom")
        elif "-" in name and prefix in COMPILER_SET:
            found.add(set_of_compiler(prefix))
        elif "-" in name and prefix in BATCH_TRANSFORMS:
            found.add("batched")
    return frozenset(s for s in found if s in AVAILABLE.get(library, OTHER))
