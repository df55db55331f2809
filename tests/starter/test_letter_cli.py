"""`shenhou case letter CASE --out FILE`: the heirs' letter as a PDF for the window clerk; the case's status is a
stand-in (tests/letters/cases.py), the errors go through starter/errors.py."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from domain.enums import CaseState
from domain.models import StatusSnapshot
from runtime.settings import get_settings
from starter.cli import app
from starter.errors import ExitCode
from tests.letters.cases import CASE, finished
from tests.letters.test_heirs_letter import font_or_skip, pdf_text


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, CaseState]]:
    for name in list(os.environ):
        if name.startswith("SHENHOU_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SHENHOU_DATA_DIR", str(tmp_path / "data"))
    current = {"state": CaseState.COMPLETED}

    async def session() -> Any:
        return SimpleNamespace(client=None)

    async def status(_client: Any, number: str) -> StatusSnapshot:
        assert number == CASE
        return finished(current["state"])

    monkeypatch.setattr("starter.window.session", session)
    monkeypatch.setattr("client.operations.case_status", status)
    get_settings.cache_clear()
    yield current
    get_settings.cache_clear()


def invoke(*args: str) -> Result:
    get_settings.cache_clear()
    return CliRunner().invoke(app, list(args))


def test_the_clerk_prints_the_letter_of_a_finished_case(state: dict[str, CaseState], tmp_path: Path) -> None:
    font_or_skip()
    out = tmp_path / "letter.pdf"
    result = invoke("case", "letter", CASE.lower(), "--out", str(out))
    assert result.exit_code == ExitCode.OK, result.output
    assert "2笔款项" in result.stdout
    text = pdf_text(out.read_bytes())
    assert "PAY-HRSS-0001" in text and "8,849.45元" in text and "5万元" in text


def test_no_letter_for_an_unfinished_case(state: dict[str, CaseState], tmp_path: Path) -> None:
    state["state"] = CaseState.IN_PROGRESS
    out = tmp_path / "letter.pdf"
    result = invoke("case", "letter", CASE, "--out", str(out))
    assert result.exit_code == ExitCode.REFUSED
    assert "案件办结后方可出具继承人告知书" in result.stderr and not out.exists()


def test_a_missing_font_is_a_configuration_problem(
    state: dict[str, CaseState], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHENHOU_LETTER_FONT_FILE", str(tmp_path / "none.ttc"))
    result = invoke("case", "letter", CASE, "--out", str(tmp_path / "letter.pdf"))
    assert result.exit_code == ExitCode.CONFIG and "fonts-noto-cjk" in result.stderr
