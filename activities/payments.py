"""Paying the family. The ledger's unique key per case and matter makes a retry pay nothing twice."""

from __future__ import annotations

import hashlib
from typing import Protocol

import structlog
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.register_db import PaymentRow
from domain.enums import ErrorType
from domain.identity import luhn_valid
from domain.models import PaymentInstruction, PaymentReceipt


class PaymentGateway(Protocol):
    def pay(self, instruction: PaymentInstruction) -> PaymentReceipt: ...


def payment_reference(case_number: str, matter: str) -> str:
    digest = hashlib.sha256(f"{case_number}/{matter}".encode()).hexdigest()[:16].upper()
    return f"PAY-{digest}"


class LedgerPaymentGateway:
    """Writes the instruction to the payments ledger; the bank file is produced from it."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def pay(self, instruction: PaymentInstruction) -> PaymentReceipt:
        with Session(self._engine) as session:
            existing = self._find(session, instruction)
            if existing is not None:
                return _receipt(existing, new=False)
            row = PaymentRow(
                case_number=instruction.case_number,
                matter=instruction.matter.value,
                amount=instruction.amount,
                payee_bank=instruction.payee.bank_name,
                payee_name=instruction.payee.account_name,
                payee_card=instruction.payee.card_number,
                reference=payment_reference(instruction.case_number, instruction.matter.value),
                paid_at=instruction.at,
            )
            session.add(row)
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                existing = self._find(session, instruction)
                assert existing is not None
                return _receipt(existing, new=False)
            return _receipt(row, new=True)

    @staticmethod
    def _find(session: Session, instruction: PaymentInstruction) -> PaymentRow | None:
        return session.exec(
            select(PaymentRow).where(
                PaymentRow.case_number == instruction.case_number,
                PaymentRow.matter == instruction.matter.value,
            )
        ).first()


def _receipt(row: PaymentRow, *, new: bool) -> PaymentReceipt:
    return PaymentReceipt(reference=row.reference, amount=row.amount, paid_at=row.paid_at, new=new)


log = structlog.get_logger()


class PaymentActivities:
    def __init__(self, gateway: PaymentGateway) -> None:
        self._gateway = gateway

    @activity.defn(name="pay_family")
    def pay_family(self, instruction: PaymentInstruction) -> PaymentReceipt:
        if instruction.amount <= 0:
            raise ApplicationError(
                "payment amount must be positive",
                type=ErrorType.PAYMENT_REFUSED.value,
                non_retryable=True,
            )
        if not luhn_valid(instruction.payee.card_number):
            raise ApplicationError(
                "payee card number fails the Luhn check",
                type=ErrorType.PAYMENT_REFUSED.value,
                non_retryable=True,
            )
        receipt = self._gateway.pay(instruction)
        # Amount and reference only: the payee's card and name never reach a log line.
        log.info("payment_instructed", reference=receipt.reference, amount=str(receipt.amount), new=receipt.new)
        return receipt
