"""The Chinese statutory working-day calendar (工作日, including 调休 make-up working days).

Library choice (checked 2026-11-28 against the installed packages):

- chinese-calendar 1.11.0 (PyPI ``chinesecalendar``, import ``chinese_calendar``, MIT): explicit data
  from the State Council notices -- ``holidays``, ``workdays`` (调休 make-up working days) and
  ``in_lieu_days`` -- for 2004-2026 only; any other year raises NotImplementedError ("only year
  between [2004, 2026] supported"). Its README says a release follows each State Council notice,
  usually around November. No type hints (no py.typed).
- holidays 0.109 (``holidays.China`` / ``CN`` / ``CHN``, MIT): the statutory days are computed by rule
  (lunar calendar) for every year from 1950; 调休 come from a hand-kept table
  (``ChinaStaticHolidays.special_public_holidays`` -> ``weekend_workdays``, ``is_working_day``) that
  ends with 2026. For 2027 it already answers with rule-based days (e.g. 2027-02-05..02-10) and no
  调休, with no sign that the year is unpublished. Releases on the 1st and 3rd Tuesday of each month;
  its own notes ask for a check of China 3 weeks before each year's end.
- Over 2004-2026 the two agree on every day but one (2005-12-31, a Saturday: a working day for
  holidays, a day off for chinese-calendar).
- Chosen: chinese-calendar, because an unpublished year is an explicit error that this module turns
  into the Monday-Friday fallback with a warning (DOMAIN.md section 6), where holidays would silently
  give a half-right year. Version 1.11.0 has no 2027 (today is 2026-11-28): until a release covers
  it, a county adds 2027 through the override file (see holidays_override.example.yaml).

Override file (YAML, maintained by the county): a mapping of year -> entry, where an entry has
``holidays`` (dates off), ``workdays`` (调休 make-up working days), optional ``replace: true`` (the
entry fully replaces the library's data for that year; otherwise it adds to and corrects it) and an
optional ``source`` (free text, e.g. the notice number). A date is ``YYYY-MM-DD`` or an inclusive
range ``YYYY-MM-DD..YYYY-MM-DD``. A year named in the file is a known year even if the library lacks it.

The calendar is data that changes: deadlines are computed from it in an activity and stored as
absolute times, so a calendar update never alters a running case's history.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import chinese_calendar  # type: ignore[import-untyped, unused-ignore]
import structlog
import yaml

from runtime.settings import Settings

__all__ = [
    "CountAnswer",
    "DateAnswer",
    "DayAnswer",
    "OverrideFileError",
    "WorkingDayCalendar",
    "YearOverride",
    "load_override",
    "parse_override",
]

_ONE_DAY = timedelta(days=1)
_ENTRY_KEYS = frozenset({"holidays", "workdays", "replace", "source"})
_MIN_YEAR, _MAX_YEAR = 1900, 2200


class OverrideFileError(ValueError):
    """The county override file is missing or malformed; the message names the file and the problem."""


@dataclass(frozen=True)
class YearOverride:
    """One year of the county's override file."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    replace: bool = False
    source: str = ""


class DayAnswer(NamedTuple):
    working: bool
    fallback: bool


class DateAnswer(NamedTuple):
    day: date
    fallback: bool


class CountAnswer(NamedTuple):
    days: int
    fallback: bool


# --- the override file -------------------------------------------------------------------------


def load_override(path: Path | None) -> dict[int, YearOverride]:
    """Read a county override file; ``None`` means no override.

    Raises OverrideFileError (a ValueError) naming the file and the problem when the file is
    missing or malformed.
    """
    if path is None:
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise OverrideFileError(f"holiday override file {path}: cannot be read ({err.strerror or err})") from err
    except UnicodeDecodeError as err:
        raise OverrideFileError(f"holiday override file {path}: not UTF-8 text ({err})") from err
    try:
        data = yaml.load(text, Loader=_OverrideLoader)
    except (yaml.YAMLError, ValueError) as err:
        raise OverrideFileError(f"holiday override file {path}: not valid YAML: {err}") from err
    return parse_override(data, source=str(path))


class _OverrideLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text, so a bad date gets this module's clear message."""


_OverrideLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_override(data: object, source: str = "<override>") -> dict[int, YearOverride]:
    """Validate already-parsed override data (a mapping of year -> entry)."""
    where = f"holiday override file {source}"
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise OverrideFileError(f"{where}: the top level must be a mapping of year -> entry, got {type(data).__name__}")
    result: dict[int, YearOverride] = {}
    for raw_year, entry in data.items():
        year = _parse_year(raw_year, where)
        if year in result:
            raise OverrideFileError(f"{where}: year {year} appears twice")
        result[year] = _parse_entry(year, entry, f"{where}, year {year}")
    return result


def _parse_year(raw: object, where: str) -> int:
    if isinstance(raw, bool):
        raise OverrideFileError(f"{where}: {raw!r} is not a year")
    if isinstance(raw, int):
        year = raw
    elif isinstance(raw, str) and raw.strip().isdigit():
        year = int(raw.strip())
    else:
        raise OverrideFileError(f"{where}: top-level key {raw!r} is not a year (expected e.g. 2027)")
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        raise OverrideFileError(f"{where}: year {year} is out of range {_MIN_YEAR}-{_MAX_YEAR}")
    return year


