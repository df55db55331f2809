"""What the window, the officers and the supervisor see at the command line as the county's cases end: a
户口注销-only case to 办结, the cap on re-applications, a payment the bank reports failed, amounts with 多领抵扣,
and deadlines counted by rule (推算) in `case status` and `overdue`."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio.client import Client
from temporalio.worker import Worker

from domain.enums import CaseState, MatterCode, MatterState
from domain.ids import MAX_ATTEMPT
from register.tables import CaseRow, MatterRow
from runtime.keys import Keys
from tests.starter.test_cli import (
    HUKOU,
    MEDICAL,
    RETIREE,
    _restore_logging,
    cli_env,
    in_progress,
    new_form,
    shenhou,
    start,
    state_of,
    wait_for,
    write_form,
)
from tests.starter.test_cli_county import CASE_RE
from tests.workflows import timeskip as ts
from tests.workflows.helpers import inbox_rows, matter_handle, outbox_rows

__all__ = ["_restore_logging", "cli_env"]
TZ = ZoneInfo("Asia/Shanghai")


def line_with(text: str, *needles: str) -> str:
    """The one output line holding every needle (a table row)."""
    found = [line for line in text.splitlines() if all(needle in line for needle in needles)]
    assert len(found) == 1, (needles, text)
    return found[0]


# --- 户口注销 alone -----------------------------------------------------------------------------------------


async def test_a_hukou_only_case_is_done_when_the_police_approve(
    cli_env: dict[str, str], client: Client, tmp_path: Path, engine: Engine, worker: Worker
) -> None:
    """Nothing else to push, so nothing waits for the cremation certificate: the police's approval ends it."""
    case_number = await start(tmp_path, new_form(matters=["police.hukou_cancellation"]))
    await wait_for(client, case_number, lambda s: state_of(s, HUKOU) == MatterState.UNDER_REVIEW)
    approved = await shenhou("matter", "approve", case_number, HUKOU, "--officer", "王警官",
                             "--certificate-no", "ZX-0009")
    assert approved.exit_code == 0, approved.output
    await wait_for(client, case_number, lambda s: s.case_state == CaseState.COMPLETED)

    shown = await shenhou("case", "status", case_number)
    assert shown.exit_code == 0, shown.output
    assert "办结" in line_with(shown.stdout, "案件状态")
    assert "办结时间" in shown.stdout and "未上传" in line_with(shown.stdout, "火化证明")
    assert "ZX-0009" in line_with(shown.stdout, "户口注销证明")
    assert "已通过" in line_with(shown.stdout, HUKOU)
    assert "全部事项办结" in shown.stdout

    def recorded() -> bool:
        with Session(engine) as session:
            case = session.get(CaseRow, case_number)
            return case is not None and case.closed_at is not None
    await ts.registered(recorded)
    with Session(engine) as session:
        case = session.get(CaseRow, case_number)
        matters = session.exec(select(MatterRow).where(MatterRow.case_number == case_number)).all()
    assert case is not None and case.state == CaseState.COMPLETED.value
    assert [(row.matter, row.state) for row in matters] == [(HUKOU, MatterState.APPROVED.value)]
    assert inbox_rows(engine, case_number)[HUKOU].status == "approved"
    await ts.registered(lambda: any(r.kind == "case_completed" for r in outbox_rows(engine, case_number, "family")))
    kinds = [row.kind for row in outbox_rows(engine, case_number)]
    assert "cremation_overdue" not in kinds


# --- the cap on re-applications ---------------------------------------------------------------------------


async def test_after_nine_attempts_the_window_handles_the_family_by_hand(
    cli_env: dict[str, str], client: Client, tmp_path: Path, worker: Worker
) -> None:
    path = write_form(tmp_path, new_form())
    first = ""
    for attempt in range(1, MAX_ATTEMPT + 1):
        started = await shenhou("case", "start", "--form", str(path))
        assert started.exit_code == 0, started.output
        match = CASE_RE.search(started.stdout)
        assert match, started.stdout
        number = match.group(0)
        first = first or number
        assert number == (first if attempt == 1 else f"{first}-{attempt}")
        await wait_for(client, number, lambda s: state_of(s, HUKOU) == MatterState.UNDER_REVIEW)
        await matter_handle(client, number, MatterCode.HUKOU_CANCELLATION).signal(
            "reject", {"officer": "王警官", "reason": "户籍地址不符"})
        await wait_for(client, number, lambda s: s.case_state == CaseState.HUKOU_REJECTED)

    refused = await shenhou("case", "start", "--form", str(path))
    assert refused.exit_code == 1, refused.output
    assert "该逝者已重新申请9次，请到窗口人工处理" in refused.stderr
    assert not CASE_RE.search(refused.stdout)


