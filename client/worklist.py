"""`shenhou worklist`: where each department's officers find their work in the Temporal Web UI.

The UI takes a visibility query in its URL (``/namespaces/<ns>/workflows?query=…``), so each department gets
links with the query filled in. The list's columns and saved views live in the browser (``localStorage``:
``namespace-workflow-table-columns`` and ``saved-workflow-queries`` of the bundled UI); the UI cannot be given
them by a server, so ``browser_setup`` is one line of JavaScript an officer pastes once into the browser's
console on the UI's page: it shows state, deadline and lateness as columns, saves the department's views and
shows times in 北京时间 (the UI's ``timeFormat``).
"""

from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict
from temporalio.client import Client

from domain import search_attributes as names
from domain.catalogue import active_catalogue
from domain.enums import CaseState, Department, MatterState
from workflows import search_attributes as sa

OPEN = f"WorkflowType = 'MatterWorkflow' AND ExecutionStatus = 'Running' AND {names.DEPARTMENT} = '{{department}}'"
VIEWS: tuple[tuple[str, str], ...] = (
    ("待办", OPEN),
    ("超期或转人工", OPEN + f" AND ({names.OVERDUE} = true OR {names.MANUAL_HANDLING} = true)"),
    ("已预警", OPEN + f" AND {names.OVERDUE} = false AND {names.ESCALATION_LEVEL} >= 1 AND "
               f"{names.MATTER_STATE} = '{MatterState.UNDER_REVIEW.value}'"),
    ("发放中", OPEN + f" AND {names.MATTER_STATE} = '{MatterState.PAYING.value}'"),
)
# 待申请: cases the funeral home's certificate opened, waiting for the family's application (a case the family
# opened leaves 受理 at its first workflow task, so the running cases still in 受理 are these).
WAITING_FOR_APPLICATION = (f"WorkflowType = 'CaseWorkflow' AND ExecutionStatus = 'Running' AND "
                           f"{names.CASE_STATE} = '{CaseState.RECEIVED.value}'")
# The UI's name for 北京时间 in its time-zone menu (grouped by the browser's long zone names).
UI_TIME_ZONE = "China Standard Time"
# The list's columns: what an officer sorts their day by.
COLUMNS = ("Status", "Workflow ID", names.MATTER_STATE, names.DEADLINE, names.OVERDUE, names.DAYS_OVERDUE,
           "Start")


class WorkView(BaseModel):
    model_config = ConfigDict(frozen=True)

    department: Department
    department_name: str
    name: str
    query: str
    url: str


def views(ui_url: str, namespace: str, departments: tuple[Department, ...]) -> list[WorkView]:
    """Every department's views with their UI links."""
    base = ui_url.rstrip("/")
    found: list[WorkView] = []
    names = active_catalogue().department_names()
    for department in departments:
        for name, template in VIEWS:
            query = template.format(department=department.value)
            found.append(WorkView(
                department=department, department_name=names[department], name=name, query=query,
                url=f"{base}/namespaces/{quote(namespace)}/workflows?query={quote(query)}",
            ))
    return found


def browser_setup(namespace: str, found: list[WorkView]) -> str:
    """One line for the browser console on the UI's page: the columns, each view saved by name, and times
    shown in 北京时间."""
    columns = {namespace: [{"label": label} for label in COLUMNS]}
    saved = {namespace: [{"id": f"shenhou-{v.department.value}-{i}", "name": f"{v.department_name}·{v.name}",
                          "query": v.query} for i, v in enumerate(found)]}
    return (f"localStorage.setItem('namespace-workflow-table-columns', {json.dumps(json.dumps(columns))});"
            f"localStorage.setItem('saved-workflow-queries', "
            f"{json.dumps(json.dumps(saved, ensure_ascii=False), ensure_ascii=False)});"
            f"localStorage.setItem('timeFormat', {json.dumps(json.dumps(UI_TIME_ZONE))});location.reload()")


class WaitingCase(BaseModel):
    model_config = ConfigDict(frozen=True)

    case_number: str
    opened_at: datetime


async def waiting_for_application(client: Client) -> list[WaitingCase]:
    """The window's 待申请 list: cases the funeral home opened and the family has not applied to yet, oldest
    first."""
    found = []
    async for execution in client.list_workflows(WAITING_FOR_APPLICATION):
        number = execution.typed_search_attributes.get(sa.CASE_NUMBER)
        if number:
            found.append(WaitingCase(case_number=number, opened_at=execution.start_time))
    return sorted(found, key=lambda case: case.opened_at)


def waiting_url(ui_url: str, namespace: str) -> str:
    return f"{ui_url.rstrip('/')}/namespaces/{quote(namespace)}/workflows?query={quote(WAITING_FOR_APPLICATION)}"
