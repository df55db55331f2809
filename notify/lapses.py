"""Reminders before an entitlement lapses (the catalogue's ``claim``; DOMAIN.md §9).

Once a day the dispatcher looks at the register's cases: a family whose application shows an entitlement that
lapses (its situations select the matter, e.g. 城乡居民丧葬补助金 for a 城乡居民养老保险 pensioner) and that no case
of the deceased has claimed — the family left it out, or its matter ended 未推送 or 已撤回 — is reminded
``remind_working_days_before`` working days before the claim window closes, once per rung (the outbox key
``lapse/<matter>/<rung>`` is unique per case, so a second sweep, a second dispatcher or a restart adds nothing;
a sweep that comes late sends only the nearest rung). A withdrawn case is the family's choice and is left
alone; only the latest case of a re-application chain speaks for the deceased. The message goes to the number
the family gave, through the outbox like every other; nothing is broadcast.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import Table
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from activities.calendar import WorkingDayCalendar
from domain import messages
from domain.catalogue import Catalogue, MatterEntry
from domain.enums import CaseState, MatterCode, MatterState, NotificationKind, Recipient
from domain.lapses import claim_deadline, due_rung
from domain.models import Situations
from register.engine import insert_for
from register.tables import CaseRow, MatterRow, OutboxRow

log = structlog.get_logger()

# A matter in one of these states was not claimed after all: its entitlement is still open.
_UNCLAIMED = frozenset({MatterState.NOT_PUSHED.value, MatterState.WITHDRAWN.value})


def lapse_key(matter: MatterCode | str, rung: int) -> str:
    return f"lapse/{matter}/{rung}"


class LapseSweep:
    def __init__(self, engine: Engine, calendar: WorkingDayCalendar, catalogue: Catalogue, timezone: str) -> None:
        self._engine = engine
        self._calendar = calendar
        self._catalogue = catalogue
        self._claims = tuple(entry for entry in catalogue.enabled() if entry.claim is not None)
        self._zone = ZoneInfo(timezone)
        self._swept: date | None = None

    def run_due(self, now: datetime) -> int:
        """Sweep once per local day (the first round of the day); how many reminders it queued."""
        today = now.astimezone(self._zone).date()
        if self._swept == today or not self._claims:
            return 0
        queued = self.sweep(today, now)
        self._swept = today
        return queued

    def sweep(self, today: date, now: datetime) -> int:
        """Queue every reminder due today; how many were new. Three reads and one write, whatever the number of
        cases (`python -m bench.lapses` times it)."""
        longest = max(entry.claim.within_months for entry in self._claims if entry.claim)
        since = now - timedelta(days=31 * (longest + 1))
        with Session(self._engine) as session:
            cases = session.exec(select(CaseRow).where(CaseRow.received_at >= since)).all()
            unclaimed = _unclaimed(session)
            sent = set(session.exec(select(OutboxRow.case_number, OutboxRow.key)
                                    .where(OutboxRow.kind == NotificationKind.CLAIM_LAPSING.value)).all())
        superseded = {case.previous_case for case in cases if case.previous_case}
        rows: list[dict[str, Any]] = []
        left_by_day: dict[date, int] = {}
        for case in cases:
            if case.case_number in superseded or case.state == CaseState.WITHDRAWN.value:
                continue
            claimed = set(case.application.get("matters") or ()) - unclaimed.get(case.case_number, set())
            for entry, rung, deadline, left in self._due(case, claimed, today, left_by_day):
                key = lapse_key(entry.code, rung)
                if (case.case_number, key) not in sent:
                    rows.append(_reminder(case.case_number, entry, key, deadline, left, now))
        queued = _insert(self._engine, rows)
        if queued:
            log.info("claim_reminders_queued", count=queued)
        return queued

    def _due(self, case: CaseRow, claimed: set[str], today: date, left_by_day: dict[date, int]
             ) -> Iterable[tuple[MatterEntry, int, date, int]]:
        application: Mapping[str, Any] = case.application
        try:
            death = date.fromisoformat(application["deceased"]["death_date"])
            answers = Situations.model_validate(application.get("situations") or {}).answer_map()
        except (KeyError, TypeError, ValueError):
            log.warning("claim_sweep_unreadable_case", case_number=case.case_number)
            return
        selected = self._catalogue.selected(answers)
        for entry in self._claims:
            assert entry.claim is not None
            if entry.code in claimed or MatterCode(entry.code) not in selected:
                continue
            deadline = claim_deadline(death, entry.claim.within_months)
            if deadline not in left_by_day:
                # Working days from today through the last day.
                left_by_day[deadline] = self._calendar.working_days_between(today - timedelta(days=1), deadline).days
            left = left_by_day[deadline]
            rung = due_rung(left, entry.claim.remind_working_days_before)
            if rung is not None:
                yield entry, rung, deadline, left


def _unclaimed(session: Session) -> dict[str, set[str]]:
    """Per case, the matters it applied for that ended 未推送 or 已撤回: not claimed after all."""
    found: dict[str, set[str]] = {}
    for case_number, matter in session.exec(select(MatterRow.case_number, MatterRow.matter)
                                            .where(col(MatterRow.state).in_(_UNCLAIMED))).all():
        found.setdefault(case_number, set()).add(matter)
    return found


def _reminder(case_number: str, entry: MatterEntry, key: str, deadline: date, left: int, now: datetime
              ) -> dict[str, Any]:
    return {"case_number": case_number, "matter": entry.code, "key": key, "kind": NotificationKind.CLAIM_LAPSING.value,
            "recipient": Recipient.FAMILY.value, "department": None, "created_at": now, "attempts": 0,
            "message": messages.claim_lapsing(case_number, entry.short_name, deadline, left)}


def _insert(engine: Engine, rows: list[dict[str, Any]]) -> int:
    """One transaction; a row another dispatcher added meanwhile is skipped by the outbox's unique key."""
    if not rows:
        return 0
    table = cast(Table, OutboxRow.__table__)  # type: ignore[attr-defined]
    with engine.begin() as connection:
        statement = (insert_for(connection.dialect.name)(table)
                     .on_conflict_do_nothing(index_elements=["case_number", "key"]).returning(table.c.id))
        new = 0
        for start in range(0, len(rows), 1000):
            new += len(connection.execute(statement, rows[start:start + 1000]).all())
    return new
