"""The predicted completion date: from the deadline alone, and from the county's record in the register."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session

from activities.calendar import WorkingDayCalendar
from domain.enums import Department, MatterCode, MatterState
from domain.models import ClockPause, MatterView
from portal.prediction import MIN_SAMPLES, predict
from register.durations import handling_samples
from register.tables import MatterRow

ZONE = "Asia/Shanghai"
SH = ZoneInfo(ZONE)
CODE = MatterCode.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT
# Pushed on Monday 2026-11-23; five working days: the deadline is the end of Monday 2026-11-30.
PUSHED = datetime(2026, 11, 23, 10, 0, tzinfo=SH)
DEADLINE = datetime(2026, 12, 1, 0, 0, tzinfo=SH)


def view(**changes: object) -> MatterView:
    base = MatterView(
        case_number="SH-ABCDEFGH2345", code=CODE, name="城镇职工医疗保险个人账户余额提现（清算）",
        department=Department.NHSA, department_name="医保局", state=MatterState.UNDER_REVIEW, pays_family=True,
        time_limit_working_days=5, pushed_at=PUSHED, deadline=DEADLINE,
    )
    return base.model_copy(update=changes)


def test_from_the_deadline_when_the_county_has_no_record(calendar: WorkingDayCalendar) -> None:
    found = predict(view(), timezone=ZONE, calendar=calendar, samples=[], today=date(2026, 11, 24))
    assert found is not None and found.day == date(2026, 11, 30) and not found.from_history
    assert found.basis == "按承诺时限5个工作日预计"


def test_too_few_decisions_on_record_still_use_the_deadline(calendar: WorkingDayCalendar) -> None:
    found = predict(view(), timezone=ZONE, calendar=calendar, samples=[1] * (MIN_SAMPLES - 1),
                    today=date(2026, 11, 24))
    assert found is not None and found.day == date(2026, 11, 30)
    assert f"办结记录{MIN_SAMPLES - 1}件，不足{MIN_SAMPLES}件" in found.basis


def test_from_the_register_when_enough_decisions_are_on_record(
    engine: Engine, calendar: WorkingDayCalendar
) -> None:
    # Six earlier decisions of the same matter (median 2 working days) and one of another matter.
    decided = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    with Session(engine) as session:
        for index, days in enumerate([1, 2, 2, 3, 9, 2]):
            session.add(MatterRow(case_number=f"SH-AAAAAAAAAA{index}A", matter=CODE.value, department="nhsa",
                                  state="已发放", view={}, updated_at=decided,
                                  decided_at=decided + timedelta(days=index), handling_working_days=days))
        session.add(MatterRow(case_number="SH-BBBBBBBBBBBB", matter=MatterCode.HUKOU_CANCELLATION.value,
                              department="police", state="已通过", view={}, updated_at=decided, decided_at=decided,
                              handling_working_days=30))
        session.add(MatterRow(case_number="SH-CCCCCCCCCCCC", matter=CODE.value, department="nhsa",
                              state="待审核", view={}, updated_at=decided))  # undecided: no sample
        session.commit()
    samples = handling_samples(engine, CODE.value)
    assert sorted(samples) == [1, 2, 2, 2, 3, 9]
    found = predict(view(), timezone=ZONE, calendar=calendar, samples=samples, today=date(2026, 11, 24))
    assert found is not None and found.from_history
    assert found.day == date(2026, 11, 25)  # two working days after Monday's push
    assert found.basis == "按本县近期6件同类事项的实际办理用时（中位数2个工作日）推算"


def test_a_closed_pause_moves_the_prediction_on(calendar: WorkingDayCalendar) -> None:
    pause = ClockPause(started_at=datetime(2026, 11, 24, 9, 0, tzinfo=SH),
                       ended_at=datetime(2026, 11, 26, 9, 0, tzinfo=SH))
    found = predict(view(pauses=(pause,)), timezone=ZONE, calendar=calendar, samples=[2] * 5,
                    today=date(2026, 11, 24))
    assert found is not None and found.day == date(2026, 11, 27)  # two more working days stood still


def test_past_the_usual_time_the_deadline_is_the_prediction(calendar: WorkingDayCalendar) -> None:
    found = predict(view(), timezone=ZONE, calendar=calendar, samples=[1] * 5, today=date(2026, 11, 27))
    assert found is not None and found.day == date(2026, 11, 30) and not found.from_history
    assert "已超过本县同类事项的通常办理用时" in found.basis


def test_no_date_while_waiting_for_materials_or_when_overdue_or_done(calendar: WorkingDayCalendar) -> None:
    # As the matter workflow holds it: no deadline while the clock stands still.
    paused = view(state=MatterState.AWAITING_MATERIALS, deadline=None,
                  pauses=(ClockPause(started_at=PUSHED + timedelta(days=1), remaining_working_days=4),))
    found = predict(paused, timezone=ZONE, calendar=calendar, samples=[], today=date(2026, 11, 25))
    assert found is not None and found.day is None and "补正材料" in found.basis
    late = predict(view(overdue=True, working_days_overdue=2), timezone=ZONE, calendar=calendar, samples=[],
                   today=date(2026, 12, 2))
    assert late is not None and late.day is None and "已超过承诺期限2个工作日" in late.basis
    assert predict(view(state=MatterState.PAID, final=True), timezone=ZONE, calendar=calendar, samples=[],
                   today=date(2026, 11, 24)) is None
    assert predict(view(state=MatterState.PENDING_PUSH, pushed_at=None, deadline=None), timezone=ZONE,
                   calendar=calendar, samples=[], today=date(2026, 11, 24)) is None


def test_the_history_lists_events_of_the_same_moment_newest_first() -> None:
    from datetime import UTC, date, datetime

    from activities.calendar import WorkingDayCalendar
    from domain.models import StatusSnapshot, TimelineEntry
    from domain.policy import Policy
    from portal import progress

    at = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)
    waiting = "等待殡仪馆上传火化证明后推送其余事项"
    timeline = (TimelineEntry(at=at, event="户口注销完成"), TimelineEntry(at=at, event=waiting),
                TimelineEntry(at=at.replace(hour=1), event="受理申请"))
    page = progress.build(StatusSnapshot(case_number="SH-AAAAAAAAAAAA", scope="case", timeline=timeline), Policy(),
                          calendar=WorkingDayCalendar(), samples=lambda code: [], today=date(2026, 12, 6))
    assert [line.event for line in page.history] == [waiting, "户口注销完成", "受理申请"]


def test_an_overdue_matter_says_so_even_before_its_deadline_date_by_the_calendar() -> None:
    """After a demo advance the matter's clock runs ahead of today: its own overdue flag decides."""
    from datetime import UTC, date, datetime

    from activities.calendar import WorkingDayCalendar
    from domain.enums import Department, MatterCode, MatterState
    from domain.models import MatterView, StatusSnapshot
    from domain.policy import Policy
    from portal import progress

    view = MatterView(case_number="SH-AAAAAAAAAAAA", code=MatterCode.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT,
                      name="医保", department=Department.NHSA, department_name="医保局",
                      state=MatterState.UNDER_REVIEW, pays_family=True, time_limit_working_days=5,
                      pushed_at=datetime(2026, 12, 1, tzinfo=UTC), deadline=datetime(2026, 12, 8, tzinfo=UTC),
                      overdue=True, working_days_overdue=4, escalation_level=4)
    page = progress.build(StatusSnapshot(case_number="SH-AAAAAAAAAAAA", scope="case", matters=(view,)), Policy(),
                          calendar=WorkingDayCalendar(), samples=lambda code: [], today=date(2026, 12, 2))
    [card] = page.matters
    assert card.state.endswith("（已超期）") and card.prediction_text == ""
    assert card.prediction is not None and "已超过承诺期限4个工作日" in card.prediction.basis
