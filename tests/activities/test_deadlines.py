"""承诺时限 activities: deadlines across weekends, golden weeks and 调休, the ladder, and 补正 pauses.

Local times below are Asia/Shanghai (UTC+8, no DST); a deadline is 00:00 local after its last
working day. The holiday dates used are verified against the library in test_calendar.py.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from structlog.testing import capture_logs
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.calendar import WorkingDayCalendar, parse_override
from activities.deadlines import (
    INVALID_DEADLINE_REQUEST,
    MAX_WORKING_DAYS_OVERDUE,
    DeadlineActivities,
    overdue_steps,
)
from domain.enums import EscalationStep, MatterCode
from domain.models import DeadlinePlan, DeadlineRequest, RemainingRequest, ReminderRequest
from domain.policy import LadderPolicy, Policy

SHANGHAI = ZoneInfo("Asia/Shanghai")
POLICY = Policy()
MATTER = MatterCode.ENTERPRISE_RETIREE_DEATH_BENEFIT


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


def midnight_after(day: date) -> datetime:
    """The end of a local day, as the UTC instant the plan stores."""
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=SHANGHAI).astimezone(UTC)


def request(start: datetime, working_days: int, policy: Policy = POLICY) -> DeadlineRequest:
    return DeadlineRequest(
        case_number="GY-2025-000123", matter=MATTER, start=start, working_days=working_days,
        timezone=policy.timezone, ladder=policy.ladder,
    )


def remaining(paused_at: datetime, deadline: datetime) -> RemainingRequest:
    return RemainingRequest(
        case_number="GY-2025-000123", matter=MATTER, paused_at=paused_at, deadline=deadline,
        timezone=POLICY.timezone,
    )


def ladder_policy(**changes: int) -> Policy:
    return Policy(ladder=LadderPolicy(**changes))


@pytest.fixture
def acts() -> DeadlineActivities:
    return DeadlineActivities(WorkingDayCalendar())


# --- the deadline ------------------------------------------------------------------------------


def test_deadline_crosses_a_weekend(acts: DeadlineActivities) -> None:
    # Friday 2025-11-14 10:00: the 1st working day after is Monday 11-17.
    plan = acts.plan_deadline(request(local(2025, 11, 14, 10), 1))
    assert plan.deadline == local(2025, 11, 18)
    assert plan.deadline.utcoffset() == timedelta(0)  # stored in UTC
    assert plan.deadline == datetime(2025, 11, 17, 16, tzinfo=UTC)
    assert not plan.calendar_fallback


def test_deadline_crosses_golden_week_with_tiaoxiu_sunday(acts: DeadlineActivities) -> None:
    # Friday 09-26: Sun 09-28 (调休) #1, Mon 29 #2, Tue 30 #3, 10-01..08 off, Thu 10-09 #4, Fri 10-10 #5.
    plan = acts.plan_deadline(request(local(2025, 9, 26, 10), 5))
    assert plan.deadline == midnight_after(date(2025, 10, 10))


def test_deadline_on_a_tiaoxiu_saturday(acts: DeadlineActivities) -> None:
    # Friday 10-10: the next working day is Saturday 10-11 (调休).
    plan = acts.plan_deadline(request(local(2025, 10, 10, 9), 1))
    assert plan.deadline == midnight_after(date(2025, 10, 11))
    # Started during golden week: Thu 10-09 #1, Fri 10-10 #2, Sat 10-11 (调休) #3.
    plan = acts.plan_deadline(request(local(2025, 10, 3, 9), 3))
    assert plan.deadline == midnight_after(date(2025, 10, 11))


def test_deadline_spring_festival_2026(acts: DeadlineActivities) -> None:
    # Thursday 02-12: Fri 02-13 #1, Sat 02-14 (调休) #2, 02-15..02-23 off, Tue 02-24 #3.
    plan = acts.plan_deadline(request(local(2026, 2, 12, 15), 3))
    assert plan.deadline == midnight_after(date(2026, 2, 24))
    assert not plan.calendar_fallback


def test_start_is_converted_to_the_local_date(acts: DeadlineActivities) -> None:
    # 2025-11-13 17:30 UTC is Friday 11-14 01:30 in Shanghai: counted from Friday, not Thursday.
    plan = acts.plan_deadline(request(datetime(2025, 11, 13, 17, 30, tzinfo=UTC), 1))
    assert plan.deadline == local(2025, 11, 18)


def test_time_zone_comes_from_the_policy(acts: DeadlineActivities) -> None:
    policy = Policy(timezone="Asia/Urumqi")  # UTC+6
    plan = acts.plan_deadline(request(local(2025, 11, 14, 10), 1, policy))
    assert plan.deadline == datetime(2025, 11, 18, tzinfo=ZoneInfo("Asia/Urumqi"))
    assert plan.deadline == datetime(2025, 11, 17, 18, tzinfo=UTC)


def test_plan_is_deterministic(acts: DeadlineActivities) -> None:
    req = request(local(2025, 9, 26, 10), 5)
    assert acts.plan_deadline(req) == acts.plan_deadline(req)
    assert DeadlineActivities(WorkingDayCalendar()).plan_deadline(req) == acts.plan_deadline(req)


@pytest.mark.parametrize(
    ("start", "working_days", "late"),
    [(local(2025, 9, 26, 10), 5, 0), (local(2025, 9, 30, 23, 30), 3, 0), (local(2027, 2, 3, 9), 15, 0),
     (local(2025, 11, 3, 10), 0, 4), (local(2025, 11, 8, 10), 0, 0)],
)
def test_the_deadline_alone_is_the_plans_deadline(
    acts: DeadlineActivities, start: datetime, working_days: int, late: int
) -> None:
    req = request(start, working_days).model_copy(update={"already_overdue": late})
    assert acts.deadline_of(req) == acts.plan_deadline(req).deadline


def test_the_rungs_are_numbered_in_order(acts: DeadlineActivities) -> None:
    plan = acts.plan_deadline(request(local(2025, 9, 26, 10), 5))
    assert [rung.index for rung in plan.rungs] == list(range(len(plan.rungs)))


def test_plan_round_trips_through_the_pydantic_converter(acts: DeadlineActivities) -> None:
    plan = acts.plan_deadline(request(local(2025, 9, 26, 10), 5))
    payloads = pydantic_data_converter.payload_converter.to_payloads([plan])
    assert pydantic_data_converter.payload_converter.from_payloads(payloads, [DeadlinePlan]) == [plan]


def test_runs_in_an_activity_environment(acts: DeadlineActivities) -> None:
    env = ActivityEnvironment()
    plan = env.run(acts.plan_deadline, request(local(2025, 11, 14, 10), 1))
    assert plan.deadline == local(2025, 11, 18)
    left = env.run(acts.remaining_working_days, remaining(local(2025, 11, 14, 11), plan.deadline))
    assert left.working_days == 1


# --- the ladder --------------------------------------------------------------------------------


def test_ladder_of_a_five_day_matter(acts: DeadlineActivities) -> None:
    # Monday 2025-11-03 10:00, 5 working days: Tue 4, Wed 5, Thu 6, Fri 7, Mon 10 -> deadline 11-11 00:00.
    plan = acts.plan_deadline(request(local(2025, 11, 3, 10), 5))
    rungs = plan.rungs
    assert plan.deadline == midnight_after(date(2025, 11, 10))
    assert [r.index for r in rungs] == list(range(len(rungs)))
    assert all(a.at < b.at for a, b in itertools.pairwise(rungs))
    assert all(r.at.utcoffset() == timedelta(0) for r in rungs)

    steps = [r.step for r in rungs]
    assert steps[:5] == [
        EscalationStep.WARNING,
        EscalationStep.OVERDUE,
        EscalationStep.REMINDER,
        EscalationStep.REMINDER,
        EscalationStep.SUPERVISION,
    ]
    assert steps.count(EscalationStep.SUPERVISION) == 1
    assert set(steps[5:]) == {EscalationStep.REMINDER}

    overdue = [r.working_days_overdue for r in rungs]
    assert overdue == [0, 0, *range(1, 11), *range(15, 61, 5)]
    assert len(rungs) == 22

    expected_times = {
        0: midnight_after(date(2025, 11, 7)),  # warning: end of the 4th working day (Friday)
        1: midnight_after(date(2025, 11, 10)),  # overdue: the deadline
        2: midnight_after(date(2025, 11, 11)),  # 1 working day overdue
        3: midnight_after(date(2025, 11, 12)),
        4: midnight_after(date(2025, 11, 13)),  # 督办 at 3 working days overdue
        5: midnight_after(date(2025, 11, 14)),
        6: midnight_after(date(2025, 11, 17)),  # skips the weekend
        11: midnight_after(date(2025, 11, 24)),  # 10 overdue, the last daily reminder
        12: midnight_after(date(2025, 12, 1)),  # 15 overdue, slow reminders every 5
    }
    for index, at in expected_times.items():
        assert rungs[index].at == at, index
    assert rungs[1].at == plan.deadline
    assert not plan.calendar_fallback


def test_ladder_times_cross_golden_week(acts: DeadlineActivities) -> None:
    plan = acts.plan_deadline(request(local(2025, 9, 26, 10), 5))
    at = {(r.step, r.working_days_overdue): r.at for r in plan.rungs}
    assert at[EscalationStep.WARNING, 0] == midnight_after(date(2025, 10, 9))
    assert at[EscalationStep.OVERDUE, 0] == midnight_after(date(2025, 10, 10))
    assert at[EscalationStep.REMINDER, 1] == midnight_after(date(2025, 10, 11))  # 调休 Saturday
    assert at[EscalationStep.REMINDER, 2] == midnight_after(date(2025, 10, 13))
    assert at[EscalationStep.SUPERVISION, 3] == midnight_after(date(2025, 10, 14))


def test_warning_inside_golden_week_start(acts: DeadlineActivities) -> None:
    # 5 days from Tuesday 09-30: Thu 10-09 #1 .. 10-11 (Sat) #3, Mon 13 #4, Tue 14 #5.
    plan = acts.plan_deadline(request(local(2025, 9, 30, 16), 5))
    assert plan.deadline == midnight_after(date(2025, 10, 14))
    assert plan.rungs[0].at == midnight_after(date(2025, 10, 13))


def test_no_warning_when_disabled(acts: DeadlineActivities) -> None:
    plan = acts.plan_deadline(request(local(2025, 11, 3, 10), 5, ladder_policy(warning_working_days_before=0)))
    assert plan.rungs[0].step is EscalationStep.OVERDUE
    assert plan.rungs[0].index == 0
    assert EscalationStep.WARNING not in {r.step for r in plan.rungs}


def test_warning_that_would_precede_the_start_is_immediate(acts: DeadlineActivities) -> None:
    start = local(2025, 11, 3, 10)
    plan = acts.plan_deadline(request(start, 1, ladder_policy(warning_working_days_before=3)))
    assert plan.rungs[0].step is EscalationStep.WARNING
    assert plan.rungs[0].at == start
    assert plan.rungs[1].at == midnight_after(date(2025, 11, 4))


def test_warning_one_day_before_a_one_day_matter(acts: DeadlineActivities) -> None:
    # Started on a working day: the warning is at the end of that day.
    plan = acts.plan_deadline(request(local(2025, 11, 3, 10), 1))
    assert plan.rungs[0].at == midnight_after(date(2025, 11, 3))
    # Started on a Sunday: the working day before the deadline has already ended, warn now.
    sunday = local(2025, 11, 2, 10)
    plan = acts.plan_deadline(request(sunday, 1))
    assert plan.rungs[0].at == sunday
    assert plan.deadline == midnight_after(date(2025, 11, 3))


def test_supervision_is_kept_when_reminders_skip_its_day(acts: DeadlineActivities) -> None:
    policy = ladder_policy(reminder_every_working_days=2, supervision_after_working_days=3)
    plan = acts.plan_deadline(request(local(2025, 11, 3, 10), 5, policy))
    after = [(r.working_days_overdue, r.step) for r in plan.rungs if r.step is not EscalationStep.WARNING]
    assert after[:5] == [
        (0, EscalationStep.OVERDUE),
        (2, EscalationStep.REMINDER),
        (3, EscalationStep.SUPERVISION),
        (4, EscalationStep.REMINDER),
        (6, EscalationStep.REMINDER),
    ]


def test_overdue_steps_default_ladder() -> None:
    steps = overdue_steps(LadderPolicy())
    assert [k for k, _ in steps] == [*range(1, 11), *range(15, MAX_WORKING_DAYS_OVERDUE + 1, 5)]
    assert dict(steps)[3] is EscalationStep.SUPERVISION
    assert [step for _, step in steps].count(EscalationStep.SUPERVISION) == 1


# --- rule-computed years and invalid input -----------------------------------------------------


def test_rule_year_plans_with_the_approximate_flag(acts: DeadlineActivities) -> None:
    with capture_logs() as logs:
        plan = acts.plan_deadline(request(local(2099, 1, 2, 10), 5))  # Friday
    assert plan.calendar_fallback
    assert plan.deadline == midnight_after(date(2099, 1, 9))
    assert [e["year"] for e in logs if e["event"] == "calendar_year_approximate"] == [2099]


def test_matter_pushed_before_spring_festival_2027(acts: DeadlineActivities) -> None:
    # Pushed Thursday 2027-01-28 with 5 working days: Fri 29, Mon 1 .. Thu 4 Feb; 除夕 is Friday 02-05.
    # 春节 by rule (02-05..02-08, 补休 02-09 and 02-10) holds back the first reminder until Thursday 02-11.
    with capture_logs():
        plan = acts.plan_deadline(request(local(2027, 1, 28, 10), 5))
    assert plan.calendar_fallback
    assert plan.deadline == midnight_after(date(2027, 2, 4))
    by_step = [(rung.step, rung.working_days_overdue, rung.at) for rung in plan.rungs[:4]]
    assert by_step == [
        (EscalationStep.WARNING, 0, midnight_after(date(2027, 2, 3))),
        (EscalationStep.OVERDUE, 0, midnight_after(date(2027, 2, 4))),
        (EscalationStep.REMINDER, 1, midnight_after(date(2027, 2, 11))),
        (EscalationStep.REMINDER, 2, midnight_after(date(2027, 2, 12))),
    ]


def test_override_year_is_not_approximate() -> None:
    override = parse_override({2099: {"holidays": ["2099-01-05..2099-01-07"]}})
    acts = DeadlineActivities(WorkingDayCalendar(override))
    plan = acts.plan_deadline(request(local(2099, 1, 2, 10), 2))  # Fri: Mon-Wed off -> Thu 8, Fri 9
    assert plan.deadline == midnight_after(date(2099, 1, 9))
    assert not plan.calendar_fallback


@pytest.mark.parametrize(
    ("req", "problem"),
    [
        (request(datetime(2025, 11, 3, 10), 5), "start must be timezone-aware"),
        (request(local(2025, 11, 3, 10), -1), "must be >= 0"),
        (request(local(2025, 11, 3, 10), 5, Policy(timezone="Mars/Olympus")), "unknown time zone"),
    ],
)
def test_invalid_requests_are_not_retried(acts: DeadlineActivities, req: DeadlineRequest, problem: str) -> None:
    with pytest.raises(ApplicationError, match=problem) as err:
        acts.plan_deadline(req)
    assert err.value.non_retryable
    assert err.value.type == INVALID_DEADLINE_REQUEST
    with pytest.raises(ApplicationError, match=problem):
        acts.deadline_of(req)


# --- 补正: pause and resume -----------------------------------------------------------------------


def test_remaining_after_a_pause(acts: DeadlineActivities) -> None:
    # Deadline 11-11 00:00 (last working day Monday 11-10). Paused Wednesday 11-05 15:00:
    # Thu 6, Fri 7, Mon 10 are left.
    deadline = acts.plan_deadline(request(local(2025, 11, 3, 10), 5)).deadline
    left = acts.remaining_working_days(remaining(local(2025, 11, 5, 15), deadline))
    assert left.working_days == 3
    assert not left.calendar_fallback
    # Materials arrive Monday 11-17 09:00: the clock restarts with 3 days -> Tue 18, Wed 19, Thu 20.
    resumed = acts.plan_deadline(request(local(2025, 11, 17, 9), left.working_days))
    assert resumed.deadline == midnight_after(date(2025, 11, 20))


def test_paused_on_the_start_day_keeps_every_day(acts: DeadlineActivities) -> None:
    deadline = acts.plan_deadline(request(local(2025, 9, 26, 10), 5)).deadline
    assert acts.remaining_working_days(remaining(local(2025, 9, 26, 18), deadline)).working_days == 5


def test_remaining_across_golden_week(acts: DeadlineActivities) -> None:
    # Deadline 10-11 00:00; paused Monday 09-29: Tue 09-30, Thu 10-09, Fri 10-10 are left.
    deadline = midnight_after(date(2025, 10, 10))
    assert acts.remaining_working_days(remaining(local(2025, 9, 29, 11), deadline)).working_days == 3


def test_paused_on_the_last_day_gets_it_back_and_overdue_gets_nothing(acts: DeadlineActivities) -> None:
    deadline = midnight_after(date(2025, 11, 10))
    assert acts.remaining_working_days(remaining(local(2025, 11, 10, 16), deadline)).working_days == 1
    assert acts.remaining_working_days(remaining(local(2025, 11, 10, 23, 59), deadline)).working_days == 1
    late = acts.remaining_working_days(remaining(local(2025, 11, 12, 9), deadline))
    assert late.working_days == 0 and late.overdue


def test_a_matter_resumed_overdue_is_late_at_once_and_its_ladder_goes_on(acts: DeadlineActivities) -> None:
    # Two working days overdue when 补正 was asked; materials arrive Friday 2025-11-14 10:00.
    plan = acts.plan_deadline(DeadlineRequest(
        case_number="GY-2025-000123", matter=MATTER, start=local(2025, 11, 14, 10), working_days=0,
        timezone=POLICY.timezone, ladder=POLICY.ladder, already_overdue=2,
    ))
    assert plan.deadline == local(2025, 11, 14, 10)
    steps = [(rung.step, rung.working_days_overdue, rung.at) for rung in plan.rungs[:3]]
    assert steps == [
        (EscalationStep.OVERDUE, 0, local(2025, 11, 14, 10)),
        # The 3rd working day overdue is the first after the resume (Monday 11-17): 督办.
        (EscalationStep.SUPERVISION, 3, midnight_after(date(2025, 11, 17))),
        (EscalationStep.REMINDER, 4, midnight_after(date(2025, 11, 18))),
    ]
    assert all(rung.step != EscalationStep.WARNING for rung in plan.rungs)


def test_remaining_uses_local_dates(acts: DeadlineActivities) -> None:
    deadline = midnight_after(date(2025, 11, 10))
    # 2025-11-06 16:30 UTC is Friday 11-07 00:30 local: only Monday 11-10 is left.
    paused = datetime(2025, 11, 6, 16, 30, tzinfo=UTC)
    assert acts.remaining_working_days(remaining(paused, deadline)).working_days == 1


def test_remaining_in_a_rule_year_sets_the_flag(acts: DeadlineActivities) -> None:
    with capture_logs():
        left = acts.remaining_working_days(remaining(local(2099, 1, 5, 9), midnight_after(date(2099, 1, 9))))
    assert left.working_days == 4
    assert left.calendar_fallback


def test_remaining_rejects_a_naive_time(acts: DeadlineActivities) -> None:
    with pytest.raises(ApplicationError, match="paused_at must be timezone-aware") as err:
        acts.remaining_working_days(remaining(datetime(2025, 11, 5, 15), midnight_after(date(2025, 11, 10))))
    assert err.value.non_retryable


async def test_a_reminder_waits_for_a_working_day_and_counts_working_days() -> None:
    """清明 2026 is Saturday 4 to Monday 6 April: a wait begun on Thursday 2 April reaches its third working
    day on Wednesday the 8th; reminders then go out at 09:00 on each working day after, counting on."""
    activities = DeadlineActivities(WorkingDayCalendar())
    since = local(2026, 4, 2, 10)
    plans = [await activities.plan_reminder(ReminderRequest(since=since, first_after=3, every=1, sent=sent,
                                                            timezone="Asia/Shanghai")) for sent in range(4)]
    assert [p.at for p in plans] == [local(2026, 4, 9, 9), local(2026, 4, 10, 9), local(2026, 4, 13, 9),
                                     local(2026, 4, 14, 9)]
    assert [p.working_days for p in plans] == [3, 4, 5, 6]
