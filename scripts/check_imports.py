#!/usr/bin/env python3
"""The import contract of nabla_atheris (run by `make test`, so CI checks it).

Every `import` counts, module-level or inside a function (as import-linter counts them):
- the oracle and its stages import no campaign tooling;
- the backends import no tooling (a backend binds and runs calls; stores, reports and reproducers use it);
- no import cycles between the package's modules.
Exit 1 with one line per violation, 0 when the contract holds.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "nabla_atheris"
# The modules that run campaigns, store, report and reproduce findings, and the command line.
TOOLING = tuple(
    f"{PACKAGE}.{name}"
    for name in (
        "__main__",
        "_pyinstaller",
        "artifacts",
        "campaign",
        "cli",
        "corpus_coverage",
        "environments",
        "exitcodes",
        "findings",
        "handcase",
        "harness",
        "lifetime",
        "minimize",
        "report",
        "reproducer",
        "seeds",
        "session",
        "shellsafe",
        "stats",
        "supervision",
        "supervisor",
        "workers",
    )
)


@dataclass(frozen=True)
class Forbidden:
    """Modules under `importer` must not import any module under `imported`."""

    name: str
    importer: str
    imported: tuple[str, ...]


CONTRACTS = (
    Forbidden("the oracle imports no campaign tooling", f"{PACKAGE}.oracle", TOOLING),
    Forbidden("backends import no tooling", f"{PACKAGE}.backends", TOOLING),
)


def module_names(root: Path, package: str = PACKAGE) -> dict[str, Path]:
    """Dotted module name -> source file, for every module of the package under `root`."""
    names = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def import_graph(root: Path, package: str = PACKAGE) -> dict[str, set[str]]:
    """Module -> the package's modules it imports (anywhere in its source)."""
    modules = module_names(root, package)

    def known(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        own_package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets.update(known(alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = own_package.split(".")[: len(own_package.split(".")) - node.level + 1]
                    base = ".".join(parent + ([base] if base else []))
                targets.update(known(f"{base}.{alias.name}") for alias in node.names)
        graph[module] = {t for t in targets if t and t != module and t.split(".")[0] == package}
    return graph


def under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def forbidden_imports(graph: dict[str, set[str]], contract: Forbidden) -> list[str]:
    """`importer -> imported` lines that break a contract."""
    return [
        f"{contract.name}: {module} imports {target}"
        for module in sorted(graph)
        if under(module, contract.importer)
        for target in sorted(graph[module])
        if any(under(target, banned) for banned in contract.imported)
    ]


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = len(index)
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(graph.get(succ, ())))))
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def violations(root: Path, package: str = PACKAGE, contracts: tuple[Forbidden, ...] = CONTRACTS) -> list[str]:
    """Every broken contract of the package under `root`, one line each."""
    graph = import_graph(root, package)
    lines = [line for contract in contracts for line in forbidden_imports(graph, contract)]
    return lines + [f"import cycle: {' <-> '.join(component)}" for component in cycles(graph)]


def main() -> int:
    found = violations(Path(__file__).resolve().parent.parent)
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
