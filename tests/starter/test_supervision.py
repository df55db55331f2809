"""The supervisor's overdue view (starter.supervision): one visibility query over every open matter.

Matters are brought to their states in virtual time, each on its own clock, all at once; the session
server is shared, so results are narrowed to this test's own cases.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.testing import TimeSkipper
from temporalio.worker import Worker

from activities.calendar import WorkingDayCalendar
from domain.catalogue import DEPARTMENT_NAMES
from domain.enums import Department, EscalationStep, MatterCode, MatterState
from domain.models import DeadlinePlan
from domain.policy import Policy
from runtime.keys import Keys
from starter.supervision import OverdueItem, list_overdue, overdue_query
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
