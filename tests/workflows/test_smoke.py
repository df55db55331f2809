from __future__ import annotations

from decimal import Decimal

from temporalio.client import Client
from temporalio.worker import Worker

from domain.enums import CaseState, MatterState
from runtime.keys import Keys
from tests.workflows.helpers import approve, approve_hukou, certify, start, status, wait_for


async def test_smoke(client: Client, keys: Keys, task_queue: str, worker: Worker) -> None:
    handle = await start(client, keys, task_queue)
    await certify(handle)
    await approve_hukou(client, handle)
    snap = await wait_for(handle, lambda s: s.case_state == CaseState.IN_PROGRESS and all(
        m.state == MatterState.UNDER_REVIEW for m in s.matters if m.code.value != "police.hukou_cancellation"))
    for view in snap.matters:
        if view.state == MatterState.UNDER_REVIEW:
            await approve(client, handle.id, view)
    result = await handle.result()
    assert result.state == CaseState.COMPLETED
    snap = await status(handle)
    assert all(m.final for m in snap.matters)
    assert sum((m.amount or Decimal(0)) for m in snap.matters) > 0
