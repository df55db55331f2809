"""Matters added to a case: the window adds, for the same deceased, what the family did not apply for — to the
running case (its own clock, at once when the others are under way) or, after 办结, to a new case linked to it that
carries 户口注销 over. Only on the window's signature; a bad addition is told every problem at once."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio.client import Client
from temporalio.worker import Worker

from client import intake
from client.errors import DuplicateCase, OperationRefused
from client.intake import Added
from client.operations import add_matters, certify_cremation, start_added_case, start_case
from domain import messages
from domain.enums import CaseState, Channel, MatterCode, MatterState, PensionStatus
from domain.ids import matter_workflow_id
from domain.models import Application, CremationCertifiedInput, MattersAdded
from domain.policy import Policy
from register.report import Period, build_report
from register.sealing import Sealer
from register.tables import InboxRow, MatterRow
from runtime.keys import Keys
from runtime.settings import Settings
from runtime.signing import sign_statement
from tests.signing import PAYING_SYSTEM, PORTAL, WINDOW
from tests.workflows import timeskip as ts
from tests.workflows.helpers import (
    HUKOU,
    TODAY,
    application,
    application_with,
    approve,
    approve_hukou,
    case_handle,
    exists,
    family_messages,
    inbox_rows,
    refused,
    view_of,
    wait_for,
)

HRSS = MatterCode.RESIDENT_PENSION_FUNERAL_SUBSIDY
NHSA = MatterCode.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT
DPF = MatterCode.DISABILITY_SUBSIDY_TERMINATION
HPF = MatterCode.PROVIDENT_FUND_DEATH_WITHDRAWAL
MCA = MatterCode.SOCIAL_ASSISTANCE_TERMINATION
POLICY = Policy()
CREMATION = CremationCertifiedInput(certificate_no="HH-9", funeral_home="固阳县殡仪馆", cremated_on="2026-11-20")


def online_application() -> Application:
    """Applied online for 人社 (城乡居民丧葬补助金) and 医保; 公积金 and 民政 were not asked about."""
    return application(channel=Channel.ONLINE.value, situations={
        "pension_status": PensionStatus.RESIDENT_PENSIONER.value, "employee_medical_insurance": True})


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


async def add(client: Client, engine: Engine, sealer: Sealer, settings: Settings, case_number: str,
              form: dict[str, Any], tmp_path: Path) -> Added:
    """What `shenhou case add-matters` does: find the case, check the form by intake's rules, submit it."""
    target = await intake.addition_target(client, case_number, engine, sealer)
    checked = intake.check_addition_form(form, tmp_path, target, POLICY, TODAY)
    assert not isinstance(checked, list), checked
    addition, files = checked
    return await intake.submit_addition(addition, files, target, "窗口李", client, settings, WINDOW,
                                        register=engine, sealer=sealer)


def police_items(engine: Engine) -> int:
    with Session(engine) as session:
        return len(session.exec(select(InboxRow).where(InboxRow.department == "police")).all())


def matter_rows(engine: Engine, case_number: str) -> dict[str, MatterRow]:
    with Session(engine) as session:
        rows = session.exec(select(MatterRow).where(MatterRow.case_number == case_number)).all()
    return {row.matter: row for row in rows}


