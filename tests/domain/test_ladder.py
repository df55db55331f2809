"""The clock a department is held to (domain/ladder.py), without a server: fixed datetimes in, the next wake-up,
the step that fires and what it says out; properties over any order of steps and any moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from domain import ladder
from domain.enums import EscalationStep, MatterState, NotificationKind, Recipient
from domain.models import DeadlinePlan, MatterProgress
from tests.domain.matters import CASE, DEADLINE, NOW, matter, paying, reviewing, rungs

MOMENTS = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC))


def _fire_all(state: MatterProgress) -> list[MatterProgress]:
    states = [state]
    while (rung := ladder.next_rung(states[-1])) is not None:
        states.append(ladder.fire(states[-1], matter(), rung).state)
    return states


def test_the_steps_fire_in_order_once_each_and_escalate() -> None:
    states = _fire_all(reviewing())
    assert [s.escalations[-1] for s in states[1:]] == [r.step for r in rungs()]
    assert [s.escalation_level for s in states] == [0, 1, 2, 3, 4]
    assert [s.overdue for s in states] == [False, False, True, True, True]
    assert states[-1].working_days_overdue == 3 and ladder.next_rung(states[-1]) is None


def test_an_extension_starts_a_new_generation_whose_steps_fire_again() -> None:
    done = _fire_all(reviewing())[-1]
    again = done.model_copy(update={"generation": done.generation + 1})
    assert ladder.next_rung(again) == rungs()[0]


@given(st.permutations(range(4)))
def test_lateness_never_goes_down_as_steps_fire_in_any_order(order: list[int]) -> None:
    state = reviewing()
    for index in order:
        after = ladder.fire(state, matter(), rungs()[index]).state
        assert after.escalation_level >= state.escalation_level
        assert after.working_days_overdue >= state.working_days_overdue
        assert after.overdue >= state.overdue
        state = after
    assert state.escalation_level == 4 and state.working_days_overdue == 3


def test_each_step_tells_its_people() -> None:
    told = {}
    for rung in rungs():
        change = ladder.fire(reviewing(), matter(), rung)
        told[rung.step] = [(kind, to) for kind, to, _, for_rung in change.notes if for_rung == rung]
    assert told == {
        EscalationStep.WARNING: [(NotificationKind.DEADLINE_WARNING, Recipient.DEPARTMENT)],
        EscalationStep.OVERDUE: [(NotificationKind.DEADLINE_OVERDUE, Recipient.DEPARTMENT_HEAD)],
        EscalationStep.REMINDER: [(NotificationKind.DEADLINE_REMINDER, Recipient.DEPARTMENT_HEAD)],
        EscalationStep.SUPERVISION: [(NotificationKind.SUPERVISION, Recipient.SUPERVISOR),
                                     (NotificationKind.SUPERVISION, Recipient.DEPARTMENT_HEAD)],
    }
    supervision = ladder.fire(reviewing(), matter(), rungs()[3])
    assert supervision.event == "督办：已超期3个工作日，县政务服务局督办"
    assert CASE in supervision.notes[0][2]


def test_a_date_counted_without_the_official_schedule_says_so() -> None:
    approximate = rungs()[0].model_copy(update={"approximate": True})
    event = ladder.fire(reviewing(), matter(), approximate).event
    assert event == "预警：距承诺时限不足1个工作日（日期按法定节假日规则推算，以官方安排为准）"


@given(MOMENTS)
def test_the_matter_never_wakes_in_the_past(now: datetime) -> None:
    for state in _fire_all(reviewing()):
        at = ladder.wake_at(state, matter(), now)
        assert at is not None and at >= now
        rung = ladder.next_rung(state)
        assert at == (max(rung.at, now) if rung else now + timedelta(days=30))


def test_a_reminder_wait_wakes_at_its_reminder_or_not_at_all() -> None:
    waiting = paying(reminder_wait=MatterState.PAYING.value)
    assert ladder.wake_at(waiting, matter(), NOW) is None
    planned = waiting.model_copy(update={"reminder_at": NOW + timedelta(days=3), "reminder_days": 3})
    assert ladder.wake_at(planned, matter(), NOW) == NOW + timedelta(days=3)
    assert ladder.wake_reason(planned) == "提醒支付系统未确认到账（已3个工作日）"


def test_the_timer_says_what_it_is_for() -> None:
    reasons = [ladder.wake_reason(state) for state in _fire_all(reviewing())]
    assert reasons == ["预警：承诺期限将至", "超时：承诺期限届满", "催办：超期1个工作日", "督办：超期3个工作日",
                       "到期检查"]


def test_the_warning_attribute_is_the_first_step_of_the_running_deadline() -> None:
    assert ladder.warning_at(reviewing()) == DEADLINE - timedelta(days=1)
    assert ladder.warning_at(reviewing(rungs=rungs()[1:])) == DEADLINE
    assert ladder.warning_at(reviewing(rungs=())) is None


def test_a_recount_that_moves_nothing_is_quiet_and_one_that_moves_the_deadline_is_told() -> None:
    same = DeadlinePlan(deadline=DEADLINE, rungs=rungs(), calendar_fallback=True)
    quiet = ladder.replanned(reviewing(), matter(), same)
    assert quiet.event is None and quiet.state.calendar_fallback
    later = DEADLINE + timedelta(days=2)
    moved = ladder.replanned(reviewing(), matter(), DeadlinePlan(deadline=later, rungs=rungs(later)))
    assert moved.state.deadline == later and moved.state.rungs == rungs(later)
    assert moved.event == "节假日安排更新，承诺期限由2026-03-09 24:00调整为2026-03-11 24:00"
    assert [(kind, to) for kind, to, _, _ in moved.notes] == [(NotificationKind.DEADLINE_MOVED, Recipient.DEPARTMENT)]


def test_the_push_asks_for_the_ladder_up_to_supervision_only() -> None:
    request = ladder.push_request(matter(), NOW)
    assert request.clock is not None and request.clock.working_days == 15
    assert request.clock.horizon == matter().matter_policy.ladder.supervision_after_working_days
    assert ladder.deadline_request(matter(), NOW, 3).horizon is None


def test_past_the_ladder_the_supervisor_hears_again_from_the_catalogues_bureau() -> None:
    change = ladder.past_the_ladder(reviewing(working_days_overdue=12), matter(), )
    assert change.event is not None and "已超期12个工作日" in change.event
    assert change.notes[0][:2] == (NotificationKind.SUPERVISION, Recipient.SUPERVISOR)
