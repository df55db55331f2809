"""The case's `matter_updated` signal is listed in the Web UI like any other; a report that did not come
from the matter's own workflow is refused and changes nothing staff see."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.worker import Worker

from domain.enums import MatterCode, MatterState
from domain.models import MatterUpdate
from runtime.keys import Keys
from tests.workflows.helpers import start, to_parallel_phase, view_of, wait_for


async def test_a_forged_progress_report_is_refused(client: Client, keys: Keys, task_queue: str, worker: Worker) -> None:
    handle = await start(client, keys, task_queue)
    snap = await to_parallel_phase(client, handle)
    code = MatterCode.PROVIDENT_FUND_DEATH_WITHDRAWAL
    real = view_of(snap, code)
    forged = real.model_copy(update={"state": MatterState.PAID, "final": True, "payment_reference": "PAY-FAKE"})
    at = real.pushed_at or snap.received_at
    await handle.signal("matter_updated", MatterUpdate(view=forged, event="已发放", at=at))
    after = await wait_for(handle, lambda s: any(r.action == "matter_updated" for r in s.refused_actions))
    assert view_of(after, code).state == MatterState.UNDER_REVIEW
    assert view_of(after, code).payment_reference is None
    assert "来源无法确认" in after.refused_actions[-1].reason
