"""Every finding of a short campaign has a reproducer that says what the oracle says: it exits 1
while the disagreement is present (whatever the kind, dtype or shape: 0-d, bfloat16, half, bool)."""

import json
import random
from pathlib import Path

import planted_torch  # noqa: F401  (registers torch.nabla_planted)
import pytest
from conftest import make_case, run_reproducer, tensor

from nabla_atheris.findings import FindingsStore
from nabla_atheris.oracle import check_case
from nabla_atheris.session import FuzzSession, store_findings

ROOT = Path(__file__).resolve().parents[1]
SEEDS_PER_LIBRARY = {"torch": 400, "jax": 12, "tf": 12}
# Seeds whose APIs have a derivative the library lacks in one mode only (JAX's eig and tridiagonal
# eigh have no forward mode, TF's SoftsignGrad no gradient, QuantizeAndDequantizeV4Grad's gradient
# raises), added to the random sample of the slower libraries so that every run has findings.
FINDING_SEEDS = {
    "jax": ["jax.numpy.linalg.eigvals.0", "jax.scipy.linalg.eigh_tridiagonal.0"],
    "tf": ["tf.raw_ops.Softsign.0", "tf.raw_ops.QuantizeAndDequantizeV4Grad.0"],
}
MINIMUM_FINDINGS = {"torch": 20, "jax": 2, "tf": 2}


def campaign_findings(library: str, folder: Path) -> list[Path]:
    """The finding folders of a short campaign: the harness' session over a fixed sample of seeds."""
    corpus = ROOT / "corpus" / library
    seeds = sorted(corpus.iterdir())
    random.Random(7).shuffle(seeds)
    sample = seeds[: SEEDS_PER_LIBRARY[library]] + [corpus / name for name in FINDING_SEEDS.get(library, [])]
    session = FuzzSession(library, folder, raise_new=False)
    for seed in sample:
        session.test_one_input(seed.read_bytes())
    return [p for p in session.store.folders()]


@pytest.mark.parametrize("library", sorted(SEEDS_PER_LIBRARY))
def test_every_reproducer_of_a_short_campaign_exits_as_the_oracle_says(library, tmp_path, monkeypatch):
    folders = campaign_findings(library, tmp_path / "findings")
    assert len(folders) >= MINIMUM_FINDINGS[library]  # the sample reaches real findings
    for folder in folders:
        meta = json.loads((folder / "finding.json").read_text())
        code = run_reproducer(folder / "repro.py", monkeypatch)
        assert code == 1, (meta["kind"], meta["api"], meta["message"])


@pytest.mark.parametrize(
    "api, args",
    [
        ("torch.nabla_planted.wrong_backward", [tensor([], [0.7], dtype="bfloat16")]),  # 0-d, bfloat16
        ("torch.nabla_planted.wrong_backward", [tensor([2], [0.3, -0.6], dtype="float16")]),
        (
            "torch.nabla_planted.masked_wrong_backward",
            [tensor([3], [0.3, 0.6, -0.2]), tensor([3], [True, False, True], dtype="bool")],
        ),
    ],
)
def test_reproducers_handle_every_dtype_and_shape(torch_backend, tmp_path, monkeypatch, api, args):
    verdict = check_case(make_case(api, *args), torch_backend)
    stored = store_findings(verdict, torch_backend, FindingsStore(tmp_path))
    assert stored and all(run_reproducer(s.folder / "repro.py", monkeypatch) == 1 for s in stored), [s.kind for s in stored]
