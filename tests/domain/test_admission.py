"""Whether a matter takes a decision as it stands (domain/admission.py), without a server: the table of states
and decisions, and the checks of who decided."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from domain import admission
from domain.decisions import Decision
from domain.enums import DecisionKind, Department, MatterState
from domain.models import (
    ApproveInput,
    ExtendDeadlineInput,
    MaterialsSupplementedInput,
    MatterProgress,
    OfficerStatement,
    PayeeCorrectedInput,
    PaymentConfirmedInput,
    PaymentFailedInput,
    RejectInput,
    RequestMaterialsInput,
    WithdrawInput,
)
from domain.officers import UNVERIFIED, decision_digest
from tests.domain.matters import CASE, NO_MONEY, NOW, PAYS, matter, paused, paying, reviewing
from tests.factories import APPLICANT_NAME, make_card_number

APPROVE = ApproveInput(officer="李科员", amount="100.00")
REJECT = RejectInput(officer="李科员", reason="不符合条件")
REQUEST = RequestMaterialsInput(officer="李科员", items=["户口簿"])
SUPPLIED = MaterialsSupplementedInput(matter=PAYS, items=["户口簿"])
EXTEND = ExtendDeadlineInput(supervisor="张主任", working_days=3, reason="材料复杂")
WITHDRAW = WithdrawInput(clerk="窗口周", reason="家属决定自行办理")
CONFIRMED = PaymentConfirmedInput(reference="PAY-1", by="代发系统")
FAILED = PaymentFailedInput(reference="PAY-1", by="代发系统", reason="账户已销户")
CORRECTED = PayeeCorrectedInput(clerk="窗口周", bank_name="中国银行", account_name=APPLICANT_NAME,
                                card_number=make_card_number("6228", 19, 9), references=("PAY-1",))

STATES: dict[str, MatterProgress] = {
    "under review": reviewing(),
    "awaiting materials": paused(3),
    "paying": paying(),
    "payment failed": paying(state=MatterState.PAYMENT_FAILED),
    "final": reviewing(state=MatterState.REJECTED, final=True),
}
DECISIONS: dict[str, Decision] = {
    "approve": APPROVE, "reject": REJECT, "request": REQUEST, "supplied": SUPPLIED, "extend": EXTEND,
    "withdraw": WITHDRAW, "confirmed": CONFIRMED, "failed": FAILED, "corrected": CORRECTED,
}
# Which decisions each state takes (a refusal's reason is Chinese; here only whether there is one).
TAKES = {
    "under review": {"approve", "reject", "request", "extend", "withdraw"},
    "awaiting materials": {"supplied", "extend", "withdraw"},
    "paying": {"confirmed", "failed", "withdraw"},
    "payment failed": {"corrected", "withdraw"},
    "final": set(),
}


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("decision", DECISIONS)
def test_each_state_takes_its_decisions_and_refuses_the_rest_with_a_reason(state: str, decision: str) -> None:
    reason = admission.problem(STATES[state], matter(), DECISIONS[decision])
    if decision in TAKES[state]:
        assert reason is None
    else:
        assert reason, (state, decision)


@pytest.mark.parametrize(("decision", "expected"), [
    (ApproveInput(officer="李科员"), "须填写金额"),
    (ApproveInput(officer="李科员", amount="100.00", overpaid="10.00"), "请填写多领款项的来源"),
    (MaterialsSupplementedInput(matter=NO_MONEY, items=["户口簿"]), "与本事项不符"),
    (ExtendDeadlineInput(supervisor="王某", working_days=3, reason="材料复杂"), "不在名单中"),
])
def test_a_decision_the_state_takes_must_still_be_right_for_the_matter(decision: Decision, expected: str) -> None:
    state = paused(3) if isinstance(decision, MaterialsSupplementedInput) else reviewing()
    reason = admission.problem(state, matter(), decision)
    assert reason is not None and expected in reason


def test_a_payment_report_or_correction_must_name_this_matters_payment() -> None:
    other = PaymentConfirmedInput(reference="PAY-2", by="代发系统")
    assert admission.problem(paying(), matter(), other) == "凭证号与本事项待确认的发放指令不符"
    failed = paying(state=MatterState.PAYMENT_FAILED)
    wrong = CORRECTED.model_copy(update={"references": ("PAY-9",)})
    assert admission.problem(failed, matter(), wrong) == admission.WRONG_PAYMENT
    # Refused before it had a reference, the payment is named by its matter and attempt.
    unnamed = failed.model_copy(update={"payment_reference": None, "payment_attempt": 2})
    assert admission.failed_payment(unnamed, matter()) == f"{PAYS.value}#2"


def test_a_correction_to_someone_elses_account_needs_the_windows_authorisation() -> None:
    failed = paying(state=MatterState.PAYMENT_FAILED)
    assert admission.correction_problem(failed, matter(), CORRECTED) is None
    other = CORRECTED.model_copy(update={"account_name": "李四"})
    reason = admission.correction_problem(failed, matter(), other)
    assert reason is not None and "收款委托书" in reason


def test_only_signed_statements_need_a_signature_check() -> None:
    assert admission.statement_check(APPROVE, matter()) is None
    check = admission.statement_check(CONFIRMED, matter())
    assert check is not None and check.signature is None and len(check.digest) == 64


def _signed(decision: ApproveInput, **statement: Any) -> ApproveInput:
    fields: dict[str, Any] = {
        "subject": "u-1", "name": "人社官", "departments": (Department.HRSS,), "kind": DecisionKind.APPROVE,
        "case_number": CASE, "matter": PAYS, "decision": decision_digest(decision), "nonce": "n-1",
        "issued_at": NOW, **statement,
    }
    return decision.model_copy(update={"officer_statement": OfficerStatement(**fields)})


def test_a_verified_officer_decides_under_their_name_and_their_statement_counts_once() -> None:
    state, decided = admission.identified(reviewing(), matter(), _signed(APPROVE), DecisionKind.APPROVE, None, NOW)
    assert isinstance(decided, ApproveInput) and decided.officer == "人社官"
    assert state.officer_nonces == ("n-1",)
    _, again = admission.identified(state, matter(), _signed(APPROVE), DecisionKind.APPROVE, None, NOW)
    assert again == ("身份核验凭据已使用过，不能重复使用", "人社官")


def test_an_officer_is_refused_outside_their_department_or_after_the_statement_went_stale() -> None:
    _, elsewhere = admission.identified(reviewing(), matter(), _signed(APPROVE, departments=(Department.HPF,)),
                                        DecisionKind.APPROVE, None, NOW)
    assert elsewhere == ("办理人不属于本事项的主管部门，无权作此决定", "人社官")
    _, stale = admission.identified(reviewing(), matter(), _signed(APPROVE), DecisionKind.APPROVE, None,
                                    NOW + timedelta(minutes=11))
    assert stale == ("身份核验凭据已过期，请重新登录后再办理", "人社官")


def test_without_a_statement_the_typed_name_is_marked_unverified_unless_the_checker_refuses() -> None:
    state, decided = admission.identified(reviewing(), matter(), APPROVE, DecisionKind.APPROVE, None, NOW)
    assert isinstance(decided, ApproveInput) and decided.officer == "李科员" + UNVERIFIED and state == reviewing()
    _, refused = admission.identified(reviewing(), matter(), APPROVE, DecisionKind.APPROVE, "须登录", NOW)
    assert refused == ("须登录", "李科员" + UNVERIFIED)


def test_a_decision_naming_another_case_or_matter_is_refused_before_any_check() -> None:
    assert admission.misnamed(APPROVE, matter()) is None
    assert admission.misnamed(APPROVE.model_copy(update={"case_number": "SH-BBBBBBBBBBBB"}), matter())
    assert admission.misnamed(APPROVE.model_copy(update={"matter": NO_MONEY}), matter())
