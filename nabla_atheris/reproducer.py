"""Standalone reproducers: a script that imports only the library and numpy, prints the
disagreement and exits 1 while the bug is present (0 once the scenarios agree)."""

from __future__ import annotations

import importlib
import inspect

import numpy as np

from nabla_atheris import numerics, projections, structures, tolerances
from nabla_atheris.backends import shared_modes
from nabla_atheris.call_source import call_source, literal
from nabla_atheris.case import Case
from nabla_atheris.libraries import ReproducerSource, record
from nabla_atheris.oracle import batched
from nabla_atheris.oracle.values import output_difference
from nabla_atheris.verdict import Finding
from nabla_atheris.vocabulary import BATCH_TRANSFORMS, ERROR_KINDS, NESTED_TRANSFORMS

WRAPPED_VALUE_KINDS = ("compiled-mismatch", "custom-rule-mismatch", "input-kind-mismatch")  # their "direct" scenario: outputs


def array_literal(a: np.ndarray) -> str:
    """`np.array([...], dtype=...).reshape(...)` for an array."""
    return f"np.array({literal(np.asarray(a).ravel().tolist())}, dtype={str(a.dtype)!r}).reshape({literal(tuple(a.shape))})"


def arrays_literal(arrays: list[np.ndarray]) -> str:
    return "[" + ", ".join(array_literal(a) for a in arrays) + "]"


def helper_source() -> str:
    """The oracle's own code the reproducer runs: projections, input spaces, the numerical derivative
    and the comparisons (annotations stay unevaluated), with the tolerances' constants."""
    constants = "\n".join(
        f"{name} = {value!r}"
        for name, value in (
            ("STRUCTURES", structures.STRUCTURES),
            ("NUMERIC_STEP", tolerances.NUMERIC_STEP),
            ("NUMERIC_STEP_RATIO", tolerances.NUMERIC_STEP_RATIO),
        )
    )
    helpers = (
        structures.applies,
        structures._conj_t,
        structures.project,
        projections.is_floating,
        projections.inner,
        projections.axpy,
        projections.random_like,
        numerics.step_for,
        numerics.central_difference,
        numerics.numeric_derivative,
        output_difference,
        batched.absent_as_zeros,
        batched.differs,
    )
    sources = [inspect.getsource(tolerances.Tolerance), *(inspect.getsource(fn) for fn in helpers)]
    steps = tolerances.tolerance("numeric-steps", [])
    agreement = f"STEP_AGREEMENT = Tolerance({steps.rtol!r}, {steps.atol!r})"
    return constants + "\n\n\n" + "\n\n".join(sources) + "\n\n" + agreement


def modes_source(modes: str) -> str:
    """The scenarios' code: the functions of `shared_modes`, then the modes module `modes` without its
    docstring and its import of them."""
    shared = [inspect.getsource(fn) for fn in vars(shared_modes).values() if inspect.getmodule(fn) is shared_modes]
    own = inspect.getsource(importlib.import_module(modes)).split('"""', 2)[2]
    lines = [line for line in own.splitlines() if not line.startswith(f"from {shared_modes.__name__} import")]
    return "\n\n".join(shared) + "\n\n" + "\n".join(lines).strip()


def scenario_header(case: Case, finding: Finding, library_imports: str, note: str = "") -> str:
    lines = [
        "#!/usr/bin/env python3",
        f'"""Reproducer for {finding.signature()}',
        "",
        f"{finding.message}",
        "Exit status: 1 while the scenarios disagree, 0 once they agree.",
        *([note] if note else []),
        '"""',
        "from __future__ import annotations",
        "",
        "import sys",
        "from dataclasses import dataclass",
        "",
        "import numpy as np",
        library_imports,
    ]
    return "\n".join(lines) + "\n"


