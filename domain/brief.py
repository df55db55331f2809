"""The officer's brief: what a matter's page in the Temporal Web UI says of the case and of what to do next.

Temporal's user metadata carries it: the matter's static summary and details (set by the case when it starts
the matter), the summary of each timer, and the current details the matter sets after every change. All of
it is text for the Web UI, built here by plain functions; people appear masked (any reader of the UI may see
them; the case's own officers read the rest in the decoded input, runtime/read_scope.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from domain.application import CHANNEL_LABELS, PENSION_STATUS_LABELS, RELATIONSHIP_LABELS
from domain.catalogue import MATERIAL_LABELS, MatterDefinition
from domain.enums import AccountKind, Department, MatterCode, MatterState, PensionStatus
from domain.identity import mask_name, mask_number
from domain.models import Application, BankAccount, MatterBrief, MatterView

TZ_LABEL = "北京时间"
_SITUATIONS = {
    "employee_medical_insurance": "有职工医保个人账户",
    "social_assistance": "享受社会救助（低保、特困等）",
    "housing_provident_fund": "有住房公积金账户",
    "disability_subsidy": "享受残疾人两项补贴",
    "preferential_care": "优抚对象",
}


def brief_of(application: Application, definitions: Sequence[MatterDefinition],
             scan_url: str | None = None, labels: Mapping[str, str] | None = None) -> MatterBrief:
    """The case as every matter's officer is told it; ``definitions``: the matters the family applied for;
    ``scan_url``: where a scan opens by its SHA-256 (a Markdown link on each material); ``labels``: the names of
    the questions and materials a county's catalogue adds (``Policy.catalogue_labels``)."""
    labels = labels or {}
    deceased, applicant = application.deceased, application.applicant
    situations = [] if application.situations.pension_status is PensionStatus.NONE else [
        PENSION_STATUS_LABELS[application.situations.pension_status]]
    situations += [label for field, label in _SITUATIONS.items() if getattr(application.situations, field)]
    for code, answer in application.situations.answers.items():
        label = labels.get(f"situations.{code}", code)
        if answer is True:
            situations.append(label)
        elif isinstance(answer, str) and answer:
            situations.append(f"{label}：{labels.get(f'situations.{code}.{answer}', answer)}")
    account = applicant.bank_account
    return MatterBrief(
        deceased_name=mask_name(deceased.name), deceased_id=mask_number(deceased.id_number),
        death_date=deceased.death_date, applicant_name=mask_name(applicant.name),
        relationship=RELATIONSHIP_LABELS[applicant.relationship], channel=CHANNEL_LABELS[application.channel],
        situations=tuple(situations) or ("无",), claims=tuple(d.short_name for d in definitions),
        materials=tuple(_material_link(ref.kind, ref.sha256, scan_url, labels) for ref in application.materials),
        payee=_payee(account),
        police_station=deceased.police_station,
    )


def _payee(account: BankAccount) -> str:
    if not account.given:
        return "无（家属所选事项均不发放款项）"
    kind = "存折" if account.kind is AccountKind.PASSBOOK else ""
    return f"{account.bank_name} {mask_name(account.account_name)} {kind}{mask_number(account.card_number)}"


def _material_link(kind: str, sha256: str, scan_url: str | None, labels: Mapping[str, str]) -> str:
    """A material as the details show it (already Markdown): its name, linked to its scan where one is served."""
    name = _md(labels.get(f"materials.{kind}") or _material(kind))
    if scan_url is None:
        return f"{name}（{sha256[:8]}）"
    return f"[{name}]({scan_url.rstrip('/')}/{sha256})"


def _material(kind: str) -> str:
    for key, label in MATERIAL_LABELS.items():
        if key.value == kind:
            return label
    return kind


# Markdown's special characters, each escaped with a backslash. A translation table, not ``re.sub``: a
# pattern given as text is looked up in re's cache on every call, which inside the workflow sandbox (every
# isinstance check wrapped) cost more than the escaping.
_MARKDOWN_ESCAPES = str.maketrans({char: "\\" + char for char in "\\`*_[]<>#|"})


def _md(text: str) -> str:
    """Text shown as itself in Temporal's Markdown: a masked ``王**`` must not turn into bold."""
    return text.translate(_MARKDOWN_ESCAPES)


def static_summary(brief: MatterBrief, definition: MatterDefinition) -> str:
    """One line: whose case, who applies, which matter."""
    return (f"{definition.short_name}｜逝者{_md(brief.deceased_name)}（{_md(brief.deceased_id)}，"
            f"{brief.death_date:%Y-%m-%d}去世）｜申请人{_md(brief.applicant_name)}（{brief.relationship}）")


