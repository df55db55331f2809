"""Helpers for driving cases the way users do: signals with typed JSON, the status query, and the register."""

from __future__ import annotations

import asyncio
import io
import itertools
import uuid
from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from rich.console import Console
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio.api.common.v1 import Payload, Payloads, WorkflowExecution
from temporalio.api.enums.v1 import EventType
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.api.workflowservice.v1 import SignalWorkflowExecutionRequest
from temporalio.client import Client, WorkflowExecutionDescription, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from client.errors import OperationRefused
from client.operations import case_status, correct_bank_account, start_case
from domain.application import validate_application
from domain.enums import MatterCode, MatterState, PensionStatus
from domain.ids import matter_workflow_id
from domain.models import (
    Application,
    CaseResult,
    MatterView,
    PayeeCorrectedInput,
    PaymentConfirmedInput,
    PaymentFailedInput,
    RefusedAction,
    StatusSnapshot,
    WithdrawInput,
)
from domain.policy import Policy
from register.money import to_yuan
from register.tables import InboxRow, OutboxRow, PaymentRow
from runtime.keys import Keys
from starter.render import status_renderables
from tests.factories import unique_form
from tests.signing import PAYING_SYSTEM, WINDOW, signed_payload

TODAY = date(2026, 11, 28)
_seeds = itertools.count(1000)

HUKOU = MatterCode.HUKOU_CANCELLATION


def application(**overrides: Any) -> Application:
    result = validate_application(unique_form(next(_seeds), **overrides), Policy(), TODAY)
    assert isinstance(result, Application), result
    return result


def application_for(pension: PensionStatus = PensionStatus.ENTERPRISE_RETIREE, **flags: bool) -> Application:
    """A window application with ``pension`` and every other situation on unless ``flags`` turns it off."""
    situations = {
        "pension_status": pension.value,
        "employee_medical_insurance": True,
        "social_assistance": True,
        "housing_provident_fund": True,
        "disability_subsidy": True,
        "preferential_care": True,
        **flags,
    }
    return application(situations=situations)


_FLAGS = {
    MatterCode.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT: "employee_medical_insurance",
    MatterCode.SOCIAL_ASSISTANCE_TERMINATION: "social_assistance",
    MatterCode.PROVIDENT_FUND_DEATH_WITHDRAWAL: "housing_provident_fund",
    MatterCode.DISABILITY_SUBSIDY_TERMINATION: "disability_subsidy",
    MatterCode.PREFERENTIAL_BENEFIT_TERMINATION: "preferential_care",
}


def application_with(pension: PensionStatus, *codes: MatterCode) -> Application:
    """A window application with ``pension`` and only the situations that select ``codes``."""
    return application_for(pension, **{flag: code in codes for code, flag in _FLAGS.items()})


async def start(
    client: Client, keys: Keys, task_queue: str, app: Application | None = None
) -> WorkflowHandle[Any, Any]:
    started = await start_case(client, app or application(), keys.case_id_key, task_queue)
    return client.get_workflow_handle(started.case_number, result_type=CaseResult)


def case_handle(client: Client, case_number: str) -> WorkflowHandle[Any, CaseResult]:
    return client.get_workflow_handle(case_number, result_type=CaseResult)


async def complete_parallel(client: Client, handle: WorkflowHandle[Any, Any]) -> CaseResult:
    """Approve every matter under review (money with its amount_for) once all are pushed; the case's result."""
    snap = await wait_for(handle, lambda s: all(
        view.state != MatterState.PENDING_PUSH for view in s.matters if view.code != HUKOU))
    for view in snap.matters:
        if view.code != HUKOU and view.state == MatterState.UNDER_REVIEW:
            await approve(client, handle.id, view)
    result: CaseResult = await handle.result()
    return result


async def status(handle: WorkflowHandle[Any, Any]) -> StatusSnapshot:
    """What staff see: a matter's own status, or a case's status assembled with its matters' (the CLI's)."""
    if "." in handle.id:
        snap: StatusSnapshot = await handle.query("status", result_type=StatusSnapshot)
        return snap
    return await case_status(_client_of(handle), handle.id)


def _client_of(handle: WorkflowHandle[Any, Any]) -> Client:
    # The SDK keeps the handle's client only privately; the tests' helpers take handles for brevity.
    client: Client = handle._client
    return client


