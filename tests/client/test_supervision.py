"""The supervisor's overdue view (client.supervision): one visibility query over every open matter, and the
same listing from the case register.

Matters are brought to their states in virtual time, each on its own clock, all at once; the session
server is shared, so results are narrowed to this test's own cases.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import TimeSkipper
from temporalio.worker import Worker

from activities.calendar import WorkingDayCalendar
from client.supervision import OverdueItem, list_overdue, list_overdue_in_register, overdue_query
from domain.catalogue import DEPARTMENT_NAMES
from domain.enums import Department, EscalationStep, MatterCode, MatterState
from domain.models import DeadlinePlan
from domain.policy import Policy
from runtime.keys import Keys
from tests.workflows import timeskip as ts
from tests.workflows.helpers import matter_handle, status, view_of, wait_for

NHSA = MatterCode.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT  # 医保局, 5 working days
HPF = MatterCode.PROVIDENT_FUND_DEATH_WITHDRAWAL  # 住房公积金中心, 3
DPF = MatterCode.DISABILITY_SUBSIDY_TERMINATION  # 残联, 5
MCA = MatterCode.SOCIAL_ASSISTANCE_TERMINATION  # 民政局, 5
VA = MatterCode.PREFERENTIAL_BENEFIT_TERMINATION  # 退役军人事务局, 10

WARN, OVER = EscalationStep.WARNING, EscalationStep.OVERDUE
REMIND, SUPER = EscalationStep.REMINDER, EscalationStep.SUPERVISION

Key = tuple[str, MatterCode]


class Matters:
    """This test's cases: plans and handles by (case number, matter)."""

    def __init__(self, skipper: TimeSkipper, calendar: WorkingDayCalendar) -> None:
        self.skipper = skipper
        self.calendar = calendar
        self.plans: dict[Key, DeadlinePlan] = {}
        self.cases: list[str] = []

    async def case(self, keys: Keys, task_queue: str, *codes: MatterCode) -> str:
        handle, snap = await ts.pushed_case(self.skipper, keys, task_queue, *codes)
        for code in codes:
            view = view_of(snap, code)
            assert view.pushed_at is not None
            plan = ts.plan(self.calendar, handle.id, code, view.pushed_at, view.time_limit_working_days)
            assert view.deadline == plan.deadline
            self.plans[(handle.id, code)] = plan
        self.cases.append(handle.id)
        return handle.id

    def handle(self, key: Key) -> WorkflowHandle[Any, Any]:
        return matter_handle(self.skipper.client, *key)

    async def past(self, key: Key, step: EscalationStep, working_days_overdue: int = 0) -> None:
        """Move the matter just past one rung of its ladder (firing every rung up to it)."""
        at = ts.rung(self.plans[key], step, working_days_overdue).at
        await ts.advance_to(self.skipper, self.handle(key), at + ts.MARGIN)

    async def pause(self, key: Key) -> None:
        handle = self.handle(key)
        await handle.signal("request_materials", {"officer": "李科员", "items": ["户口本复印件"]})
        await wait_for(handle, lambda s: s.matters[0].state == MatterState.AWAITING_MATERIALS)

    def deadline(self, key: Key) -> datetime:
        return self.plans[key].deadline


def mine(items: list[OverdueItem], cases: list[str]) -> list[OverdueItem]:
    return [item for item in items if item.case_number in cases]


async def listed(
    client: Client, cases: list[str], expected: list[Key], department: Department | None = None,
    *, at_risk: bool = False,
) -> list[OverdueItem]:
    """list_overdue narrowed to ``cases``, once it shows ``expected`` (visibility is eventually consistent)."""
    async def probe() -> list[OverdueItem]:
        return mine(await list_overdue(client, Policy(), department, at_risk=at_risk), cases)

    return await ts.poll(probe, lambda items: [(i.case_number, i.matter) for i in items] == expected)


