"""What an approval pays: the approved amount (核定), less what was paid after the death (多领抵扣).

Decimal only, in yuan. A negative net is never paid: it is what the family must return.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Settlement:
    gross: Decimal
    offset: Decimal
    # gross − offset, negative when more was paid after the death than is due.
    net: Decimal
    # What the paying system transfers (never negative).
    paid: Decimal
    # What the family must pay back (None: nothing).
    to_return: Decimal | None

    @property
    def pays(self) -> bool:
        """Whether money moves: a payment instruction, and the matter waits for the paying system."""
        return self.net > 0


def settle(gross: Decimal, overpaid: Decimal | None) -> Settlement:
    offset = overpaid or ZERO
    net = gross - offset
    return Settlement(gross=gross, offset=offset, net=net, paid=max(net, ZERO),
                      to_return=-net if net < 0 else None)
