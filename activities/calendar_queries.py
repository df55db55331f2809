"""Questions staff ask of the working-day calendar: which years are official, and a deadline from a date.

``calendar_coverage`` is what the worker logs at start-up and ``shenhou calendar coverage`` prints;
``deadline_from_date`` backs ``shenhou calendar deadline --from DATE --working-days N``. Both results
are frozen pydantic models, so ``--json`` is ``model_dump_json()``. Neither reads a clock: the caller
passes ``today``.
"""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict, Field

from activities.calendar import WorkingDayCalendar, YearSource

__all__ = [
    "WARN_FROM_MONTH",
    "CalendarCoverage",
    "WorkingDayDeadline",
    "YearCoverage",
    "calendar_coverage",
    "deadline_from_date",
    "missing_years_warning",
]

# From this month on, a next year without official data is warned about (the State Council
# notice usually comes out in November or December).
WARN_FROM_MONTH = 11


class YearCoverage(BaseModel):
    model_config = ConfigDict(frozen=True)

    year: int
    source: YearSource
    approximate: bool


class CalendarCoverage(BaseModel):
    """What the calendar knows, seen from ``today``."""

    model_config = ConfigDict(frozen=True)

    today: date
    version: str
    # Every year with official data: chinese-calendar's range and the override's years.
    official_years: tuple[int, ...]
    override_years: tuple[int, ...]
    # This year and the next, with where their data comes from.
    years: tuple[YearCoverage, ...]
    # Of ``years``, those counted by rule (no 调休): deadlines in them are approximate.
    approximate_years: tuple[int, ...]
    # Of ``approximate_years``, those staff must act on now: this year always, the next from 1 November.
    missing_years: tuple[int, ...]
    # Chinese text for staff, or None when nothing is missing.
    warning: str | None


class WorkingDayDeadline(BaseModel):
    """The N-th working day after a start date (the start itself not counted)."""

    model_config = ConfigDict(frozen=True)

    start: date
    working_days: int = Field(ge=0)
    deadline: date
    approximate: bool
    # The rule-computed years the count passed through (empty when ``approximate`` is false).
    approximate_years: tuple[int, ...]


def calendar_coverage(calendar: WorkingDayCalendar, today: date) -> CalendarCoverage:
    years = tuple(
        YearCoverage(year=year, source=source, approximate=source is YearSource.RULES)
        for year in (today.year, today.year + 1)
        for source in (calendar.year_source(year),)
    )
    approximate = tuple(entry.year for entry in years if entry.approximate)
    missing = tuple(year for year in approximate if year == today.year or today.month >= WARN_FROM_MONTH)
    return CalendarCoverage(
        today=today,
        version=calendar.version,
        official_years=calendar.official_years(),
        override_years=calendar.override_years(),
        years=years,
        approximate_years=approximate,
        missing_years=missing,
        warning=missing_years_warning(missing),
    )


def missing_years_warning(years: tuple[int, ...]) -> str | None:
    if not years:
        return None
    named = "、".join(f"{year}年" for year in years)
    return f"{named}尚无官方节假日安排（国务院通知），期限按法定节假日规则推算，仅供参考；请在节假日覆盖文件中录入"


def deadline_from_date(calendar: WorkingDayCalendar, start: date, working_days: int) -> WorkingDayDeadline:
    """The ``working_days``-th working day after ``start``; ValueError when working_days < 0."""
    deadline, approximate = calendar.add_working_days(start, working_days)
    rule_years: tuple[int, ...] = ()
    if approximate:
        first = start + timedelta(days=1)
        rule_years = tuple(
            year for year in range(first.year, deadline.year + 1) if calendar.year_source(year) is YearSource.RULES
        )
    return WorkingDayDeadline(
        start=start,
        working_days=working_days,
        deadline=deadline,
        approximate=approximate,
        approximate_years=rule_years,
    )
