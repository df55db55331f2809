"""承诺时限: deadlines and the escalation ladder, in statutory working days (docs/domain.md, "Working days
and the calendar" and "The escalation ladder").

Both activities are pure functions of their input and the working-day calendar (no I/O, no clock),
so a Temporal retry returns the same answer. The results are stored in workflow history as absolute
times, so a replay never recomputes them. A calendar update reaches a running matter through the matter itself:
before its next ladder step fires it asks ``plan_deadline`` again, and when the answer moved it records the
new deadline and tells the department (``deadline_moved``; domain/ladder.py: ``replanned``).

Conventions, all in the policy's local time zone:
- The day a matter starts (or resumes) is never counted; "the end of working day k" is 00:00 of the
  calendar day after the k-th working day after the start's local date.
- 补正 stops the clock: `remaining_working_days` gives the working days left at the pause, and on
  resume `plan_deadline` is called again with start = resume time and working_days = remaining.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.calendar import WorkingDayCalendar
from domain.enums import EscalationStep
from domain.models import (
    DeadlinePlan,
    DeadlineRequest,
    LadderRung,
    RemainingDays,
    RemainingRequest,
    ReminderPlan,
    ReminderRequest,
)
from domain.policy import LadderPolicy

__all__ = ["INVALID_DEADLINE_REQUEST", "MAX_WORKING_DAYS_OVERDUE", "DeadlineActivities", "overdue_steps"]

# The ladder stops reminding after this many working days overdue.
MAX_WORKING_DAYS_OVERDUE = 60
# ApplicationError type for a request that can never succeed (non-retryable).
INVALID_DEADLINE_REQUEST = "InvalidDeadlineRequest"


class DeadlineActivities:
    def __init__(self, calendar: WorkingDayCalendar) -> None:
        self._calendar = calendar

    @activity.defn(name="plan_deadline")
    def plan_deadline(self, req: DeadlineRequest) -> DeadlinePlan:
        """The deadline (end of the N-th working day after the start) and the ladder's rungs.

        A matter resumed after 补正 that was ``already_overdue`` working days late when its clock stopped
        has nothing left (N = 0): it is overdue at once and its ladder goes on with the next step.
        """
        tz, start, n, late = _counted(req)
        ladder = req.ladder
        cal = self._calendar
        start_day = start.astimezone(tz).date()

        last_day, approximate = cal.add_working_days(start_day, n)
        deadline = start if late else _end_of(last_day, tz)
        rungs: list[LadderRung] = []

        warn_before = ladder.warning_working_days_before
        if warn_before > 0 and not late:
            k = n - warn_before
            if k > 0:
                warn_day, used = cal.add_working_days(start_day, k)
                warning_at = _end_of(warn_day, tz)
            else:
                # The matter starts inside its warning window. If the start day is a working day its
                # end is still "k working days" from the deadline; otherwise warn immediately.
                working, used = cal.is_working_day(start_day)
                warning_at = _end_of(start_day, tz) if k == 0 and working else start
            approximate |= used
            rungs.append(_rung(EscalationStep.WARNING, max(warning_at, start), 0, used, len(rungs)))

        rungs.append(_rung(EscalationStep.OVERDUE, deadline, 0, approximate, len(rungs)))

        # Each later step is marked on its own: a reminder may fall in a year the deadline did not.
        day, done, step_approximate = last_day, late, approximate
        for k, step in overdue_steps(ladder):
            if k <= late:
                continue
            if req.horizon is not None and k > late + req.horizon:
                break
            day, used = cal.add_working_days(day, k - done)
            step_approximate |= used
            done = k
            rungs.append(_rung(step, _end_of(day, tz), k, step_approximate, len(rungs)))

        counted: list[date] = []
        day = start_day
        while len(counted) < n:
            day, _ = cal.add_working_days(day, 1)
            counted.append(day)
        return DeadlinePlan(deadline=deadline, rungs=tuple(rungs), working_days=tuple(counted),
                            calendar_fallback=approximate, calendar_version=cal.version)

    def deadline_of(self, req: DeadlineRequest) -> datetime:
        """The deadline ``plan_deadline`` gives, without counting its ladder: a payment's confirmation needs no
        more, and the ladder's reminders (up to 60 working days overdue) were most of the counting."""
        tz, start, n, late = _counted(req)
        if late:
            return start
        last_day, _ = self._calendar.add_working_days(start.astimezone(tz).date(), n)
        return _end_of(last_day, tz)

    @activity.defn(name="remaining_working_days")
    def remaining_working_days(self, req: RemainingRequest) -> RemainingDays:
        """Working days left when the clock stops: after the pause's local date, up to and including
        the deadline's last working day; at least 1 when the deadline has not passed (a matter paused on
        its last day gets that day back), and 0 when it has (it resumes overdue)."""
        tz = _zone(req.timezone)
        paused_at = _aware(req.paused_at, "paused_at")
        deadline = _aware(req.deadline, "deadline").astimezone(tz)
        if paused_at >= deadline:
            return RemainingDays(working_days=0, overdue=True)
        paused = paused_at.astimezone(tz).date()
        # The calendar day holding the last instant before the deadline (the day before a 00:00 deadline).
        last_day = (deadline - timedelta(microseconds=1)).date()
        count, approximate = self._calendar.working_days_between(paused, last_day)
        return RemainingDays(working_days=max(1, count), calendar_fallback=approximate)

    # Counting a few days waits on nothing: on the worker's event loop, not in a thread of the activity executor.
    @activity.defn(name="plan_reminder")
    async def plan_reminder(self, req: ReminderRequest) -> ReminderPlan:
        """The next reminder of a wait: at ``hour`` o'clock local on the working day after the W-th working day
        since the wait began (W = first_after + sent × every), saying W. Never on a weekend or a holiday, and
        each reminder of a wait counts more days than the one before."""
        tz = _zone(req.timezone)
        since = _aware(req.since, "since").astimezone(tz).date()
        days = req.first_after + req.sent * req.every
        last, used = self._calendar.add_working_days(since, days)
        day, also = self._calendar.add_working_days(last, 1)
        at = datetime.combine(day, time(req.hour), tzinfo=tz).astimezone(UTC)
        return ReminderPlan(at=at, working_days=days, calendar_fallback=used or also)


