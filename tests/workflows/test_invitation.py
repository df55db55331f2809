"""The funeral home's invitation (issue 25): when its cremation certificate opens a case, the family is invited
once, by SMS to the number the funeral home recorded with the family's consent; a second opening sends none."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import Session
from temporalio.client import Client
from temporalio.worker import Worker

from client.errors import OperationRefused
from client.operations import certify_cremation_for, start_case
from client.worklist import waiting_for_application
from domain.enums import CaseState, NotificationKind, PensionStatus
from domain.models import CremationCertifiedInput
from domain.policy import Policy
from notify.channels import FileChannel, delivered_lines
from notify.dispatcher import DispatchConfig, Dispatcher
from register.sealing import Sealer
from register.tables import FamilyContactRow
from runtime.keys import Keys
from starter.window import invitation, invitation_problems
from tests.workflows.helpers import application_with, case_handle, outbox_rows, wait_for

PHONE = "13912345678"
HOME = "固阳县殡仪馆"


def _certificate(number: str = "HH-INV-1") -> CremationCertifiedInput:
    return CremationCertifiedInput(certificate_no=number, funeral_home=HOME, cremated_on=date(2026, 11, 20))


async def _waiting(client: Client, case: str, expected: bool) -> None:
    """The window's 待申请 list (visibility catches up within moments)."""
    for _ in range(100):
        if any(found.case_number == case for found in await waiting_for_application(client)) == expected:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{case} {'not ' if expected else ''}in the 待申请 list")


def _invitations(engine: Engine, case: str) -> list[str]:
    return [row.message for row in outbox_rows(engine, case, "family") if row.kind == NotificationKind.INVITATION.value]


async def test_the_funeral_home_opening_invites_the_family_once(
    client: Client, keys: Keys, task_queue: str, engine: Engine, sealer: Sealer, worker: Worker, tmp_path: Path
) -> None:
    app = application_with(PensionStatus.RESIDENT_PENSIONER)
    invite = invitation(engine, PHONE, HOME, Policy(), sealer)
    ack = await certify_cremation_for(client, app.deceased.id_number, keys.case_id_key, _certificate(), task_queue,
                                      register=engine, opened=invite)
    case = ack.message.removeprefix("火化证明已登记，受理编号")
    snap = await wait_for(case_handle(client, case), lambda s: s.cremation is not None)
    assert snap.case_state == CaseState.RECEIVED and snap.deceased is None
    # The window sees the case waiting for the family's application.
    await _waiting(client, case, expected=True)

    [message] = _invitations(engine, case)
    assert case in message and "窗口" in message and "在网上" in message and PHONE not in message
    # The number is sealed in the register, not stored in clear, and never reaches Temporal.
    with Session(engine) as session:
        contact = session.get(FamilyContactRow, case)
        assert contact is not None and PHONE not in contact.phone
    history = await case_handle(client, case).fetch_history()
    assert PHONE not in history.to_json()

    # The dispatcher (stand-in file) sends it once, to the funeral home's number, with the portal's address.
    sms = tmp_path / "sms.jsonl"
    config = DispatchConfig(portal_url="https://portal.example.gov.cn")
    for _ in range(2):
        await Dispatcher(engine, FileChannel(sms), Policy(), keys.query_code_key, sealer=sealer,
                         config=config).run_until_idle()
    sent = [line for line in delivered_lines(sms) if case in line["text"]]
    assert len(sent) == 1 and sent[0]["to"] == PHONE
    assert "https://portal.example.gov.cn" in sent[0]["text"]
    # Nowhere in the register in clear, after sending either (every column of every table, read as text).
    with engine.connect() as connection:
        for table in inspect(engine).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                assert PHONE not in " ".join(str(value) for value in row), table

    # A second opening for the same deceased goes to the same case and sends none.
    with pytest.raises(OperationRefused):
        await certify_cremation_for(client, app.deceased.id_number, keys.case_id_key, _certificate("HH-INV-2"),
                                    task_queue, register=engine, opened=invite)
    invite(case)  # even a retried write of the same invitation adds nothing
    assert len(_invitations(engine, case)) == 1

    # The family applies: the case goes on, and no second invitation follows.
    started = await start_case(client, app, keys.case_id_key, task_queue)
    assert started.case_number == case
    await wait_for(case_handle(client, case), lambda s: s.case_state == CaseState.HUKOU_CANCELLING)
    assert len(_invitations(engine, case)) == 1
    await _waiting(client, case, expected=False)


