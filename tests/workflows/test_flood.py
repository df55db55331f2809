"""Bounded under abuse: thousands of bad signals to one matter (anyone with the Web UI can send them) are each
refused and counted, cost no register write each, and the matter continues as new when its history grows long,
carrying everything: its ladder goes on, its decision is still taken, and the case completes.

The test server is configured to suggest continue-as-new earlier than production's default (tests/conftest.py):
measured there, a run is cut at about 4,000 events instead of about 7,000.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine
from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from domain.enums import CaseState, EscalationStep, MatterCode, MatterState
from domain.models import StatusSnapshot
from runtime.keys import Keys
from tests.workflows import timeskip as ts
from tests.workflows.helpers import (
    approve,
    json_payload,
    matter_handle,
    signal_raw,
    status,
    wait_for,
)
from tests.workflows.timeskip import audit_events

NHSA = MatterCode.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT
FLOOD = 6_000
BURST = 500
BAD: list[tuple[str, Any]] = [
    ("approve", None),  # an empty form
    ("approve", {"officer": "李科员"}),  # money without an amount
    ("reject", {"officer": "李科员", "resaon": "拼写错误"}),
    ("request_materials", {"officer": "李科员", "items": "一份"}),
    ("aprove", {"officer": "李科员"}),  # a typo in the signal's name
]


async def test_a_flooded_matter_stays_healthy_and_bounded(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker, calendar: Any
) -> None:
    skipper = ts.time_skipper(client)
    handle, snap = await ts.pushed_case(skipper, keys, task_queue, NHSA)
    matter = matter_handle(skipper.client, handle.id, NHSA)
    view = next(v for v in snap.matters if v.code == NHSA)
    assert view.pushed_at is not None
    plan = ts.plan(calendar, handle.id, NHSA, view.pushed_at, 5)

    gate = asyncio.Semaphore(64)

    async def send(index: int) -> None:
        name, data = BAD[index % len(BAD)]
        async with gate:
            for _ in range(50):
                try:
                    if index % 7 == 0:
                        await signal_raw(client, matter.id, name, [json_payload(b"{not json")])
                    elif data is None:
                        await matter.signal(name)
                    else:
                        await matter.signal(name, data)
                    return
                except RPCError as err:
                    # "workflow is closing": the run is handing over to the next; the sender tries again.
                    if err.status != RPCStatusCode.RESOURCE_EXHAUSTED:
                        raise
                    await asyncio.sleep(0.1)

    # In bursts, as a script would send them: the engine takes continue-as-new between signals, not while
    # new ones keep arriving in the same workflow task.
    for burst in range(0, FLOOD, BURST):
        await asyncio.gather(*(send(i) for i in range(burst, burst + BURST)))
        await wait_for(matter, _refused_reaches(burst + BURST), timeout=60)
    flooded = await status(matter)
    current = flooded.matters[0]
    assert current.state == MatterState.UNDER_REVIEW and len(current.refused_actions) == 20

    # The history was cut into runs of about the suggested length; none failed a task.
    runs = await ts.poll(lambda: _runs(client, matter.id), lambda found: len(found) >= 2)
    assert len(runs) >= 2, len(runs)
    histories = [[e async for e in client.get_workflow_handle(matter.id, run_id=run.run_id).fetch_history_events()]
                 for run in runs]
    assert all(len(events) < 5_000 for events in histories), [len(events) for events in histories]
    # A continue-as-new that meets a signal arriving in the same task is turned down by the server and tried
    # again (cause FORCE_CLOSE_COMMAND): the engine's way, not a failure of the matter's code.
    failed = [e.workflow_task_failed_event_attributes.cause for events in histories for e in events
              if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED]
    assert set(failed) <= {WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND,
                           WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND}, failed
    # Refusals reach the register in batches, all of them, and never one write each.
    markers = sum(e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED for events in histories for e in events)
    assert markers < FLOOD // 10, markers
    # The last bursts' batches are still being written while a loaded machine catches up.
    await ts.poll(_count(engine, handle.id), lambda n: n >= FLOOD - 20, timeout=90)

    # The ladder carried over: the warning comes once, at its time.
    warning = ts.rung(plan, EscalationStep.WARNING)
    await ts.advance_to(skipper, matter, warning.at + ts.MARGIN, timeout=60)
    assert (await status(matter)).matters[0].escalations == (EscalationStep.WARNING,)

    await approve(client, handle.id, current)
    assert (await handle.result()).state == CaseState.COMPLETED
    # Every refusal is in the register once the matter has ended: none left behind by a run that continued.
    assert await _count(engine, handle.id)() == FLOOD
    case_events = [e async for e in handle.fetch_history_events()]
    assert len(case_events) < 150


def _count(engine: Engine, case_number: str) -> Any:
    async def refusals() -> int:
        return sum(event.startswith("拒绝操作") for event in audit_events(engine, case_number, NHSA))

    return refusals


async def _runs(client: Client, workflow_id: str) -> list[Any]:
    return [run async for run in client.list_workflows(f'WorkflowId = "{workflow_id}"')]


def _refused_reaches(sent: int) -> Callable[[StatusSnapshot], bool]:
    return lambda snap: snap.matters[0].refused_total == sent