def render_comparison(finding: Finding) -> str:
    """The reproducer's main: compute the finding's two scenarios with the oracle's code, print them
    (flushed before each scenario, which may abort the process), exit 1 while they disagree."""
    a, b = finding.scenarios
    d = finding.details
    tol = f"Tolerance({d.get('rtol', 0.0)!r}, {d.get('atol', 0.0)!r})"
    if finding.scenarios == ("harness", "harness"):  # a native crash, timeout or OOM met by libFuzzer
        return f"""
def main():
    global U, V, V2
    print("direct", flush=True)
    f, xs = bind(False)
    outs = direct(f, xs)
    rng = np.random.default_rng(0)
    x = [to_numpy(t) for t in xs]
    U, V, V2 = random_like(rng, outs), random_like(rng, x), random_like(rng, x)
    for name in {d.get("modes", [])!r}:
        print(name, flush=True)
        try:
            scenario(name)
        except Exception as exc:
            print(name, "raised", type(exc).__name__, flush=True)
    print("every scenario completed: the {finding.kind} is gone")
    return 0
"""
    if "absent" in d:  # the library reports no derivative (None) where the numerical one is not zero
        return f"""
def main():
    print({b!r}, flush=True)
    f, xs = bind(False)
    products = vjp(f, xs, U)[1] if {b!r} == "rev" else jvp(f, xs, V)[1]
    absent = [i for i, p in enumerate(products) if p is None]
    print("{"inputs" if b == "rev" else "outputs"} without a derivative (None):", absent, flush=True)
    if not absent:
        return 0
    fw, xw = bind(True)
    x64 = [to_numpy(x) for x in xw]
    u = U if {b!r} == "rev" else [w if i in absent else np.zeros_like(w) for i, w in enumerate(U)]
    v = [w if i in absent else np.zeros_like(w) for i, w in enumerate(V)] if {b!r} == "rev" else V
    value, stable = numeric_derivative(lambda a: inner(u, direct(fw, lift(a))), x64, v)
    print("numerical derivative along them:", value, "" if stable else "(depends on the step)")
    return 1 if not {tol}.close(value, 0.0, {d.get("scale", 0.0)!r}) else 0
"""
    if finding.kind == "shape-mismatch":
        return f"""
def main():
    print({a!r}, flush=True)
    f, xs = bind(False)
    if {a!r} == "rev":
        _, products = vjp(f, xs, U)
        expected = [to_numpy(x) for x in xs]
    else:
        expected, products = jvp(f, xs, V)
    for i, (p, e) in enumerate(zip(products, expected)):
        if p is not None and np.shape(p) != np.shape(e):
            print(f"derivative #{{i}} has shape {{list(np.shape(p))}}, its value {{list(np.shape(e))}}")
            return 1
    print("every derivative has its value's shape")
    return 0
"""
    if finding.kind in ERROR_KINDS:
        failing = d.get("failing", b)
        return f'''
def main():
    print("running {failing}", flush=True)
    try:
        scenario({failing!r})
    except Exception as exc:
        print("{failing} raised:", type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")
        return 1
    print("{failing} succeeded: the disagreement is gone")
    return 0
'''
    if finding.kind == "batched-mismatch":
        return f"""
def main():
    print({b!r}, flush=True)
    outs, products = scenario({b!r})
    for k, (xs, u, v) in enumerate(BATCH):
        print("a loop of {a}, sample", k, flush=True)
        loop_outs, loop_products = loop_scenario({a!r}, xs, u, v)
        difference = differs(loop_outs, [o[k] for o in outs], Tolerance(*TOLERANCES["value"]))
        if difference is None and {a!r} != "direct":
            like = xs if {a!r} == "rev" else loop_outs
            batched = [p[k] for p in products]
            difference = differs(absent_as_zeros(loop_products, like), batched, Tolerance(*TOLERANCES["ad-vs-ad"]), products=True)
        shown = "agrees" if difference is None else f"position {{difference[0]}} differs by {{difference[1]:.3g}}"
        print(f"sample {{k}}:", shown)
        if difference is not None:
            return 1
    return 0
"""
    if finding.kind == "value-mismatch" or (finding.kind in WRAPPED_VALUE_KINDS and a == "direct"):
        return f"""
def main():
    print("direct", flush=True)
    reference = scenario("direct")
    print({b!r}, flush=True)
    other = scenario({b!r}, outputs=True)
    if len(reference) != len(other):
        print(f"{{len(other)}} outputs vs {{len(reference)}}")
        return 1
    for i, (p, q) in enumerate(zip(reference, other)):
        difference = output_difference(p, q, {tol})
        print(f"output {{i}}:", "agrees" if difference is None else f"{b}{{difference[0]}}")
        if difference is not None:
            return 1
    return 0
"""
    return f'''
def main():
    print({a!r}, flush=True)
    a = scenario({a!r})
    print("{a}:", a, flush=True)
    print({b!r}, flush=True)
    b = scenario({b!r})
    print("{b}:", b, flush=True)
    if not (np.isfinite(a) and np.isfinite(b)):
        return 1 if np.isfinite(a) != np.isfinite(b) else 0
    return 0 if {tol}.close(a, b, {d.get("scale", 0.0)!r}) else 1
'''


