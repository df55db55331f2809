"""The first shape of CaseWorkflow (before 2026-12), kept so that cases started then replay and finish.

Frozen: ``workflows.case.CaseWorkflow`` runs this code for every run whose history has no
``shape-2026-12`` patch marker, and only then. Change nothing here that alters the commands it issues.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RawValue, SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ApplicationError
from temporalio.workflow import ChildWorkflowHandle

from workflows import matter as matter_workflow
from workflows import search_attributes as sa
from workflows.raw_input import parse_raw, to_raw

with workflow.unsafe.imports_passed_through():
    from activities.register import RegisterActivities
    from domain import messages
    from domain.clock import local_date
    from domain.enums import (
        CaseState,
        MatterCode,
        MatterState,
        NotificationKind,
        Recipient,
    )
    from domain.identity import luhn_valid, mask_name, mask_number
    from domain.ids import matter_workflow_id
    from domain.models import (
        Application,
        AuditEvent,
        CaseInput,
        CaseRecord,
        CaseResult,
        CaseStateRecord,
        CommandAck,
        CremationCertifiedInput,
        CremationRecord,
        MaterialsSupplementedInput,
        MatterInput,
        MatterResult,
        MatterUpdate,
        MatterView,
        Notification,
        PayeeCorrectedInput,
        PolicyRequest,
        RefusedAction,
        RegisterBatch,
        StatusSnapshot,
        TimelineEntry,
        WithdrawInput,
    )
    from domain.policy import Policy
    from workflows.options import LOCAL_OPTIONS, REGISTER_OPTIONS


# Cases recorded before progress reports carried a token replay without the check.
REPORT_TOKENS = "matter-report-token"


class CaseV1:
    def __init__(self, input: CaseInput) -> None:
        self._case_number = input.case_number
        self._application: Application | None = input.application
        self._policy: Policy | None = None
        self._state = CaseState.RECEIVED
        self._matters: dict[MatterCode, MatterView] = {}
        self._children: dict[MatterCode, ChildWorkflowHandle[Any, MatterResult]] = {}
        self._results: dict[MatterCode, MatterResult] = {}
        self._timeline: list[TimelineEntry] = []
        self._refused: list[RefusedAction] = []
        self._cremation: CremationRecord | None = None
        self._withdrawal: WithdrawInput | None = None
        self._received_at = workflow.now()
        self._closed_at: Any = None
        self._seq = 0
        self._report_tokens: dict[MatterCode, str | None] = {}

    # --- entry point ---------------------------------------------------------------------------

    async def run(self) -> CaseResult:
        self._policy = policy = await workflow.execute_local_activity_method(
            RegisterActivities.resolve_policy, PolicyRequest(case_number=self._case_number), **LOCAL_OPTIONS,
        )
        if self._application is None and not await self._await_application(policy):
            return self._result()
        application = self._require_application()
        self._received_at = workflow.now()
        cremation = self._cremation
        if cremation is not None and cremation.cremated_on < application.deceased.death_date:
            # Uploaded before the family applied, so it could not be checked against the death date then.
            self._cremation = None
            await self._refuse("cremation_certified", "火化日期早于死亡日期，该火化证明不予采用，请殡仪馆重新上传")
        for code in application.matters:
            definition = policy.matter(code)
            self._matters[code] = MatterView(
                case_number=self._case_number, code=code, name=definition.name,
                department=definition.department, department_name=definition.department_name,
                state=MatterState.PENDING_PUSH, pays_family=definition.pays_family,
                time_limit_working_days=definition.time_limit_working_days,
            )
        await workflow.execute_activity_method(
            RegisterActivities.record_case,
            CaseRecord(case_number=self._case_number, application=application,
                       state=CaseState.RECEIVED, received_at=self._received_at),
            **REGISTER_OPTIONS,
        )
        await self._change(
            CaseState.RECEIVED, f"受理申请，共{len(application.matters)}项事项",
            notify=(NotificationKind.CASE_RECEIVED, Recipient.FAMILY,
                    messages.case_received(self._case_number, len(application.matters))),
        )
        await self._change(CaseState.HUKOU_CANCELLING, "户口注销事项推送派出所")
        hukou = (await self._run_matters([MatterCode.HUKOU_CANCELLATION]))[0]

        rest: list[MatterCode] = [code for code in application.matters if code != MatterCode.HUKOU_CANCELLATION]
        if hukou.state != MatterState.APPROVED:
            reason = "申请已撤回" if self._withdrawal else "户口注销未办结，本事项未推送"
            return await self._finish(rest, reason)
        await self._event(
            "户口注销完成", notify=(NotificationKind.HUKOU_CANCELLED, Recipient.FAMILY,
                                    messages.hukou_cancelled(self._case_number)),
        )
        await self._await_cremation(policy)
        if self._withdrawal is not None:
            return await self._finish(rest, "申请已撤回")
        await self._change(CaseState.IN_PROGRESS, f"并联推送{len(rest)}项事项")
        await self._run_matters(rest, hukou.certificate_no)
        return await self._finish([], "")

    # --- signals, updates and the query ------------------------------------------------------------

    async def cremation_certified(self, payload: RawValue, extra: tuple[Any, ...]) -> None:
        parsed = parse_raw(CremationCertifiedInput, payload, workflow.payload_converter(), extra)
        await workflow.wait_condition(lambda: self._policy is not None)
        policy = self._require_policy()
        if isinstance(parsed, str):
            return await self._refuse("cremation_certified", parsed)
        problems = []
        if self._cremation is not None:
            problems.append(f"火化证明已上传（{self._cremation.certificate_no}）")
        if parsed.county and parsed.county != policy.county:
            problems.append(f"火化地须为{policy.county}")
        if parsed.cremated_on > local_date(workflow.now(), policy.timezone):
            problems.append("火化日期不能晚于今天")
        application = self._application
        if application and parsed.cremated_on < application.deceased.death_date:
            problems.append("火化日期不能早于死亡日期")
        if problems:
            return await self._refuse("cremation_certified", "；".join(problems))
        self._cremation = CremationRecord(
            certificate_no=parsed.certificate_no, funeral_home=parsed.funeral_home,
            cremated_on=parsed.cremated_on, received_at=workflow.now(),
        )
        await self._event(f"收到火化证明{parsed.certificate_no}（{parsed.funeral_home}）",
                          actor=parsed.funeral_home)

    async def materials_supplemented(self, payload: RawValue, extra: tuple[Any, ...]) -> None:
        parsed = parse_raw(MaterialsSupplementedInput, payload, workflow.payload_converter(), extra)
        if isinstance(parsed, str):
            return await self._refuse("materials_supplemented", parsed)
        reason = self._supplement_problem(parsed)
        if reason:
            return await self._refuse("materials_supplemented", reason, parsed.matter)
        await self._signal_child(parsed.matter, matter_workflow.MatterWorkflow.materials_supplemented, parsed)

    async def withdraw(self, payload: RawValue, extra: tuple[Any, ...]) -> None:
        parsed = parse_raw(WithdrawInput, payload, workflow.payload_converter(), extra)
        if isinstance(parsed, str):
            return await self._refuse("withdraw", parsed)
        if self._withdrawal is not None:
            return await self._refuse("withdraw", "申请已撤回")
        if self._state in (CaseState.COMPLETED, CaseState.WITHDRAWN, CaseState.REFUSED):
            return await self._refuse("withdraw", f"案件已{self._state.value}，不能撤回")
        self._withdrawal = parsed
        await self._event(f"申请人撤回申请：{parsed.reason}", actor=parsed.clerk)
        for code in list(self._children):
            if not self._matters[code].final:
                await self._signal_child(code, matter_workflow.MatterWorkflow.withdraw, parsed)

    async def bank_account_corrected(self, payload: RawValue, extra: tuple[Any, ...]) -> None:
        parsed = parse_raw(PayeeCorrectedInput, payload, workflow.payload_converter(), extra)
        if isinstance(parsed, str):
            return await self._refuse("bank_account_corrected", parsed)
        if not luhn_valid(parsed.card_number.replace(" ", "")):
            return await self._refuse("bank_account_corrected", "银行卡号校验不通过")
        waiting = [code for code, view in self._matters.items()
                   if view.state == MatterState.APPROVED and view.manual_handling and not view.final
                   and code in self._children]
        if not waiting:
            return await self._refuse("bank_account_corrected", "没有发放失败待重新发放的款项")
        await self._event("收款账户已更正，重新发放", actor=parsed.clerk)
        for code in waiting:
            await self._signal_child(code, matter_workflow.MatterWorkflow.payee_corrected, parsed)

    async def matter_updated(self, payload: RawValue, extra: tuple[Any, ...]) -> None:
        parsed = parse_raw(MatterUpdate, payload, workflow.payload_converter(), extra)
        if isinstance(parsed, str):
            return await self._refuse("matter_updated", parsed)
        if parsed.view.case_number != self._case_number or parsed.view.code not in self._matters:
            return await self._refuse("matter_updated", "事项不属于本案件")
        expected = self._report_tokens.get(parsed.view.code)
        if workflow.patched(REPORT_TOKENS) and parsed.report_token != expected:
            return await self._refuse("matter_updated", "进度回报来源无法确认，已忽略")
        self._matters[parsed.view.code] = parsed.view
        self._timeline.append(TimelineEntry(at=parsed.at, event=parsed.event, matter=parsed.view.code))

    def submit_application(self, input: CaseInput) -> CommandAck:
        self._application = input.application
        return CommandAck(accepted=True, state=self._state, message=f"申请已受理，受理编号{self._case_number}")

    def validate_submit_application(self, input: CaseInput) -> None:
        if input.application is None:
            raise ValueError("申请内容为空")
        if self._application is not None or self._state != CaseState.RECEIVED or self._withdrawal is not None:
            raise ValueError(f"该逝者已有申请，受理编号{self._case_number}")

    async def supplement_materials(self, payload: RawValue) -> CommandAck:
        input = self._supplement(payload)
        await self._signal_child(input.matter, matter_workflow.MatterWorkflow.materials_supplemented, input)
        await workflow.wait_condition(
            lambda: self._matters[input.matter].state != MatterState.AWAITING_MATERIALS
        )
        return CommandAck(accepted=True, state=self._matters[input.matter].state, message="补正材料已登记，恢复计时")

    def validate_supplement(self, payload: RawValue) -> None:
        self._supplement(payload)

    def _supplement(self, payload: RawValue) -> MaterialsSupplementedInput:
        parsed = parse_raw(MaterialsSupplementedInput, payload, workflow.payload_converter())
        if isinstance(parsed, str):
            raise ValueError(parsed)
        reason = self._supplement_problem(parsed)
        if reason:
            raise ValueError(reason)
        return parsed

    def status(self) -> StatusSnapshot:
        application = self._application
        return StatusSnapshot(
            case_number=self._case_number,
            scope="case",
            case_state=self._state,
            channel=application.channel if application else None,
            deceased=mask_name(application.deceased.name) if application else None,
            applicant=mask_name(application.applicant.name) if application else None,
            payee_card=mask_number(application.applicant.bank_account.card_number) if application else None,
            received_at=self._received_at if application else None,
            closed_at=self._closed_at,
            cremation=self._cremation,
            hukou_certificate_no=self._hukou_certificate(),
            matters=tuple(self._matters.values()),
            refused_actions=tuple(self._refused),
            refused_total=len(self._refused),
            timeline=tuple(self._timeline),
        )

    # --- phases ----------------------------------------------------------------------------------

    async def _await_application(self, policy: Policy) -> bool:
        """The funeral home opened the case; the family's application completes it, or it closes."""
        try:
            await workflow.wait_condition(
                lambda: self._application is not None or self._withdrawal is not None,
                timeout=policy.waits.application_timeout,
            )
        except TimeoutError:
            await self._close_unapplied(CaseState.REFUSED, "火化证明已上传，但期限内未收到家属申请")
            return False
        if self._application is None:
            await self._close_unapplied(CaseState.WITHDRAWN, "家属撤回，未提交申请")
            return False
        return True

    async def _close_unapplied(self, state: CaseState, event: str) -> None:
        await workflow.wait_condition(workflow.all_handlers_finished)
        self._closed_at = workflow.now()
        await self._change(state, event)

    async def _await_cremation(self, policy: Policy) -> None:
        timeout = policy.waits.cremation_certificate_timeout
        count = 0
        while self._cremation is None and self._withdrawal is None:
            try:
                await workflow.wait_condition(
                    lambda: self._cremation is not None or self._withdrawal is not None, timeout=timeout
                )
            except TimeoutError:
                count += 1
                text = messages.cremation_overdue(self._case_number, count)
                await self._event(
                    f"火化证明超时未上传（第{count}次提醒）",
                    notify=(NotificationKind.CREMATION_OVERDUE, Recipient.SUPERVISOR, text),
                    also=(NotificationKind.CREMATION_OVERDUE, Recipient.FUNERAL_HOME, text),
                    key_suffix=f"cremation/{count}",
                )
                timeout = policy.waits.cremation_reminder_every

    async def _run_matters(
        self, codes: list[MatterCode], hukou_certificate_no: str | None = None
    ) -> list[MatterResult]:
        policy = self._require_policy()
        application = self._require_application()

        async def start(code: MatterCode) -> None:
            definition = policy.matter(code)
            self._children[code] = await workflow.start_child_workflow(
                matter_workflow.MatterWorkflow.run,
                MatterInput(
                    case_number=self._case_number, matter=code, policy=policy,
                    payee=application.applicant.bank_account,
                    death_date=application.deceased.death_date,
                    hukou_certificate_no=hukou_certificate_no,
                    report_token=self._report_token(code),
                ),
                id=matter_workflow_id(self._case_number, code),
                search_attributes=TypedSearchAttributes([
                    SearchAttributePair(sa.CASE_NUMBER, self._case_number),
                    SearchAttributePair(sa.DEPARTMENT, definition.department.value),
                    SearchAttributePair(sa.MATTER, code.value),
                    SearchAttributePair(sa.MATTER_STATE, MatterState.PENDING_PUSH.value),
                ]),
            )
            if self._withdrawal is not None:
                await self._signal_child(code, matter_workflow.MatterWorkflow.withdraw, self._withdrawal)

        # Every matter is pushed at once (并联): all child starts go out in one workflow task.
        await asyncio.gather(*(start(code) for code in codes))
        results = await asyncio.gather(*(self._children[code] for code in codes))
        for result in results:
            self._results[result.matter] = result
        return list(results)

    async def _finish(self, unpushed: list[MatterCode], reason: str) -> CaseResult:
        withdrawn = self._withdrawal is not None
        for code in unpushed:
            view = self._matters[code]
            self._matters[code] = view.model_copy(update={
                "state": MatterState.WITHDRAWN if withdrawn else MatterState.NOT_PUSHED,
                "reason": reason, "final": True,
            })
            self._timeline.append(TimelineEntry(at=workflow.now(), event=reason, matter=code))
        await workflow.wait_condition(workflow.all_handlers_finished)
        self._closed_at = workflow.now()
        if withdrawn:
            await self._change(CaseState.WITHDRAWN, "申请已撤回，案件关闭", notify=(
                NotificationKind.CASE_WITHDRAWN, Recipient.FAMILY, messages.case_withdrawn(self._case_number)))
        else:
            await self._change(CaseState.COMPLETED, "全部事项办结", notify=(
                NotificationKind.CASE_COMPLETED, Recipient.FAMILY, messages.case_completed(self._case_number)))
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._result()

    def _result(self) -> CaseResult:
        return CaseResult(
            case_number=self._case_number,
            state=self._state,
            matters=tuple(
                self._results.get(code) or MatterResult(
                    case_number=self._case_number, matter=code, state=view.state, reason=view.reason)
                for code, view in self._matters.items()
            ),
        )

    # --- the one place case state changes ------------------------------------------------------------

    async def _change(
        self, state: CaseState, event: str, *,
        notify: tuple[NotificationKind, Recipient, str] | None = None,
    ) -> None:
        self._state = state
        workflow.upsert_search_attributes([sa.CASE_STATE.value_set(state.value)])
        await self._event(event, notify=notify, case_state=state)

    async def _event(
        self, event: str, *, actor: str = "system",
        notify: tuple[NotificationKind, Recipient, str] | None = None,
        also: tuple[NotificationKind, Recipient, str] | None = None,
        case_state: CaseState | None = None,
        key_suffix: str | None = None,
    ) -> None:
        self._seq += 1
        now = workflow.now()
        self._timeline.append(TimelineEntry(at=now, event=event))
        key = f"case/{self._seq:04d}"
        notes = tuple(
            Notification(case_number=self._case_number, kind=kind, recipient=recipient, message=text, at=now,
                         key=f"case/{kind.value}/{recipient.value}/{key_suffix or self._seq}")
            for kind, recipient, text in (n for n in (notify, also) if n is not None)
        )
        await workflow.execute_local_activity_method(
            RegisterActivities.record,
            RegisterBatch(
                case_number=self._case_number,
                case_state=CaseStateRecord(case_number=self._case_number, state=case_state, at=now)
                if case_state else None,
                audit=(AuditEvent(case_number=self._case_number, key=key, event=event, at=now, actor=actor),),
                notifications=notes,
            ),
            **LOCAL_OPTIONS,
        )

    async def _refuse(self, action: str, reason: str, matter: MatterCode | None = None) -> None:
        refused = RefusedAction(at=workflow.now(), action=action, matter=matter, reason=reason)
        self._refused.append(refused)
        workflow.logger.warning("refused action %s: %s", action, reason)
        workflow.set_current_details(f"最近一次被拒绝的操作：{action}——{reason}")
        await self._event(f"拒绝操作{action}：{reason}")

    async def _signal_child(self, code: MatterCode, signal: Any, payload: BaseModel) -> None:
        """A child may finish between our last report and the signal; that is not the case's failure."""
        try:
            await self._children[code].signal(signal, to_raw(payload))
        except ApplicationError as err:
            workflow.logger.warning("signal to matter %s not delivered: %s", code.value, err.message)

    def _report_token(self, code: MatterCode) -> str | None:
        if not workflow.patched(REPORT_TOKENS):
            return None
        token = str(workflow.uuid4())
        self._report_tokens[code] = token
        return token

    # --- helpers ------------------------------------------------------------------------------------

    def refusal_count(self) -> int:
        return len(self._refused)

    def refusal_after(self, count: int) -> str | None:
        """The reason of the latest refusal recorded after the first ``count``, if any."""
        return self._refused[-1].reason if len(self._refused) > count else None

    def state(self) -> CaseState:
        return self._state

    def _supplement_problem(self, input: MaterialsSupplementedInput) -> str | None:
        view = self._matters.get(input.matter)
        if view is None:
            return "本案件没有该事项"
        if view.state != MatterState.AWAITING_MATERIALS or input.matter not in self._children:
            return f"该事项当前状态为{view.state.value}，无需补正材料"
        return None

    def _hukou_certificate(self) -> str | None:
        view = self._matters.get(MatterCode.HUKOU_CANCELLATION)
        return view.certificate_no if view else None

    def _require_application(self) -> Application:
        assert self._application is not None
        return self._application

    def _require_policy(self) -> Policy:
        assert self._policy is not None
        return self._policy
