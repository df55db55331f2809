"""The case register: the relational system of record that outlives workflow retention.

It also holds the department inboxes, the family notification outbox and the payment ledger. Every
table that an activity writes has a natural unique key so a retried activity writes nothing twice.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, Numeric, UniqueConstraint
from sqlalchemy.engine import Engine
from sqlmodel import Field, SQLModel, create_engine


class CaseRow(SQLModel, table=True):
    __tablename__ = "cases"

    case_number: str = Field(primary_key=True, max_length=32)
    channel: str
    state: str = Field(index=True)
    # Personal data stays in the register, which is the government's record; never in Temporal ids.
    application: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    received_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None


class MatterRow(SQLModel, table=True):
    __tablename__ = "matters"
    __table_args__ = (UniqueConstraint("case_number", "matter"),)

    id: int | None = Field(default=None, primary_key=True)
    case_number: str = Field(index=True, max_length=32)
    matter: str = Field(max_length=64)
    department: str = Field(index=True, max_length=16)
    state: str = Field(index=True)
    deadline: datetime | None = None
    overdue: bool = False
    escalation_level: int = 0
    amount: Decimal | None = Field(default=None, sa_column=Column(Numeric(14, 2)))
    view: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    updated_at: datetime


class AuditRow(SQLModel, table=True):
    """The audit trail: every decision, escalation and state change, once each."""

    __tablename__ = "audit_events"
    __table_args__ = (UniqueConstraint("case_number", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    case_number: str = Field(index=True, max_length=32)
    matter: str | None = Field(default=None, max_length=64)
    key: str = Field(max_length=160)
    event: str
    actor: str
    at: datetime


class InboxRow(SQLModel, table=True):
    """A department's work item."""

    __tablename__ = "department_inbox"
    __table_args__ = (UniqueConstraint("case_number", "matter"),)

    id: int | None = Field(default=None, primary_key=True)
    case_number: str = Field(index=True, max_length=32)
    matter: str = Field(max_length=64)
    department: str = Field(index=True, max_length=16)
    status: str = "open"
    pushed_at: datetime
    closed_at: datetime | None = None
    close_reason: str | None = None
    hukou_certificate_no: str | None = None


class OutboxRow(SQLModel, table=True):
    """Messages to the family, departments and supervisors, delivered by a separate sender."""

    __tablename__ = "notification_outbox"
    __table_args__ = (UniqueConstraint("case_number", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    case_number: str = Field(index=True, max_length=32)
    matter: str | None = Field(default=None, max_length=64)
    key: str = Field(max_length=160)
    kind: str = Field(index=True)
    recipient: str
    department: str | None = None
    message: str
    created_at: datetime
    sent_at: datetime | None = None


class PaymentRow(SQLModel, table=True):
    """The payment ledger: one row per case and matter, so nothing is ever paid twice."""

    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("case_number", "matter"),)

    id: int | None = Field(default=None, primary_key=True)
    case_number: str = Field(index=True, max_length=32)
    matter: str = Field(max_length=64)
    amount: Decimal = Field(sa_column=Column(Numeric(14, 2), nullable=False))
    payee_bank: str
    payee_name: str
    payee_card: str
    reference: str = Field(unique=True, max_length=64)
    paid_at: datetime


def make_engine(url: str) -> Engine:
    connect_args: dict[str, Any] = {}
    if url.startswith("sqlite"):
        # Activities run in worker threads; SQLite's per-thread check does not apply to pooled use.
        connect_args = {"check_same_thread": False, "timeout": 30}
    engine = create_engine(url, connect_args=connect_args, pool_pre_ping=True)
    if url.startswith("sqlite"):
        from sqlalchemy import event

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.close()

    return engine


def create_schema(engine: Engine) -> None:
    SQLModel.metadata.create_all(engine)
