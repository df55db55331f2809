"""The register's writes (register/prepared.py under activities/register.py) on both backends: what is written
reads back through SQLAlchemy exactly as written, what is set once stays, and a retried write adds nothing."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select
from temporalio.testing import ActivityEnvironment

from activities.calendar import WorkingDayCalendar
from activities.register import RegisterActivities
from domain.enums import DecisionKind, Department, MatterCode, MatterState
from domain.models import AuditEvent, DecisionRecord, MatterView, RegisterBatch
from domain.policy import Policy
from register import prepared
from register.sealing import Sealer
from register.tables import AuditRow, MatterRow, PaymentRow
from tests.postgres import open_register

CASE = "SH-PREPARED0001"
PENSION = MatterCode.ENTERPRISE_RETIREE_DEATH_BENEFIT
# A Monday in a week without holidays; the matter's working days are counted from it.
PUSHED = datetime(2031, 3, 3, 2, 0, tzinfo=UTC)
DECIDED = PUSHED + timedelta(days=2, hours=3)


@pytest.fixture
def engine(register_url: str) -> Iterator[Engine]:
    yield from open_register(register_url)


def _view(state: MatterState, *decisions: DecisionRecord, final: bool = False) -> MatterView:
    return MatterView(
        case_number=CASE, code=PENSION, name="企业职工丧葬补助金、抚恤金", department=Department.HRSS,
        department_name="人社局", state=state, pays_family=True, time_limit_working_days=15, pushed_at=PUSHED,
        deadline=PUSHED + timedelta(days=21), decisions=decisions, final=final,
        amount=Decimal("12345.67") if decisions else None)


def _record(engine: Engine, view: MatterView, at: datetime, *audit: str) -> bool:
    environment = ActivityEnvironment()
    environment.info = dataclasses.replace(environment.info, current_attempt_scheduled_time=at)
    register = RegisterActivities(engine, Policy(), WorkingDayCalendar(), Sealer.ephemeral())
    batch = RegisterBatch(case_number=CASE, matter=view, audit=[
        AuditEvent(case_number=CASE, matter=PENSION, key=key, event=f"事件{key}", at=at) for key in audit])
    return environment.run(register.record, batch).new


def _row(engine: Engine) -> MatterRow:
    with Session(engine) as session:
        return session.exec(select(MatterRow).where(MatterRow.case_number == CASE)).one()


def test_a_matter_row_reads_back_typed_and_keeps_what_is_set_once(engine: Engine) -> None:
    assert _record(engine, _view(MatterState.UNDER_REVIEW), PUSHED, "pushed")
    row = _row(engine)
    assert (row.state, row.department, row.deadline, row.pushed_at) == (
        "待审核", "hrss", PUSHED + timedelta(days=21), PUSHED)
    assert (row.decided_at, row.on_time, row.closed_at, row.overdue, row.gross_fen) == (None, None, None, False, None)
    assert row.view["state"] == "待审核"

    approval = DecisionRecord(kind=DecisionKind.APPROVE, at=DECIDED, by="李科员", amount=Decimal("12345.67"))
    assert _record(engine, _view(MatterState.APPROVED, approval, final=True), DECIDED, "approved")
    row = _row(engine)
    assert (row.state, row.decided_at, row.on_time, row.handling_working_days) == (
        "已通过", DECIDED, True, 2)
    assert (row.closed_at, row.gross_fen, row.net_fen) == (DECIDED, 1234567, None)

    # A later write (the same matter written again, its decision seen later) leaves the first answers.
    later = DECIDED + timedelta(days=9)
    moved = approval.model_copy(update={"at": later})
    _record(engine, _view(MatterState.APPROVED, moved, final=True), later)
    row = _row(engine)
    assert (row.decided_at, row.on_time, row.handling_working_days, row.closed_at) == (
        DECIDED, True, 2, DECIDED)
    assert row.updated_at == later


def test_a_retried_write_adds_nothing(engine: Engine) -> None:
    view = _view(MatterState.UNDER_REVIEW)
    assert _record(engine, view, PUSHED, "pushed", "told")
    assert not _record(engine, view, PUSHED, "pushed", "told")
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(MatterRow)).one() == 1
        assert session.exec(select(func.count()).select_from(AuditRow)).one() == 2


def test_a_unique_key_met_raises_what_sqlalchemy_raises(engine: Engine) -> None:
    table = PaymentRow.__table__  # type: ignore[attr-defined]
    values = {"case_number": CASE, "matter": PENSION.value, "attempt": 1, "reference": "PAY-1", "gross_fen": 1,
              "offset_fen": 0, "amount_fen": 1, "payee_bank": "银行", "payee_name": "户名", "payee_card": "卡",
              "status": "instructed", "instructed_at": PUSHED}
    with engine.begin() as connection:
        prepared.execute(connection, table.insert(), values)
    with pytest.raises(IntegrityError), engine.begin() as connection:
        prepared.execute(connection, table.insert(), {**values, "reference": "PAY-2"})