async def test_an_online_family_adds_hpf_at_the_window_and_another_matter_after_completion(
    client: Client, keys: Keys, task_queue: str, engine: Engine, sealer: Sealer, worker: Worker,
    settings: Settings, tmp_path: Path,
) -> None:
    settings = settings.model_copy(update={"task_queue": task_queue})
    app = online_application()
    started = await start_case(client, app, keys.case_id_key, task_queue, register=engine)
    number = started.case_number
    handle = case_handle(client, number)
    await certify_cremation(client, number, CREMATION, task_queue, must_exist=True)
    await wait_for(handle, lambda s: s.cremation is not None)
    await approve_hukou(client, handle)
    snap = await wait_for(handle, lambda s: all(
        view_of(s, c).state == MatterState.UNDER_REVIEW for c in (HRSS, NHSA)))

    # At the window: 公积金 joins the same case and is pushed at once, with its own clock.
    added = await add(client, engine, sealer, settings, number,
                      {"matters": [HPF.value], "situations": {"housing_provident_fund": True}}, tmp_path)
    assert added.case_number == number and added.earlier_case is None
    snap = await wait_for(handle, lambda s: view_of(s, HPF).state == MatterState.UNDER_REVIEW)
    hpf = view_of(snap, HPF)
    assert hpf.time_limit_working_days == 3 and hpf.deadline is not None and hpf.pushed_at is not None
    assert hpf.pushed_at > view_of(snap, NHSA).pushed_at  # type: ignore[operator]
    added_event = messages.matters_added_event([POLICY.matter(HPF).short_name], "window")
    assert any(entry.event == added_event for entry in snap.timeline)
    await ts.registered(lambda: HPF.value in inbox_rows(engine, number))
    assert inbox_rows(engine, number)[HPF.value].hukou_certificate_no == "ZX-0001"
    assert ("matters_added", None) in family_messages(engine, number)
    # The same matter again: refused, naming the case that has it (一次告知 with intake's rules).
    target = await intake.addition_target(client, number, engine, sealer)
    again = intake.check_addition_form({"matters": [HPF.value]}, tmp_path, target, POLICY, TODAY)
    assert isinstance(again, list)
    assert [p.message for p in again] == [messages.addition_present(POLICY.matter(HPF).short_name, number, "待审核")]

    # Each matter its own decision: 公积金 refused by its department, the others approved.
    await client.get_workflow_handle(matter_workflow_id(number, HPF)).signal(
        "reject", {"officer": "赵科员", "reason": "未查询到公积金账户"})
    for code in (HRSS, NHSA):
        await approve(client, number, view_of(snap, code))
    result = await handle.result()
    assert result.state == CaseState.COMPLETED
    outcomes = {m.matter: m.state for m in result.matters}
    assert outcomes == {HUKOU: MatterState.APPROVED, HRSS: MatterState.PAID, NHSA: MatterState.PAID,
                        HPF: MatterState.REJECTED}
    await ts.registered(lambda: matter_rows(engine, number).get(HPF.value) is not None
                        and matter_rows(engine, number)[HPF.value].state == MatterState.REJECTED.value)

    # After 办结: 民政 (社会救助) in a new case linked to the finished one; 户口注销 and the cremation carry over.
    later = await add(client, engine, sealer, settings, number,
                      {"matters": [MCA.value], "situations": {"social_assistance": True}}, tmp_path)
    assert later.earlier_case == number and later.case_number == f"{number}-2"
    linked = case_handle(client, later.case_number)
    snap = await wait_for(linked, lambda s: view_of(s, MCA).state == MatterState.UNDER_REVIEW)
    assert snap.added_to == number and snap.previous_case == number
    assert [view.code for view in snap.matters] == [HUKOU, MCA]
    assert view_of(snap, HUKOU).certificate_no == "ZX-0001" and snap.cremation is not None
    assert not await exists(client, matter_workflow_id(later.case_number, HUKOU))
    await ts.registered(lambda: set(inbox_rows(engine, later.case_number)) == {MCA.value})
    assert police_items(engine) == 1
    await client.get_workflow_handle(matter_workflow_id(later.case_number, MCA)).signal(
        "approve", {"officer": "孙科员"})
    assert (await linked.result()).state == CaseState.COMPLETED
    kinds = [kind for kind, _ in family_messages(engine, later.case_number)]
    assert kinds[0] == "case_received" and "hukou_cancelled" not in kinds
    # The supervisor's report counts each matter once, where it was decided: 户口注销 once for the deceased.
    zone = ZoneInfo(POLICY.timezone)
    today = datetime.now(zone).date()
    report = build_report(engine, Period(today - timedelta(days=1), today + timedelta(days=1), zone))
    figures = {department.code: department.figures for department in report.departments}
    assert (figures["police"].pushed, figures["police"].approved) == (1, 1)
    assert (figures["hpf"].pushed, figures["hpf"].rejected) == (1, 1)
    assert (figures["mca"].pushed, figures["mca"].approved) == (1, 1)
    # A second application for the deceased is refused, naming the last case (matters are added, not re-applied).
    with pytest.raises(DuplicateCase) as duplicate:
        await start_case(client, app, keys.case_id_key, task_queue, register=engine)
    assert duplicate.value.case_number == later.case_number
    # A matter approved in the first case is not applied for again.
    target = await intake.addition_target(client, number, engine, sealer)
    assert target.next_number == f"{number}-3"
    repeated = intake.check_addition_form({"matters": [NHSA.value]}, tmp_path, target, POLICY, TODAY)
    assert isinstance(repeated, list)
    assert [p.message for p in repeated] == [messages.addition_present("医保个人账户清算", number, "已发放")]


