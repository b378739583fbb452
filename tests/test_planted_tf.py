"""The oracle on TensorFlow: every planted bug is flagged with its kind, no trap is flagged."""

import oracle_suite
import planted_tf
import pytest
from conftest import COMPLEX, SMOOTH, assert_interaction_bug, explain, kinds, make_case

from nabla_atheris.oracle import check_case


@pytest.mark.parametrize("name", sorted(planted_tf.PLANTED))
def test_planted_bug_is_flagged_with_its_kind(tf_backend, name):
    _, expected = planted_tf.PLANTED[name]
    x = COMPLEX if "complex" in name else SMOOTH
    verdict = check_case(make_case(f"tf.nabla_planted.{name}", x), tf_backend)
    assert expected in kinds(verdict), explain(verdict)


def test_wrong_second_order_passes_first_order(tf_backend):
    verdict = check_case(make_case("tf.nabla_planted.wrong_second_order", SMOOTH), tf_backend)
    assert kinds(verdict) == {"second-order-mismatch"}, explain(verdict)
    assert "rev-over-rev" in {f.scenarios[0] for f in verdict.findings}  # forward mode runs the primal ops, not the rule


def test_graph_only_divergence_names_graph_and_xla(tf_backend):
    verdict = check_case(make_case("tf.nabla_planted.graph_only", SMOOTH), tf_backend)
    assert {f.scenarios[1] for f in verdict.findings} == {f"{c}-{m}" for c in ("graph", "xla") for m in ("direct", "rev", "fwd")}


@pytest.mark.parametrize("api, args", oracle_suite.TRAPS["tf"])
def test_traps_are_not_flagged(tf_backend, api, args):
    verdict = check_case(make_case(api, *args), tf_backend)
    assert not oracle_suite.flagged_by_trap("tf", kinds(verdict)), explain(verdict)


@pytest.mark.parametrize("name", ["wrong_gradient", "wrong_second_order", "graph_only", "no_gradient"])
def test_reproducer_imports_only_tensorflow_and_numpy_and_fails_until_fixed(tmp_path, tf_backend, monkeypatch, name):
    import tensorflow as tf
    from test_findings_and_session import imported_modules, run_reproducer

    from nabla_atheris.findings import FindingsStore
    from nabla_atheris.session import store_findings

    verdict = check_case(make_case(f"tf.nabla_planted.{name}", SMOOTH), tf_backend)
    expected = planted_tf.PLANTED[name][1]
    folder = next(s for s in store_findings(verdict, tf_backend, FindingsStore(tmp_path)) if s.kind == expected).folder
    allowed = {"__future__", "sys", "dataclasses", "os", "numpy", "tensorflow"}
    assert imported_modules((folder / "repro.py").read_text()) <= allowed
    assert run_reproducer(folder / "repro.py", monkeypatch) == 1
    monkeypatch.setattr(tf.nabla_planted, name, tf.sin)
    assert run_reproducer(folder / "repro.py", monkeypatch) == 0


@pytest.mark.parametrize("name", sorted(planted_tf.PROGRAM_PLANTED))
def test_a_planted_interaction_bug_is_found_in_a_program_and_not_in_its_single_call(tf_backend, name):
    assert_interaction_bug("tf", tf_backend, name)
