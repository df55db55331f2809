"""A department system that fails: transient errors are retried with backoff, a refusal goes to a person.

The gateways here wrap the real InboxGateway, so everything else (ledger, outbox, register) is real. The register
is parametrized: each test runs once on SQLite and once on PostgreSQL, the department inbox's rows written by
the push and closed with the matter's outcome on both.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import threading
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle

from activities.departments import DepartmentRefused, InboxGateway
from client.supervision import OverdueItem, list_overdue
from domain.enums import CaseState, MatterCode, MatterState, PensionStatus
from domain.models import PushReceipt, PushRequest, WithdrawItemRequest
from domain.policy import Policy
from runtime.keys import Keys
from tests.factories import make_card_number
from tests.postgres import open_register
from tests.workflows.helpers import (
    HUKOU,
    application_for,
    approve,
    inbox_rows,
    matter_handle,
    payment_rows,
    start,
    status,
    to_parallel_phase,
    view_of,
    wait_for,
)
from worker import Dependencies, build_worker

MEDICAL = MatterCode.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT
PROVIDENT = MatterCode.PROVIDENT_FUND_DEATH_WITHDRAWAL
ASSISTANCE = MatterCode.SOCIAL_ASSISTANCE_TERMINATION


class FaultyGateway:
    """InboxGateway, except that ``fault(request, attempt)`` may raise for a push first."""

    def __init__(self, inner: InboxGateway, fault: Callable[[PushRequest, int], None]) -> None:
        self._inner = inner
        self._fault = fault
        self._lock = threading.Lock()
        self.calls: Counter[tuple[str, MatterCode]] = Counter()

    def push(self, request: PushRequest) -> PushReceipt:
        with self._lock:
            self.calls[(request.case_number, request.matter)] += 1
            attempt = self.calls[(request.case_number, request.matter)]
        self._fault(request, attempt)
        return self._inner.push(request)

    def withdraw(self, request: WithdrawItemRequest) -> bool:
        return self._inner.withdraw(request)


def flaky_for(matter: MatterCode, failures: int) -> Callable[[PushRequest, int], None]:
    def fault(request: PushRequest, attempt: int) -> None:
        if request.matter == matter and attempt <= failures:
            raise ConnectionError(f"department system unreachable (attempt {attempt})")
    return fault


def refusing(*matters: MatterCode) -> Callable[[PushRequest, int], None]:
    def fault(request: PushRequest, attempt: int) -> None:
        if request.matter in matters:
            raise DepartmentRefused("接口返回：该事项不受理")
    return fault


@pytest.fixture
def engine(register_url: str) -> Iterator[Engine]:
    """The register on both backends (overrides tests/conftest.py's SQLite-only one; the worker's deps use it)."""
    yield from open_register(register_url)


@pytest.fixture
def run_worker(
    client: Client, task_queue: str, deps: Dependencies, engine: Engine,
    executor: concurrent.futures.ThreadPoolExecutor,
) -> Callable[[Callable[[PushRequest, int], None]], AbstractAsyncContextManager[FaultyGateway]]:
    """A worker whose department gateway is the real inbox behind ``fault``."""

    @contextlib.asynccontextmanager
    async def run(fault: Callable[[PushRequest, int], None]) -> AsyncIterator[FaultyGateway]:
        gateway = FaultyGateway(InboxGateway(engine), fault)
        deps.departments = gateway
        async with build_worker(client, task_queue, deps, executor):
            yield gateway

    return run


async def push_attempts(handle: WorkflowHandle[Any, Any]) -> list[int]:
    """The attempt number of every push that got through, as the matter's history records it (a local
    activity's marker holds the attempt that succeeded; an activity task its started attempt)."""
    scheduled: set[int] = set()
    attempts: list[int] = []
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            marker = event.marker_recorded_event_attributes
            if marker.marker_name == "core_local_activity":
                data = json.loads(marker.details["data"].payloads[0].data)
                if data["activity_type"] == "push_to_department":
                    attempts.append(data["attempt"])
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            if event.activity_task_scheduled_event_attributes.activity_type.name == "push_to_department":
                scheduled.add(event.event_id)
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            attrs = event.activity_task_started_event_attributes
            if attrs.scheduled_event_id in scheduled:
                attempts.append(attrs.attempt)
    return attempts


