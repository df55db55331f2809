"""The heirs' letter (身后事项办理告知书（继承人）) of a finished case: what was done, what was paid, what was not,
and what remains outside the case with its materials and rules.

``build_letter`` is pure: it reads a finished case's status (``StatusSnapshot``, personal data already masked)
and the guidance data (``domain/heirs_guidance.yaml``, schema ``HeirsGuidance``), and returns the letter's
content; the portal shows it as a page and both the portal and the CLI print it as a PDF (client/letter_pdf.py).
Matter and department names are the catalogue's, as the case copied them when it started.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from domain.enums import CaseState, MatterState
from domain.models import MatterView, StatusSnapshot
from domain.policy import WindowPlace

DEFAULT_GUIDANCE_FILE = Path(__file__).with_name("heirs_guidance.yaml")
TITLE = "身后事项办理告知书（继承人）"

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class _Entry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class GuidanceItem(_Entry):
    """One thing the heirs do outside the case: where, with what, by which rules."""

    code: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
    title: Text
    where: Text
    materials: Annotated[tuple[Text, ...], Field(min_length=1)]
    rules: Annotated[tuple[Text, ...], Field(min_length=1)]


class HeirsGuidance(_Entry):
    """The guidance file's schema."""

    version: Text
    # Said once, above the items: general guidance, check with the institution.
    notice: Text
    items: Annotated[tuple[GuidanceItem, ...], Field(min_length=1)]


def load_guidance(path: Path | None = None) -> HeirsGuidance:
    """The guidance file at ``path``, or the packaged default. A broken file raises (yaml or pydantic error)."""
    if path is None:
        return default_guidance()
    return HeirsGuidance.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


@cache
def default_guidance() -> HeirsGuidance:
    return HeirsGuidance.model_validate(yaml.safe_load(DEFAULT_GUIDANCE_FILE.read_text(encoding="utf-8")))


class LetterNotReady(ValueError):
    """The case has not reached 办结: there is no letter yet."""

    def __init__(self) -> None:
        super().__init__("案件办结后方可出具继承人告知书")


# --- the letter's content ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DoneLine:
    matter: str
    department: str
    outcome: str
    certificate_no: str = ""


@dataclass(frozen=True)
class PaymentLine:
    matter: str
    department: str
    # 实发, e.g. "12,000.00元".
    amount: str
    reference: str
    # The day the paying system confirmed the transfer, e.g. "2026年12月3日".
    paid_on: str


@dataclass(frozen=True)
class ReturnLine:
    matter: str
    amount: str


@dataclass(frozen=True)
class NotDoneLine:
    matter: str
    department: str
    outcome: str
    reason: str


@dataclass(frozen=True)
class Letter:
    title: str
    case_number: str
    closed_on: str
    deceased: str
    payee_card: str
    intro: str
    done: tuple[DoneLine, ...]
    paid: tuple[PaymentLine, ...]
    total_paid: str
    to_return: tuple[ReturnLine, ...]
    not_done: tuple[NotDoneLine, ...]
    notice: str
    remaining: tuple[GuidanceItem, ...]
    contact: str
    guidance_version: str


_DONE_OUTCOME: dict[MatterState, str] = {
    MatterState.APPROVED: "已办结（审核通过）",
    MatterState.PAID: "已办结，款项已发放到账",
    MatterState.PAYING: "审核通过，款项发放中",
    MatterState.PAYMENT_FAILED: "审核通过，款项未能到账，请到窗口更正收款账户",
    MatterState.AWAITING_PROOF: "审核通过，款项待窗口核验亲属关系证明后发放",
    MatterState.NO_BENEFIT: "已办结（经核查无该项待遇）",
}
_NOT_DONE_OUTCOME: dict[MatterState, str] = {
    MatterState.REJECTED: "不予办理",
    MatterState.WITHDRAWN: "已撤回",
    MatterState.NOT_PUSHED: "未推送办理",
}