async def test_overdue_and_at_risk_lists(
    client: Client, keys: Keys, task_queue: str, worker: Worker, calendar: WorkingDayCalendar
) -> None:
    m = Matters(ts.time_skipper(client), calendar)
    c1, c2, c3, c4, c5, c6 = await asyncio.gather(
        m.case(keys, task_queue, HPF, NHSA),
        m.case(keys, task_queue, DPF, MCA),
        m.case(keys, task_queue, HPF),
        m.case(keys, task_queue, NHSA),
        m.case(keys, task_queue, HPF),
        m.case(keys, task_queue, VA),
    )

    async def paused_after(key: Key, step: EscalationStep) -> None:
        await m.past(key, step)
        await m.pause(key)

    await asyncio.gather(
        m.past((c1, HPF), REMIND, 2),  # 2 working days overdue
        m.past((c1, NHSA), WARN),  # at risk
        m.past((c2, DPF), SUPER, 3),  # 督办, 3 working days overdue; c2's 民政 matter stays fresh
        m.past((c3, HPF), OVER),  # overdue today, earlier deadline than c4's
        m.past((c4, NHSA), OVER),  # overdue today
        paused_after((c5, HPF), OVER),  # overdue, now 补正: the clock stopped, but it stays late
        paused_after((c6, VA), WARN),  # was at risk, now 补正: the clock stopped
    )
    cases = m.cases

    # A pause for 补正 does not take a late matter off the list (no deadline while its clock stands still).
    everything = await listed(client, cases, [(c2, DPF), (c1, HPF), (c3, HPF), (c4, NHSA), (c5, HPF)])
    assert [i.working_days_overdue for i in everything] == [3, 2, 0, 0, 0]
    assert [i.escalation_level for i in everything] == [4, 3, 2, 2, 2]
    assert [i.deadline for i in everything[:4]] == [m.deadline((i.case_number, i.matter)) for i in everything[:4]]
    assert everything[2].deadline is not None and everything[3].deadline is not None
    assert everything[2].deadline < everything[3].deadline and everything[4].deadline is None
    assert [i.state for i in everything] == [MatterState.UNDER_REVIEW] * 4 + [MatterState.AWAITING_MATERIALS]
    for item in everything:
        assert not item.manual_handling
        assert item.department_name == DEPARTMENT_NAMES[item.department]
        view = (await status(m.handle((item.case_number, item.matter)))).matters[0]
        assert view.overdue and view.working_days_overdue == item.working_days_overdue

    hpf = await listed(client, cases, [(c1, HPF), (c3, HPF), (c5, HPF)], Department.HPF)
    assert [i.working_days_overdue for i in hpf] == [2, 0, 0]
    await listed(client, cases, [(c4, NHSA)], Department.NHSA)
    await listed(client, cases, [(c2, DPF)], Department.DPF)
    await listed(client, cases, [], Department.MCA)
    await listed(client, cases, [], Department.VA)

    risky = await listed(client, cases, [(c1, NHSA)], at_risk=True)
    assert risky[0].working_days_overdue == 0 and risky[0].escalation_level == 1
    assert risky[0].deadline == m.deadline((c1, NHSA))
    await listed(client, cases, [(c1, NHSA)], Department.NHSA, at_risk=True)
    await listed(client, cases, [], Department.HPF, at_risk=True)

    # The paused matters keep their history: the late one stays late, the warned one is not at risk while
    # its clock stands still.
    for key, steps, late, level in (((c5, HPF), (WARN, OVER), True, 2), ((c6, VA), (WARN,), False, 1)):
        view = (await status(m.handle(key))).matters[0]
        assert view.state == MatterState.AWAITING_MATERIALS and view.escalations == steps
        assert view.overdue == late and view.escalation_level == level


