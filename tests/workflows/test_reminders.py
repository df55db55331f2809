"""Reminders of a wait count working days: an unconfirmed payment over a weekend and a holiday.

Pinned start and pinned calendar (``pinned_calendar.yaml``: 清明 is Saturday 4 to Monday 6 April 2037), so
the dates below are worked out by hand and hold on any day the suite runs.
"""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio.client import Client
from temporalio.worker import Worker

from activities.calendar import WorkingDayCalendar
from domain.enums import MatterCode, MatterState, NotificationKind
from domain.policy import Policy
from register.tables import OutboxRow
from runtime.keys import Keys
from tests.signing import TRUST
from tests.workflows import timeskip as ts
from tests.workflows.helpers import matter_handle, status, wait_for
from worker import Dependencies

NHSA = MatterCode.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT
TZ = ZoneInfo("Asia/Shanghai")
PINNED_CALENDAR = Path(__file__).resolve().parent / "pinned_calendar.yaml"


@pytest.fixture
def deps(engine: Engine) -> Dependencies:
    return Dependencies(engine=engine, policy=Policy(), calendar=WorkingDayCalendar.from_file(PINNED_CALENDAR),
                        trust=TRUST)


def unconfirmed(engine: Engine, case_number: str) -> list[OutboxRow]:
    with Session(engine) as session:
        rows = session.exec(
            select(OutboxRow).where(OutboxRow.case_number == case_number,
                                    OutboxRow.kind == NotificationKind.PAYMENT_UNCONFIRMED.value)
            .order_by(OutboxRow.id)  # type: ignore[arg-type]
        ).all()
    return list(rows)


async def test_an_unconfirmed_payment_reminds_on_working_days_with_the_true_count_and_stops(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker
) -> None:
    # Instructed on Thursday 2 April 2037: working days Fri 3, (清明 Sat 4 – Mon 6), Tue 7, Wed 8 are three.
    at = datetime(2037, 4, 2, 10, 0, tzinfo=TZ)
    skipper = ts.pinned_skipper(client, at)
    handle, _ = await ts.pushed_case(skipper, keys, task_queue, NHSA, at=at)
    matter = matter_handle(skipper.client, handle.id, NHSA)
    await matter.signal("approve", {"officer": "医保赵", "amount": "640.00"})
    paying = (await wait_for(matter, lambda s: s.matters[0].state == MatterState.PAYING)).matters[0]
    assert paying.payment_reference is not None

    # Nothing over the holiday nor before the third working day has passed.
    await ts.advance_to(skipper, matter, datetime(2037, 4, 9, 8, 0, tzinfo=TZ))
    assert unconfirmed(engine, handle.id) == []
    assert not (await status(matter)).matters[0].manual_handling

    # Then 09:00 on each working day, saying how long it has been; the weekend of 11–12 April is quiet;
    # five reminders at most (policy default), then nothing more.
    await ts.advance_to(skipper, matter, datetime(2037, 4, 24, 12, 0, tzinfo=TZ), timeout=60)
    await ts.registered(lambda: len(unconfirmed(engine, handle.id)) >= 5)
    rows = unconfirmed(engine, handle.id)
    days = [date(2037, 4, 9), date(2037, 4, 10), date(2037, 4, 13), date(2037, 4, 14), date(2037, 4, 15)]
    local = [row.created_at.replace(tzinfo=row.created_at.tzinfo or ZoneInfo("UTC")).astimezone(TZ)
             for row in rows]
    assert [moment.date() for moment in local] == days
    assert all(time(9, 0) <= moment.time() < time(9, 1) for moment in local), local
    assert all(moment.weekday() < 5 for moment in local)
    texts = [row.message for row in rows]
    assert len(set(texts)) == len(texts)
    for count, text in zip(range(3, 8), texts, strict=True):
        assert f"已下达发放指令{count}个工作日" in text and paying.payment_reference in text, text
    late = (await status(matter)).matters[0]
    assert late.state == MatterState.PAYING and late.manual_handling and "7个工作日" in late.manual_handling
