"""What is done stays done: a re-application never repeats a matter an earlier case approved. 户口注销 above all:
its certificate carries over, the police receive nothing new, and the new case's timeline says so. And the family's
message when 户口注销 is approved says what is true at that moment."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio.client import Client
from temporalio.worker import Worker

from client.operations import certify_cremation, certify_cremation_for, start_case, withdraw
from domain import messages
from domain.enums import CaseState, MatterCode, MatterState, PensionStatus
from domain.ids import matter_workflow_id
from domain.models import CremationCertifiedInput, WithdrawInput
from register.tables import InboxRow, MatterRow, OutboxRow
from runtime.keys import Keys
from tests.signing import WINDOW
from tests.workflows import timeskip as ts
from tests.workflows.helpers import (
    HUKOU,
    application_with,
    approve,
    approve_hukou,
    case_handle,
    exists,
    family_messages,
    inbox_rows,
    view_of,
    wait_for,
)

NHSA = MatterCode.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT
RESIDENT = MatterCode.RESIDENT_PENSION_FUNERAL_SUBSIDY
CREMATION = CremationCertifiedInput(certificate_no="HH-7", funeral_home="固阳县殡仪馆", cremated_on="2026-11-20")


def family_texts(engine: Engine, case_number: str, kind: str) -> list[str]:
    with Session(engine) as session:
        rows = session.exec(select(OutboxRow).where(OutboxRow.case_number == case_number,
                                                    OutboxRow.recipient == "family", OutboxRow.kind == kind)).all()
    return [row.message for row in rows]


def matter_rows(engine: Engine, case_number: str) -> dict[str, MatterRow]:
    with Session(engine) as session:
        rows = session.exec(select(MatterRow).where(MatterRow.case_number == case_number)).all()
    return {row.matter: row for row in rows}


def police_items(engine: Engine) -> list[InboxRow]:
    with Session(engine) as session:
        return list(session.exec(select(InboxRow).where(InboxRow.department == "police")).all())


async def test_a_reapplication_after_a_withdrawal_whose_hukou_was_approved_does_not_push_hukou_again(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker
) -> None:
    app = application_with(PensionStatus.RESIDENT_PENSIONER, NHSA)
    first = await start_case(client, app, keys.case_id_key, task_queue, register=engine)
    handle = case_handle(client, first.case_number)
    # 户口注销 approved; the other matters wait for the cremation certificate, and the family is told just that.
    await approve_hukou(client, handle)
    await wait_for(handle, lambda s: s.case_state == CaseState.AWAITING_CREMATION)
    await ts.registered(lambda: bool(family_texts(engine, first.case_number, "hukou_cancelled")))
    assert family_texts(engine, first.case_number, "hukou_cancelled") == [
        messages.hukou_cancelled(first.case_number, 2, awaiting_cremation=True)]
    assert "待殡仪馆上传火化证明后推送" in family_texts(engine, first.case_number, "hukou_cancelled")[0]
    # The family withdraws before anything else was decided: nothing reached it but 户口注销.
    await withdraw(client, first.case_number, WithdrawInput(clerk="窗口李", reason="家属暂缓办理"), WINDOW)
    assert (await handle.result()).state == CaseState.WITHDRAWN
    assert len(police_items(engine)) == 1

    again = await start_case(client, app, keys.case_id_key, task_queue, register=engine)
    assert again.case_number == f"{first.case_number}-2"
    second = case_handle(client, again.case_number)
    snap = await wait_for(second, lambda s: s.case_state == CaseState.AWAITING_CREMATION)
    hukou = view_of(snap, HUKOU)
    assert hukou.state == MatterState.APPROVED and hukou.certificate_no == "ZX-0001"
    assert snap.hukou_certificate_no == "ZX-0001" and snap.previous_case == first.case_number
    events = [entry.event for entry in snap.timeline]
    assert messages.hukou_carried(first.case_number, "ZX-0001") in events
    assert "户口注销事项推送派出所" not in events
    # The police received nothing new: no matter of the new case's own, no work item.
    assert not await exists(client, matter_workflow_id(again.case_number, HUKOU))

    # The cremation certificate comes: the other matters go out with the earlier certificate.
    await certify_cremation(client, again.case_number, CREMATION, task_queue, must_exist=True)
    snap = await wait_for(second, lambda s: all(
        view_of(s, code).state == MatterState.UNDER_REVIEW for code in (NHSA, RESIDENT)))
    await ts.registered(lambda: set(inbox_rows(engine, again.case_number)) == {NHSA.value, RESIDENT.value})
    inbox = inbox_rows(engine, again.case_number)
    assert {row.hukou_certificate_no for row in inbox.values()} == {"ZX-0001"}
    assert len(police_items(engine)) == 1
    for code in (NHSA, RESIDENT):
        await approve(client, again.case_number, view_of(snap, code))
    result = await second.result()
    assert result.state == CaseState.COMPLETED
    assert {m.matter: m.state for m in result.matters}[HUKOU] == MatterState.APPROVED
    # The register: the new case's matters are its own two; 户口注销's row is the earlier case's.
    assert set(matter_rows(engine, again.case_number)) == {NHSA.value, RESIDENT.value}
    assert matter_rows(engine, first.case_number)[HUKOU.value].state == MatterState.APPROVED.value
    # The family heard of the pushed matters when they went out, never of a second 户口注销.
    kinds = [kind for kind, _ in family_messages(engine, again.case_number)]
    assert "hukou_cancelled" not in kinds and "matters_pushed" in kinds
    assert family_texts(engine, again.case_number, "matters_pushed") == [
        messages.matters_pushed(again.case_number, 2)]


async def test_the_hukou_message_says_what_is_true(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker
) -> None:
    """Only 户口注销 applied for: the family is told there is nothing else, not that something was pushed. With the
    cremation certificate already in, the others are pushed at once and the message says so."""
    only = await start_case(client, application_with(PensionStatus.NONE), keys.case_id_key, task_queue,
                            register=engine)
    handle = case_handle(client, only.case_number)
    await approve_hukou(client, handle)
    assert (await handle.result()).state == CaseState.COMPLETED
    await ts.registered(lambda: bool(family_texts(engine, only.case_number, "hukou_cancelled")))
    text = family_texts(engine, only.case_number, "hukou_cancelled")[0]
    assert text == messages.hukou_cancelled(only.case_number, 0)
    assert "推送" not in text and "无其他事项" in text

    both = await start_case(client, application_with(PensionStatus.RESIDENT_PENSIONER, NHSA), keys.case_id_key,
                            task_queue, register=engine)
    handle = case_handle(client, both.case_number)
    await certify_cremation(client, both.case_number, CREMATION, task_queue, must_exist=True)
    await wait_for(handle, lambda s: s.cremation is not None)
    await approve_hukou(client, handle)
    await wait_for(handle, lambda s: view_of(s, NHSA).state == MatterState.UNDER_REVIEW)
    await ts.registered(lambda: bool(family_texts(engine, both.case_number, "hukou_cancelled")))
    assert family_texts(engine, both.case_number, "hukou_cancelled") == [
        messages.hukou_cancelled(both.case_number, 2)]
    assert "其余2项事项已同步推送" in family_texts(engine, both.case_number, "hukou_cancelled")[0]
    assert family_texts(engine, both.case_number, "matters_pushed") == []


async def test_a_case_the_funeral_home_opens_after_such_a_withdrawal_carries_hukou_over_too(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker
) -> None:
    """The funeral home certifies by the deceased's identity number after the withdrawal; the family's new
    application completes that case, which takes 户口注销's certificate over as well."""
    app = application_with(PensionStatus.RESIDENT_PENSIONER)
    first = await start_case(client, app, keys.case_id_key, task_queue, register=engine)
    handle = case_handle(client, first.case_number)
    await approve_hukou(client, handle)
    await wait_for(handle, lambda s: s.case_state == CaseState.AWAITING_CREMATION)
    await withdraw(client, first.case_number, WithdrawInput(clerk="窗口李", reason="家属暂缓办理"), WINDOW)
    assert (await handle.result()).state == CaseState.WITHDRAWN

    await certify_cremation_for(client, app.deceased.id_number, keys.case_id_key, CREMATION, task_queue,
                                register=engine)
    opened = case_handle(client, f"{first.case_number}-2")
    await wait_for(opened, lambda s: s.cremation is not None)
    again = await start_case(client, app, keys.case_id_key, task_queue, register=engine)
    assert again.case_number == f"{first.case_number}-2"
    snap = await wait_for(opened, lambda s: view_of(s, RESIDENT).state == MatterState.UNDER_REVIEW)
    assert view_of(snap, HUKOU).state == MatterState.APPROVED and snap.hukou_certificate_no == "ZX-0001"
    assert not await exists(client, matter_workflow_id(again.case_number, HUKOU))
    assert len(police_items(engine)) == 1