def test_query_text() -> None:
    """The same text works in the Web UI's workflow list filter."""
    assert overdue_query() == (
        "WorkflowType = 'MatterWorkflow' AND ExecutionStatus = 'Running'"
        " AND (ShenhouOverdue = true OR ShenhouManualHandling = true)"
    )
    assert overdue_query(Department.NHSA, at_risk=True) == (
        "WorkflowType = 'MatterWorkflow' AND ExecutionStatus = 'Running' AND ShenhouOverdue = false"
        " AND ShenhouEscalationLevel >= 1 AND ShenhouMatterState = '待审核' AND ShenhouDepartment = 'nhsa'"
    )


# --- the register tells the same as the engine -------------------------------------------------------------


async def test_the_register_and_the_engine_agree_on_what_is_overdue(
    client: Client, keys: Keys, task_queue: str, worker: Worker, calendar: WorkingDayCalendar, engine: Engine
) -> None:
    """After deadlines passed and moved (补正 and its end, a supervisor's extension, the clock left to run on
    after both), a manual-handling flag and decisions, the register's listing equals the engine's, item by
    item, overdue and at risk, for every department."""
    m = Matters(ts.time_skipper(client), calendar)
    c1, c2, c3, c4 = await asyncio.gather(
        m.case(keys, task_queue, HPF, NHSA),
        m.case(keys, task_queue, DPF, MCA),
        m.case(keys, task_queue, VA, DPF),
        m.case(keys, task_queue, NHSA, MCA),
    )
    skipper = m.skipper

    async def supplement(key: Key) -> None:
        case = skipper.client.get_workflow_handle(key[0])
        await case.signal("materials_supplemented", {"matter": key[1].value, "items": ["户口本复印件"]})
        await wait_for(m.handle(key), lambda s: s.matters[0].state == MatterState.UNDER_REVIEW)

    async def extend(key: Key) -> None:
        handle = m.handle(key)
        before = (await status(handle)).matters[0].deadline
        await handle.signal("extend_deadline", {"supervisor": "张主任", "working_days": 3, "reason": "需核查"})
        await wait_for(handle, lambda s: s.matters[0].deadline != before)

    async def paused_and_resumed(key: Key, step: EscalationStep, then: timedelta) -> None:
        await m.past(key, step)
        await m.pause(key)
        await ts.advance(skipper, m.handle(key), timedelta(days=3))  # the clock stands still meanwhile
        await supplement(key)
        await ts.advance(skipper, m.handle(key), then)

    async def extended(key: Key, step: EscalationStep, days_overdue: int, then: timedelta) -> None:
        await m.past(key, step, days_overdue)
        await extend(key)
        await ts.advance(skipper, m.handle(key), then)

    async def rejected_late(key: Key) -> None:
        await m.past(key, OVER)
        await m.handle(key).signal("reject", {"officer": "李科员", "reason": "不符合条件"})
        await wait_for(m.handle(key), lambda s: s.matters[0].final)

    async def paused(key: Key, step: EscalationStep) -> None:
        await m.past(key, step)
        await m.pause(key)

    await asyncio.gather(
        extended((c1, HPF), REMIND, 2, timedelta(days=10)),  # late, extended, late again on the new deadline
        m.past((c1, NHSA), WARN),  # at risk
        paused((c2, DPF), OVER),  # late, now 补正
        paused_and_resumed((c2, MCA), WARN, timedelta(days=7)),  # warned, paused, resumed, late after all
        paused_and_resumed((c3, VA), OVER, timedelta(days=0)),  # late, paused, resumed with its days counted
        rejected_late((c3, DPF)),  # late, then decided: off both lists
        extended((c4, NHSA), WARN, 0, timedelta(days=0)),  # at risk, extended: no longer
        m.past((c4, MCA), SUPER, 3),  # 督办
    )
    cases = m.cases
    keys_ = [(c1, HPF), (c1, NHSA), (c2, DPF), (c2, MCA), (c3, VA), (c3, DPF), (c4, NHSA), (c4, MCA)]

    Row = tuple[str, MatterCode, MatterState, int, int, bool]

    def rows(items: list[OverdueItem]) -> list[Row]:
        return sorted((i.case_number, i.matter, i.state, i.working_days_overdue, i.escalation_level,
                       i.manual_handling) for i in items)

    async def told(at_risk: bool) -> list[Row]:
        """What the matters themselves say (their status query) should be listed."""
        views = [(await status(m.handle(key))).matters[0] for key in keys_]
        if at_risk:
            chosen = [v for v in views if not v.final and not v.overdue and v.escalation_level >= 1
                      and v.state == MatterState.UNDER_REVIEW]
        else:
            chosen = [v for v in views if not v.final and (v.overdue or v.manual_handling is not None)]
        return sorted((v.case_number, v.code, v.state, v.working_days_overdue, v.escalation_level,
                       v.manual_handling is not None) for v in chosen)

    Three = tuple[list[OverdueItem], list[OverdueItem], list[Row]]

    async def three(department: Department | None, at_risk: bool) -> Three:
        in_engine = mine(await list_overdue(client, Policy(), department, at_risk=at_risk), cases)
        in_register = list_overdue_in_register(engine, Policy(), department, at_risk=at_risk)
        expected = await told(at_risk)
        if department is not None:
            expected = [row for row in expected if Policy().matter(row[1]).department == department]
        return in_engine, in_register, expected

    def agree(found: Three) -> bool:
        in_engine, in_register, expected = found
        return in_engine == in_register and rows(in_engine) == expected

    # The engine's visibility and the register's rows follow a matter's change a moment later; the matters
    # may still be handling what their fast-forward made due. All three must tell the same at once.
    everything, _, _ = await ts.poll(lambda: three(None, False), agree, timeout=30)
    risky, _, _ = await ts.poll(lambda: three(None, True), agree, timeout=30)
    listed = {(i.case_number, i.matter) for i in everything}
    assert {(c1, HPF), (c2, DPF), (c2, MCA), (c3, VA), (c4, MCA)} <= listed, listed
    assert (c3, DPF) not in listed and (c1, NHSA) in {(i.case_number, i.matter) for i in risky}
    assert any(i.state == MatterState.AWAITING_MATERIALS for i in everything)
    moved = next(i for i in everything if (i.case_number, i.matter) == (c1, HPF))
    assert moved.deadline is not None and moved.deadline > m.deadline((c1, HPF))
    for department in Department:
        for at_risk in (False, True):
            await ts.poll(lambda d=department, r=at_risk: three(d, r), agree)  # type: ignore[misc]


