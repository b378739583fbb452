"""OSS-Fuzz and ClusterFuzzLite files: project files parse, the build covers every harness, the artifacts
(seed corpus zips, .options) hold the corpus, frozen builds find the package's data. Fast: nothing is
installed or frozen here (scripts/check_frozen_harness.sh does the real PyInstaller build)."""

import configparser
import os
import re
import runpy
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from nabla_atheris import catalog, harness

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ROOT / "oss-fuzz" / "projects" / "nabla-atheris"
BUILD = ROOT / "oss-fuzz" / "build.sh"
CFLITE = ROOT / ".clusterfuzzlite"
# Harnesses OSS-Fuzz does not build, with the reason (oss-fuzz/README.md says the same).
LEFT_OUT = {"oneflow": "OneFlow needs Python 3.10; OSS-Fuzz's base-builder-python has one Python, 3.11"}
sys.path.insert(0, str(ROOT / "scripts"))
import build_oss_fuzz_artifacts as artifacts  # noqa: E402


def harness_libraries() -> set[str]:
    return {p.stem.removeprefix("fuzz_") for p in (ROOT / "harnesses").glob("fuzz_*.py")}


def test_project_yaml_follows_the_python_conventions():
    project = yaml.safe_load((PROJECT / "project.yaml").read_text())
    assert project["language"] == "python"
    assert project["fuzzing_engines"] == ["libfuzzer"]
    assert set(project["sanitizers"]) <= {"address", "undefined"} and "address" in project["sanitizers"]
    assert project["main_repo"].startswith("https://") and project["homepage"].startswith("https://")
    assert yaml.safe_load((CFLITE / "project.yaml").read_text()) == {"language": "python"}


@pytest.mark.parametrize(
    "dockerfile, build", [(PROJECT / "Dockerfile", "build.sh"), (CFLITE / "Dockerfile", ".clusterfuzzlite/build.sh")]
)
def test_dockerfiles_start_from_the_python_base_builder(dockerfile, build):
    lines = [line for line in dockerfile.read_text().splitlines() if line and not line.startswith("#")]
    assert lines[0] == "FROM gcr.io/oss-fuzz-base/base-builder-python"
    assert f"COPY {build} $SRC/" in lines
    assert any("$SRC/nabla-atheris" in line or line.endswith(" nabla-atheris") for line in lines)


@pytest.mark.parametrize(
    "script", [PROJECT / "build.sh", CFLITE / "build.sh", BUILD, ROOT / "scripts" / "check_frozen_harness.sh"]
)
def test_build_scripts_are_executable_bash(script):
    assert os.access(script, os.X_OK)
    assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode == 0
    if script.parent in (PROJECT, CFLITE):
        assert '"$SRC/nabla-atheris/oss-fuzz/build.sh"' in script.read_text()


def test_workflow_samples_parse():
    for path in (ROOT / "oss-fuzz" / "clusterfuzzlite").glob("*.yml"):
        workflow = yaml.safe_load(path.read_text())
        steps = [step["uses"] for job in workflow["jobs"].values() for step in job["steps"]]
        assert any("clusterfuzzlite/actions/build_fuzzers" in s for s in steps)
        assert any("clusterfuzzlite/actions/run_fuzzers" in s for s in steps)


