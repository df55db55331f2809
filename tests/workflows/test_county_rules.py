"""The county's rules held by the running cases: no dead end for a family, only configured supervisors extend,
typos are visible, the wait for the cremation certificate has its own state and bounded reminders, and the
calendar is right for years without an official schedule (or says it is not) and re-plans when one arrives."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session
from temporalio.client import Client
from temporalio.worker import Worker

from activities.calendar import WorkingDayCalendar
from client.errors import DuplicateCase
from client.operations import start_case
from client.supervision import list_overdue
from domain.enums import CaseState, MatterCode, MatterState, PensionStatus
from domain.ids import case_number_for
from domain.policy import Policy, WaitPolicy
from register.tables import CaseRow, MatterRow
from runtime.keys import Keys
from tests.signing import TRUST
from tests.workflows import timeskip as ts
from tests.workflows.helpers import (
    HUKOU,
    application_with,
    approve,
    case_handle,
    certify,
    current_details,
    matter_handle,
    outbox_rows,
    start,
    status,
    to_parallel_phase,
    view_of,
    wait_for,
)
from worker import Dependencies

NHSA = MatterCode.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT
MCA = MatterCode.SOCIAL_ASSISTANCE_TERMINATION
TZ = ZoneInfo("Asia/Shanghai")


# --- no dead end -----------------------------------------------------------------------------------------


async def test_after_hukou_is_rejected_the_same_application_is_accepted_and_linked(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker
) -> None:
    app = application_with(PensionStatus.RESIDENT_PENSIONER, NHSA)
    handle = await start(client, keys, task_queue, app)
    await certify(handle)
    await wait_for(handle, lambda s: view_of(s, HUKOU).state == MatterState.UNDER_REVIEW)
    await matter_handle(client, handle.id, HUKOU).signal("reject", {"officer": "王警官", "reason": "身份证号录入错误"})
    assert (await handle.result()).state == CaseState.HUKOU_REJECTED

    again = await start_case(client, app, keys.case_id_key, task_queue, register=engine)
    assert again.case_number == f"{handle.id}-2"
    second = case_handle(client, again.case_number)
    snap = await wait_for(second, lambda s: view_of(s, HUKOU).state == MatterState.UNDER_REVIEW)
    assert snap.previous_case == handle.id and snap.cremation is not None  # the certificate came along
    await ts.registered(lambda: _case_row(engine, again.case_number) is not None)
    row = _case_row(engine, again.case_number)
    assert row is not None and row.previous_case == handle.id
    # A case that runs (or delivered) refuses a third application, naming itself.
    with pytest.raises(DuplicateCase) as third:
        await start_case(client, app, keys.case_id_key, task_queue, register=engine)
    assert third.value.case_number == again.case_number


async def test_the_register_answers_for_cases_the_engine_has_forgotten(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker
) -> None:
    """After retention only the register remembers: a case that delivered money still refuses a duplicate, one
    whose 户口注销 was rejected lets the family apply again."""
    delivered = application_with(PensionStatus.RESIDENT_PENSIONER)
    rejected = application_with(PensionStatus.RESIDENT_PENSIONER)
    closed = datetime(2026, 1, 5, tzinfo=UTC)
    for app, state, matters in (
        (delivered, CaseState.COMPLETED, {HUKOU: MatterState.APPROVED,
                                          MatterCode.RESIDENT_PENSION_FUNERAL_SUBSIDY: MatterState.PAID}),
        (rejected, CaseState.HUKOU_REJECTED, {HUKOU: MatterState.REJECTED,
                                              MatterCode.RESIDENT_PENSION_FUNERAL_SUBSIDY: MatterState.NOT_PUSHED}),
    ):
        number = case_number_for(app.deceased.id_number, keys.case_id_key)
        with Session(engine) as session:
            session.add(CaseRow(case_number=number, channel="window", state=state.value,
                                application=app.model_dump(mode="json"), received_at=closed, updated_at=closed,
                                closed_at=closed))
            for code, matter_state in matters.items():
                session.add(MatterRow(case_number=number, matter=code.value, department=code.value.split(".")[0],
                                      state=matter_state.value, view={}, updated_at=closed))
            session.commit()

    with pytest.raises(DuplicateCase) as refused:
        await start_case(client, delivered, keys.case_id_key, task_queue, register=engine)
    assert refused.value.case_number == case_number_for(delivered.deceased.id_number, keys.case_id_key)
    accepted = await start_case(client, rejected, keys.case_id_key, task_queue, register=engine)
    assert accepted.case_number == case_number_for(rejected.deceased.id_number, keys.case_id_key) + "-2"


def _case_row(engine: Engine, number: str) -> CaseRow | None:
    with Session(engine) as session:
        return session.get(CaseRow, number)


# --- supervision that holds, and typos that show ---------------------------------------------------------


async def test_only_configured_supervisors_extend_and_unknown_signals_are_recorded(
    client: Client, keys: Keys, task_queue: str, worker: Worker
) -> None:
    handle = await start(client, keys, task_queue, application_with(PensionStatus.NONE, MCA))
    await to_parallel_phase(client, handle)
    matter = matter_handle(client, handle.id, MCA)
    before = (await status(matter)).matters[0].deadline
    await matter.signal("extend_deadline", {"supervisor": "李四", "working_days": 3, "reason": "需核查"})
    refused = await wait_for(matter, lambda s: s.matters[0].refused_total == 1)
    assert "督办人" in refused.matters[0].refused_actions[-1].reason and refused.matters[0].deadline == before
    await matter.signal("extend_deadline", {"supervisor": "张主任", "working_days": 3, "reason": "需核查"})
    extended = await wait_for(matter, lambda s: s.matters[0].deadline != before)
    assert extended.matters[0].deadline is not None and before is not None and extended.matters[0].deadline > before

    # A typo in the Web UI's signal name is refused where staff look, not silently kept.
    await matter.signal("aprove", {"officer": "民政刘"})
    typo = await wait_for(matter, lambda s: s.matters[0].refused_total == 2)
    assert typo.matters[0].refused_actions[-1].action == "aprove"
    assert "aprove" in await current_details(matter)
    await handle.signal("withdraw_now", {"clerk": "窗口李"})
    await wait_for(handle, lambda s: any(r.action == "withdraw_now" for r in s.refused_actions))
    await handle.signal("拒绝", {"clerk": "窗口李"})  # a name that is not a plain word is not repeated back
    snap = await wait_for(handle, lambda s: any(r.action == "（未知操作）" for r in s.refused_actions))
    assert all("拒绝" != r.action for r in snap.refused_actions)


# --- waiting for the cremation certificate ------------------------------------------------------------------

BRIEF_WAITS = Policy(waits=WaitPolicy(cremation_certificate_timeout=timedelta(hours=4), cremation_reminders_max=2))


@pytest.fixture
def deps(engine: Engine, calendar: WorkingDayCalendar, request: pytest.FixtureRequest) -> Dependencies:
    policy = getattr(request, "param", None) or Policy()
    return Dependencies(engine=engine, policy=policy, calendar=calendar, trust=TRUST)


@pytest.mark.parametrize("deps", [BRIEF_WAITS], indirect=True)
async def test_waiting_for_the_cremation_certificate_has_its_state_and_bounded_reminders(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker, deps: Dependencies
) -> None:
    # Pinned: started, and 户口注销 approved, on Friday 7 March 2036 (the case's clock stays there).
    at = datetime(2036, 3, 7, 10, 0, tzinfo=TZ)
    skipper = ts.pinned_skipper(client, at)
    handle = await start(skipper.client, keys, task_queue, application_with(PensionStatus.NONE, MCA))
    await ts.started_at(skipper, handle, at)
    hukou = matter_handle(skipper.client, handle.id, HUKOU)
    await wait_for(handle, lambda s: view_of(s, HUKOU).state == MatterState.UNDER_REVIEW)
    # No reminder while 户口注销 is still with the police, however long.
    await ts.advance(skipper, hukou, timedelta(days=2))
    assert not [r for r in outbox_rows(engine, handle.id) if r.kind == "cremation_overdue"]
    await hukou.signal("approve", {"officer": "王警官", "certificate_no": "ZX-1"})
    await wait_for(handle, lambda s: s.case_state == CaseState.AWAITING_CREMATION)

    # Two reminders to the funeral home (4 hours after, then 09:00 on Monday, not over the weekend), then
    # the supervisor takes it by hand (Tuesday 09:00): nothing more each day.
    await ts.advance(skipper, handle, timedelta(days=5))
    await ts.registered(lambda: any(r.kind == "supervision" for r in outbox_rows(engine, handle.id, "supervisor")))
    funeral = [r for r in outbox_rows(engine, handle.id, "funeral_home") if r.kind == "cremation_overdue"]
    assert len(funeral) == 2 and len({r.message for r in funeral}) == 2
    second = funeral[1].created_at.replace(tzinfo=funeral[1].created_at.tzinfo or UTC).astimezone(TZ)
    assert (second.date(), second.hour) == (date(2036, 3, 10), 9)
    await ts.advance(skipper, handle, timedelta(days=3))
    assert len([r for r in outbox_rows(engine, handle.id, "funeral_home")]) == 2

    await certify(handle)
    snap = await wait_for(handle, lambda s: view_of(s, MCA).state == MatterState.UNDER_REVIEW)
    assert snap.case_state == CaseState.IN_PROGRESS


# --- a calendar that is right, or says it is not ----------------------------------------------------------


async def test_a_deadline_across_spring_festival_in_a_year_without_an_official_schedule(
    client: Client, keys: Keys, task_queue: str, worker: Worker, calendar: WorkingDayCalendar
) -> None:
    """Pushed Wednesday 8 February 2040: 除夕 is Saturday 11 February, so 春节 (11-14) and the days made up for
    its weekend (15-16) are off; five working days end with Tuesday the 21st — counted by rule, marked so."""
    at = datetime(2040, 2, 8, 10, 0, tzinfo=TZ)
    skipper = ts.pinned_skipper(client, at)
    handle, snap = await ts.pushed_case(skipper, keys, task_queue, NHSA, at=at)
    view = view_of(snap, NHSA)
    assert view.deadline == datetime(2040, 2, 22, tzinfo=TZ) and view.calendar_fallback
    assert view.ladder and all(rung.approximate for rung in view.ladder[:2])
    matter = matter_handle(skipper.client, handle.id, NHSA)
    await ts.advance_to(skipper, matter, datetime(2040, 2, 22, 1, 0, tzinfo=TZ))
    late = await ts.poll(lambda: list_overdue(client, Policy()),
                         lambda items: any(i.case_number == handle.id for i in items))
    item = next(i for i in late if i.case_number == handle.id)
    assert item.deadline_approximate
    assert any("推算" in entry.event for entry in (await status(matter)).timeline if entry.event.startswith("超时"))


@pytest.fixture
def holidays(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "holidays.yaml"
    path.write_text("2039:\n  holidays: [2039-10-08]\n", encoding="utf-8")
    yield path


@pytest.fixture
def live_calendar(holidays: Path) -> WorkingDayCalendar:
    return WorkingDayCalendar.from_file(holidays, recheck_seconds=0)


async def test_open_matters_re_plan_when_the_county_enters_the_official_schedule(
    client: Client, keys: Keys, task_queue: str, engine: Engine, live_calendar: WorkingDayCalendar,
    holidays: Path, executor: object,
) -> None:
    from worker import build_worker

    deps = Dependencies(engine=engine, policy=Policy(), calendar=live_calendar, trust=TRUST)
    async with build_worker(client, task_queue, deps, executor):  # type: ignore[arg-type]
        # Pushed Monday 5 March 2040 (a year counted by rule): five working days end with Monday the 12th.
        at = datetime(2040, 3, 5, 10, 0, tzinfo=TZ)
        skipper = ts.pinned_skipper(client, at)
        handle, snap = await ts.pushed_case(skipper, keys, task_queue, NHSA, at=at)
        view = view_of(snap, NHSA)
        assert view.deadline == datetime(2040, 3, 13, tzinfo=TZ) and view.calendar_fallback

        # The county enters 2040's official schedule, with a day off on Thursday the 8th.
        holidays.write_text("2039:\n  holidays: [2039-10-08]\n2040:\n  source: 国办发明电\n  holidays: [2040-03-08]\n",
                            encoding="utf-8")
        matter = matter_handle(skipper.client, handle.id, NHSA)
        # At the old warning time (end of the 9th) the ladder counts again: the deadline moves a day.
        await ts.advance_to(skipper, matter, datetime(2040, 3, 10, 0, 5, tzinfo=TZ))
        moved = (await status(matter)).matters[0]
        assert moved.deadline == datetime(2040, 3, 14, tzinfo=TZ) and not moved.calendar_fallback
        assert moved.escalations == ()  # not warned on the old date
        events = [e.event for e in (await status(matter)).timeline]
        assert any("承诺期限由2040-03-12 24:00调整为2040-03-13 24:00" in event for event in events), events
        await ts.registered(
            lambda: any(r.kind == "deadline_moved" for r in outbox_rows(engine, handle.id, "department")))
        # The warning comes on the new date.
        await ts.advance_to(skipper, matter, datetime(2040, 3, 13, 0, 5, tzinfo=TZ))
        assert (await status(matter)).matters[0].escalation_level == 1
        await approve(client, handle.id, moved)
        assert (await handle.result()).state == CaseState.COMPLETED


def test_the_pinned_dates_here_are_what_the_rules_say() -> None:
    calendar = WorkingDayCalendar()
    assert calendar.add_working_days(date(2040, 2, 8), 5) == (date(2040, 2, 21), True)
    assert calendar.add_working_days(date(2040, 3, 5), 5) == (date(2040, 3, 12), True)
