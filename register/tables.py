"""The register's tables. Every table an activity writes has a natural unique key, so a retried activity
writes nothing twice; amounts are integer fen (``register.money``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, UniqueConstraint
from sqlmodel import Field, SQLModel


def stored_utc(at: datetime) -> datetime:
    """A time read back from the register, which keeps UTC times without their zone (SQLite drops it)."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


class CaseRow(SQLModel, table=True):
    __tablename__ = "cases"

    case_number: str = Field(primary_key=True, max_length=32)
    channel: str
    state: str = Field(index=True)
    # Personal data stays in the register, which is the government's record; never in Temporal ids. Identity,
    # phone and card numbers inside are sealed (register/sealed_fields.py); rows from before sealing hold them
    # in clear until `shenhou keys rotate`.
    application: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    # Finds an applicant's cases by identity number without storing it (register/lookups.py: cases_of_applicant).
    applicant_id_hash: str | None = Field(default=None, index=True, max_length=64)
    received_at: datetime = Field(index=True)
    updated_at: datetime
    closed_at: datetime | None = Field(default=None, index=True)
    # An application after an earlier case for the same deceased ended with nothing for the family.
    previous_case: str | None = Field(default=None, max_length=32)


class MatterRow(SQLModel, table=True):
    """A matter's latest state, with the figures the supervisor's report reads (written at every change)."""

    __tablename__ = "matters"
    __table_args__ = (UniqueConstraint("case_number", "matter"),)

    id: int | None = Field(default=None, primary_key=True)
    case_number: str = Field(index=True, max_length=32)
    matter: str = Field(max_length=64)
    department: str = Field(index=True, max_length=16)
    state: str = Field(index=True)
    deadline: datetime | None = None
    # The supervisor's overdue listing reads these (client/supervision.py: list_overdue_in_register).
    overdue: bool = Field(default=False, index=True)
    escalation_level: int = 0
    manual_handling: bool = Field(default=False, index=True)
    view: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    updated_at: datetime
    pushed_at: datetime | None = Field(default=None, index=True)
    # When the department decided (approved or rejected), and whether that was within the deadline.
    decided_at: datetime | None = Field(default=None, index=True)
    closed_at: datetime | None = None
    on_time: bool | None = None
    # Working days from push to decision, the 补正 pauses left out.
    handling_working_days: int | None = None
    deadline_approximate: bool = False
    working_days_overdue: int = 0
    warnings: int = 0
    overdue_notices: int = 0
    reminders: int = 0
    supervisions: int = 0
    materials_requests: int = 0
    extensions: int = 0
    extension_working_days: int = 0
    gross_fen: int | None = Field(default=None, sa_column=Column(BigInteger))
    offset_fen: int | None = Field(default=None, sa_column=Column(BigInteger))
    net_fen: int | None = Field(default=None, sa_column=Column(BigInteger))
    to_return_fen: int | None = Field(default=None, sa_column=Column(BigInteger))
    # What the paying system confirmed the family received.
    paid_fen: int | None = Field(default=None, sa_column=Column(BigInteger))


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
    """A department's work item; closed with the matter's outcome."""

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
    # The department's unit that handles the item: the police matter's 户籍地派出所 (None: the department's own).
    unit: str | None = Field(default=None, max_length=60)


class OutboxRow(SQLModel, table=True):
    """Messages to the family, departments and supervisors, delivered by the dispatcher."""

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
    # Set once, when the channel accepted the message (notify/dispatcher.py).
    sent_at: datetime | None = None
    # Delivery bookkeeping of the dispatcher: failed tries, when to try again, who holds the message
    # now (a lease: after it ends another dispatcher may resend, with the same idempotency key), and a
    # message given up for good (a number the gateway refuses, or too many failures).
    attempts: int = 0
    next_attempt_at: datetime | None = None
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = None
    last_error: str | None = None
    failed_at: datetime | None = None
    failed_reason: str | None = None


