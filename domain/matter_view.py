"""What a matter shows of its state: to staff and the register (``MatterView``), to its case (``MatterResult``),
to the CLI's update (``CommandAck``), to a status query, and to the engine's search attributes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from domain import messages
from domain import search_attributes as names
from domain.brief import current_details
from domain.entitlement import stop_date
from domain.enums import MatterState
from domain.ladder import warning_at
from domain.models import (
    AuditEvent,
    CommandAck,
    MatterInput,
    MatterProgress,
    MatterReport,
    MatterResult,
    MatterView,
    Notification,
    PaymentResult,
    RegisterBatch,
    StatusSnapshot,
)

# The fields a view shows as the state holds them, under the same name.
_SHOWN = tuple(name for name in MatterView.model_fields if name in MatterProgress.model_fields)


def view(state: MatterProgress, matter: MatterInput) -> MatterView:
    definition = matter.matter_policy.definition
    return MatterView(
        case_number=matter.case_number, code=definition.code, name=definition.name,
        department=definition.department, department_name=definition.department_name,
        pays_family=definition.pays_family, time_limit_working_days=definition.time_limit_working_days,
        # The ladder of a running deadline only.
        ladder=state.rungs if state.state == MatterState.UNDER_REVIEW else (), refused_actions=state.refused,
        stop_date=stop_date(definition, matter.death_date), **{name: getattr(state, name) for name in _SHOWN},
    )


def batch(state: MatterProgress, matter: MatterInput, payment: PaymentResult | None,
          audit: Sequence[AuditEvent], notes: Sequence[Notification]) -> RegisterBatch:
    """One register write: the matter as it now stands, with what this workflow task recorded."""
    return RegisterBatch(case_number=matter.case_number, matter=view(state, matter), payment=payment,
                         audit=tuple(audit), notifications=tuple(notes))


def details(state: MatterProgress, matter: MatterInput, now: datetime) -> str:
    """Where the matter stands and what the officer may do next, for its page in the Web UI (domain/brief.py)."""
    return current_details(view(state, matter), state.deadline_days, now, matter.matter_policy.timezone)


def snapshot(state: MatterProgress, matter: MatterInput) -> StatusSnapshot:
    """The matter's answer to ``status``: its own view and timeline, the people masked (the brief)."""
    shown, brief = view(state, matter), matter.brief
    return StatusSnapshot(
        case_number=shown.case_number, scope="matter", matters=(shown,), refused_actions=shown.refused_actions,
        timeline=state.timeline, deceased=brief.deceased_name if brief else None,
        applicant=f"{brief.applicant_name}（{brief.relationship}）" if brief else None,
    )


def result(state: MatterProgress, matter: MatterInput) -> MatterResult:
    return MatterResult(
        case_number=matter.case_number, matter=matter.matter_policy.definition.code, state=state.state,
        amount=state.amount, net_amount=state.net_amount, to_return=state.to_return,
        payment_reference=state.payment_reference, certificate_no=state.certificate_no, reason=state.reason,
    )


def report(state: MatterProgress, matter: MatterInput, event: str, now: datetime, final: bool) -> MatterReport:
    """What the matter tells its case (only what the case must act on, or its end to a case that continued)."""
    return MatterReport(matter=matter.matter_policy.definition.code, state=state.state, event=event, at=now,
                        final=final)


def ack(state: MatterProgress) -> CommandAck:
    """The CLI's answer to a decision the matter applied, with the payment instruction it gave, if any."""
    reference = state.payment_reference if state.state == MatterState.PAYING else None
    return CommandAck(accepted=True, state=state.state, payment_reference=reference,
                      message=messages.decision_taken(state.state.value, reference))


def attributes(state: MatterProgress) -> dict[str, Any]:
    """The search-attribute values the matter's state gives, by name (None: unset), in the order they are set."""
    reviewing = state.state == MatterState.UNDER_REVIEW and state.deadline is not None
    return {
        names.MATTER_STATE: state.state.value,
        names.OVERDUE: state.overdue,
        names.ESCALATION_LEVEL: state.escalation_level,
        names.DAYS_OVERDUE: state.working_days_overdue,
        names.MANUAL_HANDLING: state.manual_handling is not None,
        names.DEADLINE: state.deadline if reviewing else None,
        names.WARNING_AT: warning_at(state) if reviewing else None,
        names.DEADLINE_APPROXIMATE: state.calendar_fallback,
    }


def changed_attributes(state: MatterProgress) -> dict[str, Any]:
    """The values that differ from those last set."""
    return {name: value for name, value in attributes(state).items() if state.attributes.get(name, ...) != value}

