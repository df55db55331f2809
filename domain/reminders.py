"""Reminders of the waits the ladder does not cover: a payment the paying system has not confirmed (发放中), one
that failed and waits for a corrected account (发放失败), 补正 (待补正), money that waits for the window's check of
a relationship proof (待核验亲属关系), and a ladder run out. Each wait has its
own schedule in working days (``WaitPolicy``), at most so many reminders, each saying how long it has lasted.
Plain functions; the working-day counting is an activity's (``plan_reminder``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from domain import messages
from domain.change import Change, Note
from domain.enums import MatterState, NotificationKind, Recipient
from domain.ladder import next_rung
from domain.models import MatterInput, MatterProgress, ReminderPlan, ReminderRequest
from domain.policy import WaitPolicy

LONG_OVERDUE = "long_overdue"


def wait_of(state: MatterProgress) -> str | None:
    """What the matter waits for that its ladder does not cover (None: the ladder, or nothing)."""
    if state.state in (MatterState.PAYING, MatterState.PAYMENT_FAILED, MatterState.AWAITING_MATERIALS,
                       MatterState.AWAITING_PROOF):
        return state.state.value
    if state.state == MatterState.UNDER_REVIEW and state.deadline is not None and next_rung(state) is None:
        return LONG_OVERDUE
    return None


def schedule(waits: WaitPolicy, wait: str) -> tuple[int, int, int]:
    """(first after, every, at most) in working days for the reminders of ``wait``."""
    if wait == MatterState.PAYING.value:
        return (waits.payment_confirmation_working_days, waits.payment_reminder_every_working_days,
                waits.payment_reminders_max)
    if wait == MatterState.PAYMENT_FAILED.value:
        return (waits.payment_reminder_every_working_days, waits.payment_reminder_every_working_days,
                waits.payment_reminders_max)
    if wait in (MatterState.AWAITING_MATERIALS.value, MatterState.AWAITING_PROOF.value):
        return (waits.materials_reminder_every_working_days, waits.materials_reminder_every_working_days,
                waits.materials_reminders_max)
    return (waits.long_overdue_reminder_every_working_days, waits.long_overdue_reminder_every_working_days,
            waits.long_overdue_reminders_max)


def current_wait(state: MatterProgress, now: datetime) -> MatterProgress:
    """The state with the wait it is in now: a new wait starts its count (a ladder run out from its last rung,
    a payment from its instruction, any other wait from now) and its reminders from none."""
    wait = wait_of(state)
    if wait is None:
        if state.reminder_wait is None and state.reminder_at is None:
            return state
        return state.model_copy(update={"reminder_wait": None, "reminder_at": None})
    if wait == state.reminder_wait:
        return state
    last = state.rungs[-1].at - timedelta(microseconds=1) if wait == LONG_OVERDUE and state.rungs else None
    since = last or (state.payment_instructed_at if wait == MatterState.PAYING.value else None) or now
    return state.model_copy(update={"reminder_wait": wait, "reminder_at": None, "reminder_days": 0,
                                    "reminder_since": since, "reminders": 0})


def next_request(state: MatterProgress, matter: MatterInput) -> ReminderRequest | None:
    """What to count the next reminder of the current wait with (None: none is due to be planned)."""
    wait = state.reminder_wait
    if wait is None:
        return None
    policy = matter.matter_policy
    first, every, most = schedule(policy.waits, wait)
    if state.reminder_at is not None or state.reminders >= most:
        return None
    assert state.reminder_since is not None
    return ReminderRequest(since=state.reminder_since, first_after=first, every=every, sent=state.reminders,
                           timezone=policy.timezone, hour=policy.waits.reminder_hour)


def planned(state: MatterProgress, plan: ReminderPlan) -> MatterProgress:
    return state.model_copy(update={"reminder_at": plan.at, "reminder_days": plan.working_days})


def remind(state: MatterProgress, matter: MatterInput) -> Change:
    """A reminder of the current wait, saying how many working days it has lasted (never the same twice)."""
    definition = matter.matter_policy.definition
    case_number = matter.case_number
    days, wait = state.reminder_days, state.reminder_wait
    changes: dict[str, object] = {"reminders": state.reminders + 1, "reminder_at": None}
    notes: tuple[Note, ...]
    if wait == MatterState.PAYING.value:
        assert state.payment_reference is not None
        text = messages.payment_unconfirmed(case_number, definition, days, state.payment_reference)
        changes["manual_handling"] = messages.payment_unconfirmed_handling(days)
        notes = ((NotificationKind.PAYMENT_UNCONFIRMED, Recipient.SUPERVISOR, text, None),)
    elif wait == MatterState.PAYMENT_FAILED.value:
        text = messages.payment_failed_waiting(case_number, definition, days)
        notes = ((NotificationKind.SUPERVISION, Recipient.SUPERVISOR, text, None),)
    elif wait == MatterState.AWAITING_MATERIALS.value:
        text = messages.materials_waiting(case_number, definition, days)
        notes = ((NotificationKind.MATERIALS_REMINDER, Recipient.FAMILY, text, None),)
    elif wait == MatterState.AWAITING_PROOF.value:
        # The family is reminded; the supervisor sees that money waits on the family, not on a department.
        text = messages.proof_waiting(case_number, definition, days)
        notes = ((NotificationKind.MATERIALS_REMINDER, Recipient.FAMILY, text, None),
                 (NotificationKind.SUPERVISION, Recipient.SUPERVISOR, text, None))
    else:
        text = messages.supervision(case_number, definition, days + state.working_days_overdue,
                                    matter.matter_policy.supervisor_name)
        notes = ((NotificationKind.SUPERVISION, Recipient.SUPERVISOR, text, None),)
    return Change(state.model_copy(update=changes), text, notes=notes)