# --- money --------------------------------------------------------------------------------------------------


async def test_a_payment_the_bank_reports_failed_shows_for_manual_handling(
    cli_env: dict[str, str], client: Client, tmp_path: Path, worker: Worker, engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHENHOU_DATABASE_URL", str(engine.url))
    case_number = await in_progress(client, tmp_path)
    approved = await shenhou("matter", "approve", case_number, RETIREE, "--officer", "李科员", "--amount", "5000")
    assert approved.exit_code == 0, approved.output
    snap = await wait_for(client, case_number, lambda s: state_of(s, RETIREE) == MatterState.PAYING)
    reference = next(v.payment_reference for v in snap.matters if v.code.value == RETIREE)
    assert reference

    wrong = await shenhou("matter", "payment-failed", case_number, RETIREE, "--reference", "PAY-0000",
                          "--by", "工商银行代发系统", "--reason", "账户已销户")
    assert wrong.exit_code == 1 and "凭证号" in wrong.stderr
    failed = await shenhou("matter", "payment-failed", case_number, RETIREE, "--reference", reference,
                           "--by", "工商银行代发系统", "--reason", "账户已销户")
    assert failed.exit_code == 0, failed.output
    assert "发放失败" in failed.stdout

    shown = await shenhou("case", "status", case_number)
    row = line_with(shown.stdout, RETIREE)
    assert "发放失败" in row and reference in row and "5000.00" in row
    assert "需人工处理：支付系统报告发放失败" in row  # the 说明 column folds the rest of the reason
    line_with(shown.stdout, "企业退休职工死亡待遇", "发放失败", "工商银行代发系统", "原因：账户已销户")  # 审核记录
    # The paying system's list keeps it, as failed, until the window's corrected account replaces it.
    listed = await shenhou("payments", "--json")
    assert [(i["reference"], i["standing"], i["failure_reason"]) for i in json.loads(listed.stdout)
            if i["case_number"] == case_number] == [(reference, "发放失败", "账户已销户")]


async def test_status_shows_what_was_offset_what_is_paid_and_what_is_to_be_returned(
    cli_env: dict[str, str], client: Client, tmp_path: Path, worker: Worker
) -> None:
    case_number = await in_progress(client, tmp_path)
    paid = await shenhou("matter", "approve", case_number, RETIREE, "--officer", "人社钱", "--amount", "12000.00",
                         "--overpaid", "3150.55", "--overpaid-source", "养老金多发3个月")
    assert paid.exit_code == 0, paid.output
    owed = await shenhou("matter", "approve", case_number, MEDICAL, "--officer", "医保赵", "--amount", "800.00",
                         "--overpaid", "1300.00", "--overpaid-source", "医保账户多划")
    assert owed.exit_code == 0, owed.output
    await wait_for(client, case_number, lambda s: state_of(s, RETIREE) == MatterState.PAYING
                   and state_of(s, MEDICAL) == MatterState.APPROVED)

    shown = await shenhou("case", "status", case_number)
    assert "12000.00（抵扣3150.55，实发8849.45）" in line_with(shown.stdout, RETIREE)
    assert "800.00（抵扣1300.00，实发0.00）（应退回500.00）" in line_with(shown.stdout, MEDICAL)


# --- dates counted by rule ------------------------------------------------------------------------------


async def test_a_deadline_counted_by_rule_is_marked_in_status_and_overdue(
    cli_env: dict[str, str], client: Client, keys: Keys, task_queue: str, worker: Worker
) -> None:
    """Pushed Wednesday 8 February 2040, a year without an official schedule: 春节 counted by rule puts the
    fifth working day on Tuesday the 21st, and both listings say the date is 推算."""
    nhsa = MatterCode.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT
    at = datetime(2040, 2, 8, 10, 0, tzinfo=TZ)
    skipper = ts.pinned_skipper(client, at)
    handle, _ = await ts.pushed_case(skipper, keys, task_queue, nhsa, at=at)

    shown = await shenhou("case", "status", handle.id)
    assert shown.exit_code == 0, shown.output
    assert "2040-02-21 24:00（推算：该年尚无官方节假日安排）" in line_with(shown.stdout, nhsa.value)

    await ts.advance_to(skipper, matter_handle(client, handle.id, nhsa), datetime(2040, 2, 22, 1, 0, tzinfo=TZ))

    async def overdue() -> str:
        listed = await shenhou("overdue", "--department", "nhsa")
        assert listed.exit_code == 0, listed.output
        return listed.stdout

    listing = await ts.poll(overdue, lambda text: handle.id in text)
    assert "2040-02-21 24:00（推算）" in line_with(listing, handle.id, nhsa.value)
