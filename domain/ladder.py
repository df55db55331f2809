"""The clock a department is held to: its deadline, the escalation ladder to it and past it, and when the matter
next wakes by itself. Plain functions over (state, the matter's input, now); the working-day counting itself is
an activity's (activities/deadlines.py), whose plans arrive here.
"""

from __future__ import annotations

from datetime import datetime

from domain import messages
from domain.change import Change, Note
from domain.clock import deadline_text
from domain.enums import Department, EscalationStep, MatterState, NotificationKind, Recipient
from domain.models import (
    DeadlinePlan,
    DeadlineRequest,
    LadderRung,
    MatterInput,
    MatterProgress,
    PushRequest,
    RemainingRequest,
)

# How far up the ladder a step takes the matter (the escalation level its search attribute shows).
STEP_LEVEL = {
    EscalationStep.WARNING: 1,
    EscalationStep.OVERDUE: 2,
    EscalationStep.REMINDER: 3,
    EscalationStep.SUPERVISION: 4,
}


def deadline_request(matter: MatterInput, start: datetime, working_days: int, late: int = 0, *,
                     horizon: bool = False) -> DeadlineRequest:
    """What the deadline activity counts; ``horizon``: the ladder only up to 督办 (the push's plan; the first
    step to fire counts the rest)."""
    policy = matter.matter_policy
    return DeadlineRequest(case_number=matter.case_number, matter=policy.definition.code, start=start,
                           working_days=working_days, timezone=policy.timezone, ladder=policy.ladder,
                           already_overdue=late,
                           horizon=policy.ladder.supervision_after_working_days if horizon else None)


def push_request(matter: MatterInput, now: datetime) -> PushRequest:
    """The hand-over to the department, with the clock it is held to (counted by the same activity)."""
    definition = matter.matter_policy.definition
    # Police items go to the deceased's 户籍地派出所 (DOMAIN.md §9), as intake recorded it from the town.
    unit = matter.brief.police_station if matter.brief and definition.department == Department.POLICE else None
    return PushRequest(case_number=matter.case_number, matter=definition.code, department=definition.department,
                       pushed_at=now, hukou_certificate_no=matter.hukou_certificate_no, unit=unit,
                       clock=deadline_request(matter, now, definition.time_limit_working_days, horizon=True))


def remaining_request(state: MatterProgress, matter: MatterInput, now: datetime) -> RemainingRequest:
    """What counts the working days left when 补正 stops the clock."""
    assert state.deadline is not None
    return RemainingRequest(case_number=matter.case_number, matter=matter.matter_policy.definition.code,
                            paused_at=now, deadline=state.deadline, timezone=matter.matter_policy.timezone)


def adopt(state: MatterProgress, plan: DeadlinePlan, start: datetime, working_days: int,
          late: int = 0) -> MatterProgress:
    """The running deadline's ladder, and what it was counted from (so a step can count it again)."""
    return state.model_copy(update={"plan_start": start, "plan_days": working_days, "plan_late": late,
                                    "deadline_days": plan.working_days, "rungs": plan.rungs})


def next_rung(state: MatterProgress) -> LadderRung | None:
    """The first step of the running ladder that has not fired in this generation."""
    for rung in state.rungs:
        if (state.generation, rung.step, rung.working_days_overdue) not in state.fired:
            return rung
    return None


def warning_at(state: MatterProgress) -> datetime | None:
    """When the running deadline is first escalated (its search attribute)."""
    for rung in state.rungs:
        if rung.step in (EscalationStep.WARNING, EscalationStep.OVERDUE):
            return rung.at
    return None


def wake_at(state: MatterProgress, matter: MatterInput, now: datetime) -> datetime | None:
    """When the matter next acts by itself if nobody decides (None: only when someone does)."""
    # Every wait but the ladder's (paying, a failed payment, 补正, a ladder run out) is a reminder's.
    if state.reminder_wait is not None:
        return None if state.reminder_at is None else max(state.reminder_at, now)
    rung = next_rung(state) if state.state == MatterState.UNDER_REVIEW else None
    if rung is None:
        return now + matter.matter_policy.waits.long_overdue_reminder_every
    return max(rung.at, now)


