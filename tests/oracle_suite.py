"""The oracle's accuracy suite, shared by the planted-bug tests and `scripts/bench.py`: per library,
the planted bugs (an op with a known AD bug, and the finding kind it must produce) and the traps
(correct ops at kinks, glue code, complex inputs, ops XLA computes differently but rightly) that
must produce no finding."""

from __future__ import annotations

import importlib
from collections import Counter
from typing import Any


def tensor(shape, values=None, dtype="float64", seed=0, **extra) -> dict[str, Any]:
    """A tensor in the JSON case form."""
    spec = {"dtype": dtype, "shape": list(shape), **extra}
    spec.update({"values": values} if values is not None else {"seed": seed})
    return spec


SMOOTH = tensor([2, 3], [0.3, -0.7, 1.1, 0.5, -1.3, 0.9])  # away from kinks and domain edges
COMPLEX = tensor([2, 2], [[0.3, 0.1], [-0.7, 0.4], [1.1, -0.2], [0.5, 0.8]], dtype="complex128")
SMOOTH32 = {**SMOOTH, "dtype": "float32"}
KINK = tensor([4], [0.0, 1.0, -2.0, 0.5])

# (API, arguments) per library.
TRAPS: dict[str, list[tuple[str, list[Any]]]] = {
    "torch": [
        ("torch.abs", [KINK]),
        ("torch.nn.functional.relu", [tensor([4], [0.0, 0.0, -2.0, 0.5])]),
        ("torch.floor", [tensor([4], [1.0, 2.0, -2.0, 0.5])]),
        ("torch.floor", [tensor([3], [1.5, -2.25, 0.5])]),
        ("torch.tanh", [tensor([3], [0.15, 1e30, -0.9])]),  # mixed magnitudes: no single numerical step
        ("torch.nabla_planted.right_complex", [COMPLEX]),
        ("torch.sin", [COMPLEX]),
    ],
    "jax": [
        ("jax.numpy.abs", [KINK]),
        ("jax.nn.relu", [tensor([4], [0.0, 0.0, -2.0, 0.5])]),
        ("jax.numpy.floor", [tensor([3], [1.5, -2.25, 0.5])]),
        ("jax.nabla_planted.where_glue", [KINK]),
        ("jax.nabla_planted.cond_sign", [SMOOTH]),
        ("jax.nabla_planted.boolean_mask", [SMOOTH]),
        ("jax.nabla_planted.right_complex_vjp", [COMPLEX]),
        ("jax.numpy.sin", [COMPLEX]),
        ("jax.numpy.linalg.det", [tensor([3, 3], seed=1)]),
    ],
    "tf": [
        ("tf.math.abs", [KINK]),
        ("tf.nn.relu", [tensor([4], [0.0, 0.0, -2.0, 0.5])]),
        ("tf.math.floor", [tensor([3], [1.5, -2.25, 0.5])]),
        ("tf.nabla_planted.where_glue", [KINK]),
        ("tf.nabla_planted.right_complex_gradient", [COMPLEX]),
        ("tf.nabla_planted.ignores_second", [SMOOTH, SMOOTH]),
        ("tf.math.sin", [COMPLEX]),
        ("tf.linalg.det", [tensor([3, 3], seed=1)]),  # no XLA kernel: the xla scenarios are skipped
        ("tf.where", [tensor([], [True], dtype="bool"), 0.0, tensor([], [-0.75])]),  # graph mode types 0.0 as float32
        ("tf.linalg.eigh", [tensor([3, 3], [0.5, -0.75, 0.25, 0.9, -0.3, 0.6, -0.9, 0.15, 1.0])]),  # XLA flips signs
        ("tf.linalg.tensor_diag_part", [tensor([], [0.5])]),  # rank 0: outside DiagPart's documented (even, nonzero) ranks
    ],
    "oneflow": [
        ("oneflow.abs", [KINK]),
        ("oneflow.nn.functional.relu", [tensor([4], [0.0, 0.0, -2.0, 0.5])]),
        ("oneflow.floor", [tensor([3], [1.5, -2.25, 0.5])]),
        ("oneflow.nabla_planted.where_glue", [KINK]),
        ("oneflow.nabla_planted.right_backward", [SMOOTH]),
        ("oneflow.nabla_planted.right_backward", [SMOOTH32]),
        ("oneflow.nabla_planted.ignores_second", [SMOOTH, SMOOTH]),  # no allow_unused in OneFlow: zeros
        ("oneflow.nabla_planted.ignores_second", [SMOOTH32, SMOOTH32]),  # the unused offset in the graph
        ("oneflow.nabla_planted.numpy_roundtrip", [SMOOTH32]),  # nn.Graph refuses: not a finding
        ("oneflow.nn.ReLU", [KINK]),
    ],
}
# Kinds a trap may show by design: a JAX custom_vjp function has no forward mode.
TRAP_ALLOWS = {"jax": {"missing-derivative"}}
SIGN_BRANCH = ("torch.nabla_planted.sign_branch", [SMOOTH])  # data-dependent: not compilable, not batchable
# Traps of the scenario sets beyond the core: (API, arguments, scenario set) per library.
SCENARIO_TRAPS: dict[str, list[tuple[str, list[Any], str]]] = {
    "torch": [
        ("torch.abs", [KINK], "aot"),
        ("torch.sin", [COMPLEX], "aot"),
        (*SIGN_BRANCH, "aot"),
        ("torch.abs", [KINK], "batched"),
        ("torch.sin", [COMPLEX], "batched"),
        ("torch.nn.functional.relu", [tensor([4], [0.0, 0.0, -2.0, 0.5])], "batched"),
        (*SIGN_BRANCH, "batched"),
        ("torch.abs", [KINK], "custom"),
        ("torch.sin", [COMPLEX], "custom"),
        ("torch.linalg.det", [tensor([3, 3], seed=1)], "custom"),  # wrong second order: not blamed on the rule
        ("torch.abs", [KINK], "inputs"),
        ("torch.sin", [COMPLEX], "inputs"),
        ("torch.nn.functional.conv1d", [tensor([1, 2, 5]), tensor([3, 2, 2], seed=1)], "inputs"),
        ("torch.nabla_planted.once_off_on_views", [SMOOTH], "inputs"),  # off once: not a finding
    ],
    "jax": [
        ("jax.numpy.abs", [KINK], "batched"),
        ("jax.numpy.sin", [COMPLEX], "batched"),
        ("jax.nabla_planted.cond_sign", [SMOOTH], "batched"),
        ("jax.numpy.abs", [KINK], "custom"),
        ("jax.numpy.sin", [COMPLEX], "custom"),
        ("jax.nabla_planted.right_complex_vjp", [COMPLEX], "custom"),
    ],
    "tf": [
        ("tf.math.abs", [KINK], "batched"),
        ("tf.math.sin", [COMPLEX], "batched"),
        ("tf.reverse", [SMOOTH, [1]], "batched"),  # ReverseV2: pfor's own converter shifts the axis
        ("tf.math.sin", [tensor([0, 3])], "batched"),  # an empty Jacobian (no rows to vectorize)
        ("tf.math.abs", [KINK], "custom"),
        ("tf.math.sin", [COMPLEX], "custom"),
        ("tf.nabla_planted.right_gradient", [SMOOTH], "custom"),  # a user's right rule inside the wrapper's
        ("tf.math.abs", [KINK], "inputs"),
        ("tf.math.sin", [COMPLEX], "inputs"),
        ("tf.linalg.matmul", [SMOOTH, tensor([3, 2], seed=1)], "inputs"),
    ],
    "oneflow": [],
}
# Root causes of known upstream bugs (bench/known_bugs.json) that every case of a scenario set shows:
# torch.func's nested forward mode ignores an autograd.Function's jvp rule (pytorch/pytorch#197867).
KNOWN_UPSTREAM = {"torch": {"torch:custom-rule:function:fwd-over-fwd"}}


