"""Activities that write the case register: cases, matters, the audit trail and the outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from temporalio import activity

from activities.register_db import AuditRow, CaseRow, MatterRow, OutboxRow
from domain.enums import CaseState
from domain.models import (
    AuditEvent,
    CaseRecord,
    MatterView,
    Notification,
    PolicyRequest,
    Recorded,
    RegisterBatch,
)
from domain.policy import Policy

_CLOSED = frozenset({CaseState.COMPLETED, CaseState.WITHDRAWN})


class RegisterActivities:
    def __init__(self, engine: Engine, policy: Policy) -> None:
        self._engine = engine
        self._policy = policy

    @activity.defn(name="resolve_policy")
    def resolve_policy(self, request: PolicyRequest) -> Policy:
        """The county policy in force when the case starts; stored in history from then on."""
        return self._policy

    @activity.defn(name="record_case")
    def record_case(self, record: CaseRecord) -> Recorded:
        """The case as received (cases of the first shape; later ones send it with their first ``record``)."""
        with Session(self._engine) as session:
            new = _insert_case(session, record)
            try:
                session.commit()
            except IntegrityError:
                return Recorded(new=False)
        return Recorded(new=new)

    @activity.defn(name="record")
    def record(self, batch: RegisterBatch) -> Recorded:
        """Write what one workflow task changed: the case, its state, a matter's copy, audit lines and
        notifications, in one transaction."""
        with Session(self._engine) as session:
            new = False
            if batch.case is not None:
                new |= _insert_case(session, batch.case)
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
                _upsert_matter(session, batch.matter, activity.info().current_attempt_scheduled_time)
            for event in batch.audit:
                new |= _insert_audit(session, event)
            for note in batch.notifications:
                new |= _insert_notification(session, note)
            session.commit()
        return Recorded(new=new)


def _insert_case(session: Session, record: CaseRecord) -> bool:
    if session.get(CaseRow, record.case_number) is not None:
        return False
    session.add(CaseRow(
        case_number=record.case_number,
        channel=record.application.channel.value,
        state=record.state.value,
        application=record.application.model_dump(mode="json"),
        received_at=record.received_at,
        updated_at=record.received_at,
    ))
    return True


def _upsert_matter(session: Session, view: MatterView, now: datetime) -> None:
    row = session.exec(
        select(MatterRow).where(
            MatterRow.case_number == view.case_number, MatterRow.matter == view.code.value
        )
    ).first()
    if row is None:
        row = MatterRow(
            case_number=view.case_number,
            matter=view.code.value,
            department=view.department.value,
            state=view.state.value,
            view={},
            updated_at=now,
        )
    row.state = view.state.value
    row.deadline = view.deadline
    row.overdue = view.overdue
    row.escalation_level = view.escalation_level
    row.amount = view.amount
    row.view = view.model_dump(mode="json")
    row.updated_at = now
    session.add(row)


def _insert_once(session: Session, row: AuditRow | OutboxRow) -> bool:
    """Rows keyed by case and key: a retried activity finds its earlier write and adds nothing."""
    table = type(row)
    exists = session.exec(
        select(table.id).where(table.case_number == row.case_number, table.key == row.key)
    ).first()
    if exists is not None:
        return False
    session.add(row)
    return True


def _insert_audit(session: Session, event: AuditEvent) -> bool:
    return _insert_once(session, AuditRow(
        case_number=event.case_number,
        matter=event.matter.value if event.matter else None,
        key=event.key,
        event=event.event,
        actor=event.actor,
        at=event.at,
    ))


def _insert_notification(session: Session, note: Notification) -> bool:
    return _insert_once(session, OutboxRow(
        case_number=note.case_number,
        matter=note.matter.value if note.matter else None,
        key=note.key,
        kind=note.kind.value,
        recipient=note.recipient.value,
        department=note.department.value if note.department else None,
        message=note.message,
        created_at=note.at,
    ))
