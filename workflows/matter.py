"""MatterWorkflow: one department's work item, held to its 承诺时限.

The run reads top-down: push the item and start the working-day clock, then, until the matter is final, take
the next thing that happened — a decision from the inbox, or the timer of the next escalation rung or reminder —
and apply it. The state is one model (``MatterProgress``); what a decision or a timer does to it, plain
functions of domain/ decide (admission, transitions, ladder, reminders, matter_view). This class keeps what is
Temporal's: handlers, timer, the calls out (workflows/matter_steps.py), and ``_commit``, where a change is
recorded; the register writes of one workflow task go out together in ``_flush``. A rule is given ``self._m`` as
it is after the last await: handlers (a refusal, a report asked for) change it while the workflow waits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError

from workflows import descriptions as d
from workflows import matter_steps as steps
from workflows.contract import (
    CASE_CONTINUED,
    MATERIALS_SUPPLEMENTED,
    MATTER_WORKFLOW,
    PAYEE_CORRECTED,
    PAYEE_PROVEN,
    WITHDRAW,
)
from workflows.inbox import KIND_OF, Decision, InboxItem
from workflows.raw_input import NO_INPUT, parse_raw, parse_update, raw_signal, shown_name

with workflow.unsafe.imports_passed_through():
    from domain import admission, ladder, matter_view, messages, reminders, transitions
    from domain.brief import timer_summary
    from domain.change import Change, logged_refusal, recorded, refusal
    from domain.decisions import decision_of
    from domain.enums import DecisionKind, ErrorType, MatterState
    from domain.models import (
        ApproveInput,
        AuditEvent,
        CommandAck,
        DeadlinePlan,
        DecisionCommand,
        ExtendDeadlineInput,
        MaterialsSupplementedInput,
        MatterInput,
        MatterProgress,
        MatterResult,
        Notification,
        PayeeCorrectedInput,
        PayeeProvenInput,
        PaymentConfirmedInput,
        PaymentFailedInput,
        PaymentResult,
        RejectInput,
        RequestMaterialsInput,
        StatusSnapshot,
        WithdrawInput,
    )
    from domain.officers import OFFICER_KINDS, UNVERIFIED, typed_name

# Refusals alone do not cost a register write each: they go out with the next change, or in batches.
REFUSAL_BATCH = 20


@workflow.defn(name=MATTER_WORKFLOW)
class MatterWorkflow:
    @workflow.init
    def __init__(self, input: MatterInput) -> None:
        self._input = input
        # A run that continued as new goes on from exactly where the previous one left off.
        self._m = input.carried or MatterProgress(payee=input.payee, payee_unproven=bool(input.proof_needed))
        self._inbox: list[InboxItem] = []
        self._tickets = self._processed = 0
        # What the next register write carries.
        self._dirty = False
        self._audit: list[AuditEvent] = []
        self._notes: list[Notification] = []
        self._payment_result: PaymentResult | None = None
        # Decisions of the CLI's update refused when their turn came (a statement whose signature failed).
        self._ticket_refusals: dict[int, str] = {}
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
        await self._flush_all()
        # A pending timer ends with the run: cancelling it would only add an event.
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self._m.report_end:
            await self._report(messages.MATTER_ENDED, final=True)
        return matter_view.result(self._m, self._input)

    async def _continue_as_new(self) -> None:
        """A long or flooded history goes on in a fresh run with the same id, carrying the whole matter."""
        await workflow.wait_condition(workflow.all_handlers_finished)
        # Nothing recorded in this run may be lost with it.
        await self._flush_all()
        if self._inbox:
            return
        workflow.logger.info("continuing as new after %d events (run %d)",
                             workflow.info().get_current_history_length(), self._m.runs)
        carried = self._m.model_copy(update={"runs": self._m.runs + 1})
        workflow.continue_as_new(self._input.model_copy(update={"carried": carried}))

    async def _next(self) -> None:
        """Wait for a decision, a batch of refusals to record, or the next timer; then act on it."""
        await self._plan_reminder()
        if self._details_due:
            self._details_due = False
            workflow.set_current_details(matter_view.details(self._m, self._input, workflow.now()))
        self._arm_timer(ladder.wake_at(self._m, self._input, workflow.now()))
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
            self._timer_fired, self._timer_at = False, None
            await self._on_timer()

    # --- signals (what officers type in the Web UI), the CLI's update and the status query ----------

    @raw_signal(name="approve", description=d.MATTER_APPROVE)
    def approve(self, payload: RawValue = NO_INPUT, *extra: Any) -> None:
        self._receive(ApproveInput, payload, extra)

    @raw_signal(name="reject", description=d.MATTER_REJECT)
    def reject(self, payload: RawValue = NO_INPUT, *extra: Any) -> None:
        self._receive(RejectInput, payload, extra)

    @raw_signal(name="request_materials", description=d.MATTER_REQUEST_MATERIALS)
    def request_materials(self, payload: RawValue = NO_INPUT, *extra: Any) -> None:
        self._receive(RequestMaterialsInput, payload, extra)

    @raw_signal(name=MATERIALS_SUPPLEMENTED, description=d.MATTER_MATERIALS_SUPPLEMENTED)
    def materials_supplemented(self, payload: RawValue = NO_INPUT, *extra: Any) -> None:
        self._receive(MaterialsSupplementedInput, payload, extra)

    @raw_signal(name="extend_deadline", description=d.MATTER_EXTEND_DEADLINE)
    def extend_deadline(self, payload: RawValue = NO_INPUT, *extra: Any) -> None:
        self._receive(ExtendDeadlineInput, payload, extra)

    @raw_signal(name=WITHDRAW, description=d.MATTER_WITHDRAW)
    def withdraw(self, payload: RawValue = NO_INPUT, *extra: Any) -> None:
        self._receive(WithdrawInput, payload, extra)

    @raw_signal(name=PAYEE_CORRECTED, description=d.MATTER_PAYEE_CORRECTED)
    def payee_corrected(self, payload: RawValue = NO_INPUT, *extra: Any) -> None:
        self._receive(PayeeCorrectedInput, payload, extra)

    @raw_signal(name=PAYEE_PROVEN, description=d.MATTER_PAYEE_PROVEN)
    def payee_proven(self, payload: RawValue = NO_INPUT, *extra: Any) -> None:
        self._receive(PayeeProvenInput, payload, extra)

    @raw_signal(name="payment_confirmed", description=d.MATTER_PAYMENT_CONFIRMED)
    def payment_confirmed(self, payload: RawValue = NO_INPUT, *extra: Any) -> None:
        self._receive(PaymentConfirmedInput, payload, extra)

    @raw_signal(name="payment_failed", description=d.MATTER_PAYMENT_FAILED)
    def payment_failed(self, payload: RawValue = NO_INPUT, *extra: Any) -> None:
        self._receive(PaymentFailedInput, payload, extra)

    @raw_signal(name=CASE_CONTINUED, description=d.MATTER_CASE_CONTINUED)
    def case_continued(self, payload: RawValue = NO_INPUT, *extra: Any) -> None:
        # Whoever sends it, it only adds a report of this matter's end, which the case checks with the engine.
        self._m = self._m.model_copy(update={"report_end": True})

    @workflow.signal(dynamic=True, description=d.MATTER_UNKNOWN_SIGNAL)
    def unknown_signal(self, name: str, args: Sequence[RawValue]) -> None:
        self._refuse(shown_name(name), messages.UNKNOWN_SIGNAL)

    @workflow.update(name="decide", description=d.MATTER_DECIDE)
    async def decide(self, command: RawValue) -> CommandAck:
        ticket = self._enqueue(decision_of(parse_update(DecisionCommand, command)))
        await workflow.wait_condition(lambda: self._processed >= ticket)
        refused = self._ticket_refusals.pop(ticket, None)
        if refused is not None:
            raise ApplicationError(refused, type=ErrorType.INVALID_DECISION.value, non_retryable=True)
        return matter_view.ack(self._m)

    @decide.validator
    def _validate_decide(self, command: RawValue) -> None:
        if reason := admission.problem(self._m, self._input, decision_of(parse_update(DecisionCommand, command))):
            raise ValueError(reason)

    @workflow.query(name="status", description=d.MATTER_STATUS)
    def status(self) -> StatusSnapshot:
        return matter_view.snapshot(self._m, self._input)

    def _receive(self, model: type[Decision], payload: RawValue, extra: tuple[Any, ...]) -> None:
        parsed = parse_raw(model, payload, workflow.payload_converter(), extra)
        if isinstance(parsed, str):
            return self._refuse(KIND_OF[model].value, parsed)
        if reason := admission.problem(self._m, self._input, parsed):
            return self._refuse(KIND_OF[model].value, reason)
        self._enqueue(parsed)
        return None

    def _enqueue(self, decision: Decision) -> int:
        self._tickets += 1
        self._inbox.append(InboxItem(decision=decision, ticket=self._tickets))
        return self._tickets

    def _refuse(self, action: str, reason: str, *, by: str | None = None) -> None:
        self._m, audit = refusal(self._m, self._input, action, reason, by, workflow.now())
        if logged_refusal(self._m.refused_total):
            workflow.logger.warning("refused action %s: %s (%d refused in all)", action, reason, self._m.refused_total)
        workflow.set_current_details(messages.last_refusal(action, reason))
        self._audit.append(audit)

    # --- applying a decision -----------------------------------------------------------------------

    async def _apply(self, item: InboxItem) -> str | None:
        """Apply one decision; the reason when a statement it needs is not the issuer's (else None)."""
        # Two decisions can arrive in one workflow task: the state may have changed since the first check.
        if reason := admission.problem(self._m, self._input, item.decision):
            self._refuse(item.kind.value, reason)
            return None
        decision = await self._verified(item.decision, item.kind)
        if isinstance(decision, tuple):
            refused, by = decision
            self._refuse(item.kind.value, refused, by=by)
            return refused
        now = workflow.now()
        match decision:
            case ApproveInput() as approval:
                await self._approved(approval)
            case RejectInput() as rejection:
                self._commit(transitions.rejected(self._m, self._input, rejection, now))
            case RequestMaterialsInput() as request:
                remaining = await steps.remaining(self._m, self._input, now)
                self._commit(transitions.materials_requested(self._m, self._input, request, remaining, now))
            case MaterialsSupplementedInput() as supplement:
                plan = await self._plan(now, *transitions.resumption(self._m))
                self._commit(transitions.materials_arrived(self._m, supplement, plan, now))
            case ExtendDeadlineInput() as extension:
                running = self._m.state != MatterState.AWAITING_MATERIALS
                longer = await self._plan(transitions.extension_start(self._m, now),
                                          extension.working_days) if running else None
                self._commit(transitions.extended(self._m, extension, longer, now))
            case WithdrawInput() as withdrawal if transitions.withdrawal_stops(self._m):
                await self._flush()
                await steps.withdraw(self._input, withdrawal, now)
                self._commit(transitions.withdrawn(self._m, self._input, withdrawal, now))
            case PayeeCorrectedInput() as correction:
                await self._take(transitions.payee_corrected(self._m, correction))
            case PayeeProvenInput() as proven:
                await self._take(transitions.payee_proven(self._m, proven))
            case PaymentConfirmedInput() as confirmation:
                self._commit(transitions.payment_confirmed(self._m, self._input, confirmation, now))
            case PaymentFailedInput() as failure:
                await self._take(transitions.payment_failed(self._m, self._input, failure, now))
        return None

    async def _approved(self, approval: ApproveInput) -> None:
        await self._take(transitions.approved(self._m, self._input, approval, workflow.now()))

    async def _take(self, change: Change) -> None:
        """Commit a change, then tell the case and give the paying system its instruction as it asks."""
        self._commit(change)
        if change.report is not None:
            await self._report(change.report)
        if change.instruct:
            await self._instruct()

    async def _verified(self, decision: Decision, kind: DecisionKind) -> Decision | tuple[str, str | None]:
        """The decision as it counts, else why not and who tried. A statement that moves money, a payee or a
        withdrawal needs its issuer's signature (the paying system's, the window's) over exactly it; an officer's
        decision goes under the name of who made it (domain/admission.py: identified)."""
        check = admission.statement_check(decision, self._input)
        if check is not None:
            refused = await steps.statement_refused(check)
            if not refused and isinstance(decision, PayeeCorrectedInput):
                refused = admission.correction_problem(self._m, self._input, decision)
            return (refused, None) if refused else decision
        if kind not in OFFICER_KINDS:
            return decision
        assert isinstance(decision, (ApproveInput, RejectInput, RequestMaterialsInput, ExtendDeadlineInput))
        if misnamed := admission.misnamed(decision, self._input):
            return misnamed, typed_name(decision) + UNVERIFIED
        refused = await steps.officer_refused(admission.officer_check(decision))
        self._m, outcome = admission.identified(self._m, self._input, decision, kind, refused, workflow.now())
        return outcome

    async def _push(self) -> None:
        now = workflow.now()
        plan, failed = await steps.push(self._input, now)
        self._m = ladder.adopt(self._m, plan, now, self._input.matter_policy.definition.time_limit_working_days)
        self._commit(transitions.pushed(self._m, self._input, plan, now, failed))

    async def _instruct(self) -> None:
        """Give the paying system its instruction; the matter then waits for its signed report."""
        given = await steps.instruct(self._m, self._input, workflow.now())
        if isinstance(given, str):
            await self._take(transitions.payment_refused(self._m, self._input, given))
        else:
            self._commit(transitions.instructed(self._m, *given))

    # --- the clock: deadlines, the escalation ladder and reminders ------------------------------------

    async def _plan(self, start: datetime, working_days: int, late: int = 0) -> DeadlinePlan:
        """Count the running deadline, and keep what it was counted from and the ladder to it."""
        plan = await steps.count(self._input, start, working_days, late)
        self._m = ladder.adopt(self._m, plan, start, working_days, late)
        return plan

    async def _plan_reminder(self) -> None:
        """Plan the next reminder of the current wait on the working-day calendar."""
        self._m = reminders.current_wait(self._m, workflow.now())
        request = reminders.next_request(self._m, self._input)
        if request is not None:
            plan = await steps.plan_reminder(request)
            self._m = reminders.planned(self._m, plan)

    async def _on_timer(self) -> None:
        if self._m.reminder_wait is not None:
            self._commit(reminders.remind(self._m, self._input))
        elif ladder.next_rung(self._m) is None:
            self._commit(ladder.past_the_ladder(self._m, self._input))
        else:
            # Before a step fires, count the deadline again on today's calendar: a moved one waits for its new step.
            plan = await steps.recount(self._m, self._input)
            moved = ladder.replanned(self._m, self._input, plan)
            self._commit(moved)
            rung = ladder.next_rung(self._m)
            if moved.event is None and rung is not None and rung.at <= workflow.now():
                self._commit(ladder.fire(self._m, self._input, rung))

    def _arm_timer(self, at: datetime | None) -> None:
        if self._timer is not None and not self._timer.done():
            if self._timer_at == at:
                return
            self._timer.cancel()
        self._timer, self._timer_at = None, None
        if at is None:
            return
        self._timer_at, self._timer_fired = at, False
        summary = timer_summary(ladder.wake_reason(self._m), at, self._input.matter_policy.timezone)
        self._timer = asyncio.create_task(self._sleep_until(at, summary))

    async def _sleep_until(self, at: datetime, summary: str) -> None:
        await workflow.sleep(max(at - workflow.now(), timedelta(0)), summary=summary)
        self._timer_fired = True

    # --- the one place state changes, and what leaves the workflow ------------------------------------

    def _commit(self, change: Change) -> None:
        """Take a change: the new state, and, unless it is quiet, its timeline entry, audit line and notices for
        the register write of this workflow task."""
        self._m = change.state
        if change.payment is not None:
            self._payment_result = change.payment
        if change.event is None:
            return
        self._m, audit, sent = recorded(self._m, self._input, change.event, change.actor, change.notes,
                                                    workflow.now())
        self._audit.append(audit)
        self._notes.extend(sent)
        self._dirty = True
        self._details_due = True

    async def _flush_all(self) -> None:
        """Write until nothing is left: refusals that arrive during a write go in the next one."""
        while self._dirty or self._audit:
            await self._flush(everything=True)

    async def _flush(self, *, everything: bool = False) -> None:
        """One register write for everything this workflow task changed; refusals alone wait for a batch
        unless ``everything`` is asked for (or the matter has ended)."""
        if not self._dirty and len(self._audit) < REFUSAL_BATCH and not ((everything or self._m.final) and self._audit):
            return
        # Only the search attributes that changed are set.
        if self._dirty and (changed := matter_view.changed_attributes(self._m)):
            self._m = self._m.model_copy(update={"attributes": {**self._m.attributes, **changed}})
            steps.set_attributes(changed)
        batch = matter_view.batch(self._m, self._input, self._payment_result, self._audit, self._notes)
        self._dirty, self._audit, self._notes, self._payment_result = False, [], [], None
        await steps.record(batch)

    async def _report(self, event: str, *, final: bool = False) -> None:
        """Tell the case what it must act on."""
        if workflow.info().parent is None:
            return
        # The case checks the report with the engine: the state it reads must be written first.
        await self._flush()
        await steps.tell_case(matter_view.report(self._m, self._input, event, workflow.now(), final))
