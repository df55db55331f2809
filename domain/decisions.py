"""The rules an officer's decision must meet, shared by the signal handlers and the CLI's update."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from domain.catalogue import MatterDefinition
from domain.enums import AccountKind, Channel, DecisionKind, Issuer, MatterCode, MatterState
from domain.identity import luhn_valid, passbook_valid
from domain.models import (
    ApproveInput,
    DecisionCommand,
    ExtendDeadlineInput,
    MaterialsSupplementedInput,
    MattersAdded,
    PayeeCorrectedInput,
    PayeeProvenInput,
    PaymentConfirmedInput,
    PaymentFailedInput,
    RejectInput,
    RequestMaterialsInput,
    WithdrawInput,
)
from domain.policy import Policy
from domain.statements import statement_digest

# Everything a matter takes as a decision, from a signal or the CLI's update.
Decision = (
    ApproveInput
    | RejectInput
    | RequestMaterialsInput
    | MaterialsSupplementedInput
    | ExtendDeadlineInput
    | WithdrawInput
    | PayeeCorrectedInput
    | PayeeProvenInput
    | PaymentConfirmedInput
    | PaymentFailedInput
)

KIND_OF: dict[type[Any], DecisionKind] = {
    ApproveInput: DecisionKind.APPROVE,
    RejectInput: DecisionKind.REJECT,
    RequestMaterialsInput: DecisionKind.REQUEST_MATERIALS,
    MaterialsSupplementedInput: DecisionKind.MATERIALS_SUPPLEMENTED,
    ExtendDeadlineInput: DecisionKind.EXTEND_DEADLINE,
    WithdrawInput: DecisionKind.WITHDRAW,
    PayeeCorrectedInput: DecisionKind.PAYEE_CORRECTED,
    PayeeProvenInput: DecisionKind.PAYEE_PROVEN,
    PaymentConfirmedInput: DecisionKind.PAYMENT_CONFIRMED,
    PaymentFailedInput: DecisionKind.PAYMENT_FAILED,
}


def check_approval(matter: MatterDefinition, approval: ApproveInput) -> str | None:
    """Matter-specific rules for an approval, shared by the signal and the CLI's update.

    ¥0 is a valid amount (nothing to pay, e.g. an empty medical account). What was paid after the death
    (``overpaid``, 多领抵扣) is offset against the amount and needs its source.
    """
    problems: list[str] = []
    if matter.pays_family:
        if approval.amount is None:
            problems.append(f"“{matter.short_name}”需向家属发放款项，须填写金额（无款项可发放的填0）")
        elif approval.amount.is_signed():
            problems.append("金额不能为负数")
        elif matter.max_amount is not None and approval.amount > matter.max_amount:
            problems.append(f"金额超过本事项上限{matter.max_amount}元")
        if approval.overpaid is not None:
            if approval.overpaid.is_signed():
                problems.append("多领抵扣金额不能为负数")
            elif matter.max_amount is not None and approval.overpaid > matter.max_amount:
                problems.append(f"多领抵扣金额超过本事项上限{matter.max_amount}元")
            if approval.overpaid > Decimal("0") and not approval.overpaid_source:
                problems.append("请填写多领款项的来源（overpaid_source），如“养老金多发3个月”")
        elif approval.overpaid_source:
            problems.append("填写了多领款项来源，但未填写多领抵扣金额（overpaid）")
    else:
        if approval.amount is not None:
            problems.append(f"“{matter.short_name}”不发放款项，不应填写金额")
        if approval.overpaid is not None or approval.overpaid_source:
            problems.append(f"“{matter.short_name}”不发放款项，不能抵扣多领款项")
    if approval.no_benefit:
        if matter.stops_from is None:
            return f"“{matter.short_name}”不是待遇终止事项，不能以“无该待遇”办结"
        if approval.amount is not None or approval.overpaid is not None:
            return "“无该待遇”办结不应填写金额"
        return None
    if matter.code == MatterCode.HUKOU_CANCELLATION and not approval.certificate_no:
        problems.append("户口注销须填写户口注销证明编号（certificate_no）")
    return "；".join(problems) or None


_REVIEW = (DecisionKind.APPROVE, DecisionKind.REJECT, DecisionKind.REQUEST_MATERIALS)


def check_state_for(kind: DecisionKind, state: MatterState, final: bool) -> str | None:
    """Whether the matter's state admits this kind of decision."""
    if final:
        return f"事项已办结（{state.value}），不能再作决定"
    if kind in _REVIEW:
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
    if kind in (DecisionKind.PAYMENT_CONFIRMED, DecisionKind.PAYMENT_FAILED) and state != MatterState.PAYING:
        return f"事项当前状态为{state.value}，没有待确认的款项"
    if kind == DecisionKind.PAYEE_PROVEN and state in (MatterState.PAYING, MatterState.PAYMENT_FAILED):
        return "本事项款项已下达发放指令，无需再核验"
    if kind == DecisionKind.PAYEE_CORRECTED and state != MatterState.PAYMENT_FAILED:
        return "本事项没有待重新发放的款项"
    return None


