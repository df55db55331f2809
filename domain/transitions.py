"""What each decision does to a matter: plain functions from (state, the matter's input, the decision, now) to a
``Change`` — the new state, the timeline entry, the notices to send, and what the workflow does next (give a
payment instruction, tell the case). The workflow runs the activities they need before calling them, then
commits the change (workflows/matter.py: _commit; what committing leaves behind: domain/change.py).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from domain import messages
from domain.change import Change, Note
from domain.entitlement import stop_date
from domain.enums import DecisionKind, MatterCode, MatterState, NotificationKind, Recipient
from domain.models import (
    ApproveInput,
    BankAccount,
    ClockPause,
    DeadlinePlan,
    DeadlineRequest,
    DecisionRecord,
    ExtendDeadlineInput,
    MaterialsSupplementedInput,
    MatterInput,
    MatterProgress,
    PayeeCorrectedInput,
    PayeeProvenInput,
    PaymentConfirmedInput,
    PaymentFailedInput,
    PaymentInstruction,
    PaymentReceipt,
    PaymentResult,
    RejectInput,
    RemainingDays,
    RequestMaterialsInput,
    WithdrawInput,
    WithdrawItemRequest,
)
from domain.money import settle

# A stopped or moved clock: the matter is no longer late (its escalation history stays).
NOT_LATE: dict[str, Any] = {"overdue": False, "working_days_overdue": 0, "escalation_level": 0}


def _decided(progress: MatterProgress, record: DecisionRecord, /, **changes: Any) -> MatterProgress:
    return progress.model_copy(update={"decisions": (*progress.decisions, record), **changes})


def pushed(state: MatterProgress, matter: MatterInput, plan: DeadlinePlan, now: datetime, failed: bool) -> Change:
    """Pushed to the department (or, ``failed``, flagged for manual handling): the clock runs either way."""
    definition = matter.matter_policy.definition
    manual = messages.manual_handling(definition) if failed else None
    new = state.model_copy(update={"state": MatterState.UNDER_REVIEW, "pushed_at": now, "deadline": plan.deadline,
                                   "calendar_fallback": plan.calendar_fallback, "manual_handling": manual})
    notes: tuple[Note, ...] = ((NotificationKind.SUPERVISION, Recipient.SUPERVISOR, manual, None),) if manual else ()
    return Change(new, messages.pushed(definition, failed, stop_date(definition, matter.death_date)), notes=notes)


def approved(state: MatterProgress, matter: MatterInput, approval: ApproveInput, now: datetime) -> Change:
    """Approved: final at once unless there is money to pay, which the paying system is then instructed to."""
    definition = matter.matter_policy.definition
    officer = approval.officer
    record = DecisionRecord(kind=DecisionKind.APPROVE, at=now, by=officer, note=approval.note,
                            amount=approval.amount, certificate_no=approval.certificate_no)
    # An officer who decides has handled it by hand: the flag from a failed push is done.
    changes: dict[str, Any] = {"state": MatterState.APPROVED, "certificate_no": approval.certificate_no,
                               "manual_handling": None, **NOT_LATE}
    event = messages.approved(officer)
    notes: tuple[Note, ...]
    if approval.no_benefit:
        record = record.model_copy(update={"note": approval.note or "无该待遇"})
        changes["state"] = MatterState.NO_BENEFIT
        notes = ((NotificationKind.MATTER_APPROVED, Recipient.FAMILY, messages.no_benefit_family(definition), None),)
        return Change(_decided(state, record, **changes, final=True), messages.no_benefit(officer), officer, notes)
    if not definition.pays_family or approval.amount is None:
        notes = () if definition.code == MatterCode.HUKOU_CANCELLATION else (
            (NotificationKind.MATTER_APPROVED, Recipient.FAMILY, messages.matter_approved(definition), None),)
        return Change(_decided(state, record, **changes, final=True), event, officer, notes)
    money = settle(approval.amount, approval.overpaid)
    gross, offset, net = money.gross, money.offset, money.net
    changes.update(amount=gross, net_amount=money.paid, overpaid=approval.overpaid,
                   overpaid_source=approval.overpaid_source)
    event += messages.approved_money(gross, offset, approval.overpaid_source, net,
                                     stop_date(definition, matter.death_date))
    if money.pays and state.payee_unproven:
        notes = ((NotificationKind.MATTER_APPROVED, Recipient.FAMILY,
                  messages.proof_awaited_family(definition, net), None),)
        changes["state"] = MatterState.AWAITING_PROOF
        return Change(_decided(state, record, **changes), f"{event}；{messages.proof_awaited()}", officer, notes)
    if money.pays:
        notes = ((NotificationKind.MATTER_APPROVED, Recipient.FAMILY,
                  messages.approved_amount(definition, gross, offset, net), None),)
        return Change(_decided(state, record, **changes), event, officer, notes, instruct=True)
    if money.to_return is None:
        notes = ((NotificationKind.MATTER_APPROVED, Recipient.FAMILY,
                  messages.nothing_to_pay(definition, gross, offset), None),)
        return Change(_decided(state, record, **changes, final=True), event, officer, notes)
    due = money.to_return
    notes = ((NotificationKind.MONEY_TO_RETURN, Recipient.FAMILY,
              messages.money_to_return(definition, gross, offset, due), None),
             (NotificationKind.MONEY_TO_RETURN, Recipient.DEPARTMENT,
              messages.money_to_collect(matter.case_number, definition, due), None))
    return Change(_decided(state, record, **changes, final=True, to_return=due), event, officer, notes)


def instruction(state: MatterProgress, matter: MatterInput, now: datetime, confirm_within: DeadlineRequest
                ) -> PaymentInstruction:
    """What the paying system is told to transfer: the net, to the current payee, as this attempt."""
    assert state.net_amount is not None and state.amount is not None
    return PaymentInstruction(case_number=matter.case_number, matter=matter.matter_policy.definition.code,
                              amount=state.net_amount, gross=state.amount, offset=state.overpaid, payee=state.payee,
                              at=now, attempt=state.payment_attempt, confirm_within=confirm_within)


def instructed(state: MatterProgress, receipt: PaymentReceipt, due: datetime) -> Change:
    """The paying system holds the instruction; the matter waits for its signed report until ``due``."""
    new = state.model_copy(update={"state": MatterState.PAYING, "payment_reference": receipt.reference,
                                   "payment_instructed_at": receipt.paid_at, "payment_due": due})
    return Change(new, messages.payment_instructed(receipt.amount, receipt.reference))


def payment_confirmed(state: MatterProgress, matter: MatterInput, confirmation: PaymentConfirmedInput,
                      now: datetime) -> Change:
    assert state.payment_reference is not None and state.net_amount is not None
    by, reference, net = confirmation.by, state.payment_reference, state.net_amount
    record = DecisionRecord(kind=DecisionKind.PAYMENT_CONFIRMED, at=now, by=by, note=confirmation.note, amount=net)
    new = _decided(state, record, state=MatterState.PAID, payment_confirmed_at=now, payment_due=None,
                   manual_handling=None, final=True)
    result = PaymentResult(case_number=matter.case_number, matter=matter.matter_policy.definition.code,
                           reference=reference, confirmed=True, at=now)
    notes: tuple[Note, ...] = ((NotificationKind.MONEY_SENT, Recipient.FAMILY,
                                messages.money_sent(matter.matter_policy.definition, net), None),)
    return Change(new, messages.payment_confirmed(net, by, reference), by, notes, payment=result)


def payment_failed(state: MatterProgress, matter: MatterInput, failure: PaymentFailedInput, now: datetime) -> Change:
    assert state.payment_reference is not None
    record = DecisionRecord(kind=DecisionKind.PAYMENT_FAILED, at=now, by=failure.by, reason=failure.reason)
    result = PaymentResult(case_number=matter.case_number, matter=matter.matter_policy.definition.code,
                           reference=state.payment_reference, confirmed=False, at=now, reason=failure.reason)
    return replace(payment_refused(_decided(state, record), matter,
                                   messages.payment_reported_failed(failure.by, failure.reason), failure.by),
                   payment=result)


def payment_refused(state: MatterProgress, matter: MatterInput, reason: str, actor: str = "system") -> Change:
    """The money did not go out: a person handles it, the family is asked for a corrected account, and the case
    (which takes the correction) is told."""
    new = state.model_copy(update={"state": MatterState.PAYMENT_FAILED, "manual_handling": reason,
                                   "payment_due": None})
    notes: tuple[Note, ...] = (
        (NotificationKind.PAYMENT_FAILED, Recipient.SUPERVISOR, reason, None),
        (NotificationKind.PAYMENT_FAILED, Recipient.FAMILY,
         messages.payment_failed_family(matter.matter_policy.definition), None))
    return Change(new, reason, actor, notes, report=reason)


def payee_corrected(state: MatterProgress, correction: PayeeCorrectedInput) -> Change:
    """A new account from the window: a new attempt, with a new reference once instructed."""
    payee = BankAccount(bank_name=correction.bank_name, account_name=correction.account_name,
                        card_number=correction.card_number.replace(" ", ""),
                        authorised_reason=correction.authorised_reason, kind=correction.kind)
    # The failed payment's reference names it in the correction: it must not name the next one too. The
    # correction is the handling the failure asked for: the supervisor's flag is done.
    new = state.model_copy(update={"payee": payee, "state": MatterState.APPROVED,
                                   "payment_attempt": state.payment_attempt + 1, "payment_reference": None,
                                   "manual_handling": None})
    return Change(new, messages.PAYEE_CORRECTED, correction.clerk, report=messages.PAYEE_CORRECTED, instruct=True)


def payee_proven(state: MatterProgress, proven: PayeeProvenInput) -> Change:
    """The window recorded the proof: money waiting for it is instructed now, money not yet approved when it is."""
    event = messages.payee_proven(proven.proof.value, proven.document)
    if state.state != MatterState.AWAITING_PROOF:
        return Change(state.model_copy(update={"payee_unproven": False}), event, proven.clerk)
    new = state.model_copy(update={"payee_unproven": False, "state": MatterState.APPROVED})
    return Change(new, event + "，下达发放指令", proven.clerk, instruct=True)


def rejected(state: MatterProgress, matter: MatterInput, rejection: RejectInput, now: datetime) -> Change:
    officer, reason = rejection.officer, rejection.reason
    record = DecisionRecord(kind=DecisionKind.REJECT, at=now, by=officer, reason=reason)
    new = _decided(state, record, state=MatterState.REJECTED, reason=reason, final=True, **NOT_LATE)
    notes: tuple[Note, ...] = ((NotificationKind.MATTER_REJECTED, Recipient.FAMILY,
                                messages.matter_rejected(matter.matter_policy.definition, reason), None),)
    return Change(new, messages.rejected(officer, reason), officer, notes)


def materials_requested(state: MatterProgress, matter: MatterInput, request: RequestMaterialsInput,
                        remaining: RemainingDays, now: datetime) -> Change:
    """补正 stops the clock with the working days left. Lateness stays: an overdue matter stays overdue and on
    the supervisor's list."""
    items = tuple(request.items)
    record = DecisionRecord(kind=DecisionKind.REQUEST_MATERIALS, at=now, by=request.officer, note=request.note,
                            items=items)
    pause = ClockPause(started_at=now, remaining_working_days=remaining.working_days)
    new = _decided(state, record, state=MatterState.AWAITING_MATERIALS, pending_items=items,
                   pauses=(*state.pauses, pause), deadline=None, reminders=0)
    notes: tuple[Note, ...] = ((NotificationKind.MATERIALS_REQUESTED, Recipient.FAMILY,
                                messages.materials_requested(matter.matter_policy.definition, request.items), None),)
    event = messages.paused(request.officer, request.items, remaining.working_days, remaining.overdue)
    return Change(new, event, request.officer, notes)


