"""Root causes (one wrong rule, many spellings and pairs), declared input spaces and their use by the decoder."""

import numpy as np
import pytest

from nabla_atheris import structures
from nabla_atheris.catalog import load_catalog
from nabla_atheris.decoder import decode_bytes, seed_bytes
from nabla_atheris.rootcause import COMPUTED_BY, finding_key, function_name, normalized_error, root_cause


@pytest.mark.parametrize(
    "library, spellings",
    [
        ("torch", ["torch.linalg.det", "torch.det", "torch.Tensor.det"]),
        ("torch", ["torch.special.expit", "torch.sigmoid", "torch.Tensor.sigmoid_"]),
        ("tf", ["tf.math.cumulative_logsumexp", "tf.raw_ops.CumulativeLogsumexp"]),
        ("jax", ["jax.numpy.sin", "jax.lax.sin"]),
        ("jax", ["jax.numpy.unique", "jax.numpy.unique_values", "jax.numpy.unique_all"]),  # unique with return_* flags
        ("tf", ["tf.experimental.numpy.arcsin", "tf.raw_ops.Asin", "tf.math.asin"]),  # NumPy's spelling too
        ("oneflow", ["oneflow.nn.functional.log_softmax", "oneflow.nn.LogSoftmax", "oneflow.Tensor.log_softmax"]),
    ],
)
def test_spellings_of_one_function_share_a_root_cause(library, spellings):
    roots = {root_cause(library, api, "second-order-mismatch", ("rev-over-fwd", "numeric")) for api in spellings}
    assert len(roots) == 1, roots


def test_pairs_of_one_scenario_class_share_a_root_cause_and_classes_differ():
    first = {
        root_cause("torch", "torch.det", kind, pair)
        for kind, pair in [("rev-vs-fwd", ("rev", "fwd")), ("fwd-vs-numeric", ("fwd", "numeric"))]
    }
    assert len(first) == 1
    assert root_cause("torch", "torch.det", "second-order-mismatch", ("a", "b")) not in first
    assert function_name("torch", "torch.max") != function_name("torch", "torch.maximum")


def test_a_programs_key_is_its_sequence_of_functions_and_a_single_calls_key_is_unchanged():
    pair = ("rev", "numeric")
    assert root_cause("torch", "torch.det", "rev-vs-numeric", pair) == "torch:det:first-order"  # as stored before programs
    program = root_cause("torch", "torch.sin -> torch.linalg.det", "rev-vs-numeric", pair)
    assert program == "torch:sin->det:first-order"
    assert root_cause("torch", "torch.Tensor.sin_ -> torch.det", "rev-vs-numeric", pair) == program  # spellings meet
    assert root_cause("torch", "torch.det -> torch.sin", "rev-vs-numeric", pair) != program  # the order matters
    crash = ("direct", "direct")
    assert finding_key("torch", "torch.sin -> torch.det", "crash", crash, "boom 3") == "torch:sin->det:error:boom N"
    assert root_cause("torch", "torch.sin -> torch.det", "crash", ("direct", "direct"), "boom") == root_cause(
        "torch", "torch.det", "crash", ("direct", "direct"), "boom"
    )  # an error's root cause is its message, wherever it is reached from


def test_errors_are_grouped_by_their_normalized_message_across_apis():
    a = "RuntimeError: one of the variables ... [torch.DoubleTensor [3, 4]], which is output 0 of ExpBackward0, is at version 1"
    b = "RuntimeError: one of the variables ... [torch.FloatTensor [2]], which is output 0 of ExpBackward0, is at version 2"
    assert normalized_error(a) == normalized_error(b)
    assert root_cause("torch", "torch.softmax", "status-mismatch", ("fwd", "rev-over-fwd"), a) == root_cause(
        "torch", "torch.nn.functional.cross_entropy", "status-mismatch", ("fwd", "rev-over-fwd"), b
    )
    assert normalized_error("derivative for aten::sgn is not implemented") != normalized_error(
        "derivative for aten::abs is not implemented"
    )


