"""Reminders of the waits the ladder does not cover (domain/reminders.py), without a server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain import ladder, reminders
from domain.enums import MatterState, NotificationKind, Recipient
from domain.models import MatterProgress, ReminderPlan
from domain.policy import WaitPolicy
from tests.domain.matters import CASE, DEADLINE, NOW, matter, paused, paying, reviewing

LATER = NOW + timedelta(days=5)


def _fired(state: MatterProgress) -> MatterProgress:
    while (rung := ladder.next_rung(state)) is not None:
        state = ladder.fire(state, matter(), rung).state
    return state


@pytest.mark.parametrize(("state", "wait"), [
    (reviewing(), None),
    (paying(), MatterState.PAYING.value),
    (paying(state=MatterState.PAYMENT_FAILED), MatterState.PAYMENT_FAILED.value),
    (paused(3), MatterState.AWAITING_MATERIALS.value),
    (_fired(reviewing()), reminders.LONG_OVERDUE),
    (reviewing(state=MatterState.PAID, final=True), None),
])
def test_what_the_matter_waits_for(state: MatterProgress, wait: str | None) -> None:
    assert reminders.wait_of(state) == wait


def test_each_wait_has_its_schedule() -> None:
    waits = WaitPolicy()
    assert reminders.schedule(waits, MatterState.PAYING.value) == (3, 1, 5)
    assert reminders.schedule(waits, MatterState.PAYMENT_FAILED.value) == (1, 1, 5)
    assert reminders.schedule(waits, MatterState.AWAITING_MATERIALS.value) == (5, 5, 4)
    assert reminders.schedule(waits, reminders.LONG_OVERDUE) == (20, 20, 6)


def test_a_new_wait_counts_from_its_start_and_from_no_reminder() -> None:
    unconfirmed = reminders.current_wait(paying(reminders=3), LATER)
    assert (unconfirmed.reminder_wait, unconfirmed.reminder_since, unconfirmed.reminders) == (
        MatterState.PAYING.value, NOW, 0)  # from the instruction, not from now
    materials = reminders.current_wait(paused(3), LATER)
    assert materials.reminder_since == LATER
    run_out = reminders.current_wait(_fired(reviewing()), LATER)
    assert run_out.reminder_since == DEADLINE + timedelta(days=3) - timedelta(microseconds=1)
    # The same wait goes on as it was; no wait clears the plan.
    assert reminders.current_wait(unconfirmed, LATER + timedelta(days=9)) == unconfirmed
    cleared = reminders.current_wait(reviewing(reminder_wait="发放中", reminder_at=LATER), LATER)
    assert cleared.reminder_wait is None and cleared.reminder_at is None


def test_the_next_reminder_is_planned_once_and_no_more_than_the_policy_allows() -> None:
    waiting = reminders.current_wait(paying(), NOW)
    request = reminders.next_request(waiting, matter())
    assert request is not None
    assert (request.since, request.first_after, request.every, request.sent, request.hour) == (NOW, 3, 1, 0, 9)
    planned = reminders.planned(waiting, ReminderPlan(at=LATER, working_days=3))
    assert reminders.next_request(planned, matter()) is None
    assert reminders.next_request(waiting.model_copy(update={"reminders": 5}), matter()) is None


def test_each_reminder_says_how_long_and_goes_to_whom_it_concerns() -> None:
    unconfirmed = reminders.remind(paying(reminder_wait=MatterState.PAYING.value, reminder_days=3,
                                          reminder_at=LATER), matter())
    assert unconfirmed.state.reminders == 1 and unconfirmed.state.reminder_at is None
    assert unconfirmed.state.manual_handling == "款项下达指令3个工作日未确认到账"
    assert unconfirmed.notes[0][:2] == (NotificationKind.PAYMENT_UNCONFIRMED, Recipient.SUPERVISOR)
    assert unconfirmed.event is not None and unconfirmed.event.startswith(f"受理编号{CASE}的")
    assert "款项已下达发放指令3个工作日" in unconfirmed.event and "凭证号PAY-1" in unconfirmed.event
    materials = reminders.remind(paused(3, reminder_wait=MatterState.AWAITING_MATERIALS.value, reminder_days=5),
                                 matter())
    assert materials.notes[0][:2] == (NotificationKind.MATERIALS_REMINDER, Recipient.FAMILY)
    run_out = reminders.remind(_fired(reviewing()).model_copy(update={"reminder_wait": reminders.LONG_OVERDUE,
                                                                     "reminder_days": 20}), matter())
    # The days the ladder ran and the days since: the lateness in all.
    assert run_out.event is not None and "已超期23个工作日" in run_out.event
    assert run_out.notes[0][:2] == (NotificationKind.SUPERVISION, Recipient.SUPERVISOR)


# Any moment after the fixtures' waits began (the instruction, the last step of the ladder).
MOMENTS = st.datetimes(min_value=datetime(2026, 3, 13), max_value=datetime(2027, 12, 31), timezones=st.just(UTC))


@given(MOMENTS, st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)))
def test_a_wait_begins_once_and_never_after_it_is_seen(now: datetime, later: timedelta) -> None:
    for state in (paying(), paying(state=MatterState.PAYMENT_FAILED), paused(3), _fired(reviewing())):
        begun = reminders.current_wait(state, now)
        assert begun.reminder_since is not None and begun.reminder_since <= now
        # Seen again later, the same wait keeps its start and its count.
        assert reminders.current_wait(begun, now + later) == begun
