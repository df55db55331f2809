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
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from activities.calendar import WorkingDayCalendar
from domain import messages
from domain.catalogue import Catalogue, MatterEntry
from domain.enums import CaseState, MatterCode, MatterState, NotificationKind, Recipient
from domain.lapses import claim_deadline, due_rung
from domain.models import Situations
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
        longest = max(entry.claim.within_months for entry in self._claims if entry.claim)
        since = now - timedelta(days=31 * (longest + 1))
        queued = 0
        with Session(self._engine) as session:
            cases = session.exec(select(CaseRow).where(CaseRow.received_at >= since)).all()
            superseded = {case.previous_case for case in cases if case.previous_case}
            for case in cases:
                if case.case_number in superseded or case.state == CaseState.WITHDRAWN.value:
                    continue
                for entry, rung, deadline, left in self._due(case, session, today):
                    queued += _queue(self._engine, case.case_number, entry, rung,
                                     messages.claim_lapsing(case.case_number, entry.short_name, deadline, left), now)
        if queued:
            log.info("claim_reminders_queued", count=queued)
        return queued

    def _due(self, case: CaseRow, session: Session, today: date) -> Iterable[tuple[MatterEntry, int, date, int]]:
        application: Mapping[str, Any] = case.application
        try:
            death = date.fromisoformat(application["deceased"]["death_date"])
            answers = Situations.model_validate(application.get("situations") or {}).answer_map()
        except (KeyError, TypeError, ValueError):
            log.warning("claim_sweep_unreadable_case", case_number=case.case_number)
            return
        claimed, selected = _claimed(case, session), self._catalogue.selected(answers)
        for entry in self._claims:
            assert entry.claim is not None
            if entry.code in claimed or MatterCode(entry.code) not in selected:
                continue
            deadline = claim_deadline(death, entry.claim.within_months)
            # Working days from today through the last day.
            left = self._calendar.working_days_between(today - timedelta(days=1), deadline).days
            rung = due_rung(left, entry.claim.remind_working_days_before)
            if rung is not None:
                yield entry, rung, deadline, left


def _claimed(case: CaseRow, session: Session) -> set[str]:
    """The matters this case claimed: applied for, and not ended 未推送 or 已撤回."""
    applied = set(case.application.get("matters") or ())
    rows = session.exec(select(MatterRow.matter, MatterRow.state)
                        .where(MatterRow.case_number == case.case_number)).all()
    unclaimed = {matter for matter, state in rows if state in _UNCLAIMED}
    return applied - unclaimed


def _queue(engine: Engine, case_number: str, entry: MatterEntry, rung: int, text: str, now: datetime) -> int:
    """One reminder per case, matter and rung: a second sweep's insert is refused by the unique key."""
    try:
        with Session(engine) as session:
            if session.exec(select(OutboxRow.id).where(OutboxRow.case_number == case_number,
                                                       OutboxRow.key == lapse_key(entry.code, rung))).first():
                return 0
            session.add(OutboxRow(case_number=case_number, matter=entry.code, key=lapse_key(entry.code, rung),
                                  kind=NotificationKind.CLAIM_LAPSING.value, recipient=Recipient.FAMILY.value,
                                  message=text, created_at=now))
            session.commit()
    except IntegrityError:
        return 0
    return 1

