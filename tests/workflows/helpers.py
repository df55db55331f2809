"""Helpers for driving cases the way users do: signals with typed JSON, the status query."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from datetime import date
from typing import Any

from temporalio.client import Client, WorkflowHandle

from domain.application import validate_application
from domain.enums import MatterCode, MatterState
from domain.ids import matter_workflow_id
from domain.models import Application, CaseResult, StatusSnapshot
from domain.policy import Policy
from runtime.keys import Keys
from starter.operations import start_case
from tests.factories import unique_form

TODAY = date(2026, 11, 28)
_seeds = itertools.count(1000)


def application(**overrides: Any) -> Application:
    result = validate_application(unique_form(next(_seeds), **overrides), Policy(), TODAY)
    assert isinstance(result, Application), result
    return result


async def start(
    client: Client, keys: Keys, task_queue: str, app: Application | None = None
) -> WorkflowHandle[Any, Any]:
    started = await start_case(client, app or application(), keys.case_id_key, task_queue)
    return client.get_workflow_handle(started.case_number, result_type=CaseResult)


async def status(handle: WorkflowHandle[Any, Any]) -> StatusSnapshot:
    return await handle.query("status", result_type=StatusSnapshot)


async def wait_for(
    handle: WorkflowHandle[Any, Any], predicate: Callable[[StatusSnapshot], bool], timeout: float = 30
) -> StatusSnapshot:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            snap = await status(handle)
            if predicate(snap):
                return snap
        except Exception:
            if asyncio.get_running_loop().time() > deadline:
                raise
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not reached; last status: {snap.model_dump_json(indent=1)}")
        await asyncio.sleep(0.1)


def matter_state(snap: StatusSnapshot, code: MatterCode) -> MatterState | None:
    for view in snap.matters:
        if view.code == code:
            return view.state
    return None


def matter_handle(client: Client, case_number: str, code: MatterCode) -> WorkflowHandle[Any, Any]:
    return client.get_workflow_handle(matter_workflow_id(case_number, code))


async def certify(handle: WorkflowHandle[Any, Any], cremated_on: str = "2026-11-20") -> None:
    await handle.signal("cremation_certified", {
        "certificate_no": "HH-2026-0001", "funeral_home": "固阳县殡仪馆", "cremated_on": cremated_on,
    })


async def approve_hukou(client: Client, handle: WorkflowHandle[Any, Any]) -> None:
    await wait_for(handle, lambda s: matter_state(s, MatterCode.HUKOU_CANCELLATION) == MatterState.UNDER_REVIEW)
    await matter_handle(client, handle.id, MatterCode.HUKOU_CANCELLATION).signal(
        "approve", {"officer": "王警官", "certificate_no": "ZX-0001"}
    )