class PaymentRow(SQLModel, table=True):
    """The payment ledger: one instruction per case, matter and attempt, so nothing is paid twice; a new
    attempt only after the paying system reported the previous one failed."""

    __tablename__ = "payment_ledger"
    __table_args__ = (UniqueConstraint("case_number", "matter", "attempt"),)

    id: int | None = Field(default=None, primary_key=True)
    case_number: str = Field(index=True, max_length=32)
    matter: str = Field(max_length=64)
    attempt: int = 1
    reference: str = Field(unique=True, max_length=64)
    gross_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    offset_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    # What is transferred: gross less offset.
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    payee_bank: str
    payee_name: str
    # Sealed (register/sealed_fields.py: payee_card); clear in rows from before sealing.
    payee_card: str
    status: str = Field(default="instructed", index=True)
    instructed_at: datetime
    confirmed_at: datetime | None = None
    failed_at: datetime | None = None
    failure_reason: str | None = None


class ConsentRow(SQLModel, table=True):
    """The applicant's explicit consent to the processing of sensitive personal information (PIPL art. 29),
    given on its own page before an online application: which notice (version and sha256 of its text), by
    whom (keyed hash of the identity number, as ``cases.applicant_id_hash``) and when. Written by the portal
    once the case is started (portal/consent.py)."""

    __tablename__ = "consents"
    __table_args__ = (UniqueConstraint("case_number", "applicant_id_hash", "notice_version"),)

    id: int | None = Field(default=None, primary_key=True)
    case_number: str = Field(index=True, max_length=32)
    applicant_id_hash: str = Field(max_length=64)
    notice_version: str = Field(max_length=32)
    notice_sha256: str = Field(max_length=64)
    channel: str = Field(max_length=16)
    consented_at: datetime
    recorded_at: datetime


class FamilyContactRow(SQLModel, table=True):
    """The family's mobile number the funeral home recorded, with the family's consent, when its cremation
    certificate opened the case before the family applied: where the one invitation to apply goes
    (register/contacts.py). Sealed like the application's phone; written by the client, never carried in a
    workflow's input, id or search attributes."""

    __tablename__ = "family_contacts"

    case_number: str = Field(primary_key=True, max_length=32)
    phone: str
    funeral_home: str = Field(max_length=64)
    consented_at: datetime


class OptOutRow(SQLModel, table=True):
    """A number whose owner replied 退订 to one of our messages (register/opt_outs.py): the messages nobody asked
    for — the funeral home's invitation and the reminders of lapsing entitlements — are no longer sent to it. Keyed
    by the number's lookup hash: the number itself is not stored."""

    __tablename__ = "sms_opt_outs"

    phone_hash: str = Field(primary_key=True, max_length=64)
    opted_out_at: datetime


class RatingRow(SQLModel, table=True):
    """A family's 好差评 rating of one decided matter, or of the whole case once it is 办结 (``subject`` is the
    matter's code, or ``case``): given on the portal (portal/ratings.py) and forwarded once to the province's
    好差评 system by the dispatcher (notify/ratings.py).

    One rating per case and subject: a second one is refused, not replacing the first, because the first may
    already be with the province, which takes each rating once. It holds no personal data beyond the case
    number; the comment is the family's own words, at most ``COMMENT_MAX_CHARS`` characters.
    """

    __tablename__ = "ratings"
    __table_args__ = (UniqueConstraint("case_number", "subject"),)

    id: int | None = Field(default=None, primary_key=True)
    case_number: str = Field(index=True, max_length=32)
    subject: str = Field(max_length=64)
    # The matter's department (empty for the whole case), as the report groups ratings.
    department: str = Field(default="", index=True, max_length=16)
    score: int
    comment: str = Field(default="", max_length=200)
    channel: str = Field(default="portal", max_length=16)
    rated_at: datetime = Field(index=True)
    # The outbox to the province (notify/ratings.py), as the notification outbox's bookkeeping.
    sent_at: datetime | None = Field(default=None, index=True)
    attempts: int = 0
    next_attempt_at: datetime | None = None
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = None
    last_error: str | None = None
    failed_at: datetime | None = None


CASE_SUBJECT = "case"
COMMENT_MAX_CHARS = 200
# The 好差评 five grades, best first (as the national system names them).
SCORES: tuple[tuple[int, str], ...] = ((5, "非常满意"), (4, "满意"), (3, "基本满意"), (2, "不满意"), (1, "非常不满意"))
