"""户口注销 gates the case: no other matter reaches a department before it is done and the cremation
certificate is in, whichever arrives first — even when the funeral home is faster than the family."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from client.errors import DuplicateCase
from client.operations import certify_cremation, start_case
from domain.enums import CaseState, MatterCode, MatterState, PensionStatus
from domain.ids import case_number_for
from domain.models import CaseResult, CremationCertifiedInput
from runtime.keys import Keys
from tests.workflows.helpers import (
    HUKOU,
    all_parallel_under_review,
    application_with,
    approve_hukou,
    case_handle,
    certify,
    complete_parallel,
    exists,
    inbox_rows,
    matter_state,
    parallel_codes,
    start,
    status,
    view_of,
    wait_for,
    window_withdrawal,
)

M = MatterCode
HPF = M.PROVIDENT_FUND_DEATH_WITHDRAWAL
DPF = M.DISABILITY_SUBSIDY_TERMINATION
MCA = M.SOCIAL_ASSISTANCE_TERMINATION
NHSA = M.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT
VA = M.PREFERENTIAL_BENEFIT_TERMINATION


async def _assert_nothing_pushed(client: Client, engine: Engine, case: str, reason: str) -> None:
    snap = await status(case_handle(client, case))
    for code in parallel_codes(snap):
        assert not await exists(client, f"{case}.{code.value}"), f"{code} started {reason}"
        assert view_of(snap, code).state == MatterState.PENDING_PUSH, code
        assert view_of(snap, code).pushed_at is None
    assert set(inbox_rows(engine, case)) <= {HUKOU.value}, reason


async def _approve_parallel_and_complete(client: Client, handle: WorkflowHandle[Any, Any]) -> CaseResult:
    result = await complete_parallel(client, handle)
    assert result.state == CaseState.COMPLETED
    return result


async def test_parallel_matters_wait_for_hukou_and_then_for_the_cremation_certificate(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker
) -> None:
    handle = await start(client, keys, task_queue, application_with(PensionStatus.RESIDENT_PENSIONER, HPF, DPF))
    case = handle.id

    # Before 户口注销 is approved: only the police have a work item.
    snap = await wait_for(handle, lambda s: matter_state(s, HUKOU) == MatterState.UNDER_REVIEW)
    assert snap.case_state == CaseState.HUKOU_CANCELLING
    assert snap.cremation is None
    assert await exists(client, f"{case}.{HUKOU.value}")
    assert set(inbox_rows(engine, case)) == {HUKOU.value}
    await _assert_nothing_pushed(client, engine, case, "before 户口注销")

    # 户口注销 done, no cremation certificate yet: still nothing pushed.
    await approve_hukou(client, handle)
    snap = await wait_for(handle, lambda s: any(t.event == "户口注销完成" for t in s.timeline))
    assert matter_state(snap, HUKOU) == MatterState.APPROVED
    assert snap.hukou_certificate_no == "ZX-0001"
    snap = await wait_for(handle, lambda s: s.case_state == CaseState.AWAITING_CREMATION)
    await _assert_nothing_pushed(client, engine, case, "before the cremation certificate")

    # The certificate arrives after 户口注销: every other matter is pushed at once.
    await certify(handle)
    snap = await wait_for(handle, all_parallel_under_review)
    assert snap.case_state == CaseState.IN_PROGRESS
    assert snap.cremation is not None and snap.cremation.certificate_no == "HH-2026-0001"
    assert set(inbox_rows(engine, case)) == {view.code.value for view in snap.matters}
    await _approve_parallel_and_complete(client, handle)


async def test_certificate_before_hukou_pushes_everything_as_soon_as_hukou_is_done(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker
) -> None:
    handle = await start(client, keys, task_queue, application_with(PensionStatus.ENTERPRISE_EMPLOYEE, MCA))
    await certify(handle)
    await wait_for(handle, lambda s: s.cremation is not None and matter_state(s, HUKOU) == MatterState.UNDER_REVIEW)
    await _assert_nothing_pushed(client, engine, handle.id, "before 户口注销 (certificate in)")
    await approve_hukou(client, handle)
    await _approve_parallel_and_complete(client, handle)


async def test_certificate_from_the_funeral_home_before_the_family_applies(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker
) -> None:
    app = application_with(PensionStatus.INSTITUTION_RETIREE, NHSA, VA)
    case = case_number_for(app.deceased.id_number, keys.case_id_key)
    await certify_cremation(
        client, case,
        CremationCertifiedInput(certificate_no="HH-2026-0777", funeral_home="固阳县殡仪馆",
                                cremated_on=date(2026, 11, 20)),
        task_queue, must_exist=False,
    )
    handle = case_handle(client, case)
    snap = await wait_for(handle, lambda s: s.cremation is not None)
    assert snap.case_state == CaseState.RECEIVED
    assert snap.matters == () and snap.deceased is None
    assert inbox_rows(engine, case) == {}

    # The family applies afterwards: the same case takes the application and proceeds.
    started = await start_case(client, app, keys.case_id_key, task_queue)
    assert started.case_number == case
    snap = await wait_for(handle, lambda s: matter_state(s, HUKOU) == MatterState.UNDER_REVIEW)
    assert snap.cremation is not None and snap.cremation.certificate_no == "HH-2026-0777"
    assert {view.code for view in snap.matters} == set(app.matters)
    await _assert_nothing_pushed(client, engine, case, "before 户口注销 (certificate first)")
    with pytest.raises(DuplicateCase) as again:
        await start_case(client, app, keys.case_id_key, task_queue)
    assert again.value.case_number == case

    await approve_hukou(client, handle)
    result = await _approve_parallel_and_complete(client, handle)
    assert {r.matter for r in result.matters} == set(app.matters)
    assert (await status(handle)).refused_actions == ()


async def test_a_certificate_dated_before_the_death_is_set_aside_when_the_family_applies(
    client: Client, keys: Keys, task_queue: str, worker: Worker
) -> None:
    app = application_with(PensionStatus.RESIDENT_PENSIONER)
    case = case_number_for(app.deceased.id_number, keys.case_id_key)
    early = app.deceased.death_date.replace(day=1) if app.deceased.death_date.day > 1 else date(2000, 1, 1)
    await certify_cremation(
        client, case,
        CremationCertifiedInput(certificate_no="HH-EARLY", funeral_home="固阳县殡仪馆", cremated_on=early),
        task_queue, must_exist=False,
    )
    handle = case_handle(client, case)
    await wait_for(handle, lambda s: s.cremation is not None)
    await start_case(client, app, keys.case_id_key, task_queue)
    snap = await wait_for(handle, lambda s: any(r.action == "cremation_certified" for r in s.refused_actions))
    assert snap.cremation is None
    assert "早于死亡日期" in snap.refused_actions[-1].reason
    # A correct certificate then lets the case go on after 户口注销.
    await approve_hukou(client, handle)
    await certify(handle)
    await wait_for(handle, lambda s: s.case_state == CaseState.IN_PROGRESS)


async def test_a_case_opened_by_the_funeral_home_closes_when_the_family_withdraws(
    client: Client, keys: Keys, task_queue: str, worker: Worker
) -> None:
    app = application_with(PensionStatus.RESIDENT_PENSIONER)
    case = case_number_for(app.deceased.id_number, keys.case_id_key)
    await certify_cremation(
        client, case,
        CremationCertifiedInput(certificate_no="HH-W", funeral_home="固阳县殡仪馆", cremated_on=date(2026, 11, 20)),
        task_queue, must_exist=False,
    )
    handle = case_handle(client, case)
    await wait_for(handle, lambda s: s.cremation is not None)
    await handle.signal("withdraw", window_withdrawal(handle.id, "窗口周", "家属决定不再申请"))
    result = await handle.result()
    assert result.state == CaseState.WITHDRAWN
    # Nothing reached the family: a later application is welcome, numbered on and linked to this case.
    again = await start_case(client, app, keys.case_id_key, task_queue)
    assert again.case_number == f"{case}-2"
    snap = await wait_for(case_handle(client, again.case_number), lambda s: s.case_state is not None)
    assert snap.previous_case == case
    # ... and carries the certificate the funeral home gave the first case.
    assert snap.cremation is not None and snap.cremation.certificate_no == "HH-W"
