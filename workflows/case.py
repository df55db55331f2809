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
    PAYEE_PROVEN,
    WITHDRAW,
)
from workflows.raw_input import NO_INPUT, one_input, parse_raw, parse_update, shown_name, to_raw
from workflows.versions import COUNTY_AS_WRITTEN, MATTER_ADDITIONS

with workflow.unsafe.imports_passed_through():
    from activities.deadlines import DeadlineActivities
    from activities.register import RegisterActivities
    from activities.trust import MatterOutcomeActivities, TrustActivities
    from domain import messages
    from domain.application import RELATIONSHIP_LABELS
    from domain.brief import brief_of, static_details, static_summary
    from domain.change import KEEP_REFUSALS, logged_refusal
    from domain.clock import local_date
    from domain.decisions import ADDITION_ISSUERS, account_problem, check_correction, issuer_of, may_sign, signed_digest
    from domain.entitlement import proof_needed, proven_at_intake
    from domain.enums import (
        CasePhase,
        CaseState,
        ErrorType,
        Issuer,
        MaterialKind,
        MatterCode,
        MatterState,
        NotificationKind,
        Recipient,
    )
    from domain.identity import mask_name, mask_number
    from domain.ids import matter_workflow_id
    from domain.models import (
        Application,
        AuditEvent,
        CarriedHukou,
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
        MatterBrief,
        MatterInput,
        MatterOutcomeRequest,
        MatterReport,
        MatterResult,
        MattersAdded,
        MatterView,
        Notification,
        PayeeCorrectedInput,
        PayeeProvenInput,
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
# A matter the family may withdraw on its own: still with its department (approved money is paid all the same).
_WITHDRAWABLE = (MatterState.PENDING_PUSH, MatterState.UNDER_REVIEW, MatterState.AWAITING_MATERIALS)

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
        self._added_to = input.added_to
        # 户口注销 approved in an earlier case (its certificate carries over; the police receive nothing new).
        self._hukou_from: CarriedHukou | None = input.hukou_carried
        # Set when the case has begun to close: matters can no longer be added to it.
        self._closing = False
        # The next register write carries the application as it now stands (matters were added).
        self._case_amended = False
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
        # The relationship proof the window recorded (at intake or since): money for the applicant then moves.
        self._payee_proof: MaterialKind | None = None
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
        # The officer's brief last made, with the application and policy it was made from.
        self._brief_kept: tuple[Application, Policy, MatterBrief] | None = None
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
        self._payee_proof = carry.payee_proof
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
            if input.addition is not None:
                # Matters added after the earlier case closed: only on the word of an issuer who may add them.
                problem = await self._unverified(input.addition) or await self._beyond_signer(input.addition)
                if problem:
                    await self._refuse("add_matters", problem)
                    await self._close_unapplied(CaseState.REFUSED, problem if problem == messages.ADDITION_PORTAL_REACH
                                                else messages.ADDITION_UNVERIFIED)
                    return self._result()
            await self._open_case(input)
        # The matters besides 户口注销 are read where they are acted on: the window may add some meanwhile.
        if self._phase == CasePhase.HUKOU:
            if not self._hukou_carried():
                await self._run_matters([MatterCode.HUKOU_CANCELLATION])
                hukou = self._matters[MatterCode.HUKOU_CANCELLATION]
                if hukou.state == MatterState.REJECTED:
                    return await self._hukou_rejected(self._rest(), hukou.reason or "")
                if hukou.state != MatterState.APPROVED:
                    return await self._finish(self._rest(), "申请已撤回")
                # What the family is told is what is true now: no other matter, a wait, or pushed now.
                self._event("户口注销完成", notify=(NotificationKind.HUKOU_CANCELLED, Recipient.FAMILY,
                                                   messages.hukou_cancelled(
                                                       self._case_number, len(self._rest()),
                                                       awaiting_cremation=self._cremation is None,
                                                       withdrawn=self._withdrawal is not None)))
            if not self._rest():
                return await self._finish([], "")
            self._phase = CasePhase.AWAITING_CREMATION
            if self._cremation is None and self._withdrawal is None:
                self._change(CaseState.AWAITING_CREMATION, "等待殡仪馆上传火化证明后推送其余事项")
        if self._phase == CasePhase.AWAITING_CREMATION:
            waited = False
            if self._cremation is None and self._withdrawal is None:
                waited = True
                await self._await_cremation(self._require_policy())
            if self._withdrawal is not None:
                return await self._finish(self._rest(), "申请已撤回")
            count = len(self._rest())
            self._change(CaseState.IN_PROGRESS, f"并联推送{count}项事项", notify=(
                NotificationKind.MATTERS_PUSHED, Recipient.FAMILY, messages.matters_pushed(self._case_number, count),
            ) if waited else None)
            self._phase = CasePhase.PARALLEL
        await self._run_matters(self._rest(), self._hukou_certificate())
        await self._until_all_settled()
        return await self._finish([], "")

    def _rest(self) -> list[MatterCode]:
        """The matters besides 户口注销, as the case has them now (the application's, and any added since)."""
        return [code for code in self._require_application().matters if code != MatterCode.HUKOU_CANCELLATION]

    def _hukou_carried(self) -> bool:
        """户口注销 came over from an earlier case: final here without a matter of this case's own."""
        hukou = self._matters.get(MatterCode.HUKOU_CANCELLATION)
        return hukou is not None and hukou.final and MatterCode.HUKOU_CANCELLATION not in self._started

    def _hukou_certificate(self) -> str | None:
        hukou = self._matters.get(MatterCode.HUKOU_CANCELLATION)
        return hukou.certificate_no if hukou is not None else None

    async def _until_all_settled(self) -> None:
        """Every matter final, those added while the others ran included; an addition under way (its handler)
        finishes first. Then the case closes to additions."""
        while True:
            await self._until_settled(list(self._matters))
            await workflow.wait_condition(workflow.all_handlers_finished)
            if all(view.final for view in self._matters.values()):
                self._closing = True
                return

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
        if self._added_to:
            received += messages.added_after(self._added_to)
        elif input.previous_case:
            received += messages.reapplied(input.previous_case)
        self._change(CaseState.RECEIVED, received, notify=None if self._added_to else (
            NotificationKind.CASE_RECEIVED, Recipient.FAMILY,
            messages.case_received(self._case_number, len(application.matters))))
        carried = self._hukou_from if MatterCode.HUKOU_CANCELLATION in application.matters else None
        if carried is not None:
            self._event(messages.hukou_carried(carried.case_number, carried.certificate_no))
        else:
            self._change(CaseState.HUKOU_CANCELLING, "户口注销事项推送派出所")
        self._policy = policy = await self._open(application)
        for code in application.matters:
            self._matters[code] = self._new_view(policy, code)
        if self._added_to:
            names = [policy.matter(code).short_name for code in self._rest()]
            self._event(messages.matters_added_event(names, application.channel.value), notify=(
                NotificationKind.CASE_RECEIVED, Recipient.FAMILY,
                messages.added_case_received(self._case_number, self._added_to, names)))
        if carried is not None:
            self._settle(MatterResult(
                case_number=self._case_number, matter=MatterCode.HUKOU_CANCELLATION, state=MatterState.APPROVED,
                certificate_no=carried.certificate_no, reason=messages.hukou_carried_reason(carried.case_number)))
        if proofs := self._proofs_needed():
            self._payee_proof = proven_at_intake(application, proofs)
            relationship = RELATIONSHIP_LABELS[application.applicant.relationship]
            self._event(messages.payee_proven(self._payee_proof.value, "受理时提交") if self._payee_proof
                        else messages.proof_required_at_intake(relationship))

    def _new_view(self, policy: Policy, code: MatterCode) -> MatterView:
        definition = policy.matter(code)
        return MatterView(
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

    def _brief(self, application: Application, policy: Policy) -> MatterBrief:
        """What the matter's page in the Web UI tells its officer (domain/brief.py): the same for every matter
        started from the same application and policy, so made once for them."""
        kept = self._brief_kept
        if kept is not None and kept[0] is application and kept[1] is policy:
            return kept[2]
        brief = brief_of(application, [policy.matter(c) for c in application.matters], policy.scan_url,
                         policy.catalogue_labels)
        self._brief_kept = (application, policy, brief)
        return brief

    async def _run_matters(self, codes: list[MatterCode], hukou_certificate_no: str | None = None) -> None:
        """Start the matters not started yet, all at once, and wait until every one of ``codes`` is final."""
        await self._start_matters(codes, hukou_certificate_no)
        await self._until_settled(codes)

    async def _start_matters(self, codes: list[MatterCode], hukou_certificate_no: str | None) -> None:
        """Start those of ``codes`` not started yet, all at once; their outcomes are settled as they come."""

        async def start(code: MatterCode) -> None:
            # The case as it is now: a matter added meanwhile may have brought situations or a payee account.
            policy = self._require_policy()
            application = self._require_application()
            definition = policy.matter(code)
            self._started.add(code)
            brief = self._brief(application, policy)
            handle = await workflow.start_child_workflow(
                MATTER_WORKFLOW,
                MatterInput(
                    case_number=self._case_number, matter=code, matter_policy=policy.for_matter(code),
                    payee=application.applicant.bank_account, death_date=application.deceased.death_date,
                    hukou_certificate_no=hukou_certificate_no, brief=brief,
                    proof_needed=proof_needed(definition, application, self._payee_proof is not None),
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
                # A case that continues as new closes its run: its matters must go on, so they are abandoned,
                # not ended, with it (an operator who terminates a case does not stop a department's work or a
                # payment).
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
        # A matter withdrawn before its push is final already: it is never started.
        fresh = [code for code in codes if code not in self._started and not self._matters[code].final]
        # Every matter is pushed at once (并联): all child starts go out in one workflow task.
        await asyncio.gather(*(start(code) for code in fresh))
        for code in fresh:
            asyncio.create_task(outcome(code))  # noqa: RUF006 (the workflow keeps running until they settle)

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
            runs=self._runs + 1, recheck=untold, payee_proof=self._payee_proof,
        )
        workflow.continue_as_new(CaseInput(case_number=self._case_number, previous_case=self._previous_case,
                                           added_to=self._added_to, carried=carry))

    async def _hukou_rejected(self, unpushed: list[MatterCode], reason: str) -> CaseResult:
        """Nothing else can be pushed; the family is told why, and that a new application is welcome."""
        self._closing = True
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
        self._closing = True
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
        problem = self._withdraw_problem(parsed) or await self._unverified(parsed)
        if problem:
            return await self._refuse("withdraw", problem)
        if refused := await self._accept_withdrawal(parsed):
            return await self._refuse("withdraw", refused, parsed.matter)
        return None

    @workflow.update(name="withdraw_application", description=d.CASE_WITHDRAW_APPLICATION)
    async def withdraw_application(self, raw: RawValue) -> CommandAck:
        withdrawal = parse_update(WithdrawInput, raw)
        await self._verified_or_refused("withdraw_application", withdrawal)
        if refused := await self._accept_withdrawal(withdrawal):
            await self._refuse("withdraw_application", refused, withdrawal.matter)
            raise ApplicationError(refused, type=ErrorType.INVALID_DECISION.value, non_retryable=True)
        if withdrawal.matter is not None:
            return CommandAck(accepted=True, state=self._state, message=messages.ONE_WITHDRAWN_ACK)
        return CommandAck(accepted=True, state=self._state, message="撤回申请已登记，未办结的事项将全部撤回")

    @withdraw_application.validator
    def _validate_withdraw_application(self, raw: RawValue) -> None:
        problem = self._withdraw_problem(parse_update(WithdrawInput, raw))
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

    @workflow.update(name="prove_relationship", description=d.CASE_PROVE_RELATIONSHIP)
    async def prove_relationship(self, raw: RawValue) -> CommandAck:
        proven = parse_update(PayeeProvenInput, raw)
        await self._verified_or_refused("prove_relationship", proven)
        await self._accept_proof(proven)
        return CommandAck(accepted=True, state=self._state, message=messages.PROOF_RECORDED)

    @prove_relationship.validator
    def _validate_prove_relationship(self, raw: RawValue) -> None:
        problem = self._proof_problem(parse_update(PayeeProvenInput, raw))
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

    @workflow.update(name="add_matters", description=d.CASE_ADD_MATTERS)
    async def add_matters(self, raw: RawValue) -> CommandAck:
        addition = parse_update(MattersAdded, raw)
        # A case under way takes additions from its next step on (workflows/versions.py): the marker names the
        # histories that have them.
        if not workflow.patched(MATTER_ADDITIONS):  # pragma: no cover - only a history without the marker
            raise ApplicationError(messages.ADDITION_UNAVAILABLE, type=ErrorType.INVALID_DECISION.value,
                                   non_retryable=True)
        await self._verified_or_refused("add_matters", addition)
        await self._addable_or_refused(addition, None)
        # The county's definitions of the added matters, as in force now.
        county = await workflow.execute_local_activity_method(
            RegisterActivities.resolve_policy, PolicyRequest(case_number=self._case_number), **LOCAL_OPTIONS)
        # The case may have moved on meanwhile (closed, or the same matter added by another clerk).
        await self._addable_or_refused(addition, county)
        pushed = self._accept_addition(addition, county)
        if pushed:
            await self._start_matters(list(addition.matters), self._hukou_certificate())
        else:
            await self._flush()
        names = "、".join(self._matters[code].name for code in addition.matters)
        return CommandAck(accepted=True, state=self._state,
                          message=messages.addition_accepted(self._case_number, len(addition.matters), names,
                                                             pushed=pushed))

    @add_matters.validator
    def _validate_add_matters(self, raw: RawValue) -> None:
        addition = parse_update(MattersAdded, raw)
        problem = self._addition_problem(addition, None)
        if problem:
            raise ValueError(problem)

    @workflow.update(name="submit_application", description=d.CASE_SUBMIT_APPLICATION)
    def submit_application(self, raw: RawValue) -> CommandAck:
        input = parse_update(CaseInput, raw)
        self._application = input.application
        if input.hukou_carried is not None:
            self._hukou_from = input.hukou_carried
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
            added_to=self._added_to,
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

    def _addition_problem(self, addition: MattersAdded, county: Policy | None) -> str | None:
        """Why these matters cannot be added to this case now (every reason at once); None when they can. The
        window checked them by intake's rules (eligibility, materials, channel); the case checks what only it
        knows: that it is open and does not have them yet."""
        if self._application is None:
            return messages.ADDITION_NO_APPLICATION
        if self._withdrawal is not None:
            return messages.addition_refused_closed(CaseState.WITHDRAWN.value)
        if self._state in _CLOSED:
            return messages.addition_refused_closed(self._state.value)
        if self._closing:
            return messages.ADDITION_CLOSING
        problems: list[str] = []
        for code in addition.matters:
            view = self._matters.get(code)
            if code == MatterCode.HUKOU_CANCELLATION:
                problems.append(messages.ADDITION_HUKOU)
            elif view is not None:
                problems.append(messages.addition_duplicate(view.name, view.state.value))
            elif county is not None and not any(m.code == code for m in county.matters):
                problems.append(messages.addition_unknown(code.value))
        if len(set(addition.matters)) != len(addition.matters):
            problems.append(messages.ADDITION_REPEATED)
        if county is not None and not may_sign(addition, county):
            problems.append(messages.ADDITION_PORTAL_REACH)
        payee = self._application.applicant.bank_account
        if addition.bank_account is not None and payee.given:
            problems.append(messages.ADDITION_ACCOUNT_GIVEN)
        if county is not None and not problems and not payee.given and addition.bank_account is None and any(
                county.matter(code).pays_family for code in addition.matters):
            problems.append(messages.ADDITION_ACCOUNT_NEEDED)
        return "；".join(problems) or None

    async def _addable_or_refused(self, addition: MattersAdded, county: Policy | None) -> None:
        problem = self._addition_problem(addition, county)
        if problem:
            await self._refuse("add_matters", problem)
            raise ApplicationError(problem, type=ErrorType.INVALID_DECISION.value, non_retryable=True)

    def _accept_addition(self, addition: MattersAdded, county: Policy) -> bool:
        """The matters join the case (its policy, application and status); whether they are pushed now (the
        others are under way) or with the others once 户口注销 and the cremation certificate are in."""
        policy = self._require_policy()
        added = tuple(county.matter(code) for code in addition.matters)
        self._policy = policy.model_copy(update={"matters": (*policy.matters, *added)})
        application = self._require_application()
        applicant = application.applicant
        if addition.bank_account is not None:
            applicant = applicant.model_copy(update={"bank_account": addition.bank_account})
        deceased = application.deceased
        if addition.deceased_bank_card is not None and not deceased.bank_card:
            deceased = deceased.model_copy(update={"bank_card": addition.deceased_bank_card})
        materials = (*application.materials, *(m for m in addition.materials if m not in application.materials))
        self._application = application.model_copy(update={
            "matters": (*application.matters, *addition.matters), "situations": addition.situations,
            "materials": materials, "applicant": applicant, "deceased": deceased,
        })
        for code in addition.matters:
            self._matters[code] = self._new_view(self._policy, code)
        # The register keeps the case's application as it now stands.
        self._case_amended = True
        pushed = self._phase == CasePhase.PARALLEL
        names = [definition.short_name for definition in added]
        self._event(messages.matters_added_event(names, addition.channel), actor=addition.clerk, notify=(
            NotificationKind.MATTERS_ADDED, Recipient.FAMILY,
            messages.matters_added(self._case_number, names, pushed=pushed)))
        return pushed

    def _withdraw_problem(self, withdrawal: WithdrawInput) -> str | None:
        if self._withdrawal is not None:
            return "申请已撤回"
        if self._state in _CLOSED:
            return f"案件已{self._state.value}，不能撤回"
        code = withdrawal.matter
        if code is None:
            return None
        if code == MatterCode.HUKOU_CANCELLATION:
            return messages.HUKOU_NOT_ALONE
        view = self._matters.get(code)
        if view is None:
            return "本案件没有该事项"
        return messages.not_withdrawable(view.name, view.state.value) if view.final else None

    async def _accept_withdrawal(self, withdrawal: WithdrawInput) -> str | None:
        """The whole application, or one matter (the others go on); why not, when the matter cannot stop."""
        if withdrawal.matter is not None:
            return await self._withdraw_one(withdrawal, withdrawal.matter)
        self._withdrawal = withdrawal
        self._event(f"申请人撤回申请：{withdrawal.reason}", actor=withdrawal.clerk)
        await self._flush()
        for code, view in self._matters.items():
            if code in self._started and not view.final:
                await self._signal_child(code, WITHDRAW, withdrawal)
        return None

    async def _withdraw_one(self, withdrawal: WithdrawInput, code: MatterCode) -> str | None:
        """One matter withdrawn: stopped at its department, or never pushed; approved money is still paid."""
        name = self._require_policy().matter(code).short_name
        if code in self._started:
            # The matter's own state decides: approved money is not stopped by a withdrawal.
            standing = await workflow.execute_local_activity_method(
                MatterOutcomeActivities.matter_standing,
                MatterOutcomeRequest(case_number=self._case_number, matter=code), **STANDING_OPTIONS)
            state = standing.result.state if standing.result is not None else standing.state
            if state is None or state not in _WITHDRAWABLE:
                return messages.not_withdrawable(name, (state or MatterState.IN_PROGRESS).value)
        self._event(messages.one_withdrawn_event(name, withdrawal.reason), actor=withdrawal.clerk, notify=(
            NotificationKind.MATTER_WITHDRAWN, Recipient.FAMILY, messages.one_withdrawn(self._case_number, name)))
        await self._flush()
        if code in self._started:
            await self._signal_child(code, WITHDRAW, withdrawal)
        else:
            self._settle(MatterResult(case_number=self._case_number, matter=code, state=MatterState.WITHDRAWN,
                                      reason=withdrawal.reason))
        return None

    def _proofs_needed(self) -> tuple[MaterialKind, ...]:
        """The proofs of which one lets this case's money go to its applicant (none: nothing waits for one)."""
        application, policy = self._require_application(), self._require_policy()
        needed = (proof_needed(policy.matter(code), application, False) for code in application.matters)
        return tuple(dict.fromkeys(kind for kinds in needed for kind in kinds))

    def _proof_problem(self, proven: PayeeProvenInput) -> str | None:
        if self._application is None or self._policy is None:
            return "案件尚未受理申请，不能核验亲属关系证明"
        if self._state in _CLOSED:
            return f"案件已{self._state.value}，不能核验亲属关系证明"
        if self._payee_proof is not None:
            return "本案已核验过亲属关系证明"
        proofs = self._proofs_needed()
        if not proofs:
            return "本案申请人为逝者的配偶、子女或父母（或无发放款项），无需核验亲属关系证明"
        if proven.proof not in proofs:
            return messages.proof_kinds(tuple(kind.value for kind in proofs))
        return None

    async def _accept_proof(self, proven: PayeeProvenInput) -> None:
        problem = self._proof_problem(proven)
        if problem:
            await self._refuse("prove_relationship", problem)
            raise ApplicationError(problem, type=ErrorType.INVALID_DECISION.value, non_retryable=True)
        self._payee_proof = proven.proof
        self._event(messages.payee_proven(proven.proof.value, proven.document), actor=proven.clerk)
        await self._flush()
        application, policy = self._require_application(), self._require_policy()
        for code in sorted(self._started):
            if not self._matters[code].final and proof_needed(policy.matter(code), application, False):
                await self._signal_child(code, PAYEE_PROVEN, proven)

    def _correction_problem(self, correction: PayeeCorrectedInput) -> str | None:
        application = self._application
        if application is not None:
            problem = check_correction(correction, application.applicant.name)
            if problem:
                return problem
        elif problem := account_problem(correction):
            return problem
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
                              audit=tuple(self._audit), notifications=tuple(self._notes),
                              application=self._application if self._case_amended else None)
        self._case_record, self._case_state, self._audit, self._notes = None, None, [], []
        self._case_amended = False
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

    async def _unverified(
        self, statement: WithdrawInput | PayeeCorrectedInput | PayeeProvenInput | MattersAdded,
    ) -> str | None:
        """Why the issuer's word is not taken: its signature is missing or covers another statement, or (an
        addition) it names an issuer who never adds matters."""
        if isinstance(statement, MattersAdded) and statement.issuer not in ADDITION_ISSUERS:
            return messages.ADDITION_UNVERIFIED
        verdict = await workflow.execute_local_activity_method(
            TrustActivities.verify_statement,
            StatementCheck(issuer=issuer_of(statement), digest=signed_digest(statement, self._case_number, None),
                           signature=statement.signature),
            **LOCAL_OPTIONS,
        )
        return verdict.refused

    async def _beyond_signer(self, addition: MattersAdded) -> str | None:
        """Why the issuer may not add these matters (a case opened for them: the county's reach as in force now).
        The window may add any, so its additions ask nothing more (and their histories stay as they were)."""
        if addition.issuer == Issuer.WINDOW:
            return None
        county = await workflow.execute_local_activity_method(
            RegisterActivities.resolve_policy, PolicyRequest(case_number=self._case_number), **LOCAL_OPTIONS)
        return None if may_sign(addition, county) else messages.ADDITION_PORTAL_REACH

    async def _verified_or_refused(
        self, action: str, statement: WithdrawInput | PayeeCorrectedInput | PayeeProvenInput | MattersAdded,
    ) -> None:
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
