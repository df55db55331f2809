"""Whatever an officer types into the Temporal UI's signal form, the case stays healthy.

Each bad input becomes a RefusedAction with a Chinese reason in the status query (and the UI's current
details); the workflow keeps running, no workflow task fails, and the case then completes normally.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from domain.enums import CaseState, MatterCode, MatterState, PensionStatus
from domain.models import RefusedAction, StatusSnapshot
from runtime.keys import Keys
from tests.workflows.helpers import (
    HUKOU,
    application_with,
    approve,
    certify,
    complete_parallel,
    current_details,
    failed_workflow_tasks,
    json_payload,
    matter_handle,
    matter_state,
    payment_rows,
    signal_raw,
    start,
    status,
    view_of,
    wait_for,
)

M = MatterCode
PENSION = M.ENTERPRISE_RETIREE_DEATH_BENEFIT
MCA = M.SOCIAL_ASSISTANCE_TERMINATION
CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Bad:
    """One bad input: where it goes (None: the case), what it carries, and the refusal it must cause."""

    name: str
    target: MatterCode | None
    signal: str
    args: tuple[Any, ...]
    reason: str  # words the Chinese reason must contain
    matter: MatterCode | None = None  # the matter the refusal names
    raw: bytes | None = None  # sent as this one unencrypted json/plain payload instead of args
    refused_by: MatterCode | None = None  # the case forwards it; that matter refuses it (its UI details)

    async def send(self, client: Client, handle: WorkflowHandle[Any, Any]) -> None:
        target = self.workflow(client, handle)
        if self.raw is not None:
            await signal_raw(client, target.id, self.signal, [json_payload(self.raw)])
        else:
            await target.signal(self.signal, args=list(self.args))

    def workflow(self, client: Client, handle: WorkflowHandle[Any, Any]) -> WorkflowHandle[Any, Any]:
        return handle if self.target is None else matter_handle(client, handle.id, self.target)


def case_signal(
    name: str, signal: str, *args: Any, reason: str, matter: MatterCode | None = None, forwarded: bool = False
) -> Bad:
    return Bad(name, None, signal, args, reason, matter, refused_by=matter if forwarded else None)


def matter_signal(name: str, code: MatterCode, signal: str, *args: Any, reason: str) -> Bad:
    return Bad(name, code, signal, args, reason, code)


def raw_signal(name: str, code: MatterCode | None, signal: str, data: bytes, reason: str) -> Bad:
    return Bad(name, code, signal, (), reason, code, raw=data)


OFFICER = {"officer": "李科员"}

# Sent to the case while it waits for 户口注销 (the cremation certificate is already in).
CASE_INPUTS = [
    case_signal("empty input", "withdraw", reason="输入为空"),
    raw_signal("invalid JSON", None, "cremation_certified", b"{not json", reason="不是有效的JSON"),
    case_signal("wrong field", "withdraw", {"clerk": "刘", "reason": "x", "resaon": "typo"}, reason="不认识的字段"),
    case_signal("missing field", "withdraw", {"clerk": "刘"}, reason="缺少原因"),
    case_signal("wrong type: date", "cremation_certified",
                {"certificate_no": "HH-2", "funeral_home": "殡仪馆", "cremated_on": "昨天"}, reason="应为日期"),
    case_signal("list instead of object", "materials_supplemented", [PENSION.value, "材料"], reason="JSON对象"),
    case_signal("malformed matter code", "materials_supplemented", {"matter": "nhsa/unknown", "items": ["卡"]},
                reason="事项不是已知的取值"),
    # A well-formed code is a code a catalogue may define (domain/catalogue.py): this case has no such matter.
    case_signal("matter not in the case", "materials_supplemented", {"matter": "nhsa.unknown", "items": ["卡"]},
                reason="本案件没有该事项", matter=MatterCode("nhsa.unknown")),
    case_signal("second cremation certificate", "cremation_certified",
                {"certificate_no": "HH-2", "funeral_home": "固阳县殡仪馆", "cremated_on": "2026-11-20"},
                reason="火化证明已上传"),
    case_signal("supplement for a matter not waiting", "materials_supplemented",
                {"matter": HUKOU.value, "items": ["户口簿"]}, reason="无需补正材料", matter=HUKOU, forwarded=True),
    case_signal("two arguments", "withdraw", {"clerk": "刘", "reason": "a"}, {"clerk": "刘", "reason": "b"},
                reason="只能填写一个输入"),
]

# Sent to the police's 户口注销 workflow while it is under review.
HUKOU_INPUTS = [
    matter_signal("hukou approval without certificate_no", HUKOU, "approve", OFFICER, reason="户口注销证明编号"),
    matter_signal("amount on a non-money matter", HUKOU, "approve",
                  {**OFFICER, "certificate_no": "ZX-1", "amount": "100"}, reason="不发放款项"),
    matter_signal("empty input", HUKOU, "approve", reason="输入为空"),
    raw_signal("invalid JSON", HUKOU, "reject", b"{not json", reason="不是有效的JSON"),
    matter_signal("two arguments", HUKOU, "approve", OFFICER, OFFICER, reason="只能填写一个输入"),
]

# Sent to matters in the parallel phase.
MATTER_INPUTS = [
    matter_signal("money matter approved without amount", PENSION, "approve", OFFICER, reason="须填写金额"),
    matter_signal("wrong type: amount abc", PENSION, "approve", {**OFFICER, "amount": "abc"}, reason="金额应为"),
    matter_signal("amount on a non-money matter", MCA, "approve", {**OFFICER, "amount": "12.00"},
                  reason="不发放款项"),
    matter_signal("list instead of object", MCA, "reject", ["李科员", "不符合条件"], reason="JSON对象"),
    matter_signal("missing field", MCA, "reject", OFFICER, reason="缺少原因"),
    matter_signal("wrong field", MCA, "request_materials", {**OFFICER, "item": ["残疾证"]}, reason="不认识的字段"),
    matter_signal("wrong type: items a string", MCA, "request_materials", {**OFFICER, "items": "残疾证"},
                  reason="材料清单应为列表"),
    matter_signal("supplement while not waiting", MCA, "materials_supplemented",
                  {"matter": MCA.value, "items": ["x"]}, reason="无需补正"),
    matter_signal("empty input", MCA, "reject", reason="输入为空"),
    matter_signal("two arguments", MCA, "reject", {**OFFICER, "reason": "a"}, {**OFFICER, "reason": "b"},
                  reason="只能填写一个输入"),
]


def _more_refusals_than(count: int) -> Callable[[StatusSnapshot], bool]:
    return lambda snap: len(snap.refused_actions) > count


def _shows_refusal_of(code: MatterCode, refusal: RefusedAction) -> Callable[[StatusSnapshot], bool]:
    return lambda snap: refusal in view_of(snap, code).refused_actions


async def _send_each(client: Client, handle: WorkflowHandle[Any, Any], inputs: list[Bad]) -> None:
    for bad in inputs:
        target = bad.workflow(client, handle)
        before = len((await status(target)).refused_actions)
        await bad.send(client, handle)
        snap = await wait_for(target, _more_refusals_than(before), timeout=10)
        new = snap.refused_actions[before:]
        assert len(new) == 1, (bad.name, new)
        refusal = new[0]
        assert refusal.action == bad.signal, (bad.name, refusal)
        assert bad.reason in refusal.reason, (bad.name, refusal.reason)
        assert CJK.search(refusal.reason), (bad.name, refusal.reason)
        assert refusal.matter == bad.matter, (bad.name, refusal)
        # The Temporal UI shows the latest refusal as the current details of the workflow that refused it.
        refuser = target if bad.refused_by is None else matter_handle(client, handle.id, bad.refused_by)
        details = await current_details(refuser)
        assert bad.signal in details and refusal.reason in details, (bad.name, details)
        if bad.target is not None:
            # The case's status shows the matter's refusal too.
            await wait_for(handle, _shows_refusal_of(bad.target, refusal))


async def _assert_healthy(
    client: Client, handle: WorkflowHandle[Any, Any], codes: list[MatterCode],
    expected: WorkflowExecutionStatus = WorkflowExecutionStatus.RUNNING,
) -> None:
    for target in [handle, *(matter_handle(client, handle.id, code) for code in codes)]:
        description = await target.describe()
        assert description.status == expected, target.id
        assert await failed_workflow_tasks(target) == 0, target.id


async def test_bad_signals_are_refused_and_the_case_completes(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker
) -> None:
    handle = await start(client, keys, task_queue, application_with(PensionStatus.ENTERPRISE_RETIREE, MCA))
    await certify(handle)
    await wait_for(handle, lambda s: s.cremation is not None
                   and matter_state(s, HUKOU) == MatterState.UNDER_REVIEW)

    await _send_each(client, handle, CASE_INPUTS)
    await _send_each(client, handle, HUKOU_INPUTS)
    await _assert_healthy(client, handle, [HUKOU])
    snap = await status(handle)
    assert snap.case_state == CaseState.HUKOU_CANCELLING
    assert view_of(snap, HUKOU).state == MatterState.UNDER_REVIEW and view_of(snap, HUKOU).decisions == ()
    assert snap.cremation is not None and snap.cremation.certificate_no == "HH-2026-0001"

    await matter_handle(client, handle.id, HUKOU).signal("approve", {**OFFICER, "certificate_no": "ZX-7"})
    snap = await wait_for(handle, lambda s: all(
        v.state == MatterState.UNDER_REVIEW for v in s.matters if v.code != HUKOU))
    assert {v.code for v in snap.matters} == {HUKOU, PENSION, MCA}
    # 户口注销 is final and its workflow closed: the server itself refuses a further decision.
    with pytest.raises(RPCError) as closed:
        await matter_handle(client, handle.id, HUKOU).signal("approve", {**OFFICER, "certificate_no": "ZX-8"})
    assert closed.value.status == RPCStatusCode.NOT_FOUND
    await _send_each(client, handle, MATTER_INPUTS)
    await _assert_healthy(client, handle, [PENSION, MCA])
    snap = await status(handle)
    assert all(v.decisions == () for v in snap.matters if v.code != HUKOU)

    # A decision on a matter that is already final: the case refuses to forward it.
    await approve(client, handle.id, view_of(snap, MCA))
    await wait_for(handle, lambda s: view_of(s, MCA).final)
    await _send_each(client, handle, [
        case_signal("supplement for a final matter", "materials_supplemented", {"matter": MCA.value, "items": ["x"]},
                    reason="无需补正材料", matter=MCA),
    ])

    result = await complete_parallel(client, handle)
    assert result.state == CaseState.COMPLETED
    await _assert_healthy(client, handle, [HUKOU, PENSION, MCA], WorkflowExecutionStatus.COMPLETED)
    assert [row.matter for row in payment_rows(engine, handle.id)] == [PENSION.value]
