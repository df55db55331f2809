"""A matter's inbox: the decisions it takes, each with its kind, queued for its main loop.

Kept out of ``workflows/matter.py`` and passed through the sandbox (worker.py): a dataclass built afresh for
every workflow run the sandbox starts cost a noticeable share of the worker's CPU per case.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.enums import DecisionKind
from domain.models import (
    ApproveInput,
    ExtendDeadlineInput,
    MaterialsSupplementedInput,
    PayeeCorrectedInput,
    PaymentConfirmedInput,
    PaymentFailedInput,
    RejectInput,
    RequestMaterialsInput,
    WithdrawInput,
)

Decision = (
    ApproveInput
    | RejectInput
    | RequestMaterialsInput
    | MaterialsSupplementedInput
    | ExtendDeadlineInput
    | WithdrawInput
    | PayeeCorrectedInput
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
    PaymentConfirmedInput: DecisionKind.PAYMENT_CONFIRMED,
    PaymentFailedInput: DecisionKind.PAYMENT_FAILED,
}


@dataclass(frozen=True)
class InboxItem:
    """An accepted decision waiting for the main loop; ``ticket`` lets an update wait for its own."""

    decision: Decision
    ticket: int

    @property
    def kind(self) -> DecisionKind:
        return KIND_OF[type(self.decision)]
