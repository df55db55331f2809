"""Who may import whom, read from the source with ``ast`` (function-level imports included).

- Nothing but the CLI imports the CLI package: the worker, the portal, the dispatcher, the bench and the
  client operations they share stand on their own (client/).
- No workflow module imports another in a cycle, and the case and matter modules not each other at all: they
  talk through workflows/contract.py.
- Every ``ErrorType`` is raised somewhere: a type nothing raises is a branch nobody can reach.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.enums import ErrorType

ROOT = Path(__file__).resolve().parent.parent
# Everything that runs without the CLI; starter/ itself and the tests may import it.
NOT_THE_CLI = ("worker.py", "activities", "bench", "client", "domain", "notify", "portal", "register", "runtime",
               "workflows")
SOURCE = (*NOT_THE_CLI, "starter")


def _files(*roots: str) -> list[Path]:
    found: list[Path] = []
    for root in roots:
        path = ROOT / root
        found.extend([path] if path.is_file() else sorted(path.rglob("*.py")))
    return found


def _module_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> Iterator[str]:
    """Every module ``path`` imports, as dotted names; ``from a import b`` yields ``a`` and ``a.b`` (b may be a
    module)."""
    module = _module_of(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def test_the_scan_sees_the_imports() -> None:
    """A guard for the scanner: it finds a known import, a function-level one included."""
    assert "workflows.contract" in set(_imports(ROOT / "workflows" / "matter.py"))
    assert "worker" in set(_imports(ROOT / "starter" / "system.py"))  # imported inside a function


@pytest.mark.parametrize("path", _files(*NOT_THE_CLI), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_nothing_but_the_cli_imports_the_cli(path: Path) -> None:
    cli = sorted({name for name in _imports(path) if name == "starter" or name.startswith("starter.")})
    assert not cli, f"{path.relative_to(ROOT)} imports {cli}: shared code belongs in client/ or below"


def test_no_import_cycle_between_workflow_modules() -> None:
    files = _files("workflows")
    modules = {_module_of(path) for path in files}
    graph = {_module_of(path): sorted(set(_imports(path)) & modules - {_module_of(path)}) for path in files}
    # A package's __init__ runs before its modules: importing the package is no edge back to them.
    graph = {module: [target for target in targets if target != "workflows"] for module, targets in graph.items()}
    cycles: list[list[str]] = []
    state: dict[str, str] = {}

    def visit(module: str, trail: list[str]) -> None:
        state[module] = "open"
        for target in graph[module]:
            if state.get(target) == "open":
                cycles.append([*trail[trail.index(target):], target] if target in trail else [module, target])
            elif target not in state:
                visit(target, [*trail, target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, "import cycles between workflow modules: " + "; ".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize(("module", "other"), [("case", "matter"), ("matter", "case")])
def test_a_case_and_its_matters_share_only_the_contract(module: str, other: str) -> None:
    """Not even one way: the matter used to import the case's module to name its signal."""
    imported = set(_imports(ROOT / "workflows" / f"{module}.py"))
    assert f"workflows.{other}" not in imported
    assert "workflows.contract" in imported


def test_every_error_type_is_raised_somewhere() -> None:
    used = {
        node.attr
        for path in _files(*SOURCE)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "ErrorType"
    }
    unused = sorted(member.name for member in ErrorType if member.name not in used)
    assert not unused, f"ErrorType members nothing raises: {unused}"
