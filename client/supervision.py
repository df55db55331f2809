"""The supervisor's view: overdue and at-risk matters across every open case.

Two sources tell the same: the case register (one indexed query: the answer a supervisor waits for, whatever
the number of open cases) and the engine (one visibility query, the same text as the Web UI's filter; paged
through, and slow on the embedded server's SQLite store once tens of thousands of workflows are open). Each
matter writes both in the same workflow task: its search attributes, and its register row through
``RegisterActivities.record`` (state, deadline, overdue, working days overdue, escalation level, manual
handling). Between a change and the write that follows it the two can differ for a moment.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Engine
from temporalio.client import Client, WorkflowExecution

from domain.enums import Department, MatterCode, MatterState
from domain.ids import matter_workflow_id, split_matter_workflow_id
from domain.policy import Policy
from register.tables import MatterRow, stored_utc
from workflows import search_attributes as sa


class OverdueItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    case_number: str
    matter: MatterCode
    matter_name: str
    department: Department
    department_name: str
    state: MatterState
    deadline: datetime | None
    working_days_overdue: int
    escalation_level: int
    manual_handling: bool
    # The deadline was counted through a year without the official holiday schedule.
    deadline_approximate: bool = False
    workflow_id: str


def overdue_query(department: Department | None = None, *, at_risk: bool = False) -> str:
    """The visibility query; the same text works in the Web UI's workflow list filter."""
    clauses = ["WorkflowType = 'MatterWorkflow'", "ExecutionStatus = 'Running'"]
    if at_risk:
        clauses += [
            f"{sa.OVERDUE.name} = false",
            f"{sa.ESCALATION_LEVEL.name} >= 1",
            f"{sa.MATTER_STATE.name} = '{MatterState.UNDER_REVIEW.value}'",
        ]
    else:
        clauses.append(f"({sa.OVERDUE.name} = true OR {sa.MANUAL_HANDLING.name} = true)")
    if department is not None:
        clauses.append(f"{sa.DEPARTMENT.name} = '{department.value}'")
    return " AND ".join(clauses)


def _item(execution: WorkflowExecution, policy: Policy) -> OverdueItem | None:
    attrs = execution.typed_search_attributes
    try:
        case_number, matter = split_matter_workflow_id(execution.id)
    except ValueError:
        return None
    definition = policy.matter(matter)
    return OverdueItem(
        case_number=case_number,
        matter=matter,
        matter_name=definition.short_name,
        department=definition.department,
        department_name=definition.department_name,
        state=MatterState(attrs.get(sa.MATTER_STATE) or MatterState.UNDER_REVIEW.value),
        deadline=attrs.get(sa.DEADLINE),
        working_days_overdue=attrs.get(sa.DAYS_OVERDUE) or 0,
        escalation_level=attrs.get(sa.ESCALATION_LEVEL) or 0,
        manual_handling=bool(attrs.get(sa.MANUAL_HANDLING)),
        deadline_approximate=bool(attrs.get(sa.DEADLINE_APPROXIMATE)),
        workflow_id=execution.id,
    )


async def list_overdue(
    client: Client, policy: Policy, department: Department | None = None, *, at_risk: bool = False
) -> list[OverdueItem]:
    """From the engine. Sorted by lateness: most working days overdue first, then the earliest deadline."""
    items: list[OverdueItem] = []
    async for execution in client.list_workflows(overdue_query(department, at_risk=at_risk)):
        item = _item(execution, policy)
        if item is not None:
            items.append(item)
    return _sorted(items)


def list_overdue_in_register(
    engine: Engine, policy: Policy, department: Department | None = None, *, at_risk: bool = False
) -> list[OverdueItem]:
    """The same listing from the case register: matters not closed there, by the figures each matter wrote
    with its latest change. Sorted as ``list_overdue``."""
    m = MatterRow.__table__.c  # type: ignore[attr-defined]
    clauses = [m.closed_at.is_(None)]
    if at_risk:
        clauses += [m.overdue.is_(False), m.escalation_level >= 1, m.state == MatterState.UNDER_REVIEW.value]
    else:
        clauses.append(or_(m.overdue.is_(True), m.manual_handling.is_(True)))
    if department is not None:
        clauses.append(m.department == department.value)
    query = select(m.case_number, m.matter, m.state, m.deadline, m.working_days_overdue, m.escalation_level,
                   m.manual_handling, m.deadline_approximate).where(and_(*clauses))
    items: list[OverdueItem] = []
    with engine.connect() as connection:
        for row in connection.execute(query):
            try:
                definition = policy.matter(MatterCode(row.matter))
            except (KeyError, ValueError):
                continue
            state = MatterState(row.state)
            items.append(OverdueItem(
                case_number=row.case_number,
                matter=definition.code,
                matter_name=definition.short_name,
                department=definition.department,
                department_name=definition.department_name,
                state=state,
                # As the engine shows it: a deadline only while the clock runs (not during 补正).
                deadline=stored_utc(row.deadline) if state == MatterState.UNDER_REVIEW and row.deadline else None,
                working_days_overdue=row.working_days_overdue or 0,
                escalation_level=row.escalation_level or 0,
                manual_handling=bool(row.manual_handling),
                deadline_approximate=bool(row.deadline_approximate),
                workflow_id=matter_workflow_id(row.case_number, definition.code),
            ))
    return _sorted(items)


def _sorted(items: list[OverdueItem]) -> list[OverdueItem]:
    far = datetime.max.replace(tzinfo=None)
    items.sort(key=lambda i: (-i.working_days_overdue, (i.deadline.replace(tzinfo=None) if i.deadline else far),
                              i.case_number))
    return items
