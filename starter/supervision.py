"""The supervisor's view: overdue and at-risk matters across every open case, from one visibility query."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from temporalio.client import Client, WorkflowExecution

from domain.enums import Department, MatterCode, MatterState
from domain.ids import split_matter_workflow_id
from domain.policy import Policy
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
    """Sorted by lateness: most working days overdue first, then the earliest deadline."""
    items: list[OverdueItem] = []
    async for execution in client.list_workflows(overdue_query(department, at_risk=at_risk)):
        item = _item(execution, policy)
        if item is not None:
            items.append(item)
    far = datetime.max.replace(tzinfo=None)
    items.sort(key=lambda i: (-i.working_days_overdue, (i.deadline.replace(tzinfo=None) if i.deadline else far),
                              i.case_number))
    return items
