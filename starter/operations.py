"""Client-side operations on cases, shared by the CLI and the tests.

Expected failures raise `OperationRefused` with a one-line Chinese message; the CLI maps it to an exit
code in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

from temporalio.client import (
    Client,
    WorkflowHandle,
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
    StatusSnapshot,
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
    except (WorkflowUpdateFailedError, RPCError) as err:
        raise DuplicateCase(f"该逝者已有申请，受理编号{case_number}，不能重复申请",
                            case_number=case_number) from err
    return Started(case_number)


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


__all__ = [
    "DuplicateCase",
    "NotFound",
    "OperationRefused",
    "Started",
    "case_status",
    "certify_cremation",
    "decide",
    "start_case",
    "supplement",
]
