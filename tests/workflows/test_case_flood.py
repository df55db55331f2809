"""No flood ends a case. Anyone who can send a signal (every user of the Web UI) can send junk to a case or a
matter: payloads far larger than any real signal are refused by the server (runtime/devserver.py, the same in
compose), and floods under that limit, large or tiny, make the case and the matter continue as new (at least once
each here), carrying
everything. The case then completes: its matters were never ended with a closing run, every payment is
confirmed once, and the case learned each matter's outcome from the engine.

The test server suggests continue-as-new after 1,000 events (tests/devserver.py) instead of production's
default; the size at which it suggests it (4 MiB of history) is the engine's own.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import Engine
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from domain.enums import CaseState, MatterCode, MatterState, PensionStatus
from runtime.keys import Keys
from tests.workflows.helpers import (
    application_with,
    approve,
    json_payload,
    matter_handle,
    payment_rows,
    signal_raw,
    start,
    status,
    to_parallel_phase,
    view_of,
)
from tests.workflows.timeskip import poll, registered

NHSA = MatterCode.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT
PENSION = MatterCode.ENTERPRISE_RETIREE_DEATH_BENEFIT
HUGE = 1_900_000  # under the engine's default 2 MiB, far over shenhou's 512 KiB
LARGE = 400_000  # just under shenhou's limit once encoded
TINY = 2_500


async def _runs(client: Client, workflow_id: str) -> int:
    return len([run async for run in client.list_workflows(f'WorkflowId = "{workflow_id}"')])


async def _junk(client: Client, workflow_id: str, size: int) -> None:
    body = b'{"officer": "' + b"x" * size + b'"}'
    for _ in range(50):
        try:
            await signal_raw(client, workflow_id, "aprove", [json_payload(body)])
            return
        except RPCError as err:
            # "workflow is closing": the run is handing over to the next; the sender tries again.
            if err.status != RPCStatusCode.RESOURCE_EXHAUSTED:
                raise
            await asyncio.sleep(0.2)


async def test_floods_large_and_tiny_never_end_a_case_and_each_payment_is_confirmed_once(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker
) -> None:
    handle = await start(client, keys, task_queue, application_with(PensionStatus.ENTERPRISE_RETIREE, NHSA))
    await to_parallel_phase(client, handle)
    matter = matter_handle(client, handle.id, NHSA)

    # 30 payloads of ~1.9 MB: refused by the server, one by one; nothing reaches the case.
    refused = 0
    for _ in range(30):
        try:
            await signal_raw(client, handle.id, "aprove", [json_payload(b'"' + b"x" * HUGE + b'"')])
        except RPCError as err:
            assert err.status == RPCStatusCode.INVALID_ARGUMENT, err
            refused += 1
    assert refused == 30
    events = [event async for event in handle.fetch_history_events()]
    assert not any(event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
                   and event.workflow_execution_signaled_event_attributes.signal_name == "aprove"
                   for event in events)

    # Signals just under the limit, to the case and to a matter: each continues as new, again and again.
    for _ in range(30):
        await asyncio.gather(_junk(client, handle.id, LARGE), _junk(client, matter.id, LARGE))
    # Thousands of tiny ones to the case.
    gate = asyncio.Semaphore(64)

    async def tiny(index: int) -> None:
        async with gate:
            await _junk(client, handle.id, index % 50)

    for burst in range(0, TINY, 500):
        await asyncio.gather(*(tiny(i) for i in range(burst, burst + 500)))
    case_runs = await poll(lambda: _runs(client, handle.id), lambda n: n >= 2, timeout=60)
    matter_runs = await poll(lambda: _runs(client, matter.id), lambda n: n >= 2, timeout=60)
    assert case_runs >= 2 and matter_runs >= 2, (case_runs, matter_runs)

    # The case carried everything: its matters are still its own, under review, and it answers its status.
    snap = await status(handle)
    assert snap.case_state == CaseState.IN_PROGRESS and snap.refused_total >= TINY
    assert all(view.state == MatterState.UNDER_REVIEW for view in snap.matters
               if view.code != MatterCode.HUKOU_CANCELLATION)
    # The officers decide; the paying system confirms; the case, in a run that did not start its matters,
    # completes with each matter's outcome as the engine holds it.
    for view in snap.matters:
        if view.state == MatterState.UNDER_REVIEW:
            await approve(client, handle.id, view)
    result = await asyncio.wait_for(handle.result(), timeout=90)
    assert result.state == CaseState.COMPLETED
    outcomes = {m.matter: m.state for m in result.matters}
    assert outcomes[PENSION] == MatterState.PAID and outcomes[NHSA] == MatterState.PAID
    await registered(lambda: sorted((row.matter, row.attempt, row.status) for row in payment_rows(engine, handle.id))
                     == sorted((code.value, 1, "confirmed") for code in (PENSION, NHSA)))
    final = await status(handle)
    assert view_of(final, PENSION).state == MatterState.PAID