def _parse_entry(year: int, entry: object, where: str) -> YearOverride:
    if entry is None:
        entry = {}
    if not isinstance(entry, Mapping):
        raise OverrideFileError(
            f"{where}: expected a mapping with holidays/workdays/replace, got {type(entry).__name__}"
        )
    unknown = sorted(str(key) for key in entry if key not in _ENTRY_KEYS)
    if unknown:
        raise OverrideFileError(
            f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_ENTRY_KEYS))}"
        )
    replace = entry.get("replace", False)
    if not isinstance(replace, bool):
        raise OverrideFileError(f"{where}: replace must be true or false, got {replace!r}")
    source = entry.get("source", "")
    if source is None:
        source = ""
    if not isinstance(source, str):
        raise OverrideFileError(f"{where}: source must be text, got {source!r}")
    holidays = _parse_dates(year, entry.get("holidays"), f"{where}, holidays")
    workdays = _parse_dates(year, entry.get("workdays"), f"{where}, workdays")
    both = sorted(holidays & workdays)
    if both:
        listed = ", ".join(d.isoformat() for d in both)
        raise OverrideFileError(f"{where}: date(s) listed both as holiday and as workday: {listed}")
    return YearOverride(holidays=holidays, workdays=workdays, replace=replace, source=source)


def _parse_dates(year: int, raw: object, where: str) -> frozenset[date]:
    if raw is None:
        return frozenset()
    if not isinstance(raw, list):
        raise OverrideFileError(f"{where}: expected a list of dates, got {type(raw).__name__}")
    days: set[date] = set()
    for item in raw:
        days.update(_parse_date_item(item, where))
    wrong_year = sorted(d for d in days if d.year != year)
    if wrong_year:
        raise OverrideFileError(f"{where}: {wrong_year[0].isoformat()} is not in {year}")
    return frozenset(days)


def _parse_date_item(item: object, where: str) -> Iterable[date]:
    if isinstance(item, datetime):
        raise OverrideFileError(f"{where}: {item.isoformat()} has a time of day; give a date YYYY-MM-DD")
    if isinstance(item, date):
        return (item,)
    if not isinstance(item, str):
        raise OverrideFileError(f"{where}: {item!r} is not a date (expected YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD)")
    text = item.strip()
    if ".." in text:
        first_text, _, last_text = text.partition("..")
        first = _iso_date(first_text.strip(), where)
        last = _iso_date(last_text.strip(), where)
        if last < first:
            raise OverrideFileError(f"{where}: range {text!r} ends before it starts")
        return (first + timedelta(days=i) for i in range((last - first).days + 1))
    return (_iso_date(text, where),)


def _iso_date(text: str, where: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise OverrideFileError(f"{where}: {text!r} is not a date (expected YYYY-MM-DD)") from None


# --- the calendar ------------------------------------------------------------------------------


def _library_years() -> range:
    days: Iterable[date] = chinese_calendar.holidays.keys()
    years = {d.year for d in days}
    return range(min(years), max(years) + 1)


class WorkingDayCalendar:
    """Statutory working days: chinese-calendar's data, corrected by the county's override.

    A date whose year neither the library nor the override knows is answered Monday-Friday, with
    ``fallback`` set and a ``calendar_year_unknown`` warning logged once per year per instance.
    """

    def __init__(self, override: Mapping[int, YearOverride] | None = None) -> None:
        self._override: dict[int, YearOverride] = dict(override or {})
        self._library_years = _library_years()
        self._warned: set[int] = set()
        self._lock = threading.Lock()

    @classmethod
    def from_file(cls, path: Path | None) -> WorkingDayCalendar:
        return cls(load_override(path))

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkingDayCalendar:
        """``settings.holiday_file`` if set (it must exist), else ``data_dir/holidays.yaml`` if present."""
        path = settings.holiday_file
        if path is None:
            default = settings.data_dir / "holidays.yaml"
            path = default if default.is_file() else None
        return cls.from_file(path)

    @property
    def library_years(self) -> range:
        return self._library_years

    def knows_year(self, year: int) -> bool:
        return year in self._override or year in self._library_years

    def is_working_day(self, d: date) -> DayAnswer:
        """Whether ``d`` is a working day, and whether the answer is the Monday-Friday fallback."""
        if isinstance(d, datetime):
            d = d.date()
        entry = self._override.get(d.year)
        if entry is not None:
            if d in entry.workdays:
                return DayAnswer(True, False)
            if d in entry.holidays:
                return DayAnswer(False, False)
            if entry.replace or d.year not in self._library_years:
                return DayAnswer(d.weekday() < 5, False)
        if d.year in self._library_years:
            return DayAnswer(bool(chinese_calendar.is_workday(d)), False)
        self._warn_unknown(d.year)
        return DayAnswer(d.weekday() < 5, True)

    def add_working_days(self, start: date, n: int) -> DateAnswer:
        """The n-th working day strictly after ``start`` (``start`` itself when n is 0)."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        day, fallback, found = start, False, 0
        while found < n:
            day += _ONE_DAY
            working, used_fallback = self.is_working_day(day)
            fallback |= used_fallback
            found += working
        return DateAnswer(day, fallback)

    def working_days_between(self, after: date, until: date) -> CountAnswer:
        """How many working days d satisfy ``after < d <= until`` (0 when until <= after)."""
        count, fallback, day = 0, False, after
        while day < until:
            day += _ONE_DAY
            working, used_fallback = self.is_working_day(day)
            fallback |= used_fallback
            count += working
        return CountAnswer(count, fallback)

    def _warn_unknown(self, year: int) -> None:
        with self._lock:
            if year in self._warned:
                return
            self._warned.add(year)
        structlog.get_logger().warning(
            "calendar_year_unknown",
            year=year,
            fallback="monday_to_friday",
            library_years=f"{self._library_years.start}-{self._library_years.stop - 1}",
            override_years=sorted(self._override),
        )
