"""Client-side operations on cases, shared by the CLI and the tests.

Expected failures raise `OperationRefused` with a one-line Chinese message; the CLI maps it to an exit
code in one place.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from temporalio.client import (
    Client,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain import search_attributes as sa
from domain.enums import CaseState, MatterCode
from domain.ids import case_number_for, case_workflow_id, matter_workflow_id
from domain.models import (
    Application,
    CaseInput,
    CommandAck,
    CremationCertifiedInput,
    DecisionCommand,
    MaterialsSupplementedInput,
    PayeeCorrectedInput,
    StatusSnapshot,
    WithdrawInput,
)
from workflows.case import CaseWorkflow


class OperationRefused(Exception):
    """An expected refusal: the message is Chinese, one line, free of personal data."""

    def __init__(self, message: str, *, case_number: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.case_number = case_number


class DuplicateCase(OperationRefused):
    pass


class NotFound(OperationRefused):
    pass


@dataclass(frozen=True)
class Started:
    case_number: str


def _case_search_attributes(case_number: str) -> TypedSearchAttributes:
    return TypedSearchAttributes([
        SearchAttributePair(sa.CASE_NUMBER, case_number),
        SearchAttributePair(sa.CASE_STATE, CaseState.RECEIVED.value),
    ])


async def start_case(client: Client, application: Application, case_id_key: bytes, task_queue: str) -> Started:
    """Start the case; a second application for the same deceased is refused with its case number."""
    case_number = case_number_for(application.deceased.id_number, case_id_key)
    try:
        await client.start_workflow(
            CaseWorkflow.run,
            CaseInput(case_number=case_number, application=application),
            id=case_workflow_id(case_number),
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            search_attributes=_case_search_attributes(case_number),
        )
        return Started(case_number)
    except WorkflowAlreadyStartedError:
        pass
    # The funeral home may have opened the case first; then the application completes it.
    handle = client.get_workflow_handle(case_workflow_id(case_number))
    try:
        await handle.execute_update(
            "submit_application", CaseInput(case_number=case_number, application=application),
            result_type=CommandAck,
        )
    except WorkflowUpdateFailedError as err:
        raise _duplicate(case_number) from err
    except RPCError as err:
        # An update to a closed case finds no running workflow: that case is the earlier application.
        if err.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
            raise _duplicate(case_number) from err
        raise
    return Started(case_number)


def _duplicate(case_number: str) -> DuplicateCase:
    return DuplicateCase(f"该逝者已有申请，受理编号{case_number}，不能重复申请", case_number=case_number)


async def certify_cremation(
    client: Client, case_number: str, certificate: CremationCertifiedInput, task_queue: str
) -> None:
    """The funeral home's certificate; it opens the case when the family has not applied yet."""
    try:
        await client.start_workflow(
            CaseWorkflow.run,
            CaseInput(case_number=case_number, application=None),
            id=case_workflow_id(case_number),
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            search_attributes=_case_search_attributes(case_number),
            start_signal="cremation_certified",
            start_signal_args=[certificate],
        )
    except WorkflowAlreadyStartedError as err:
        raise OperationRefused(f"案件{case_number}已结束，不能再上传火化证明", case_number=case_number) from err


async def case_status(client: Client, case_number: str) -> StatusSnapshot:
    handle: WorkflowHandle[CaseWorkflow, object] = client.get_workflow_handle_for(
        CaseWorkflow.run, case_workflow_id(case_number)
    )
    try:
        return await handle.query(CaseWorkflow.status)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise NotFound(f"未找到受理编号{case_number}的案件", case_number=case_number) from err
        raise


async def decide(client: Client, case_number: str, matter: MatterCode, command: DecisionCommand) -> CommandAck:
    handle = client.get_workflow_handle(matter_workflow_id(case_number, matter))
    try:
        ack: CommandAck = await handle.execute_update("decide", command, result_type=CommandAck)
        return ack
    except WorkflowUpdateFailedError as err:
        raise OperationRefused(f"决定未受理：{_update_reason(err)}", case_number=case_number) from err
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise NotFound(f"案件{case_number}的事项{matter.value}尚未推送或不存在", case_number=case_number) from err
        raise