def selection(scenario_set: str) -> dict[str, int]:
    """The core scenarios and one other set, on every case."""
    return {"core": 1, scenario_set: 1}


def case_json(api: str, args: list[Any]) -> dict[str, Any]:
    return {"library": api.split(".")[0], "api": api, "args": list(args), "kwargs": {}}


def planted(library: str) -> dict[str, tuple[dict[str, Any], str]]:
    """name -> (case JSON, expected finding kind) of the library's planted bugs (imports the planted ops)."""
    module = importlib.import_module(f"planted_{library}")
    return {
        name: (case_json(f"{library}.nabla_planted.{name}", [COMPLEX if "complex" in name else SMOOTH]), kind)
        for name, (_, kind) in module.PLANTED.items()
    }


def scenario_planted(library: str) -> dict[str, tuple[dict[str, Any], str, str]]:
    """name -> (case JSON, expected finding kind, scenario set) of the planted bugs only a scenario set
    beyond the core sees."""
    module = importlib.import_module(f"planted_{library}")
    return {
        name: (case_json(f"{library}.nabla_planted.{name}", [SMOOTH]), kind, scenario_set)
        for name, (_, kind, scenario_set) in getattr(module, "SCENARIO_PLANTED", {}).items()
    }


def program_planted(library: str) -> dict[str, tuple[dict[str, Any], dict[str, Any], str]]:
    """name -> (program JSON, the planted op alone as a single call's JSON, expected finding kind) of the
    planted interaction bugs: the program must show the kind, the single call must not."""
    module = importlib.import_module(f"planted_{library}")
    out = {}
    for name, (_, kind, before) in getattr(module, "PROGRAM_PLANTED", {}).items():
        api = f"{library}.nabla_planted.{name}"
        fed = [SMOOTH] + [{"ref": [i, 0]} for i in range(len(before))]
        calls = [{"api": first, "args": [fed[i], *extra]} for i, (first, extra) in enumerate(before)]
        calls.append({"api": api, "args": [{"ref": [len(before) - 1, 0]}]})
        out[name] = ({"library": library, "calls": calls}, case_json(api, [SMOOTH]), kind)
    return out


