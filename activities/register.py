"""Activities that write the case register: the case, each matter's state and figures, the audit trail,
the notification outbox, the department inbox's outcome and the payment ledger's confirmations.

One ``record`` call writes everything one workflow task changed, in one transaction; every row has a
natural key, so a retried call adds nothing. The application's identity, phone and card numbers are sealed
before they reach the register (register/sealed_fields.py).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, inspect
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from temporalio import activity

from activities.calendar import WorkingDayCalendar
from domain.enums import CaseState, DecisionKind, EscalationStep, MatterState
from domain.models import (
    AuditEvent,
    CaseOpening,
    CaseRecord,
    MatterView,
    Notification,
    PaymentResult,
    PolicyRequest,
    Recorded,
    RegisterBatch,
)
from domain.policy import Policy
from register.money import to_fen
from register.sealed_fields import sealed_application
from register.sealing import Sealer
from register.tables import AuditRow, CaseRow, InboxRow, MatterRow, OutboxRow, PaymentRow

_CLOSED = frozenset({CaseState.COMPLETED, CaseState.WITHDRAWN, CaseState.HUKOU_REJECTED, CaseState.REFUSED})
_DECIDED = (DecisionKind.APPROVE, DecisionKind.REJECT)
# What a department inbox row says once its matter is final.
_INBOX_OUTCOME = {
    MatterState.APPROVED: "approved",
    MatterState.PAID: "paid",
    MatterState.REJECTED: "rejected",
    MatterState.WITHDRAWN: "withdrawn",
}


class RegisterActivities:
    def __init__(self, engine: Engine, policy: Policy, calendar: WorkingDayCalendar, sealer: Sealer) -> None:
        self._engine = engine
        self._sealer = sealer
        self._policy = policy
        self._calendar = calendar
        self._zone = ZoneInfo(policy.timezone)

    @activity.defn(name="resolve_policy")
    def resolve_policy(self, request: PolicyRequest) -> Policy:
        """The county policy in force when the case starts; stored in history from then on."""
        return self._policy

    @activity.defn(name="open_case")
    def open_case(self, opening: CaseOpening) -> Policy:
        """Write the case as received, and give the case the county policy for its matters, in one step."""
        self.record(opening.batch)
        return self._policy.for_case(opening.matters)

    @activity.defn(name="record_case")
    def record_case(self, record: CaseRecord) -> Recorded:
        """The case as received (cases of the first shape; later ones send it with their first ``record``)."""
        with Session(self._engine) as session:
            new = _insert_case(session, record, self._sealer)
            try:
                session.commit()
            except IntegrityError:
                return Recorded(new=False)
        return Recorded(new=new)

    @activity.defn(name="record")
    def record(self, batch: RegisterBatch) -> Recorded:
        """Write what one workflow task changed, in one transaction."""
        # No autoflush: every query below reads another table than the rows pending, and one flush at the
        # commit writes them together (flushing before each query cost a round of ORM work per row).
        with Session(self._engine) as session, session.no_autoflush:
            new = False
            if batch.case is not None:
                new |= _insert_case(session, batch.case, self._sealer)
                session.flush()
            if batch.case_state is not None:
                case = session.get(CaseRow, batch.case_number)
                if case is not None:
                    case.state = batch.case_state.state.value
                    case.updated_at = batch.case_state.at
                    if batch.case_state.state in _CLOSED:
                        case.closed_at = batch.case_state.at
                    session.add(case)
            if batch.matter is not None:
                now = activity.info().current_attempt_scheduled_time
                self._upsert_matter(session, batch.matter, now)
                if batch.matter.final:
                    _close_inbox(session, batch.matter, now)
            if batch.payment is not None:
                _record_payment_result(session, batch.payment)
            if batch.audit:
                new |= _insert_new(session, AuditRow, [_audit_row(event) for event in batch.audit])
            if batch.notifications:
                new |= _insert_new(session, OutboxRow, [_outbox_row(note) for note in batch.notifications])
            session.commit()
        return Recorded(new=new)

    def _upsert_matter(self, session: Session, view: MatterView, now: datetime) -> None:
        row = session.exec(
            select(MatterRow).where(MatterRow.case_number == view.case_number, MatterRow.matter == view.code.value)
        ).first()
        if row is None:
            row = MatterRow(case_number=view.case_number, matter=view.code.value, department=view.department.value,
                            state=view.state.value, view={}, updated_at=now)
        row.state = view.state.value
        row.deadline = view.deadline
        row.deadline_approximate = view.calendar_fallback
        row.overdue = view.overdue
        row.manual_handling = view.manual_handling is not None
        row.working_days_overdue = view.working_days_overdue
        row.escalation_level = view.escalation_level
        row.pushed_at = view.pushed_at
        decision = next((d for d in view.decisions if d.kind in _DECIDED), None)
        if decision is not None and row.decided_at is None:
            row.decided_at = decision.at
            row.on_time = view.deadline is None or decision.at < view.deadline
            row.handling_working_days = self._handling_days(view, decision.at)
        if view.final and row.closed_at is None:
            row.closed_at = now
        row.warnings = view.escalations.count(EscalationStep.WARNING)
        row.overdue_notices = view.escalations.count(EscalationStep.OVERDUE)
        row.reminders = view.escalations.count(EscalationStep.REMINDER)
        row.supervisions = view.escalations.count(EscalationStep.SUPERVISION)
        extensions = [d for d in view.decisions if d.kind == DecisionKind.EXTEND_DEADLINE]
        row.extensions = len(extensions)
        row.extension_working_days = sum(d.working_days or 0 for d in extensions)
        row.materials_requests = sum(d.kind == DecisionKind.REQUEST_MATERIALS for d in view.decisions)
        row.gross_fen = to_fen(view.amount) if view.amount is not None else None
        row.offset_fen = to_fen(view.overpaid) if view.overpaid is not None else None
        row.net_fen = to_fen(view.net_amount) if view.net_amount is not None else None
        row.to_return_fen = to_fen(view.to_return) if view.to_return is not None else None
        row.paid_fen = row.net_fen if view.state == MatterState.PAID else None
        row.view = view.model_dump(mode="json")
        row.updated_at = now
        session.add(row)

    def _handling_days(self, view: MatterView, decided_at: datetime) -> int | None:
        """Working days from the push to the decision, the days the clock stood still for 补正 left out."""
        if view.pushed_at is None:
            return None
        total = self._working_days(view.pushed_at, decided_at)
        for pause in view.pauses:
            total -= self._working_days(pause.started_at, pause.ended_at or decided_at)
        return max(total, 0)

    def _working_days(self, after: datetime, until: datetime) -> int:
        return self._calendar.working_days_between(self._day(after), self._day(until)).days

    def _day(self, at: datetime) -> date:
        return at.astimezone(self._zone).date()


def _insert_case(session: Session, record: CaseRecord, sealer: Sealer) -> bool:
    if session.get(CaseRow, record.case_number) is not None:
        return False
    application = sealed_application(record.application.model_dump(mode="json"), record.case_number, sealer)
    session.add(CaseRow(
        case_number=record.case_number,
        channel=record.application.channel.value,
        state=record.state.value,
        application=application,
        applicant_id_hash=sealer.lookup_hash(record.application.applicant.id_number),
        received_at=record.received_at,
        updated_at=record.received_at,
        previous_case=record.previous_case,
    ))
    return True


def _close_inbox(session: Session, view: MatterView, now: datetime) -> None:
    row = session.exec(
        select(InboxRow).where(InboxRow.case_number == view.case_number, InboxRow.matter == view.code.value)
    ).first()
    if row is None or row.status != "open":
        return
    row.status = _INBOX_OUTCOME.get(view.state, "closed")
    row.closed_at = now
    row.close_reason = view.reason
    session.add(row)


def _record_payment_result(session: Session, result: PaymentResult) -> None:
    row = session.exec(select(PaymentRow).where(PaymentRow.reference == result.reference)).first()
    if row is None or row.status != "instructed":
        return
    if result.confirmed:
        row.status, row.confirmed_at = "confirmed", result.at
    else:
        row.status, row.failed_at, row.failure_reason = "failed", result.at, result.reason
    session.add(row)


def _insert_new(session: Session, table: type[AuditRow] | type[OutboxRow], rows: list[dict[str, Any]]) -> bool:
    """Rows keyed by case and key, in one statement: a retried activity's rows are already there and are
    skipped by the unique key. Whether any row was new."""
    columns = cast(Table, inspect(table).local_table)
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgresql_insert
    statement = (insert(columns).values(rows).on_conflict_do_nothing(index_elements=["case_number", "key"])
                 .returning(columns.c.id))
    return session.execute(statement).first() is not None


def _audit_row(event: AuditEvent) -> dict[str, Any]:
    return AuditRow(
        case_number=event.case_number, matter=event.matter.value if event.matter else None, key=event.key,
        event=event.event, actor=event.actor, at=event.at,
    ).model_dump(exclude={"id"})


def _outbox_row(note: Notification) -> dict[str, Any]:
    # Through the model, so the dispatcher's bookkeeping columns get their defaults.
    return OutboxRow(
        case_number=note.case_number, matter=note.matter.value if note.matter else None, key=note.key,
        kind=note.kind.value, recipient=note.recipient.value,
        department=note.department.value if note.department else None, message=note.message, created_at=note.at,
    ).model_dump(exclude={"id"})
