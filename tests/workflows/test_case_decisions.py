"""Department decisions and applicant actions: rejection, 补正, withdrawal, and one case per deceased."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy.engine import Engine
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.worker import Worker

from client.errors import DuplicateCase
from client.operations import start_case
from domain.enums import CaseState, MatterCode, MatterState, PensionStatus
from runtime.keys import Keys
from tests.workflows.helpers import (
    HUKOU,
    all_parallel_under_review,
    application,
    application_for,
    application_with,
    approve,
    certify,
    complete_parallel,
    confirm_payment,
    describe,
    exists,
    family_messages,
    inbox_rows,
    ledger_amounts,
    matter_handle,
    matter_state,
    outbox_rows,
    payment_rows,
    start,
    status,
    to_parallel_phase,
    view_of,
    wait_for,
    window_withdrawal,
)

M = MatterCode
HPF = M.PROVIDENT_FUND_DEATH_WITHDRAWAL
NHSA = M.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT
PENSION = M.ENTERPRISE_RETIREE_DEATH_BENEFIT
MCA = M.SOCIAL_ASSISTANCE_TERMINATION
DPF = M.DISABILITY_SUBSIDY_TERMINATION
VA = M.PREFERENTIAL_BENEFIT_TERMINATION


# --- rejection ---------------------------------------------------------------------------------------


async def test_one_matter_rejected_while_the_others_pay(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker
) -> None:
    handle = await start(client, keys, task_queue, application_with(PensionStatus.ENTERPRISE_RETIREE, HPF, MCA))
    case = handle.id
    snap = await to_parallel_phase(client, handle)
    reason = "经核查逝者无公积金缴存记录"
    await matter_handle(client, case, HPF).signal("reject", {"officer": "赵主任", "reason": reason})
    paid = {}
    for view in snap.matters:
        if view.code not in (HUKOU, HPF):
            amount = await approve(client, case, view)
            if amount is not None:
                paid[view.code.value] = amount

    result = await handle.result()
    assert result.state == CaseState.COMPLETED
    snap = await status(handle)
    rejected = view_of(snap, HPF)
    assert rejected.state == MatterState.REJECTED and rejected.final
    assert rejected.reason == reason
    assert any(t.matter == HPF and reason in t.event for t in snap.timeline)
    assert {r.matter: r.reason for r in result.matters}[HPF] == reason
    for view in snap.matters:
        if view.code not in (HUKOU, HPF):
            assert view.state == (MatterState.PAID if view.pays_family else MatterState.APPROVED), view.code

    assert ledger_amounts(engine, case) == paid
    family = Counter(family_messages(engine, case))
    assert family[("matter_rejected", HPF.value)] == 1
    assert family[("matter_approved", HPF.value)] == 0
    assert family[("money_sent", HPF.value)] == 0
    assert family[("case_completed", None)] == 1


async def test_hukou_rejected_leaves_every_other_matter_unpushed(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker
) -> None:
    handle = await start(client, keys, task_queue, application_for(PensionStatus.RESIDENT_PENSIONER))
    case = handle.id
    await certify(handle)
    await wait_for(handle, lambda s: matter_state(s, HUKOU) == MatterState.UNDER_REVIEW)
    await matter_handle(client, case, HUKOU).signal("reject", {"officer": "王警官", "reason": "户籍信息与申请不符"})

    # The case ends in its own state, and the family is told why and that it may apply again.
    result = await handle.result()
    assert result.state == CaseState.HUKOU_REJECTED
    snap = await status(handle)
    assert snap.case_state == CaseState.HUKOU_REJECTED
    hukou = view_of(snap, HUKOU)
    assert hukou.state == MatterState.REJECTED and hukou.reason == "户籍信息与申请不符"
    assert snap.hukou_certificate_no is None
    for view in snap.matters:
        if view.code == HUKOU:
            continue
        assert view.state == MatterState.NOT_PUSHED and view.final, view.code
        assert view.reason and "户口注销" in view.reason
        assert not await exists(client, f"{case}.{view.code.value}")
    assert set(inbox_rows(engine, case)) == {HUKOU.value}
    assert payment_rows(engine, case) == []
    family = family_messages(engine, case)
    assert ("matter_rejected", HUKOU.value) in family
    assert ("hukou_cancelled", None) not in family and ("case_completed", None) not in family
    assert family[-1] == ("hukou_rejected", None)
    told = outbox_rows(engine, case, "family")[-1].message
    assert "户籍信息与申请不符" in told and "重新申请" in told


# --- 补正 -------------------------------------------------------------------------------------------


async def test_materials_round_trip_stops_and_restarts_the_clock(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker
) -> None:
    handle = await start(client, keys, task_queue, application_with(PensionStatus.ENTERPRISE_RETIREE, NHSA))
    case = handle.id
    snap = await to_parallel_phase(client, handle)
    first_deadline = view_of(snap, NHSA).deadline
    assert first_deadline is not None

    await matter_handle(client, case, NHSA).signal(
        "request_materials", {"officer": "孙科员", "items": ["医保卡原件", "死亡医学证明复印件"]}
    )
    snap = await wait_for(handle, lambda s: matter_state(s, NHSA) == MatterState.AWAITING_MATERIALS)
    waiting = view_of(snap, NHSA)
    assert waiting.deadline is None
    assert waiting.pending_items == ("医保卡原件", "死亡医学证明复印件")
    assert len(waiting.pauses) == 1
    pause = waiting.pauses[0]
    assert pause.ended_at is None and pause.remaining_working_days is not None
    assert 1 <= pause.remaining_working_days <= 5
    assert ("materials_requested", NHSA.value) in family_messages(engine, case)

    # The window records the family's materials on the case; the matter's clock restarts.
    await handle.signal("materials_supplemented", {"matter": NHSA.value, "items": ["医保卡原件", "死亡医学证明复印件"]})
    snap = await wait_for(handle, lambda s: matter_state(s, NHSA) == MatterState.UNDER_REVIEW)
    resumed = view_of(snap, NHSA)
    assert resumed.deadline is not None and resumed.deadline >= first_deadline
    assert resumed.pending_items == ()
    assert len(resumed.pauses) == 1
    assert resumed.pauses[0].ended_at is not None
    assert resumed.pauses[0].started_at == pause.started_at
    assert [d.kind.value for d in resumed.decisions] == ["request_materials", "materials_supplemented"]
    assert snap.refused_actions == ()

    result = await complete_parallel(client, handle)
    assert result.state == CaseState.COMPLETED
    snap = await status(handle)
    assert view_of(snap, NHSA).state == MatterState.PAID
    assert len(view_of(snap, NHSA).pauses) == 1


# --- withdrawal --------------------------------------------------------------------------------------


async def test_withdrawal_in_the_parallel_phase_stops_pending_matters_and_keeps_approved_money(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker
) -> None:
    handle = await start(client, keys, task_queue, application_with(
        PensionStatus.ENTERPRISE_RETIREE, MCA, DPF, VA, NHSA))
    case = handle.id
    snap = await to_parallel_phase(client, handle)
    paid = await approve(client, case, view_of(snap, PENSION))
    await approve(client, case, view_of(snap, MCA))
    await matter_handle(client, case, DPF).signal("request_materials", {"officer": "周干事", "items": ["残疾证"]})
    await wait_for(handle, lambda s: matter_state(s, PENSION) == MatterState.PAID
                   and matter_state(s, MCA) == MatterState.APPROVED
                   and matter_state(s, DPF) == MatterState.AWAITING_MATERIALS)
    # One more approval just before the withdrawal: its transfer is out with the bank (发放中), so the
    # withdrawal must not cancel it; the bank's confirmation still lands after it.
    last_minute = await approve(client, case, view_of(snap, VA), confirm=False)
    await wait_for(handle, lambda s: matter_state(s, VA) == MatterState.PAYING)
    pending = {view.code for view in snap.matters} - {HUKOU, PENSION, MCA, VA}

    await handle.signal("withdraw", window_withdrawal(handle.id, "窗口刘", "家属决定自行办理"))
    await wait_for(handle, lambda s: all(matter_state(s, code) == MatterState.WITHDRAWN for code in pending))
    assert matter_state(await status(handle), VA) == MatterState.PAYING
    await confirm_payment(client, case, VA)
    result = await handle.result()
    assert result.state == CaseState.WITHDRAWN
    snap = await status(handle)
    assert snap.case_state == CaseState.WITHDRAWN and snap.closed_at is not None
    assert snap.refused_actions == ()
    assert view_of(snap, PENSION).state == MatterState.PAID
    assert view_of(snap, VA).state == MatterState.PAID
    assert view_of(snap, MCA).state == MatterState.APPROVED
    assert view_of(snap, HUKOU).state == MatterState.APPROVED
    for code in pending:
        view = view_of(snap, code)
        assert view.state == MatterState.WITHDRAWN and view.final, code
        assert view.reason == "家属决定自行办理"
        description = await describe(client, f"{case}.{code.value}")
        assert description is not None and description.status == WorkflowExecutionStatus.COMPLETED

    inbox = inbox_rows(engine, case)
    assert {code for code, row in inbox.items() if row.status == "withdrawn"} == {c.value for c in pending}
    assert all(inbox[c.value].close_reason == "家属决定自行办理" for c in pending)
    assert ledger_amounts(engine, case) == {PENSION.value: paid, VA.value: last_minute}
    family = Counter(family_messages(engine, case))
    assert family[("money_sent", VA.value)] == 1
    assert all(family[("matter_approved", code.value)] == 0 for code in pending)
    assert family[("case_withdrawn", None)] == 1
    assert family[("case_completed", None)] == 0


async def test_withdrawal_before_hukou_is_done_pushes_nothing_else(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker
) -> None:
    handle = await start(client, keys, task_queue, application_for(PensionStatus.INSTITUTION_EMPLOYEE))
    case = handle.id
    await wait_for(handle, lambda s: matter_state(s, HUKOU) == MatterState.UNDER_REVIEW)
    await handle.signal("withdraw", window_withdrawal(handle.id, "窗口刘", "家属决定暂缓办理"))

    result = await handle.result()
    assert result.state == CaseState.WITHDRAWN
    snap = await status(handle)
    assert all(view.state == MatterState.WITHDRAWN and view.final for view in snap.matters)
    for view in snap.matters:
        if view.code != HUKOU:
            assert not await exists(client, f"{case}.{view.code.value}")
    inbox = inbox_rows(engine, case)
    assert set(inbox) == {HUKOU.value} and inbox[HUKOU.value].status == "withdrawn"
    assert payment_rows(engine, case) == []
    assert family_messages(engine, case)[-1] == ("case_withdrawn", None)


async def test_withdrawal_after_hukou_while_waiting_for_the_cremation_certificate(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker
) -> None:
    handle = await start(client, keys, task_queue, application_with(PensionStatus.INSTITUTION_RETIREE, MCA))
    case = handle.id
    await wait_for(handle, lambda s: matter_state(s, HUKOU) == MatterState.UNDER_REVIEW)
    await matter_handle(client, case, HUKOU).signal("approve", {"officer": "王警官", "certificate_no": "ZX-9"})
    await wait_for(handle, lambda s: any(t.event == "户口注销完成" for t in s.timeline))
    await handle.signal("withdraw", window_withdrawal(handle.id, "窗口刘", "家属决定暂缓办理"))

    result = await handle.result()
    assert result.state == CaseState.WITHDRAWN
    snap = await status(handle)
    assert view_of(snap, HUKOU).state == MatterState.APPROVED
    assert all(view.state == MatterState.WITHDRAWN for view in snap.matters if view.code != HUKOU)
    assert set(inbox_rows(engine, case)) == {HUKOU.value}


# --- one case per deceased -------------------------------------------------------------------------


async def test_a_second_application_is_refused_with_the_existing_case_number(
    client: Client, keys: Keys, task_queue: str, worker: Worker
) -> None:
    app = application(situations={"pension_status": "enterprise_retiree"})
    first = await start_case(client, app, keys.case_id_key, task_queue)
    handle = client.get_workflow_handle(first.case_number)

    with pytest.raises(DuplicateCase) as running:
        await start_case(client, app, keys.case_id_key, task_queue)
    assert running.value.case_number == first.case_number
    assert first.case_number in running.value.message

    await to_parallel_phase(client, handle)
    await complete_parallel(client, handle)
    with pytest.raises(DuplicateCase) as closed:
        await start_case(client, app, keys.case_id_key, task_queue)
    assert closed.value.case_number == first.case_number
    assert first.case_number in closed.value.message
    # The refused applications left the case as it was.
    snap = await status(handle)
    assert snap.case_state == CaseState.COMPLETED and snap.refused_actions == ()
    assert all_parallel_under_review(snap) is False
