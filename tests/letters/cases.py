"""A finished case's status, as the case workflow answers it (masked), for the heirs' letter's tests."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from domain.catalogue import DEFAULT_MATTERS
from domain.enums import CaseState, MatterCode, MatterState
from domain.models import MatterView, StatusSnapshot

CASE = "SH-ABCDEFGH2345"
M = MatterCode
_DEFINITIONS = {d.code: d for d in DEFAULT_MATTERS}


def view(code: MatterCode, state: MatterState, **values: object) -> MatterView:
    d = _DEFINITIONS[code]
    return MatterView.model_validate({
        "case_number": CASE, "code": code, "name": d.name, "department": d.department,
        "department_name": d.department_name, "state": state, "pays_family": d.pays_family,
        "time_limit_working_days": d.time_limit_working_days, "final": True, **values,
    })


def finished(state: CaseState = CaseState.COMPLETED) -> StatusSnapshot:
    """户口注销 approved with its certificate; two payments confirmed; one matter offset to a return; one
    rejected with its reason."""
    return StatusSnapshot(
        case_number=CASE, scope="case", case_state=state, deceased="王**", applicant="王*明",
        payee_card="6222 **** **** 1234",
        received_at=datetime(2026, 11, 20, 2, 0, tzinfo=UTC), closed_at=datetime(2026, 12, 3, 7, 30, tzinfo=UTC),
        matters=(
            view(M.HUKOU_CANCELLATION, MatterState.APPROVED, certificate_no="HK-2026-0088"),
            view(M.ENTERPRISE_RETIREE_DEATH_BENEFIT, MatterState.PAID, amount=Decimal("12000.00"),
                 overpaid=Decimal("3150.55"), overpaid_source="养老金多发3个月", net_amount=Decimal("8849.45"),
                 payment_reference="PAY-HRSS-0001", payment_confirmed_at=datetime(2026, 12, 1, 17, 5, tzinfo=UTC)),
            view(M.PROVIDENT_FUND_DEATH_WITHDRAWAL, MatterState.PAID, amount=Decimal("56321.07"),
                 net_amount=Decimal("56321.07"), payment_reference="PAY-HPF-0002",
                 payment_confirmed_at=datetime(2026, 12, 2, 3, 0, tzinfo=UTC)),
            view(M.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT, MatterState.APPROVED, amount=Decimal("800.00"),
                 overpaid=Decimal("1300.00"), net_amount=Decimal("-500.00"), to_return=Decimal("500.00")),
            view(M.DISABILITY_SUBSIDY_TERMINATION, MatterState.REJECTED, reason="逝者未享受残疾人两项补贴"),
        ),
    )
