"""MatterWorkflow: one department's work item, held to its 承诺时限.

The run reads top-down: push the item and start the working-day clock, then, until the matter is final,
take the next thing that happened — an officer's decision from the inbox, or the timer of the next
escalation rung or reminder — and apply it. Every decision is one typed item in one inbox; every change
goes through ``_commit``, which also updates the search attributes; the register writes of one workflow
task go out together in ``_flush``. The case hears from its matter only what it must act on; a client
assembles the full status from the matter's own ``status`` query.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from temporalio import workflow
from temporalio.common import RawValue, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.workflow import LocalActivityConfig

from workflows import descriptions as d
from workflows import search_attributes as sa
from workflows.contract import (
    CASE_CONTINUED,
    MATERIALS_SUPPLEMENTED,
    MATTER_UPDATED,
    MATTER_WORKFLOW,
    PAYEE_CORRECTED,
    WITHDRAW,
)
from workflows.inbox import KIND_OF, Decision, InboxItem
from workflows.raw_input import NO_INPUT, one_input, parse_raw, parse_update, shown_name, to_raw

with workflow.unsafe.imports_passed_through():
    from activities.deadlines import DeadlineActivities
    from activities.departments import DepartmentActivities
    from activities.payments import PaymentActivities
    from activities.register import RegisterActivities
    from activities.trust import TrustActivities
    from domain import messages
    from domain.brief import current_details, timer_summary
    from domain.catalogue import MatterDefinition
    from domain.clock import deadline_text
    from domain.decisions import (
        SIGNED_BY,
        check_approval,
        check_correction,
        check_state_for,
        command_payload,
        payment_key,
        signed_digest,
    )
    from domain.enums import (
        DecisionKind,
        ErrorType,
        EscalationStep,
        MatterCode,
        MatterState,
        NotificationKind,
        Recipient,
    )
    from domain.models import (
        ApproveInput,
        AuditEvent,
        BankAccount,
        ClockPause,
        CommandAck,
        DeadlinePlan,
        DeadlineRequest,
        DecisionCommand,
        DecisionRecord,
        ExtendDeadlineInput,
        LadderRung,
        MaterialsSupplementedInput,
        MatterCarry,
        MatterInput,
        MatterProgress,
        MatterReport,
        MatterResult,
        MatterView,
        Notification,
        OfficerCheck,
        PayeeCorrectedInput,
        PaymentConfirmedInput,
        PaymentFailedInput,
        PaymentInstruction,
        PaymentResult,
        PushRequest,
        RefusedAction,
        RegisterBatch,
        RejectInput,
        RemainingRequest,
        ReminderRequest,
        RequestMaterialsInput,
        StatementCheck,
        StatusSnapshot,
        TimelineEntry,
        WithdrawInput,
        WithdrawItemRequest,
    )
    from domain.officers import (
        OFFICER_KINDS,
        UNVERIFIED,
        OfficerDecision,
        officer_statement_digest,
        statement_problem,
        typed_name,
        with_name,
    )
    from domain.policy import MatterPolicy
    from workflows.options import LOCAL_OPTIONS, PUSH_LOCAL_OPTIONS, REGISTER_OPTIONS

STEP_LEVEL = {
    EscalationStep.WARNING: 1,
    EscalationStep.OVERDUE: 2,
    EscalationStep.REMINDER: 3,
    EscalationStep.SUPERVISION: 4,
}

# The status keeps the latest refusals (a flood of bad signals must not grow the state); the count is total.
# How a step that gave up reaches the workflow: an activity's failure arrives wrapped in ActivityError, a
# local activity's as the ApplicationError it raised.
FAILED_STEP = (ActivityError, ApplicationError)
KEEP_REFUSALS = 20
# Refusals alone do not cost a register write each: they go out with the next change, or in batches.
REFUSAL_BATCH = 20

@workflow.defn(name=MATTER_WORKFLOW)
class MatterWorkflow:
    @workflow.init
    def __init__(self, input: MatterInput) -> None:
        self._input = input
        self._policy: MatterPolicy = input.matter_policy
        self._definition: MatterDefinition = self._policy.definition
        self._payee: BankAccount = input.payee
        self._m = MatterProgress()
        self._timeline: list[TimelineEntry] = []
        self._inbox: list[InboxItem] = []
        self._tickets = 0
        self._processed = 0
        self._seq = 0
        self._rungs: tuple[LadderRung, ...] = ()
        self._fired: set[tuple[int, EscalationStep, int]] = set()
        self._generation = 0
        self._reminders = 0
        # What the next register write carries.
        self._dirty = False
        self._audit: list[AuditEvent] = []
        self._notes: list[Notification] = []
        self._attributes: dict[str, Any] = {}
        self._payment_result: PaymentResult | None = None
        self._runs = 1
        # The case continued as new: its new run hears of this matter's end by signal.
        self._report_end = False
        # Decisions of the CLI's update refused when their turn came (a statement whose signature failed).
        self._ticket_refusals: dict[int, str] = {}
        if input.carried is not None:
            self._resume(input.carried)
        # One timer for the next wake-up, kept while its time stays the same.
        self._timer: asyncio.Task[None] | None = None
        self._timer_at: datetime | None = None
        self._timer_fired = False
        # The current details the Web UI shows are due again (something changed).
        self._details_due = True

    # --- the run ---------------------------------------------------------------------------------

    @workflow.run
    async def run(self, input: MatterInput) -> MatterResult:
        if input.carried is None:
            await self._push()
        while not self._m.final:
            await self._flush()
            if workflow.info().is_continue_as_new_suggested() and not self._inbox:
                await self._continue_as_new()
            await self._next()
        while self._dirty or self._audit:
            await self._flush(everything=True)
        # A pending timer ends with the run: cancelling it would only add an event.
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self._report_end:
            await self._report("事项办结", final=True)
        m = self._m
        return MatterResult(
            case_number=self._input.case_number, matter=self._definition.code, state=m.state, amount=m.amount,
            net_amount=m.net_amount, to_return=m.to_return, payment_reference=m.payment_reference,
            certificate_no=m.certificate_no, reason=m.reason,
        )

    async def _continue_as_new(self) -> None:
        """A long or flooded history goes on in a fresh run with the same id, carrying the whole matter."""
        await workflow.wait_condition(workflow.all_handlers_finished)
        # Refusals that arrive while a write is under way wait for the next one: write until none is left, so
        # nothing recorded in this run is lost with it.
        while self._dirty or self._audit:
            await self._flush(everything=True)
        if self._inbox:
            return
        m = self._m
        workflow.logger.info("continuing as new after %d events (run %d)",
                             workflow.info().get_current_history_length(), self._runs)
        carry = MatterCarry(
            progress=m, timeline=tuple(self._timeline), rungs=self._rungs, fired=tuple(sorted(self._fired)),
            generation=self._generation, seq=self._seq, reminders=self._reminders, payee=self._payee,
            attributes=self._attributes, runs=self._runs + 1, report_end=self._report_end,
        )
        workflow.continue_as_new(self._input.model_copy(update={"carried": carry}))

    def _resume(self, carry: MatterCarry) -> None:
        self._m = carry.progress
        self._timeline = list(carry.timeline)
        self._rungs = carry.rungs
        self._fired = set(carry.fired)
        self._generation = carry.generation
        self._seq = carry.seq
        self._reminders = carry.reminders
        self._payee = carry.payee
        self._attributes = dict(carry.attributes)
        self._runs = carry.runs
        self._report_end = carry.report_end

    async def _next(self) -> None:
        """Wait for a decision, a batch of refusals to record, or the next timer; then act on it."""
        await self._plan_reminder()
        if self._details_due:
            self._details_due = False
            workflow.set_current_details(current_details(
                self._view(), self._m.deadline_days, workflow.now(), self._policy.timezone))
        self._arm_timer(self._wake_at())
        await workflow.wait_condition(
            lambda: bool(self._inbox) or self._timer_fired or len(self._audit) >= REFUSAL_BATCH
            # A long history too, so a flood that stops short of a batch is cut.
            or workflow.info().is_continue_as_new_suggested()
        )
        if self._inbox:
            item = self._inbox.pop(0)
            try:
                refused = await self._apply(item)
                if refused is not None:
                    self._ticket_refusals[item.ticket] = refused
            finally:
                self._processed = max(self._processed, item.ticket)
        elif self._timer_fired:
            self._timer_fired = False
            self._timer_at = None
            await self._on_timer()

    # --- signals (what officers type in the Web UI), the CLI's update and the status query ----------

    @workflow.signal(name="approve", description=d.MATTER_APPROVE)
    @one_input
    def approve(self, payload: RawValue = NO_INPUT, *extra: Any) -> None:
        self._receive(ApproveInput, payload, extra)

    @workflow.signal(name="reject", description=d.MATTER_REJECT)
    @one_input
    def reject(self, payload: RawValue = NO_INPUT, *extra: Any) -> None:
        self._receive(RejectInput, payload, extra)

    @workflow.signal(name="request_materials", description=d.MATTER_REQUEST_MATERIALS)
    @one_input
    def request_materials(self, payload: RawValue = NO_INPUT, *extra: Any) -> None:
        self._receive(RequestMaterialsInput, payload, extra)

    @workflow.signal(name=MATERIALS_SUPPLEMENTED, description=d.MATTER_MATERIALS_SUPPLEMENTED)
    @one_input
    def materials_supplemented(self, payload: RawValue = NO_INPUT, *extra: Any) -> None:
        self._receive(MaterialsSupplementedInput, payload, extra)

    @workflow.signal(name="extend_deadline", description=d.MATTER_EXTEND_DEADLINE)
    @one_input
    def extend_deadline(self, payload: RawValue = NO_INPUT, *extra: Any) -> None:
        self._receive(ExtendDeadlineInput, payload, extra)

    @workflow.signal(name=WITHDRAW, description=d.MATTER_WITHDRAW)
    @one_input
    def withdraw(self, payload: RawValue = NO_INPUT, *extra: Any) -> None:
        self._receive(WithdrawInput, payload, extra)

    @workflow.signal(name=PAYEE_CORRECTED, description=d.MATTER_PAYEE_CORRECTED)
    @one_input
    def payee_corrected(self, payload: RawValue = NO_INPUT, *extra: Any) -> None:
        self._receive(PayeeCorrectedInput, payload, extra)

    @workflow.signal(name="payment_confirmed", description=d.MATTER_PAYMENT_CONFIRMED)
    @one_input
    def payment_confirmed(self, payload: RawValue = NO_INPUT, *extra: Any) -> None:
        self._receive(PaymentConfirmedInput, payload, extra)

    @workflow.signal(name="payment_failed", description=d.MATTER_PAYMENT_FAILED)
    @one_input
    def payment_failed(self, payload: RawValue = NO_INPUT, *extra: Any) -> None:
        self._receive(PaymentFailedInput, payload, extra)

    @workflow.signal(name=CASE_CONTINUED, description=d.MATTER_CASE_CONTINUED)
    @one_input
    def case_continued(self, payload: RawValue = NO_INPUT, *extra: Any) -> None:
        # Whoever sends it, it only adds a report of this matter's end, which the case checks with the engine.
        self._report_end = True

    @workflow.signal(dynamic=True, description=d.MATTER_UNKNOWN_SIGNAL)
    def unknown_signal(self, name: str, args: Sequence[RawValue]) -> None:
        self._refuse(shown_name(name), "不认识的操作名称，请检查拼写（如 approve、reject、request_materials）")

    @workflow.update(name="decide", description=d.MATTER_DECIDE)
    async def decide(self, command: RawValue) -> CommandAck:
        decision = parse_update(DecisionCommand, command)
        ticket = self._enqueue(_decision_of(decision))
        await workflow.wait_condition(lambda: self._processed >= ticket)
        refused = self._ticket_refusals.pop(ticket, None)
        if refused is not None:
            raise ApplicationError(refused, type=ErrorType.INVALID_DECISION.value, non_retryable=True)
        state, reference = self._m.state, self._m.payment_reference
        if state != MatterState.PAYING or reference is None:
            return CommandAck(accepted=True, state=state, message=f"决定已受理，事项状态：{state.value}")
        return CommandAck(accepted=True, state=state, payment_reference=reference,
                          message=f"决定已受理，事项状态：{state.value}，发放凭证号{reference}（待支付系统确认到账）")

    @decide.validator
    def _validate_decide(self, command: RawValue) -> None:
        decision = parse_update(DecisionCommand, command)
        reason = self._problem(_decision_of(decision))
        if reason:
            raise ValueError(reason)
        return None

    @workflow.query(name="status", description=d.MATTER_STATUS)
    def status(self) -> StatusSnapshot:
        view = self._view()
        brief = self._input.brief
        return StatusSnapshot(
            case_number=view.case_number, scope="matter", matters=(view,),
            refused_actions=view.refused_actions, timeline=tuple(self._timeline),
            deceased=brief.deceased_name if brief else None,
            applicant=f"{brief.applicant_name}（{brief.relationship}）" if brief else None,
        )

    def _receive(self, model: type[Decision], payload: RawValue, extra: tuple[Any, ...]) -> None:
        parsed = parse_raw(model, payload, workflow.payload_converter(), extra)
        if isinstance(parsed, str):
            return self._refuse(KIND_OF[model].value, parsed)
        reason = self._problem(parsed)
        if reason:
            return self._refuse(KIND_OF[model].value, reason)
        self._enqueue(parsed)
        return None

    def _enqueue(self, decision: Decision) -> int:
        self._tickets += 1
        self._inbox.append(InboxItem(decision=decision, ticket=self._tickets))
        return self._tickets

    def _problem(self, decision: Decision) -> str | None:
        """Why ``decision`` cannot be applied now: on arrival, and again when its turn comes."""
        m = self._m
        kind = KIND_OF[type(decision)]
        if kind == DecisionKind.WITHDRAW:
            return "事项已办结，无需撤回" if m.final else None
        reason = check_state_for(kind, m.state, m.final)
        if reason:
            return reason
        match decision:
            case ApproveInput():
                return check_approval(self._definition, decision)
            case MaterialsSupplementedInput() if decision.matter != self._definition.code:
                return f"补正材料所指事项{decision.matter.value}与本事项不符"
            # With a verified statement its supervisor role is the authority, never a typed name.
            case ExtendDeadlineInput() if (decision.supervisor not in self._policy.supervisors
                                           and decision.officer_statement is None):
                return "延长时限须由本县配置的督办人办理，该督办人不在名单中"
            case PaymentConfirmedInput() | PaymentFailedInput() if decision.reference != m.payment_reference:
                return "凭证号与本事项待确认的发放指令不符"
            case PayeeCorrectedInput() if self._payment_key() not in decision.references:
                return "更正所指的发放凭证号与本事项发放失败的款项不符"
        return None

    def _payment_key(self) -> str:
        m = self._m
        return payment_key(self._definition.code, m.payment_reference, m.payment_attempt)

    def _refuse(self, action: str, reason: str, *, by: str | None = None) -> None:
        m = self._m
        refused = RefusedAction(at=workflow.now(), action=action, matter=self._definition.code, reason=reason,
                                by=by)
        workflow.logger.warning("refused action %s: %s", action, reason)
        workflow.set_current_details(f"最近一次被拒绝的操作：{action}——{reason}")
        m.refused = [*m.refused, refused][-KEEP_REFUSALS:]
        m.refused_total += 1
        event = f"拒绝{by}的操作{action}：{reason}" if by else f"拒绝操作{action}：{reason}"
        self._audit.append(self._audit_event(event, refused.at, by or "system"))

    # --- applying a decision -----------------------------------------------------------------------

    async def _apply(self, item: InboxItem) -> str | None:
        """Apply one decision; the reason when a statement it needs is not the issuer's (else None)."""
        # Two decisions can arrive in one workflow task: the state may have changed since the first check.
        reason = self._problem(item.decision)
        if reason:
            self._refuse(item.kind.value, reason)
            return None
        unverified = await self._unverified(item.decision)
        if unverified:
            self._refuse(item.kind.value, unverified)
            return unverified
        decision = item.decision
        if item.kind in OFFICER_KINDS:
            assert isinstance(decision, (ApproveInput, RejectInput, RequestMaterialsInput, ExtendDeadlineInput))
            identified = await self._identified(decision, item.kind)
            if isinstance(identified, tuple):
                refused, by = identified
                self._refuse(item.kind.value, refused, by=by)
                return refused
            decision = identified
        match decision:
            case ApproveInput() as approval:
                await self._approved(approval)
            case RejectInput() as rejection:
                self._rejected(rejection)
            case RequestMaterialsInput() as request:
                await self._materials_requested(request)
            case MaterialsSupplementedInput() as supplement:
                await self._materials_arrived(supplement)
            case ExtendDeadlineInput() as extension:
                await self._extended(extension)
            case WithdrawInput() as withdrawal:
                await self._withdrawn(withdrawal)
            case PayeeCorrectedInput() as correction:
                await self._payee_corrected(correction)
            case PaymentConfirmedInput() as confirmation:
                self._payment_confirmed(confirmation)
            case PaymentFailedInput() as failure:
                await self._payment_failed(failure)
        return None

    async def _unverified(self, decision: Decision) -> str | None:
        """Why a statement that moves money, a payee or a withdrawal is not taken: its issuer's signature (the
        paying system's, the window's) is missing or does not cover exactly this statement for this matter."""
        issuer = SIGNED_BY.get(type(decision))
        if issuer is None:
            return None
        digest = signed_digest(decision, self._input.case_number, self._definition.code)
        verdict = await workflow.execute_local_activity_method(
            TrustActivities.verify_statement,
            StatementCheck(issuer=issuer, digest=digest, signature=getattr(decision, "signature", None)),
            **LOCAL_OPTIONS,
        )
        if verdict.refused:
            return verdict.refused
        if isinstance(decision, PayeeCorrectedInput):
            if self._payment_key() not in decision.references:
                return "更正所指的发放凭证号与本事项发放失败的款项不符"
            return check_correction(decision, self._input.payee.account_name)
        return None

    async def _identified(
        self, decision: OfficerDecision, kind: DecisionKind
    ) -> OfficerDecision | tuple[str, str]:
        """The decision under the name of who made it: the verified officer's, or (where the worker takes
        decisions without a statement) the typed one marked unverified. Else why not, and who tried."""
        statement = decision.officer_statement
        typed = typed_name(decision)
        if decision.case_number not in (None, self._input.case_number) or decision.matter not in (
                None, self._definition.code):
            return "决定所注明的受理编号或事项与本事项不符", typed + UNVERIFIED
        check = OfficerCheck() if statement is None else OfficerCheck(
            digest=officer_statement_digest(statement), signature=statement.signature)
        verdict = await workflow.execute_local_activity_method(
            TrustActivities.verify_officer, check, **LOCAL_OPTIONS)
        if statement is None:
            if verdict.refused:
                return verdict.refused, typed + UNVERIFIED
            return with_name(decision, typed + UNVERIFIED)
        if verdict.refused:
            return verdict.refused, typed + UNVERIFIED
        problem = statement_problem(
            decision, kind, case_number=self._input.case_number, matter=self._definition.code,
            department=self._definition.department, now=workflow.now(), used_nonces=self._m.officer_nonces)
        if problem:
            return problem, statement.name
        self._m.officer_nonces.append(statement.nonce)
        return with_name(decision, statement.name)

    async def _push(self) -> None:
        definition = self._definition
        now = workflow.now()
        days = definition.time_limit_working_days
        manual: str | None = None
        request = PushRequest(case_number=self._input.case_number, matter=definition.code,
                              department=definition.department, pushed_at=now,
                              hukou_certificate_no=self._input.hukou_certificate_no,
                              clock=self._clock(now, days, horizon=True))
        try:
            options: LocalActivityConfig = {**PUSH_LOCAL_OPTIONS,
                                             "summary": f"推送{definition.department_name}，计算承诺期限"}
            receipt = await workflow.execute_local_activity_method(
                DepartmentActivities.push_to_department, request, **options)
            plan = self._adopt(receipt.plan, now, days) if receipt.plan else await self._plan(now, days)
        except FAILED_STEP as err:
            manual = messages.manual_handling(definition)
            workflow.logger.error("push failed, flagged for manual handling: %s", _cause(err))
            plan = await self._plan(now, days)
        m = self._m
        m.state = MatterState.UNDER_REVIEW
        m.pushed_at = now
        m.deadline = plan.deadline
        m.calendar_fallback = plan.calendar_fallback
        m.manual_handling = manual
        event = f"已推送{definition.department_name}，承诺时限{definition.time_limit_working_days}个工作日"
        if manual:
            self._commit(event + "（推送失败，转人工处理）",
                         notes=[(NotificationKind.SUPERVISION, Recipient.SUPERVISOR, manual, None)])
        else:
            self._commit(event)

    async def _approved(self, approval: ApproveInput) -> None:
        definition = self._definition
        m = self._m
        m.decisions.append(DecisionRecord(
            kind=DecisionKind.APPROVE, at=workflow.now(), by=approval.officer, note=approval.note,
            amount=approval.amount, certificate_no=approval.certificate_no,
        ))
        m.state = MatterState.APPROVED
        m.certificate_no = approval.certificate_no
        # An officer who decides has handled it by hand: the flag from a failed push is done.
        m.manual_handling = None
        m.not_late()
        event = f"审核通过（{approval.officer}）"
        if not definition.pays_family or approval.amount is None:
            m.final = True
            notes: list[_Note] = []
            if definition.code != MatterCode.HUKOU_CANCELLATION:
                notes.append((NotificationKind.MATTER_APPROVED, Recipient.FAMILY,
                              messages.matter_approved(definition), None))
            self._commit(event, actor=approval.officer, notes=notes)
            return
        gross = approval.amount
        offset = approval.overpaid or Decimal("0.00")
        net = gross - offset
        m.amount, m.net_amount = gross, max(net, Decimal("0.00"))
        m.overpaid, m.overpaid_source = approval.overpaid, approval.overpaid_source
        money = f"，核定{gross:.2f}元" + (f"，抵扣多领{offset:.2f}元（{approval.overpaid_source}）" if offset else "")
        if net > 0:
            self._commit(event + money + f"，实发{net:.2f}元", actor=approval.officer, notes=[
                (NotificationKind.MATTER_APPROVED, Recipient.FAMILY,
                 messages.approved_amount(definition, gross, offset, net), None)])
            await self._instruct()
            return
        m.final = True
        if net == 0:
            self._commit(event + money + "，无款项发放", actor=approval.officer, notes=[
                (NotificationKind.MATTER_APPROVED, Recipient.FAMILY, messages.nothing_to_pay(definition, gross, offset),
                 None)])
            return
        m.to_return = -net
        self._commit(event + money + f"，家属尚需退回{-net:.2f}元", actor=approval.officer, notes=[
            (NotificationKind.MONEY_TO_RETURN, Recipient.FAMILY,
             messages.money_to_return(definition, gross, offset, -net), None),
            (NotificationKind.MONEY_TO_RETURN, Recipient.DEPARTMENT,
             messages.money_to_collect(self._input.case_number, definition, -net), None)])

    async def _instruct(self) -> None:
        """Give the paying system its instruction (idempotent); the matter then waits for its report.

        A local activity: the instruction is a quick, idempotent hand-over (the ledger by default), and so the
        approval and the instruction are written to the register together, in the officer's workflow task.
        """
        definition = self._definition
        m = self._m
        assert m.net_amount is not None and m.amount is not None
        now = workflow.now()
        days = self._policy.waits.payment_confirmation_working_days
        try:
            receipt = await workflow.execute_local_activity_method(
                PaymentActivities.instruct_payment,
                PaymentInstruction(case_number=self._input.case_number, matter=definition.code, amount=m.net_amount,
                                   gross=m.amount, offset=m.overpaid, payee=self._payee, at=now,
                                   attempt=m.payment_attempt, confirm_within=self._clock(now, days)),
                **LOCAL_OPTIONS,
            )
        except FAILED_STEP as err:
            await self._payment_refused(f"款项发放失败：{_cause(err)}，待更正收款账户")
            return
        m.state = MatterState.PAYING
        m.payment_reference = receipt.reference
        m.payment_instructed_at = receipt.paid_at
        m.payment_due = receipt.confirm_by or (await self._count(now, days)).deadline
        self._commit(f"已下达发放指令{receipt.amount:.2f}元，凭证号{receipt.reference}，待支付系统确认到账")

    def _payment_confirmed(self, confirmation: PaymentConfirmedInput) -> None:
        m = self._m
        now = workflow.now()
        assert m.payment_reference is not None and m.net_amount is not None
        m.decisions.append(DecisionRecord(kind=DecisionKind.PAYMENT_CONFIRMED, at=now, by=confirmation.by,
                                          note=confirmation.note, amount=m.net_amount))
        m.state = MatterState.PAID
        m.payment_confirmed_at = now
        m.payment_due = None
        m.manual_handling = None
        m.final = True
        self._payment_result = PaymentResult(case_number=self._input.case_number, matter=self._definition.code,
                                             reference=m.payment_reference, confirmed=True, at=now)
        self._commit(f"支付系统确认到账{m.net_amount:.2f}元（{confirmation.by}），凭证号{m.payment_reference}",
                     actor=confirmation.by, notes=[(NotificationKind.MONEY_SENT, Recipient.FAMILY,
                                                     messages.money_sent(self._definition, m.net_amount), None)])

    async def _payment_failed(self, failure: PaymentFailedInput) -> None:
        m = self._m
        now = workflow.now()
        assert m.payment_reference is not None
        m.decisions.append(DecisionRecord(kind=DecisionKind.PAYMENT_FAILED, at=now, by=failure.by,
                                          reason=failure.reason))
        self._payment_result = PaymentResult(case_number=self._input.case_number, matter=self._definition.code,
                                             reference=m.payment_reference, confirmed=False, at=now,
                                             reason=failure.reason)
        await self._payment_refused(f"支付系统报告发放失败（{failure.by}）：{failure.reason}，待更正收款账户",
                                    actor=failure.by)

    async def _payment_refused(self, reason: str, *, actor: str = "system") -> None:
        """The money did not go out: a person handles it, and the family is asked for a corrected account."""
        m = self._m
        m.state = MatterState.PAYMENT_FAILED
        m.manual_handling = reason
        m.payment_due = None
        self._commit(reason, actor=actor, notes=[
            (NotificationKind.PAYMENT_FAILED, Recipient.SUPERVISOR, reason, None),
            (NotificationKind.PAYMENT_FAILED, Recipient.FAMILY, messages.payment_failed_family(self._definition),
             None)])
        await self._report(reason)

    async def _payee_corrected(self, correction: PayeeCorrectedInput) -> None:
        self._payee = BankAccount(bank_name=correction.bank_name, account_name=correction.account_name,
                                  card_number=correction.card_number.replace(" ", ""),
                                  authorised_reason=correction.authorised_reason)
        m = self._m
        m.state = MatterState.APPROVED
        m.payment_attempt += 1
        # The failed payment's reference names it in the correction: it must not name the next one too.
        m.payment_reference = None
        # The correction is the handling the failure asked for: the supervisor's flag is done.
        m.manual_handling = None
        self._commit("收款账户已更正，重新下达发放指令", actor=correction.clerk)
        await self._report("收款账户已更正，重新下达发放指令")
        await self._instruct()

    def _rejected(self, rejection: RejectInput) -> None:
        m = self._m
        m.decisions.append(DecisionRecord(kind=DecisionKind.REJECT, at=workflow.now(), by=rejection.officer,
                                          reason=rejection.reason))
        m.state = MatterState.REJECTED
        m.reason = rejection.reason
        m.final = True
        m.not_late()
        self._commit(f"不予办理（{rejection.officer}）：{rejection.reason}", actor=rejection.officer, notes=[
            (NotificationKind.MATTER_REJECTED, Recipient.FAMILY,
             messages.matter_rejected(self._definition, rejection.reason), None)])

    async def _materials_requested(self, request: RequestMaterialsInput) -> None:
        """补正 stops the clock. Lateness stays: an overdue matter stays overdue and on the supervisor's list."""
        m = self._m
        now = workflow.now()
        assert m.deadline is not None
        remaining = await workflow.execute_local_activity_method(
            DeadlineActivities.remaining_working_days,
            RemainingRequest(case_number=self._input.case_number, matter=self._definition.code, paused_at=now,
                             deadline=m.deadline, timezone=self._policy.timezone),
            **LOCAL_OPTIONS,
        )
        m.decisions.append(DecisionRecord(kind=DecisionKind.REQUEST_MATERIALS, at=now, by=request.officer,
                                          note=request.note, items=tuple(request.items)))
        m.state = MatterState.AWAITING_MATERIALS
        m.pending_items = tuple(request.items)
        m.pauses.append(ClockPause(started_at=now, remaining_working_days=remaining.working_days))
        m.deadline = None
        self._reminders = 0
        left = "已超期，补正后仍按超期督办" if remaining.overdue else f"剩余{remaining.working_days}个工作日"
        self._commit(
            f"要求补正（{request.officer}）：{'、'.join(request.items)}；计时暂停，{left}",
            actor=request.officer,
            notes=[(NotificationKind.MATERIALS_REQUESTED, Recipient.FAMILY,
                    messages.materials_requested(self._definition, request.items), None)],
        )

    async def _materials_arrived(self, supplement: MaterialsSupplementedInput) -> None:
        """The clock restarts with the days that were left; the ladder goes on where it stopped."""
        m = self._m
        now = workflow.now()
        pause = m.pauses[-1]
        remaining = pause.remaining_working_days or 0
        # Nothing left: it was overdue when the clock stopped, and is again at once.
        plan = await self._plan(now, remaining, late=m.working_days_overdue if remaining == 0 else 0)
        m.decisions.append(DecisionRecord(kind=DecisionKind.MATERIALS_SUPPLEMENTED, at=now, by="窗口",
                                          note=supplement.note, items=tuple(supplement.items)))
        m.state = MatterState.UNDER_REVIEW
        m.pending_items = ()
        m.pauses[-1] = pause.model_copy(update={"ended_at": now})
        m.deadline = plan.deadline
        m.calendar_fallback = m.calendar_fallback or plan.calendar_fallback
        left = f"剩余{remaining}个工作日" if remaining else "已超期，继续督办"
        self._commit(f"材料已补正：{'、'.join(supplement.items)}；恢复计时，{left}")

    async def _extended(self, extension: ExtendDeadlineInput) -> None:
        m = self._m
        now = workflow.now()
        m.decisions.append(DecisionRecord(kind=DecisionKind.EXTEND_DEADLINE, at=now, by=extension.supervisor,
                                          reason=extension.reason, working_days=extension.working_days))
        if m.state == MatterState.AWAITING_MATERIALS:
            pause = m.pauses[-1]
            more = (pause.remaining_working_days or 0) + extension.working_days
            m.pauses[-1] = pause.model_copy(update={"remaining_working_days": more})
            m.not_late()
        else:
            assert m.deadline is not None
            # The deadline is 00:00 after its last working day; extend from that day. An overdue matter given
            # more time is no longer late, and a new ladder runs to the new deadline.
            start = m.deadline - timedelta(microseconds=1) if not m.plan_late else now
            self._generation += 1
            plan = await self._plan(start, extension.working_days)
            m.deadline = plan.deadline
            m.calendar_fallback = m.calendar_fallback or plan.calendar_fallback
            m.not_late()
        self._commit(
            f"督办人{extension.supervisor}延长时限{extension.working_days}个工作日：{extension.reason}",
            actor=extension.supervisor,
        )

    async def _withdrawn(self, withdrawal: WithdrawInput) -> None:
        m = self._m
        if m.final or m.state in (MatterState.APPROVED, MatterState.PAYING, MatterState.PAYMENT_FAILED):
            # Approved money is still paid: a withdrawal only stops what is undecided.
            return
        now = workflow.now()
        await self._flush()
        await workflow.execute_activity_method(
            DepartmentActivities.withdraw_from_department,
            WithdrawItemRequest(case_number=self._input.case_number, matter=self._definition.code,
                                reason=withdrawal.reason, at=now),
            **REGISTER_OPTIONS,
        )
        m.decisions.append(DecisionRecord(kind=DecisionKind.WITHDRAW, at=now, by=withdrawal.clerk,
                                          reason=withdrawal.reason))
        m.state = MatterState.WITHDRAWN
        m.reason = withdrawal.reason
        m.deadline = None
        m.final = True
        self._commit(f"申请人撤回，事项终止：{withdrawal.reason}", actor=withdrawal.clerk, notes=[
            (NotificationKind.MATTER_WITHDRAWN, Recipient.DEPARTMENT,
             messages.matter_withdrawn(self._definition, withdrawal.reason), None)])

    # --- the clock: deadlines, the escalation ladder and reminders ------------------------------------

    def _clock(self, start: datetime, working_days: int, late: int = 0, *, horizon: bool = False) -> DeadlineRequest:
        """``horizon``: the ladder only up to 督办 (the push's plan; the first step to fire counts the rest)."""
        return DeadlineRequest(case_number=self._input.case_number, matter=self._definition.code, start=start,
                               working_days=working_days, timezone=self._policy.timezone, ladder=self._policy.ladder,
                               already_overdue=late,
                               horizon=self._policy.ladder.supervision_after_working_days if horizon else None)

    async def _count(self, start: datetime, working_days: int, late: int = 0) -> DeadlinePlan:
        """The deadline N working days after ``start`` and its ladder, on the worker's current calendar."""
        return await workflow.execute_local_activity_method(
            DeadlineActivities.plan_deadline, self._clock(start, working_days, late), **LOCAL_OPTIONS,
        )

    async def _plan(self, start: datetime, working_days: int, late: int = 0) -> DeadlinePlan:
        """Count the running deadline, and keep what it was counted from and the ladder to it."""
        return self._adopt(await self._count(start, working_days, late), start, working_days, late)

    def _adopt(self, plan: DeadlinePlan, start: datetime, working_days: int, late: int = 0) -> DeadlinePlan:
        m = self._m
        m.plan_start, m.plan_days, m.plan_late = start, working_days, late
        m.deadline_days = plan.working_days
        self._rungs = plan.rungs
        return plan

    def _next_rung(self) -> LadderRung | None:
        for rung in self._rungs:
            if (self._generation, rung.step, rung.working_days_overdue) not in self._fired:
                return rung
        return None

    def _reminder_wait(self) -> str | None:
        """What the matter waits for that its ladder does not cover (each wait has its own reminders)."""
        m = self._m
        if m.state in (MatterState.PAYING, MatterState.PAYMENT_FAILED, MatterState.AWAITING_MATERIALS):
            return m.state.value
        if m.state == MatterState.UNDER_REVIEW and m.deadline is not None and self._next_rung() is None:
            return "long_overdue"
        return None

    def _reminder_schedule(self, wait: str) -> tuple[int, int, int]:
        """(first after, every, at most) in working days for the reminders of ``wait``."""
        w = self._policy.waits
        if wait == MatterState.PAYING.value:
            return (w.payment_confirmation_working_days, w.payment_reminder_every_working_days,
                    w.payment_reminders_max)
        if wait == MatterState.PAYMENT_FAILED.value:
            return (w.payment_reminder_every_working_days, w.payment_reminder_every_working_days,
                    w.payment_reminders_max)
        if wait == MatterState.AWAITING_MATERIALS.value:
            return (w.materials_reminder_every_working_days, w.materials_reminder_every_working_days,
                    w.materials_reminders_max)
        return (w.long_overdue_reminder_every_working_days, w.long_overdue_reminder_every_working_days,
                w.long_overdue_reminders_max)

    async def _plan_reminder(self) -> None:
        """Plan the next reminder of the current wait on the working-day calendar."""
        m = self._m
        wait = self._reminder_wait()
        if wait is None:
            m.reminder_wait, m.reminder_at = None, None
            return
        if wait != m.reminder_wait:
            m.reminder_wait, m.reminder_at, m.reminder_days = wait, None, 0
            # A ladder run out counts on from its last rung; any other wait from now.
            last = self._rungs[-1].at - timedelta(microseconds=1) if wait == "long_overdue" and self._rungs else None
            m.reminder_since = last or (m.payment_instructed_at if wait == MatterState.PAYING.value else None) \
                or workflow.now()
            self._reminders = 0
        first, every, most = self._reminder_schedule(wait)
        if m.reminder_at is not None or self._reminders >= most:
            return
        assert m.reminder_since is not None
        plan = await workflow.execute_local_activity_method(
            DeadlineActivities.plan_reminder,
            ReminderRequest(since=m.reminder_since, first_after=first, every=every, sent=self._reminders,
                            timezone=self._policy.timezone, hour=self._policy.waits.reminder_hour),
            **LOCAL_OPTIONS,
        )
        m.reminder_at, m.reminder_days = plan.at, plan.working_days

    def _wake_at(self) -> datetime | None:
        """When the matter next acts by itself if nobody decides (None: only when someone does)."""
        m = self._m
        now = workflow.now()
        # Every wait but the ladder's (paying, a failed payment, 补正, a ladder run out) is a reminder's.
        if m.reminder_wait is not None:
            return None if m.reminder_at is None else max(m.reminder_at, now)
        rung = self._next_rung() if m.state == MatterState.UNDER_REVIEW else None
        if rung is None:
            return now + self._policy.waits.long_overdue_reminder_every
        return max(rung.at, now)

    async def _on_timer(self) -> None:
        m = self._m
        if m.reminder_wait is not None:
            return self._remind()
        if self._next_rung() is not None:
            if await self._replanned():
                return
            rung = self._next_rung()
            if rung is not None and rung.at <= workflow.now():
                self._fire(rung)
        else:
            text = messages.supervision(self._input.case_number, self._definition, m.working_days_overdue,
                                        self._policy.supervisor_name)
            self._commit(text, notes=[(NotificationKind.SUPERVISION, Recipient.SUPERVISOR, text, None)])
        return None

    def _remind(self) -> None:
        """A reminder of the current wait, saying how many working days it has lasted (never the same twice)."""
        m = self._m
        definition = self._definition
        case_number = self._input.case_number
        days, wait = m.reminder_days, m.reminder_wait
        self._reminders += 1
        m.reminder_at = None
        notes: list[_Note]
        if wait == MatterState.PAYING.value:
            assert m.payment_reference is not None
            text = messages.payment_unconfirmed(case_number, definition, days, m.payment_reference)
            m.manual_handling = f"款项下达指令{days}个工作日未确认到账"
            notes = [(NotificationKind.PAYMENT_UNCONFIRMED, Recipient.SUPERVISOR, text, None)]
        elif wait == MatterState.PAYMENT_FAILED.value:
            text = messages.payment_failed_waiting(case_number, definition, days)
            notes = [(NotificationKind.SUPERVISION, Recipient.SUPERVISOR, text, None)]
        elif wait == MatterState.AWAITING_MATERIALS.value:
            text = messages.materials_waiting(case_number, definition, days)
            notes = [(NotificationKind.MATERIALS_REMINDER, Recipient.FAMILY, text, None)]
        else:
            days += m.working_days_overdue
            text = messages.supervision(case_number, definition, days, self._policy.supervisor_name)
            notes = [(NotificationKind.SUPERVISION, Recipient.SUPERVISOR, text, None)]
        self._commit(text, notes=notes)

    async def _replanned(self) -> bool:
        """Before a ladder step fires, count the deadline again on today's calendar (the county may have
        entered the official holidays since); a moved deadline is a new entry in the timeline."""
        m = self._m
        assert m.plan_start is not None
        before, rungs = m.deadline, {(r.step, r.working_days_overdue): r.at for r in self._rungs}
        plan = await self._plan(m.plan_start, m.plan_days, m.plan_late)
        m.calendar_fallback = plan.calendar_fallback
        unchanged = all(rungs.get((r.step, r.working_days_overdue), r.at) == r.at for r in plan.rungs)
        if plan.deadline == before and unchanged:
            return False
        m.deadline = plan.deadline
        shown = deadline_text(plan.deadline, self._policy.timezone)
        was = deadline_text(before, self._policy.timezone) if before else "（暂停中）"
        text = messages.deadline_moved(self._definition, shown)
        self._commit(f"节假日安排更新，承诺期限由{was}调整为{shown}",
                     notes=[(NotificationKind.DEADLINE_MOVED, Recipient.DEPARTMENT, text, None)])
        return True

    def _fire(self, rung: LadderRung) -> None:
        m = self._m
        definition = self._definition
        case_number = self._input.case_number
        self._fired.add((self._generation, rung.step, rung.working_days_overdue))
        notes: Sequence[_Note]
        if rung.step == EscalationStep.WARNING:
            before = self._policy.ladder.warning_working_days_before
            text = messages.deadline_warning(case_number, definition, before)
            notes = [(NotificationKind.DEADLINE_WARNING, Recipient.DEPARTMENT, text, rung)]
            event = f"预警：距承诺时限不足{before}个工作日"
        elif rung.step == EscalationStep.OVERDUE:
            text = messages.deadline_overdue(case_number, definition)
            notes = [(NotificationKind.DEADLINE_OVERDUE, Recipient.DEPARTMENT_HEAD, text, rung)]
            event = "超时：已超过承诺时限，已通知部门负责人"
        elif rung.step == EscalationStep.SUPERVISION:
            text = messages.supervision(case_number, definition, rung.working_days_overdue)
            notes = [(NotificationKind.SUPERVISION, Recipient.SUPERVISOR, text, rung),
                     (NotificationKind.SUPERVISION, Recipient.DEPARTMENT_HEAD, text, rung)]
            event = f"督办：已超期{rung.working_days_overdue}个工作日，县政务服务局督办"
        else:
            text = messages.deadline_reminder(case_number, definition, rung.working_days_overdue)
            notes = [(NotificationKind.DEADLINE_REMINDER, Recipient.DEPARTMENT_HEAD, text, rung)]
            event = f"催办：已超期{rung.working_days_overdue}个工作日"
        if rung.approximate:
            event += "（日期按法定节假日规则推算，以官方安排为准）"
        m.overdue = m.overdue or rung.step != EscalationStep.WARNING
        m.working_days_overdue = max(m.working_days_overdue, rung.working_days_overdue)
        m.escalation_level = max(m.escalation_level, STEP_LEVEL[rung.step])
        m.escalations.append(rung.step)
        self._commit(event, notes=notes)

    def _arm_timer(self, at: datetime | None) -> None:
        if self._timer_at == at and self._timer is not None and not self._timer.done():
            return
        self._cancel_timer()
        if at is None:
            return
        self._timer_at = at
        self._timer_fired = False
        self._timer = asyncio.create_task(
            self._sleep_until(at, timer_summary(self._wake_reason(), at, self._policy.timezone)))

    async def _sleep_until(self, at: datetime, summary: str) -> None:
        await workflow.sleep(max(at - workflow.now(), timedelta(0)), summary=summary)
        self._timer_fired = True

    def _wake_reason(self) -> str:
        """What the next timer is for, as its summary in the Web UI says."""
        m = self._m
        if m.reminder_wait is not None:
            return f"{_WAIT_NAMES.get(m.reminder_wait, '提醒')}（已{m.reminder_days}个工作日）"
        rung = self._next_rung() if m.state == MatterState.UNDER_REVIEW else None
        if rung is None:
            return "到期检查"
        if rung.step == EscalationStep.WARNING:
            return "预警：承诺期限将至"
        if rung.step == EscalationStep.OVERDUE:
            return "超时：承诺期限届满"
        name = "督办" if rung.step == EscalationStep.SUPERVISION else "催办"
        return f"{name}：超期{rung.working_days_overdue}个工作日"

    def _cancel_timer(self) -> None:
        if self._timer is not None and not self._timer.done():
            self._timer.cancel()
        self._timer = None
        self._timer_at = None

    # --- the one place state changes, and what leaves the workflow ------------------------------------

    def _commit(self, event: str, *, actor: str = "system", notes: Sequence[_Note] = ()) -> None:
        """Record a change: timeline, search attributes, and the register write of this workflow task."""
        now = workflow.now()
        self._timeline.append(TimelineEntry(at=now, event=event, matter=self._definition.code))
        self._audit.append(self._audit_event(event, now, actor))
        for kind, recipient, text, rung in notes:
            self._notes.append(self._notification(kind, recipient, text, rung))
        self._dirty = True
        self._details_due = True

    async def _flush(self, *, everything: bool = False) -> None:
        """One register write for everything this workflow task changed; refusals alone wait for a batch
        unless ``everything`` is asked for (or the matter has ended)."""
        if not self._dirty and len(self._audit) < REFUSAL_BATCH and not ((everything or self._m.final) and self._audit):
            return
        if self._dirty:
            self._upsert_attributes()
        view = self._view()
        batch = RegisterBatch(case_number=view.case_number, matter=view, payment=self._payment_result,
                              audit=tuple(self._audit), notifications=tuple(self._notes))
        self._dirty, self._audit, self._notes, self._payment_result = False, [], [], None
        await workflow.execute_local_activity_method(RegisterActivities.record, batch, **LOCAL_OPTIONS)

    def _upsert_attributes(self) -> None:
        m = self._m
        reviewing = m.state == MatterState.UNDER_REVIEW and m.deadline is not None
        values: dict[str, Any] = {
            sa.MATTER_STATE.name: m.state.value,
            sa.OVERDUE.name: m.overdue,
            sa.ESCALATION_LEVEL.name: m.escalation_level,
            sa.DAYS_OVERDUE.name: m.working_days_overdue,
            sa.MANUAL_HANDLING.name: m.manual_handling is not None,
            sa.DEADLINE.name: m.deadline if reviewing else None,
            sa.WARNING_AT.name: self._warning_at() if reviewing else None,
            sa.DEADLINE_APPROXIMATE.name: m.calendar_fallback,
        }
        changed = {name: value for name, value in values.items() if self._attributes.get(name, ...) != value}
        if not changed:
            return
        self._attributes.update(changed)
        updates: list[SearchAttributeUpdate[Any]] = []
        for key in (sa.MATTER_STATE, sa.OVERDUE, sa.ESCALATION_LEVEL, sa.DAYS_OVERDUE, sa.MANUAL_HANDLING,
                    sa.DEADLINE, sa.WARNING_AT, sa.DEADLINE_APPROXIMATE):
            if key.name in changed:
                value = changed[key.name]
                updates.append(key.value_unset() if value is None else key.value_set(value))
        workflow.upsert_search_attributes(updates)

    def _warning_at(self) -> datetime | None:
        for rung in self._rungs:
            if rung.step in (EscalationStep.WARNING, EscalationStep.OVERDUE):
                return rung.at
        return None

    async def _report(self, event: str, *, final: bool = False) -> None:
        """Tell the case what it must act on."""
        parent = workflow.info().parent
        if parent is None:
            return
        # The case checks the report with the engine: the state it reads must be written first.
        await self._flush()
        report = MatterReport(matter=self._definition.code, state=self._m.state, event=event, at=workflow.now(),
                              final=final)
        await workflow.get_external_workflow_handle(parent.workflow_id).signal(MATTER_UPDATED, to_raw(report))

    def _audit_event(self, event: str, at: datetime, actor: str) -> AuditEvent:
        """An audit line keyed by this workflow's own sequence, so a retried write adds nothing."""
        self._seq += 1
        return AuditEvent(case_number=self._input.case_number, matter=self._definition.code,
                          key=f"{self._definition.code.value}/{self._seq:04d}", event=event, at=at, actor=actor)

    def _notification(
        self, kind: NotificationKind, recipient: Recipient, message: str, rung: LadderRung | None
    ) -> Notification:
        code = self._definition.code
        suffix = f"{self._generation}/{rung.step.value}/{rung.working_days_overdue}" if rung else f"{self._seq:04d}"
        return Notification(
            case_number=self._input.case_number, matter=code, kind=kind, recipient=recipient,
            key=f"{code.value}/{kind.value}/{recipient.value}/{suffix}",
            department=self._definition.department if recipient != Recipient.FAMILY else None,
            message=message, at=workflow.now(),
        )

    def _view(self) -> MatterView:
        m = self._m
        definition = self._definition
        return MatterView(
            case_number=self._input.case_number, code=definition.code, name=definition.name,
            department=definition.department, department_name=definition.department_name, state=m.state,
            pays_family=definition.pays_family, time_limit_working_days=definition.time_limit_working_days,
            pushed_at=m.pushed_at, deadline=m.deadline, calendar_fallback=m.calendar_fallback, overdue=m.overdue,
            working_days_overdue=m.working_days_overdue, escalation_level=m.escalation_level,
            escalations=tuple(m.escalations), pauses=tuple(m.pauses), pending_items=m.pending_items,
            decisions=tuple(m.decisions), amount=m.amount, overpaid=m.overpaid, overpaid_source=m.overpaid_source,
            net_amount=m.net_amount, to_return=m.to_return, payment_reference=m.payment_reference,
            payment_attempt=m.payment_attempt, payment_instructed_at=m.payment_instructed_at,
            payment_confirmed_at=m.payment_confirmed_at,
            ladder=self._rungs if m.state == MatterState.UNDER_REVIEW else (), certificate_no=m.certificate_no,
            reason=m.reason, refused_actions=tuple(m.refused), refused_total=m.refused_total,
            manual_handling=m.manual_handling, final=m.final,
        )


_Note = tuple[NotificationKind, Recipient, str, LadderRung | None]
_WAIT_NAMES = {
    MatterState.PAYING.value: "提醒支付系统未确认到账",
    MatterState.PAYMENT_FAILED.value: "提醒发放失败待更正账户",
    MatterState.AWAITING_MATERIALS.value: "提醒家属补正材料",
    "long_overdue": "长期超期提醒督办",
}


def _decision_of(command: DecisionCommand) -> Decision:
    payload = command_payload(command)
    if isinstance(payload, str):
        raise ValueError(payload)
    assert isinstance(payload, tuple(KIND_OF)), payload
    return payload  # type: ignore[return-value]


def _cause(err: BaseException) -> str:
    cause = err.cause if isinstance(err, ActivityError) else err
    if isinstance(cause, ApplicationError):
        return cause.message
    return type(cause).__name__