async def test_matters_added_while_the_case_waits_go_out_with_the_others(
    client: Client, keys: Keys, task_queue: str, engine: Engine, sealer: Sealer, worker: Worker,
    settings: Settings, tmp_path: Path,
) -> None:
    settings = settings.model_copy(update={"task_queue": task_queue})
    started = await start_case(client, online_application(), keys.case_id_key, task_queue, register=engine)
    number = started.case_number
    handle = case_handle(client, number)
    await wait_for(handle, lambda s: view_of(s, HUKOU).state == MatterState.UNDER_REVIEW)
    await add(client, engine, sealer, settings, number,
              {"matters": [HPF.value], "situations": {"housing_provident_fund": True}}, tmp_path)
    snap = await wait_for(handle, lambda s: HPF in {view.code for view in s.matters})
    assert view_of(snap, HPF).state == MatterState.PENDING_PUSH
    await approve_hukou(client, handle)
    snap = await wait_for(handle, lambda s: s.case_state == CaseState.AWAITING_CREMATION)
    await certify_cremation(client, number, CREMATION, task_queue, must_exist=True)
    snap = await wait_for(handle, lambda s: all(
        view_of(s, code).state == MatterState.UNDER_REVIEW for code in (HRSS, NHSA, HPF)))
    assert any(entry.event == "并联推送3项事项" for entry in snap.timeline)


async def test_an_unsigned_addition_is_refused_and_recorded(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker
) -> None:
    started = await start_case(client, online_application(), keys.case_id_key, task_queue, register=engine)
    number = started.case_number
    handle = case_handle(client, number)
    await wait_for(handle, lambda s: s.case_state == CaseState.HUKOU_CANCELLING)
    statement = MattersAdded(clerk="窗口李", matters=(HPF,), situations=online_application().situations.model_copy(
        update={"housing_provident_fund": True}))
    # Signed by another issuer than the window: not the window's word.
    with pytest.raises(OperationRefused):
        await add_matters(client, number, statement, PAYING_SYSTEM)
    snap = await wait_for(handle, lambda s: any(r.action == "add_matters" for r in refused(s)))
    assert HPF not in {view.code for view in snap.matters}
    added_event = messages.matters_added_event([POLICY.matter(HPF).short_name], "window")
    assert all(entry.event != added_event for entry in snap.timeline)


async def test_after_completion_an_addition_without_the_windows_signature_opens_nothing(
    client: Client, keys: Keys, task_queue: str, engine: Engine, sealer: Sealer, worker: Worker, tmp_path: Path,
) -> None:
    started = await start_case(client, application_with(PensionStatus.NONE), keys.case_id_key, task_queue,
                               register=engine)
    handle = case_handle(client, started.case_number)
    await approve_hukou(client, handle)
    assert (await handle.result()).state == CaseState.COMPLETED
    target = await intake.addition_target(client, started.case_number, engine, sealer)
    assert not target.running and target.next_number == f"{started.case_number}-2"
    checked = intake.check_addition_form({"matters": [MCA.value], "situations": {"social_assistance": True}},
                                         tmp_path, target, POLICY, TODAY)
    assert not isinstance(checked, list), checked
    addition, _ = checked
    forged = sign_statement(PAYING_SYSTEM, target.next_number, None, addition.statement("窗口李"))
    await start_added_case(client, target.next_number, addition.application, target.chain, task_queue, forged)
    linked = case_handle(client, target.next_number)
    result = await linked.result()
    assert result.state == CaseState.REFUSED and result.matters == ()
    snap = await wait_for(linked, lambda s: s.closed_at is not None)
    assert [r.action for r in snap.refused_actions] == ["add_matters"]
    assert any(entry.event == messages.ADDITION_UNVERIFIED for entry in snap.timeline)
    assert not await exists(client, matter_workflow_id(target.next_number, MCA))