async def wait_for(
    handle: WorkflowHandle[Any, Any], predicate: Callable[[StatusSnapshot], bool], timeout: float = 30
) -> StatusSnapshot:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    snap: StatusSnapshot | None = None
    while True:
        try:
            snap = await status(handle)
            if predicate(snap):
                return snap
        except Exception:
            if loop.time() > deadline:
                raise
        if loop.time() > deadline:
            shown = snap.model_dump_json(indent=1) if snap else "no status"
            raise AssertionError(f"condition not reached; last status: {shown}")
        await asyncio.sleep(0.05)


def rendered_status(snap: StatusSnapshot) -> str:
    """What `shenhou case status` prints for ``snap`` (starter/render.py), as text."""
    console = Console(width=400, record=True, file=io.StringIO())
    for renderable in status_renderables(snap, Policy()):
        console.print(renderable)
    return console.export_text()


def view_of(snap: StatusSnapshot, code: MatterCode) -> MatterView:
    for view in snap.matters:
        if view.code == code:
            return view
    raise AssertionError(f"{code} not in the case")


def matter_state(snap: StatusSnapshot, code: MatterCode) -> MatterState | None:
    for view in snap.matters:
        if view.code == code:
            return view.state
    return None


def parallel_codes(snap: StatusSnapshot) -> list[MatterCode]:
    return [view.code for view in snap.matters if view.code != HUKOU]


def all_parallel_under_review(snap: StatusSnapshot) -> bool:
    return all(view.state == MatterState.UNDER_REVIEW for view in snap.matters if view.code != HUKOU)


def matter_handle(client: Client, case_number: str, code: MatterCode) -> WorkflowHandle[Any, Any]:
    return client.get_workflow_handle(matter_workflow_id(case_number, code))


async def certify(handle: WorkflowHandle[Any, Any], cremated_on: str = "2026-11-20") -> None:
    await handle.signal("cremation_certified", {
        "certificate_no": "HH-2026-0001", "funeral_home": "固阳县殡仪馆", "cremated_on": cremated_on,
    })


async def approve_hukou(client: Client, handle: WorkflowHandle[Any, Any]) -> None:
    await wait_for(handle, lambda s: matter_state(s, HUKOU) == MatterState.UNDER_REVIEW)
    await matter_handle(client, handle.id, HUKOU).signal(
        "approve", {"officer": "王警官", "certificate_no": "ZX-0001"}
    )


async def to_parallel_phase(client: Client, handle: WorkflowHandle[Any, Any]) -> StatusSnapshot:
    """Certify the cremation, approve 户口注销, and wait until every other matter is under review."""
    await certify(handle)
    await approve_hukou(client, handle)
    return await wait_for(handle, all_parallel_under_review)


def amount_for(code: MatterCode) -> Decimal:
    """A distinct amount per matter, so a ledger row can only match its own matter."""
    return Decimal("1000.00") + Decimal(sorted(MatterCode).index(code)) * Decimal("111.11")


async def approve(
    client: Client, case_number: str, view: MatterView, officer: str = "李科员", *, confirm: bool = True
) -> Decimal | None:
    """Approve as the officer would (money with its ``amount_for``); then, unless ``confirm`` is off, confirm
    the transfer as the paying system would."""
    payload: dict[str, Any] = {"officer": officer}
    amount = amount_for(view.code) if view.pays_family else None
    if amount is not None:
        payload["amount"] = str(amount)
    matter = matter_handle(client, case_number, view.code)
    await matter.signal("approve", payload)
    if amount is not None and confirm:
        await confirm_payment(client, case_number, view.code)
    return amount


async def confirm_payment(client: Client, case_number: str, code: MatterCode, by: str = "工商银行代发系统") -> str:
    """The paying system's report that the transfer arrived, once the matter has instructed it."""
    matter = matter_handle(client, case_number, code)
    snap = await wait_for(matter, lambda s: s.matters[0].state == MatterState.PAYING)
    reference = snap.matters[0].payment_reference
    assert reference is not None
    await matter.signal("payment_confirmed", signed_payload(
        PAYING_SYSTEM, case_number, code, PaymentConfirmedInput(reference=reference, by=by)))
    # The signature is checked when the report's turn comes: the matter is 已发放 a moment later.
    await wait_for(matter, lambda s: s.matters[0].state != MatterState.PAYING)
    return reference


async def fail_payment(client: Client, case_number: str, code: MatterCode, reference: str | None,
                       reason: str, by: str = "工商银行代发系统") -> None:
    """The paying system's signed report that the transfer failed."""
    assert reference is not None
    await matter_handle(client, case_number, code).signal("payment_failed", signed_payload(
        PAYING_SYSTEM, case_number, code, PaymentFailedInput(reference=reference, by=by, reason=reason)))