async def supplement(client: Client, case_number: str, supplement: MaterialsSupplementedInput) -> CommandAck:
    handle = client.get_workflow_handle(case_workflow_id(case_number))
    try:
        ack: CommandAck = await handle.execute_update("supplement_materials", supplement, result_type=CommandAck)
        return ack
    except WorkflowUpdateFailedError as err:
        raise OperationRefused(f"补正未受理：{_update_reason(err)}", case_number=case_number) from err
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise NotFound(f"未找到受理编号{case_number}的案件", case_number=case_number) from err
        raise


def _update_reason(err: WorkflowUpdateFailedError) -> str:
    cause = err.cause
    if isinstance(cause, ApplicationError):
        return cause.message
    return str(cause) if cause else "工作流拒绝了该操作"


# --- signals with a look at the outcome (added for the CLI) ------------------------------------------

# Case timeline texts the outcome checks recognise (workflows/case.py writes them).
_CORRECTED_EVENT = "收款账户已更正"
_STATUS_TIMEOUT = timedelta(seconds=3)


@dataclass(frozen=True)
class SignalOutcome:
    """What became of a signal: accepted, refused (with the workflow's reason), or not known yet.

    A signal is recorded durably even when no worker runs; ``accepted is None`` means the case had
    not handled it within the wait (no worker, or busy).
    """

    case_number: str
    accepted: bool | None
    reason: str = ""
    snapshot: StatusSnapshot | None = None


async def _describe_case(client: Client, case_number: str) -> WorkflowExecutionDescription | None:
    try:
        return await client.get_workflow_handle(case_workflow_id(case_number)).describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return None
        raise


def _closed_message(case_number: str, description: WorkflowExecutionDescription, action: str) -> str:
    state = description.typed_search_attributes.get(sa.CASE_STATE)
    return f"案件{case_number}已关闭（{state or '已结束'}），不能再{action}"


async def _quiet_status(client: Client, case_number: str) -> StatusSnapshot | None:
    """The case status, or None when the case does not answer promptly (no worker)."""
    handle: WorkflowHandle[CaseWorkflow, object] = client.get_workflow_handle_for(
        CaseWorkflow.run, case_workflow_id(case_number)
    )
    try:
        return await handle.query(CaseWorkflow.status, rpc_timeout=_STATUS_TIMEOUT)
    except (TimeoutError, RPCError, WorkflowQueryFailedError):
        return None


Changed = Callable[[StatusSnapshot, StatusSnapshot], bool]


async def _await_outcome(
    client: Client, case_number: str, action: str, before: StatusSnapshot | None, changed: Changed, wait: float
) -> SignalOutcome:
    if before is None or wait <= 0:
        return SignalOutcome(case_number, None)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    snapshot: StatusSnapshot | None = None
    while True:
        snapshot = await _quiet_status(client, case_number)
        if snapshot is not None:
            refusals = [r for r in snapshot.refused_actions[len(before.refused_actions):] if r.action == action]
            if refusals:
                return SignalOutcome(case_number, False, refusals[-1].reason, snapshot)
            if changed(before, snapshot):
                return SignalOutcome(case_number, True, snapshot=snapshot)
        if loop.time() >= deadline:
            return SignalOutcome(case_number, None, snapshot=snapshot)
        await asyncio.sleep(0.2)


def _new_events(before: StatusSnapshot, after: StatusSnapshot) -> list[str]:
    return [entry.event for entry in after.timeline[len(before.timeline):]]


