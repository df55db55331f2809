"""A paying system that turns an instruction down for good: the matter waits for a corrected account,
staff see the reason, and the corrected instruction goes out and is paid once.

The gateway wraps the real ledger, so the ledger, outbox and register are real.
"""

from __future__ import annotations

import concurrent.futures

from sqlalchemy.engine import Engine
from temporalio.client import Client

from activities.payments import LedgerPaymentGateway, PaymentRefused
from client.operations import correct_bank_account
from domain.enums import CaseState, MatterCode, MatterState, PensionStatus
from domain.models import PayeeCorrectedInput, PaymentInstruction, PaymentReceipt
from register.sealing import Sealer
from runtime.keys import Keys
from tests.factories import APPLICANT_NAME, make_card_number
from tests.signing import WINDOW
from tests.workflows import timeskip as ts
from tests.workflows.helpers import (
    application_with,
    approve,
    confirm_payment,
    matter_handle,
    payment_rows,
    start,
    to_parallel_phase,
    wait_for,
)
from worker import Dependencies, build_worker

PENSION = MatterCode.ENTERPRISE_RETIREE_DEATH_BENEFIT


async def _ledger(engine: Engine, case_number: str) -> list[tuple[int, str]]:
    return [(row.attempt, row.status) for row in payment_rows(engine, case_number)]


class RefusingFirst:
    """The ledger, except that the first instruction is refused as a closed account."""

    def __init__(self, inner: LedgerPaymentGateway) -> None:
        self._inner = inner
        self.calls = 0

    def instruct(self, instruction: PaymentInstruction) -> PaymentReceipt:
        self.calls += 1
        if instruction.attempt == 1:
            raise PaymentRefused("收款账户已销户")
        return self._inner.instruct(instruction)


async def test_a_refused_instruction_waits_for_a_corrected_account_and_then_pays_once(
    client: Client, keys: Keys, task_queue: str, engine: Engine, deps: Dependencies, sealer: Sealer,
    executor: concurrent.futures.ThreadPoolExecutor,
) -> None:
    gateway = RefusingFirst(LedgerPaymentGateway(engine, sealer))
    deps.payments = gateway
    async with build_worker(client, task_queue, deps, executor):
        handle = await start(client, keys, task_queue, application_with(PensionStatus.ENTERPRISE_RETIREE))
        await to_parallel_phase(client, handle)
        pension = matter_handle(client, handle.id, PENSION)
        await pension.signal("approve", {"officer": "人社钱", "amount": "3000.00"})
        failed = (await wait_for(pension, lambda s: s.matters[0].state == MatterState.PAYMENT_FAILED)).matters[0]
        # Refused for good: tried once, not retried, and staff are told why in plain words.
        assert gateway.calls == 1 and not failed.final
        assert failed.manual_handling and "收款账户已销户" in failed.manual_handling
        assert payment_rows(engine, handle.id) == []

        await correct_bank_account(client, handle.id, PayeeCorrectedInput(
            clerk="窗口李", bank_name="中国银行固阳支行", account_name=APPLICANT_NAME,
            card_number=make_card_number("622848", 19, 31)), WINDOW)
        paying = (await wait_for(pension, lambda s: s.matters[0].state == MatterState.PAYING)).matters[0]
        assert paying.manual_handling is None
        await confirm_payment(client, handle.id, PENSION)
        await wait_for(pension, lambda s: s.matters[0].state == MatterState.PAID)
        # The ledger is written right after the state changes; the refused instruction left no row.
        rows = await ts.poll(lambda: _ledger(engine, handle.id), lambda found: found != [(2, "instructed")])
        assert rows == [(2, "confirmed")]
        for view in (await wait_for(handle, lambda s: True)).matters:
            if view.state == MatterState.UNDER_REVIEW:
                await approve(client, handle.id, view)
        assert (await handle.result()).state == CaseState.COMPLETED