async def test_an_invitation_not_yet_sent_when_the_family_applies_is_not_sent(
    client: Client, keys: Keys, task_queue: str, engine: Engine, sealer: Sealer, worker: Worker, tmp_path: Path
) -> None:
    app = application_with(PensionStatus.RESIDENT_PENSIONER)
    ack = await certify_cremation_for(client, app.deceased.id_number, keys.case_id_key, _certificate(), task_queue,
                                      register=engine, opened=invitation(engine, PHONE, HOME, Policy(), sealer))
    case = ack.message.removeprefix("火化证明已登记，受理编号")
    await start_case(client, app, keys.case_id_key, task_queue)
    await wait_for(case_handle(client, case), lambda s: s.case_state == CaseState.HUKOU_CANCELLING)
    sms = tmp_path / "sms.jsonl"
    await Dispatcher(engine, FileChannel(sms), Policy(), keys.query_code_key, sealer=sealer).run_until_idle()
    [row] = [row for row in outbox_rows(engine, case, "family") if row.kind == NotificationKind.INVITATION.value]
    assert row.sent_at is None and row.failed_reason == "the family has already applied"
    assert not any("殡仪馆已为逝者" in line["text"] for line in delivered_lines(sms))


async def test_without_a_number_and_consent_no_invitation(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker
) -> None:
    app = application_with(PensionStatus.RESIDENT_PENSIONER)
    ack = await certify_cremation_for(client, app.deceased.id_number, keys.case_id_key, _certificate(), task_queue,
                                      register=engine)
    case = ack.message.removeprefix("火化证明已登记，受理编号")
    await wait_for(case_handle(client, case), lambda s: s.cremation is not None)
    assert _invitations(engine, case) == []


def test_a_number_without_consent_is_refused_with_every_problem_at_once() -> None:
    problems = invitation_problems(None, None, "12345", consent=False)
    assert any("受理编号或 --deceased-id" in p for p in problems)
    assert any("征得家属同意" in p for p in problems)
    assert any("不是有效的大陆手机号码" in p for p in problems)
    assert invitation_problems(None, "ID", PHONE, consent=True) == []
    assert invitation_problems(None, "ID", None, consent=True) == ["--consent 须与 --family-phone 一起使用"]


async def test_a_retry_after_a_crash_before_the_invitation_writes_it_once(
    client: Client, keys: Keys, task_queue: str, engine: Engine, sealer: Sealer, worker: Worker
) -> None:
    app = application_with(PensionStatus.RESIDENT_PENSIONER)
    # The first attempt opened the case and ended before writing the invitation (as a crash would leave it).
    ack = await certify_cremation_for(client, app.deceased.id_number, keys.case_id_key, _certificate("HH-INV-9"),
                                      task_queue, register=engine)
    case = ack.message.removeprefix("火化证明已登记，受理编号")
    await wait_for(case_handle(client, case), lambda s: s.cremation is not None)
    assert _invitations(engine, case) == []
    invite = invitation(engine, PHONE, HOME, Policy(), sealer)
    # The funeral home sends the same certificate again: it is already there, and now the family is invited.
    for _ in range(2):
        with pytest.raises(OperationRefused, match="火化证明已上传"):
            await certify_cremation_for(client, app.deceased.id_number, keys.case_id_key, _certificate("HH-INV-9"),
                                        task_queue, register=engine, opened=invite)
    assert len(_invitations(engine, case)) == 1
    # Another certificate for the same deceased is no retry: it invites nobody.
    other = application_with(PensionStatus.RESIDENT_PENSIONER)
    ack = await certify_cremation_for(client, other.deceased.id_number, keys.case_id_key, _certificate("HH-INV-10"),
                                      task_queue, register=engine)
    second = ack.message.removeprefix("火化证明已登记，受理编号")
    await wait_for(case_handle(client, second), lambda s: s.cremation is not None)
    with pytest.raises(OperationRefused, match="火化证明已上传"):
        await certify_cremation_for(client, other.deceased.id_number, keys.case_id_key, _certificate("HH-INV-11"),
                                    task_queue, register=engine, opened=invite)
    assert _invitations(engine, second) == []