def flagged_by_trap(library: str, kinds: set[str]) -> set[str]:
    """The finding kinds that count against a trap."""
    return kinds - TRAP_ALLOWS.get(library, set())


def flagged_kinds(library: str, verdict: Any, scenario_set: str = "core") -> set[str]:
    """The kinds of a trap's findings that count against it: known upstream bugs do not, nor, for a
    scenario set's trap, findings of the core scenarios (the trap is the set's)."""
    from nabla_atheris.scenario_sets import sets_of_scenarios

    known = KNOWN_UPSTREAM.get(library, set())
    found = [f for f in verdict.findings if rootcause_of(f) not in known]
    if scenario_set != "core":
        found = [f for f in found if scenario_set in sets_of_scenarios(library, f.scenarios)]
    return flagged_by_trap(library, {f.kind for f in found})


def rootcause_of(finding: Any) -> str:
    from nabla_atheris.findings import finding_root

    return finding_root(finding)


def accuracy(library: str, backend: Any) -> dict[str, Any]:
    """Run the suite: per kind, planted bugs detected and planted; traps run and flagged (with names)."""
    from nabla_atheris import scenario_sets
    from nabla_atheris.handcase import parse_case
    from nabla_atheris.oracle import check_case

    # the planted bugs and traps of the core suite run with the library's compilers too (its graph-only bugs)
    core = scenario_sets.parse(library, "core,compiled", strict=False)
    choose = lambda scenario_set: core if scenario_set == "core" else selection(scenario_set)  # noqa: E731
    detected, total, missed = Counter(), Counter(), []
    bugs = [(name, case, kind, "core") for name, (case, kind) in planted(library).items()]
    bugs += [(name, *rest) for name, rest in scenario_planted(library).items()]
    for name, case, kind, scenario_set in bugs:
        total[kind] += 1
        if kind in {f.kind for f in check_case(parse_case(case), backend, choose(scenario_set)).findings}:
            detected[kind] += 1
        else:
            missed.append(name)
    for name, (program, alone, kind) in program_planted(library).items():
        total[f"{kind} (program)"] += 1
        shown = kind in {f.kind for f in check_case(parse_case(program), backend, core).findings}
        if shown and kind not in {f.kind for f in check_case(parse_case(alone), backend, core).findings}:
            detected[f"{kind} (program)"] += 1
        else:
            missed.append(name)
    flagged = []
    traps = [(api, args, "core") for api, args in TRAPS[library]] + SCENARIO_TRAPS.get(library, [])
    for api, args, scenario_set in traps:
        verdict = check_case(parse_case(case_json(api, args)), backend, choose(scenario_set))
        flags = flagged_kinds(library, verdict, scenario_set)
        if flags:
            flagged.append(f"{api} ({scenario_set}): {sorted(flags)}")
    return {
        "by_kind": {kind: {"detected": detected[kind], "planted": total[kind]} for kind in sorted(total)},
        "missed": missed,
        "traps": len(traps),
        "traps_flagged": flagged,
    }
