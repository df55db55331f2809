"""Instructing payments to the family. An instruction is idempotent: the ledger's unique key per case,
matter and attempt means a retried activity gives the same instruction back and pays nothing twice.

The paying system (the bank, through the department) later confirms or refuses the transfer; that report, signed
with the paying system's key (runtime/signing.py), reaches the matter as a signal and the ledger records it
(``RegisterActivities.record``). The payee's card
number is sealed in the ledger (register/sealed_fields.py: ``payee_card`` reads it back).
"""

from __future__ import annotations

import secrets
from decimal import Decimal
from functools import cache
from typing import Any, Protocol, cast

import structlog
from sqlalchemy import Row, Table, bindparam, select
from sqlalchemy.engine import Engine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.deadlines import DeadlineActivities
from domain.enums import AccountKind, ErrorType
from domain.identity import luhn_valid
from domain.models import PaymentInstruction, PaymentReceipt
from register import prepared
from register.engine import insert_for
from register.money import to_fen, to_yuan
from register.sealed_fields import payee_card_place
from register.sealing import Sealer
from register.tables import PaymentRow

log = structlog.get_logger()


class PaymentRefused(Exception):
    """The paying system turns the instruction down for good (e.g. the account is closed); the reason, in
    Chinese and without personal data, is shown to staff. Any other exception is retried."""


class PaymentGateway(Protocol):
    def instruct(self, instruction: PaymentInstruction) -> PaymentReceipt: ...


def new_payment_reference() -> str:
    """A reference nobody can work out from the case (the ledger row keeps it, so a retried instruction gets the
    same one back). It names a payment; it proves nothing: reports about it count only when signed."""
    return f"PAY-{secrets.token_hex(8).upper()}"


class LedgerPaymentGateway:
    """Writes the instruction to the payment ledger; the bank's payment file is produced from it."""

    def __init__(self, engine: Engine, sealer: Sealer | None = None) -> None:
        self._engine = engine
        # Without one (tests that never read the card back): a sealer of its own that nobody else can open.
        self._sealer = sealer or Sealer.ephemeral()

    def instruct(self, instruction: PaymentInstruction) -> PaymentReceipt:
        """One statement in one transaction: the instruction is added unless the ledger has one for the case,
        matter and attempt already (a retried activity, or an overlapping attempt), which is then read back and
        given again. (Reading first cost a second transaction for every instruction; through ORM objects, the
        same took four statements.)"""
        gross = instruction.gross if instruction.gross is not None else instruction.amount
        reference = new_payment_reference()
        amount_fen = to_fen(instruction.amount)
        values: dict[str, Any] = {
            "case_number": instruction.case_number,
            "matter": instruction.matter.value,
            "attempt": instruction.attempt,
            "reference": reference,
            "gross_fen": to_fen(gross),
            "offset_fen": to_fen(instruction.offset or Decimal(0)),
            "amount_fen": amount_fen,
            "payee_bank": instruction.payee.bank_name,
            "payee_name": instruction.payee.account_name,
            "payee_card": self._sealer.seal(instruction.payee.card_number, payee_card_place(reference)),
            "status": "instructed",
            "instructed_at": instruction.at,
            "confirmed_at": None,
            "failed_at": None,
            "failure_reason": None,
        }
        with self._engine.begin() as connection:
            added = prepared.changed(connection, _ledger_insert(connection.dialect.name), values)
        if added:
            return PaymentReceipt(reference=reference, amount=to_yuan(amount_fen), paid_at=instruction.at, new=True)
        existing = self._find({"case_key": instruction.case_number, "matter_key": instruction.matter.value,
                               "attempt_key": instruction.attempt})
        if existing is None:
            raise RuntimeError("the payment instruction was neither added nor found")
        return _receipt(existing, new=False)

    def _find(self, key: dict[str, Any]) -> Row[Any, Any, Any] | None:
        with self._engine.connect() as connection:
            return connection.execute(_LEDGER_FIND, key).first()


_LEDGER = cast(Table, PaymentRow.__table__)  # type: ignore[attr-defined]
_LEDGER_FIND = select(_LEDGER.c.reference, _LEDGER.c.amount_fen, _LEDGER.c.instructed_at).where(
    _LEDGER.c.case_number == bindparam("case_key"), _LEDGER.c.matter == bindparam("matter_key"),
    _LEDGER.c.attempt == bindparam("attempt_key"))


@cache
def _ledger_insert(dialect: str) -> Any:
    return insert_for(dialect)(_LEDGER).on_conflict_do_nothing(index_elements=["case_number", "matter", "attempt"])


def _receipt(row: Row[Any, Any, Any], *, new: bool) -> PaymentReceipt:
    return PaymentReceipt(reference=row.reference, amount=to_yuan(row.amount_fen), paid_at=row.instructed_at, new=new)


class PaymentActivities:
    def __init__(self, gateway: PaymentGateway, deadlines: DeadlineActivities) -> None:
        self._gateway = gateway
        self._deadlines = deadlines

    @activity.defn(name="instruct_payment")
    def instruct_payment(self, instruction: PaymentInstruction) -> PaymentReceipt:
        if instruction.amount <= 0:
            raise _refused("发放金额须大于零")
        payee = instruction.payee
        if payee.kind is AccountKind.NONE:
            raise _refused("未登记收款账户")
        # A passbook's (存折/一折通) number has no check digit: only a card's is checked.
        if payee.kind is AccountKind.CARD and not luhn_valid(payee.card_number):
            raise _refused("收款卡号校验不通过")
        try:
            receipt = self._gateway.instruct(instruction)
        except PaymentRefused as err:
            log.warning("payment_refused", case=instruction.case_number, matter=instruction.matter.value)
            raise _refused(str(err)) from err
        # Amount and reference only: the payee's card and name never reach a log line.
        log.info("payment_instructed", reference=receipt.reference, amount=str(receipt.amount), new=receipt.new)
        if instruction.confirm_within is not None:
            due = self._deadlines.deadline_of(instruction.confirm_within)
            receipt = receipt.model_copy(update={"confirm_by": due})
        return receipt


def _refused(reason: str) -> ApplicationError:
    # The message is staff-facing (the matter shows it as the reason the money did not go out).
    return ApplicationError(reason, type=ErrorType.PAYMENT_REFUSED.value, non_retryable=True)
