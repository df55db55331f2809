"""Withdrawing one matter leaves the others running (issue 23): at the window, signed, on the real worker and
server. A matter under review stops at its department; one not pushed yet is never pushed; approved money and
户口注销 cannot be withdrawn alone; an unsigned withdrawal changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.worker import Worker

from client.errors import OperationRefused
from client.operations import withdraw
from domain.enums import CaseState, MatterCode, MatterState, PensionStatus
from domain.models import WithdrawInput
from runtime.keys import Keys
from tests.signing import WINDOW
from tests.workflows import timeskip as ts
from tests.workflows.helpers import (
    HUKOU,
    application_with,
    approve,
    approve_hukou,
    certify,
    exists,
    inbox_rows,
    matter_handle,
    outbox_rows,
    start,
    status,
    to_parallel_phase,
    view_of,
    wait_for,
)
from workflows.search_attributes import MATTER_STATE

HPF = MatterCode.PROVIDENT_FUND_DEATH_WITHDRAWAL
NHSA = MatterCode.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT
PENSION = MatterCode.ENTERPRISE_RETIREE_DEATH_BENEFIT


def _one(code: MatterCode, reason: str = "已自行到公积金中心办理") -> WithdrawInput:
    return WithdrawInput(clerk="窗口刘", reason=reason, matter=code)


async def test_one_matter_withdrawn_under_review_the_others_go_on_to_completion(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker
) -> None:
    handle = await start(client, keys, task_queue, application_with(PensionStatus.ENTERPRISE_RETIREE, HPF, NHSA))
    snap = await to_parallel_phase(client, handle)
    # Straight from the Web UI, unsigned: refused and recorded, nothing stops.
    await handle.signal("withdraw", {"clerk": "窗口刘", "reason": "误操作", "matter": HPF.value})
    await wait_for(handle, lambda s: any(r.action == "withdraw" for r in s.refused_actions))
    # 户口注销 cannot be withdrawn alone.
    with pytest.raises(OperationRefused, match="户口注销不能单独撤回"):
        await withdraw(client, handle.id, _one(HUKOU), WINDOW)

    ack = await withdraw(client, handle.id, _one(HPF), WINDOW)
    assert ack.accepted and "其余事项继续" in ack.message
    hpf = await wait_for(matter_handle(client, handle.id, HPF), lambda s: s.matters[0].final)
    assert hpf.matters[0].state == MatterState.WITHDRAWN
    await ts.registered(lambda: inbox_rows(engine, handle.id)[HPF.value].status == "withdrawn")
    await ts.registered(lambda: any("您已撤回“公积金死亡提取”，其余事项继续办理" in row.message
                                    for row in outbox_rows(engine, handle.id, "family")))
    now = await status(handle)
    assert now.case_state == CaseState.IN_PROGRESS
    assert view_of(now, NHSA).state == MatterState.UNDER_REVIEW

    # The others are decided and paid; the case is 办结, not withdrawn.
    for code in (PENSION, NHSA):
        await approve(client, handle.id, view_of(snap, code))
    result = await handle.result()
    assert result.state == CaseState.COMPLETED
    states = {m.matter: m.state for m in result.matters}
    assert (states[HPF], states[PENSION], states[NHSA]) == (MatterState.WITHDRAWN, MatterState.PAID,
                                                           MatterState.PAID)
    # Withdrawing what is final is refused with its state.
    with pytest.raises(OperationRefused):
        await withdraw(client, handle.id, _one(NHSA), WINDOW)


async def test_approved_money_cannot_be_withdrawn_alone(
    client: Client, keys: Keys, task_queue: str, worker: Worker
) -> None:
    handle = await start(client, keys, task_queue, application_with(PensionStatus.ENTERPRISE_RETIREE, HPF))
    snap = await to_parallel_phase(client, handle)
    await approve(client, handle.id, view_of(snap, HPF), confirm=False)
    await wait_for(matter_handle(client, handle.id, HPF), lambda s: s.matters[0].state == MatterState.PAYING)
    # The case reads the matter's state from the engine: wait until its search attribute shows it.
    await ts.poll(lambda: _shows_paying(client, handle.id), bool)
    with pytest.raises(OperationRefused, match="不能撤回"):
        await withdraw(client, handle.id, _one(HPF), WINDOW)
    assert (await status(matter_handle(client, handle.id, HPF))).matters[0].state == MatterState.PAYING


async def _shows_paying(client: Client, case: str) -> bool:
    description = await matter_handle(client, case, HPF).describe()
    return description.typed_search_attributes.get(MATTER_STATE) == MatterState.PAYING.value


async def test_a_matter_withdrawn_before_its_push_is_never_pushed(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker
) -> None:
    handle = await start(client, keys, task_queue, application_with(PensionStatus.ENTERPRISE_RETIREE, HPF))
    await approve_hukou(client, handle)
    await wait_for(handle, lambda s: s.case_state == CaseState.AWAITING_CREMATION)
    await withdraw(client, handle.id, _one(HPF), WINDOW)
    waiting = await wait_for(handle, lambda s: view_of(s, HPF).final)
    assert view_of(waiting, HPF).state == MatterState.WITHDRAWN
    await certify(handle)
    pushed = await wait_for(handle, lambda s: view_of(s, PENSION).state == MatterState.UNDER_REVIEW)
    assert view_of(pushed, HPF).state == MatterState.WITHDRAWN
    assert not await exists(client, f"{handle.id}.{HPF.value}")
    assert HPF.value not in inbox_rows(engine, handle.id)
