"""The import contract (scripts/check_imports.py): it holds for nabla_atheris, and the checker finds a
forbidden import and a cycle, lazy imports and relative imports included."""

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("check_imports", ROOT / "scripts" / "check_imports.py")
check_imports = sys.modules["check_imports"] = importlib.util.module_from_spec(spec)  # dataclasses look it up
spec.loader.exec_module(check_imports)


def write_package(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_the_contract_holds():
    assert check_imports.violations(ROOT) == []


def test_a_forbidden_import_and_a_cycle_are_found(tmp_path):
    write_package(
        tmp_path,
        {
            "__init__.py": "",
            "core/__init__.py": "",
            "core/stage.py": "def run():\n    from pkg import tool\n",  # a lazy import of tooling
            "tool.py": "from .helper import x\n",
            "helper.py": "from pkg.tool import y\nx = 1\n",
        },
    )
    contract = check_imports.Forbidden("core imports no tooling", "pkg.core", ("pkg.tool",))
    found = check_imports.violations(tmp_path, "pkg", (contract,))
    assert found == ["core imports no tooling: pkg.core.stage imports pkg.tool", "import cycle: pkg.helper <-> pkg.tool"]


def test_an_acyclic_package_within_its_contract_passes(tmp_path):
    files = {"__init__.py": "", "core/__init__.py": "from . import stage\n", "core/stage.py": "import pkg.base\n", "base.py": ""}
    write_package(tmp_path, files)
    contract = check_imports.Forbidden("core imports no tooling", "pkg.core", ("pkg.tool",))
    assert check_imports.violations(tmp_path, "pkg", (contract,)) == []
