"""承诺时限 and the escalation ladder (docs/domain.md, "The escalation ladder"), driven in virtual time on the
session dev server.

Every expectation comes from the deadline activities called with the start the workflow recorded, so
the tests hold on any real date (weekends, holidays and the calendar's fallback included).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.worker import Worker

from activities.calendar import WorkingDayCalendar
from client.operations import supplement
from domain.enums import CaseState, DecisionKind, EscalationStep, MatterCode, MatterState
from domain.models import MaterialsSupplementedInput, MatterView, StatusSnapshot
from runtime.keys import Keys
from tests.workflows import timeskip as ts
from tests.workflows.helpers import approve, matter_handle, status, view_of, wait_for

NHSA = MatterCode.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT  # 医保局, 5 working days
HPF = MatterCode.PROVIDENT_FUND_DEATH_WITHDRAWAL  # 住房公积金中心, 3 working days

WARN, OVER = EscalationStep.WARNING, EscalationStep.OVERDUE
REMIND, SUPER = EscalationStep.REMINDER, EscalationStep.SUPERVISION

# A timer due at a rung fires within about a second of it (the dev server's timer processing).
LATE = timedelta(seconds=30)


async def matter_view(handle: WorkflowHandle[Any, Any]) -> MatterView:
    snap = await status(handle)
    assert len(snap.matters) == 1
    return snap.matters[0]


def fired_at(snap: StatusSnapshot, prefix: str) -> list[datetime]:
    """When the matter recorded each timeline event starting with ``prefix`` (预警, 超时, 催办, 督办)."""
    return [entry.at for entry in snap.timeline if entry.event.startswith(prefix)]


def at_rung(times: list[datetime], at: datetime) -> bool:
    return len(times) == 1 and at <= times[0] < at + LATE


async def test_fast_forward_moves_only_the_matter(
    client: Client, keys: Keys, task_queue: str, worker: Worker, engine: Engine, calendar: WorkingDayCalendar
) -> None:
    """The recipe: the matter's clock jumps, its activities and its report to the case still run, and the
    case stays in real time."""
    skipper = ts.time_skipper(client)
    handle, snap = await ts.pushed_case(skipper, keys, task_queue, HPF)
    view = view_of(snap, HPF)
    assert view.pushed_at is not None
    plan = ts.plan(calendar, handle.id, HPF, view.pushed_at, 3)
    assert view.deadline == plan.deadline
    warning = ts.rung(plan, WARN)
    matter = matter_handle(skipper.client, handle.id, HPF)

    await ts.advance_to(skipper, matter, warning.at + ts.MARGIN)

    assert await ts.virtual_now(skipper, matter) >= warning.at + ts.MARGIN
    case_now = await ts.virtual_now(skipper, handle)
    assert abs(case_now - datetime.now(UTC)) < timedelta(minutes=1), "the case's clock must not move"
    matter_snap = await status(matter)
    assert at_rung(fired_at(matter_snap, "预警"), warning.at)  # workflow.now() inside the matter jumped
    assert ts.row_keys(ts.ladder_rows(engine, handle.id, HPF)) == [
        ("deadline_warning", "department", "0/warning/0")]  # the record activity ran
    case_snap = await wait_for(handle, lambda s: view_of(s, HPF).escalations == (WARN,))  # the signal to the case
    assert [e.at for e in case_snap.timeline if e.event.startswith("预警")] == fired_at(matter_snap, "预警")
    assert case_snap.case_state == CaseState.IN_PROGRESS


async def test_each_ladder_step_fires_once_at_its_time_until_the_decision(
    client: Client, keys: Keys, task_queue: str, worker: Worker, engine: Engine, calendar: WorkingDayCalendar
) -> None:
    skipper = ts.time_skipper(client)
    handle, snap = await ts.pushed_case(skipper, keys, task_queue, NHSA)
    view = view_of(snap, NHSA)
    assert view.pushed_at is not None and view.time_limit_working_days == 5
    plan = ts.plan(calendar, handle.id, NHSA, view.pushed_at, 5)
    assert view.deadline == plan.deadline
    assert view.calendar_fallback == plan.calendar_fallback
    assert ts.rung(plan, OVER).at == plan.deadline
    matter = matter_handle(skipper.client, handle.id, NHSA)

    def rows() -> list[tuple[str, str, str]]:
        return ts.row_keys(ts.ladder_rows(engine, handle.id, NHSA))

    # Just before the warning: nothing.
    await ts.advance_to(skipper, matter, ts.rung(plan, WARN).at - ts.MARGIN)
    current = await matter_view(matter)
    assert current.escalations == () and current.escalation_level == 0 and not current.overdue
    assert rows() == []

    # 预警 one working day before the deadline, to the department.
    await ts.advance_to(skipper, matter, ts.rung(plan, WARN).at + ts.MARGIN)
    current = await matter_view(matter)
    assert current.escalations == (WARN,)
    assert current.escalation_level == 1 and not current.overdue and current.working_days_overdue == 0
    expected = [("deadline_warning", "department", "0/warning/0")]
    assert rows() == expected

    # 超时 at the deadline: overdue everywhere, the department head told.
    await ts.advance_to(skipper, matter, plan.deadline + ts.MARGIN)
    current = await matter_view(matter)
    assert current.escalations == (WARN, OVER)
    assert current.overdue and current.escalation_level == 2 and current.working_days_overdue == 0
    expected.append(("deadline_overdue", "department_head", "0/overdue/0"))
    assert rows() == expected

    # A reminder each further working day.
    for k in (1, 2):
        await ts.advance_to(skipper, matter, ts.rung(plan, REMIND, k).at + ts.MARGIN)
        current = await matter_view(matter)
        assert current.escalations == (WARN, OVER, *[REMIND] * k)
        assert current.overdue and current.escalation_level == 3 and current.working_days_overdue == k
        expected.append(("deadline_reminder", "department_head", f"0/reminder/{k}"))
        assert rows() == expected

    # 督办 at three working days overdue: the supervisor (县政务服务局) and the department head.
    await ts.advance_to(skipper, matter, ts.rung(plan, SUPER, 3).at + ts.MARGIN)
    current = await matter_view(matter)
    assert current.escalations == (WARN, OVER, REMIND, REMIND, SUPER)
    assert current.escalation_level == 4 and current.working_days_overdue == 3
    expected += [
        ("supervision", "supervisor", "0/supervision/3"),
        ("supervision", "department_head", "0/supervision/3"),
    ]
    assert rows() == expected

    # Further fast-forwards fire only what is newly due: the 4th reminder, nothing twice.
    await ts.advance_to(skipper, matter, ts.rung(plan, REMIND, 4).at + ts.MARGIN)
    await ts.advance(skipper, matter, timedelta(minutes=1))
    current = await matter_view(matter)
    assert current.escalations == (WARN, OVER, REMIND, REMIND, SUPER, REMIND)
    assert current.escalation_level == 4 and current.working_days_overdue == 4
    expected.append(("deadline_reminder", "department_head", "0/reminder/4"))
    assert rows() == expected

    # Each step at its rung's virtual time, and once in the audit trail.
    matter_snap = await status(matter)
    assert at_rung(fired_at(matter_snap, "预警"), ts.rung(plan, WARN).at)
    assert at_rung(fired_at(matter_snap, "超时"), plan.deadline)
    assert at_rung(fired_at(matter_snap, "督办"), ts.rung(plan, SUPER, 3).at)
    reminders = fired_at(matter_snap, "催办")
    assert len(reminders) == 3
    for k, at in zip((1, 2, 4), reminders, strict=True):
        assert ts.rung(plan, REMIND, k).at <= at < ts.rung(plan, REMIND, k).at + LATE
    audit = ts.audit_events(engine, handle.id, NHSA)
    assert [sum(e.startswith(p) for e in audit) for p in ("预警", "超时", "催办", "督办")] == [1, 1, 3, 1]
    # The case shows the same ladder (the matter reported every step).
    await wait_for(handle, lambda s: view_of(s, NHSA).escalations == current.escalations
                   and view_of(s, NHSA).overdue and view_of(s, NHSA).escalation_level == 4)

    # The decision stops the ladder: approved, paid, closed; no escalation after it.
    await approve(skipper.client, handle.id, current)
    result = await handle.result()
    assert result.state == CaseState.COMPLETED
    final = await matter_view(matter)
    assert final.state == MatterState.PAID and final.final
    assert not final.overdue and final.escalation_level == 0
    assert final.escalations == current.escalations  # the history stays
    assert rows() == expected
    assert (await matter.describe()).status == WorkflowExecutionStatus.COMPLETED


async def test_materials_request_stops_the_clock_and_resumes_with_remaining_days(
    client: Client, keys: Keys, task_queue: str, worker: Worker, engine: Engine, calendar: WorkingDayCalendar
) -> None:
    skipper = ts.time_skipper(client)
    handle, snap = await ts.pushed_case(skipper, keys, task_queue, NHSA)
    view = view_of(snap, NHSA)
    assert view.pushed_at is not None
    plan = ts.plan(calendar, handle.id, NHSA, view.pushed_at, 5)
    matter = matter_handle(skipper.client, handle.id, NHSA)

    # 补正 requested shortly before the warning would fire.
    await ts.advance_to(skipper, matter, ts.rung(plan, WARN).at - ts.MARGIN)
    await matter.signal("request_materials", {"officer": "李科员", "items": ["银行卡复印件"]})
    paused = (await wait_for(matter, lambda s: s.matters[0].state == MatterState.AWAITING_MATERIALS)).matters[0]
    # The case's copy follows once the matter has recorded the change; the case checks 补正 against it.
    await wait_for(handle, lambda s: view_of(s, NHSA).state == MatterState.AWAITING_MATERIALS)
    assert len(paused.pauses) == 1
    pause = paused.pauses[0]
    assert ts.rung(plan, WARN).at - ts.MARGIN <= pause.started_at < ts.rung(plan, WARN).at
    left = ts.remaining(calendar, handle.id, NHSA, pause.started_at, plan.deadline).working_days
    assert pause.remaining_working_days == left and pause.ended_at is None
    assert paused.deadline is None and not paused.overdue

    # Ten days pass: past the old warning and deadline, yet the ladder stays silent.
    await ts.advance(skipper, matter, timedelta(days=10))
    waiting = await matter_view(matter)
    assert waiting.state == MatterState.AWAITING_MATERIALS
    assert waiting.escalations == () and not waiting.overdue and waiting.escalation_level == 0
    assert ts.ladder_rows(engine, handle.id, NHSA) == []
    kinds = ts.outbox_kinds(engine, handle.id, NHSA)
    assert kinds.count(("materials_requested", "family")) == 1
    assert kinds.count(("materials_reminder", "family")) == 1  # the family is reminded weekly instead

    # The materials arrive: the clock resumes with the remaining working days from now.
    ack = await supplement(skipper.client, handle.id, MaterialsSupplementedInput(matter=NHSA, items=["银行卡复印件"]))
    assert ack.state == MatterState.UNDER_REVIEW
    resumed = await matter_view(matter)
    pause = resumed.pauses[0]
    assert pause.ended_at is not None and pause.remaining_working_days == left
    assert pause.started_at + timedelta(days=10) <= pause.ended_at < pause.started_at + timedelta(days=10, minutes=5)
    new_plan = ts.plan(calendar, handle.id, NHSA, pause.ended_at, left)
    assert resumed.deadline == new_plan.deadline > plan.deadline
    assert [d.kind for d in resumed.decisions] == [DecisionKind.REQUEST_MATERIALS, DecisionKind.MATERIALS_SUPPLEMENTED]
    case_view = view_of(await wait_for(handle, lambda s: view_of(s, NHSA).state == MatterState.UNDER_REVIEW), NHSA)
    assert case_view.pauses == resumed.pauses and case_view.deadline == resumed.deadline

    # The ladder runs on the new deadline. Resumed on a weekend or holiday with a day or less left, the
    # matter is already inside its warning window and warns at once: moving its clock then would race it.
    if ts.rung(new_plan, WARN).at > pause.ended_at:
        await ts.advance_to(skipper, matter, ts.rung(new_plan, WARN).at + ts.MARGIN)
    # The timer has fired; on a loaded machine the matter records it a moment later.
    warned = await wait_for(matter, lambda s: s.matters[0].escalations != ())
    assert warned.matters[0].escalations == (WARN,)
    assert at_rung(fired_at(warned, "预警"), ts.rung(new_plan, WARN).at)
    # (Whatever generation of the ladder the resumed plan is numbered.)
    assert [(kind, to) for kind, to, _ in ts.row_keys(ts.ladder_rows(engine, handle.id, NHSA))] == [
        ("deadline_warning", "department")]


async def test_a_matter_overdue_before_its_pause_stays_late_and_its_ladder_goes_on(
    client: Client, keys: Keys, task_queue: str, worker: Worker, engine: Engine, calendar: WorkingDayCalendar
) -> None:
    """补正 stops the clock but does not excuse lateness: a matter already overdue keeps its flags through the
    pause, and on resume (no working days left) its ladder continues with the next step, never a second 超时."""
    skipper = ts.time_skipper(client)
    handle, snap = await ts.pushed_case(skipper, keys, task_queue, HPF)
    view = view_of(snap, HPF)
    assert view.pushed_at is not None
    plan = ts.plan(calendar, handle.id, HPF, view.pushed_at, 3)
    matter = matter_handle(skipper.client, handle.id, HPF)

    await ts.advance_to(skipper, matter, ts.rung(plan, REMIND, 1).at + ts.MARGIN)
    late = await matter_view(matter)
    assert late.escalations == (WARN, OVER, REMIND) and late.working_days_overdue == 1
    await matter.signal("request_materials", {"officer": "李科员", "items": ["亲属关系证明"]})
    paused = view_of(await wait_for(handle, lambda s: view_of(s, HPF).state == MatterState.AWAITING_MATERIALS), HPF)
    assert paused.overdue and paused.working_days_overdue == 1 and paused.escalation_level == 3
    assert paused.pauses[0].remaining_working_days == 0
    # A week passes while the family fetches the papers: the clock stands still, nothing escalates.
    await ts.advance(skipper, matter, timedelta(days=7))
    assert (await matter_view(matter)).escalations == (WARN, OVER, REMIND)

    await supplement(skipper.client, handle.id, MaterialsSupplementedInput(matter=HPF, items=["亲属关系证明"]))
    resumed = await matter_view(matter)
    pause = resumed.pauses[0]
    assert pause.ended_at is not None
    assert resumed.overdue and resumed.working_days_overdue == 1, "overdue again at once"
    continued = ts.plan(calendar, handle.id, HPF, pause.ended_at, 0, already_overdue=1)
    # The next step is the 2nd working day overdue, counted from the resume; then 督办 at the 3rd.
    await ts.advance_to(skipper, matter, ts.rung(continued, SUPER, 3).at + ts.MARGIN)
    current = await matter_view(matter)
    assert current.escalations == (WARN, OVER, REMIND, REMIND, SUPER)
    assert current.working_days_overdue == 3 and current.escalation_level == 4
    overdue_rows = [r for r in ts.row_keys(ts.ladder_rows(engine, handle.id, HPF)) if r[0] == "deadline_overdue"]
    assert len(overdue_rows) == 1, overdue_rows
    assert at_rung(fired_at(await status(matter), "督办"), ts.rung(continued, SUPER, 3).at)


async def test_extension_moves_the_deadline_and_bad_input_is_refused(
    client: Client, keys: Keys, task_queue: str, worker: Worker, engine: Engine, calendar: WorkingDayCalendar
) -> None:
    skipper = ts.time_skipper(client)
    handle, snap = await ts.pushed_case(skipper, keys, task_queue, NHSA)
    view = view_of(snap, NHSA)
    assert view.pushed_at is not None and view.deadline is not None
    old_deadline = view.deadline
    matter = matter_handle(skipper.client, handle.id, NHSA)

    bad: list[Any] = [
        {"supervisor": "张主任", "working_days": 0, "reason": "路途较远"},
        {"supervisor": "张主任", "working_days": 3},
        {"supervisor": "张主任", "working_days": "三个工作日", "reason": "路途较远"},
        "延长三个工作日",
    ]
    for payload in bad:
        await matter.signal("extend_deadline", payload)
    refused = (await wait_for(matter, lambda s: len(s.matters[0].refused_actions) == len(bad))).matters[0]
    assert [r.action for r in refused.refused_actions] == ["extend_deadline"] * len(bad)
    reasons = [r.reason for r in refused.refused_actions]
    assert "过小" in reasons[0] and "缺少原因" in reasons[1] and "应为整数" in reasons[2]
    assert "JSON对象" in reasons[3]
    assert refused.deadline == old_deadline and refused.decisions == ()

    reason = "家属在外地，补充材料需要时间"
    await matter.signal("extend_deadline", {"supervisor": "张主任", "working_days": 3, "reason": reason})
    extended = (await wait_for(matter, lambda s: s.matters[0].deadline != old_deadline)).matters[0]
    new_plan = ts.plan(calendar, handle.id, NHSA, old_deadline - timedelta(microseconds=1), 3)
    assert extended.deadline == new_plan.deadline
    (decision,) = extended.decisions
    # The embedded default: the typed name on the county's list, shown as unverified.
    assert decision.kind == DecisionKind.EXTEND_DEADLINE and decision.by == "张主任（未核验身份）"
    assert decision.working_days == 3 and decision.reason == reason
    assert len(extended.refused_actions) == len(bad)
    case_view = view_of(await wait_for(handle, lambda s: view_of(s, NHSA).deadline == new_plan.deadline), NHSA)
    assert case_view.decisions == extended.decisions

    # The old deadline passes quietly; the new one escalates (a new generation of the ladder).
    await ts.advance_to(skipper, matter, old_deadline + ts.MARGIN)
    quiet = await matter_view(matter)
    assert quiet.escalations == () and not quiet.overdue
    assert ts.ladder_rows(engine, handle.id, NHSA) == []
    await ts.advance_to(skipper, matter, new_plan.deadline + ts.MARGIN)
    late = await matter_view(matter)
    assert late.escalations == (WARN, OVER) and late.overdue
    assert ts.row_keys(ts.ladder_rows(engine, handle.id, NHSA)) == [
        ("deadline_warning", "department", "1/warning/0"),
        ("deadline_overdue", "department_head", "1/overdue/0"),
    ]


async def test_extension_of_an_overdue_matter_clears_it_and_restarts_the_ladder(
    client: Client, keys: Keys, task_queue: str, worker: Worker, engine: Engine, calendar: WorkingDayCalendar
) -> None:
    skipper = ts.time_skipper(client)
    handle, snap = await ts.pushed_case(skipper, keys, task_queue, HPF)
    view = view_of(snap, HPF)
    assert view.pushed_at is not None
    plan = ts.plan(calendar, handle.id, HPF, view.pushed_at, 3)
    matter = matter_handle(skipper.client, handle.id, HPF)

    await ts.advance_to(skipper, matter, plan.deadline + ts.MARGIN)
    assert (await matter_view(matter)).overdue
    await matter.signal("extend_deadline", {"supervisor": "张主任", "working_days": 3, "reason": "系统故障顺延"})
    extended = (await wait_for(matter, lambda s: s.matters[0].deadline != plan.deadline)).matters[0]
    new_plan = ts.plan(calendar, handle.id, HPF, plan.deadline - timedelta(microseconds=1), 3)
    assert extended.deadline == new_plan.deadline
    assert not extended.overdue and extended.escalation_level == 0 and extended.working_days_overdue == 0
    assert extended.escalations == (WARN, OVER)  # the history stays

    await ts.advance_to(skipper, matter, new_plan.deadline + ts.MARGIN)
    late = await matter_view(matter)
    assert late.overdue and late.escalations == (WARN, OVER, WARN, OVER)
    assert ts.row_keys(ts.ladder_rows(engine, handle.id, HPF)) == [
        ("deadline_warning", "department", "0/warning/0"),
        ("deadline_overdue", "department_head", "0/overdue/0"),
        ("deadline_warning", "department", "1/warning/0"),
        ("deadline_overdue", "department_head", "1/overdue/0"),
    ]
