"""Activities that write the case register: the case, each matter's state and figures, the audit trail,
the notification outbox, the department inbox's outcome and the payment ledger's confirmations.

One ``record`` call writes everything one workflow task changed, in one transaction; every row has a
natural key, so a retried call adds nothing. The application's identity, phone and card numbers are sealed
before they reach the register (register/sealed_fields.py).
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, case, func, inspect, update
from sqlalchemy.engine import Connection, Engine
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
from register import prepared
from register.engine import insert_for
from register.money import to_fen
from register.sealed_fields import sealed_application
from register.sealing import Sealer
from register.tables import AuditRow, CaseRow, InboxRow, MatterRow, OutboxRow, PaymentRow

_CASES = cast(Table, CaseRow.__table__)  # type: ignore[attr-defined]
_MATTERS = cast(Table, MatterRow.__table__)  # type: ignore[attr-defined]
_INBOX = cast(Table, InboxRow.__table__)  # type: ignore[attr-defined]
_LEDGER = cast(Table, PaymentRow.__table__)  # type: ignore[attr-defined]
# Statements compiled once (register/prepared.py); the values go as parameters (an UPDATE sets the columns its
# parameters name).
_CASE_UPDATE = update(_CASES).where(_CASES.c.case_number == bindparam("case_key"))
_INBOX_CLOSE = update(_INBOX).where(_INBOX.c.case_number == bindparam("case_key"),
                                    _INBOX.c.matter == bindparam("matter_key"), _INBOX.c.status == "open")
_LEDGER_RESULT = update(_LEDGER).where(_LEDGER.c.reference == bindparam("reference_key"),
                                       _LEDGER.c.status == "instructed")
_CLOSED = frozenset({CaseState.COMPLETED, CaseState.WITHDRAWN, CaseState.HUKOU_REJECTED, CaseState.REFUSED})
_DECIDED = (DecisionKind.APPROVE, DecisionKind.REJECT)
# What a department inbox row says once its matter is final.
_INBOX_OUTCOME = {
    MatterState.APPROVED: "approved",
    MatterState.PAID: "paid",
    MatterState.REJECTED: "rejected",
    MatterState.WITHDRAWN: "withdrawn",
    MatterState.NO_BENEFIT: "no_benefit",
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

    @activity.defn(name="record")
    def record(self, batch: RegisterBatch) -> Recorded:
        """Write what one workflow task changed, in one transaction.

        Plain SQL statements, each compiled once and reading no more than it needs: through ORM objects, a
        write loaded the whole matter row (its view) and the case row (the application) only to change a few
        columns, which cost about as much CPU as the rest of the worker's activities together."""
        with self._engine.begin() as connection:
            new = False
            if batch.case is not None:
                new |= _insert_case_row(connection, batch.case, self._sealer)
            if batch.application is not None:
                # Matters were added: the case's application as it now stands (its sealed fields sealed again).
                prepared.execute(connection, _CASE_UPDATE, {
                    "case_key": batch.case_number,
                    "application": sealed_application(batch.application.model_dump(mode="json"), batch.case_number,
                                                      self._sealer)})
            if batch.case_state is not None:
                change = batch.case_state
                values: dict[str, Any] = {"state": change.state.value, "updated_at": change.at}
                if change.state in _CLOSED:
                    values["closed_at"] = change.at
                prepared.execute(connection, _CASE_UPDATE, {"case_key": batch.case_number, **values})
            if batch.matter is not None:
                now = activity.info().current_attempt_scheduled_time
                self._upsert_matter(connection, batch.matter, now)
                if batch.matter.final:
                    _close_inbox(connection, batch.matter, now)
            if batch.payment is not None:
                _record_payment_result(connection, batch.payment)
            if batch.audit:
                new |= _insert_new(connection, AuditRow, [_audit_row(event) for event in batch.audit])
            if batch.notifications:
                new |= _insert_new(connection, OutboxRow, [_outbox_row(note) for note in batch.notifications])
        return Recorded(new=new)

    def _upsert_matter(self, connection: Connection, view: MatterView, now: datetime) -> None:
        """One statement: the row is added, or its columns replaced, except those set once (when the department
        decided, and whether in time; when the matter closed), which a later write leaves as they are."""
        extensions = [d for d in view.decisions if d.kind == DecisionKind.EXTEND_DEADLINE]
        net_fen = to_fen(view.net_amount) if view.net_amount is not None else None
        values: dict[str, Any] = {
            "department": view.department.value,
            "state": view.state.value,
            "deadline": view.deadline,
            "deadline_approximate": view.calendar_fallback,
            "overdue": view.overdue,
            "manual_handling": view.manual_handling is not None,
            "working_days_overdue": view.working_days_overdue,
            "escalation_level": view.escalation_level,
            "pushed_at": view.pushed_at,
            "warnings": view.escalations.count(EscalationStep.WARNING),
            "overdue_notices": view.escalations.count(EscalationStep.OVERDUE),
            "reminders": view.escalations.count(EscalationStep.REMINDER),
            "supervisions": view.escalations.count(EscalationStep.SUPERVISION),
            "extensions": len(extensions),
            "extension_working_days": sum(d.working_days or 0 for d in extensions),
            "materials_requests": sum(d.kind == DecisionKind.REQUEST_MATERIALS for d in view.decisions),
            "gross_fen": to_fen(view.amount) if view.amount is not None else None,
            "offset_fen": to_fen(view.overpaid) if view.overpaid is not None else None,
            "net_fen": net_fen,
            "to_return_fen": to_fen(view.to_return) if view.to_return is not None else None,
            "paid_fen": net_fen if view.state == MatterState.PAID else None,
            "view": view.model_dump(mode="json"),
            "updated_at": now,
            "decided_at": None,
            "on_time": None,
            "handling_working_days": None,
            "closed_at": now if view.final else None,
        }
        decision = next((d for d in view.decisions if d.kind in _DECIDED), None)
        if decision is not None:
            values["decided_at"] = decision.at
            values["on_time"] = view.deadline is None or decision.at < view.deadline
            values["handling_working_days"] = self._handling_days(view, decision.at)
        prepared.execute(connection, _matter_upsert(connection.dialect.name),
                         {"case_number": view.case_number, "matter": view.code.value, **values})

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


