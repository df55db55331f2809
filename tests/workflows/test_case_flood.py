"""No flood ends a case. Anyone who can send a signal (every user of the Web UI) can send junk to a case or a
matter: payloads far larger than any real signal are refused by the server (runtime/devserver.py, the same in
compose), and floods under that limit, large or tiny, make the case and the matter continue as new, each run far
below the engine's 50 MB limit, carrying everything. The case then completes: its matters were never ended with a
closing run, every payment is confirmed once, and the case learned each matter's outcome from the engine.

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

from client.operations import case_status
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
# Large signals per burst: 4.8 MB, past the 4 MiB of history at which the engine suggests a new run.
LARGE_BURST = 12


async def _runs(client: Client, workflow_id: str) -> int:
    """How many runs the workflow has had: its first run and each one it continued as new into."""
    return len(await _run_sizes(client, workflow_id))


async def _run_sizes(client: Client, workflow_id: str) -> list[int]:
    """The bytes of history of each run, first to last."""
    run_id: str | None = (await client.get_workflow_handle(workflow_id).describe()).raw_description\
        .workflow_execution_info.first_run_id
    sizes = []
    while run_id:
        size, last = 0, None
        async for event in client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history_events():
            size, last = size + event.ByteSize(), event
        sizes.append(size)
        run_id = (last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
                  if last is not None and last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
                  else None)
    return sizes


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
            last = err.message
            await asyncio.sleep(0.2)
    raise AssertionError(f"signal not taken after 50 tries: {last}")


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

    # Signals just under the limit, to the case and to a matter: each continues as new, again and again. In
    # bursts, as a script sends them: the engine takes a continue-as-new between signals, not while new ones
    # keep arriving (a flood that never pauses is cut by the engine's own 10,000 signals per run).
    async def refused_by_case(count: int) -> None:
        # As staff read it: the status waits out the moment a continue-as-new is turned down by the engine.
        await poll(lambda: case_status(client, handle.id), lambda snap: snap.refused_total >= count, timeout=60)

    async def runs() -> tuple[int, int]:
        return await _runs(client, handle.id), await _runs(client, matter.id)

    for burst in range(3):
        for _ in range(LARGE_BURST):
            await asyncio.gather(_junk(client, handle.id, LARGE), _junk(client, matter.id, LARGE))
        # The engine suggests the new run in the next workflow task: one more small signal is that task.
        await asyncio.gather(_junk(client, handle.id, 1), _junk(client, matter.id, 1))
        await refused_by_case((LARGE_BURST + 1) * (burst + 1))
    # Thousands of tiny ones to the case.
    gate = asyncio.Semaphore(64)

    async def tiny(index: int) -> None:
        async with gate:
            await _junk(client, handle.id, index % 50)

    for burst in range(0, TINY, 500):
        await asyncio.gather(*(tiny(i) for i in range(burst, burst + 500)))
        await refused_by_case(3 * (LARGE_BURST + 1) + burst + 500)
    case_runs, matter_runs = await poll(runs, lambda counts: min(counts) >= 2, timeout=60)
    print(f"case flood: the case ran {case_runs} times, the matter {matter_runs}")
    # Each run stayed far below the engine's 50 MB limit, at which it would have ended the workflow: about
    # 4 MiB (where it suggests a new run) plus what arrived before the workflow's next task.
    for workflow_id in (handle.id, matter.id):
        sizes = await _run_sizes(client, workflow_id)
        assert max(sizes) < 12_000_000, sizes

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

