"""Reminders before an entitlement lapses (notify/lapses.py): 城乡居民丧葬补助金 must be claimed within six months of
the death; a family whose application shows it and that has not claimed it is reminded 20 and 5 working days
before the window closes, once per rung, through the dispatcher to the number it gave. On both register
backends (this folder's conftest).

The death is pinned to 2026-03-10: the window closes on Thursday 2026-09-10, and the 20 working days before it
hold no public holiday (中秋 is 25 September), so each date below is a plain count."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from activities.calendar import WorkingDayCalendar
from domain.catalogue import default_catalogue
from domain.enums import MatterCode, MatterState, NotificationKind
from domain.lapses import claim_deadline
from domain.policy import Policy
from notify.channels import FileChannel, delivered_lines
from notify.dispatcher import Dispatcher
from notify.lapses import LapseSweep, lapse_key
from register.tables import CaseRow, MatterRow
from tests.factories import APPLICANT_PHONE
from tests.notify.conftest import QUERY_KEY, rows
from tests.workflows.helpers import application

SUBSIDY = MatterCode.RESIDENT_PENSION_FUNERAL_SUBSIDY
DIED = date(2026, 3, 10)
SITUATIONS = {"pension_status": "resident_pensioner", "employee_medical_insurance": False,
              "social_assistance": False, "housing_provident_fund": False, "disability_subsidy": False,
              "preferential_care": False}


def _at(day: date) -> datetime:
    return datetime.combine(day, time(1, 0), tzinfo=UTC)  # 09:00 in the county


def _case(engine: Engine, number: str, *, claims: bool = False, state: str = "办结", matter_state: str | None = None,
          previous: str | None = None) -> None:
    app = application(situations=SITUATIONS)
    matters = [m.value for m in app.matters if claims or m != SUBSIDY]
    stored = app.model_dump(mode="json")
    stored["deceased"]["death_date"] = DIED.isoformat()
    stored["matters"] = matters
    with Session(engine) as session:
        session.add(CaseRow(case_number=number, channel="window", state=state, application=stored,
                            received_at=_at(date(2026, 3, 12)), updated_at=_at(date(2026, 3, 12)),
                            previous_case=previous))
        if matter_state is not None:
            session.add(MatterRow(case_number=number, matter=SUBSIDY.value, department="hrss", state=matter_state,
                                  view={}, updated_at=_at(date(2026, 3, 20))))
        session.commit()


def _sweep(engine: Engine, calendar: WorkingDayCalendar, day: date) -> int:
    return LapseSweep(engine, calendar, default_catalogue(), "Asia/Shanghai").sweep(day, _at(day))


def test_an_unclaimed_entitlement_is_reminded_once_per_rung(engine: Engine, calendar: WorkingDayCalendar) -> None:
    assert claim_deadline(DIED, 6) == date(2026, 9, 10)
    _case(engine, "SH-LAPSEAAAA2345")
    # 22 working days left: before the first rung.
    assert _sweep(engine, calendar, date(2026, 8, 12)) == 0
    # 20 left (Friday 14 August through 10 September): the first reminder, once however often the sweep runs.
    assert _sweep(engine, calendar, date(2026, 8, 14)) == 1
    assert _sweep(engine, calendar, date(2026, 8, 14)) == 0
    assert _sweep(engine, calendar, date(2026, 8, 17)) == 0
    [first] = rows(engine, "SH-LAPSEAAAA2345")
    assert (first.kind, first.recipient, first.key) == (NotificationKind.CLAIM_LAPSING.value, "family",
                                                         lapse_key(SUBSIDY, 20))
    assert "“城乡居民丧葬补助金”须在2026年9月10日前申请（尚余20个工作日）" in first.message
    # 5 left: the second and last.
    assert _sweep(engine, calendar, date(2026, 9, 4)) == 1
    assert "尚余5个工作日" in rows(engine, "SH-LAPSEAAAA2345")[-1].message
    # The window has closed: nothing more.
    assert _sweep(engine, calendar, date(2026, 9, 9)) == 0
    assert _sweep(engine, calendar, date(2026, 9, 11)) == 0
    assert len(rows(engine, "SH-LAPSEAAAA2345")) == 2


def test_a_late_first_look_sends_only_the_nearest_rung(engine: Engine, calendar: WorkingDayCalendar) -> None:
    _case(engine, "SH-LAPSEBBBB2345")
    assert _sweep(engine, calendar, date(2026, 9, 7)) == 1
    assert [row.key for row in rows(engine, "SH-LAPSEBBBB2345")] == [lapse_key(SUBSIDY, 5)]


def test_claimed_withdrawn_and_superseded_cases_are_left_alone(engine: Engine, calendar: WorkingDayCalendar) -> None:
    _case(engine, "SH-LAPSECCCC2345", claims=True)  # claimed and running
    _case(engine, "SH-LAPSEDDDD2345", claims=True, matter_state=MatterState.REJECTED.value)  # decided
    _case(engine, "SH-LAPSEEEEE2345", state="已撤回")  # the family withdrew: its choice
    _case(engine, "SH-LAPSEFFFF2345", claims=True, matter_state=MatterState.NOT_PUSHED.value)  # never pushed
    _case(engine, "SH-LAPSEGGGG2345")
    _case(engine, "SH-LAPSEHHHH2345", previous="SH-LAPSEGGGG2345")  # the re-application speaks for the deceased
    assert _sweep(engine, calendar, date(2026, 8, 14)) == 2
    reminded = {case for case in ("C", "D", "E", "F", "G", "H") if rows(engine, f"SH-LAPSE{case * 4}2345")}
    assert reminded == {"F", "H"}


async def test_the_dispatcher_sweeps_each_morning_and_sends_to_the_familys_number(
    engine: Engine, calendar: WorkingDayCalendar, tmp_path: Path
) -> None:
    _case(engine, "SH-LAPSEJJJJ2345")
    sms = tmp_path / "sms.jsonl"
    now = _at(date(2026, 8, 14))
    sweep = LapseSweep(engine, calendar, default_catalogue(), "Asia/Shanghai")
    dispatcher = Dispatcher(engine, FileChannel(sms), Policy(), QUERY_KEY, clock=lambda: now, lapses=sweep)
    await dispatcher.run_until_idle()
    await dispatcher.run_until_idle()
    [line] = delivered_lines(sms)
    assert line["to"] == APPLICANT_PHONE and "城乡居民丧葬补助金" in line["text"]