def test_each_distributions_methods_are_functions_of_their_own():
    pair = ("rev", "fwd")
    pareto = root_cause("jax", "jax.scipy.stats.pareto.cdf", "nan-mismatch", pair)
    assert pareto == "jax:pareto.cdf:first-order"
    assert pareto != root_cause("jax", "jax.scipy.stats.norm.cdf", "nan-mismatch", pair)
    assert function_name("jax", "jax.scipy.stats.gumbel_r.ppf") != function_name("jax", "jax.scipy.stats.gumbel_l.ppf")


def test_an_api_computed_by_another_shares_its_root_cause_and_keeps_its_name():
    pair = ("numeric", "rev")
    pmf = root_cause("jax", "jax.scipy.stats.geom.pmf", "nan-mismatch", pair)
    assert pmf == root_cause("jax", "jax.scipy.stats.geom.logpmf", "nan-mismatch", pair) == "jax:geom.logpmf:first-order"
    assert pmf != root_cause("jax", "jax.scipy.stats.binom.pmf", "nan-mismatch", pair)
    assert root_cause("jax", "jax.numpy.union1d", "fwd-vs-numeric", ("fwd", "numeric")) == "jax:unique:first-order"
    error = "NotImplementedError: Derivatives of non-symmetric eigenvectors are only valid under assumptions"
    gap = ("rev", "rev-over-rev")
    assert finding_key("jax", "jax.numpy.roots", "derivative-gap", gap, error) == finding_key(
        "jax", "jax.numpy.linalg.eigvals", "derivative-gap", gap, error
    )  # one finding, not one per API that reaches eigvals' rule
    assert function_name("jax", "jax.scipy.stats.geom.pmf") == "geom.pmf"  # its name stays its own
    assert root_cause("jax", "jax.numpy.sin -> jax.numpy.union1d", "fwd-vs-numeric", pair) == "jax:sin->unique:first-order"


def test_computed_by_holds_for_the_installed_library():
    """Each COMPUTED_BY entry is read in the installed library's source: the API calls the other one
    (`exp(logpdf(` for a distribution's method, `unique(` for a set operation, `eigvals(` for roots)."""
    import importlib
    import inspect
    import re

    pytest.importorskip("jax")
    for api, by in COMPUTED_BY["jax"].items():
        module, _, name = api.rpartition(".")
        source = inspect.getsource(inspect.unwrap(getattr(importlib.import_module(module), name)))
        if name == "roots":  # through its helper for a leading coefficient that is not zero
            source += inspect.getsource(importlib.import_module("jax._src.numpy.polynomial")._roots_no_zeros)
        body = source.split('"""')[-1]
        called = by.rpartition(".")[2]
        pattern = rf"exp\(\s*{called}\(" if called.startswith("log") else rf"\b{called}\("
        assert re.search(pattern, body), f"{api} does not call {by} in the installed source"


def test_torch_module_classes_computed_by_a_functional_call_it_in_the_installed_source():
    """Each torch module class of COMPUTED_BY calls its functional in forward or in a helper of the
    class that forward calls (`self._conv_forward`, `self._apply_instance_norm`)."""
    import inspect
    import re

    torch = pytest.importorskip("torch")
    for api, by in COMPUTED_BY["torch"].items():
        if not api.startswith("torch.nn."):
            continue
        cls = getattr(torch.nn, api.rpartition(".")[2])
        source = inspect.getsource(cls.forward)
        for helper in re.findall(r"self\.(_\w+)\(", source):
            source += inspect.getsource(getattr(cls, helper)) if callable(getattr(cls, helper, None)) else ""
        assert re.search(rf"\bF\.{by.rpartition('.')[2]}\(", source), f"{api} does not call {by} in the installed source"
        assert root_cause("torch", api, "second-order-mismatch", ("rev-over-fwd", "numeric")) == root_cause(
            "torch", by, "second-order-mismatch", ("rev-over-fwd", "numeric")
        )


@pytest.mark.parametrize("structure", ["hermitian", "lower", "upper"])
def test_a_structure_basis_spans_its_space_and_projection_keeps_it(structure):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 3))
    p = structures.project(a, structure)
    assert np.allclose(structures.project(p, structure), p)
    basis = structures.basis((3, 3), structure, False)
    assert len(basis) == 6  # n (n + 1) / 2 free entries
    coefficients = np.linalg.lstsq(np.array([d.ravel() for d, _ in basis]).T, p.ravel(), rcond=None)
    assert np.allclose(np.array([d.ravel() for d, _ in basis]).T @ coefficients[0], p.ravel())
    assert structures.project(np.ones((2, 3)), structure).shape == (2, 3)  # not square: unchanged


