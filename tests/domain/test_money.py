"""The money of an approval (domain/money.py, domain/transitions.py: approved), without a server: properties over
every amount an officer can type, in Decimal."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from domain import ladder, transitions
from domain.enums import MatterState, NotificationKind, Recipient
from domain.models import ApproveInput
from domain.money import settle
from tests.domain.matters import NOW, matter, reviewing

# What ApproveInput takes: up to 12 digits of yuan and 2 of fen.
YUAN = st.decimals(min_value=Decimal("0"), max_value=Decimal("999999999999.99"), places=2,
                   allow_nan=False, allow_infinity=False)
# An officer's amounts within the matter's cap (1,000,000 for the pension matters).
CAPPED = st.decimals(min_value=Decimal("0"), max_value=Decimal("1000000.00"), places=2)


@given(YUAN, st.none() | YUAN)
def test_the_net_is_gross_less_offset_and_only_a_positive_one_is_paid(gross: Decimal, overpaid: Decimal | None
                                                                     ) -> None:
    money = settle(gross, overpaid)
    assert money.offset == (overpaid or 0)
    assert money.net == gross - money.offset
    assert money.paid == max(money.net, Decimal(0)) and money.paid >= 0
    assert money.pays == (money.net > 0)
    # What is paid and what is returned make up the net exactly: nothing lost, nothing twice.
    assert money.paid - (money.to_return or 0) == money.net
    assert (money.to_return is not None) == (money.net < 0)
    assert all(isinstance(value, Decimal) for value in (money.gross, money.offset, money.net, money.paid))


@given(CAPPED, st.none() | CAPPED)
def test_an_approval_pays_returns_or_ends_as_its_net_says(gross: Decimal, overpaid: Decimal | None) -> None:
    approval = ApproveInput(officer="李科员", amount=gross, overpaid=overpaid,
                            overpaid_source="养老金多发" if overpaid else None)
    before = reviewing()
    change = transitions.approved(before, matter(), approval, NOW)
    state, net = change.state, gross - (overpaid or 0)
    assert before.amount is None and before.state == MatterState.UNDER_REVIEW  # the state given is not changed
    assert state.amount == gross and state.net_amount == max(net, Decimal(0))
    assert change.instruct == (net > 0) and state.final == (net <= 0)
    assert state.to_return == (-net if net < 0 else None)
    assert state.state == MatterState.APPROVED
    assert change.event is not None and f"核定{gross:.2f}元" in change.event
    if net < 0:
        returned = NotificationKind.MONEY_TO_RETURN
        assert [(kind, to) for kind, to, _, _ in change.notes] == [(returned, Recipient.FAMILY),
                                                                   (returned, Recipient.DEPARTMENT)]
        assert f"尚需退回{-net:.2f}元" in change.event
    else:
        assert [(kind, to) for kind, to, _, _ in change.notes] == [(NotificationKind.MATTER_APPROVED, Recipient.FAMILY)]


def test_an_offset_names_its_source_and_the_net_is_what_is_paid() -> None:
    approval = ApproveInput(officer="李科员", amount="3000.00", overpaid="1200.50", overpaid_source="养老金多发3个月")
    change = transitions.approved(reviewing(), matter(), approval, NOW)
    assert change.event == "审核通过（李科员），核定3000.00元，抵扣多领1200.50元（养老金多发3个月），实发1799.50元"
    assert change.state.net_amount == Decimal("1799.50") and change.instruct


def test_zero_is_a_valid_amount_and_pays_nothing() -> None:
    change = transitions.approved(reviewing(), matter(), ApproveInput(officer="李科员", amount="0"), NOW)
    assert change.event == "审核通过（李科员），核定0.00元，无款项发放"
    assert change.state.final and not change.instruct and change.state.to_return is None


def test_the_instruction_is_for_the_net_to_the_current_payee() -> None:
    approval = ApproveInput(officer="李科员", amount="3000.00", overpaid="1000.00", overpaid_source="多发")
    state = transitions.approved(reviewing(), matter(), approval, NOW).state
    instruction = transitions.instruction(state, matter(), NOW, ladder.deadline_request(matter(), NOW, 3))
    assert (instruction.amount, instruction.gross, instruction.offset) == (
        Decimal("2000.00"), Decimal("3000.00"), Decimal("1000.00"))
    assert instruction.payee == state.payee and instruction.attempt == 1