def compiled_scenario(lib: ReproducerSource) -> list[str]:
    """The reproducer's branch for compiled scenarios ("jit-rev", "xla-direct" ...)."""
    if not lib.compilers:
        return []
    return [
        f"    if name.split('-', 1)[0] in {lib.compilers!r}:",
        '        kind, mode = name.split("-", 1)',
        f'        outs, products = compiled({lib.compile_expr}, mode, xs, {{"direct": [], "rev": U, "fwd": V}}[mode])',
        '        if outputs or mode == "direct":',
        "            return outs",
        '        return inner(products, V) if mode == "rev" else inner(U, products)',
    ]


def batched_scenario(lib: ReproducerSource) -> list[str]:
    """The reproducer's branch for batched scenarios ("vmap-rev", "pfor-direct" ...) over BATCH."""
    if not lib.batched_expr:
        return []
    return [
        f"    if name.split('-', 1)[0] in {BATCH_TRANSFORMS!r}:",
        '        eager = name.split("-", 1)[1]',
        "        xs = [tensor(np.stack([s[0][i] for s in BATCH]), d, False) for i, d in enumerate(DTYPES)]",
        '        directions = [s[1 if eager == "rev" else 2] for s in BATCH]',
        '        vectors = [] if eager == "direct" else [np.stack(d) for d in zip(*directions)]',
        f"        return {lib.batched_expr}",
    ]


def custom_scenario(lib: ReproducerSource) -> list[str]:
    """The reproducer's branch for the API wrapped in a user-defined rule ("function:rev" ...)."""
    if not lib.custom_expr:
        return []
    return [
        '    if ":" in name:',
        '        rule, mode = name.split(":", 1)',
        f"        value = {lib.custom_expr}",
        '        if mode == "direct":',
        "            return value",
        '        if mode in ("rev", "fwd"):',
        "            outs, products = value",
        '            return outs if outputs else (inner(products, V) if mode == "rev" else inner(U, products))',
        f"        if mode in {tuple(NESTED_TRANSFORMS)!r}:  # the Hessian entry whose value is the composition's",
        "            return float(np.asarray(value)[ENTRY])",
        "        return float(value)",
    ]


def batch_source(case: Case, finding: Finding) -> list[str]:
    """The batch of a batched scenario's finding (inputs, cotangent, tangent per sample) and the
    differentiable inputs' dtypes."""
    batch = finding.vectors.get("batch", [])
    samples = ", ".join(f"({arrays_literal(xs)}, {arrays_literal(u)}, {arrays_literal(v)})" for xs, u, v in batch)
    return [
        f"BATCH = [{samples}]",
        f"DTYPES = {[t.dtype for t in case.differentiable()]!r}",
        f"TOLERANCES = {finding.details.get('tolerances', {})!r}",
        f"ENTRY = {tuple(finding.details.get('entry', (0, 1)))!r}",
        "",
        "",
        "def loop_scenario(name, xs, u, v):",
        '    """The eager scenario at one sample of the batch: outputs and products."""',
        "    f, _ = bind(False)",
        "    ts = [tensor(x, d, False) for x, d in zip(xs, DTYPES)]",
        '    if name == "direct":',
        "        return direct(f, ts), []",
        '    return vjp(f, ts, u) if name == "rev" else jvp(f, ts, v)',
    ]