def test_decoder_draws_declared_structures_and_unique_indices():
    catalog = load_catalog("torch")
    eigh = decode_bytes(seed_bytes(catalog, catalog.apis["torch.linalg.eigh"].id, 0), catalog)
    (matrix,) = eigh.differentiable()
    assert matrix.structure == "hermitian" and np.allclose(matrix.array(), matrix.array().T)
    cholesky = decode_bytes(seed_bytes(catalog, catalog.apis["torch.linalg.cholesky"].id, 0), catalog)
    assert np.all(np.linalg.eigvalsh(cholesky.differentiable()[0].array()) > 0)  # positive definite
    unpool = decode_bytes(seed_bytes(catalog, catalog.apis["torch.nn.functional.max_unpool2d"].id, 1), catalog)
    indices = next(t for t in unpool.tensors() if t.dtype == "int64").array()
    planes = indices.reshape(-1, indices.shape[-2] * indices.shape[-1])  # unique over each plane, not only per row
    assert all(len(set(plane)) == len(plane) for plane in planes.tolist())


def test_a_declared_triangle_takes_its_side_from_the_calls_flag():
    assert structures.resolve("triangular:upper", {}) == "upper"
    assert structures.resolve("triangular:upper", {"lower": True}) == "lower"
    assert structures.resolve("triangular:lower", {"upper": True}) == "upper"
    assert structures.resolve("hermitian", {"upper": True}) == "hermitian"
    assert structures.resolve(None, {}) is None


def test_torch_functions_computed_by_another_hold_its_backward_node():
    """Each torch function of COMPUTED_BY differentiates through the other's rule: the other's
    backward node is in its autograd graph (the rest views, selections and masks)."""
    torch = pytest.importorskip("torch")
    a = torch.eye(3, dtype=torch.float64) * 3 + 0.1 * torch.arange(9, dtype=torch.float64).reshape(3, 3)
    a = (a @ a.T).requires_grad_()  # symmetric positive definite: every function takes it
    b = torch.ones(3, 2, dtype=torch.float64, requires_grad=True)
    calls = {
        "torch.linalg.solve": lambda: torch.linalg.solve(a, b),
        "torch.linalg.solve_ex": lambda: torch.linalg.solve_ex(a, b)[0],
        "torch.linalg.tensorsolve": lambda: torch.linalg.tensorsolve(a, b[:, 0]),
        "torch.linalg.inv": lambda: torch.linalg.inv(a),
        "torch.linalg.inv_ex": lambda: torch.linalg.inv_ex(a)[0],
        "torch.inverse": lambda: torch.inverse(a),
        "torch.Tensor.inverse": lambda: a.inverse(),
        "torch.linalg.cholesky": lambda: torch.linalg.cholesky(a),
        "torch.linalg.cholesky_ex": lambda: torch.linalg.cholesky_ex(a)[0],
        "torch.linalg.lu_factor": lambda: torch.linalg.lu_factor(a)[0],
        "torch.linalg.lu_factor_ex": lambda: torch.linalg.lu_factor_ex(a)[0],
        "torch.linalg.slogdet": lambda: torch.linalg.slogdet(a)[1],
        "torch.logdet": lambda: torch.logdet(a),
        "torch.Tensor.logdet": lambda: a.logdet(),
    }

    def nodes(output):
        seen, stack = set(), [output.grad_fn]
        while stack:
            node = stack.pop()
            if node is not None and node not in seen:
                seen.add(node)
                stack += [n for n, _ in node.next_functions]
        return {type(node).__name__ for node in seen}

    functions = {api: by for api, by in COMPUTED_BY["torch"].items() if not api.startswith("torch.nn.")}
    assert functions and set(functions) | set(functions.values()) <= set(calls)
    for api, by in functions.items():
        assert type(calls[by]().grad_fn).__name__ in nodes(calls[api]()), f"{api} does not differentiate through {by}"
        assert root_cause("torch", api, "second-order-mismatch", ("rev-over-fwd", "numeric")) == root_cause(
            "torch", by, "second-order-mismatch", ("rev-over-fwd", "numeric")
        )