def overdue_steps(ladder: LadderPolicy) -> list[tuple[int, EscalationStep]]:
    """(working days overdue, step) for every rung after the deadline, in order.

    Every ``reminder_every_working_days`` up to ``daily_reminders_until``, then every
    ``slow_reminder_every_working_days`` up to MAX_WORKING_DAYS_OVERDUE; the rung at
    ``supervision_after_working_days`` is 督办 (SUPERVISION) and is always present.
    """
    ks: set[int] = set()
    k, last = ladder.reminder_every_working_days, 0
    while k <= min(ladder.daily_reminders_until, MAX_WORKING_DAYS_OVERDUE):
        ks.add(k)
        last = k
        k += ladder.reminder_every_working_days
    k = last + ladder.slow_reminder_every_working_days
    while k <= MAX_WORKING_DAYS_OVERDUE:
        ks.add(k)
        k += ladder.slow_reminder_every_working_days
    supervision = ladder.supervision_after_working_days
    ks.add(supervision)
    return [(k, EscalationStep.SUPERVISION if k == supervision else EscalationStep.REMINDER) for k in sorted(ks)]


def _counted(req: DeadlineRequest) -> tuple[ZoneInfo, datetime, int, int]:
    """The zone, the start, the working days to count and how late the matter already is (a request that can
    never be counted is refused)."""
    tz = _zone(req.timezone)
    start = _aware(req.start, "start")
    if req.working_days < 0 or req.already_overdue < 0:
        raise _invalid(f"working_days and already_overdue must be >= 0, got {req.working_days}, "
                       f"{req.already_overdue}")
    n = req.working_days
    return tz, start, n, req.already_overdue if n == 0 else 0


def _rung(step: EscalationStep, at: datetime, overdue: int, approximate: bool, index: int) -> LadderRung:
    return LadderRung(step=step, index=index, at=at.astimezone(UTC), working_days_overdue=overdue,
                      approximate=approximate)


def _end_of(day: date, tz: ZoneInfo) -> datetime:
    """00:00 local of the day after ``day``, in UTC."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz).astimezone(UTC)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise _invalid(f"unknown time zone {name!r} in the policy") from err


def _aware(value: datetime, field: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise _invalid(f"{field} must be timezone-aware, got {value.isoformat()}")
    return value


def _invalid(message: str) -> ApplicationError:
    return ApplicationError(message, type=INVALID_DEADLINE_REQUEST, non_retryable=True)