def resumption(state: MatterProgress) -> tuple[int, int]:
    """(working days left, working days overdue) the clock restarts with after 补正: nothing left means it was
    overdue when the clock stopped, and is again at once."""
    remaining = state.pauses[-1].remaining_working_days or 0
    return remaining, state.working_days_overdue if remaining == 0 else 0


def materials_arrived(state: MatterProgress, supplement: MaterialsSupplementedInput, plan: DeadlinePlan,
                      now: datetime) -> Change:
    """The clock restarts (``plan``, counted from the days that were left); the ladder goes on where it stopped."""
    pause = state.pauses[-1]
    record = DecisionRecord(kind=DecisionKind.MATERIALS_SUPPLEMENTED, at=now, by="窗口", note=supplement.note,
                            items=tuple(supplement.items))
    new = _decided(state, record, state=MatterState.UNDER_REVIEW, pending_items=(),
                   pauses=(*state.pauses[:-1], pause.model_copy(update={"ended_at": now})), deadline=plan.deadline,
                   calendar_fallback=state.calendar_fallback or plan.calendar_fallback)
    return Change(new, messages.resumed(supplement.items, pause.remaining_working_days or 0))


def extension_start(state: MatterProgress, now: datetime) -> datetime:
    """Where a running deadline is extended from: the deadline is 00:00 after its last working day, so that day;
    a matter already overdue when the clock restarted, from now."""
    assert state.deadline is not None
    return state.deadline - timedelta(microseconds=1) if not state.plan_late else now


