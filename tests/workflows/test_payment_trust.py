"""Money moves only on the paying system's word, and a payee changes only at the window.

Each test is an attack made with nothing but the officers' tool (a signal with any JSON, every payload of the
workflow readable through the codec): a forged or replayed payment report, a payee change sent straight to a
matter, a statement signed for another case or payment, a withdrawal nobody signed. Each is refused, recorded,
and leaves the money where it was.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.worker import Worker

from client.errors import OperationRefused
from client.operations import correct_bank_account
from domain.enums import CaseState, Issuer, MatterCode, MatterState, PensionStatus
from domain.models import PayeeCorrectedInput, PaymentFailedInput, StatusSnapshot
from runtime.keys import Keys
from runtime.signing import StatementSigner
from tests.factories import APPLICANT_NAME, make_card_number
from tests.signing import PAYING_SYSTEM, WINDOW, signed_payload
from tests.workflows import timeskip as ts
from tests.workflows.helpers import (
    application_with,
    confirm_payment,
    correct_at_the_window,
    fail_payment,
    matter_handle,
    payment_rows,
    start,
    to_parallel_phase,
    wait_for,
)

PENSION = MatterCode.ENTERPRISE_RETIREE_DEATH_BENEFIT
NHSA = MatterCode.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT
STRANGER_CARD = make_card_number("621700", 19, 4242)


async def _paying(client: Client, keys: Keys, task_queue: str) -> tuple[str, Any, str]:
    handle = await start(client, keys, task_queue, application_with(PensionStatus.ENTERPRISE_RETIREE, NHSA))
    await to_parallel_phase(client, handle)
    pension = matter_handle(client, handle.id, PENSION)
    await pension.signal("approve", {"officer": "人社钱", "amount": "5000.00"})
    view = (await wait_for(pension, lambda s: s.matters[0].state == MatterState.PAYING)).matters[0]
    assert view.payment_reference is not None
    return handle.id, pension, view.payment_reference


async def _refusals(matter: Any, count: int) -> StatusSnapshot:
    snap: StatusSnapshot = await wait_for(matter, lambda s: s.matters[0].refused_total >= count)
    return snap


async def test_a_forged_payment_failure_and_a_direct_payee_change_move_no_money(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker
) -> None:
    case, pension, reference = await _paying(client, keys, task_queue)
    # The reference is shown to staff, but nobody can work it out from the case number any more.
    assert reference != "PAY-" + hashlib.sha256(f"{case}/{PENSION.value}".encode()).hexdigest()[:16].upper()

    # 1. payment_failed as the Web UI sends it: the right reference, no signature.
    await pension.signal("payment_failed", {"reference": reference, "by": "工商银行代发系统", "reason": "账户已销户"})
    # 2. ... signed, but by a key the worker does not trust (a stranger's own key pair).
    stranger = StatementSigner(Issuer.PAYING_SYSTEM, b"\x07" * 32)
    await pension.signal("payment_failed", signed_payload(
        stranger, case, PENSION, PaymentFailedInput(reference=reference, by="工商银行代发系统", reason="账户已销户")))
    # 3. ... signed by the window's key, which is not the paying system's.
    await pension.signal("payment_failed", signed_payload(
        StatementSigner(Issuer.PAYING_SYSTEM, WINDOW.seed), case, PENSION,
        PaymentFailedInput(reference=reference, by="银行", reason="账户已销户")))
    # 4. ... a genuine signature with the reason changed afterwards.
    genuine = signed_payload(PAYING_SYSTEM, case, PENSION,
                             PaymentFailedInput(reference=reference, by="银行", reason="户名不符"))
    await pension.signal("payment_failed", {**genuine, "reason": "账户已销户，请改汇"})
    # 5. payee_corrected straight to the matter, with everything a reader can copy from the payloads.
    await pension.signal("payee_corrected", {"clerk": "窗口李", "bank_name": "中国银行", "account_name": "陌生人",
                                             "card_number": STRANGER_CARD, "references": [reference],
                                             "authorised_reason": "委托", "authorisation_document": "无"})
    snap = await _refusals(pension, 5)
    view = snap.matters[0]
    assert view.state == MatterState.PAYING and view.payment_reference == reference
    reasons = [refused.reason for refused in view.refused_actions]
    assert sum("支付系统" in reason for reason in reasons) == 4, reasons
    # The payee change finds no failed payment (the forged failures changed nothing); the case-level rule that
    # it needs the window's signature is shown in test_money.py.
    assert [refused.action for refused in view.refused_actions].count("payee_corrected") == 1
    rows = payment_rows(engine, case)
    assert [(row.attempt, row.status) for row in rows] == [(1, "instructed")]
    # The paying system's own word still counts.
    await confirm_payment(client, case, PENSION)
    await wait_for(pension, lambda s: s.matters[0].state == MatterState.PAID)
    # The refusals are in the register's audit trail (written with the matter's next change).
    await ts.registered(lambda: sum(event.startswith("拒绝操作") for event in ts.audit_events(engine, case, PENSION))
                        >= 5)


async def test_a_signed_statement_counts_once_and_only_where_it_was_given(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker
) -> None:
    case, pension, first = await _paying(client, keys, task_queue)
    other, other_pension, other_reference = await _paying(client, keys, task_queue)

    # A genuine failure report of one case, replayed to another case's matter: refused there.
    report = signed_payload(PAYING_SYSTEM, case, PENSION,
                            PaymentFailedInput(reference=first, by="银行", reason="账户已销户"))
    await other_pension.signal("payment_failed", {**report, "reference": other_reference})
    assert (await _refusals(other_pension, 1)).matters[0].state == MatterState.PAYING

    await fail_payment(client, case, PENSION, first, "账户已销户")
    await wait_for(pension, lambda s: s.matters[0].state == MatterState.PAYMENT_FAILED)

    # The window's correction for this case, replayed to the other case: refused (another case, another payment).
    correction = PayeeCorrectedInput(clerk="窗口李", bank_name="中国银行", account_name=APPLICANT_NAME,
                                     card_number=make_card_number("6228", 19, 8), references=(first,))
    signed = signed_payload(WINDOW, case, None, correction)
    await fail_payment(client, other, PENSION, other_reference, "账户已销户")
    await wait_for(other_pension, lambda s: s.matters[0].state == MatterState.PAYMENT_FAILED)
    before = (await matter_handle(client, other, PENSION).query("status", result_type=StatusSnapshot)).matters[0]
    await other_pension.signal("payee_corrected", {**signed, "references": [other_reference]})
    after = (await _refusals(other_pension, before.refused_total + 1)).matters[0]
    assert after.state == MatterState.PAYMENT_FAILED

    await correct_at_the_window(client, case, correction)
    second = (await wait_for(pension, lambda s: s.matters[0].state == MatterState.PAYING)).matters[0]
    assert second.payment_reference not in (None, first)

    # Replayed after it was used: the payment it named is gone, so it names nothing.
    await pension.signal("payee_corrected", signed)
    # The old failure report, replayed against the new instruction: another reference, refused.
    await pension.signal("payment_failed", report)
    again = (await _refusals(pension, 2)).matters[0]
    assert again.state == MatterState.PAYING and again.payment_reference == second.payment_reference
    await confirm_payment(client, case, PENSION)
    await ts.registered(lambda: sorted((row.attempt, row.status) for row in payment_rows(engine, case))
                        == [(1, "failed"), (2, "confirmed")])


async def test_an_authorised_payee_needs_the_authorisation_on_file(
    client: Client, keys: Keys, task_queue: str, worker: Worker
) -> None:
    case, pension, reference = await _paying(client, keys, task_queue)
    await fail_payment(client, case, PENSION, reference, "户名不符")
    await wait_for(pension, lambda s: s.matters[0].state == MatterState.PAYMENT_FAILED)
    card = make_card_number("6228", 19, 6)
    with pytest.raises(OperationRefused, match="收款委托书"):
        await ts.poll(lambda: correct_bank_account(client, case, PayeeCorrectedInput(
            clerk="窗口李", bank_name="中国银行", account_name="王小明", card_number=card,
            authorised_reason="申请人委托其子代收"), WINDOW), lambda ack: True)


async def test_a_withdrawal_nobody_signed_is_refused_and_the_case_goes_on(
    client: Client, keys: Keys, task_queue: str, worker: Worker
) -> None:
    handle = await start(client, keys, task_queue)
    await to_parallel_phase(client, handle)
    await handle.signal("withdraw", {"clerk": "窗口刘", "reason": "家属决定自行办理"})
    own = await ts.poll(lambda: handle.query("status", result_type=StatusSnapshot),
                        lambda s: s.refused_total >= 1)
    assert own.case_state == CaseState.IN_PROGRESS and "受理窗口签名" in own.refused_actions[-1].reason
