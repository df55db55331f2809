"""The payment instruction checks the payee by its kind: a card's number by its check digit, a passbook's
(存折/一折通, which rural subsidies use) as it is; with no account there is nothing to instruct."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import cast

import pytest
from sqlalchemy.engine import Engine
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.deadlines import DeadlineActivities
from activities.payments import LedgerPaymentGateway, PaymentActivities
from domain.enums import AccountKind, MatterCode
from domain.models import BankAccount, PaymentInstruction
from register.sealing import Sealer
from tests.factories import make_card_number

PASSBOOK = "4001238800129"  # 13 digits whose last is no check digit
CARD = make_card_number("622848", 19, 7)


def _instruction(payee: BankAccount) -> PaymentInstruction:
    return PaymentInstruction(case_number="SH-PAYEEKINDS01", matter=MatterCode.RESIDENT_PENSION_FUNERAL_SUBSIDY,
                              amount=Decimal("1200.00"), payee=payee, at=datetime(2027, 3, 1, 2, tzinfo=UTC))


def _activities(engine: Engine, sealer: Sealer) -> PaymentActivities:
    # No confirmation deadline is asked for here, so the deadline activities are never called.
    return PaymentActivities(LedgerPaymentGateway(engine, sealer), cast(DeadlineActivities, None))


def test_a_passbook_is_paid_and_a_card_must_pass_its_check_digit(engine: Engine, sealer: Sealer) -> None:
    pay = _activities(engine, sealer).instruct_payment
    passbook = BankAccount(bank_name="固阳县农村信用合作联社", account_name="王秀兰", card_number=PASSBOOK,
                           kind=AccountKind.PASSBOOK)
    receipt = ActivityEnvironment().run(pay, _instruction(passbook))
    assert receipt.amount == Decimal("1200.00") and receipt.new

    as_card = passbook.model_copy(update={"kind": AccountKind.CARD})
    with pytest.raises(ApplicationError, match="收款卡号校验不通过"):
        ActivityEnvironment().run(pay, _instruction(as_card).model_copy(update={"attempt": 2}))
    card = as_card.model_copy(update={"card_number": CARD})
    assert ActivityEnvironment().run(pay, _instruction(card).model_copy(update={"attempt": 3})).new


def test_nothing_is_instructed_without_an_account(engine: Engine, sealer: Sealer) -> None:
    with pytest.raises(ApplicationError, match="未登记收款账户") as raised:
        ActivityEnvironment().run(_activities(engine, sealer).instruct_payment, _instruction(BankAccount.none()))
    assert raised.value.non_retryable