@pytest.fixture(scope="module")
def stubbed_build(tmp_path_factory):
    """oss-fuzz/build.sh run with stand-ins: pip and the PyInstaller probe do nothing, compile_python_fuzzer
    records its arguments; the artifact script runs for real into $OUT."""
    tmp = tmp_path_factory.mktemp("build")
    bin_dir, out, log = tmp / "bin", tmp / "out", tmp / "calls.log"
    bin_dir.mkdir()
    out.mkdir()
    (bin_dir / "python3").write_text(
        "#!/bin/sh\n"
        f'case "$1 $2" in "-m pip") echo "pip $*" >> "{log}"; exit 0;; esac\n'
        '[ "$1" = -c ] && exit 0\n'
        f'exec "{sys.executable}" "$@"\n'
    )
    (bin_dir / "compile_python_fuzzer").write_text(f'#!/bin/sh\necho "compile $*" >> "{log}"\n')
    for stub in bin_dir.iterdir():
        stub.chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", OUT=str(out), SRC=str(tmp))
    env.pop("NABLA_LIBS", None)
    result = subprocess.run(["bash", str(BUILD)], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return out, log.read_text().splitlines()


def test_build_compiles_every_harness_but_the_ones_left_out(stubbed_build):
    _, calls = stubbed_build
    compiled = {Path(call.split()[1]).stem.removeprefix("fuzz_") for call in calls if call.startswith("compile ")}
    assert compiled == harness_libraries() - set(LEFT_OUT)
    assert compiled == set(artifacts.LIBRARIES)
    jax_call = next(call for call in calls if call.startswith("compile ") and "fuzz_jax.py" in call)
    assert "--collect-all jaxlib" in jax_call and "--exclude-module torch" in jax_call
    pips = " ".join(call for call in calls if call.startswith("pip "))
    for pin in re.findall(r"^(torch|jax|jaxlib|tensorflow-cpu)==\S+", (ROOT / "requirements.txt").read_text(), re.M):
        assert pin in pips  # the library versions of requirements.txt
    package = calls.index("pip -m pip install --no-cache-dir .")
    assert package < min(i for i, call in enumerate(calls) if call.startswith("compile "))  # installed, then frozen


def test_build_writes_a_seed_zip_and_options_per_harness(stubbed_build):
    out, _ = stubbed_build
    for library in artifacts.LIBRARIES:
        corpus = {p.name: p.read_bytes() for p in (ROOT / "corpus" / library).iterdir() if p.is_file()}
        with zipfile.ZipFile(out / f"fuzz_{library}_seed_corpus.zip") as archive:
            assert archive.testzip() is None
            assert {name: archive.read(name) for name in archive.namelist()} == corpus
        options = configparser.ConfigParser()
        options.read(out / f"fuzz_{library}.options")
        assert options.sections() == ["libfuzzer"]
        flags = {key: int(value) for key, value in options["libfuzzer"].items()}
        assert flags["timeout"] >= 60 and flags["rss_limit_mb"] * harness.RSS_LIMIT_SHARE >= 2048
    assert not list(out.glob("*.dict"))  # no dictionary: see build_oss_fuzz_artifacts' docstring


def test_seed_zips_are_deterministic(tmp_path):
    first = artifacts.write_seed_zip("jax", tmp_path)
    data = first.read_bytes()
    assert artifacts.write_seed_zip("jax", tmp_path).read_bytes() == data


def test_artifact_script_rejects_unknown_libraries(tmp_path, capsys):
    with pytest.raises(SystemExit):
        artifacts.main(["--out", str(tmp_path), "--libs", "jax,oneflow"])
    assert "unknown libraries: oneflow" in capsys.readouterr().err


def test_pyinstaller_hook_collects_catalog_data_and_sources():
    from nabla_atheris import _pyinstaller

    (hook_dir,) = _pyinstaller.get_hook_dirs()
    datas = runpy.run_path(str(Path(hook_dir) / "hook-nabla_atheris.py"))["datas"]
    collected = {Path(dest, Path(src).name).as_posix() for src, dest in datas}
    for library in artifacts.LIBRARIES:
        assert f"nabla_atheris/catalog/data/{library}.json" in collected
        assert f"nabla_atheris/catalog/data/{library}.registry" in collected
        assert f"nabla_atheris/backends/{library}_modes.py" in collected  # inspect.getsource of reproducers
    assert not any("_pyinstaller" in entry or "__pycache__" in entry for entry in collected)
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'hook-dirs = "nabla_atheris._pyinstaller:get_hook_dirs"' in pyproject


def test_missing_catalog_data_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(catalog.resources, "files", lambda package: tmp_path)
    with pytest.raises(catalog.CatalogDataMissing, match="--collect-data nabla_atheris"):
        catalog._data_text("jax.registry")


def test_harness_memory_budget_follows_the_rss_limit_flag(monkeypatch):
    monkeypatch.delenv("NABLA_MAX_RSS_MB", raising=False)
    assert harness.memory_budget_mb(["fuzz_jax"]) == harness.DEFAULT_MAX_RSS_MB
    assert harness.memory_budget_mb(["fuzz_jax", "-rss_limit_mb=6144"]) == harness.DEFAULT_MAX_RSS_MB
    assert harness.memory_budget_mb(["fuzz_jax", "-rss_limit_mb=6144", "-rss_limit_mb=2560"]) == pytest.approx(2176)
    assert harness.memory_budget_mb(["fuzz_jax", "-rss_limit_mb=0"]) == harness.DEFAULT_MAX_RSS_MB
    monkeypatch.setenv("NABLA_MAX_RSS_MB", "0")
    assert harness.memory_budget_mb(["fuzz_jax", "-rss_limit_mb=2560"]) == 0


def test_harness_findings_fall_back_to_a_temporary_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("NABLA_FINDINGS", raising=False)
    monkeypatch.chdir(tmp_path)
    assert harness.findings_dir() == Path("findings")
    monkeypatch.setattr(harness.os, "access", lambda path, mode: False)
    assert harness.findings_dir().name == "nabla-atheris-findings"
    monkeypatch.setenv("NABLA_FINDINGS", str(tmp_path / "f"))
    assert harness.findings_dir() == tmp_path / "f"
