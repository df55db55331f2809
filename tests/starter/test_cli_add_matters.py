"""`shenhou case add-matters` against the real dev server: the window adds a matter to a family's case, every
problem of a bad addition told at once, and a clerk without the window's key is refused and recorded."""

from __future__ import annotations

import base64
import re
import secrets
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.worker import Worker

from domain.application import PROBLEMS_HEADER
from domain.enums import MatterCode, MatterState
from tests.starter.test_cli import (
    HUKOU,
    assert_no_personal_data,
    cli_env,
    new_form,
    shenhou,
    start,
    state_of,
    wait_for,
    write_form,
)
from tests.workflows.helpers import refused

__all__ = ["cli_env"]

HPF = MatterCode.PROVIDENT_FUND_DEATH_WITHDRAWAL.value
SITUATIONS = {"pension_status": "enterprise_retiree", "employee_medical_insurance": True}


@pytest.fixture
def shared_register(cli_env: dict[str, str], engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI reads the register the test's worker writes."""
    monkeypatch.setenv("SHENHOU_DATABASE_URL", f"sqlite:///{tmp_path / 'register.db'}")


async def test_the_window_adds_a_matter_and_a_bad_addition_is_told_at_once(
    cli_env: dict[str, str], shared_register: None, client: Client, tmp_path: Path, worker: Worker
) -> None:
    form = new_form(situations=SITUATIONS)
    case_number = await start(tmp_path, form)
    await wait_for(client, case_number, lambda s: state_of(s, HUKOU) == MatterState.UNDER_REVIEW)

    bad = write_form(tmp_path, {"matters": [HPF, HUKOU], "channel": "online", "bank": "x"})
    result = await shenhou("case", "add-matters", case_number, "--form", str(bad), "--clerk", "窗口李")
    assert result.exit_code == 1, result.output
    assert PROBLEMS_HEADER in result.stderr
    listed = [line for line in result.stderr.splitlines() if re.match(r"^\d+\. ", line)]
    assert len(listed) == 3, result.stderr  # the situation, 户口注销, the unknown entry: all at once
    assert "与填报的逝者情形不符" in result.stderr and "户口注销随申请办理" in result.stderr
    assert_no_personal_data(result.output, form)

    good = write_form(tmp_path, {"matters": [HPF], "situations": {"housing_provident_fund": True}})
    result = await shenhou("case", "add-matters", case_number, "--form", str(good), "--clerk", "窗口李")
    assert result.exit_code == 0, result.output
    assert "已追加1项事项" in result.stdout and case_number in result.stdout
    snap = await wait_for(client, case_number, lambda s: state_of(s, HPF) == MatterState.PENDING_PUSH)
    assert snap.matters[-1].code.value == HPF
    status = await shenhou("case", "status", case_number)
    assert status.exit_code == 0 and "公积金" in status.stdout


async def test_a_clerk_without_the_windows_key_is_refused_and_recorded(
    cli_env: dict[str, str], shared_register: None, client: Client, tmp_path: Path, worker: Worker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case_number = await start(tmp_path, new_form(situations=SITUATIONS))
    await wait_for(client, case_number, lambda s: state_of(s, HUKOU) == MatterState.UNDER_REVIEW)
    # A key of its own, not the window's the workers trust: the typed clerk's name is a label, not authority.
    monkeypatch.setenv("SHENHOU_WINDOW_SIGNING_KEY", base64.b64encode(secrets.token_bytes(32)).decode())
    good = write_form(tmp_path, {"matters": [HPF], "situations": {"housing_provident_fund": True}})
    result = await shenhou("case", "add-matters", case_number, "--form", str(good), "--clerk", "窗口李")
    assert result.exit_code == 1, result.output
    assert "追加事项未被接受" in result.stderr
    snap = await wait_for(client, case_number, lambda s: any(r.action == "add_matters" for r in refused(s)))
    assert HPF not in {view.code.value for view in snap.matters}