async def _signal_running_case(
    client: Client, case_number: str, signal: str, arg: object, action: str, changed: Changed, wait: float
) -> SignalOutcome:
    description = await _describe_case(client, case_number)
    if description is None:
        raise NotFound(f"未找到受理编号{case_number}的案件", case_number=case_number)
    if description.status != WorkflowExecutionStatus.RUNNING:
        raise OperationRefused(_closed_message(case_number, description, action), case_number=case_number)
    before = await _quiet_status(client, case_number) if wait > 0 else None
    try:
        await client.get_workflow_handle(case_workflow_id(case_number)).signal(signal, arg)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise OperationRefused(f"案件{case_number}已关闭，不能再{action}", case_number=case_number) from err
        raise
    return await _await_outcome(client, case_number, signal, before, changed, wait)


async def withdraw(client: Client, case_number: str, withdrawal: WithdrawInput, wait: float = 5.0) -> SignalOutcome:
    """The applicant withdraws the whole case (signal `withdraw`)."""

    def changed(before: StatusSnapshot, after: StatusSnapshot) -> bool:
        return after.case_state == CaseState.WITHDRAWN or any(
            withdrawal.reason in event for event in _new_events(before, after)
        )

    return await _signal_running_case(client, case_number, "withdraw", withdrawal, "撤回", changed, wait)


async def correct_bank_account(
    client: Client, case_number: str, correction: PayeeCorrectedInput, wait: float = 5.0
) -> SignalOutcome:
    """A corrected payee account after a failed payment (signal `bank_account_corrected`)."""

    def changed(before: StatusSnapshot, after: StatusSnapshot) -> bool:
        return any(_CORRECTED_EVENT in event for event in _new_events(before, after))

    return await _signal_running_case(
        client, case_number, "bank_account_corrected", correction, "更正收款账户", changed, wait
    )


async def certify_cremation_checked(
    client: Client,
    case_number: str,
    certificate: CremationCertifiedInput,
    task_queue: str,
    *,
    must_exist: bool,
    wait: float = 5.0,
) -> SignalOutcome:
    """``certify_cremation`` and a look at whether the case took the certificate.

    ``must_exist`` (a clerk typed the case number): never open a new case for a mistyped number.
    """
    description = await _describe_case(client, case_number)
    if description is None and must_exist:
        raise NotFound(f"未找到受理编号{case_number}的案件", case_number=case_number)
    if description is not None and description.status != WorkflowExecutionStatus.RUNNING:
        raise OperationRefused(_closed_message(case_number, description, "上传火化证明"), case_number=case_number)
    before: StatusSnapshot | None
    if description is None:
        before = StatusSnapshot(case_number=case_number, scope="case")
    else:
        before = await _quiet_status(client, case_number) if wait > 0 else None
    await certify_cremation(client, case_number, certificate, task_queue)

    def changed(old: StatusSnapshot, new: StatusSnapshot) -> bool:
        return old.cremation is None and new.cremation is not None and (
            new.cremation.certificate_no == certificate.certificate_no
        )

    return await _await_outcome(client, case_number, "cremation_certified", before, changed, wait)


# --- decisions on a matter that may have closed -----------------------------------------------------


async def decide_checked(
    client: Client, case_number: str, matter: MatterCode, command: DecisionCommand
) -> CommandAck:
    """``decide``, telling a closed matter (办结) apart from one never pushed.

    A matter workflow ends when its outcome is final, and the server answers an update to a closed
    workflow with NOT_FOUND; ``decide`` alone would say "not pushed".
    """
    try:
        return await decide(client, case_number, matter, command)
    except NotFound as not_found:
        try:
            description = await client.get_workflow_handle(matter_workflow_id(case_number, matter)).describe()
        except RPCError:
            raise not_found from None  # never pushed, or no such case
        if description.status == WorkflowExecutionStatus.RUNNING:
            raise
        state = description.typed_search_attributes.get(sa.MATTER_STATE) or "已结束"
        raise OperationRefused(f"决定未受理：事项已办结（{state}），不能再作决定", case_number=case_number) from None


__all__ = [
    "DuplicateCase",
    "NotFound",
    "OperationRefused",
    "SignalOutcome",
    "Started",
    "case_status",
    "certify_cremation",
    "certify_cremation_checked",
    "correct_bank_account",
    "decide",
    "decide_checked",
    "start_case",
    "supplement",
    "withdraw",
]