def _insert_case_row(connection: Connection, record: CaseRecord, sealer: Sealer) -> bool:
    """The case as received, unless a retried call wrote it already."""
    return prepared.changed(connection, _case_insert(connection.dialect.name), _case_values(record, sealer)) > 0


@cache
def _case_insert(dialect: str) -> Any:
    return insert_for(dialect)(_CASES).on_conflict_do_nothing(index_elements=["case_number"])


# Written once and then kept: when the department decided (and whether in time), and when the matter closed.
_SET_ONCE = ("decided_at", "on_time", "handling_working_days", "closed_at")


@cache
def _matter_upsert(dialect: str) -> Any:
    statement = insert_for(dialect)(_MATTERS)
    new = statement.excluded
    columns = {name: new[name] for name in _MATTERS.c.keys() if name not in ("id", "case_number", "matter")}
    undecided = _MATTERS.c.decided_at.is_(None)
    columns.update({
        "decided_at": func.coalesce(_MATTERS.c.decided_at, new.decided_at),
        "on_time": case((undecided, new.on_time), else_=_MATTERS.c.on_time),
        "handling_working_days": case((undecided, new.handling_working_days),
                                      else_=_MATTERS.c.handling_working_days),
        "closed_at": func.coalesce(_MATTERS.c.closed_at, new.closed_at),
    })
    return statement.on_conflict_do_update(index_elements=["case_number", "matter"], set_=columns)


def _case_values(record: CaseRecord, sealer: Sealer) -> dict[str, Any]:
    return {
        "case_number": record.case_number,
        "channel": record.application.channel.value,
        "state": record.state.value,
        "application": sealed_application(record.application.model_dump(mode="json"), record.case_number, sealer),
        "applicant_id_hash": sealer.lookup_hash(record.application.applicant.id_number),
        "received_at": record.received_at,
        "updated_at": record.received_at,
        "closed_at": None,
        "previous_case": record.previous_case,
    }


def _close_inbox(connection: Connection, view: MatterView, now: datetime) -> None:
    prepared.execute(connection, _INBOX_CLOSE, {"case_key": view.case_number, "matter_key": view.code.value,
                                      "status": _INBOX_OUTCOME.get(view.state, "closed"), "closed_at": now,
                                      "close_reason": view.reason})


def _record_payment_result(connection: Connection, result: PaymentResult) -> None:
    if result.confirmed:
        values: dict[str, Any] = {"status": "confirmed", "confirmed_at": result.at}
    else:
        values = {"status": "failed", "failed_at": result.at, "failure_reason": result.reason}
    prepared.execute(connection, _LEDGER_RESULT, {"reference_key": result.reference, **values})


def _insert_new(connection: Connection, table: type[AuditRow] | type[OutboxRow], rows: list[dict[str, Any]]) -> bool:
    """Rows keyed by case and key: a retried activity's rows are already there and are skipped by the unique
    key. Whether any row was new. One statement per table and dialect, compiled once (the rows go as
    parameters: values written into the statement made SQLAlchemy compile it anew for every call, about a
    third of the register's CPU per write)."""
    statement = _insert_statement(table, connection.dialect.name)
    return sum(prepared.changed(connection, statement, row) for row in rows) > 0


@cache
def _insert_statement(table: type[AuditRow] | type[OutboxRow], dialect: str) -> Any:
    columns = cast(Table, inspect(table).local_table)
    return insert_for(dialect)(columns).on_conflict_do_nothing(index_elements=["case_number", "key"])


def _audit_row(event: AuditEvent) -> dict[str, Any]:
    return {"case_number": event.case_number, "matter": event.matter.value if event.matter else None,
            "key": event.key, "event": event.event, "actor": event.actor, "at": event.at}


def _outbox_row(note: Notification) -> dict[str, Any]:
    return {
        "case_number": note.case_number, "matter": note.matter.value if note.matter else None, "key": note.key,
        "kind": note.kind.value, "recipient": note.recipient.value,
        "department": note.department.value if note.department else None, "message": note.message,
        "created_at": note.at,
        # The dispatcher's bookkeeping, as the table's defaults have it (register/tables.py: OutboxRow).
        **_OUTBOX_BOOKKEEPING,
    }


_OUTBOX_BOOKKEEPING: dict[str, Any] = {
    "sent_at": None, "attempts": 0, "next_attempt_at": None, "lease_owner": None, "lease_until": None,
    "last_error": None, "failed_at": None, "failed_reason": None,
}
