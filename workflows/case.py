"""CaseWorkflow: one per deceased, from the one application to 办结.

户口注销 runs first; every other selected matter starts at once when it is done and the cremation
certificate is in the case. Each matter is a child workflow with its own status; the case keeps what it
acts on (each matter's outcome, a payment that waits for a corrected account) and its own timeline. A
client assembles the full status from the case's query and its matters' queries.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RawValue, SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError
from temporalio.workflow import ChildWorkflowHandle

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
from workflows.raw_input import NO_INPUT, one_input, parse_raw, parse_update, shown_name, to_raw
from workflows.versions import COUNTY_AS_WRITTEN

with workflow.unsafe.imports_passed_through():
    from activities.deadlines import DeadlineActivities
    from activities.register import RegisterActivities
    from activities.trust import MatterOutcomeActivities, TrustActivities
    from domain import messages
    from domain.brief import brief_of, static_details, static_summary
    from domain.change import KEEP_REFUSALS, logged_refusal
    from domain.clock import local_date
    from domain.decisions import SIGNED_BY, check_correction, signed_digest
    from domain.enums import (
        CasePhase,
        CaseState,
        ErrorType,
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
        CaseCarry,
        CaseInput,
        CaseOpening,
        CaseRecord,
        CaseResult,
        CaseStateRecord,
        CommandAck,
        CremationCertifiedInput,
        CremationRecord,
        MaterialsSupplementedInput,
        MatterInput,
        MatterOutcomeRequest,
        MatterReport,
        MatterResult,
        MatterView,
        Notification,
        PayeeCorrectedInput,
        PolicyRequest,
        RefusedAction,
        RegisterBatch,
        ReminderRequest,
        StatementCheck,
        StatusSnapshot,
        TimelineEntry,
        WithdrawInput,
    )
    from domain.policy import Policy
    from workflows.options import LOCAL_OPTIONS, STANDING_OPTIONS

# Refusals alone are written to the register in batches.
REFUSAL_BATCH = 20
_CLOSED = (CaseState.COMPLETED, CaseState.WITHDRAWN, CaseState.REFUSED, CaseState.HUKOU_REJECTED)

# After a continue-as-new the case hears of its matters' ends by signal and checks them with the engine; it
# also looks for itself this often, in case a report was lost.
OUTCOME_POLL = timedelta(days=1)
# A matter that reported its end is checked again this soon, a few times, until the engine shows its result.
RECHECK_AFTER = timedelta(minutes=1)
RECHECKS = 5
# How long a case that continues as new waits to tell its running matters, and the history size at which it
# stops waiting (the engine suggests a new run at 4 MiB and ends a workflow at 50 MB).
TELL_MATTERS_WITHIN = timedelta(seconds=30)
CONTINUE_ANYWAY_BYTES = 8 * 1024 * 1024
_PHASE_ORDER = (CasePhase.AWAITING_APPLICATION, CasePhase.HUKOU, CasePhase.AWAITING_CREMATION, CasePhase.PARALLEL)

_Notify = tuple[NotificationKind, Recipient, str]


@workflow.defn(name="CaseWorkflow")
class CaseWorkflow:
    @workflow.init
    def __init__(self, input: CaseInput) -> None:
        self._case_number = input.case_number
        self._previous_case = input.previous_case
        # Decided at the run's first workflow task (workflows/versions.py): a run under way keeps 1.0's rule.
        self._county_as_written = workflow.patched(COUNTY_AS_WRITTEN)
        self._application: Application | None = input.application
        self._policy: Policy | None = None
        self._state = CaseState.RECEIVED
        self._matters: dict[MatterCode, MatterView] = {}
        self._children: dict[MatterCode, ChildWorkflowHandle[Any, MatterResult]] = {}
        self._timeline: list[TimelineEntry] = []
        self._refused: list[RefusedAction] = []
        self._refused_total = 0
        # The certificate an earlier case for the same deceased already holds comes along.
        self._cremation: CremationRecord | None = input.cremation
        self._withdrawal: WithdrawInput | None = None
        self._received_at = workflow.now()
        self._closed_at: datetime | None = None
        self._seq = 0
        # What the next register write carries.
        self._case_record: CaseRecord | None = None
        self._case_state: CaseStateRecord | None = None
        self._audit: list[AuditEvent] = []
        self._notes: list[Notification] = []
        self._flushing = asyncio.Lock()
        # The case state its search attribute shows (set when the client starts it).
        self._shown_state = CaseState.RECEIVED
        self._phase = CasePhase.AWAITING_APPLICATION if input.application is None else CasePhase.HUKOU
        # Matters started by this run or an earlier one; those this run started have a handle in _children.
        self._started: set[MatterCode] = set()
        # Matters reported to have changed or ended: checked with the engine, never taken on the report's word.
        self._hints: set[MatterCode] = set()
        self._child_error: ChildWorkflowError | None = None
        # Matters to check again soon (they reported their end), with how many more times.
        self._soon: dict[MatterCode, int] = {}
        # Absolute times of the waits, so a run that continues as new keeps them.
        self._application_due: datetime | None = None
        self._cremation_wake: datetime | None = None
        self._cremation_reminders = 0
        self._runs = 1
        if input.carried is not None:
            self._resume(input.carried)

    def _resume(self, carry: CaseCarry) -> None:
        self._phase = carry.phase
        self._application = carry.application
        self._policy = carry.policy
        self._state = carry.state
        self._shown_state = carry.shown_state
        self._matters = {view.code: view for view in carry.matters}
        self._started = set(carry.started)
        # Any of them may have ended while the previous run closed: each is checked once at the start.
        self._hints = {code for code in carry.started if not self._matters[code].final}
        self._timeline = list(carry.timeline)
        self._refused = list(carry.refused)
        self._refused_total = carry.refused_total
        self._cremation = carry.cremation
        self._withdrawal = carry.withdrawal
        self._received_at = carry.received_at
        self._closed_at = carry.closed_at
        self._seq = carry.seq
        self._application_due = carry.application_due
        self._cremation_wake = carry.cremation_wake
        self._cremation_reminders = carry.cremation_reminders
        self._runs = carry.runs
        # Matters the closing run could not tell: checked with the engine every minute for a while.
        self._soon = {code: RECHECKS for code in carry.recheck}

    # --- the run ---------------------------------------------------------------------------------

    @workflow.run
    async def run(self, input: CaseInput) -> CaseResult:
        if self._phase == CasePhase.AWAITING_APPLICATION:
            if self._policy is None:
                # The funeral home opened the case: the county's rules for the wait, the matters come later.
                self._policy = await workflow.execute_local_activity_method(
                    RegisterActivities.resolve_policy, PolicyRequest(case_number=self._case_number),
                    **LOCAL_OPTIONS,
                )
            if not await self._await_application(self._policy):
                return self._result()
            self._phase = CasePhase.HUKOU
            await self._open_case(input)
        elif input.carried is None:
            await self._open_case(input)
        application = self._require_application()
        rest: list[MatterCode] = [code for code in application.matters if code != MatterCode.HUKOU_CANCELLATION]
        if self._phase == CasePhase.HUKOU:
            await self._run_matters([MatterCode.HUKOU_CANCELLATION])
            hukou = self._matters[MatterCode.HUKOU_CANCELLATION]
            if hukou.state == MatterState.REJECTED:
                return await self._hukou_rejected(rest, hukou.reason or "")
            if hukou.state != MatterState.APPROVED:
                return await self._finish(rest, "申请已撤回")
            self._event("户口注销完成", notify=(NotificationKind.HUKOU_CANCELLED, Recipient.FAMILY,
                                               messages.hukou_cancelled(self._case_number)))
            if not rest:
                return await self._finish([], "")
            self._phase = CasePhase.AWAITING_CREMATION
            if self._cremation is None and self._withdrawal is None:
                self._change(CaseState.AWAITING_CREMATION, "等待殡仪馆上传火化证明后推送其余事项")
        if self._phase == CasePhase.AWAITING_CREMATION:
            if self._cremation is None and self._withdrawal is None:
                await self._await_cremation(self._require_policy())
            if self._withdrawal is not None:
                return await self._finish(rest, "申请已撤回")
            self._change(CaseState.IN_PROGRESS, f"并联推送{len(rest)}项事项")
            self._phase = CasePhase.PARALLEL
        await self._run_matters(rest, self._matters[MatterCode.HUKOU_CANCELLATION].certificate_no)
        return await self._finish([], "")

    async def _open_case(self, input: CaseInput) -> None:
        """Receive the application: the register's case record, the county policy, every matter's entry."""
        application = self._require_application()
        self._received_at = workflow.now()
        cremation = self._cremation
        if cremation is not None and cremation.cremated_on < application.deceased.death_date:
            # Uploaded before the family applied, so it could not be checked against the death date then.
            self._cremation = None
            await self._refuse("cremation_certified", "火化日期早于死亡日期，该火化证明不予采用，请殡仪馆重新上传")
        self._case_record = CaseRecord(case_number=self._case_number, application=application,
                                       state=CaseState.RECEIVED, received_at=self._received_at,
                                       previous_case=input.previous_case)
        received = f"受理申请，共{len(application.matters)}项事项"
        if input.previous_case:
            received += f"（前次申请{input.previous_case}未能办成，本次重新申请）"
        self._change(CaseState.RECEIVED, received, notify=(
            NotificationKind.CASE_RECEIVED, Recipient.FAMILY,
            messages.case_received(self._case_number, len(application.matters))))
        self._change(CaseState.HUKOU_CANCELLING, "户口注销事项推送派出所")
        self._policy = policy = await self._open(application)
        for code in application.matters:
            definition = policy.matter(code)
            self._matters[code] = MatterView(
                case_number=self._case_number, code=code, name=definition.name,
                department=definition.department, department_name=definition.department_name,
                state=MatterState.PENDING_PUSH, pays_family=definition.pays_family,
                time_limit_working_days=definition.time_limit_working_days,
            )

    async def _await_application(self, policy: Policy) -> bool:
        """The funeral home opened the case; the family's application completes it, or it closes."""
        if self._application_due is None:
            self._application_due = workflow.now() + policy.waits.application_timeout
        arrived = await self._wait(lambda: self._application is not None or self._withdrawal is not None,
                                   self._application_due)
        if not arrived:
            await self._close_unapplied(CaseState.REFUSED, "火化证明已上传，但期限内未收到家属申请")
            return False
        if self._application is None:
            await self._close_unapplied(CaseState.WITHDRAWN, "家属撤回，未提交申请")
            return False
        return True

    async def _close_unapplied(self, state: CaseState, event: str) -> None:
        await workflow.wait_condition(workflow.all_handlers_finished)
        self._closed_at = workflow.now()
        self._change(state, event)
        await self._flush()

    async def _await_cremation(self, policy: Policy) -> None:
        """Remind the funeral home a few times; then the supervisor handles it by hand (reminded rarely)."""
        waits = policy.waits
        while self._cremation is None and self._withdrawal is None:
            await self._flush()
            count = self._cremation_reminders
            if self._cremation_wake is None and count:
                # The next working day at the policy's hour, and after the supervisor's, none.
                if count <= waits.cremation_reminders_max:
                    self._cremation_wake = (await workflow.execute_local_activity_method(
                        DeadlineActivities.plan_reminder,
                        ReminderRequest(since=workflow.now(), first_after=0, every=1, sent=0,
                                        timezone=policy.timezone, hour=waits.reminder_hour),
                        **LOCAL_OPTIONS)).at
            elif self._cremation_wake is None:
                self._cremation_wake = workflow.now() + waits.cremation_certificate_timeout
            if await self._wait(lambda: self._cremation is not None or self._withdrawal is not None,
                                self._cremation_wake):
                continue
            self._cremation_wake = None
            self._cremation_reminders += 1
            count = self._cremation_reminders
            if count <= waits.cremation_reminders_max:
                text = messages.cremation_overdue(self._case_number, count)
                self._event(f"火化证明超时未上传（第{count}次提醒）", key_suffix=f"cremation/{count}", notify=(
                    NotificationKind.CREMATION_OVERDUE, Recipient.FUNERAL_HOME, text),
                    also=(NotificationKind.CREMATION_OVERDUE, Recipient.SUPERVISOR, text))
            else:
                text = messages.cremation_manual(self._case_number, waits.cremation_reminders_max)
                self._event("火化证明多次提醒仍未上传，转督办人工处理", key_suffix=f"cremation/{count}",
                            notify=(NotificationKind.SUPERVISION, Recipient.SUPERVISOR, text))

    async def _run_matters(self, codes: list[MatterCode], hukou_certificate_no: str | None = None) -> None:
        """Start the matters not started yet, all at once, and wait until every one of ``codes`` is final."""
        policy = self._require_policy()
        application = self._require_application()

        async def start(code: MatterCode) -> None:
            definition = policy.matter(code)
            self._started.add(code)
            # A case that continues as new closes its run: its matters must go on, so they are abandoned, not
            # ended, with it (an operator who terminates a case does not stop a department's work or a payment).
            # What the matter's page in the Web UI tells its officer (domain/brief.py).
            brief = brief_of(application, [policy.matter(c) for c in application.matters], policy.scan_url,
                             policy.catalogue_labels)
            handle = await workflow.start_child_workflow(
                MATTER_WORKFLOW,
                MatterInput(
                    case_number=self._case_number, matter=code, matter_policy=policy.for_matter(code),
                    payee=application.applicant.bank_account, death_date=application.deceased.death_date,
                    hukou_certificate_no=hukou_certificate_no, brief=brief,
                ),
                id=matter_workflow_id(self._case_number, code),
                static_summary=static_summary(brief, definition),
                static_details=static_details(brief, definition, self._case_number),
                result_type=MatterResult,
                search_attributes=TypedSearchAttributes([
                    SearchAttributePair(sa.CASE_NUMBER, self._case_number),
                    SearchAttributePair(sa.DEPARTMENT, definition.department.value),
                    SearchAttributePair(sa.MATTER, code.value),
                    SearchAttributePair(sa.MATTER_STATE, MatterState.PENDING_PUSH.value),
                ]),
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            )
            self._children[code] = handle
            self._mark(code, MatterState.IN_PROGRESS)
            if self._withdrawal is not None:
                await self._signal_child(code, WITHDRAW, self._withdrawal)

        async def outcome(code: MatterCode) -> None:
            try:
                self._settle(await self._children[code])
            except ChildWorkflowError as err:
                self._child_error = err

        await self._flush()
        fresh = [code for code in codes if code not in self._started]
        # Every matter is pushed at once (并联): all child starts go out in one workflow task.
        await asyncio.gather(*(start(code) for code in fresh))
        for code in fresh:
            asyncio.create_task(outcome(code))  # noqa: RUF006 (the workflow keeps running until they settle)
        await self._until_settled(codes)

    async def _until_settled(self, codes: list[MatterCode]) -> None:
        """Wait for every matter's outcome: from its handle when this run started it, else from the engine,
        checked when the matter reports (or anyone claims) a change, and once a day in case a report is lost."""

        def settled() -> bool:
            return all(self._matters[code].final for code in codes)

        while True:
            if self._child_error is not None:
                raise self._child_error
            if settled():
                return
            unwatched = [code for code in codes if code not in self._children and not self._matters[code].final]
            wait = RECHECK_AFTER if any(self._soon.get(code) for code in unwatched) else OUTCOME_POLL
            poll = workflow.now() + wait if unwatched else None
            met = await self._wait(lambda: settled() or bool(self._hints) or self._child_error is not None, poll)
            checks = set(self._hints) if met else set(unwatched)
            self._hints.clear()
            for code in sorted(checks):
                if code in self._matters and not self._matters[code].final:
                    await self._check_matter(code)

    async def _check_matter(self, code: MatterCode) -> None:
        try:
            standing = await workflow.execute_local_activity_method(
                MatterOutcomeActivities.matter_standing,
                MatterOutcomeRequest(case_number=self._case_number, matter=code, ended=bool(self._soon.get(code))),
                **STANDING_OPTIONS,
            )
        except (ActivityError, ApplicationError) as err:
            workflow.logger.warning("matter %s not checked: %s", code.value, err)
            self._soon[code] = max(self._soon.get(code, 0), 1)
            return
        if standing.result is not None:
            self._soon.pop(code, None)
            self._settle(standing.result)
            return
        if self._soon.get(code):
            self._soon[code] -= 1
        if standing.state is not None and not self._matters[code].final:
            self._mark(code, standing.state)

    async def _wait(self, ready: Callable[[], bool], until: datetime | None) -> bool:
        """Wait until ``ready`` (True) or ``until`` (False); a long history continues as new meanwhile."""
        while True:
            timeout = None if until is None else max(until - workflow.now(), timedelta(0))
            try:
                await workflow.wait_condition(lambda: ready() or self._continue_due(), timeout=timeout)
            except TimeoutError:
                return ready()
            if ready():
                return True
            await self._continue_as_new()

    def _continue_due(self) -> bool:
        return workflow.info().is_continue_as_new_suggested()

    async def _continue_as_new(self) -> None:
        """A long or flooded history goes on in a fresh run with the same id, carrying the whole case. Its
        running matters are told first, so they report their ends to the new run."""
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._flush()
        running = sorted(code for code in self._started if not self._matters[code].final)
        told = {code: asyncio.create_task(self._signal_child(code, CASE_CONTINUED, None)) for code in running}
        # A matter under a flood of its own can be out of reach for long (the engine retries the signal while the
        # matter's runs turn over). Waiting on it without bound let a flood of both grow this run's history toward
        # the engine's limit, at which it ends the case: the case goes on without it, and checks it soon instead.
        try:
            await workflow.wait_condition(
                lambda: all(task.done() for task in told.values())
                or workflow.info().get_current_history_size() > CONTINUE_ANYWAY_BYTES,
                timeout=TELL_MATTERS_WITHIN,
            )
        except TimeoutError:
            pass
        untold = tuple(code for code, task in told.items() if not (task.done() and task.result()))
        await workflow.wait_condition(workflow.all_handlers_finished)
        # What arrives while a write is under way goes in the next write; none may be left to the closing run.
        while self._case_record or self._case_state or self._audit or self._notes:
            await self._flush()
        workflow.logger.info("continuing as new after %d events (run %d)",
                             workflow.info().get_current_history_length(), self._runs)
        carry = CaseCarry(
            phase=self._phase, application=self._application, policy=self._policy, state=self._state,
            shown_state=self._shown_state, matters=tuple(self._matters.values()),
            started=tuple(sorted(self._started)),
            timeline=tuple(self._timeline), refused=tuple(self._refused), refused_total=self._refused_total,
            cremation=self._cremation, withdrawal=self._withdrawal, received_at=self._received_at,
            closed_at=self._closed_at, seq=self._seq, application_due=self._application_due,
            cremation_wake=self._cremation_wake, cremation_reminders=self._cremation_reminders,
            runs=self._runs + 1, recheck=untold,
        )
        workflow.continue_as_new(CaseInput(case_number=self._case_number, previous_case=self._previous_case,
                                           carried=carry))

    async def _hukou_rejected(self, unpushed: list[MatterCode], reason: str) -> CaseResult:
        """Nothing else can be pushed; the family is told why, and that a new application is welcome."""
        for code in unpushed:
            self._settle(MatterResult(case_number=self._case_number, matter=code, state=MatterState.NOT_PUSHED,
                                      reason="户口注销未通过，本事项未推送"))
        await workflow.wait_condition(workflow.all_handlers_finished)
        self._closed_at = workflow.now()
        self._change(CaseState.HUKOU_REJECTED, f"户口注销未通过：{reason}；其余事项未推送，可重新申请", notify=(
            NotificationKind.HUKOU_REJECTED, Recipient.FAMILY, messages.hukou_rejected(self._case_number, reason)))
        await self._flush()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._result()

    async def _finish(self, unpushed: list[MatterCode], reason: str) -> CaseResult:
        withdrawn = self._withdrawal is not None
        for code in unpushed:
            self._settle(MatterResult(case_number=self._case_number, matter=code, reason=reason,
                                      state=MatterState.WITHDRAWN if withdrawn else MatterState.NOT_PUSHED))
            self._timeline.append(TimelineEntry(at=workflow.now(), event=reason, matter=code))
        await workflow.wait_condition(workflow.all_handlers_finished)
        self._closed_at = workflow.now()
        if withdrawn:
            self._change(CaseState.WITHDRAWN, "申请已撤回，案件关闭", notify=(
                NotificationKind.CASE_WITHDRAWN, Recipient.FAMILY, messages.case_withdrawn(self._case_number)))
        else:
            self._change(CaseState.COMPLETED, "全部事项办结", notify=(
                NotificationKind.CASE_COMPLETED, Recipient.FAMILY, messages.case_completed(self._case_number)))
        await self._flush()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._result()

    def _result(self) -> CaseResult:
        return CaseResult(
            case_number=self._case_number,
            state=self._state,
            matters=tuple(
                MatterResult(case_number=self._case_number, matter=code, state=view.state, amount=view.amount,
                             payment_reference=view.payment_reference, certificate_no=view.certificate_no,
                             reason=view.reason)
                for code, view in self._matters.items()
            ),
        )

    # --- signals (the Web UI), updates (the CLI) and the status query ----------------------------------

    @workflow.signal(name="cremation_certified", description=d.CASE_CREMATION_CERTIFIED)
    @one_input
    async def cremation_certified(self, payload: RawValue = NO_INPUT, *extra: Any) -> None:
        parsed = parse_raw(CremationCertifiedInput, payload, workflow.payload_converter(), extra)
        if isinstance(parsed, str):
            return await self._refuse("cremation_certified", parsed)
        await workflow.wait_condition(lambda: self._policy is not None)
        problems = self._cremation_problems(parsed)
        if problems:
            return await self._refuse("cremation_certified", problems)
        # Written to the register with the case's next write.
        self._accept_cremation(parsed)
        return None

    @workflow.update(name="certify_cremation", description=d.CASE_CERTIFY_CREMATION)
    async def certify_cremation(self, raw: RawValue) -> CommandAck:
        certificate = parse_update(CremationCertifiedInput, raw)
        await workflow.wait_condition(lambda: self._policy is not None)
        problems = self._cremation_problems(certificate)
        if problems:
            await self._refuse("cremation_certified", problems)
            raise ApplicationError(problems, type=ErrorType.INVALID_DECISION.value, non_retryable=True)
        self._accept_cremation(certificate)
        return CommandAck(accepted=True, state=self._state, message=f"火化证明已登记，受理编号{self._case_number}")

    @certify_cremation.validator
    def _validate_certify_cremation(self, raw: RawValue) -> None:
        parse_update(CremationCertifiedInput, raw)
        if self._cremation is not None:
            raise ValueError(f"火化证明已上传（{self._cremation.certificate_no}）")
        if self._state in _CLOSED:
            raise ValueError(f"案件已{self._state.value}，不能再上传火化证明")

    @workflow.signal(name="materials_supplemented", description=d.CASE_MATERIALS_SUPPLEMENTED)
    @one_input
    async def materials_supplemented(self, payload: RawValue = NO_INPUT, *extra: Any) -> None:
        parsed = parse_raw(MaterialsSupplementedInput, payload, workflow.payload_converter(), extra)
        if isinstance(parsed, str):
            return await self._refuse("materials_supplemented", parsed)
        view = self._matters.get(parsed.matter)
        if view is None:
            return await self._refuse("materials_supplemented", "本案件没有该事项", parsed.matter)
        if parsed.matter not in self._started or view.final:
            return await self._refuse("materials_supplemented", f"该事项当前状态为{view.state.value}，无需补正材料",
                                parsed.matter)
        # The matter checks that it is waiting for materials, and records a refusal if it is not.
        if not await self._signal_child(parsed.matter, MATERIALS_SUPPLEMENTED, parsed):
            return await self._refuse("materials_supplemented", "该事项已办结，无需补正材料", parsed.matter)
        return None

    @workflow.signal(name="withdraw", description=d.CASE_WITHDRAW)
    @one_input
    async def withdraw(self, payload: RawValue = NO_INPUT, *extra: Any) -> None:
        parsed = parse_raw(WithdrawInput, payload, workflow.payload_converter(), extra)
        if isinstance(parsed, str):
            return await self._refuse("withdraw", parsed)
        problem = self._withdraw_problem() or await self._unverified(parsed)
        if problem:
            return await self._refuse("withdraw", problem)
        await self._accept_withdrawal(parsed)
        return None

    @workflow.update(name="withdraw_application", description=d.CASE_WITHDRAW_APPLICATION)
    async def withdraw_application(self, raw: RawValue) -> CommandAck:
        withdrawal = parse_update(WithdrawInput, raw)
        await self._verified_or_refused("withdraw_application", withdrawal)
        await self._accept_withdrawal(withdrawal)
        return CommandAck(accepted=True, state=self._state, message="撤回申请已登记，未办结的事项将全部撤回")

    @withdraw_application.validator
    def _validate_withdraw_application(self, raw: RawValue) -> None:
        parse_update(WithdrawInput, raw)
        problem = self._withdraw_problem()
        if problem:
            raise ValueError(problem)

    @workflow.signal(name="bank_account_corrected", description=d.CASE_BANK_ACCOUNT_CORRECTED)
    @one_input
    async def bank_account_corrected(self, payload: RawValue = NO_INPUT, *extra: Any) -> None:
        parsed = parse_raw(PayeeCorrectedInput, payload, workflow.payload_converter(), extra)
        if isinstance(parsed, str):
            return await self._refuse("bank_account_corrected", parsed)
        problem = self._correction_problem(parsed) or await self._unverified(parsed)
        if problem:
            return await self._refuse("bank_account_corrected", problem)
        await self._accept_correction(parsed)
        return None

    @workflow.update(name="correct_bank_account", description=d.CASE_CORRECT_BANK_ACCOUNT)
    async def correct_bank_account(self, raw: RawValue) -> CommandAck:
        correction = parse_update(PayeeCorrectedInput, raw)
        await self._verified_or_refused("correct_bank_account", correction)
        await self._accept_correction(correction)
        return CommandAck(accepted=True, state=self._state, message="收款账户已更正，款项将重新发放")

    @correct_bank_account.validator
    def _validate_correct_bank_account(self, raw: RawValue) -> None:
        correction = parse_update(PayeeCorrectedInput, raw)
        problem = self._correction_problem(correction)
        if problem:
            raise ValueError(problem)

    @workflow.signal(name=MATTER_UPDATED, description=d.CASE_MATTER_UPDATED)
    @one_input
    async def matter_updated(self, payload: RawValue = NO_INPUT, *extra: Any) -> None:
        parsed = parse_raw(MatterReport, payload, workflow.payload_converter(), extra)
        if isinstance(parsed, str):
            return await self._refuse("matter_updated", parsed)
        if parsed.matter not in self._started:
            return await self._refuse("matter_updated", "事项不属于本案件")
        # Anyone can send this signal: the case checks the matter with the engine before it believes it.
        self._hints.add(parsed.matter)
        if parsed.final:
            self._soon[parsed.matter] = RECHECKS
        return None

    @workflow.signal(dynamic=True, description=d.CASE_UNKNOWN_SIGNAL)
    async def unknown_signal(self, name: str, args: Sequence[RawValue]) -> None:
        await self._refuse(shown_name(name), "不认识的操作名称，请检查拼写（如 cremation_certified、withdraw）")

    @workflow.update(name="submit_application", description=d.CASE_SUBMIT_APPLICATION)
    def submit_application(self, raw: RawValue) -> CommandAck:
        input = parse_update(CaseInput, raw)
        self._application = input.application
        return CommandAck(accepted=True, state=self._state, message=f"申请已受理，受理编号{self._case_number}")

    @submit_application.validator
    def _validate_submit_application(self, raw: RawValue) -> None:
        input = parse_update(CaseInput, raw)
        if input.application is None:
            raise ValueError("申请内容为空")
        if self._application is not None or self._state != CaseState.RECEIVED or self._withdrawal is not None:
            raise ValueError(f"该逝者已有申请，受理编号{self._case_number}")
        return None

    @workflow.query(name="status", description=d.CASE_STATUS)
    def status(self) -> StatusSnapshot:
        application = self._application
        return StatusSnapshot(
            case_number=self._case_number,
            scope="case",
            case_state=self._state,
            previous_case=self._previous_case,
            channel=application.channel if application else None,
            deceased=mask_name(application.deceased.name) if application else None,
            applicant=mask_name(application.applicant.name) if application else None,
            payee_card=mask_number(application.applicant.bank_account.card_number) if application else None,
            received_at=self._received_at if application else None,
            closed_at=self._closed_at,
            cremation=self._cremation,
            hukou_certificate_no=self._matters[MatterCode.HUKOU_CANCELLATION].certificate_no
            if MatterCode.HUKOU_CANCELLATION in self._matters else None,
            matters=tuple(self._matters.values()),
            refused_actions=tuple(self._refused),
            refused_total=self._refused_total,
            timeline=tuple(self._timeline),
        )

    # --- rules shared by each signal and its update -----------------------------------------------------

    def _cremation_problems(self, certificate: CremationCertifiedInput) -> str:
        policy = self._require_policy()
        problems = []
        if self._cremation is not None:
            problems.append(f"火化证明已上传（{self._cremation.certificate_no}）")
        if certificate.county and not self._in_county(certificate.county, policy):
            problems.append(f"火化地须为{policy.county}")
        if certificate.cremated_on > local_date(workflow.now(), policy.timezone):
            problems.append("火化日期不能晚于今天")
        application = self._application
        if application and certificate.cremated_on < application.deceased.death_date:
            problems.append("火化日期不能早于死亡日期")
        return "；".join(problems)

    def _in_county(self, written: str, policy: Policy) -> bool:
        """The county's name, or (cases started since the patch) the same written after its city or province."""
        return written == policy.county or (self._county_as_written and written.endswith(policy.county))

    def _accept_cremation(self, certificate: CremationCertifiedInput) -> None:
        self._cremation = CremationRecord(
            certificate_no=certificate.certificate_no, funeral_home=certificate.funeral_home,
            cremated_on=certificate.cremated_on, received_at=workflow.now(),
        )
        self._event(f"收到火化证明{certificate.certificate_no}（{certificate.funeral_home}）",
                    actor=certificate.funeral_home)

    def _withdraw_problem(self) -> str | None:
        if self._withdrawal is not None:
            return "申请已撤回"
        if self._state in _CLOSED:
            return f"案件已{self._state.value}，不能撤回"
        return None

    async def _accept_withdrawal(self, withdrawal: WithdrawInput) -> None:
        self._withdrawal = withdrawal
        self._event(f"申请人撤回申请：{withdrawal.reason}", actor=withdrawal.clerk)
        await self._flush()
        for code, view in self._matters.items():
            if code in self._started and not view.final:
                await self._signal_child(code, WITHDRAW, withdrawal)

    def _correction_problem(self, correction: PayeeCorrectedInput) -> str | None:
        application = self._application
        if application is not None:
            problem = check_correction(correction, application.applicant.name)
            if problem:
                return problem
        elif not luhn_valid(correction.card_number.replace(" ", "")):
            return "银行卡号校验不通过"
        return None if self._awaiting_account() else messages.NO_FAILED_PAYMENT

    async def _accept_correction(self, correction: PayeeCorrectedInput) -> None:
        waiting = self._awaiting_account()
        self._event("收款账户已更正，重新发放", actor=correction.clerk)
        await self._flush()
        for code in waiting:
            self._mark(code, MatterState.IN_PROGRESS)
            await self._signal_child(code, PAYEE_CORRECTED, correction)

    def _awaiting_account(self) -> list[MatterCode]:
        return [code for code, view in self._matters.items()
                if view.state == MatterState.PAYMENT_FAILED and code in self._started]

    # --- the one place case state changes, and the register ----------------------------------------------

    def _change(self, state: CaseState, event: str, *, notify: _Notify | None = None) -> None:
        self._state = state
        self._case_state = CaseStateRecord(case_number=self._case_number, state=state, at=workflow.now())
        self._event(event, notify=notify)

    def _event(
        self, event: str, *, actor: str = "system", notify: _Notify | None = None, also: _Notify | None = None,
        key_suffix: str | None = None,
    ) -> None:
        self._seq += 1
        now = workflow.now()
        self._timeline.append(TimelineEntry(at=now, event=event))
        self._audit.append(AuditEvent(case_number=self._case_number, key=f"case/{self._seq:04d}", event=event,
                                      at=now, actor=actor))
        for kind, recipient, text in (n for n in (notify, also) if n is not None):
            self._notes.append(Notification(
                case_number=self._case_number, kind=kind, recipient=recipient, message=text, at=now,
                key=f"case/{kind.value}/{recipient.value}/{key_suffix or self._seq}"))

    async def _flush(self) -> None:
        """One register write for everything since the last one; writes keep their order."""
        async with self._flushing:
            if not (self._case_record or self._case_state or self._audit or self._notes):
                return
            await workflow.execute_local_activity_method(RegisterActivities.record, self._batch(), **LOCAL_OPTIONS)

    async def _open(self, application: Application) -> Policy:
        """The first register write, which also brings the county policy for the case's matters."""
        async with self._flushing:
            return await workflow.execute_local_activity_method(
                RegisterActivities.open_case, CaseOpening(batch=self._batch(), matters=application.matters),
                **LOCAL_OPTIONS,
            )

    def _batch(self) -> RegisterBatch:
        """What has changed since the last write (and the search attribute, once per workflow task)."""
        if self._case_state is not None and self._case_state.state != self._shown_state:
            workflow.upsert_search_attributes([sa.CASE_STATE.value_set(self._case_state.state.value)])
            self._shown_state = self._case_state.state
        batch = RegisterBatch(case_number=self._case_number, case=self._case_record, case_state=self._case_state,
                              audit=tuple(self._audit), notifications=tuple(self._notes))
        self._case_record, self._case_state, self._audit, self._notes = None, None, [], []
        return batch

    async def _refuse(self, action: str, reason: str, matter: MatterCode | None = None) -> None:
        """Recorded at once in the status and the UI; in the register with the next write or in a batch."""
        refused = RefusedAction(at=workflow.now(), action=action, matter=matter, reason=reason)
        self._refused = [*self._refused, refused][-KEEP_REFUSALS:]
        self._refused_total += 1
        if logged_refusal(self._refused_total):
            workflow.logger.warning("refused action %s: %s (%d refused in all)", action, reason, self._refused_total)
        workflow.set_current_details(messages.last_refusal(action, reason))
        self._seq += 1
        self._audit.append(AuditEvent(case_number=self._case_number, key=f"case/{self._seq:04d}",
                                      event=messages.refused(action, reason, None), at=refused.at))
        if len(self._audit) >= REFUSAL_BATCH:
            await self._flush()

    def _mark(self, code: MatterCode, state: MatterState) -> None:
        """What the case knows of a running matter: started, or its payment waits for a corrected account."""
        self._matters[code] = self._matters[code].model_copy(update={"state": state})

    def _settle(self, result: MatterResult) -> None:
        self._matters[result.matter] = self._matters[result.matter].model_copy(update={
            "state": result.state, "final": True, "reason": result.reason, "amount": result.amount,
            "payment_reference": result.payment_reference, "certificate_no": result.certificate_no,
        })

    async def _unverified(self, statement: WithdrawInput | PayeeCorrectedInput) -> str | None:
        """Why the window's word is not taken: its signature is missing or covers another statement."""
        verdict = await workflow.execute_local_activity_method(
            TrustActivities.verify_statement,
            StatementCheck(issuer=SIGNED_BY[type(statement)], digest=signed_digest(statement, self._case_number, None),
                           signature=statement.signature),
            **LOCAL_OPTIONS,
        )
        return verdict.refused

    async def _verified_or_refused(self, action: str, statement: WithdrawInput | PayeeCorrectedInput) -> None:
        problem = await self._unverified(statement)
        if problem:
            await self._refuse(action, problem)
            raise ApplicationError(problem, type=ErrorType.INVALID_DECISION.value, non_retryable=True)

    async def _signal_child(self, code: MatterCode, signal: Any, payload: BaseModel | None) -> bool:
        """Whether the matter got it: it may have finished just before, which is not the case's failure. A
        matter an earlier run started is reached by its id."""
        args = () if payload is None else (to_raw(payload),)
        try:
            # By id, not by the child's handle (which names the run the case started), so the signal reaches the
            # run the matter has continued into.
            await workflow.get_external_workflow_handle(matter_workflow_id(self._case_number, code)).signal(
                signal, *args)
        except ApplicationError as err:
            workflow.logger.warning("signal to matter %s not delivered: %s", code.value, err.message)
            return False
        return True

    def _require_application(self) -> Application:
        assert self._application is not None
        return self._application

    def _require_policy(self) -> Policy:
        assert self._policy is not None
        return self._policy
