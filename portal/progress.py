"""The progress page's content: a case's status told in plain Chinese, with each matter's predicted completion.

The status arrives with personal data already masked (``StatusSnapshot``); nothing here adds any.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.enums import CaseState, MatterState
from domain.models import MatterView, StatusSnapshot
from domain.policy import Policy, WindowPlace
from portal.prediction import Calendar, Prediction, deadline_day, predict

CASE_STATE_TEXT: dict[CaseState, str] = {
    CaseState.RECEIVED: "已受理",
    CaseState.HUKOU_CANCELLING: "派出所正在办理户口注销，办结后其余事项同时推送各部门",
    CaseState.AWAITING_CREMATION: "户口已注销，等待殡仪馆上传火化证明后推送其余事项",
    CaseState.IN_PROGRESS: "各部门正在并联办理",
    CaseState.COMPLETED: "全部事项已办结",
    CaseState.WITHDRAWN: "申请已撤回",
    CaseState.HUKOU_REJECTED: "户口注销未能办理，其余事项未推送；可到窗口重新申请",
    CaseState.REFUSED: "不予受理",
}
MATTER_STATE_TEXT: dict[MatterState, str] = {
    MatterState.PENDING_PUSH: "等待推送（户口注销办结后自动推送）",
    MatterState.UNDER_REVIEW: "部门审核中",
    MatterState.AWAITING_MATERIALS: "需要补正材料",
    MatterState.APPROVED: "已办结（审核通过）",
    MatterState.PAYING: "审核通过，款项发放中",
    MatterState.PAYMENT_FAILED: "款项未能到账，请到窗口更正收款账户",
    MatterState.PAID: "已办结，款项已到账",
    MatterState.AWAITING_PROOF: "审核通过，请携带亲属关系证明到窗口核验后发放",
    MatterState.NO_BENEFIT: "已办结（经核查无该项待遇）",
    MatterState.REJECTED: "不予办理",
    MatterState.WITHDRAWN: "已撤回",
    MatterState.NOT_PUSHED: "未推送",
    MatterState.IN_PROGRESS: "办理中",
}
# How each state looks: done, waiting on the family, or still with the department.
_TONE: dict[MatterState, str] = {
    MatterState.APPROVED: "done", MatterState.PAID: "done", MatterState.NO_BENEFIT: "done",
    MatterState.AWAITING_MATERIALS: "action", MatterState.PAYMENT_FAILED: "action",
    MatterState.AWAITING_PROOF: "action",
    MatterState.REJECTED: "stopped", MatterState.WITHDRAWN: "stopped", MatterState.NOT_PUSHED: "stopped",
}


def day_text(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def time_text(at: datetime | None, timezone: str) -> str:
    if at is None:
        return ""
    local = at.astimezone(ZoneInfo(timezone))
    return f"{day_text(local.date())} {local:%H:%M}"


def yuan(amount: Decimal | None) -> str:
    return "" if amount is None else f"{amount:,.2f}元"


@dataclass(frozen=True)
class Row:
    label: str
    value: str
    note: str = ""


@dataclass
class MatterCard:
    name: str
    full_name: str
    department: str
    state: str
    tone: str
    rows: list[Row] = field(default_factory=list)
    prediction: Prediction | None = None
    prediction_text: str = ""
    supplement: list[str] = field(default_factory=list)
    money: list[Row] = field(default_factory=list)
    # The matter's code (its 好差评 form, portal/ratings.py).
    code: str = ""


@dataclass(frozen=True)
class HistoryLine:
    at: str
    matter: str
    event: str


@dataclass
class ProgressPage:
    case_number: str
    case_state: str
    summary: list[Row]
    matters: list[MatterCard]
    history: list[HistoryLine]
    window: WindowPlace
    # 办结: the heirs' letter is there to read and download (portal/letter.py).
    letter: bool = False


def build(
    snapshot: StatusSnapshot, policy: Policy, *, calendar: Calendar, samples: Callable[[str], list[int]],
    today: date,
) -> ProgressPage:
    zone = policy.timezone
    names = {view.code: _short_name(policy, view) for view in snapshot.matters}
    summary = [Row("受理编号", snapshot.case_number)]
    if snapshot.received_at:
        summary.append(Row("受理时间", time_text(snapshot.received_at, zone)))
    if snapshot.deceased:
        summary.append(Row("逝者", snapshot.deceased))
    if snapshot.applicant:
        summary.append(Row("申请人", snapshot.applicant))
    if snapshot.payee_card:
        summary.append(Row("收款账户", snapshot.payee_card))
    if snapshot.closed_at:
        summary.append(Row("办结时间", time_text(snapshot.closed_at, zone)))
    cards = [_card(view, names[view.code], snapshot.payee_card, policy, calendar, samples, today)
             for view in snapshot.matters]
    history = [
        HistoryLine(time_text(entry.at, zone), names.get(entry.matter, "") if entry.matter else "", entry.event)
        # Newest first; entries of the same moment keep their order of happening, reversed with the rest.
        for entry in reversed(sorted(snapshot.timeline, key=lambda entry: entry.at))
    ]
    state = CASE_STATE_TEXT.get(snapshot.case_state, "") if snapshot.case_state else "尚未收到申请"
    return ProgressPage(snapshot.case_number, state, summary, cards, history, policy.window,
                        letter=snapshot.case_state is CaseState.COMPLETED)


def _short_name(policy: Policy, view: MatterView) -> str:
    try:
        return policy.matter(view.code).short_name
    except KeyError:
        return view.name


def _late(view: MatterView) -> str:
    return "（已超期）" if view.overdue and not view.final else ""


def _card(
    view: MatterView, name: str, payee_card: str | None, policy: Policy, calendar: Calendar,
    samples: Callable[[str], list[int]], today: date,
) -> MatterCard:
    zone = policy.timezone
    card = MatterCard(name=name, full_name=view.name, department=view.department_name,
                      state=MATTER_STATE_TEXT.get(view.state, view.state.value) + _late(view),
                      tone=_TONE.get(view.state, "open"), code=view.code.value)
    if view.pushed_at:
        card.rows.append(Row("推送部门时间", time_text(view.pushed_at, zone)))
    if view.deadline:
        approximate = "（推算日期：该年尚无官方节假日安排，以部门通知为准）" if view.calendar_fallback else ""
        card.rows.append(Row("承诺办结期限", day_text(deadline_day(view.deadline, zone)), approximate))
    decided = next((d for d in reversed(view.decisions) if d.kind.value in ("approve", "reject")), None)
    if decided is not None:
        card.rows.append(Row("审核时间", time_text(decided.at, zone)))
    if view.reason and view.state is MatterState.REJECTED:
        card.rows.append(Row("不予办理原因", view.reason))
    if view.certificate_no:
        card.rows.append(Row("证明编号", view.certificate_no))
    card.prediction = predict(view, timezone=zone, calendar=calendar, samples=samples(view.code.value),
                              today=today)
    if card.prediction is not None and card.prediction.day is not None:
        card.prediction_text = day_text(card.prediction.day) + ("（推算）" if card.prediction.approximate else "")
    if view.pending_items and not view.final:
        card.supplement = list(view.pending_items)
    if view.amount is not None:
        card.money.append(Row("核定金额", yuan(view.amount)))
        if view.overpaid:
            card.money.append(Row("抵扣（逝者身故后多领）", yuan(view.overpaid), view.overpaid_source or ""))
        if view.net_amount is not None:
            card.money.append(Row("实发金额", yuan(view.net_amount)))
        if view.to_return:
            card.money.append(Row("需退回金额", yuan(view.to_return), "请按部门通知办理退回"))
        if payee_card and view.net_amount:
            card.money.append(Row("收款账户", payee_card))
        if view.payment_reference:
            card.money.append(Row("发放流水号", view.payment_reference))
        if view.payment_confirmed_at:
            card.money.append(Row("到账确认时间", time_text(view.payment_confirmed_at, zone)))
    return card