def static_details(brief: MatterBrief, definition: MatterDefinition, case_number: str) -> str:
    """The case in Markdown, and every signal an officer may send with a ready-to-edit example."""
    lines = [
        f"**受理编号** {case_number}　**事项** {definition.name}（{definition.department_name}，"
        f"承诺时限{definition.time_limit_working_days}个工作日）",
        "",
        f"- **逝者**：{_md(brief.deceased_name)}，身份证号 {_md(brief.deceased_id)}，{brief.death_date:%Y-%m-%d}去世",
        f"- **申请人**：{_md(brief.applicant_name)}，与逝者关系：{brief.relationship}；{brief.channel}",
        f"- **逝者情形**：{'、'.join(brief.situations)}",
        f"- **家属申请的事项**：{_md('、'.join(brief.claims))}",
        f"- **材料**（点击打开扫描件，仅限有权查看的工作人员，访问留痕）：{'、'.join(brief.materials) or '无'}",
    ]
    if definition.department is Department.POLICE and brief.police_station:
        lines.append(f"- **户籍地派出所**：{_md(brief.police_station)}")
    if definition.pays_family:
        lines.append(f"- **收款账户**：{_md(brief.payee)}")
    lines += [
        "",
        "身份证号、银行卡号等完整信息：本案所涉部门的经办人登录后在本案（受理编号）的输入中查看。",
        "",
        "**可发送的信号**（More Actions → Send a Signal，选择名称，粘贴示例后修改）：",
        "",
    ]
    for name, meaning, example in signal_examples(definition, case_number):
        lines.append(f"- `{name}`：{meaning}　`{example}`")
    return "\n".join(lines)


def signal_examples(definition: MatterDefinition, case_number: str) -> list[tuple[str, str, str]]:
    """(signal, what it does, its JSON example) for the officer's signals of this matter."""
    names = {"case_number": case_number, "matter": definition.code.value}
    if definition.code is MatterCode.HUKOU_CANCELLATION:
        approve = {"officer": "王警官", "certificate_no": "户口注销证明编号", **names}
    elif definition.pays_family:
        approve = {"officer": "李科员", "amount": "1234.50", **names}
    else:
        approve = {"officer": "李科员", **names}
    examples = [
        ("approve", "审核通过" + ("，填核定金额（元）" if definition.pays_family else ""), approve),
        ("reject", "不予办理，写明原因（告知家属）", {"officer": "李科员", "reason": "不符合条件的原因", **names}),
        ("request_materials", "要求补正，计时暂停", {"officer": "李科员", "items": ["所缺材料"], **names}),
        ("extend_deadline", "督办人延长时限", {"supervisor": "张主任", "working_days": 3, "reason": "延期原因",
                                          **names}),
    ]
    return [(name, meaning, json.dumps(body, ensure_ascii=False)) for name, meaning, body in examples]


_NEXT: dict[MatterState, str] = {
    MatterState.PENDING_PUSH: "等待推送",
    MatterState.UNDER_REVIEW: "请审核：approve（通过）、reject（不予办理）或 request_materials（要求补正）",
    MatterState.AWAITING_MATERIALS: "等待家属到窗口补正材料（窗口登记后自动恢复计时）；仍可 reject",
    MatterState.APPROVED: "已通过，正在下达发放指令",
    MatterState.PAYING: "等待支付系统确认到账（shenhou payments 可查看待确认款项）",
    MatterState.PAYMENT_FAILED: "发放失败：等待窗口更正收款账户（shenhou case correct-account）",
}


def working_days_left(days: Sequence[date], now: datetime, timezone: str) -> int:
    """Working days of a running deadline not yet begun at ``now`` (today, being under way, counts)."""
    today = now.astimezone(ZoneInfo(timezone)).date()
    return sum(1 for day in days if day >= today)


def current_details(view: MatterView, days: Sequence[date], now: datetime, timezone: str) -> str:
    """Where the matter stands and what the officer may do next (set after every change)."""
    zone = ZoneInfo(timezone)
    lines = [f"**状态**：{view.state.value}" + ("（已超期）" if view.overdue else "")]
    if view.deadline is not None and view.state is MatterState.UNDER_REVIEW:
        last = (view.deadline.astimezone(zone) - timedelta(microseconds=1)).date()
        left = working_days_left(days, now, timezone) if days else None
        shown = f"**承诺期限**：{last:%Y-%m-%d} 24:00（{TZ_LABEL}）"
        if view.overdue:
            shown += f"，已超期{view.working_days_overdue}个工作日"
        elif left is not None:
            shown += f"，截至{now.astimezone(zone):%m月%d日}剩余{left}个工作日"
        if view.calendar_fallback:
            shown += "（按法定节假日规则推算）"
        lines.append(shown)
    elif view.pauses and view.state is MatterState.AWAITING_MATERIALS:
        lines.append(f"**计时暂停**：补正后剩余{view.pauses[-1].remaining_working_days or 0}个工作日")
    if view.payment_reference and view.state in (MatterState.PAYING, MatterState.PAYMENT_FAILED):
        lines.append(f"**发放凭证号**：{view.payment_reference}（实发{view.net_amount}元）")
    if view.pending_items:
        lines.append(f"**待补正材料**：{_md('、'.join(view.pending_items))}")
    if not view.final and view.state in _NEXT:
        lines.append(f"**下一步**：{_NEXT[view.state]}")
    if view.refused_actions:
        last_refusal = view.refused_actions[-1]
        lines.append(f"**最近一次被拒绝的操作**：{_md(last_refusal.action)}——{_md(last_refusal.reason)}")
    lines.append(f"（更新于{now.astimezone(zone):%Y-%m-%d %H:%M} {TZ_LABEL}）")
    return "\n\n".join(lines)


def timer_summary(what: str, at: datetime, timezone: str) -> str:
    """A timer's one line: what happens then, and when in 北京时间."""
    return f"{what}，{at.astimezone(ZoneInfo(timezone)):%Y-%m-%d %H:%M}（{TZ_LABEL}）"