def wake_reason(state: MatterProgress) -> str:
    """What the next timer is for, as its summary in the Web UI says."""
    if state.reminder_wait is not None:
        return messages.timer_for_wait(state.reminder_wait, state.reminder_days)
    rung = next_rung(state) if state.state == MatterState.UNDER_REVIEW else None
    if rung is None:
        return messages.TIMER_CHECK
    return messages.timer_for_rung(rung.step, rung.working_days_overdue)


def fire(state: MatterProgress, matter: MatterInput, rung: LadderRung) -> Change:
    """A step of the ladder: who is told, and how late the matter now is."""
    definition = matter.matter_policy.definition
    case_number = matter.case_number
    notes: tuple[Note, ...]
    if rung.step == EscalationStep.WARNING:
        before = matter.matter_policy.ladder.warning_working_days_before
        text = messages.deadline_warning(case_number, definition, before)
        notes = ((NotificationKind.DEADLINE_WARNING, Recipient.DEPARTMENT, text, rung),)
        event = messages.warning_fired(before)
    elif rung.step == EscalationStep.OVERDUE:
        text = messages.deadline_overdue(case_number, definition)
        notes = ((NotificationKind.DEADLINE_OVERDUE, Recipient.DEPARTMENT_HEAD, text, rung),)
        event = messages.OVERDUE_FIRED
    elif rung.step == EscalationStep.SUPERVISION:
        text = messages.supervision(case_number, definition, rung.working_days_overdue)
        notes = ((NotificationKind.SUPERVISION, Recipient.SUPERVISOR, text, rung),
                 (NotificationKind.SUPERVISION, Recipient.DEPARTMENT_HEAD, text, rung))
        event = messages.supervision_fired(rung.working_days_overdue)
    else:
        text = messages.deadline_reminder(case_number, definition, rung.working_days_overdue)
        notes = ((NotificationKind.DEADLINE_REMINDER, Recipient.DEPARTMENT_HEAD, text, rung),)
        event = messages.reminder_fired(rung.working_days_overdue)
    if rung.approximate:
        event += messages.APPROXIMATE
    new = state.model_copy(update={
        "fired": (*state.fired, (state.generation, rung.step, rung.working_days_overdue)),
        "overdue": state.overdue or rung.step != EscalationStep.WARNING,
        "working_days_overdue": max(state.working_days_overdue, rung.working_days_overdue),
        "escalation_level": max(state.escalation_level, STEP_LEVEL[rung.step]),
        "escalations": (*state.escalations, rung.step),
    })
    return Change(new, event, notes=notes)


def replanned(state: MatterProgress, matter: MatterInput, plan: DeadlinePlan) -> Change:
    """The running deadline counted again from the same start on today's calendar (the county may have entered
    the official holidays since): a moved deadline or ladder is a timeline entry and a notice to the
    department; else a quiet change."""
    assert state.plan_start is not None
    before, rungs = state.deadline, {(r.step, r.working_days_overdue): r.at for r in state.rungs}
    new = adopt(state, plan, state.plan_start, state.plan_days, state.plan_late).model_copy(
        update={"calendar_fallback": plan.calendar_fallback})
    unchanged = all(rungs.get((r.step, r.working_days_overdue), r.at) == r.at for r in plan.rungs)
    if plan.deadline == before and unchanged:
        return Change(new)
    timezone = matter.matter_policy.timezone
    shown = deadline_text(plan.deadline, timezone)
    was = deadline_text(before, timezone) if before else messages.PAUSED
    text = messages.deadline_moved(matter.matter_policy.definition, shown)
    return Change(new.model_copy(update={"deadline": plan.deadline}), messages.deadline_replanned(was, shown),
                  notes=((NotificationKind.DEADLINE_MOVED, Recipient.DEPARTMENT, text, None),))


def past_the_ladder(state: MatterProgress, matter: MatterInput) -> Change:
    """Under review with no step ahead and no reminder planned: the supervisor hears of it again."""
    text = messages.supervision(matter.case_number, matter.matter_policy.definition, state.working_days_overdue,
                                matter.matter_policy.supervisor_name)
    return Change(state, text, notes=((NotificationKind.SUPERVISION, Recipient.SUPERVISOR, text, None),))
