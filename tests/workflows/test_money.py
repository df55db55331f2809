"""Money, truthfully: 核定 → 发放中 until the paying system confirms → 已发放; ¥0; 多领抵扣; a failed transfer
and a corrected account; a payment nobody confirms goes to the supervisor."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.worker import Worker

from client.errors import OperationRefused
from client.operations import correct_bank_account
from domain.enums import AccountKind, CaseState, MatterCode, MatterState, PensionStatus
from domain.identity import luhn_valid
from domain.models import MatterView, PayeeCorrectedInput
from register.money import to_yuan
from register.sealed_fields import payee_card
from register.sealing import Sealer
from runtime.keys import Keys
from tests.factories import APPLICANT_CARD, APPLICANT_NAME, make_card_number
from tests.signing import WINDOW
from tests.workflows import timeskip as ts
from tests.workflows.helpers import (
    application_with,
    confirm_payment,
    correct_at_the_window,
    fail_payment,
    family_messages,
    matter_handle,
    outbox_rows,
    payment_rows,
    start,
    status,
    to_parallel_phase,
    view_of,
    wait_for,
)

NHSA = MatterCode.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT
PENSION = MatterCode.ENTERPRISE_RETIREE_DEATH_BENEFIT


async def _case(client: Client, keys: Keys, task_queue: str, *codes: MatterCode) -> str:
    handle = await start(client, keys, task_queue, application_with(PensionStatus.ENTERPRISE_RETIREE, *codes))
    await to_parallel_phase(client, handle)
    return handle.id


async def test_money_is_sent_only_when_the_paying_system_confirms(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker
) -> None:
    case = await _case(client, keys, task_queue)
    matter = matter_handle(client, case, PENSION)
    await matter.signal("approve", {"officer": "李科员", "amount": "28650.40"})
    paying = view_of(await wait_for(matter, lambda s: s.matters[0].state == MatterState.PAYING), PENSION)
    assert paying.amount == paying.net_amount == Decimal("28650.40") and paying.payment_reference
    # 核定 is told; "money sent" is not, and the ledger holds an instruction, not a payment.
    await ts.registered(lambda: ("matter_approved", PENSION.value) in family_messages(engine, case))
    assert ("money_sent", PENSION.value) not in family_messages(engine, case)
    [row] = payment_rows(engine, case)
    assert row.status == "instructed" and row.confirmed_at is None and to_yuan(row.amount_fen) == Decimal("28650.40")

    await confirm_payment(client, case, PENSION)
    paid = view_of(await wait_for(matter, lambda s: s.matters[0].state == MatterState.PAID), PENSION)
    assert paid.final and paid.payment_confirmed_at is not None
    await ts.registered(lambda: ("money_sent", PENSION.value) in family_messages(engine, case))
    [row] = payment_rows(engine, case)
    assert row.status == "confirmed" and row.confirmed_at is not None


async def test_nothing_to_pay_is_an_approval_without_a_payment(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker
) -> None:
    case = await _case(client, keys, task_queue, NHSA)
    matter = matter_handle(client, case, NHSA)
    await matter.signal("approve", {"officer": "医保赵", "amount": "0"})
    view = view_of(await wait_for(matter, lambda s: s.matters[0].final), NHSA)
    assert view.state == MatterState.APPROVED and view.amount == Decimal("0") and view.net_amount == Decimal("0")
    assert view.payment_reference is None
    assert [row.matter for row in payment_rows(engine, case)] == []
    await ts.registered(lambda: any("无款项发放" in row.message for row in outbox_rows(engine, case, "family")
                                 if row.matter == NHSA.value))


async def test_overpaid_pension_is_offset_and_a_negative_net_is_to_be_returned(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker
) -> None:
    case = await _case(client, keys, task_queue, NHSA)
    pension = matter_handle(client, case, PENSION)
    await pension.signal("approve", {"officer": "人社钱", "amount": "12000.00", "overpaid": "3150.55",
                                     "overpaid_source": "养老金多发3个月"})
    view = view_of(await wait_for(pension, lambda s: s.matters[0].state == MatterState.PAYING), PENSION)
    assert (view.amount, view.overpaid, view.net_amount) == (Decimal("12000.00"), Decimal("3150.55"),
                                                             Decimal("8849.45"))
    [row] = payment_rows(engine, case)
    assert (row.gross_fen, row.offset_fen, row.amount_fen) == (1_200_000, 315_055, 884_945)

    medical = matter_handle(client, case, NHSA)
    await medical.signal("approve", {"officer": "医保赵", "amount": "800.00", "overpaid": "1300.00",
                                     "overpaid_source": "医保账户多划"})
    owed = view_of(await wait_for(medical, lambda s: s.matters[0].final), NHSA)
    assert owed.state == MatterState.APPROVED and owed.net_amount == Decimal("0.00")
    assert owed.to_return == Decimal("500.00") and owed.payment_reference is None
    assert [r.matter for r in payment_rows(engine, case)] == [PENSION.value]
    await ts.registered(lambda: any(r.kind == "money_to_return" for r in outbox_rows(engine, case, "department")))
    family = [r.message for r in outbox_rows(engine, case, "family") if r.kind == "money_to_return"]
    assert len(family) == 1 and "500.00" in family[0] and "退回" in family[0]
    department = [r for r in outbox_rows(engine, case, "department") if r.kind == "money_to_return"]
    assert len(department) == 1 and department[0].department == "nhsa"

    await confirm_payment(client, case, PENSION)
    assert (await status(pension)).matters[0].state == MatterState.PAID


async def _failed_pension(client: Client, case: str, reason: str) -> tuple[Any, MatterView, MatterView]:
    """The pension approved, instructed, and reported failed by the paying system: its first and failed views."""
    pension = matter_handle(client, case, PENSION)
    await pension.signal("approve", {"officer": "人社钱", "amount": "5000.00"})
    first = (await wait_for(pension, lambda s: s.matters[0].state == MatterState.PAYING)).matters[0]
    await fail_payment(client, case, PENSION, first.payment_reference, reason)
    failed = view_of(await wait_for(pension, lambda s: s.matters[0].state == MatterState.PAYMENT_FAILED), PENSION)
    return pension, first, failed


async def test_a_failed_transfer_waits_for_a_corrected_account_of_the_applicant(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker, sealer: Sealer
) -> None:
    case = await _case(client, keys, task_queue)
    pension, first, failed = await _failed_pension(client, case, "账户已销户")
    assert failed.manual_handling and "账户已销户" in failed.manual_handling
    # The register is written right after the state changes.
    await ts.registered(lambda: any(r.kind == "payment_failed" for r in outbox_rows(engine, case, "family")))
    assert [r.status for r in payment_rows(engine, case)] == ["failed"]

    card = make_card_number("622848", 19, 77)
    # Straight to the matter from the Web UI, without the window's signature: refused, nothing changes.
    await pension.signal("payee_corrected", {"clerk": "窗口李", "bank_name": "中国银行固阳支行",
                                             "account_name": "王小明", "card_number": card,
                                             "references": [first.payment_reference]})
    bypass = (await wait_for(pension, lambda s: s.matters[0].refused_total == 1)).matters[0]
    assert bypass.state == MatterState.PAYMENT_FAILED and "受理窗口签名" in bypass.refused_actions[-1].reason
    with pytest.raises(OperationRefused, match="户名须为申请人本人"):
        await correct_bank_account(client, case, PayeeCorrectedInput(
            clerk="窗口李", bank_name="中国银行固阳支行", account_name="王小明", card_number=card), WINDOW)
    await correct_bank_account(client, case, PayeeCorrectedInput(
        clerk="窗口李", bank_name="中国银行固阳支行", account_name=APPLICANT_NAME, card_number=card), WINDOW)
    second = (await wait_for(pension, lambda s: s.matters[0].state == MatterState.PAYING)).matters[0]
    assert second.payment_reference and second.payment_reference != first.payment_reference
    # The correction was the handling the failure asked for: no longer on the supervisor's list.
    assert second.manual_handling is None
    await confirm_payment(client, case, PENSION)
    await wait_for(pension, lambda s: s.matters[0].state == MatterState.PAID)
    await ts.registered(lambda: sorted((r.attempt, r.status) for r in payment_rows(engine, case))
                        == [(1, "failed"), (2, "confirmed")])
    rows = sorted(payment_rows(engine, case), key=lambda row: row.attempt)
    # The ledger keeps each instruction's card (sealed at rest).
    assert payee_card(rows[1].payee_card, rows[1].reference, sealer) == card
    assert payee_card(rows[0].payee_card, rows[0].reference, sealer) == APPLICANT_CARD


async def test_an_authorised_payee_is_accepted_with_the_clerks_reason(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker
) -> None:
    case = await _case(client, keys, task_queue)
    pension = matter_handle(client, case, PENSION)
    await pension.signal("approve", {"officer": "人社钱", "amount": "5000.00"})
    first = (await wait_for(pension, lambda s: s.matters[0].state == MatterState.PAYING)).matters[0]
    await fail_payment(client, case, PENSION, first.payment_reference, "户名不符", by="银行")
    await wait_for(pension, lambda s: s.matters[0].state == MatterState.PAYMENT_FAILED)
    correction = PayeeCorrectedInput(
        clerk="窗口李", bank_name="中国银行固阳支行", account_name="王小明",
        card_number=make_card_number("6228", 19, 5), authorised_reason="申请人年迈，经公证委托其子代收",
        authorisation_document="（2026）固证字第0101号")

    await correct_at_the_window(client, case, correction)
    await wait_for(pension, lambda s: s.matters[0].state == MatterState.PAYING)
    assert {row.attempt: row.payee_name for row in payment_rows(engine, case)}[2] == "王小明"


async def test_a_payment_nobody_confirms_goes_to_the_supervisor(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker
) -> None:
    # Pinned: instructed on Tuesday 4 March, so three working days end with Friday 7 March, and the
    # supervisor hears of it on the next working day, Monday 10 March, at 09:00 (not over the weekend).
    tz = ZoneInfo("Asia/Shanghai")
    at = datetime(2036, 3, 4, 10, 0, tzinfo=tz)
    skipper = ts.pinned_skipper(client, at)
    handle, _ = await ts.pushed_case(skipper, keys, task_queue, NHSA, at=at)
    matter = matter_handle(skipper.client, handle.id, NHSA)
    await matter.signal("approve", {"officer": "医保赵", "amount": "640.00"})
    paying = (await wait_for(matter, lambda s: s.matters[0].state == MatterState.PAYING)).matters[0]
    assert paying.payment_instructed_at is not None
    await ts.advance_to(skipper, matter, datetime(2036, 3, 9, 23, 0, tzinfo=tz))
    assert not (await status(matter)).matters[0].manual_handling
    await ts.advance_to(skipper, matter, datetime(2036, 3, 10, 9, 0, tzinfo=tz) + ts.MARGIN)
    late = (await status(matter)).matters[0]
    assert late.state == MatterState.PAYING and late.manual_handling and "未确认到账" in late.manual_handling
    await ts.registered(
        lambda: any(r.kind == "payment_unconfirmed" for r in outbox_rows(engine, handle.id, "supervisor")))
    told = [r for r in outbox_rows(engine, handle.id, "supervisor") if r.kind == "payment_unconfirmed"]
    assert told and paying.payment_reference and paying.payment_reference in told[0].message
    # The bank's confirmation still closes it, and the case with it.
    await confirm_payment(client, handle.id, NHSA)
    assert (await handle.result()).state == CaseState.COMPLETED


async def test_a_corrected_account_may_be_a_passbook(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker, sealer: Sealer
) -> None:
    case = await _case(client, keys, task_queue)
    pension, _, _ = await _failed_pension(client, case, "卡已挂失")
    # A rural passbook (一折通) has no check digit: as a card it fails Luhn, as a passbook it is taken.
    passbook = "150222000123456781"
    assert not luhn_valid(passbook)
    with pytest.raises(OperationRefused, match="银行卡号校验不通过"):
        await correct_bank_account(client, case, PayeeCorrectedInput(
            clerk="窗口李", bank_name="固阳县农村信用社", account_name=APPLICANT_NAME, card_number=passbook), WINDOW)
    await correct_at_the_window(client, case, PayeeCorrectedInput(
        clerk="窗口李", bank_name="固阳县农村信用社", account_name=APPLICANT_NAME, card_number=passbook,
        kind=AccountKind.PASSBOOK))
    await confirm_payment(client, case, PENSION)
    await wait_for(pension, lambda s: s.matters[0].state == MatterState.PAID)
    await ts.registered(lambda: sorted((r.attempt, r.status) for r in payment_rows(engine, case))
                        == [(1, "failed"), (2, "confirmed")])
    second = max(payment_rows(engine, case), key=lambda row: row.attempt)
    assert payee_card(second.payee_card, second.reference, sealer) == passbook
