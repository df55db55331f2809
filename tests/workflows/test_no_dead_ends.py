"""No dead end for a family: a case that ended with nothing for the family lets it apply again, numbered on and
linked to the earlier case — after a withdrawal before any decision, and after a case the funeral home opened
was closed because nobody applied within the time allowed (不予受理)."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session
from temporalio.client import Client
from temporalio.worker import Worker

from client.errors import DuplicateCase
from client.operations import certify_cremation, start_case, withdraw
from domain.enums import CaseState, MatterCode, MatterState, PensionStatus
from domain.ids import case_number_for
from domain.models import CremationCertifiedInput, WithdrawInput
from domain.policy import Policy
from register.tables import CaseRow
from runtime.keys import Keys
from tests.signing import WINDOW
from tests.workflows import timeskip as ts
from tests.workflows.helpers import HUKOU, application_with, case_handle, view_of, wait_for

NHSA = MatterCode.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT
APPLICATION_TIMEOUT = Policy().waits.application_timeout


def case_row(engine: Engine, number: str) -> CaseRow | None:
    with Session(engine) as session:
        return session.get(CaseRow, number)


async def test_a_family_that_withdrew_before_any_decision_applies_again_and_is_linked(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker
) -> None:
    app = application_with(PensionStatus.RESIDENT_PENSIONER, NHSA)
    first = await start_case(client, app, keys.case_id_key, task_queue, register=engine)
    handle = case_handle(client, first.case_number)
    await wait_for(handle, lambda s: view_of(s, HUKOU).state == MatterState.UNDER_REVIEW)
    await withdraw(client, first.case_number, WithdrawInput(clerk="窗口李", reason="家属需先核对户籍资料"), WINDOW)
    result = await handle.result()
    assert result.state == CaseState.WITHDRAWN
    assert all(matter.state in (MatterState.WITHDRAWN, MatterState.NOT_PUSHED) for matter in result.matters)

    again = await start_case(client, app, keys.case_id_key, task_queue, register=engine)
    assert again.case_number == f"{first.case_number}-2"
    snap = await wait_for(case_handle(client, again.case_number),
                          lambda s: view_of(s, HUKOU).state == MatterState.UNDER_REVIEW)
    assert snap.previous_case == first.case_number
    received = [entry.event for entry in snap.timeline if entry.event.startswith("受理申请")]
    assert received == [f"受理申请，共{len(app.matters)}项事项（前次申请{first.case_number}未能办成，本次重新申请）"]
    await ts.registered(lambda: (row := case_row(engine, again.case_number)) is not None
                     and row.previous_case == first.case_number)
    # The new case runs: a further application is refused, naming it.
    try:
        await start_case(client, app, keys.case_id_key, task_queue, register=engine)
    except DuplicateCase as refused:
        assert refused.case_number == again.case_number
        assert refused.message == f"该逝者已有申请，受理编号{again.case_number}，不能重复申请"
    else:
        raise AssertionError("a third application was accepted while the second case runs")


async def test_after_a_funeral_home_case_closes_unapplied_the_family_can_still_apply(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker
) -> None:
    """The funeral home uploaded the certificate; nobody applied within 90 days, so the case closed as 不予受理.
    The family's late application is accepted under the next number and keeps the certificate."""
    assert APPLICATION_TIMEOUT == timedelta(days=90)
    app = application_with(PensionStatus.RESIDENT_PENSIONER)
    opened = case_number_for(app.deceased.id_number, keys.case_id_key)
    skipper = ts.time_skipper(client)
    await certify_cremation(
        skipper.client, opened,
        CremationCertifiedInput(certificate_no="HH-90", funeral_home="固阳县殡仪馆", cremated_on=date(2026, 11, 20)),
        task_queue, must_exist=False,
    )
    handle = case_handle(skipper.client, opened)
    await wait_for(handle, lambda s: s.cremation is not None)

    # A day short of the limit the case still waits for the family.
    await ts.advance(skipper, handle, APPLICATION_TIMEOUT - timedelta(days=1))
    waiting = await wait_for(handle, lambda s: s.case_state is not None)
    assert waiting.case_state == CaseState.RECEIVED and waiting.closed_at is None
    # Past it, the case closes without an application.
    closed_first = await asyncio.wait_for(skipper.fast_forward(handle, timedelta(days=2)), 30)
    assert not closed_first  # the case ended before the clock got there
    result = await handle.result()
    assert result.state == CaseState.REFUSED and result.matters == ()
    closed = await wait_for(handle, lambda s: s.closed_at is not None)
    assert any(entry.event == "火化证明已上传，但期限内未收到家属申请" for entry in closed.timeline)

    again = await start_case(client, app, keys.case_id_key, task_queue, register=engine)
    assert again.case_number == f"{opened}-2"
    snap = await wait_for(case_handle(client, again.case_number),
                          lambda s: view_of(s, HUKOU).state == MatterState.UNDER_REVIEW)
    assert snap.previous_case == opened
    assert snap.cremation is not None and snap.cremation.certificate_no == "HH-90"
    await ts.registered(
        lambda: (row := case_row(engine, again.case_number)) is not None and row.previous_case == opened)