async def test_the_portals_word_adds_only_the_online_channels_matters(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker
) -> None:
    """The public portal holds its own key, never the window's: a case takes from it an online addition of the
    online channel's matters, and refuses (and records) one of a matter only the window takes."""
    started = await start_case(client, online_application(), keys.case_id_key, task_queue, register=engine)
    number = started.case_number
    handle = case_handle(client, number)
    await wait_for(handle, lambda s: s.case_state == CaseState.HUKOU_CANCELLING)
    situations = online_application().situations.model_copy(
        update={"housing_provident_fund": True, "disability_subsidy": True})
    hpf = MattersAdded(clerk="申请人网上追加", matters=(HPF,), channel=Channel.ONLINE, situations=situations)
    with pytest.raises(OperationRefused) as refusal:
        await add_matters(client, number, hpf, PORTAL)
    assert messages.ADDITION_PORTAL_REACH in refusal.value.message
    snap = await wait_for(handle, lambda s: any(
        r.action == "add_matters" and messages.ADDITION_PORTAL_REACH in r.reason for r in refused(s)))
    assert HPF not in {view.code for view in snap.matters}
    # Not even as a window-channel addition: the portal never speaks for the window.
    with pytest.raises(OperationRefused):
        await add_matters(client, number, hpf.model_copy(update={"channel": Channel.WINDOW}), PORTAL)
    # An issuer that never adds matters is not believed, whatever its key.
    with pytest.raises(OperationRefused) as refusal:
        await add_matters(client, number, hpf, PAYING_SYSTEM)
    assert messages.ADDITION_UNVERIFIED in refusal.value.message

    dpf = MattersAdded(clerk="申请人网上追加", matters=(DPF,), channel=Channel.ONLINE, situations=situations)
    ack = await add_matters(client, number, dpf, PORTAL)
    assert ack.accepted
    snap = await wait_for(handle, lambda s: DPF in {view.code for view in s.matters})
    assert view_of(snap, DPF).state == MatterState.PENDING_PUSH
    added_event = messages.matters_added_event([POLICY.matter(DPF).short_name], "online")
    assert any(entry.event == added_event for entry in snap.timeline)


async def test_after_completion_the_portal_cannot_open_a_case_for_a_window_matter(
    client: Client, keys: Keys, task_queue: str, engine: Engine, sealer: Sealer, worker: Worker, tmp_path: Path,
) -> None:
    started = await start_case(client, online_application(), keys.case_id_key, task_queue, register=engine)
    handle = case_handle(client, started.case_number)
    await certify_cremation(client, started.case_number, CREMATION, task_queue, must_exist=True)
    await approve_hukou(client, handle)
    snap = await wait_for(handle, lambda s: all(view_of(s, c).state == MatterState.UNDER_REVIEW for c in (HRSS, NHSA)))
    for code in (HRSS, NHSA):
        await approve(client, started.case_number, view_of(snap, code))
    assert (await handle.result()).state == CaseState.COMPLETED
    target = await intake.addition_target(client, started.case_number, engine, sealer)
    assert target.next_number is not None
    # The window's own check would pass it; signed by the portal it opens nothing.
    checked = intake.check_addition_form({"matters": [HPF.value], "situations": {"housing_provident_fund": True}},
                                         tmp_path, target, POLICY, TODAY)
    assert not isinstance(checked, list), checked
    addition, _ = checked
    statement = addition.statement("申请人网上追加").model_copy(update={"issuer": PORTAL.issuer})
    signed = sign_statement(PORTAL, target.next_number, None, statement)
    await start_added_case(client, target.next_number, addition.application, target.chain, task_queue, signed)
    linked = case_handle(client, target.next_number)
    result = await linked.result()
    assert result.state == CaseState.REFUSED and result.matters == ()
    snap = await wait_for(linked, lambda s: s.closed_at is not None)
    assert [r.reason for r in snap.refused_actions] == [messages.ADDITION_PORTAL_REACH]
    assert not await exists(client, matter_workflow_id(target.next_number, HPF))
