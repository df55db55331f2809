"""Client-side operations on cases and matters: what the CLI, the online portal and the tests call.

Every command that changes a case answers at once through a workflow update (its validator applies the
same rules as the Web UI's signal), so the caller gets a typed yes or no. Expected failures raise
``OperationRefused`` with a one-line Chinese message free of personal data; the CLI maps it to an exit
code in one place.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel
from sqlalchemy.engine import Engine
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.common import (
    RawValue,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from client.errors import DuplicateCase, NotFound, OperationRefused
from domain import messages
from domain.decisions import payment_key
from domain.enums import CaseState, DecisionKind, MatterCode, MatterState
from domain.ids import MAX_ATTEMPT, case_number_for, case_workflow_id, matter_workflow_id, numbered
from domain.models import (
    Application,
    CarriedHukou,
    CaseInput,
    CommandAck,
    CremationCertifiedInput,
    CremationRecord,
    DecisionCommand,
    MaterialsSupplementedInput,
    MattersAdded,
    MatterView,
    PayeeCorrectedInput,
    PayeeProvenInput,
    PaymentConfirmedInput,
    PaymentFailedInput,
    RefusedAction,
    StatusSnapshot,
    TimelineEntry,
    WithdrawInput,
)
from register.lookups import delivered, recorded_case
from runtime.signing import StatementSigner, sign_statement
from workflows import search_attributes as sa
from workflows.case import CaseWorkflow
from workflows.matter import MatterWorkflow

# How long a payee correction waits for the case to hear of a failure its matters already show.
CASE_CATCH_UP_S = 10.0


@dataclass(frozen=True)
class Started:
    case_number: str


def _raw(client: Client, value: BaseModel) -> RawValue:
    """Updates take their input raw, so that a malformed one is refused in Chinese without being echoed."""
    return RawValue(client.data_converter.payload_converter.to_payload(value))


async def _acked(call: Awaitable[object]) -> CommandAck:
    """The answer of an update. (The SDK types an ``async`` update declared with options as returning its
    coroutine; what arrives is the ``CommandAck`` the workflow returned.)"""
    ack = await call
    assert isinstance(ack, CommandAck), type(ack)
    return ack


def _case_search_attributes(case_number: str) -> TypedSearchAttributes:
    return TypedSearchAttributes([
        SearchAttributePair(sa.CASE_NUMBER, case_number),
        SearchAttributePair(sa.CASE_STATE, CaseState.RECEIVED.value),
    ])


def _case(client: Client, case_number: str) -> WorkflowHandle[CaseWorkflow, object]:
    return client.get_workflow_handle_for(CaseWorkflow.run, case_workflow_id(case_number))


def _matter(client: Client, case_number: str, matter: MatterCode) -> WorkflowHandle[MatterWorkflow, object]:
    return client.get_workflow_handle_for(MatterWorkflow.run, matter_workflow_id(case_number, matter))


# --- intake ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    """What became of one case number: running, or closed with or without anything for the family."""

    case_number: str
    running: bool
    reapplicable: bool = False
    cremation: CremationRecord | None = None
    # 户口注销's certificate, when this case approved it (or carried it over from an earlier one).
    hukou_certificate_no: str | None = None
    state: CaseState | None = None
    # Each matter's state as the engine or the register last showed it.
    matters: dict[MatterCode, MatterState] | None = None


@dataclass(frozen=True)
class Chain:
    """The cases of one deceased, first to last, as far as they exist."""

    cases: tuple[Standing, ...]

    @property
    def hukou(self) -> CarriedHukou | None:
        """户口注销 as the first case that approved it has it: what a later case carries over."""
        for standing in self.cases:
            if standing.hukou_certificate_no:
                return CarriedHukou(case_number=standing.case_number, certificate_no=standing.hukou_certificate_no)
        return None


async def start_case(
    client: Client, application: Application, case_id_key: bytes, task_queue: str, *, register: Engine | None = None
) -> Started:
    """Start the case for the deceased.

    A second application is refused with the existing case number while that case runs or after it brought
    the family something. After a case that ended with nothing for the family (户口注销 rejected, withdrawn
    before any approval, closed without an application) a new one is accepted under the next number
    (``SH-…-2``), linked to the earlier case. ``register`` lets the check see cases the engine has forgotten.
    """
    number, previous, chain = await _next_number(client, application.deceased.id_number, case_id_key, register)
    # 户口注销 approved in an earlier case is not asked of the police again: its certificate carries over.
    hukou = chain.hukou
    if previous is not None and previous.running:
        # The funeral home opened the case first; the application completes it.
        return await _submit_to(client, number, application, hukou)
    try:
        await client.start_workflow(
            CaseWorkflow.run,
            CaseInput(case_number=number, application=application,
                      previous_case=previous.case_number if previous else None,
                      cremation=previous.cremation if previous else None, hukou_carried=hukou),
            id=case_workflow_id(number),
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            search_attributes=_case_search_attributes(number),
        )
    except WorkflowAlreadyStartedError:
        # Started a moment ago by someone else (the funeral home, or a second click).
        return await _submit_to(client, number, application, hukou)
    return Started(number)


async def _next_number(
    client: Client, deceased_id: str, case_id_key: bytes, register: Engine | None
) -> tuple[str, Standing | None, Chain]:
    """The case number an application for this deceased goes to, the case before it (running when the
    application completes a case the funeral home opened), and the cases so far."""
    previous: Standing | None = None
    seen: list[Standing] = []
    # A case that brought the family something: the deceased's application is made (matters are added to it,
    # `shenhou case add-matters`); the refusal names the last such case, or the running one after it.
    delivered_by: str | None = None
    for attempt in range(1, MAX_ATTEMPT + 1):
        number = case_number_for(deceased_id, case_id_key, attempt)
        standing = await _standing(client, number, register)
        if standing is None:
            if delivered_by is not None:
                raise _duplicate(delivered_by)
            return number, previous, Chain(tuple(seen))
        seen.append(standing)
        if standing.running:
            return number, standing, Chain(tuple(seen))
        if not standing.reapplicable:
            delivered_by = number
        previous = standing
    raise DuplicateCase(f"该逝者已重新申请{MAX_ATTEMPT}次，请到窗口人工处理", case_number=numbered(
        case_number_for(deceased_id, case_id_key), MAX_ATTEMPT))


async def _standing(client: Client, case_number: str, register: Engine | None) -> Standing | None:
    description = await _describe(client, case_workflow_id(case_number))
    if description is not None:
        if description.status == WorkflowExecutionStatus.RUNNING:
            return Standing(case_number, running=True)
        state = description.typed_search_attributes.get(sa.CASE_STATE)
        snapshot = await _closed_status(client, case_number)
        if snapshot is not None:
            states = {view.code: view.state for view in snapshot.matters}
            hukou = next((view for view in snapshot.matters if view.code == MatterCode.HUKOU_CANCELLATION), None)
            return Standing(case_number, running=False, reapplicable=not delivered(states),
                            cremation=snapshot.cremation, state=snapshot.case_state, matters=states,
                            hukou_certificate_no=hukou.certificate_no
                            if hukou is not None and hukou.state == MatterState.APPROVED else None)
        if state in (CaseState.HUKOU_REJECTED, CaseState.REFUSED):
            return Standing(case_number, running=False, reapplicable=True, state=CaseState(state))
    recorded = recorded_case(register, case_number) if register is not None else None
    if recorded is not None:
        return Standing(case_number, running=not recorded.closed,
                        reapplicable=recorded.closed and not recorded.delivered, state=recorded.state,
                        hukou_certificate_no=recorded.hukou_certificate_no, matters=recorded.matters)
    if description is not None:
        # Closed, and neither the engine's answer nor the register tells what it brought: be safe.
        return Standing(case_number, running=False)
    return None


async def _closed_status(client: Client, case_number: str) -> StatusSnapshot | None:
    try:
        return await case_status(client, case_number)
    except (NotFound, RPCError, WorkflowQueryFailedError):
        return None


async def _submit_to(
    client: Client, case_number: str, application: Application, hukou: CarriedHukou | None = None
) -> Started:
    try:
        await _case(client, case_number).execute_update(
            CaseWorkflow.submit_application,
            _raw(client, CaseInput(case_number=case_number, application=application, hukou_carried=hukou))
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


async def chain_of(client: Client, case_number: str, register: Engine | None) -> Chain:
    """Every case of the deceased whose case number is ``case_number`` (any of them), first to last."""
    first = "-".join(case_number.split("-")[:2])
    seen: list[Standing] = []
    for attempt in range(1, MAX_ATTEMPT + 1):
        standing = await _standing(client, numbered(first, attempt), register)
        if standing is None:
            break
        seen.append(standing)
    return Chain(tuple(seen))


async def add_matters(
    client: Client, case_number: str, addition: MattersAdded, signer: StatementSigner
) -> CommandAck:
    """Matters added to the running case, on the signature of the window (or the portal, for a signed-in
    applicant's online matters); refused with every reason at once."""
    signed = sign_statement(signer, case_number, None, addition.model_copy(update={"issuer": signer.issuer}))
    return await _case_update(
        client, case_number, "追加事项",
        _case(client, case_number).execute_update(CaseWorkflow.add_matters, _raw(client, signed)),
    )


async def is_running(client: Client, case_number: str) -> bool:
    description = await _describe(client, case_workflow_id(case_number))
    return description is not None and description.status == WorkflowExecutionStatus.RUNNING


async def start_added_case(
    client: Client, case_number: str, application: Application, earlier: Chain, task_queue: str,
    addition: MattersAdded,
) -> Started:
    """After the last case of the deceased closed, its added matters run in a new case linked to it: 户口注销
    and the cremation certificate carry over from the earlier cases."""
    last = earlier.cases[-1]
    cremation = next((standing.cremation for standing in reversed(earlier.cases) if standing.cremation), None)
    try:
        await client.start_workflow(
            CaseWorkflow.run,
            CaseInput(case_number=case_number, application=application, previous_case=last.case_number,
                      added_to=last.case_number, cremation=cremation, hukou_carried=earlier.hukou,
                      addition=addition),
            id=case_workflow_id(case_number),
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            search_attributes=_case_search_attributes(case_number),
        )
    except WorkflowAlreadyStartedError as err:
        raise _duplicate(case_number) from err
    return Started(case_number)


# --- commands on a case ----------------------------------------------------------------------------------


async def certify_cremation(
    client: Client, case_number: str, certificate: CremationCertifiedInput, task_queue: str, *, must_exist: bool
) -> CommandAck:
    """The funeral home's certificate for the case ``case_number``. Unless ``must_exist`` (a clerk typed the
    number: a typo must not open a case), it opens the case when the family has not applied yet."""
    if must_exist:
        return await _case_update(
            client, case_number, "上传火化证明",
            _case(client, case_number).execute_update(CaseWorkflow.certify_cremation, _raw(client, certificate)),
        )
    start = WithStartWorkflowOperation(
        CaseWorkflow.run,
        CaseInput(case_number=case_number, application=None),
        id=case_workflow_id(case_number),
        task_queue=task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        search_attributes=_case_search_attributes(case_number),
    )
    try:
        return await _case_update(
            client, case_number, "上传火化证明",
            client.execute_update_with_start_workflow(CaseWorkflow.certify_cremation, _raw(client, certificate),
                                                      start_workflow_operation=start),
        )
    except WorkflowAlreadyStartedError as err:
        raise OperationRefused(f"案件{case_number}已结束，不能再上传火化证明", case_number=case_number) from err


async def certify_cremation_for(
    client: Client, deceased_id: str, case_id_key: bytes, certificate: CremationCertifiedInput, task_queue: str,
    *, register: Engine | None = None, opened: Callable[[str], None] | None = None,
) -> CommandAck:
    """The funeral home's certificate by the deceased's identity number: to the running case, or opening
    the case the family's application will complete. ``opened`` is told the case number when this
    certificate opened the deceased's first case (the family's invitation, register/contacts.py): not when
    it went to a case already running, nor to a new one after an earlier case for the same deceased."""
    try:
        number, previous, _ = await _next_number(client, deceased_id, case_id_key, register)
    except DuplicateCase as done:
        raise OperationRefused(f"案件{done.case_number}已结束，不能再上传火化证明",
                               case_number=done.case_number) from None
    try:
        ack = await certify_cremation(client, number, certificate, task_queue, must_exist=False)
    except OperationRefused:
        # The same certificate sent again: the first attempt may have ended (a crash, a lost answer) between
        # opening the case and writing the invitation. The invitation is written once, now if not then.
        if opened is not None and _first_case(previous, number) and await _holds(client, number, certificate):
            opened(number)
        raise
    if opened is not None and previous is None and ack.accepted:
        opened(number)
    return ack


def _first_case(previous: Standing | None, number: str) -> bool:
    """The deceased's first case: none before it, or it is the running one itself."""
    return previous is None or (previous.running and previous.case_number == number)


async def _holds(client: Client, case_number: str, certificate: CremationCertifiedInput) -> bool:
    """Whether the case holds exactly this certificate (so a refusal of it was a retry of the one that opened
    the case) and waits for the family's application."""
    try:
        snap = await case_status(client, case_number)
    except (NotFound, OperationRefused):
        return False
    held = snap.cremation
    return (snap.deceased is None and held is not None and held.certificate_no == certificate.certificate_no
            and held.funeral_home == certificate.funeral_home)


async def withdraw(
    client: Client, case_number: str, withdrawal: WithdrawInput, window: StatementSigner
) -> CommandAck:
    """The applicant withdraws the case at the window: undecided matters stop, approved money is still paid.
    The window signs the withdrawal; the case and each matter act only on that signature."""
    signed = sign_statement(window, case_number, None, withdrawal)
    return await _case_update(
        client, case_number, "撤回",
        _case(client, case_number).execute_update(CaseWorkflow.withdraw_application, _raw(client, signed)),
    )


async def correct_bank_account(
    client: Client, case_number: str, correction: PayeeCorrectedInput, window: StatementSigner
) -> CommandAck:
    """A corrected payee account after failed payments, given at the window; they are instructed again.

    The window signs the correction for exactly the payments that failed now (their references, read from the
    matters themselves), so it counts once, for those payments, and nowhere else.
    """
    if not correction.references:
        references = await failed_payments(client, case_number)
        if not references:
            raise OperationRefused(f"更正收款账户未被接受：{messages.NO_FAILED_PAYMENT}", case_number=case_number)
        correction = correction.model_copy(update={"references": references})
    signed = sign_statement(window, case_number, None, correction)
    # A matter tells its case of a failed payment by a signal that may still be on its way when the window
    # (reading the matters) sends the correction: the case is given a few seconds to hear of it.
    return await _retrying(
        lambda: _case_update(
            client, case_number, "更正收款账户",
            _case(client, case_number).execute_update(CaseWorkflow.correct_bank_account, _raw(client, signed)),
        ),
        lambda err: isinstance(err, OperationRefused) and err.message.endswith(messages.NO_FAILED_PAYMENT),
        within=CASE_CATCH_UP_S, pause=0.2,
    )


async def prove_relationship(
    client: Client, case_number: str, proven: PayeeProvenInput, window: StatementSigner
) -> CommandAck:
    """The window has checked the applicant's relationship proof: money that waits for it is instructed. The
    window signs the record for this case, so only the window's word moves that money."""
    signed = sign_statement(window, case_number, None, proven)
    return await _case_update(
        client, case_number, "核验亲属关系证明",
        _case(client, case_number).execute_update(CaseWorkflow.prove_relationship, _raw(client, signed)),
    )


async def failed_payments(client: Client, case_number: str) -> tuple[str, ...]:
    """The references of the case's payments that failed and wait for a corrected account."""
    status = await case_status(client, case_number)
    return tuple(payment_key(view.code, view.payment_reference, view.payment_attempt) for view in status.matters
                 if view.state == MatterState.PAYMENT_FAILED)


async def report_payment(
    client: Client, case_number: str, matter: MatterCode, report: PaymentConfirmedInput | PaymentFailedInput,
    paying_system: StatementSigner,
) -> CommandAck:
    """The paying system's report on one payment, signed with its key (the CLI stands in for it in the embedded
    default): only a signed report moves a matter to 已发放 or 发放失败."""
    signed = sign_statement(paying_system, case_number, matter, report)
    if isinstance(signed, PaymentConfirmedInput):
        command = DecisionCommand(kind=DecisionKind.PAYMENT_CONFIRMED, payment_confirmed=signed)
    else:
        command = DecisionCommand(kind=DecisionKind.PAYMENT_FAILED, payment_failed=signed)
    return await decide(client, case_number, matter, command)


async def _case_update(client: Client, case_number: str, action: str, call: Awaitable[object]) -> CommandAck:
    try:
        return await _acked(call)
    except WorkflowUpdateFailedError as err:
        raise OperationRefused(f"{action}未被接受：{_update_reason(err)}", case_number=case_number) from err
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        raise await _closed_or_missing(client, case_workflow_id(case_number), case_number, action) from err


# --- decisions on a matter ----------------------------------------------------------------------------------


async def decide(client: Client, case_number: str, matter: MatterCode, command: DecisionCommand) -> CommandAck:
    """An officer's decision (or the window's 补正 registration) on one matter, answered at once."""
    try:
        handle = _matter(client, case_number, matter)
        return await _acked(handle.execute_update(MatterWorkflow.decide, _raw(client, command)))
    except WorkflowUpdateFailedError as err:
        raise OperationRefused(f"决定未受理：{_update_reason(err)}", case_number=case_number) from err
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        workflow_id = matter_workflow_id(case_number, matter)
        description = await _describe(client, workflow_id)
        if description is None:
            raise NotFound(f"案件{case_number}的事项{matter.value}尚未推送或不存在", case_number=case_number) from err
        state = description.typed_search_attributes.get(sa.MATTER_STATE) or "已结束"
        raise OperationRefused(f"决定未受理：事项已办结（{state}），不能再作决定", case_number=case_number) from err


async def supplement(client: Client, case_number: str, supplement: MaterialsSupplementedInput) -> CommandAck:
    """The family brought the materials a department asked for: the matter's clock restarts."""
    command = DecisionCommand(kind=DecisionKind.MATERIALS_SUPPLEMENTED, materials_supplemented=supplement)
    try:
        ack = await decide(client, case_number, supplement.matter, command)
    except OperationRefused as refused:
        raise OperationRefused(refused.message.replace("决定未受理", "补正未受理", 1),
                               case_number=case_number) from refused
    return CommandAck(accepted=True, state=ack.state, message="补正材料已登记，恢复计时")


def _update_reason(err: WorkflowUpdateFailedError) -> str:
    cause = err.cause
    if isinstance(cause, ApplicationError):
        return cause.message
    return str(cause) if cause else "工作流拒绝了该操作"


# --- the whole status of a case ---------------------------------------------------------------------------


async def case_status(client: Client, case_number: str) -> StatusSnapshot:
    """The case's own status with each started matter's live status in place of the case's summary:
    every matter's state, deadline, decisions and payment, and one timeline of the case and its matters."""
    try:
        case = await _settled(lambda: _case(client, case_number).query(CaseWorkflow.status))
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise NotFound(f"未找到受理编号{case_number}的案件", case_number=case_number) from err
        raise
    started = [view for view in case.matters if view.state not in (MatterState.PENDING_PUSH, MatterState.NOT_PUSHED)]
    live = await asyncio.gather(*(_matter_status(client, case_number, view.code) for view in started))
    views = {view.code: view for view in case.matters}
    timeline: list[TimelineEntry] = list(case.timeline)
    refused: list[RefusedAction] = list(case.refused_actions)
    for snapshot in live:
        if snapshot is None:
            continue
        for view in snapshot.matters:
            views[view.code] = view
        timeline.extend(snapshot.timeline)
        refused.extend(snapshot.refused_actions)
    return case.model_copy(update={
        "matters": tuple(views[view.code] for view in case.matters),
        "timeline": tuple(sorted(timeline, key=lambda entry: entry.at)),
        "refused_actions": tuple(sorted(refused, key=lambda action: action.at)),
    })


async def matter_status(client: Client, case_number: str, matter: MatterCode) -> MatterView:
    snapshot = await _matter_status(client, case_number, matter)
    if snapshot is None or not snapshot.matters:
        raise NotFound(f"案件{case_number}的事项{matter.value}尚未推送或不存在", case_number=case_number)
    return snapshot.matters[0]


async def _matter_status(client: Client, case_number: str, matter: MatterCode) -> StatusSnapshot | None:
    """A matter's own status; None once the engine no longer has it (the case's summary stands)."""
    try:
        return await _settled(lambda: _matter(client, case_number, matter).query(MatterWorkflow.status))
    except WorkflowQueryFailedError:
        return None
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return None
        raise


# --- helpers -----------------------------------------------------------------------------------------


T = TypeVar("T")
# How long a status waits for a workflow task the engine turned down (a continue-as-new that met new signals)
# to be taken again: the engine answers no query meanwhile.
SETTLE_S = 5.0


async def _settled(query: Callable[[], Awaitable[T]]) -> T:
    return await _retrying(
        query, lambda err: isinstance(err, RPCError) and err.status == RPCStatusCode.FAILED_PRECONDITION,
        within=SETTLE_S, pause=0.1,
    )


async def _retrying(
    call: Callable[[], Awaitable[T]], again: Callable[[Exception], bool], *, within: float, pause: float
) -> T:
    """``call``, again after ``pause`` while it fails in a way ``again`` accepts, for at most ``within`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        try:
            return await call()
        except Exception as err:
            if not again(err) or loop.time() > deadline:
                raise
        await asyncio.sleep(pause)


async def _describe(client: Client, workflow_id: str) -> WorkflowExecutionDescription | None:
    try:
        return await client.get_workflow_handle(workflow_id).describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return None
        raise


async def _closed_or_missing(client: Client, workflow_id: str, case_number: str, action: str) -> OperationRefused:
    description = await _describe(client, workflow_id)
    if description is None:
        return NotFound(f"未找到受理编号{case_number}的案件", case_number=case_number)
    if description.status == WorkflowExecutionStatus.RUNNING:
        return OperationRefused(f"案件{case_number}暂时无法{action}，请稍后重试", case_number=case_number)
    state = description.typed_search_attributes.get(sa.CASE_STATE) or "已结束"
    return OperationRefused(f"案件{case_number}已关闭（{state}），不能再{action}", case_number=case_number)


__all__ = [
    "DuplicateCase",
    "NotFound",
    "OperationRefused",
    "Started",
    "case_status",
    "certify_cremation",
    "certify_cremation_for",
    "correct_bank_account",
    "decide",
    "matter_status",
    "start_case",
    "supplement",
    "withdraw",
]
