"""A register filled with a year of made-up cases, for the report benchmark (no workflow runs).

The rows look like what the worker writes: every case cancels the household registration first, then
pushes a realistic mix of matters; each department has its own habits (how often it is on time, how long
it takes, how often it asks for 补正), which improve a little over the year. Money matters carry amounts in
fen and are confirmed by the paying system some days after approval. Everything before ``as_of`` happened;
what would happen later is still open, and overdue when its time limit has passed.

Working days are counted as 5 in every 7 calendar days (no holidays): close enough for volume and spread.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from domain.catalogue import DEFAULT_MATTERS, MatterDefinition
from domain.enums import CaseState, Department, MatterCode, MatterState
from register.tables import CaseRow, MatterRow

TZ = ZoneInfo("Asia/Shanghai")
CHUNK = 5_000


@dataclass(frozen=True)
class Habit:
    """How a department works: its on-time probability at the start of the year (it improves by
    ``improves`` over the year), its share of 补正 requests and extensions, and how late it runs."""

    on_time: float
    improves: float
    materials: float
    extension: float
    late_days: tuple[int, int]


HABITS: dict[Department, Habit] = {
    Department.POLICE: Habit(0.97, 0.02, 0.01, 0.0, (1, 2)),
    Department.HRSS: Habit(0.78, 0.10, 0.12, 0.04, (1, 12)),
    Department.NHSA: Habit(0.88, 0.05, 0.08, 0.02, (1, 6)),
    Department.MCA: Habit(0.72, 0.12, 0.10, 0.05, (1, 10)),
    Department.HPF: Habit(0.92, 0.03, 0.15, 0.02, (1, 4)),
    Department.DPF: Habit(0.85, 0.05, 0.06, 0.03, (1, 5)),
    Department.VA: Habit(0.70, 0.15, 0.10, 0.06, (1, 15)),
}

# How often a case selects a matter (the pension matters are exclusive: at most one per case).
PENSION_SHARES: tuple[tuple[MatterCode | None, float], ...] = (
    (MatterCode.ENTERPRISE_RETIREE_DEATH_BENEFIT, 0.42),
    (MatterCode.RESIDENT_PENSION_FUNERAL_SUBSIDY, 0.30),
    (MatterCode.INSTITUTION_RETIREE_DEATH_TERMINATION, 0.09),
    (MatterCode.ENTERPRISE_EMPLOYEE_DEATH_BENEFIT, 0.06),
    (MatterCode.INSTITUTION_EMPLOYEE_DEATH_TERMINATION, 0.04),
    (None, 0.09),
)
OTHER_SHARES: dict[MatterCode, float] = {
    MatterCode.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT: 0.55,
    MatterCode.SOCIAL_ASSISTANCE_TERMINATION: 0.15,
    MatterCode.PROVIDENT_FUND_DEATH_WITHDRAWAL: 0.30,
    MatterCode.DISABILITY_SUBSIDY_TERMINATION: 0.08,
    MatterCode.PREFERENTIAL_BENEFIT_TERMINATION: 0.05,
}
# Typical approved amounts in yuan (low, high).
AMOUNTS: dict[Department, tuple[int, int]] = {
    Department.HRSS: (3_000, 90_000),
    Department.NHSA: (200, 30_000),
    Department.HPF: (5_000, 250_000),
    Department.VA: (2_000, 25_000),
}
CATALOGUE = {matter.code: matter for matter in DEFAULT_MATTERS}


def _working(days: float) -> timedelta:
    return timedelta(days=days * 7 / 5)


@dataclass
class _Case:
    number: str
    received: datetime
    rows: list[dict[str, Any]]
    state: CaseState
    closed: datetime | None


class Generator:
    def __init__(self, first: date, last: date, as_of: datetime, seed: int = 2026) -> None:
        self.first, self.last, self.as_of = first, last, as_of
        self.random = random.Random(seed)
        self.span = (last - first).days + 1

    def _received(self) -> datetime:
        r = self.random
        while True:
            day = self.first + timedelta(days=r.randrange(self.span))
            if day.weekday() < 5 or r.random() < 0.15:
                break
        at = datetime.combine(day, time(8, 30), tzinfo=TZ) + timedelta(minutes=r.randrange(9 * 60))
        return at.astimezone(UTC)

    def _codes(self) -> list[MatterCode]:
        r = self.random
        codes = [MatterCode.HUKOU_CANCELLATION]
        pick, total = r.random(), 0.0
        for code, share in PENSION_SHARES:
            total += share
            if pick < total:
                if code is not None:
                    codes.append(code)
                break
        codes += [code for code, share in OTHER_SHARES.items() if r.random() < share]
        return codes

    def case(self, index: int) -> _Case:
        received = self._received()
        number = f"SH-B{index:011d}"
        r = self.random
        hukou_pushed = received + timedelta(hours=r.uniform(1, 30))
        hukou = self._matter(number, CATALOGUE[MatterCode.HUKOU_CANCELLATION], hukou_pushed, rejectable=True)
        rows = [hukou]
        codes = self._codes()
        if hukou["state"] == MatterState.REJECTED.value:
            rows += [self._not_pushed(number, CATALOGUE[code], received) for code in codes[1:]]
            return _Case(number, received, rows, CaseState.HUKOU_REJECTED, hukou["decided_at"])
        if hukou["decided_at"] is None:
            rows += [self._not_pushed(number, CATALOGUE[code], received, MatterState.PENDING_PUSH)
                     for code in codes[1:]]
            return _Case(number, received, rows, CaseState.HUKOU_CANCELLING, None)
        pushed = hukou["decided_at"] + timedelta(minutes=r.uniform(1, 30))
        rows += [self._matter(number, CATALOGUE[code], pushed) for code in codes[1:]]
        finished = [row["closed_at"] for row in rows]
        if any(at is None for at in finished):
            return _Case(number, received, rows, CaseState.IN_PROGRESS, None)
        withdrawn = any(row["state"] == MatterState.WITHDRAWN.value for row in rows)
        return _Case(number, received, rows, CaseState.WITHDRAWN if withdrawn else CaseState.COMPLETED,
                     max(at for at in finished if at is not None))

    def _base(self, number: str, definition: MatterDefinition, state: MatterState, at: datetime) -> dict[str, Any]:
        return {
            "case_number": number, "matter": definition.code.value, "department": definition.department.value,
            "state": state.value, "view": {}, "updated_at": at, "pushed_at": None, "decided_at": None,
            "closed_at": None, "on_time": None, "handling_working_days": None, "deadline": None, "overdue": False,
            "working_days_overdue": 0, "escalation_level": 0, "warnings": 0, "overdue_notices": 0, "reminders": 0,
            "supervisions": 0, "materials_requests": 0, "extensions": 0, "extension_working_days": 0,
            "gross_fen": None, "offset_fen": None, "net_fen": None, "to_return_fen": None, "paid_fen": None,
            "deadline_approximate": False,
        }

    def _not_pushed(self, number: str, definition: MatterDefinition, at: datetime,
                    state: MatterState = MatterState.NOT_PUSHED) -> dict[str, Any]:
        row = self._base(number, definition, state, at)
        if state == MatterState.NOT_PUSHED:
            row["closed_at"] = at
        return row

    def _matter(self, number: str, definition: MatterDefinition, pushed: datetime,
                rejectable: bool = False) -> dict[str, Any]:
        r = self.random
        habit = HABITS[definition.department]
        limit = definition.time_limit_working_days
        progress = (pushed.date() - self.first).days / self.span
        row = self._base(number, definition, MatterState.UNDER_REVIEW, pushed)
        row["pushed_at"] = pushed
        pause = timedelta(0)
        if r.random() < habit.materials:
            row["materials_requests"] = 1 + (r.random() < 0.2)
            pause = timedelta(days=r.uniform(2, 20))
        extension = 0
        if r.random() < habit.extension:
            extension = r.randint(3, 10)
            row["extensions"], row["extension_working_days"] = 1, extension
        allowed = limit + extension
        on_time = r.random() < habit.on_time + habit.improves * progress
        if on_time:
            days = min(allowed - 1, int(r.triangular(0, allowed, allowed * 0.45)))
        else:
            days = allowed + r.randint(*habit.late_days) - 1
        deadline = pushed + _working(allowed) + pause
        decided = pushed + _working(days) + pause + timedelta(hours=r.uniform(0, 8))
        row["deadline"] = deadline
        late_by = max(0.0, (min(decided, self.as_of) - deadline).days * 5 / 7)
        if min(decided, self.as_of) > deadline - _working(1):
            row["warnings"] = 1
        if late_by > 0 or min(decided, self.as_of) > deadline:
            row["overdue_notices"] = 1
            row["reminders"] = max(0, min(int(late_by), 2))
            row["supervisions"] = int(late_by >= 3)
            row["working_days_overdue"] = int(late_by)
        if decided > self.as_of:
            waiting = row["materials_requests"] and self.as_of < pushed + pause + _working(2)
            row["state"] = (MatterState.AWAITING_MATERIALS if waiting else MatterState.UNDER_REVIEW).value
            row["overdue"] = self.as_of > deadline
            row["updated_at"] = self.as_of
            return row
        if not rejectable and r.random() < 0.015:
            row["state"] = MatterState.WITHDRAWN.value
            row["closed_at"] = row["updated_at"] = decided
            row["deadline"] = None
            return row
        row["decided_at"] = row["updated_at"] = decided
        row["on_time"] = decided < deadline
        row["handling_working_days"] = days
        if r.random() < (0.005 if rejectable else 0.04):
            row["state"] = MatterState.REJECTED.value
            row["closed_at"] = decided
            return row
        row["state"] = MatterState.APPROVED.value
        amounts = AMOUNTS.get(definition.department)
        if not definition.pays_family or amounts is None:
            row["closed_at"] = decided
            return row
        gross = r.randint(amounts[0] * 100, amounts[1] * 100)
        offset = r.randint(0, gross // 10) if r.random() < 0.05 else 0
        row["gross_fen"], row["offset_fen"], row["net_fen"] = gross, offset, gross - offset
        confirmed = decided + timedelta(days=r.uniform(0.5, 6))
        if confirmed > self.as_of:
            row["state"] = MatterState.PAYING.value
        elif r.random() < 0.01:
            row["state"] = MatterState.PAYMENT_FAILED.value
        else:
            row["state"] = MatterState.PAID.value
            row["paid_fen"] = gross - offset
            row["closed_at"] = row["updated_at"] = confirmed
        return row

    def cases(self, count: int) -> Iterator[_Case]:
        for index in range(count):
            yield self.case(index)


def fill(engine: Engine, count: int, first: date, last: date, as_of: datetime, seed: int = 2026) -> int:
    """Insert ``count`` cases and their matters; returns how many matter rows were written."""
    cases: list[dict[str, Any]] = []
    matters: list[dict[str, Any]] = []
    written = 0
    with engine.begin() as connection:
        for made in Generator(first, last, as_of, seed).cases(count):
            cases.append({
                "case_number": made.number, "channel": "window", "state": made.state.value, "application": {},
                "received_at": made.received, "updated_at": made.closed or made.received, "closed_at": made.closed,
                "previous_case": None,
            })
            matters += made.rows
            if len(matters) >= CHUNK:
                connection.execute(insert(CaseRow), cases)
                connection.execute(insert(MatterRow), matters)
                written += len(matters)
                cases, matters = [], []
        if cases:
            connection.execute(insert(CaseRow), cases)
            connection.execute(insert(MatterRow), matters)
            written += len(matters)
    return written
