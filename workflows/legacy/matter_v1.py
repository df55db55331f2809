"""The first shape of MatterWorkflow (before 2026-12), kept so that matters started then replay and finish.

Frozen: ``workflows.matter.MatterWorkflow`` runs this code for every run whose history has no
``shape-2026-12`` patch marker, and only then. Change nothing here that alters the commands it issues.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import ActivityError, ApplicationError

from workflows import search_attributes as sa
from workflows.raw_input import parse_raw, to_raw

with workflow.unsafe.imports_passed_through():
    from activities.deadlines import DeadlineActivities
    from activities.departments import DepartmentActivities
    from activities.payments import PaymentActivities
    from activities.register import RegisterActivities
    from domain import messages
    from domain.catalogue import MatterDefinition
    from domain.decisions import command_payload
    from domain.enums import (
        DecisionKind,
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
        MatterInput,
        MatterResult,
        MatterUpdate,
        MatterView,
        Notification,
        PayeeCorrectedInput,
        PaymentInstruction,
        PushRequest,
        RefusedAction,
        RegisterBatch,
        RejectInput,
        RemainingRequest,
        RequestMaterialsInput,
        StatusSnapshot,
        TimelineEntry,
        WithdrawInput,
        WithdrawItemRequest,
    )
    from domain.policy import Policy
    from workflows.options import LOCAL_OPTIONS, PUSH_OPTIONS, REGISTER_OPTIONS

_STEP_LEVEL = {
    EscalationStep.WARNING: 1,
    EscalationStep.OVERDUE: 2,
    EscalationStep.REMINDER: 3,
    EscalationStep.SUPERVISION: 4,
}

KEEP_REFUSALS = 20

# A stopped or moved clock: the matter is no longer late (its escalation history stays).
_NOT_LATE: dict[str, Any] = {"overdue": False, "working_days_overdue": 0, "escalation_level": 0}

# An accepted decision waiting for the main loop: (kind, input, source, ticket).
_Item = tuple[DecisionKind, Any, str, int]


class MatterV1:
    def __init__(self, input: MatterInput) -> None:
        self._input = input
        self._payee: BankAccount = input.payee
        assert input.policy is not None, "a first-shape matter always carries the county policy"
        self._policy: Policy = input.policy
        self._definition: MatterDefinition = input.policy.matter(input.matter)
        definition = self._definition
        self._view = MatterView(
            case_number=input.case_number,
            code=definition.code,
            name=definition.name,
            department=definition.department,
            department_name=definition.department_name,
            state=MatterState.PENDING_PUSH,
            pays_family=definition.pays_family,
            time_limit_working_days=definition.time_limit_working_days,
        )
        self._inbox: list[_Item] = []
        self._tickets = 0
        self._processed = 0
        self._seq = 0
        self._refusals_unrecorded: list[RefusedAction] = []
        self._timeline: list[TimelineEntry] = []
        self._rungs: list[LadderRung] = []
        self._fired: set[tuple[int, EscalationStep, int]] = set()
        self._generation = 0
        self._payment_pending = False
        self._wake = False
        self._reminders = 0

    # --- entry point ---------------------------------------------------------------------------

    async def run(self) -> MatterResult:
        await self._push()
        while not self._view.final:
            await self._next()
        await workflow.wait_condition(workflow.all_handlers_finished)
        view = self._view
        return MatterResult(
            case_number=view.case_number,
            matter=view.code,
            state=view.state,
            amount=view.amount,
            payment_reference=view.payment_reference,
            certificate_no=view.certificate_no,
            reason=view.reason,
        )

    # --- signals, update and query ---------------------------------------------------------------

    def approve(self, payload: RawValue, extra: tuple[Any, ...]) -> None:
        self._receive(DecisionKind.APPROVE, ApproveInput, payload, extra)

    def reject(self, payload: RawValue, extra: tuple[Any, ...]) -> None:
        self._receive(DecisionKind.REJECT, RejectInput, payload, extra)

    def request_materials(self, payload: RawValue, extra: tuple[Any, ...]) -> None:
        self._receive(DecisionKind.REQUEST_MATERIALS, RequestMaterialsInput, payload, extra)

    def materials_supplemented(self, payload: RawValue, extra: tuple[Any, ...]) -> None:
        self._receive(DecisionKind.MATERIALS_SUPPLEMENTED, MaterialsSupplementedInput, payload, extra)

    def extend_deadline(self, payload: RawValue, extra: tuple[Any, ...]) -> None:
        self._receive(DecisionKind.EXTEND_DEADLINE, ExtendDeadlineInput, payload, extra)

    def withdraw(self, payload: RawValue, extra: tuple[Any, ...]) -> None:
        self._receive(DecisionKind.WITHDRAW, WithdrawInput, payload, extra)

    def payee_corrected(self, payload: RawValue, extra: tuple[Any, ...]) -> None:
        parsed = parse_raw(PayeeCorrectedInput, payload, workflow.payload_converter(), extra)
        if isinstance(parsed, str):
            self._refuse("payee_corrected", parsed)
            return
        if not self._payment_pending:
            self._refuse("payee_corrected", "本事项没有待重新发放的款项")
            return
        self._payee = BankAccount(
            bank_name=parsed.bank_name, account_name=parsed.account_name, card_number=parsed.card_number
        )
        self._payment_pending = False
        self._wake = True

    async def decide(self, command: DecisionCommand) -> CommandAck:
        kind, payload = self._decision(command)
        ticket = self._enqueue(kind, payload, "update")
        await workflow.wait_condition(lambda: self._processed >= ticket)
        view = self._view
        return CommandAck(accepted=True, state=view.state, message=f"决定已受理，事项状态：{view.state.value}")

    def validate_decide(self, command: DecisionCommand) -> None:
        kind, payload = self._decision(command)
        reason = self._check(kind, payload)
        if reason:
            raise ValueError(reason)

    def _decision(self, command: DecisionCommand) -> tuple[DecisionKind, Any]:
        payload = command_payload(command)
        if isinstance(payload, str):
            raise ValueError(payload)
        return command.kind, payload

    def status(self) -> StatusSnapshot:
        view = self._view
        return StatusSnapshot(
            case_number=view.case_number,
            scope="matter",
            matters=(view,),
            refused_actions=view.refused_actions,
            timeline=tuple(self._timeline),
        )

    # --- receiving input -------------------------------------------------------------------------

    def _receive(self, kind: DecisionKind, model: type[Any], payload: RawValue, extra: tuple[Any, ...]) -> None:
        parsed = parse_raw(model, payload, workflow.payload_converter(), extra)
        if isinstance(parsed, str):
            self._refuse(kind.value, parsed)
            return
        reason = self._check(kind, parsed)
        if reason:
            self._refuse(kind.value, reason)
            return
        self._enqueue(kind, parsed, "signal")

    def _check(self, kind: DecisionKind, payload: Any) -> str | None:
        view = self._view
        if kind == DecisionKind.WITHDRAW:
            return "事项已办结，无需撤回" if view.final else None
        if any(item[0] != DecisionKind.WITHDRAW for item in self._inbox):
            return "已有一个决定正在处理，请稍后查询状态"
        reason = check_state_for(kind, view.state, view.final)
        if reason:
            return reason
        if kind == DecisionKind.APPROVE:
            return check_approval(self._definition, payload)
        if kind == DecisionKind.MATERIALS_SUPPLEMENTED and payload.matter != view.code:
            return f"补正材料所指事项{payload.matter.value}与本事项不符"
        return None

    def _enqueue(self, kind: DecisionKind, payload: Any, source: str) -> int:
        self._tickets += 1
        self._inbox.append((kind, payload, source, self._tickets))
        return self._tickets

    def _refuse(self, action: str, reason: str) -> None:
        view = self._view
        refused = RefusedAction(at=workflow.now(), action=action, matter=view.code, reason=reason)
        workflow.logger.warning("refused action %s: %s", action, reason)
        workflow.set_current_details(f"最近一次被拒绝的操作：{action}——{reason}")
        self._refusals_unrecorded.append(refused)
        self._view = view.model_copy(update={
            "refused_actions": (*view.refused_actions, refused)[-KEEP_REFUSALS:],
            "refused_total": view.refused_total + 1,
        })

    # --- the main loop ---------------------------------------------------------------------------

    async def _next(self) -> None:
        timeout = self._next_timeout()
        try:
            await workflow.wait_condition(
                lambda: bool(self._inbox) or bool(self._refusals_unrecorded) or self._wake,
                timeout=timeout,
            )
        except TimeoutError:
            await self._on_timeout()
            return
        self._wake = False
        if self._refusals_unrecorded:
            await self._record_refusals()
        if self._inbox:
            kind, payload, source, ticket = self._inbox.pop(0)
            try:
                await self._apply(kind, payload, source)
            finally:
                self._processed = max(self._processed, ticket)

    def _next_timeout(self) -> timedelta | None:
        view = self._view
        waits = self._policy.waits
        if self._payment_pending:
            return waits.payment_retry_reminder_every
        if view.state == MatterState.AWAITING_MATERIALS:
            return waits.materials_reminder_every
        rung = self._next_rung()
        if rung is None:
            return waits.long_overdue_reminder_every
        return max(rung.at - workflow.now(), timedelta(0))

    def _next_rung(self) -> LadderRung | None:
        for rung in self._rungs:
            if (self._generation, rung.step, rung.working_days_overdue) not in self._fired:
                return rung
        return None

    async def _on_timeout(self) -> None:
        view = self._view
        definition = self._definition
        if self._payment_pending:
            await self._remind(NotificationKind.SUPERVISION, Recipient.SUPERVISOR,
                               f"“{definition.short_name}”款项发放失败，待更正收款账户后重新发放。")
            return
        if view.state == MatterState.AWAITING_MATERIALS:
            self._reminders += 1
            await self._remind(NotificationKind.MATERIALS_REMINDER, Recipient.FAMILY,
                               messages.materials_reminder(view.case_number, definition, self._reminders))
            return
        rung = self._next_rung()
        if rung is None:
            await self._remind(NotificationKind.SUPERVISION, Recipient.SUPERVISOR,
                               messages.supervision(view.case_number, definition, view.working_days_overdue))
            return
        await self._fire(rung)

    async def _apply(self, kind: DecisionKind, payload: Any, source: str) -> None:
        # The state may have changed since the handler checked (two signals in one task).
        reason = self._check_again(kind, payload)
        if reason:
            self._refuse(kind.value, reason)
            await self._record_refusals()
            return
        if kind == DecisionKind.APPROVE:
            await self._approved(payload)
        elif kind == DecisionKind.REJECT:
            await self._rejected(payload)
        elif kind == DecisionKind.REQUEST_MATERIALS:
            await self._materials_requested(payload)
        elif kind == DecisionKind.MATERIALS_SUPPLEMENTED:
            await self._materials_arrived(payload)
        elif kind == DecisionKind.EXTEND_DEADLINE:
            await self._extended(payload)
        elif kind == DecisionKind.WITHDRAW:
            await self._withdrawn(payload)

    def _check_again(self, kind: DecisionKind, payload: Any) -> str | None:
        view = self._view
        if kind == DecisionKind.WITHDRAW:
            return None
        reason = check_state_for(kind, view.state, view.final)
        if reason is None and kind == DecisionKind.APPROVE:
            reason = check_approval(self._definition, payload)
        return reason

    # --- steps -----------------------------------------------------------------------------------

    async def _push(self) -> None:
        input = self._input
        definition = self._definition
        now = workflow.now()
        manual: str | None = None
        try:
            await workflow.execute_activity_method(
                DepartmentActivities.push_to_department,
                PushRequest(
                    case_number=input.case_number,
                    matter=definition.code,
                    department=definition.department,
                    pushed_at=now,
                    hukou_certificate_no=input.hukou_certificate_no,
                ),
                **PUSH_OPTIONS,
            )
        except ActivityError as err:
            manual = messages.manual_handling(definition)
            workflow.logger.error("push failed, flagged for manual handling: %s", _cause(err))
        plan = await self._plan(now, definition.time_limit_working_days)
        notes = []
        if manual:
            notes.append(self._note(NotificationKind.SUPERVISION, Recipient.SUPERVISOR, manual))
        await self._change(
            f"已推送{definition.department_name}，承诺时限{definition.time_limit_working_days}个工作日"
            + ("（推送失败，转人工处理）" if manual else ""),
            notifications=notes,
            state=MatterState.UNDER_REVIEW,
            pushed_at=now,
            deadline=plan.deadline,
            calendar_fallback=plan.calendar_fallback,
            manual_handling=manual,
        )

    async def _plan(self, start: datetime, working_days: int) -> DeadlinePlan:
        input = self._input
        plan: DeadlinePlan = await workflow.execute_local_activity_method(
            DeadlineActivities.plan_deadline,
            DeadlineRequest(
                case_number=input.case_number,
                matter=input.matter,
                start=start,
                working_days=working_days,
                timezone=self._policy.timezone,
                ladder=self._policy.ladder,
            ),
            **LOCAL_OPTIONS,
        )
        self._rungs = list(plan.rungs)
        return plan

    async def _fire(self, rung: LadderRung) -> None:
        view = self._view
        definition = self._definition
        self._fired.add((self._generation, rung.step, rung.working_days_overdue))
        case_number = view.case_number
        notes: list[Notification]
        if rung.step == EscalationStep.WARNING:
            before = self._policy.ladder.warning_working_days_before
            text = messages.deadline_warning(case_number, definition, before)
            notes = [self._note(NotificationKind.DEADLINE_WARNING, Recipient.DEPARTMENT, text, rung)]
            event = f"预警：距承诺时限不足{before}个工作日"
        elif rung.step == EscalationStep.OVERDUE:
            text = messages.deadline_overdue(case_number, definition)
            notes = [self._note(NotificationKind.DEADLINE_OVERDUE, Recipient.DEPARTMENT_HEAD, text, rung)]
            event = "超时：已超过承诺时限，已通知部门负责人"
        elif rung.step == EscalationStep.SUPERVISION:
            text = messages.supervision(case_number, definition, rung.working_days_overdue)
            notes = [
                self._note(NotificationKind.SUPERVISION, Recipient.SUPERVISOR, text, rung),
                self._note(NotificationKind.SUPERVISION, Recipient.DEPARTMENT_HEAD, text, rung),
            ]
            event = f"督办：已超期{rung.working_days_overdue}个工作日，县政务服务局督办"
        else:
            text = messages.deadline_reminder(case_number, definition, rung.working_days_overdue)
            notes = [self._note(NotificationKind.DEADLINE_REMINDER, Recipient.DEPARTMENT_HEAD, text, rung)]
            event = f"催办：已超期{rung.working_days_overdue}个工作日"
        await self._change(
            event,
            notifications=notes,
            overdue=rung.step != EscalationStep.WARNING or view.overdue,
            working_days_overdue=rung.working_days_overdue,
            escalation_level=max(view.escalation_level, _STEP_LEVEL[rung.step]),
            escalations=(*view.escalations, rung.step),
        )

    async def _approved(self, approval: ApproveInput) -> None:
        definition = self._definition
        view = self._view
        record = DecisionRecord(
            kind=DecisionKind.APPROVE, at=workflow.now(), by=approval.officer, note=approval.note,
            amount=approval.amount, certificate_no=approval.certificate_no,
        )
        notes = []
        if definition.code != MatterCode.HUKOU_CANCELLATION:
            notes.append(self._note(NotificationKind.MATTER_APPROVED, Recipient.FAMILY,
                                    messages.matter_approved(definition)))
        await self._change(
            f"审核通过（{approval.officer}）",
            actor=approval.officer,
            notifications=notes,
            state=MatterState.APPROVED,
            decisions=(*view.decisions, record),
            amount=approval.amount,
            certificate_no=approval.certificate_no,
            final=not definition.pays_family,
            # An officer who decides has handled it by hand: the flag from a failed push is done.
            manual_handling=None,
            **_NOT_LATE,
        )
        if definition.pays_family and approval.amount is not None:
            await self._pay(approval.amount)

    async def _pay(self, amount: Any) -> None:
        definition = self._definition
        input = self._input
        while True:
            payee = self._payee
            try:
                receipt = await workflow.execute_activity_method(
                    PaymentActivities.instruct_payment,
                    PaymentInstruction(
                        case_number=input.case_number, matter=definition.code, amount=amount,
                        payee=payee, at=workflow.now(),
                    ),
                    **REGISTER_OPTIONS,
                )
                break
            except ActivityError as err:
                self._payment_pending = True
                reason = f"款项发放失败：{_cause(err)}，待更正收款账户"
                await self._change(
                    reason,
                    notifications=[self._note(NotificationKind.SUPERVISION, Recipient.SUPERVISOR, reason)],
                    manual_handling=reason,
                )
                while self._payment_pending:
                    await self._next()
        await self._change(
            f"款项{receipt.amount:.2f}元已发放，凭证号{receipt.reference}",
            notifications=[self._note(NotificationKind.MONEY_SENT, Recipient.FAMILY,
                                      messages.money_sent(definition, receipt.amount))],
            state=MatterState.PAID,
            payment_reference=receipt.reference,
            manual_handling=None,
            final=True,
        )

    async def _rejected(self, rejection: RejectInput) -> None:
        definition = self._definition
        view = self._view
        record = DecisionRecord(kind=DecisionKind.REJECT, at=workflow.now(), by=rejection.officer,
                                reason=rejection.reason)
        await self._change(
            f"不予办理（{rejection.officer}）：{rejection.reason}",
            actor=rejection.officer,
            notifications=[self._note(NotificationKind.MATTER_REJECTED, Recipient.FAMILY,
                                      messages.matter_rejected(definition, rejection.reason))],
            state=MatterState.REJECTED,
            decisions=(*view.decisions, record),
            reason=rejection.reason,
            final=True,
            **_NOT_LATE,
        )

    async def _materials_requested(self, request: RequestMaterialsInput) -> None:
        definition = self._definition
        view = self._view
        input = self._input
        now = workflow.now()
        assert view.deadline is not None
        remaining = await workflow.execute_local_activity_method(
            DeadlineActivities.remaining_working_days,
            RemainingRequest(case_number=input.case_number, matter=input.matter, paused_at=now,
                             deadline=view.deadline, timezone=self._policy.timezone),
            **LOCAL_OPTIONS,
        )
        record = DecisionRecord(kind=DecisionKind.REQUEST_MATERIALS, at=now, by=request.officer,
                                note=request.note, items=tuple(request.items))
        pause = ClockPause(started_at=now, remaining_working_days=remaining.working_days)
        self._reminders = 0
        await self._change(
            f"要求补正（{request.officer}）：{'、'.join(request.items)}；计时暂停，剩余{remaining.working_days}个工作日",
            actor=request.officer,
            notifications=[self._note(NotificationKind.MATERIALS_REQUESTED, Recipient.FAMILY,
                                      messages.materials_requested(definition, request.items))],
            state=MatterState.AWAITING_MATERIALS,
            decisions=(*view.decisions, record),
            pending_items=tuple(request.items),
            pauses=(*view.pauses, pause),
            deadline=None,
            **_NOT_LATE,
        )

    async def _materials_arrived(self, supplement: MaterialsSupplementedInput) -> None:
        view = self._view
        now = workflow.now()
        pause = view.pauses[-1]
        remaining = pause.remaining_working_days or 1
        plan = await self._plan(now, remaining)
        # A new deadline gets its own ladder: a warning or 超时 before the pause must fire again.
        self._generation += 1
        record = DecisionRecord(kind=DecisionKind.MATERIALS_SUPPLEMENTED, at=now, by="窗口",
                                note=supplement.note, items=tuple(supplement.items))
        await self._change(
            f"材料已补正：{'、'.join(supplement.items)}；恢复计时，剩余{remaining}个工作日",
            state=MatterState.UNDER_REVIEW,
            decisions=(*view.decisions, record),
            pending_items=(),
            pauses=(*view.pauses[:-1], pause.model_copy(update={"ended_at": now})),
            deadline=plan.deadline,
            calendar_fallback=view.calendar_fallback or plan.calendar_fallback,
            **_NOT_LATE,
        )

    async def _extended(self, extension: ExtendDeadlineInput) -> None:
        view = self._view
        now = workflow.now()
        record = DecisionRecord(kind=DecisionKind.EXTEND_DEADLINE, at=now, by=extension.supervisor,
                                reason=extension.reason, working_days=extension.working_days)
        updates: dict[str, Any] = {"decisions": (*view.decisions, record)}
        if view.state == MatterState.AWAITING_MATERIALS:
            pause = view.pauses[-1]
            more = (pause.remaining_working_days or 0) + extension.working_days
            updates["pauses"] = (*view.pauses[:-1], pause.model_copy(update={"remaining_working_days": more}))
        else:
            assert view.deadline is not None
            # The deadline is 00:00 after its last working day; extend from that day.
            plan = await self._plan(view.deadline - timedelta(microseconds=1), extension.working_days)
            self._generation += 1
            updates.update(deadline=plan.deadline, **_NOT_LATE,
                           calendar_fallback=view.calendar_fallback or plan.calendar_fallback)
        await self._change(
            f"督办人{extension.supervisor}延长时限{extension.working_days}个工作日：{extension.reason}",
            actor=extension.supervisor,
            **updates,
        )

    async def _withdrawn(self, withdrawal: WithdrawInput) -> None:
        view = self._view
        definition = self._definition
        if view.final or view.state == MatterState.APPROVED:
            # Approved money is still paid: a withdrawal only stops what is undecided.
            return
        input = self._input
        now = workflow.now()
        await workflow.execute_activity_method(
            DepartmentActivities.withdraw_from_department,
            WithdrawItemRequest(case_number=input.case_number, matter=input.matter,
                                reason=withdrawal.reason, at=now),
            **REGISTER_OPTIONS,
        )
        record = DecisionRecord(kind=DecisionKind.WITHDRAW, at=now, by=withdrawal.clerk,
                                reason=withdrawal.reason)
        await self._change(
            f"申请人撤回，事项终止：{withdrawal.reason}",
            actor=withdrawal.clerk,
            notifications=[self._note(NotificationKind.MATTER_WITHDRAWN, Recipient.DEPARTMENT,
                                      messages.matter_withdrawn(definition, withdrawal.reason))],
            state=MatterState.WITHDRAWN,
            decisions=(*view.decisions, record),
            reason=withdrawal.reason,
            deadline=None,
            final=True,
        )

    async def _remind(self, kind: NotificationKind, recipient: Recipient, text: str) -> None:
        await self._change(text, notifications=[self._note(kind, recipient, text)])

    # --- the one place state changes ---------------------------------------------------------------

    async def _change(
        self,
        event: str,
        *,
        actor: str = "system",
        notifications: list[Notification] | tuple[Notification, ...] = (),
        **updates: Any,
    ) -> None:
        view = self._view
        self._view = view = view.model_copy(update=updates)
        self._seq += 1
        now = workflow.now()
        self._timeline.append(TimelineEntry(at=now, event=event, matter=view.code))
        workflow.upsert_search_attributes(
            [
                sa.MATTER_STATE.value_set(view.state.value),
                sa.OVERDUE.value_set(view.overdue),
                sa.ESCALATION_LEVEL.value_set(view.escalation_level),
                sa.DAYS_OVERDUE.value_set(view.working_days_overdue),
                sa.MANUAL_HANDLING.value_set(view.manual_handling is not None),
                sa.DEADLINE.value_set(view.deadline)
                if view.deadline and view.state == MatterState.UNDER_REVIEW
                else sa.DEADLINE.value_unset(),
                self._warning_attribute(view),
            ]
        )
        audit = AuditEvent(case_number=view.case_number, matter=view.code,
                           key=f"{view.code.value}/{self._seq:04d}", event=event, at=now, actor=actor)
        await workflow.execute_local_activity_method(
            RegisterActivities.record,
            RegisterBatch(case_number=view.case_number, matter=view, audit=(audit,),
                          notifications=tuple(notifications)),
            **LOCAL_OPTIONS,
        )
        await self._report(view, event, now)

    def _warning_attribute(self, view: MatterView) -> Any:
        if view.state != MatterState.UNDER_REVIEW or view.deadline is None:
            return sa.WARNING_AT.value_unset()
        for rung in self._rungs:
            if rung.step in (EscalationStep.WARNING, EscalationStep.OVERDUE):
                return sa.WARNING_AT.value_set(rung.at)
        return sa.WARNING_AT.value_unset()

    async def _record_refusals(self) -> None:
        view = self._view
        refusals, self._refusals_unrecorded = self._refusals_unrecorded, []
        audit = []
        for refused in refusals:
            self._seq += 1
            audit.append(AuditEvent(case_number=view.case_number, matter=view.code,
                                    key=f"{view.code.value}/{self._seq:04d}",
                                    event=f"拒绝操作{refused.action}：{refused.reason}", at=refused.at))
        await workflow.execute_local_activity_method(
            RegisterActivities.record,
            RegisterBatch(case_number=view.case_number, matter=view, audit=tuple(audit)),
            **LOCAL_OPTIONS,
        )
        await self._report(view, f"拒绝操作{refusals[-1].action}", workflow.now())

    async def _report(self, view: MatterView, event: str, at: datetime) -> None:
        """Tell the case, so its one status query shows every matter."""
        parent = workflow.info().parent
        if parent is not None:
                await workflow.get_external_workflow_handle(parent.workflow_id).signal(
                case_workflow.CaseWorkflow.matter_updated,
                to_raw(MatterUpdate(report_token=self._input.report_token, view=view, event=event, at=at)),
            )

    def _note(
        self, kind: NotificationKind, recipient: Recipient, message: str, rung: LadderRung | None = None
    ) -> Notification:
        view = self._view
        suffix = f"{self._generation}/{rung.step.value}/{rung.working_days_overdue}" if rung else f"{self._seq + 1:04d}"
        return Notification(
            case_number=view.case_number, matter=view.code,
            key=f"{view.code.value}/{kind.value}/{recipient.value}/{suffix}",
            kind=kind, recipient=recipient,
            department=view.department if recipient != Recipient.FAMILY else None,
            message=message, at=workflow.now(),
        )


def _cause(err: BaseException) -> str:
    cause = err.cause if isinstance(err, ActivityError) else None
    if isinstance(cause, ApplicationError):
        return cause.message
    return type(cause or err).__name__



# The first shape's rules, as they were: an amount must be above zero, and no offset.
def check_approval(matter: MatterDefinition, approval: ApproveInput) -> str | None:
    """Matter-specific rules for an approval, shared by the signal and the CLI's update."""
    problems: list[str] = []
    if matter.pays_family:
        if approval.amount is None:
            problems.append(f"“{matter.short_name}”需向家属发放款项，须填写金额")
        elif approval.amount <= Decimal("0"):
            problems.append("金额须大于0")
        elif matter.max_amount is not None and approval.amount > matter.max_amount:
            problems.append(f"金额超过本事项上限{matter.max_amount}元")
    elif approval.amount is not None:
        problems.append(f"“{matter.short_name}”不发放款项，不应填写金额")
    if matter.code == MatterCode.HUKOU_CANCELLATION and not approval.certificate_no:
        problems.append("户口注销须填写户口注销证明编号（certificate_no）")
    return "；".join(problems) or None


def check_state_for(kind: DecisionKind, state: MatterState, final: bool) -> str | None:
    if final:
        return f"事项已办结（{state.value}），不能再作决定"
    if kind in (DecisionKind.APPROVE, DecisionKind.REJECT, DecisionKind.REQUEST_MATERIALS):
        if state == MatterState.AWAITING_MATERIALS:
            return "事项正在等待补正材料，材料补齐后方可审核"
        if state != MatterState.UNDER_REVIEW:
            return f"事项当前状态为{state.value}，不能审核"
    if kind == DecisionKind.MATERIALS_SUPPLEMENTED and state != MatterState.AWAITING_MATERIALS:
        return f"事项当前状态为{state.value}，无需补正材料"
    if kind == DecisionKind.EXTEND_DEADLINE and state not in (
        MatterState.UNDER_REVIEW,
        MatterState.AWAITING_MATERIALS,
    ):
        return f"事项当前状态为{state.value}，不能延长时限"
    return None


# The case imports this module to start its matters; imported last, so either module can be loaded first.
from workflows import case as case_workflow  # noqa: E402
