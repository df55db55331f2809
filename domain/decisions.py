"""The rules an officer's decision must meet, shared by the signal handlers and the CLI's update."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel

from domain.catalogue import MatterDefinition
from domain.enums import DecisionKind, MatterCode, MatterState
from domain.models import ApproveInput, DecisionCommand


def check_approval(matter: MatterDefinition, approval: ApproveInput) -> str | None:
    """Matter-specific rules for an approval, shared by the signal and the CLI's update."""
    problems: list[str] = []
    if matter.pays_family:
        if approval.amount is None:
            problems.append(f"“{matter.short_name}”需向家属发放款项，须填写金额")
        elif approval.amount <= Decimal("0"):
            problems.append("金额须大于0")
        elif matter.max_amount is not None and approval.amount > matter.max_amount:
            problems.append(f"金额超过本事项上限{matter.max_amount}元")
    elif approval.amount is not None:
        problems.append(f"“{matter.short_name}”不发放款项，不应填写金额")
    if matter.code == MatterCode.HUKOU_CANCELLATION and not approval.certificate_no:
        problems.append("户口注销须填写户口注销证明编号（certificate_no）")
    return "；".join(problems) or None


def check_state_for(kind: DecisionKind, state: MatterState, final: bool) -> str | None:
    if final:
        return f"事项已办结（{state.value}），不能再作决定"
    if kind in (DecisionKind.APPROVE, DecisionKind.REJECT, DecisionKind.REQUEST_MATERIALS):
        if state == MatterState.AWAITING_MATERIALS:
            return "事项正在等待补正材料，材料补齐后方可审核"
        if state != MatterState.UNDER_REVIEW:
            return f"事项当前状态为{state.value}，不能审核"
    if kind == DecisionKind.MATERIALS_SUPPLEMENTED and state != MatterState.AWAITING_MATERIALS:
        return f"事项当前状态为{state.value}，无需补正材料"
    if kind == DecisionKind.EXTEND_DEADLINE and state not in (
        MatterState.UNDER_REVIEW,
        MatterState.AWAITING_MATERIALS,
    ):
        return f"事项当前状态为{state.value}，不能延长时限"
    return None


def command_payload(command: DecisionCommand) -> BaseModel | str:
    """The one input a CLI decision carries for its kind."""
    payload = {
        DecisionKind.APPROVE: command.approve,
        DecisionKind.REJECT: command.reject,
        DecisionKind.REQUEST_MATERIALS: command.request_materials,
        DecisionKind.MATERIALS_SUPPLEMENTED: command.materials_supplemented,
        DecisionKind.EXTEND_DEADLINE: command.extend_deadline,
    }.get(command.kind)
    if payload is None:
        return f"缺少{command.kind.value}的内容"
    return payload