def extended(state: MatterProgress, extension: ExtendDeadlineInput, plan: DeadlinePlan | None,
             now: datetime) -> Change:
    """More working days: added to those left during 补正 (``plan`` None), else a new deadline (``plan``) with a
    new ladder (a new generation). An overdue matter given more time is no longer late."""
    record = DecisionRecord(kind=DecisionKind.EXTEND_DEADLINE, at=now, by=extension.supervisor,
                            reason=extension.reason, working_days=extension.working_days)
    if plan is None:
        pause = state.pauses[-1]
        more = (pause.remaining_working_days or 0) + extension.working_days
        new = _decided(state, record, pauses=(*state.pauses[:-1],
                                              pause.model_copy(update={"remaining_working_days": more})), **NOT_LATE)
    else:
        new = _decided(state, record, generation=state.generation + 1, deadline=plan.deadline,
                       calendar_fallback=state.calendar_fallback or plan.calendar_fallback, **NOT_LATE)
    event = messages.extended(extension.supervisor, extension.working_days, extension.reason)
    return Change(new, event, extension.supervisor)


def withdrawal_stops(state: MatterProgress) -> bool:
    """Approved money is still paid: a withdrawal only stops what is undecided."""
    return not state.final and state.state not in (MatterState.APPROVED, MatterState.PAYING,
                                                   MatterState.PAYMENT_FAILED)


def withdraw_request(matter: MatterInput, withdrawal: WithdrawInput, now: datetime) -> WithdrawItemRequest:
    return WithdrawItemRequest(case_number=matter.case_number, matter=matter.matter_policy.definition.code,
                               reason=withdrawal.reason, at=now)


def withdrawn(state: MatterProgress, matter: MatterInput, withdrawal: WithdrawInput, now: datetime) -> Change:
    record = DecisionRecord(kind=DecisionKind.WITHDRAW, at=now, by=withdrawal.clerk, reason=withdrawal.reason)
    new = _decided(state, record, state=MatterState.WITHDRAWN, reason=withdrawal.reason, deadline=None, final=True)
    notes: tuple[Note, ...] = ((NotificationKind.MATTER_WITHDRAWN, Recipient.DEPARTMENT,
                                messages.matter_withdrawn(matter.matter_policy.definition, withdrawal.reason), None),)
    return Change(new, messages.withdrawn(withdrawal.reason), withdrawal.clerk, notes)
