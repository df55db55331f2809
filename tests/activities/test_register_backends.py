"""The register on both of its backends: SQLite (the embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from activities.payments import LedgerPaymentGateway
from domain.enums import MatterCode
from domain.models import BankAccount, PaymentInstruction
from register.money import to_fen, to_yuan
from register.tables import PaymentRow
from tests.factories import APPLICANT_CARD, APPLICANT_NAME
from tests.postgres import open_register

CASE = "GY20261120000001"
MATTER = MatterCode.ENTERPRISE_RETIREE_DEATH_BENEFIT
PAID_AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
# Not representable as a binary float: a float anywhere on the way would show in the last digit.
AMOUNT = Decimal("123456789012.01")


@pytest.fixture
def register(register_url: str) -> Iterator[Engine]:
    yield from open_register(register_url)


@pytest.fixture
def pg_register(postgres_url: str) -> Iterator[Engine]:
    yield from open_register(postgres_url)


def _payment(reference: str) -> PaymentRow:
    return PaymentRow(
        case_number=CASE,
        matter=MATTER.value,
        reference=reference,
        gross_fen=to_fen(AMOUNT),
        offset_fen=0,
        amount_fen=to_fen(AMOUNT),
        payee_bank="中国工商银行固阳支行",
        payee_name=APPLICANT_NAME,
        payee_card=APPLICANT_CARD,
        instructed_at=PAID_AT,
    )


def test_amount_round_trips_exactly_and_a_second_payment_row_is_refused(register: Engine) -> None:
    gateway = LedgerPaymentGateway(register)
    receipt = gateway.instruct(PaymentInstruction(
        case_number=CASE, matter=MATTER, amount=AMOUNT, gross=AMOUNT + Decimal("0.99"), offset=Decimal("0.99"),
        payee=BankAccount(bank_name="中国工商银行固阳支行", account_name=APPLICANT_NAME, card_number=APPLICANT_CARD),
        at=PAID_AT,
    ))
    assert receipt.amount == AMOUNT and str(receipt.amount) == "123456789012.01"

    with register.connect() as connection:
        # What the database itself holds: integers of fen, not floating point.
        raw = connection.execute(text("SELECT gross_fen, offset_fen, amount_fen FROM payment_ledger")).one()
    assert tuple(raw) == (12345678901300, 99, 12345678901201)
    assert all(type(value) is int for value in raw)

    with Session(register) as session:
        session.add(_payment("PAY-2"))
        with pytest.raises(IntegrityError):
            session.commit()

    with Session(register) as session:
        assert session.exec(select(func.count()).select_from(PaymentRow)).one() == 1


def test_concurrent_duplicate_payments_pay_once(pg_register: Engine) -> None:
    attempts = 12  # within the engine's pool (5 + 10 overflow), so every thread holds a connection at once
    instruction = PaymentInstruction(
        case_number=CASE,
        matter=MATTER,
        amount=AMOUNT,
        payee=BankAccount(bank_name="中国工商银行固阳支行", account_name=APPLICANT_NAME, card_number=APPLICANT_CARD),
        at=PAID_AT,
    )
    gateway = LedgerPaymentGateway(pg_register)
    start = threading.Barrier(attempts)

    def attempt(_: int) -> tuple[str, bool]:
        start.wait()
        receipt = gateway.instruct(instruction)
        return receipt.reference, receipt.new

    with ThreadPoolExecutor(max_workers=attempts) as pool:
        results = list(pool.map(attempt, range(attempts)))

    assert len({reference for reference, _ in results}) == 1
    assert [new for _, new in results].count(True) == 1
    with Session(pg_register) as session:
        rows = session.exec(select(PaymentRow)).all()
    assert len(rows) == 1
    assert to_yuan(rows[0].amount_fen) == AMOUNT
