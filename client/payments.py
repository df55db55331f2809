"""`shenhou payments`: the paying system's (and the supervisor's) list of payments waiting for its report —
instructed and not yet confirmed, or failed and not yet instructed again — read from the case register's
payment ledger."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict
from sqlalchemy import and_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased

from domain.enums import Department, MatterCode
from domain.ids import matter_workflow_id
from domain.policy import Policy
from register.money import to_yuan
from register.tables import PaymentRow, stored_utc


class PaymentStanding(StrEnum):
    AWAITING_CONFIRMATION = "待确认到账"
    FAILED = "发放失败"


class PaymentItem(BaseModel):
    """One payment that needs the paying system (or, when failed, the window's corrected account)."""

    model_config = ConfigDict(frozen=True)

    reference: str
    case_number: str
    matter: MatterCode
    matter_name: str
    department: Department
    standing: PaymentStanding
    attempt: int
    amount: Decimal
    payee_bank: str
    instructed_at: datetime
    failed_at: datetime | None = None
    failure_reason: str | None = None
    workflow_id: str


def list_payments(engine: Engine, policy: Policy, department: Department | None = None) -> list[PaymentItem]:
    """Payments instructed and unconfirmed, and failed ones no later attempt replaced; oldest first."""
    p = PaymentRow.__table__.c  # type: ignore[attr-defined]
    later = aliased(PaymentRow.__table__)  # type: ignore[attr-defined]
    replaced = select(later.c.id).where(and_(later.c.case_number == p.case_number, later.c.matter == p.matter,
                                             later.c.attempt > p.attempt)).exists()
    waiting = (p.status == "instructed") | ((p.status == "failed") & ~replaced)
    query = select(p.reference, p.case_number, p.matter, p.attempt, p.amount_fen, p.payee_bank, p.status,
                   p.instructed_at, p.failed_at, p.failure_reason).where(waiting).order_by(p.instructed_at)
    items: list[PaymentItem] = []
    with engine.connect() as connection:
        for row in connection.execute(query):
            try:
                definition = policy.matter(MatterCode(row.matter))
            except (KeyError, ValueError):
                continue
            if department is not None and definition.department is not department:
                continue
            items.append(PaymentItem(
                reference=row.reference, case_number=row.case_number, matter=definition.code,
                matter_name=definition.short_name, department=definition.department,
                standing=PaymentStanding.FAILED if row.status == "failed" else PaymentStanding.AWAITING_CONFIRMATION,
                attempt=row.attempt, amount=to_yuan(row.amount_fen), payee_bank=row.payee_bank,
                instructed_at=stored_utc(row.instructed_at),
                failed_at=stored_utc(row.failed_at) if row.failed_at else None,
                failure_reason=row.failure_reason, workflow_id=matter_workflow_id(row.case_number, definition.code),
            ))
    return items