def decision_of(command: DecisionCommand) -> Decision:
    """The decision a CLI command carries, or ValueError with the Chinese reason (the update is refused)."""
    payload = command_payload(command)
    if isinstance(payload, str):
        raise ValueError(payload)
    assert isinstance(payload, tuple(KIND_OF)), payload
    return payload  # type: ignore[return-value]


def command_payload(command: DecisionCommand) -> BaseModel | str:
    """The one input a CLI decision carries for its kind."""
    payload = {
        DecisionKind.APPROVE: command.approve,
        DecisionKind.REJECT: command.reject,
        DecisionKind.REQUEST_MATERIALS: command.request_materials,
        DecisionKind.MATERIALS_SUPPLEMENTED: command.materials_supplemented,
        DecisionKind.EXTEND_DEADLINE: command.extend_deadline,
        DecisionKind.PAYMENT_CONFIRMED: command.payment_confirmed,
        DecisionKind.PAYMENT_FAILED: command.payment_failed,
    }.get(command.kind)
    if payload is None:
        return f"缺少{command.kind.value}的内容"
    return payload


# Who must sign each statement that moves money, a payee or a withdrawal (runtime/signing.py); an addition names
# its signer (``issuer_of``), and the window is its default.
SIGNED_BY: dict[type[BaseModel], Issuer] = {
    PaymentConfirmedInput: Issuer.PAYING_SYSTEM,
    PaymentFailedInput: Issuer.PAYING_SYSTEM,
    PayeeCorrectedInput: Issuer.WINDOW,
    PayeeProvenInput: Issuer.WINDOW,
    WithdrawInput: Issuer.WINDOW,
    MattersAdded: Issuer.WINDOW,
}


# The kind each signed statement is signed as (the matter's decision kinds, and the case's own statements).
STATEMENT_KIND: dict[type[BaseModel], str] = {
    PaymentConfirmedInput: DecisionKind.PAYMENT_CONFIRMED.value,
    PaymentFailedInput: DecisionKind.PAYMENT_FAILED.value,
    PayeeCorrectedInput: DecisionKind.PAYEE_CORRECTED.value,
    PayeeProvenInput: DecisionKind.PAYEE_PROVEN.value,
    WithdrawInput: DecisionKind.WITHDRAW.value,
    MattersAdded: "matters_added",
}


def issuer_of(body: BaseModel) -> Issuer:
    """Whose signature ``body`` must carry: an addition names it (the window or the portal); every other statement's
    issuer follows from what it is."""
    return body.issuer if isinstance(body, MattersAdded) else SIGNED_BY[type(body)]


# Who may sign an addition at all; the window's is the default (domain/models.py, MattersAdded.issuer).
ADDITION_ISSUERS = (Issuer.WINDOW, Issuer.PORTAL)


def may_sign(addition: MattersAdded, county: Policy) -> bool:
    """Whether the addition's issuer may add these matters: the window any; the families' portal only what a
    signed-in applicant could apply for online, the online channel's matters (``county``'s reach), as an online
    addition. The portal is public-facing, so its key must not open the window's matters."""
    if addition.issuer != Issuer.PORTAL:
        return addition.issuer == Issuer.WINDOW
    reach = county.departments_for(Channel.ONLINE)
    departments = {m.code: m.department for m in county.matters}
    return addition.channel == Channel.ONLINE and all(
        departments.get(code) in reach for code in addition.matters)


def signed_digest(body: BaseModel, case_number: str, matter: MatterCode | None) -> str:
    """What the issuer of ``body`` signs (domain/statements.py): its kind and issuer follow from what it is, and
    it names the matter only as a payment report (one matter's); the window's word is the case's."""
    issuer = issuer_of(body)
    scope = matter.value if issuer == Issuer.PAYING_SYSTEM and matter is not None else None
    return statement_digest(issuer, STATEMENT_KIND[type(body)], case_number, scope, body)


def payment_key(matter: MatterCode, reference: str | None, attempt: int) -> str:
    """What a correction names to say which failed payment it is for: the payment's reference, or, when the
    paying system refused the instruction before it had one, the matter and attempt (``code#2``)."""
    return reference or f"{matter.value}#{attempt}"


def account_problem(correction: PayeeCorrectedInput) -> str | None:
    """A corrected account's number as its kind needs it: a card's passes Luhn, a passbook's is 8–30 digits."""
    number = correction.card_number.replace(" ", "")
    if correction.kind is AccountKind.PASSBOOK:
        return None if passbook_valid(number) else "存折（一折通）账号应为8至30位数字"
    return None if luhn_valid(number) else "银行卡号校验不通过"


def check_correction(correction: PayeeCorrectedInput, applicant_name: str) -> str | None:
    """A new payee account: a valid card, the applicant's own name unless the window holds an authorisation
    (its reason and the 收款委托书's number), and the failed payments it is for. All problems at once."""
    problems: list[str] = []
    if problem := account_problem(correction):
        problems.append(problem)
    if correction.account_name != applicant_name and not (
        correction.authorised_reason and correction.authorisation_document
    ):
        problems.append("收款账户户名须为申请人本人；确需由他人收款的，须登记委托收款原因和收款委托书编号"
                        "（authorised_reason、authorisation_document）")
    if not correction.references:
        problems.append("未注明所更正的发放凭证号（references）")
    return "；".join(problems) or None
