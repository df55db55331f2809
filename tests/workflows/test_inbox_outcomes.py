"""What a department finds in its inbox once a matter it was given is rejected: the item closed as ``rejected``,
with the officer's reason, while the other departments' items stay open or close with their own outcome."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.worker import Worker

from domain.enums import CaseState, MatterCode, MatterState, PensionStatus
from runtime.keys import Keys
from tests.workflows import timeskip as ts
from tests.workflows.helpers import (
    HUKOU,
    application_with,
    inbox_rows,
    matter_handle,
    start,
    to_parallel_phase,
    view_of,
    wait_for,
)

MCA = MatterCode.SOCIAL_ASSISTANCE_TERMINATION
NHSA = MatterCode.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT


async def test_a_rejected_matter_closes_its_inbox_item_as_rejected_with_the_reason(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker
) -> None:
    handle = await start(client, keys, task_queue, application_with(PensionStatus.NONE, MCA, NHSA))
    await to_parallel_phase(client, handle)
    await matter_handle(client, handle.id, MCA).signal("reject", {"officer": "民政刘", "reason": "未享受社会救助"})
    await wait_for(handle, lambda s: view_of(s, MCA).state == MatterState.REJECTED)

    await ts.registered(lambda: inbox_rows(engine, handle.id)[MCA.value].status != "open")
    inbox = inbox_rows(engine, handle.id)
    assert (inbox[MCA.value].status, inbox[MCA.value].close_reason) == ("rejected", "未享受社会救助")
    assert inbox[MCA.value].closed_at is not None
    assert inbox[NHSA.value].status == "open" and inbox[NHSA.value].closed_at is None
    assert inbox[HUKOU.value].status == "approved"


async def test_a_rejected_hukou_cancellation_closes_the_police_item_as_rejected(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker
) -> None:
    handle = await start(client, keys, task_queue, application_with(PensionStatus.NONE, MCA))
    await wait_for(handle, lambda s: view_of(s, HUKOU).state == MatterState.UNDER_REVIEW)
    await matter_handle(client, handle.id, HUKOU).signal("reject", {"officer": "王警官", "reason": "户籍地址不符"})
    assert (await handle.result()).state == CaseState.HUKOU_REJECTED

    await ts.registered(lambda: inbox_rows(engine, handle.id)[HUKOU.value].status != "open")
    inbox = inbox_rows(engine, handle.id)
    assert (inbox[HUKOU.value].status, inbox[HUKOU.value].close_reason) == ("rejected", "户籍地址不符")
    assert set(inbox) == {HUKOU.value}  # nothing else was pushed to any department
