"""What a rule of a matter returns, and what committing it leaves behind: the timeline entry, the audit line and
the notices, each keyed so that a retried register write adds nothing. Plain functions; the workflow commits
(workflows/matter.py: _commit).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain import messages
from domain.enums import NotificationKind, Recipient
from domain.models import (
    AuditEvent,
    LadderRung,
    MatterInput,
    MatterProgress,
    Notification,
    PaymentResult,
    RefusedAction,
    TimelineEntry,
)

# A notice to send: its kind, to whom, its text, and the ladder step it is for (its key names the step).
Note = tuple[NotificationKind, Recipient, str, LadderRung | None]
# The status keeps the latest refusals (a flood of bad signals must not grow the state); the count is total.
KEEP_REFUSALS = 20


def logged_refusal(total: int) -> bool:
    """Whether the refusal that brought the count to ``total`` is logged: the first ten, then one in a hundred. A
    flood delivers hundreds of signals in one workflow task; a log line each made that task slow enough, on a busy
    machine, to be failed as a deadlock again and again (and flooded the logs). Each is still audited and counted."""
    return total <= 10 or total % 100 == 0


@dataclass(frozen=True)
class Change:
    state: MatterProgress
    # The timeline entry; None: a quiet change, nothing to record.
    event: str | None = None
    actor: str = "system"
    notes: tuple[Note, ...] = ()
    # What the paying system reported, for the register.
    payment: PaymentResult | None = None
    # Then tell the case this (it must act on it), and/or give the paying system its instruction.
    report: str | None = None
    instruct: bool = False


def refusal(state: MatterProgress, matter: MatterInput, action: str, reason: str, by: str | None,
            now: datetime) -> tuple[MatterProgress, AuditEvent]:
    """A refused action: kept among the latest refusals, counted, and audited (no timeline entry)."""
    refused = RefusedAction(at=now, action=action, matter=matter.matter_policy.definition.code, reason=reason, by=by)
    kept = state.model_copy(update={"refused": (*state.refused, refused)[-KEEP_REFUSALS:],
                                    "refused_total": state.refused_total + 1})
    return audited(kept, matter, messages.refused(action, reason, by), now, by or "system")


def audited(state: MatterProgress, matter: MatterInput, event: str, at: datetime,
            actor: str) -> tuple[MatterProgress, AuditEvent]:
    """An audit line keyed by the matter's own sequence, so a retried write adds nothing."""
    seq = state.seq + 1
    code = matter.matter_policy.definition.code
    audit = AuditEvent(case_number=matter.case_number, matter=code, key=f"{code.value}/{seq:04d}", event=event,
                       at=at, actor=actor)
    return state.model_copy(update={"seq": seq}), audit


def recorded(state: MatterProgress, matter: MatterInput, event: str, actor: str, notes: tuple[Note, ...],
             now: datetime) -> tuple[MatterProgress, AuditEvent, tuple[Notification, ...]]:
    """A change committed: its timeline entry, its audit line and its notices."""
    entry = TimelineEntry(at=now, event=event, matter=matter.matter_policy.definition.code)
    state, audit = audited(state.model_copy(update={"timeline": (*state.timeline, entry)}), matter, event, now, actor)
    return state, audit, tuple(notification(state, matter, note, now) for note in notes)


def notification(state: MatterProgress, matter: MatterInput, note: Note, now: datetime) -> Notification:
    """A notice keyed so that a retried write adds nothing: a ladder step's by its rung, any other by the audit
    line it goes with."""
    kind, recipient, message, rung = note
    definition = matter.matter_policy.definition
    code = definition.code
    suffix = f"{state.generation}/{rung.step.value}/{rung.working_days_overdue}" if rung else f"{state.seq:04d}"
    return Notification(
        case_number=matter.case_number, matter=code, kind=kind, recipient=recipient,
        key=f"{code.value}/{kind.value}/{recipient.value}/{suffix}",
        department=definition.department if recipient != Recipient.FAMILY else None, message=message, at=now,
    )
