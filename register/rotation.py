"""Re-sealing the register under the active key (``shenhou keys rotate``).

Every sealed value (register/sealed_fields.py) not under the active key id is opened and sealed again under
it; a clear value from before sealing is sealed, and a case without its applicant lookup hash gets one. Rows
are taken in batches in primary-key order, each batch in its own transaction, so an interrupted run keeps
what it finished and a new run carries on: a row already under the active key is counted and left alone
(idempotent). Only the sealed columns are written, so the worker may keep running meanwhile.

A row with a value that no configured key opens is counted as unreadable and left as it is; the run goes on
with the others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from register.contacts import contact_place
from register.sealed_fields import (
    APPLICATION_FIELDS,
    applicant_id_hash,
    payee_card_place,
    resealed_application,
    stored_value,
)
from register.sealing import Sealer, UnsealError, is_sealed
from register.tables import CaseRow, FamilyContactRow, PaymentRow

DEFAULT_BATCH_SIZE = 200


@dataclass
class Tally:
    """Rows of one table: looked at, rewritten under the active key (of which held clear values), already
    current, and left alone because a value does not open."""

    examined: int = 0
    resealed: int = 0
    from_clear: int = 0
    current: int = 0
    unreadable: int = 0


@dataclass
class Rotation:
    active_key_id: str
    cases: Tally = field(default_factory=Tally)
    payments: Tally = field(default_factory=Tally)
    # The numbers funeral homes recorded for the family's invitation (register/contacts.py).
    contacts: Tally = field(default_factory=Tally)

    @property
    def unreadable(self) -> int:
        return self.cases.unreadable + self.payments.unreadable + self.contacts.unreadable


def rotate(engine: Engine, sealer: Sealer, batch_size: int = DEFAULT_BATCH_SIZE,
           on_batch: Callable[[Rotation], None] | None = None) -> Rotation:
    """Bring every sealed value of the register under ``sealer``'s active key."""
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    result = Rotation(active_key_id=sealer.active_key_id)
    after_case = ""
    while (last := _case_batch(engine, sealer, after_case, batch_size, result.cases)) is not None:
        after_case = last
        if on_batch is not None:
            on_batch(result)
    after_payment = 0
    while (last_id := _payment_batch(engine, sealer, after_payment, batch_size, result.payments)) is not None:
        after_payment = last_id
        if on_batch is not None:
            on_batch(result)
    after_contact = ""
    while (last := _contact_batch(engine, sealer, after_contact, batch_size, result.contacts)) is not None:
        after_contact = last
        if on_batch is not None:
            on_batch(result)
    return result


def _contact_batch(engine: Engine, sealer: Sealer, after: str, size: int, tally: Tally) -> str | None:
    with Session(engine) as session:
        rows = session.exec(
            select(FamilyContactRow.case_number, FamilyContactRow.phone)
            .where(col(FamilyContactRow.case_number) > after).order_by(col(FamilyContactRow.case_number)).limit(size)
        ).all()
        for case_number, phone in rows:
            if (resealed := _resealed(sealer, tally, phone, contact_place(case_number))) is None:
                continue
            session.exec(update(FamilyContactRow).where(col(FamilyContactRow.case_number) == case_number)
                         .values(phone=resealed))
        session.commit()
    return str(rows[-1][0]) if rows else None


def _case_batch(engine: Engine, sealer: Sealer, after: str, size: int, tally: Tally) -> str | None:
    """One batch of cases after ``after``; the last case number seen, None when there were none."""
    with Session(engine) as session:
        rows = session.exec(
            select(CaseRow.case_number, CaseRow.application, CaseRow.applicant_id_hash)
            .where(col(CaseRow.case_number) > after).order_by(col(CaseRow.case_number)).limit(size)
        ).all()
        for case_number, application, lookup in rows:
            tally.examined += 1
            values: dict[str, Any] = {}
            try:
                stored = application if isinstance(application, dict) else {}
                resealed = resealed_application(stored, case_number, sealer)
                if resealed is not None:
                    values["application"] = resealed
                if lookup is None and (hashed := applicant_id_hash(stored, case_number, sealer)) is not None:
                    values["applicant_id_hash"] = hashed
            except UnsealError:
                tally.unreadable += 1
                continue
            if not values:
                tally.current += 1
                continue
            tally.resealed += 1
            tally.from_clear += _holds_clear(stored)
            session.exec(update(CaseRow).where(col(CaseRow.case_number) == case_number).values(**values))
        session.commit()
    return str(rows[-1][0]) if rows else None


def _payment_batch(engine: Engine, sealer: Sealer, after: int, size: int, tally: Tally) -> int | None:
    with Session(engine) as session:
        rows = session.exec(
            select(PaymentRow.id, PaymentRow.reference, PaymentRow.payee_card)
            .where(col(PaymentRow.id) > after).order_by(col(PaymentRow.id)).limit(size)
        ).all()
        for row_id, reference, card in rows:
            if (resealed := _resealed(sealer, tally, card, payee_card_place(reference))) is None:
                continue
            session.exec(update(PaymentRow).where(col(PaymentRow.id) == row_id).values(payee_card=resealed))
        session.commit()
    last = rows[-1][0] if rows else None
    return int(last) if last is not None else None


def _resealed(sealer: Sealer, tally: Tally, value: str, place: str) -> str | None:
    """One sealed field under the active key, counted in ``tally``; None when there is nothing to write."""
    tally.examined += 1
    try:
        resealed = sealer.resealed(value, place)
    except UnsealError:
        tally.unreadable += 1
        return None
    if resealed is None:
        tally.current += 1
        return None
    tally.resealed += 1
    tally.from_clear += not is_sealed(value)
    return resealed


def _holds_clear(application: dict[str, Any]) -> bool:
    return any(
        (value := stored_value(application, path)) is not None and not is_sealed(value) for path in APPLICATION_FIELDS
    )
