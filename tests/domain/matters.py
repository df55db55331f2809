"""What the unit tests of a matter's rules build on: a matter's input under the default policy, and its state
at the points of its life the rules start from. No server, no clock: every time is fixed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from domain.enums import EscalationStep, MatterCode, MatterState
from domain.models import BankAccount, ClockPause, LadderRung, MatterInput, MatterProgress
from domain.policy import Policy
from tests.factories import APPLICANT_NAME, make_card_number

CASE = "SH-AAAAAAAAAAAA"
# 2026-03-02 09:00 in Beijing, a Monday.
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
DEADLINE = datetime(2026, 3, 9, 16, 0, tzinfo=UTC)
PAYS = MatterCode.ENTERPRISE_RETIREE_DEATH_BENEFIT
NO_MONEY = MatterCode.SOCIAL_ASSISTANCE_TERMINATION
HUKOU = MatterCode.HUKOU_CANCELLATION
PAYEE = BankAccount(bank_name="中国工商银行", account_name=APPLICANT_NAME, card_number=make_card_number())


def matter(code: MatterCode = PAYS, **policy: Any) -> MatterInput:
    return MatterInput(case_number=CASE, matter=code, matter_policy=Policy(**policy).for_matter(code), payee=PAYEE,
                       death_date=date(2026, 2, 20))


def rungs(deadline: datetime = DEADLINE) -> tuple[LadderRung, ...]:
    """A short ladder: warning the day before, overdue at the deadline, a reminder and 督办 after it."""
    day = timedelta(days=1)
    return (
        LadderRung(step=EscalationStep.WARNING, index=0, at=deadline - day, working_days_overdue=0),
        LadderRung(step=EscalationStep.OVERDUE, index=1, at=deadline, working_days_overdue=0),
        LadderRung(step=EscalationStep.REMINDER, index=2, at=deadline + day, working_days_overdue=1),
        LadderRung(step=EscalationStep.SUPERVISION, index=3, at=deadline + 3 * day, working_days_overdue=3),
    )


def reviewing(**changes: Any) -> MatterProgress:
    """Pushed and under review, its deadline and ladder counted from NOW."""
    state = MatterProgress(payee=PAYEE, state=MatterState.UNDER_REVIEW, pushed_at=NOW, deadline=DEADLINE,
                           rungs=rungs(), plan_start=NOW, plan_days=5)
    return state.model_copy(update=changes)


def paying(reference: str = "PAY-1", **changes: Any) -> MatterProgress:
    return reviewing(**{"state": MatterState.PAYING, "deadline": None, "amount": Decimal("2000.00"),
                        "net_amount": Decimal("2000.00"), "payment_reference": reference,
                        "payment_instructed_at": NOW, **changes})


def paused(remaining: int, **changes: Any) -> MatterProgress:
    return reviewing(**{"state": MatterState.AWAITING_MATERIALS, "deadline": None, "pending_items": ("户口簿",),
                        "pauses": (ClockPause(started_at=NOW, remaining_working_days=remaining),), **changes})
