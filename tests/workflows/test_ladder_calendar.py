"""The working-day calendar's fallback year in a running matter (docs/domain.md, "Working days and the
calendar").

chinese-calendar knows the statutory calendar up to its latest release (2026 for 1.11.0); a deadline
counted into a later year falls back to Monday–Friday and the matter shows ``calendar_fallback``.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.worker import Worker

from activities.calendar import WorkingDayCalendar
from domain.enums import MatterCode, MatterState
from domain.policy import Policy, WaitPolicy
from runtime.keys import Keys
from tests.signing import TRUST
from tests.workflows import timeskip as ts
from tests.workflows.helpers import (
    all_parallel_under_review,
    approve_hukou,
    certify,
    matter_handle,
    matter_state,
    start,
    status,
    view_of,
    wait_for,
)
from worker import Dependencies

HRSS = MatterCode.ENTERPRISE_RETIREE_DEATH_BENEFIT  # 人社局, 15 working days
TZ = ZoneInfo("Asia/Shanghai")

# The case waits this long for the cremation certificate before its first reminder, so it can be
# moved forward while it waits without firing any timer.
POLICY = Policy(waits=WaitPolicy(cremation_certificate_timeout=timedelta(days=800)))


@pytest.fixture
def deps(engine: Engine, calendar: WorkingDayCalendar) -> Dependencies:
    return Dependencies(engine=engine, policy=POLICY, calendar=calendar, trust=TRUST)


def years_known(calendar: WorkingDayCalendar, start: datetime, deadline: datetime) -> bool:
    """Whether every calendar day counted for the deadline lies in a year the calendar knows."""
    first = start.astimezone(TZ).date()
    last = (deadline - timedelta(microseconds=1)).astimezone(TZ).date()
    return all(calendar.knows_year(year) for year in range(first.year, last.year + 1))


async def test_fallback_flag_of_a_matter_pushed_now(
    client: Client, keys: Keys, task_queue: str, worker: Worker, calendar: WorkingDayCalendar
) -> None:
    skipper = ts.time_skipper(client)
    handle, snap = await ts.pushed_case(skipper, keys, task_queue, HRSS)
    view = view_of(snap, HRSS)
    assert view.pushed_at is not None and view.time_limit_working_days == 15
    plan = ts.plan(calendar, handle.id, HRSS, view.pushed_at, 15, POLICY)
    assert view.deadline == plan.deadline
    assert view.calendar_fallback == plan.calendar_fallback
    assert plan.calendar_fallback == (not years_known(calendar, view.pushed_at, plan.deadline))
    assert (await status(matter_handle(client, handle.id, HRSS))).matters[0].calendar_fallback == plan.calendar_fallback


async def test_matter_counted_into_an_unknown_year_shows_the_fallback(
    client: Client, keys: Keys, task_queue: str, worker: Worker, calendar: WorkingDayCalendar
) -> None:
    """The case is moved to 20 December of the calendar's last known year while it waits for the
    cremation certificate; its 15-working-day matter then counts into the next year."""
    skipper = ts.time_skipper(client)
    handle = await start(skipper.client, keys, task_queue, ts.application_with(HRSS))
    await approve_hukou(skipper.client, handle)
    await wait_for(handle, lambda s: matter_state(s, MatterCode.HUKOU_CANCELLATION) == MatterState.APPROVED
                   and any(e.event == "户口注销完成" for e in s.timeline))

    year = date.today().year
    while calendar.knows_year(year):
        year += 1
    target = datetime.combine(date(year - 1, 12, 20), time(10), tzinfo=TZ)
    await ts.advance_to(skipper, handle, target)

    await certify(handle)
    snap = await wait_for(handle, all_parallel_under_review)
    view = view_of(snap, HRSS)
    assert view.pushed_at is not None
    assert view.pushed_at >= target - timedelta(minutes=1)  # the matter started at the case's moved time
    plan = ts.plan(calendar, handle.id, HRSS, view.pushed_at, 15, POLICY)
    assert not years_known(calendar, view.pushed_at, plan.deadline)
    assert plan.calendar_fallback
    assert view.calendar_fallback and view.deadline == plan.deadline
    matter_view = (await status(matter_handle(client, handle.id, HRSS))).matters[0]
    assert matter_view.calendar_fallback and matter_view.deadline == plan.deadline