async def overdue_for(client: Client, case_number: str, want: Callable[[list[OverdueItem]], bool],
                      timeout: float = 15) -> list[OverdueItem]:
    """list_overdue restricted to one case, polled until visibility catches up."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        items = [i for i in await list_overdue(client, Policy()) if i.case_number == case_number]
        if want(items) or loop.time() > deadline:
            return items
        await asyncio.sleep(0.2)


async def approve_all(client: Client, handle: WorkflowHandle[Any, Any]) -> None:
    snap = await status(handle)
    for view in snap.matters:
        if view.state == MatterState.UNDER_REVIEW:
            await approve(client, handle.id, view)


async def test_a_transient_push_failure_is_retried_until_the_department_has_it(
    client: Client, keys: Keys, task_queue: str, engine: Engine, run_worker: Any
) -> None:
    async with run_worker(flaky_for(MEDICAL, failures=2)) as gateway:
        handle = await start(client, keys, task_queue, application_for(PensionStatus.ENTERPRISE_RETIREE))
        # PUSH_LOCAL_OPTIONS: first retry after 2 s, the second after 4 s more.
        snap = await asyncio.wait_for(to_parallel_phase(client, handle), timeout=30)
        medical = view_of(snap, MEDICAL)
        assert medical.state == MatterState.UNDER_REVIEW
        assert medical.manual_handling is None
        assert gateway.calls[(handle.id, MEDICAL)] == 3
        assert all(n == 1 for (case, code), n in gateway.calls.items() if code != MEDICAL)
        assert await push_attempts(matter_handle(client, handle.id, MEDICAL)) == [3]
        assert MEDICAL.value in inbox_rows(engine, handle.id)
        assert not await overdue_for(client, handle.id, bool, timeout=1)

        await approve_all(client, handle)
        result = await asyncio.wait_for(handle.result(), timeout=30)
        final = await status(handle)
    assert result.state == CaseState.COMPLETED
    # One item per matter at its department, each closed with the matter's outcome once it was final.
    inbox = inbox_rows(engine, handle.id)
    assert {code: row.department for code, row in inbox.items()} == {
        view.code.value: view.department.value for view in final.matters
    }
    assert {code: row.status for code, row in inbox.items()} == {
        view.code.value: "paid" if view.state == MatterState.PAID else "approved" for view in final.matters
    }
    assert any(row.status == "paid" for row in inbox.values())
    assert all(row.closed_at is not None and row.pushed_at is not None for row in inbox.values())


async def test_a_refused_push_goes_to_a_person_and_the_case_still_completes(
    client: Client, keys: Keys, task_queue: str, engine: Engine, run_worker: Any
) -> None:
    async with run_worker(refusing(PROVIDENT)) as gateway:
        handle = await start(client, keys, task_queue, application_for(PensionStatus.ENTERPRISE_RETIREE))
        snap = await to_parallel_phase(client, handle)
        # Non-retryable: one call, then the matter is flagged for manual handling, still under review.
        assert gateway.calls[(handle.id, PROVIDENT)] == 1
        flagged = view_of(snap, PROVIDENT)
        assert flagged.state == MatterState.UNDER_REVIEW
        assert flagged.manual_handling and "人工" in flagged.manual_handling
        assert flagged.deadline is not None
        assert PROVIDENT.value not in inbox_rows(engine, handle.id)
        others = [v for v in snap.matters if v.code not in (HUKOU, PROVIDENT)]
        assert all(v.state == MatterState.UNDER_REVIEW and v.manual_handling is None for v in others)

        items = await overdue_for(client, handle.id, lambda found: any(i.matter == PROVIDENT for i in found))
        assert [(i.matter, i.manual_handling) for i in items] == [(PROVIDENT, True)]

        # The other departments work on; the officer handles the flagged item by hand and approves it.
        for view in others:
            await approve(client, handle.id, view)
        snap = await wait_for(handle, lambda s: all(view_of(s, v.code).final for v in others))
        assert snap.case_state == CaseState.IN_PROGRESS
        amount = await approve(client, handle.id, flagged)
        result = await asyncio.wait_for(handle.result(), timeout=30)

        final = await status(handle)
        paid = view_of(final, PROVIDENT)
        assert paid.state == MatterState.PAID and paid.manual_handling is None and paid.amount == amount
        assert not await overdue_for(client, handle.id, lambda found: not found)
    assert result.state == CaseState.COMPLETED
    assert PROVIDENT.value in {row.matter for row in payment_rows(engine, handle.id)}


async def test_a_bank_correction_is_refused_when_only_a_push_refused_matter_was_approved(
    client: Client, keys: Keys, task_queue: str, run_worker: Any
) -> None:
    async with run_worker(refusing(ASSISTANCE)):
        handle = await start(client, keys, task_queue, application_for(PensionStatus.ENTERPRISE_RETIREE))
        await to_parallel_phase(client, handle)
        await matter_handle(client, handle.id, ASSISTANCE).signal("approve", {"officer": "李科员"})
        await wait_for(handle, lambda s: view_of(s, ASSISTANCE).final)
        await handle.signal("bank_account_corrected", {
            "clerk": "张窗口", "bank_name": "中国农业银行固阳支行", "account_name": "王丽华",
            "card_number": make_card_number("622848", 19, 77),
        })
        snap = await wait_for(handle, lambda s: bool(s.refused_actions) or any(
            "收款账户已更正" in t.event for t in s.timeline), timeout=10)
        assert [r.action for r in snap.refused_actions] == ["bank_account_corrected"]
        assert view_of(snap, ASSISTANCE).manual_handling is None
