"""Compile reuse (JAX, TensorFlow): a JAX structure's second-order compositions are one compiled function,
JAX's compiled reverse and forward mode are one, evaluations at other points are compiled once; each
gives the values of the scenarios run one by one, and any failure falls back to them."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import planted_jax  # noqa: F401  (registers jax.nabla_planted)
import pytest
from conftest import SMOOTH, make_case, tensor

from nabla_atheris import projections as P
from nabla_atheris.harness import within_memory_budget
from nabla_atheris.libraries import record
from nabla_atheris.vocabulary import SECOND_ORDER

ROOT = Path(__file__).resolve().parents[1]


def directions(call, seed=0):
    rng = np.random.default_rng(seed)
    outputs = call.direct()
    return P.random_like(rng, outputs), P.random_like(rng, call.inputs), P.random_like(rng, call.inputs)


def first_order(call, u, v):
    call.vjp(u)
    call.jvp(v)


@pytest.fixture(params=["jax", "tf"])
def backend(request):
    from nabla_atheris.backends import get_backend

    if request.param == "tf":
        import planted_tf  # noqa: F401  (registers tf.nabla_planted)
    return get_backend(request.param)


def api(backend, name):
    return {"jax": "jax.numpy.", "tf": "tf.math."}[backend.name] + name


def test_combined_second_order_gives_each_composition_its_own_value(jax_backend):
    call = jax_backend.bind(make_case("jax.numpy.sin", tensor([2, 3], seed=2)))
    u, v, v2 = directions(call)
    first_order(call, u, v)
    combined = {mode: call.second_order(mode, u, v, v2) for mode in SECOND_ORDER}
    assert call.second is not None and set(call.second[1]) == set(SECOND_ORDER)  # from one combined run
    modes = jax_backend.call_type.modes
    alone = {mode: modes.second_order(call.f, call._xs(None), u, v, v2, mode) for mode in SECOND_ORDER}
    for mode in SECOND_ORDER:
        assert combined[mode] == pytest.approx(alone[mode], rel=1e-9, abs=1e-12), mode


def test_tensorflow_second_order_runs_eagerly_as_its_users_code_does(tf_backend):
    call = tf_backend.bind(make_case("tf.math.sin", tensor([2, 3], seed=2)))
    u, v, v2 = directions(call)
    first_order(call, u, v)
    value = call.second_order("fwd-over-fwd", u, v, v2)  # eager nested accumulators (tensorflow/tensorflow#127753)
    combined = [function for key, function in call.f.compiled.items() if key.startswith("second-order")]
    assert call.second is not None and call.second[1] == {} and combined == [None]  # none made
    assert value == pytest.approx(tf_backend.call_type.modes.second_order(call.f, call._xs(None), u, v, v2, "fwd-over-fwd"))


def test_combined_second_order_leaves_out_compositions_of_modes_that_did_not_run(jax_backend):
    call = jax_backend.bind(make_case("jax.nabla_planted.wrong_vjp", SMOOTH))  # custom_vjp: no forward mode
    u, v, v2 = directions(call)
    call.vjp(u)
    with pytest.raises(Exception):  # noqa: B017  (the library's own error)
        call.jvp(v)
    assert call.second_order("rev-over-rev", u, v, v2) == pytest.approx(
        jax_backend.call_type.modes.second_order(call.f, call._xs(None), u, v, v2, "rev-over-rev")
    )
    assert set(call.second[1]) == {"rev-over-rev"}
    with pytest.raises(Exception, match="not implemented"):  # a composition asked anyway raises its own error, eagerly
        call.second_order("rev-over-fwd", u, v, v2)


def test_a_combined_function_that_fails_falls_back_and_is_not_tried_again(jax_backend, monkeypatch):
    case = make_case("jax.numpy.tanh", tensor([4], seed=7))
    call = jax_backend.bind(case)
    u, v, v2 = directions(call)
    first_order(call, u, v)
    key = f"second-order {','.join(SECOND_ORDER)}"
    monkeypatch.setitem(call.f.compiled, key, lambda *args: (_ for _ in ()).throw(RuntimeError("planted")))
    values = {mode: call.second_order(mode, u, v, v2) for mode in SECOND_ORDER}
    assert key in call.f.refused and all(np.isfinite(list(values.values())))
    again = jax_backend.bind(case)
    first_order(again, u, v)
    again.second_order("rev-over-rev", u, v, v2)
    assert again.second[1] == {}  # refused for the structure: eager from now on


def test_jax_compiled_reverse_and_forward_mode_are_one_function_equal_to_each_alone(jax_backend):
    case = make_case("jax.numpy.tanh", tensor([2, 3], seed=5))
    call = jax_backend.bind(case)
    u, v, _ = directions(call)
    first_order(call, u, v)
    results = {mode: call.compiled(mode, vectors) for mode, vectors in (("jit-direct", []), ("jit-rev", u), ("jit-fwd", v))}
    assert "jit" in call.f.compiled and "jit-rev" not in call.f.compiled  # rev and fwd came from the combined function
    modes = jax_backend.call_type.modes
    for mode, vectors in (("rev", u), ("fwd", v)):
        outs, products = modes.compiled(modes.jitted(mode, call.f), mode, call._xs(None), vectors)
        np.testing.assert_allclose(results[f"jit-{mode}"][1][0], products[0], rtol=1e-12)
        np.testing.assert_allclose(results[f"jit-{mode}"][0][0], outs[0], rtol=1e-12)
    other = jax_backend.bind(make_case("jax.numpy.tanh", tensor([2, 3], seed=6)))  # same structure, other values
    first_order(other, u, v)
    other.compiled("jit-direct", [])
    other.compiled("jit-rev", u)
    assert other.f is call.f and len(call.f.compiled) == 2  # jit-direct and the combined function, compiled once


def test_products_at_other_points_are_compiled_once_and_equal_the_eager_ones(backend):
    call = backend.bind(make_case(api(backend, "tanh"), tensor([3], seed=1, dtype="float64")))
    u, v, _ = directions(call)
    point = [x + 0.25 for x in call.inputs]
    modes = backend.call_type.modes
    for mode, vectors, eager in (("rev", u, modes.vjp), ("fwd", v, modes.jvp)):
        compiled = (call.vjp if mode == "rev" else call.jvp)(vectors, point)
        reference = eager(call.f, call._xs(point), vectors)
        np.testing.assert_allclose(compiled[1][0], reference[1][0], rtol=1e-12)
        assert f"{mode} at points" in call.f.compiled


def test_reference_scenarios_use_xlas_fast_options_and_jit_scenarios_its_defaults():
    probe = (
        "from nabla_atheris.backends import jax_modes\n"
        "from jax._src.lib import xla_client as xc\n"
        "print(xc._xla.CompileOptions().executable_build_options.debug_options.xla_backend_optimization_level)\n"
    )
    env = dict({k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}, PYTHONPATH=str(ROOT))

    def level(code):
        return int(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True).stdout.split()[-1])

    assert level(probe) == 0  # the process default: what eager calls compile with
    default = level(probe.replace("from nabla_atheris.backends import jax_modes\n", ""))
    from nabla_atheris.backends import jax_modes

    assert jax_modes.LIBRARY_XLA_OPTIONS["xla_backend_optimization_level"] == default


def test_persistent_cache_settings_name_the_folder_even_with_spaces(tmp_path):
    folder = tmp_path / "a work dir é"
    assert record("jax").cache_env(folder)["JAX_COMPILATION_CACHE_DIR"] == str(folder)
    assert f'--tf_xla_persistent_cache_directory="{folder}"' in record("tf").cache_env(folder)["TF_XLA_FLAGS"]
    assert record("torch").cache_env(folder) == {"TORCHINDUCTOR_CACHE_DIR": str(folder / "inductor")}
    assert record("oneflow").cache_env(folder) == {}


def test_persistent_cache_settings_keep_the_flags_set_and_skip_a_folder_tf_cannot_quote(tmp_path, monkeypatch):
    monkeypatch.setenv("TF_XLA_FLAGS", "--tf_xla_auto_jit=2")
    assert record("tf").cache_env(tmp_path)["TF_XLA_FLAGS"].startswith("--tf_xla_auto_jit=2 --tf_xla_persistent_cache_directory=")
    quoted = tmp_path / 'a "quoted" dir'
    assert record("tf").cache_env(quoted) == {}
    assert record("jax").cache_env(quoted)["JAX_COMPILATION_CACHE_DIR"] == str(quoted)


def test_a_worker_over_part_of_its_budget_releases_memory_first(monkeypatch):
    import nabla_atheris.harness as harness

    released, checked = [], []
    usage = iter([700.0, 300.0])  # above 60 % of 1000 MB, then below after the release
    monkeypatch.setattr(harness, "rss_mb", lambda: next(usage))
    within_memory_budget(checked.append, 1000, lambda: released.append(True))(b"input")
    assert released == [True] and checked == [b"input"]
