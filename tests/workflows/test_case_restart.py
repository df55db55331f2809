"""A worker that stops mid-case loses nothing and repeats nothing.

Signals sent while no worker runs are kept by the server; a new worker on the same task queue finishes
the case with exactly one payment per paid matter and each family message exactly once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections import Counter

from sqlalchemy.engine import Engine
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.exceptions import ApplicationError

from activities.payments import LedgerPaymentGateway
from domain.enums import CaseState, MatterCode, MatterState, PensionStatus
from domain.models import PaymentInstruction, PaymentReceipt
from runtime.keys import Keys
from tests.workflows.helpers import (
    HUKOU,
    amount_for,
    application_with,
    approve,
    complete_parallel,
    confirm_payment,
    failed_workflow_tasks,
    family_messages,
    ledger_amounts,
    matter_handle,
    matter_state,
    outbox_rows,
    payment_rows,
    start,
    status,
    to_parallel_phase,
    view_of,
    wait_for,
)
from worker import Dependencies, build_worker

M = MatterCode
PENSION = M.INSTITUTION_EMPLOYEE_DEATH_TERMINATION
MCA = M.SOCIAL_ASSISTANCE_TERMINATION
NHSA = M.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT
HPF = M.PROVIDENT_FUND_DEATH_WITHDRAWAL
VA = M.PREFERENTIAL_BENEFIT_TERMINATION


def _assert_each_message_once(engine: Engine, case: str) -> None:
    rows = outbox_rows(engine, case)
    assert len({row.key for row in rows}) == len(rows)
    repeated = [item for item, n in Counter((r.kind, r.recipient, r.matter) for r in rows).items() if n > 1]
    assert repeated == [], repeated


async def test_a_case_survives_its_worker_stopping_in_the_parallel_phase(
    client: Client, keys: Keys, task_queue: str, engine: Engine, deps: Dependencies,
    executor: concurrent.futures.ThreadPoolExecutor,
) -> None:
    first = build_worker(client, task_queue, deps, executor)
    running = asyncio.create_task(first.run())
    app = application_with(PensionStatus.INSTITUTION_EMPLOYEE, MCA, NHSA, HPF, VA)
    handle = await start(client, keys, task_queue, app)
    case = handle.id
    snap = await to_parallel_phase(client, handle)
    parallel = [view for view in snap.matters if view.code != HUKOU]

    # Some matters are decided and paid while the first worker runs.
    await approve(client, case, view_of(snap, PENSION))
    await approve(client, case, view_of(snap, MCA))
    await wait_for(handle, lambda s: matter_state(s, PENSION) == MatterState.PAID
                   and matter_state(s, MCA) == MatterState.APPROVED)
    # One more decision, and the worker stops right after it (its payment may be in flight).
    await approve(client, case, view_of(snap, NHSA), confirm=False)
    await first.shutdown()
    await running

    # No worker: the officers' decisions are still recorded by the server.
    rest = [view for view in parallel if view.code not in (PENSION, MCA, NHSA)]
    for view in rest:
        await approve(client, case, view, confirm=False)
    await matter_handle(client, case, rest[0].code).signal("approve")  # and a bad input among them
    for view in rest:
        events = [e.event_type async for e in matter_handle(client, case, view.code).fetch_history_events()]
        assert EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED in events, view.code
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING

    # A new worker on the same task queue finishes the case, the bank confirming each transfer.
    async with build_worker(client, task_queue, deps, executor):
        for view in [view_of(snap, NHSA), *rest]:
            if view.pays_family:
                await confirm_payment(client, case, view.code)
        result = await handle.result()
        snap = await status(handle)
        assert result.state == CaseState.COMPLETED
        for view in snap.matters:
            assert view.final, view.code
            assert view.state == (MatterState.PAID if view.pays_family else MatterState.APPROVED), view.code
        assert len(view_of(snap, rest[0].code).refused_actions) == 1
        for target in [handle, *(matter_handle(client, case, view.code) for view in snap.matters)]:
            assert await failed_workflow_tasks(target) == 0, target.id

    paid = {view.code.value: amount_for(view.code) for view in snap.matters if view.pays_family}
    payments = payment_rows(engine, case)
    assert Counter(row.matter for row in payments) == Counter(list(paid))
    assert ledger_amounts(engine, case) == paid
    _assert_each_message_once(engine, case)
    family = Counter(family_messages(engine, case))
    assert family == Counter(
        [("case_received", None), ("hukou_cancelled", None), ("case_completed", None)]
        + [("matter_approved", view.code.value) for view in parallel]
        + [("money_sent", code) for code in paid]
    )


class PaysThenCrashes:
    """A ledger whose first write for each matter commits, then the worker 'crashes' before answering."""

    def __init__(self, engine: Engine) -> None:
        self._ledger = LedgerPaymentGateway(engine)
        self._crashed: set[tuple[str, str]] = set()

    def instruct(self, instruction: PaymentInstruction) -> PaymentReceipt:
        receipt = self._ledger.instruct(instruction)
        key = (instruction.case_number, instruction.matter.value)
        if key not in self._crashed:
            self._crashed.add(key)
            raise ApplicationError("worker lost after the ledger write")
        return receipt


async def test_a_payment_retried_after_the_ledger_write_pays_once(
    client: Client, keys: Keys, task_queue: str, engine: Engine, deps: Dependencies,
    executor: concurrent.futures.ThreadPoolExecutor,
) -> None:
    deps.payments = PaysThenCrashes(engine)
    async with build_worker(client, task_queue, deps, executor):
        handle = await start(client, keys, task_queue, application_with(PensionStatus.ENTERPRISE_EMPLOYEE, NHSA))
        await to_parallel_phase(client, handle)
        result = await complete_parallel(client, handle)
    assert result.state == CaseState.COMPLETED
    paid = {code.value: amount_for(code) for code in (M.ENTERPRISE_EMPLOYEE_DEATH_BENEFIT, NHSA)}
    payments = payment_rows(engine, handle.id)
    assert Counter(row.matter for row in payments) == Counter(list(paid))
    assert ledger_amounts(engine, handle.id) == paid
    _assert_each_message_once(engine, handle.id)
