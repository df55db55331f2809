"""When an entitlement that lapses must be claimed, and which reminder of it is due (the catalogue's ``claim``)."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date


def claim_deadline(death_date: date, within_months: int) -> date:
    """The last day to claim: the same day ``within_months`` months after the death (the month's last day when
    that month is shorter)."""
    months = death_date.month - 1 + within_months
    year, month = death_date.year + months // 12, months % 12 + 1
    return date(year, month, min(death_date.day, calendar.monthrange(year, month)[1]))


def due_rung(working_days_left: int, rungs: Sequence[int]) -> int | None:
    """The reminder due with so many working days left: the nearest rung not yet passed (one message however
    late the first look comes); None before the first rung, or once the window has closed."""
    due = [rung for rung in rungs if working_days_left <= rung]
    return min(due) if due and working_days_left > 0 else None
