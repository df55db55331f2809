"""The README and docs/ point at code: every file, module, command and `file: name` they name exists.

Docs state a fact once and point at the code that holds it; a pointer that outlives a rename would send a
reader to nothing, so a rename that leaves one behind fails here.
"""

from __future__ import annotations

import importlib
import re
import subprocess
from pathlib import Path

import pytest
import typer.main

from starter.cli import app

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
PACKAGES = ("activities", "bench", "client", "domain", "notify", "portal", "register", "runtime", "starter",
            "workflows")
# Folders a reader opens in the clone (data/ is made at run time and is not one of them).
FOLDERS = (*PACKAGES, "deploy", "docs", "examples", "scripts", "tests")

_QUOTED = re.compile(r"`([^`\n]+)`")
_PATH = re.compile(rf"^(?:{'|'.join(FOLDERS)})/[\w./-]*$")
_ROOT_FILE = re.compile(r"^[\w-]+\.(?:py|toml|yml)$")
# ``register.db`` is the register's file, not a module.
_MODULE = re.compile(rf"^(?:{'|'.join(PACKAGES)})(?:\.\w+)+(?<!\.db)$")
_COMMAND = re.compile(r"\bshenhou((?: [a-z][a-z-]*)+)")
# ``client/operations.py: start_case``: a file and what it defines.
_POINTER = re.compile(rf"^((?:{'|'.join(FOLDERS)})/[\w./-]*\.py|worker\.py): (\w+(?:, \w+)*)$")


def _quoted() -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        for match in _QUOTED.finditer(doc.read_text(encoding="utf-8")):
            found.append((doc.relative_to(ROOT).as_posix(), match.group(1).strip()))
    return found


def _paths() -> list[tuple[str, str]]:
    return sorted({(doc, text) for doc, text in _quoted() if _PATH.match(text) or _ROOT_FILE.match(text)})


def _modules() -> list[tuple[str, str]]:
    return sorted({(doc, text) for doc, text in _quoted() if _MODULE.match(text)})


def _pointers() -> list[tuple[str, str]]:
    return sorted({(doc, text) for doc, text in _quoted() if _POINTER.match(text)})


def _commands() -> list[tuple[str, str]]:
    return sorted({(doc, m.group(1).strip()) for doc, text in _quoted() for m in _COMMAND.finditer(text)})


def test_the_docs_name_code() -> None:
    """The collectors below see what the docs point at (a guard that they still match the docs' style)."""
    assert len(_paths()) >= 50 and len(_modules()) >= 3 and len(_commands()) >= 15 and len(_pointers()) >= 30


@pytest.mark.parametrize(("doc", "path"), _paths())
def test_every_path_the_docs_name_exists(doc: str, path: str) -> None:
    made_at_run_time = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT).returncode == 0
    assert (ROOT / path).exists() or made_at_run_time, f"{doc} names {path}, which is not in the repository"


@pytest.mark.parametrize(("doc", "pointer"), _pointers())
def test_every_name_the_docs_point_at_is_defined_there(doc: str, pointer: str) -> None:
    match = _POINTER.match(pointer)
    assert match is not None
    path = ROOT / match.group(1)
    assert path.is_file(), f"{doc} names {match.group(1)}, which is not in the repository"
    source = path.read_text(encoding="utf-8")
    for name in match.group(2).split(", "):
        defined = re.search(rf"^\s*(?:async def|def|class) {name}\b|^\s*{name}\s*[:=]", source, re.M)
        assert defined, f"{doc} points at {name} in {match.group(1)}, which does not define it"


@pytest.mark.parametrize(("doc", "dotted"), _modules())
def test_every_module_the_docs_name_imports(doc: str, dotted: str) -> None:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            assert hasattr(target, attribute), f"{doc} names {dotted}: {attribute} is not there"
            target = getattr(target, attribute)
        return
    pytest.fail(f"{doc} names {dotted}, which is not a module")


@pytest.mark.parametrize(("doc", "words"), _commands())
def test_every_command_the_docs_name_runs(doc: str, words: str) -> None:
    """Words after ``shenhou`` walk the CLI's groups; the walk may stop at a command (its arguments follow)."""
    command: object = typer.main.get_command(app)
    for word in words.split():
        group: dict[str, object] | None = getattr(command, "commands", None)  # typer's own click
        if group is None:
            return
        assert word in group, f"{doc} names `shenhou {words}`: there is no {word!r} there"
        command = group[word]
