"""What the CLI prints: readable tables with Chinese labels, in a terminal and in a pipe.

Rich is used with markup off (a reason typed by an officer may contain brackets) and, in a pipe, a
fixed wide width so lines are not folded. Personal data arrives already masked in the status.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table

from client.payments import PaymentItem, PaymentStanding
from client.supervision import OverdueItem
from client.worklist import WorkView
from domain import messages
from domain.application import CHANNEL_LABELS
from domain.clock import deadline_text
from domain.enums import Channel, DecisionKind, EscalationStep, MatterCode, MatterState
from domain.models import CommandAck, DecisionRecord, MatterView, StatusSnapshot
from domain.policy import Policy

PIPE_WIDTH = 200
DEFAULT_TIMEZONE = "Asia/Shanghai"

DECISION_LABELS: dict[DecisionKind, str] = {
    DecisionKind.APPROVE: "审核通过",
    DecisionKind.REJECT: "不予办理",
    DecisionKind.REQUEST_MATERIALS: "要求补正",
    DecisionKind.MATERIALS_SUPPLEMENTED: "补正材料",
    DecisionKind.EXTEND_DEADLINE: "延长时限",
    DecisionKind.WITHDRAW: "撤回",
    DecisionKind.PAYEE_CORRECTED: "更正收款账户",
    DecisionKind.PAYEE_PROVEN: "核验亲属关系证明",
    DecisionKind.PAYMENT_CONFIRMED: "确认到账",
    DecisionKind.PAYMENT_FAILED: "发放失败",
}
ACTION_LABELS: dict[str, str] = {
    **{kind.value: label for kind, label in DECISION_LABELS.items()},
    "cremation_certified": "上传火化证明",
    "bank_account_corrected": "更正收款账户",
    "payee_corrected": "更正收款账户",
    "prove_relationship": "核验亲属关系证明",
    "matter_updated": "事项状态回报",
    "submit_application": "提交申请",
    "decide": "审核决定",
}
ESCALATION_LABELS: dict[EscalationStep, str] = {
    EscalationStep.WARNING: "预警",
    EscalationStep.OVERDUE: "超时",
    EscalationStep.REMINDER: "催办",
    EscalationStep.SUPERVISION: "督办",
}


def console() -> Console:
    """A console on the current stdout (tests swap it), plain when it is not a terminal."""
    width = None if sys.stdout.isatty() else PIPE_WIDTH
    return Console(highlight=False, markup=False, emoji=False, width=width)


def _zone(policy: Policy) -> ZoneInfo:
    try:
        return ZoneInfo(policy.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def local_time(value: datetime | None, zone: ZoneInfo) -> str:
    if value is None:
        return ""
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def deadline_day(value: datetime | None, zone: ZoneInfo) -> str:
    return "" if value is None else deadline_text(value, zone.key)


def _money_text(view: MatterView) -> str:
    """核定, then what was offset (多领抵扣) and what the family receives, or must return."""
    if view.amount is None:
        return ""
    text = money(view.amount)
    if view.overpaid:
        text += f"（抵扣{money(view.overpaid)}，实发{money(view.net_amount)}）"
    if view.to_return:
        text += f"（应退回{money(view.to_return)}）"
    return text


def money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _short_name(policy: Policy, code: MatterCode, fallback: str) -> str:
    try:
        return policy.matter(code).short_name
    except KeyError:
        return fallback


# Columns that may wrap when the screen is narrow; codes, states, times and amounts stay whole.
_WRAPPING = frozenset({"事项", "部门", "说明", "内容", "原因", "事件"})


def _table(*columns: str) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    for column in columns:
        if column in _WRAPPING:
            table.add_column(column, overflow="fold", min_width=max(cell_len(column), 8))
        else:
            table.add_column(column, no_wrap=True)
    return table


def _section(title: str) -> str:
    return f"\n【{title}】"


# --- case status ---------------------------------------------------------------------------------


def _deadline_text(view: MatterView, zone: ZoneInfo) -> str:
    if not view.final and view.pauses and view.pauses[-1].ended_at is None:
        remaining = view.pauses[-1].remaining_working_days
        return f"暂停计时（剩{remaining}个工作日）" if remaining is not None else "暂停计时"
    text = deadline_day(view.deadline, zone)
    if text and view.calendar_fallback:
        text += "（推算：该年尚无官方节假日安排）"
    return text


def _overdue_text(view: MatterView) -> str:
    if view.deadline is None:
        return ""
    if not view.overdue:
        return "否"
    return f"是（{view.working_days_overdue}个工作日）" if view.working_days_overdue else "是"


def _matter_notes(view: MatterView) -> str:
    notes: list[str] = []
    if view.stop_date is not None:
        notes.append(messages.stops_on(view.stop_date))
    if view.state is MatterState.AWAITING_PROOF:
        notes.append(messages.proof_awaited())
    if view.pending_items and not view.final:
        notes.append("待补：" + "、".join(view.pending_items))
    if view.reason:
        notes.append(f"原因：{view.reason}")
    if view.certificate_no:
        notes.append(f"证明编号{view.certificate_no}")
    if view.escalations:
        notes.append("已" + "、".join(dict.fromkeys(ESCALATION_LABELS[step] for step in view.escalations)))
    if view.manual_handling:
        notes.append(f"需人工处理：{view.manual_handling}")
    return "；".join(notes)


def _decision_text(record: DecisionRecord) -> str:
    parts: list[str] = []
    if record.amount is not None:
        parts.append(f"金额{money(record.amount)}元")
    if record.certificate_no:
        parts.append(f"证明编号{record.certificate_no}")
    if record.reason:
        parts.append(f"原因：{record.reason}")
    if record.items:
        parts.append("材料：" + "、".join(record.items))
    if record.working_days is not None:
        parts.append(f"延长{record.working_days}个工作日")
    if record.note:
        parts.append(f"备注：{record.note}")
    return "；".join(parts)


def status_renderables(snapshot: StatusSnapshot, policy: Policy) -> list[object]:
    zone = _zone(policy)
    names = {view.code: _short_name(policy, view.code, view.name) for view in snapshot.matters}

    summary = Table.grid(padding=(0, 2))
    summary.add_column(style="bold")
    summary.add_column()
    rows: list[tuple[str, str]] = [
        ("受理编号", snapshot.case_number),
        ("案件状态", snapshot.case_state.value if snapshot.case_state else ""),
    ]
    if snapshot.added_to:
        rows.append(("原案件", f"{snapshot.added_to}（已办结，本案件办理其后追加的事项）"))
    elif snapshot.previous_case:
        rows.append(("前次申请", f"{snapshot.previous_case}（未能办成，本次重新申请）"))
    if snapshot.deceased is None:
        rows.append(("申请", "尚未收到家属申请"))
    else:
        channel = CHANNEL_LABELS.get(snapshot.channel, "") if isinstance(snapshot.channel, Channel) else ""
        rows += [
            ("申请渠道", channel),
            ("逝者", snapshot.deceased),
            ("申请人", snapshot.applicant or ""),
            # Empty: nothing the family chose pays, so no account was asked for.
            ("收款卡号", snapshot.payee_card or "无（无发放事项）"),
            ("受理时间", local_time(snapshot.received_at, zone)),
        ]
    if snapshot.closed_at:
        rows.append(("办结时间", local_time(snapshot.closed_at, zone)))
    cremation = snapshot.cremation
    rows.append((
        "火化证明",
        f"{cremation.certificate_no}（{cremation.funeral_home}，{cremation.cremated_on.isoformat()}火化，"
        f"{local_time(cremation.received_at, zone)}上传）" if cremation else "未上传",
    ))
    if snapshot.hukou_certificate_no:
        rows.append(("户口注销证明", snapshot.hukou_certificate_no))
    for label, value in rows:
        summary.add_row(label, value or "—")
    out: list[object] = [summary]

    if snapshot.matters:
        # The code (what commands take) on the first line of each matter, its name and department below.
        matters = _table("事项代码", "状态", "办理期限", "超时", "金额（元）", "发放流水号", "说明")
        for view in snapshot.matters:
            matters.add_row(
                f"{view.code.value}\n{names[view.code]}·{view.department_name}", view.state.value,
                _deadline_text(view, zone), _overdue_text(view), _money_text(view),
                view.payment_reference or "", _matter_notes(view),
            )
        out += [_section("事项办理情况"), matters]

    decisions = sorted(
        ((record, view.code) for view in snapshot.matters for record in view.decisions), key=lambda item: item[0].at
    )
    if decisions:
        table = _table("时间", "事项", "决定", "经办人", "内容")
        for record, code in decisions:
            table.add_row(local_time(record.at, zone), names[code], DECISION_LABELS.get(record.kind, record.kind.value),
                          record.by, _decision_text(record))
        out += [_section("审核记录"), table]

    # The CLI's status already lists the matters' refusals with the case's; a matter's own status does not.
    refused = sorted(
        dict.fromkeys([*snapshot.refused_actions, *(r for view in snapshot.matters for r in view.refused_actions)]),
        key=lambda item: item.at,
    )
    if refused:
        table = _table("时间", "事项", "操作", "办理人", "原因")
        for action in refused:
            table.add_row(local_time(action.at, zone), names.get(action.matter, "") if action.matter else "",
                          ACTION_LABELS.get(action.action, action.action), action.by or "", action.reason)
        out += [_section("被拒绝的操作"), table]

    if snapshot.timeline:
        table = _table("时间", "事项", "事件")
        for entry in snapshot.timeline:
            table.add_row(local_time(entry.at, zone), names.get(entry.matter, "") if entry.matter else "", entry.event)
        out += [_section("办理过程"), table]
    return out


def print_status(snapshot: StatusSnapshot, policy: Policy) -> None:
    out = console()
    for renderable in status_renderables(snapshot, policy):
        out.print(renderable)


# --- other listings ---------------------------------------------------------------------------------


def print_catalogue(policy: Policy) -> None:
    online = policy.departments_for(Channel.ONLINE)
    table = _table("事项代码", "部门", "事项", "承诺时限", "向家属发放款项", "网上可办")
    for matter in policy.matters:
        table.add_row(
            matter.code.value, matter.department_name, matter.name, f"{matter.time_limit_working_days}个工作日",
            "是" if matter.pays_family else "否", "是" if matter.department in online else "否",
        )
    console().print(table)


def print_overdue(items: Sequence[OverdueItem], policy: Policy, *, at_risk: bool = False) -> None:
    out = console()
    if not items:
        out.print("暂无即将到期的事项" if at_risk else "暂无超时事项")
        return
    zone = _zone(policy)
    table = _table("受理编号", "事项代码", "事项", "部门", "办理期限", "超期工作日", "督办级别", "说明")
    for item in items:
        table.add_row(item.case_number, item.matter.value, item.matter_name, item.department_name,
                      deadline_day(item.deadline, zone) + ("（推算）" if item.deadline_approximate else ""),
                      str(item.working_days_overdue),
                      LEVEL_LABELS.get(item.escalation_level, str(item.escalation_level)),
                      "转人工处理" if item.manual_handling else "")
    out.print(table)
    out.print(f"共{len(items)}项{'即将到期' if at_risk else '超时或转人工'}")


def print_payments(items: Sequence[PaymentItem], policy: Policy) -> None:
    out = console()
    if not items:
        out.print("暂无待确认或发放失败的款项")
        return
    zone = _zone(policy)
    table = _table("发放凭证号", "受理编号", "事项", "状态", "实发金额", "收款银行", "下达指令时间（北京时间）", "说明")
    for item in items:
        note = (f"第{item.attempt}次发放" if item.standing is PaymentStanding.AWAITING_CONFIRMATION
                else f"{local_time(item.failed_at, zone)}失败：{item.failure_reason or ''}")
        table.add_row(item.reference, item.case_number, item.matter_name, item.standing.value, money(item.amount),
                      item.payee_bank, local_time(item.instructed_at, zone), note)
    out.print(table)
    waiting = sum(item.standing is PaymentStanding.AWAITING_CONFIRMATION for item in items)
    out.print(f"共{len(items)}笔：待确认到账{waiting}笔，发放失败{len(items) - waiting}笔")


def print_worklist(views: Sequence[WorkView], setup: str) -> None:
    out = console()
    department = None
    for view in views:
        if view.department != department:
            department = view.department
            out.print(f"\n{view.department_name}（{view.department.value}）")
        out.print(f"  {view.name}：{view.url}", soft_wrap=True)
    out.print("\n列表中显示状态、期限（ShenhouDeadline）与超期，时间按北京时间显示：在Web界面页面按F12打开控制台，"
              "粘贴下面一行后回车（每个浏览器只需一次；同时保存上述视图）：")
    out.print(setup, soft_wrap=True)


LEVEL_LABELS = {0: "—", 1: "预警", 2: "超时", 3: "催办", 4: "督办"}


def ack_line(ack: CommandAck, what: str) -> str:
    return f"{what}已受理：{ack.message}"


def lines(values: Iterable[str]) -> str:
    return "\n".join(values)
