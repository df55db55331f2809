"""The escalation ladder and the supervisor's overdue list from awkward starts, on any day the suite runs.

Each case starts at a pinned virtual time (``timeskip.pinned_skipper``) and its worker counts working days
on a pinned calendar (``pinned_calendar.yaml``), so every expectation here is an absolute date worked out
by hand: a Friday, the eve of the 国庆 week (with a 调休 Saturday), and 28 December (元旦 in between).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.worker import Worker

from activities.calendar import WorkingDayCalendar
from client.supervision import list_overdue
from domain.enums import EscalationStep, MatterCode
from domain.policy import Policy
from runtime.keys import Keys
from tests.signing import TRUST
from tests.workflows import timeskip as ts
from tests.workflows.helpers import matter_handle, status, view_of
from worker import Dependencies

NHSA = MatterCode.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT  # 医保局, 5 working days
TZ = ZoneInfo("Asia/Shanghai")
PINNED_CALENDAR = Path(__file__).resolve().parent / "pinned_calendar.yaml"
LATE = timedelta(seconds=30)


def end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=TZ)


class Start:
    """A pinned push and the working days a 5-day matter then counts, worked out by hand."""

    def __init__(self, name: str, pushed: datetime, days: list[date], overdue: list[date]) -> None:
        self.name, self.pushed, self.days, self.overdue = name, pushed, days, overdue

    def __repr__(self) -> str:
        return self.name


STARTS = [
    Start("friday", datetime(2037, 3, 6, 10, 0, tzinfo=TZ),
          [date(2037, 3, 9), date(2037, 3, 10), date(2037, 3, 11), date(2037, 3, 12), date(2037, 3, 13)],
          [date(2037, 3, 16), date(2037, 3, 17), date(2037, 3, 18)]),
    # 国庆 1-7 October; Saturday 10 October is a 调休 working day.
    Start("eve-of-national-day", datetime(2037, 9, 30, 10, 0, tzinfo=TZ),
          [date(2037, 10, 8), date(2037, 10, 9), date(2037, 10, 10), date(2037, 10, 12), date(2037, 10, 13)],
          [date(2037, 10, 14), date(2037, 10, 15), date(2037, 10, 16)]),
    # 元旦 is Friday 1 January 2038.
    Start("28-december", datetime(2037, 12, 28, 10, 0, tzinfo=TZ),
          [date(2037, 12, 29), date(2037, 12, 30), date(2037, 12, 31), date(2038, 1, 4), date(2038, 1, 5)],
          [date(2038, 1, 6), date(2038, 1, 7), date(2038, 1, 8)]),
]


@pytest.fixture
def deps(engine: Engine) -> Dependencies:
    return Dependencies(engine=engine, policy=Policy(), calendar=WorkingDayCalendar.from_file(PINNED_CALENDAR),
                        trust=TRUST)


@pytest.mark.parametrize("start", STARTS, ids=repr)
async def test_ladder_and_overdue_list_from_an_awkward_start(
    client: Client, keys: Keys, task_queue: str, worker: Worker, start: Start
) -> None:
    skipper = ts.pinned_skipper(client, start.pushed)
    handle, snap = await ts.pushed_case(skipper, keys, task_queue, NHSA, at=start.pushed)
    view = view_of(snap, NHSA)
    assert view.pushed_at is not None and view.pushed_at.astimezone(TZ).date() == start.pushed.date()
    assert view.deadline == end_of(start.days[-1]) and not view.calendar_fallback
    matter = matter_handle(skipper.client, handle.id, NHSA)

    # 预警 at the end of the 4th working day, 超时 at the end of the 5th, a reminder at the end of each
    # further working day, 督办 at the end of the 3rd: nothing on the weekends and holidays between.
    await ts.advance_to(skipper, matter, end_of(start.overdue[-1]) + ts.MARGIN, timeout=60)
    current = view_of(await status(matter), NHSA)
    assert current.escalations == (EscalationStep.WARNING, EscalationStep.OVERDUE, EscalationStep.REMINDER,
                                   EscalationStep.REMINDER, EscalationStep.SUPERVISION)
    assert current.overdue and current.escalation_level == 4 and current.working_days_overdue == 3
    ladder = ("预警", "超时", "催办", "督办")
    fired = [entry.at for entry in (await status(matter)).timeline if entry.event[:2] in ladder]
    expected = [end_of(start.days[3]), end_of(start.days[4]), *(end_of(day) for day in start.overdue)]
    assert len(fired) == len(expected)
    for at, due in zip(fired, expected, strict=True):
        assert due <= at < due + LATE, (at, due)

    # The supervisor sees it at the top of the overdue list.
    items = await ts.poll(lambda: list_overdue(client, Policy()),
                          lambda found: any(i.case_number == handle.id for i in found))
    mine = [item for item in items if item.case_number == handle.id]
    assert [(i.matter, i.working_days_overdue, i.escalation_level) for i in mine] == [(NHSA, 3, 4)]
    assert mine[0].deadline == end_of(start.days[-1])
