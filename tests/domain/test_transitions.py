"""What each decision does to a matter (domain/transitions.py), without a server: the new state, the timeline
entry, who is told, and what the workflow does next. Every function leaves the state it is given as it was."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from domain import transitions
from domain.change import Change
from domain.enums import DecisionKind, MatterState, NotificationKind, Recipient
from domain.models import (
    ApproveInput,
    DeadlinePlan,
    ExtendDeadlineInput,
    MaterialsSupplementedInput,
    MatterProgress,
    PayeeCorrectedInput,
    PaymentConfirmedInput,
    PaymentFailedInput,
    PaymentReceipt,
    RejectInput,
    RemainingDays,
    RequestMaterialsInput,
    WithdrawInput,
)
from tests.domain.matters import DEADLINE, HUKOU, NO_MONEY, NOW, PAYS, matter, paused, paying, reviewing, rungs
from tests.factories import APPLICANT_NAME, make_card_number

LATE = {"overdue": True, "working_days_overdue": 2, "escalation_level": 3}


def _told(change: Change) -> list[tuple[NotificationKind, Recipient]]:
    return [(kind, to) for kind, to, _, _ in change.notes]


def test_a_push_starts_the_clock_and_a_failed_one_is_handled_by_a_person() -> None:
    plan = DeadlinePlan(deadline=DEADLINE, rungs=rungs(), calendar_fallback=True)
    start = MatterProgress(payee=reviewing().payee)
    pushed = transitions.pushed(start, matter(), plan, NOW, failed=False)
    assert (pushed.state.state, pushed.state.deadline, pushed.state.pushed_at) == (
        MatterState.UNDER_REVIEW, DEADLINE, NOW)
    assert pushed.state.calendar_fallback and pushed.notes == ()
    assert pushed.event == "已推送人社局，承诺时限15个工作日"
    failed = transitions.pushed(start, matter(), plan, NOW, failed=True)
    assert failed.state.manual_handling is not None
    assert failed.event == "已推送人社局，承诺时限15个工作日（推送失败，转人工处理）"
    assert _told(failed) == [(NotificationKind.SUPERVISION, Recipient.SUPERVISOR)]


def test_an_approval_without_money_ends_the_matter_and_tells_the_family_except_for_hukou() -> None:
    late = reviewing(manual_handling="推送失败", **LATE)
    change = transitions.approved(late, matter(NO_MONEY), ApproveInput(officer="李科员"), NOW)
    state = change.state
    assert state.final and state.state == MatterState.APPROVED and not change.instruct
    assert (state.overdue, state.working_days_overdue, state.escalation_level, state.manual_handling) == (
        False, 0, 0, None)
    assert state.decisions[-1].kind == DecisionKind.APPROVE and state.decisions[-1].by == "李科员"
    assert _told(change) == [(NotificationKind.MATTER_APPROVED, Recipient.FAMILY)]
    assert late.decisions == () and late.overdue  # the state given stays as it was
    hukou = transitions.approved(reviewing(), matter(HUKOU), ApproveInput(officer="王警官", certificate_no="Z1"), NOW)
    assert hukou.state.certificate_no == "Z1" and hukou.notes == ()


def test_an_instruction_waits_for_the_paying_system() -> None:
    receipt = PaymentReceipt(reference="PAY-7", amount=Decimal("2000.00"), paid_at=NOW, new=True)
    change = transitions.instructed(reviewing(state=MatterState.APPROVED), receipt, NOW + timedelta(days=3))
    assert (change.state.state, change.state.payment_reference, change.state.payment_due) == (
        MatterState.PAYING, "PAY-7", NOW + timedelta(days=3))
    assert change.event == "已下达发放指令2000.00元，凭证号PAY-7，待支付系统确认到账"


def test_a_confirmed_payment_is_final_and_recorded_for_the_ledger() -> None:
    change = transitions.payment_confirmed(paying(manual_handling="x"), matter(),
                                           PaymentConfirmedInput(reference="PAY-1", by="代发系统"), NOW)
    assert change.state.state == MatterState.PAID and change.state.final and change.state.manual_handling is None
    assert change.payment is not None and change.payment.confirmed and change.payment.reference == "PAY-1"
    assert change.actor == "代发系统" and _told(change) == [(NotificationKind.MONEY_SENT, Recipient.FAMILY)]
    assert change.event == "支付系统确认到账2000.00元（代发系统），凭证号PAY-1"


def test_a_failed_payment_waits_for_a_corrected_account_and_the_case_is_told() -> None:
    failure = PaymentFailedInput(reference="PAY-1", by="代发系统", reason="账户已销户")
    change = transitions.payment_failed(paying(), matter(), failure, NOW)
    assert change.state.state == MatterState.PAYMENT_FAILED and change.state.manual_handling == change.event
    assert change.report == change.event == "支付系统报告发放失败（代发系统）：账户已销户，待更正收款账户"
    assert change.payment is not None and not change.payment.confirmed and change.payment.reason == "账户已销户"
    assert _told(change) == [(NotificationKind.PAYMENT_FAILED, Recipient.SUPERVISOR),
                             (NotificationKind.PAYMENT_FAILED, Recipient.FAMILY)]
    assert change.state.decisions[-1].kind == DecisionKind.PAYMENT_FAILED


def test_a_corrected_account_is_a_new_attempt_with_no_reference_yet() -> None:
    correction = PayeeCorrectedInput(clerk="窗口周", bank_name="中国银行", account_name=APPLICANT_NAME,
                                     card_number="6228 " + make_card_number("6228", 19, 9)[4:], references=("PAY-1",))
    change = transitions.payee_corrected(paying(state=MatterState.PAYMENT_FAILED, manual_handling="x"), correction)
    state = change.state
    assert (state.state, state.payment_attempt, state.payment_reference, state.manual_handling) == (
        MatterState.APPROVED, 2, None, None)
    assert state.payee.bank_name == "中国银行" and " " not in state.payee.card_number
    assert change.instruct and change.report == change.event == "收款账户已更正，重新下达发放指令"


def test_a_rejection_is_final_no_longer_late_and_told_to_the_family() -> None:
    change = transitions.rejected(reviewing(**LATE), matter(), RejectInput(officer="李科员", reason="不符合条件"), NOW)
    assert change.state.final and change.state.reason == "不符合条件" and not change.state.overdue
    assert change.event == "不予办理（李科员）：不符合条件"
    assert _told(change) == [(NotificationKind.MATTER_REJECTED, Recipient.FAMILY)]


def test_materials_stop_the_clock_and_lateness_stays_through_the_pause() -> None:
    request = RequestMaterialsInput(officer="李科员", items=["户口簿", "银行流水"])
    change = transitions.materials_requested(reviewing(reminders=2, **LATE), matter(), request,
                                             RemainingDays(working_days=0, overdue=True), NOW)
    state = change.state
    assert state.state == MatterState.AWAITING_MATERIALS and state.deadline is None and state.reminders == 0
    assert state.pauses[-1].remaining_working_days == 0 and state.overdue
    assert change.event == "要求补正（李科员）：户口簿、银行流水；计时暂停，已超期，补正后仍按超期督办"
    # Overdue when the clock stopped: it restarts overdue at once, its ladder going on from its lateness.
    assert transitions.resumption(state) == (0, 2)
    assert transitions.resumption(paused(4)) == (4, 0)


def test_supplied_materials_restart_the_clock_where_it_stopped() -> None:
    plan = DeadlinePlan(deadline=DEADLINE, rungs=rungs())
    supplement = MaterialsSupplementedInput(matter=PAYS, items=["户口簿"])
    change = transitions.materials_arrived(paused(4), supplement, plan, NOW + timedelta(days=2))
    state = change.state
    assert state.state == MatterState.UNDER_REVIEW and state.pending_items == () and state.deadline == DEADLINE
    assert state.pauses[-1].ended_at == NOW + timedelta(days=2) and state.decisions[-1].by == "窗口"
    assert change.event == "材料已补正：户口簿；恢复计时，剩余4个工作日"


def test_an_extension_adds_to_a_pause_or_moves_the_deadline_with_a_new_ladder() -> None:
    extension = ExtendDeadlineInput(supervisor="张主任", working_days=3, reason="材料复杂")
    during = transitions.extended(paused(2, **LATE), extension, None, NOW)
    assert during.state.pauses[-1].remaining_working_days == 5 and not during.state.overdue
    assert during.state.generation == 0
    later = DeadlinePlan(deadline=DEADLINE + timedelta(days=3), rungs=rungs(DEADLINE + timedelta(days=3)))
    running = transitions.extended(reviewing(**LATE), extension, later, NOW)
    assert running.state.generation == 1 and running.state.deadline == later.deadline
    assert running.event == "督办人张主任延长时限3个工作日：材料复杂" and running.actor == "张主任"
    # From the deadline's last day; a matter overdue when its clock restarted, from now.
    assert transitions.extension_start(reviewing(), NOW) == DEADLINE - timedelta(microseconds=1)
    assert transitions.extension_start(reviewing(plan_late=2), NOW) == NOW


def test_a_withdrawal_stops_only_what_is_undecided() -> None:
    assert transitions.withdrawal_stops(reviewing()) and transitions.withdrawal_stops(paused(2))
    for decided in (paying(), paying(state=MatterState.PAYMENT_FAILED), reviewing(state=MatterState.APPROVED),
                    reviewing(final=True)):
        assert not transitions.withdrawal_stops(decided)
    change = transitions.withdrawn(reviewing(), matter(), WithdrawInput(clerk="窗口周", reason="自行办理"), NOW)
    assert change.state.state == MatterState.WITHDRAWN and change.state.final and change.state.deadline is None
    assert _told(change) == [(NotificationKind.MATTER_WITHDRAWN, Recipient.DEPARTMENT)]
