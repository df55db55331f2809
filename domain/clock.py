"""Local dates in the county's time zone (named in the policy), for code that must not open files itself."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


def local_date(at: datetime, timezone: str) -> date:
    return at.astimezone(ZoneInfo(timezone)).date()


def deadline_text(deadline: datetime, timezone: str) -> str:
    """A deadline is stored as 00:00 after its last working day; people read it as that day's end."""
    last_day = (deadline.astimezone(ZoneInfo(timezone)) - timedelta(microseconds=1)).date()
    return f"{last_day.isoformat()} 24:00"