async def correct_at_the_window(client: Client, case_number: str, correction: PayeeCorrectedInput) -> None:
    """The window's signed correction, tried until the case has heard of the failed payment (the matter tells
    its case in a task of its own, a moment after its state shows)."""

    async def corrected() -> bool:
        try:
            return (await correct_bank_account(client, case_number, correction, WINDOW)).accepted
        except OperationRefused as err:
            if "没有发放失败待重新发放的款项" not in str(err):
                raise
            return False

    deadline = asyncio.get_running_loop().time() + 20
    while not await corrected():
        assert asyncio.get_running_loop().time() < deadline, "the case never heard of the failed payment"
        await asyncio.sleep(0.1)


def window_withdrawal(case_number: str, clerk: str, reason: str) -> Any:
    """The window's signed withdrawal, as a signal's JSON (what `shenhou case withdraw` signs)."""
    return signed_payload(WINDOW, case_number, None, WithdrawInput(clerk=clerk, reason=reason))


async def exists(client: Client, workflow_id: str) -> bool:
    return await describe(client, workflow_id) is not None


async def describe(client: Client, workflow_id: str) -> WorkflowExecutionDescription | None:
    try:
        return await client.get_workflow_handle(workflow_id).describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return None
        raise


async def failed_workflow_tasks(handle: WorkflowHandle[Any, Any]) -> int:
    failed = 0
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
            failed += 1
    return failed


async def current_details(handle: WorkflowHandle[Any, Any]) -> str:
    """What the Temporal UI shows as the workflow's current details (the SDK's metadata query)."""
    metadata: WorkflowMetadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    return str(metadata.current_details)


_TRANSIENT = {RPCStatusCode.CANCELLED, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.UNAVAILABLE}


async def signal_raw(client: Client, workflow_id: str, signal: str, payloads: Iterable[Payload]) -> None:
    """A signal exactly as a tool outside this codebase sends it: unencrypted payloads, no converter.

    A busy 2-core machine sometimes cancels the call on the server's side; it is sent again with the same
    request id, which the server uses to record the signal once.
    """
    request = SignalWorkflowExecutionRequest(
        namespace=client.namespace,
        workflow_execution=WorkflowExecution(workflow_id=workflow_id),
        signal_name=signal,
        input=Payloads(payloads=list(payloads)),
        identity="tests",
        request_id=str(uuid.uuid4()),
    )
    for attempt in range(3):
        try:
            await client.workflow_service.signal_workflow_execution(request)
            return
        except RPCError as err:
            if err.status not in _TRANSIENT or attempt == 2:
                raise
            await asyncio.sleep(0.5)


def json_payload(data: bytes) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=data)


def refused(snap: StatusSnapshot) -> list[RefusedAction]:
    """Every refused action the status shows: the case's own and each matter's."""
    found = list(snap.refused_actions)
    for view in snap.matters:
        found.extend(r for r in view.refused_actions if r not in found)
    return found


# --- the register ------------------------------------------------------------------------------


def inbox_rows(engine: Engine, case_number: str) -> dict[str, InboxRow]:
    with Session(engine) as session:
        rows = session.exec(select(InboxRow).where(InboxRow.case_number == case_number)).all()
    return {row.matter: row for row in rows}


def payment_rows(engine: Engine, case_number: str) -> list[PaymentRow]:
    with Session(engine) as session:
        return list(session.exec(select(PaymentRow).where(PaymentRow.case_number == case_number)).all())


def ledger_amounts(engine: Engine, case_number: str) -> dict[str, Decimal]:
    """What the ledger instructed for each matter, in yuan."""
    return {row.matter: to_yuan(row.amount_fen) for row in payment_rows(engine, case_number)}


def outbox_rows(engine: Engine, case_number: str, recipient: str | None = None) -> list[OutboxRow]:
    with Session(engine) as session:
        query = select(OutboxRow).where(OutboxRow.case_number == case_number)
        if recipient is not None:
            query = query.where(OutboxRow.recipient == recipient)
        return list(session.exec(query.order_by(OutboxRow.id)).all())  # type: ignore[arg-type]


def family_messages(engine: Engine, case_number: str) -> list[tuple[str, str | None]]:
    """(kind, matter) of every message to the family, in the order they were queued."""
    return [(row.kind, row.matter) for row in outbox_rows(engine, case_number, "family")]