def render_reproducer(case: Case, finding: Finding) -> str:
    """A standalone reproducer (the library and numpy only) for a finding on a case."""
    library = record(case.library)
    lib = library.reproducer
    names, lines = call_source(case, callee=library.callee)
    diff = case.differentiable()
    consts = [t for t in case.tensors() if not t.differentiable]
    vec = finding.vectors
    modes_file = library.modes.rsplit(".", 1)[1]
    body = [
        scenario_header(case, finding, lib.imports, lib.note),
        f"# --- the scenarios, as nabla-atheris runs them (nabla_atheris/backends/shared_modes.py, {modes_file}.py) ---",
        modes_source(library.modes),
        "",
        "# --- the oracle's own helpers (nabla_atheris/structures, projections, numerics, tolerances, oracle/values) ---",
        helper_source(),
        "",
        "# --- the case ---",
        'WIDE = {"float16": "float64", "bfloat16": "float64", "float32": "float64", "complex64": "complex128"}',
        "",
        "",
        "def tensor(values, dtype, wide):",
        f"    return {lib.tensor_body}",
        "",
        "",
        "def lift(arrays):",
        f"    return {lib.lift_body}",
        "",
        "",
        "def bind(wide):",
        '    """The call as a function of its differentiable inputs, and their values (float64 when wide)."""',
        f"    xs = [{', '.join(f'tensor({array_literal(t.array())}, {t.dtype!r}, wide)' for t in diff)}]",
        f"    cs = [{', '.join(f'tensor({array_literal(t.array())}, {t.dtype!r}, wide)' for t in consts)}]",
        "",
        f"    def f({', '.join(names)}):",
        *(f"        {line}" for line in lines),
        "",
        "    return f, xs",
        "",
        "",
        f"U = {arrays_literal(vec.get('u', []))}",
        f"V = {arrays_literal(vec.get('v', []))}",
        f"V2 = {arrays_literal(vec.get('v2', []))}",
        f"ORDER = {2 if finding.kind == 'second-order-mismatch' else 1}",
        f"REFEREE = {finding.details.get('referee', 'rev')!r}  # the first-order mode whose product second order differentiates",
        *batch_source(case, finding),
        "",
        "",
        "def scenario(name, outputs=False):",
        '    """One scenario of the finding: outputs for direct, <u, J v> (or its derivative) otherwise."""',
        "    f, xs = bind(False)",
        '    if name == "direct":',
        "        return direct(f, xs)",
        '    if name == "rev":',
        "        outs, grads = vjp(f, xs, U)",
        "        return outs if outputs else inner(grads, V)",
        '    if name == "fwd":',
        "        outs, tangents = jvp(f, xs, V)",
        "        return outs if outputs else inner(U, tangents)",
        *compiled_scenario(lib),
        *batched_scenario(lib),
        *custom_scenario(lib),
        "    fw, xw = bind(True)",
        "    x64 = [to_numpy(x) for x in xw]",
        '    if name == "numeric" and ORDER == 1:',
        "        value, stable = numeric_derivative(lambda a: inner(U, direct(fw, lift(a))), x64, V)",
        '        print("numerical derivative:", value, "" if stable else "(depends on the step)", flush=True)',
        "        return value",
        '    if name == "numeric":  # the derivative of the first-order product <u, J v> along V2',
        '        if REFEREE == "rev":',
        "            phi = lambda a: inner(vjp(fw, lift(a), U)[1], V)  # noqa: E731",
        "        else:",
        "            phi = lambda a: inner(U, jvp(fw, lift(a), V)[1])  # noqa: E731",
        "        value, stable = numeric_derivative(phi, x64, V2)",
        '        print("numerical derivative:", value, "" if stable else "(depends on the step)", flush=True)',
        "        return value",
        "    return second_order(f, xs, U, V, V2, name)",
        "",
        render_comparison(finding).strip(),
        "",
        "",
        'if __name__ == "__main__":',
        "    sys.exit(main())",
        "",
    ]
    return "\n".join(body)