def yuan(amount: Decimal) -> str:
    return f"{amount:,.2f}元"


def day_text(at: datetime | None, timezone: str) -> str:
    if at is None:
        return ""
    local = at.astimezone(ZoneInfo(timezone))
    return f"{local.year}年{local.month}月{local.day}日"


def build_letter(
    snapshot: StatusSnapshot, guidance: HeirsGuidance, *, timezone: str, window: WindowPlace | None = None,
) -> Letter:
    """The letter of a finished case (办结); ``LetterNotReady`` for any other."""
    if snapshot.case_state is not CaseState.COMPLETED:
        raise LetterNotReady()
    done: list[DoneLine] = []
    paid: list[PaymentLine] = []
    returns: list[ReturnLine] = []
    not_done: list[NotDoneLine] = []
    total = Decimal(0)
    for view in snapshot.matters:
        if view.state in _NOT_DONE_OUTCOME:
            not_done.append(NotDoneLine(view.name, view.department_name, _NOT_DONE_OUTCOME[view.state],
                                        view.reason or ""))
            continue
        done.append(DoneLine(view.name, view.department_name, _outcome(view), view.certificate_no or ""))
        if view.state is MatterState.PAID and view.net_amount and view.net_amount > 0:
            total += view.net_amount
            paid.append(PaymentLine(view.name, view.department_name, yuan(view.net_amount),
                                    view.payment_reference or "", day_text(view.payment_confirmed_at, timezone)))
        if view.to_return:
            returns.append(ReturnLine(view.name, yuan(view.to_return)))
    intro = ("您申请办理的身后“一件事一次办”案件已全部办结。现将各事项的办理结果、已发放的款项，"
             "以及本案之外仍需继承人自行办理的事项告知如下，请妥善保存本告知书。")
    contact = ""
    if window is not None:
        contact = f"如有疑问，请咨询{window.name}（{window.address}，{window.hours}，电话{window.phone}）。"
    return Letter(
        title=TITLE, case_number=snapshot.case_number, closed_on=day_text(snapshot.closed_at, timezone),
        deceased=snapshot.deceased or "", payee_card=snapshot.payee_card or "", intro=intro,
        done=tuple(done), paid=tuple(paid), total_paid=yuan(total), to_return=tuple(returns),
        not_done=tuple(not_done), notice=guidance.notice, remaining=guidance.items, contact=contact,
        guidance_version=guidance.version,
    )


def _outcome(view: MatterView) -> str:
    outcome = _DONE_OUTCOME.get(view.state, view.state.value)
    if view.state is MatterState.APPROVED and view.to_return:
        outcome = "已办结（审核通过），无款项发放"
    return outcome


def letter_lines(letter: Letter) -> list[str]:
    """The letter as plain lines (for a check by eye, a log-free test, or a text print)."""
    lines = [letter.title, f"受理编号：{letter.case_number}", f"办结日期：{letter.closed_on}", letter.intro,
             "一、已办理的事项"]
    lines += [f"{d.matter}（{d.department}）：{d.outcome}" + (f"，证明编号{d.certificate_no}" if d.certificate_no
                                                             else "") for d in letter.done]
    lines.append("二、已发放的款项")
    lines += [f"{p.matter}：实发{p.amount}，发放流水号{p.reference}，到账日期{p.paid_on}" for p in letter.paid]
    lines.append(f"合计实发：{letter.total_paid}")
    lines += [f"{r.matter}：需退回{r.amount}" for r in letter.to_return]
    lines.append("三、未办理的事项")
    lines += [f"{n.matter}（{n.department}）：{n.outcome}" + (f"，原因：{n.reason}" if n.reason else "")
              for n in letter.not_done]
    lines += ["四、仍需继承人自行办理的事项", letter.notice]
    for item in letter.remaining:
        lines += [item.title, f"办理地点：{item.where}", *(f"材料：{m}" for m in item.materials), *item.rules]
    if letter.contact:
        lines.append(letter.contact)
    return lines
