"""Whether a matter takes a decision now: on arrival (a signal's handler, the update's validator) and again
when its turn comes in the inbox. Each rule gives the Chinese reason it refuses, or None.

Pure: (state, the matter's input with its policy, the decision) in, a reason out. The signatures the workflow
has checked by an activity arrive here as the checker's verdict.
"""

from __future__ import annotations

from datetime import datetime

from domain import messages
from domain.decisions import (
    KIND_OF,
    SIGNED_BY,
    Decision,
    check_approval,
    check_correction,
    check_state_for,
    payment_key,
    signed_digest,
)
from domain.enums import DecisionKind
from domain.models import (
    ApproveInput,
    ExtendDeadlineInput,
    MaterialsSupplementedInput,
    MatterInput,
    MatterProgress,
    OfficerCheck,
    PayeeCorrectedInput,
    PayeeProvenInput,
    PaymentConfirmedInput,
    PaymentFailedInput,
    StatementCheck,
    WithdrawInput,
)
from domain.officers import (
    UNVERIFIED,
    OfficerDecision,
    officer_statement_digest,
    statement_problem,
    typed_name,
    with_name,
)

WRONG_PAYMENT = "更正所指的发放凭证号与本事项发放失败的款项不符"


def problem(state: MatterProgress, matter: MatterInput, decision: Decision) -> str | None:
    """Why ``decision`` cannot be applied to the matter as it stands."""
    definition = matter.matter_policy.definition
    kind = KIND_OF[type(decision)]
    if kind == DecisionKind.WITHDRAW:
        assert isinstance(decision, WithdrawInput)
        if decision.matter not in (None, definition.code):
            return "撤回所指事项与本事项不符"
        return "事项已办结，无需撤回" if state.final else None
    reason = check_state_for(kind, state.state, state.final)
    if reason:
        return reason
    match decision:
        case ApproveInput():
            return check_approval(definition, decision)
        case MaterialsSupplementedInput() if decision.matter != definition.code:
            return f"补正材料所指事项{decision.matter.value}与本事项不符"
        # With a verified statement its supervisor role is the authority, never a typed name.
        case ExtendDeadlineInput() if (decision.supervisor not in matter.matter_policy.supervisors
                                       and decision.officer_statement is None):
            return "延长时限须由本县配置的督办人办理，该督办人不在名单中"
        case PaymentConfirmedInput() | PaymentFailedInput() if decision.reference != state.payment_reference:
            return "凭证号与本事项待确认的发放指令不符"
        case PayeeCorrectedInput() if failed_payment(state, matter) not in decision.references:
            return WRONG_PAYMENT
        case PayeeProvenInput() if not state.payee_unproven:
            return "本事项无需核验亲属关系证明"
        case PayeeProvenInput() if decision.proof not in matter.proof_needed:
            return f"{decision.proof.value}不是本事项认可的{messages.PROOF_TEXT}"
    return None


def failed_payment(state: MatterProgress, matter: MatterInput) -> str:
    """How a payee correction names this matter's failed payment (domain/decisions.py: payment_key)."""
    return payment_key(matter.matter_policy.definition.code, state.payment_reference, state.payment_attempt)


def correction_problem(state: MatterProgress, matter: MatterInput, correction: PayeeCorrectedInput) -> str | None:
    """What a window-signed correction must still meet: an account the family may use (that it names this
    payment, ``problem`` has checked)."""
    return check_correction(correction, matter.payee.account_name)


def statement_check(decision: Decision, matter: MatterInput) -> StatementCheck | None:
    """The signature to check for a statement that moves money, a payee or a withdrawal (None: it needs none):
    its issuer's (the paying system's, the window's) over exactly this statement for this matter."""
    issuer = SIGNED_BY.get(type(decision))
    if issuer is None:
        return None
    digest = signed_digest(decision, matter.case_number, matter.matter_policy.definition.code)
    return StatementCheck(issuer=issuer, digest=digest, signature=getattr(decision, "signature", None))


def officer_check(decision: OfficerDecision) -> OfficerCheck:
    """The officer statement to check (an empty check: the decision carries none)."""
    statement = decision.officer_statement
    if statement is None:
        return OfficerCheck()
    return OfficerCheck(digest=officer_statement_digest(statement), signature=statement.signature)


def misnamed(decision: OfficerDecision, matter: MatterInput) -> str | None:
    """An officer's decision that names another case or matter is refused before any check."""
    if decision.case_number not in (None, matter.case_number) or decision.matter not in (
            None, matter.matter_policy.definition.code):
        return "决定所注明的受理编号或事项与本事项不符"
    return None


def identified(
    state: MatterProgress, matter: MatterInput, decision: OfficerDecision, kind: DecisionKind,
    refused: str | None, now: datetime,
) -> tuple[MatterProgress, OfficerDecision | tuple[str, str]]:
    """The decision under the name of who made it, given the trust checker's verdict (``refused``): the verified
    officer's (their statement's nonce then spent), or, where the worker takes decisions without a statement,
    the typed name marked unverified. Else why not, and who tried."""
    statement = decision.officer_statement
    typed = typed_name(decision) + UNVERIFIED
    if refused:
        return state, (refused, typed)
    if statement is None:
        return state, with_name(decision, typed)
    definition = matter.matter_policy.definition
    reason = statement_problem(decision, kind, case_number=matter.case_number, matter=definition.code,
                               department=definition.department, now=now, used_nonces=state.officer_nonces)
    if reason:
        return state, (reason, statement.name)
    spent = state.model_copy(update={"officer_nonces": (*state.officer_nonces, statement.nonce)})
    return spent, with_name(decision, statement.name)
