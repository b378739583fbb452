"""Program seeds: each library's corpus holds chains after common model patterns, written with the
decoder's choices; each decodes to its pattern's calls, every later one taking the call before's
output, and runs (no invalid input, no harness error)."""

from pathlib import Path

import pytest
from conftest import explain

from nabla_atheris.case import Ref
from nabla_atheris.catalog import load_catalog
from nabla_atheris.decoder import decode_bytes, program_seed_bytes
from nabla_atheris.oracle import check_case
from nabla_atheris.oracle.subject import prepare
from nabla_atheris.program_seeds import PATTERNS, is_program_seed
from nabla_atheris.seeds import seed_name
from nabla_atheris.verdict import Judgement

ROOT = Path(__file__).resolve().parents[1]


def seeds_of(library):
    corpus = ROOT / "corpus" / library
    return {p.name: decode_bytes(p.read_bytes(), load_catalog(library)) for p in corpus.iterdir() if is_program_seed(p.name)}


@pytest.mark.parametrize("library", ["torch", "jax", "tf"])
def test_each_pattern_is_a_checked_in_chain_that_runs(request, library):
    backend = request.getfixturevalue(f"{library}_backend")
    seeds = seeds_of(library)
    assert {name.split(".", 2)[2] for name in seeds} == set(PATTERNS[library])
    for name, case in seeds.items():
        assert tuple(case.apis()) == PATTERNS[library][name.split(".", 2)[2]], name
        assert [c.args[0] for c in case.then] == [Ref(i, 0) for i in range(len(case.then))], name
        judgement = Judgement()
        assert prepare(case, backend, judgement) is not None, (name, judgement.lines)


def test_torch_program_seeds_check_without_filters_or_harness_errors(torch_backend):
    for name, case in seeds_of("torch").items():
        verdict = check_case(case, torch_backend)
        assert verdict.valid and not verdict.harness_errors and "invalid-input" not in verdict.filters, (name, explain(verdict))


def test_a_program_seed_is_refused_for_an_api_that_takes_no_earlier_output():
    catalog = load_catalog("torch")
    with pytest.raises(ValueError, match="torch.linalg.eigh has no template that takes an earlier output"):
        program_seed_bytes(catalog, ["torch.sin", "torch.linalg.eigh"])
    with pytest.raises(ValueError, match="2 to 3 calls"):
        program_seed_bytes(catalog, ["torch.sin"])
    assert not is_program_seed(seed_name("torch.sin", 0)) and is_program_seed("torch.program.square-mean")


@pytest.fixture
def planted_hook(monkeypatch):
    """The test-only hook on (nabla_atheris/plants.py): the catalog and program seeds gain the planted
    interaction bugs; the caches that hold the hook's effect are emptied before and after."""
    from nabla_atheris.plants import ENVIRONMENT, planted_programs

    def clear():
        planted_programs.cache_clear()
        load_catalog.cache_clear()

    clear()
    monkeypatch.setenv(ENVIRONMENT, str(ROOT / "tests"))
    yield
    monkeypatch.delenv(ENVIRONMENT)
    clear()


def test_the_planted_hook_adds_the_op_and_its_seed_and_a_worker_finds_it(planted_hook, tmp_path):
    from nabla_atheris import scenario_sets
    from nabla_atheris.program_seeds import program_seeds
    from nabla_atheris.session import FuzzSession, NewFinding

    plain = [line.strip() for line in (ROOT / "nabla_atheris" / "catalog" / "data" / "torch.registry").read_text().splitlines()]
    catalog = load_catalog("torch")
    api = "torch.nabla_planted.sparse_input_jvp"
    assert catalog.registry[: len(plain)] == plain and catalog.registry[len(plain)] == api  # appended: old ids stay
    seed = program_seeds("torch")["torch.program.plant-sparse_input_jvp"]
    assert decode_bytes(seed, catalog).apis() == ["torch.nn.functional.relu", api]
    session = FuzzSession("torch", tmp_path / "findings", catalog=catalog, selection=scenario_sets.parse("torch", "core"))
    with pytest.raises(NewFinding, match=f"torch.nn.functional.relu -> {api}: fwd-vs-numeric"):
        session.test_one_input(seed)


def test_without_the_hook_nothing_is_planted():
    from nabla_atheris.program_seeds import program_seeds

    assert not any("nabla_planted" in name for name in load_catalog("torch").registry)
    assert {name.split(".", 2)[2] for name in program_seeds("torch")} == set(PATTERNS["torch"])
