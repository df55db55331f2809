"""What a matter asks of the world outside its workflow, one typed call each with its options: the department,
the working-day clock, the paying system, the trust checks, the register, the engine's search attributes and
its case. Stateless: what a call needs comes in, its answer goes out, and workflows/matter.py decides what to do
with it (through the pure rules of domain/).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeKey
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.workflow import LocalActivityConfig

from workflows import search_attributes as sa
from workflows.contract import MATTER_UPDATED
from workflows.raw_input import to_raw

with workflow.unsafe.imports_passed_through():
    from activities.deadlines import DeadlineActivities
    from activities.departments import DepartmentActivities
    from activities.payments import PaymentActivities
    from activities.register import RegisterActivities
    from activities.trust import TrustActivities
    from domain import ladder, messages, transitions
    from domain.models import (
        DeadlinePlan,
        MatterInput,
        MatterProgress,
        MatterReport,
        OfficerCheck,
        PaymentReceipt,
        RegisterBatch,
        RemainingDays,
        ReminderPlan,
        ReminderRequest,
        StatementCheck,
        WithdrawInput,
    )
    from workflows.options import LOCAL_OPTIONS, PUSH_LOCAL_OPTIONS, REGISTER_OPTIONS

# How a step that gave up reaches the workflow: an activity's failure arrives wrapped in ActivityError, a
# local activity's as the ApplicationError it raised.
FAILED_STEP = (ActivityError, ApplicationError)
_KEYS: dict[str, SearchAttributeKey[Any]] = {key.name: key for key in sa.ALL}


async def push(matter: MatterInput, now: datetime) -> tuple[DeadlinePlan, bool]:
    """Hand the item to its department; the deadline it is held to, and whether the push failed (the clock runs
    anyway, and a person handles the push)."""
    definition = matter.matter_policy.definition
    days = definition.time_limit_working_days
    try:
        options: LocalActivityConfig = {**PUSH_LOCAL_OPTIONS, "summary": messages.push_summary(definition)}
        receipt = await workflow.execute_local_activity_method(
            DepartmentActivities.push_to_department, ladder.push_request(matter, now), **options)
        # The department's activity counted the clock too; else it is counted here.
        return receipt.plan or await count(matter, now, days), False
    except FAILED_STEP as err:
        workflow.logger.error("push failed, flagged for manual handling: %s", cause(err))
        return await count(matter, now, days), True


async def count(matter: MatterInput, start: datetime, working_days: int, late: int = 0) -> DeadlinePlan:
    """The deadline N working days after ``start`` and its ladder, on the worker's current calendar."""
    return await workflow.execute_local_activity_method(
        DeadlineActivities.plan_deadline, ladder.deadline_request(matter, start, working_days, late), **LOCAL_OPTIONS)


async def remaining(state: MatterProgress, matter: MatterInput, now: datetime) -> RemainingDays:
    return await workflow.execute_local_activity_method(
        DeadlineActivities.remaining_working_days, ladder.remaining_request(state, matter, now), **LOCAL_OPTIONS)


async def plan_reminder(request: ReminderRequest) -> ReminderPlan:
    return await workflow.execute_local_activity_method(DeadlineActivities.plan_reminder, request, **LOCAL_OPTIONS)


async def recount(state: MatterProgress, matter: MatterInput) -> DeadlinePlan:
    """The running deadline counted again from the same start, on today's calendar."""
    assert state.plan_start is not None
    return await count(matter, state.plan_start, state.plan_days, state.plan_late)


async def instruct(state: MatterProgress, matter: MatterInput, now: datetime) -> tuple[PaymentReceipt, datetime] | str:
    """Give the paying system its instruction (idempotent): its receipt and by when it should confirm, or why
    the money did not go out.

    A local activity: the instruction is a quick, idempotent hand-over (the ledger by default), and so the
    approval and the instruction are written to the register together, in the officer's workflow task.
    """
    days = matter.matter_policy.waits.payment_confirmation_working_days
    instruction = transitions.instruction(state, matter, now, ladder.deadline_request(matter, now, days))
    try:
        receipt = await workflow.execute_local_activity_method(
            PaymentActivities.instruct_payment, instruction, **LOCAL_OPTIONS)
    except FAILED_STEP as err:
        return messages.payment_not_instructed(cause(err))
    return receipt, receipt.confirm_by or (await count(matter, now, days)).deadline


async def withdraw(matter: MatterInput, withdrawal: WithdrawInput, now: datetime) -> None:
    await workflow.execute_activity_method(DepartmentActivities.withdraw_from_department,
                                           transitions.withdraw_request(matter, withdrawal, now), **REGISTER_OPTIONS)


async def statement_refused(check: StatementCheck) -> str | None:
    """Why the issuer's signature does not cover the statement (None: it does)."""
    verdict = await workflow.execute_local_activity_method(TrustActivities.verify_statement, check, **LOCAL_OPTIONS)
    return verdict.refused


async def officer_refused(check: OfficerCheck) -> str | None:
    verdict = await workflow.execute_local_activity_method(TrustActivities.verify_officer, check, **LOCAL_OPTIONS)
    return verdict.refused


async def record(batch: RegisterBatch) -> None:
    await workflow.execute_local_activity_method(RegisterActivities.record, batch, **LOCAL_OPTIONS)


def set_attributes(changed: dict[str, Any]) -> None:
    """Upsert the search attributes that changed (None: unset)."""
    workflow.upsert_search_attributes([
        _KEYS[name].value_unset() if value is None else _KEYS[name].value_set(value)
        for name, value in changed.items()])


async def tell_case(report: MatterReport) -> None:
    parent = workflow.info().parent
    if parent is not None:
        await workflow.get_external_workflow_handle(parent.workflow_id).signal(MATTER_UPDATED, to_raw(report))


def cause(err: BaseException) -> str:
    inner = err.cause if isinstance(err, ActivityError) else err
    if isinstance(inner, ApplicationError):
        return inner.message
    return type(inner).__name__
