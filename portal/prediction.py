"""When a matter is likely to be done (预计办结), for the family's progress page.

Two grounds, and the page says which one it used:
- the deadline (承诺期限): the last working day the department has by rule;
- the county's own record: the median working days from push to decision of the same matter in the register
  (``handling_working_days``, 补正 pauses left out), counted on from this matter's push, when at least
  ``MIN_SAMPLES`` such decisions exist. Departments often finish well before their limit; the record says so.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from domain.clock import local_date
from domain.enums import MatterState
from domain.models import MatterView

MIN_SAMPLES = 5
_WAITING = frozenset({MatterState.UNDER_REVIEW, MatterState.IN_PROGRESS})


class Calendar(Protocol):
    def add_working_days(self, start: date, n: int) -> tuple[date, bool]: ...

    def working_days_between(self, after: date, until: date) -> tuple[int, bool]: ...


@dataclass(frozen=True)
class Prediction:
    # None: no date can be given now; ``basis`` says why.
    day: date | None
    basis: str
    # Counted through a year without an official holiday schedule.
    approximate: bool = False
    from_history: bool = False


def deadline_day(deadline: datetime, timezone: str) -> date:
    """A deadline is stored as 00:00 after its last working day."""
    return local_date(deadline - timedelta(microseconds=1), timezone)


def predict(
    view: MatterView, *, timezone: str, calendar: Calendar, samples: list[int], today: date,
) -> Prediction | None:
    """The predicted completion of a matter still with its department; None when there is nothing to predict
    (done, or not pushed yet)."""
    if view.final or view.pushed_at is None:
        return None
    # Before the deadline test: a matter waiting for materials has no deadline while its clock stands still.
    if view.state is MatterState.AWAITING_MATERIALS or (view.pauses and view.pauses[-1].ended_at is None):
        return Prediction(day=None, basis="计时暂停：补正材料交齐后恢复计时，届时重新预计")
    if view.deadline is None:
        return None
    if view.state not in _WAITING:
        return None
    if view.overdue:
        # The matter's own clock says so (it may run ahead of today's date: a demo advance), whatever the date.
        return _overdue(view)
    limit = deadline_day(view.deadline, timezone)
    if len(samples) >= MIN_SAMPLES:
        median = math.ceil(statistics.median(samples))
        paused = sum(
            calendar.working_days_between(local_date(p.started_at, timezone),
                                          local_date(p.ended_at, timezone))[0]
            for p in view.pauses if p.ended_at is not None
        )
        day, approximate = calendar.add_working_days(local_date(view.pushed_at, timezone), median + paused)
        basis = f"按本县近期{len(samples)}件同类事项的实际办理用时（中位数{median}个工作日）推算"
        if day >= today:
            return Prediction(day=day, basis=basis, approximate=approximate, from_history=True)
        if limit >= today:
            return Prediction(day=limit, approximate=view.calendar_fallback,
                              basis="已超过本县同类事项的通常办理用时，按承诺期限预计")
    elif limit >= today:
        shortfall = "" if not samples else f"（本县同类事项办结记录{len(samples)}件，不足{MIN_SAMPLES}件）"
        return Prediction(day=limit, approximate=view.calendar_fallback,
                          basis=f"按承诺时限{view.time_limit_working_days}个工作日预计{shortfall}")
    return _overdue(view)


def _overdue(view: MatterView) -> Prediction:
    overdue = f"{view.working_days_overdue}个工作日" if view.working_days_overdue else ""
    return Prediction(day=None, basis=f"已超过承诺期限{overdue}，已按规定催办、督办")