async def test_the_register_listing_marks_manual_handling_and_finds_it_after_an_upgrade(engine: Engine) -> None:
    """A matter handed to a person is listed from the register; rows written before the column existed get
    it from the view they hold when the worker extends the schema."""
    from sqlalchemy import text
    from sqlmodel import Session

    from register.engine import create_schema
    from register.tables import MatterRow

    now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    with Session(engine) as session:
        session.add(MatterRow(case_number="SH-MANUAL", matter=NHSA.value, department="nhsa",
                              state=MatterState.UNDER_REVIEW.value, deadline=now, manual_handling=True,
                              view={"manual_handling": "推送失败，请人工处理"}, updated_at=now))
        session.add(MatterRow(case_number="SH-MANUAL", matter=HPF.value, department="hpf",
                              state=MatterState.UNDER_REVIEW.value, deadline=now, view={}, updated_at=now))
        session.commit()
    [item] = list_overdue_in_register(engine, Policy())
    assert (item.case_number, item.matter, item.manual_handling) == ("SH-MANUAL", NHSA, True)
    assert item.deadline == now and item.working_days_overdue == 0

    # A register from before the column: dropped, then the worker's start adds it back and fills it in.
    with engine.begin() as connection:
        connection.execute(text("DROP INDEX IF EXISTS ix_matters_manual_handling"))
        connection.execute(text("ALTER TABLE matters DROP COLUMN manual_handling"))
    create_schema(engine)
    [again] = list_overdue_in_register(engine, Policy())
    assert again == item
