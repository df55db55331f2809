"""The Chinese statutory working-day calendar (工作日, including 调休 make-up working days).

Where an answer comes from, per year (``YearSource``):

1. the county's override file, when it names the year (official: the county copies the State
   Council notice; see holidays_override.example.yaml);
2. chinese-calendar's data from the State Council notices (official);
3. otherwise the statutory holidays computed by rule (activities/statutory_holidays.py) with no 调休:
   every answer that examined such a day is ``approximate``, and a ``calendar_year_approximate``
   warning is logged once per year per calendar (docs/domain.md, "Working days and the calendar":
   never a crash).

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
- Chosen: chinese-calendar, because an unpublished year is an explicit error, which this module turns
  into a rule-based year marked approximate, where holidays would silently give a half-right year.
  Version 1.11.0 has no 2027 (today is 2026-11-28): until a release covers it, a county adds 2027
  through the override file.

Override file (YAML, maintained by the county): a mapping of year -> entry, where an entry has
``holidays`` (dates off), ``workdays`` (调休 make-up working days), optional ``replace: true`` (the
entry fully replaces the library's data for that year; otherwise it adds to and corrects it) and an
optional ``source`` (free text, e.g. the notice number). A date is ``YYYY-MM-DD`` or an inclusive
range ``YYYY-MM-DD..YYYY-MM-DD``. A year named in the file is official even if the library lacks it
(Monday-Friday plus the entry).

Live reload: a calendar made by ``from_file`` looks at the file's modification time at most every
``recheck_seconds`` (on the next question asked after that) and re-reads it when it changed. A new
file that cannot be read or parsed is logged once (``calendar_override_invalid``) and the last good
data stays in force; the worker never stops for it. ``version`` is a hash of the data in force
(library version, rule set, override days; not the ``source`` texts), so callers can tell a change.

The calendar is data that changes: deadlines are computed from it in an activity and stored as
absolute times, so a calendar update never alters what a history already holds. A running matter picks the
update up when its next escalation step falls due: it counts its deadline again and, if it moved, records
the move and tells the department (``deadline_moved``; domain/ladder.py: ``replanned``).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import NamedTuple

import chinese_calendar  # type: ignore[import-untyped, unused-ignore]
import structlog
import yaml

from activities.statutory_holidays import RULES_ID, statutory_days_off

__all__ = [
    "CountAnswer",
    "DateAnswer",
    "DayAnswer",
    "OverrideFileError",
    "WorkingDayCalendar",
    "YearOverride",
    "YearSource",
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


class YearSource(StrEnum):
    """Where a year's working days come from."""

    OVERRIDE = "override"  # the county's file (official)
    LIBRARY = "library"  # chinese-calendar, from the State Council notices (official)
    RULES = "rules"  # statutory holidays computed by rule, no 调休 (approximate)


class DayAnswer(NamedTuple):
    working: bool
    approximate: bool


class DateAnswer(NamedTuple):
    day: date
    approximate: bool


class CountAnswer(NamedTuple):
    days: int
    approximate: bool


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

_LIBRARY_ID = f"chinese-calendar-{chinese_calendar.__version__}"
# A file stamp that matches no real file: the file is read again at the next check.
_STALE = (-1, -1, -1)


def _library_years() -> range:
    days: Iterable[date] = chinese_calendar.holidays.keys()
    years = {d.year for d in days}
    return range(min(years), max(years) + 1)


def _stamp(path: Path) -> tuple[int, int, int] | None:
    """What tells that the file changed: modification time, size and inode (None when it is gone)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


@dataclass(frozen=True)
class _Data:
    """The override in force and its version; replaced whole on reload, never changed."""

    override: Mapping[int, YearOverride]
    version: str
    # Each day's answer once worked out (a deadline and its ladder walk the same weeks again and again).
    days: dict[date, DayAnswer] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, override: Mapping[int, YearOverride]) -> _Data:
        return cls(dict(override), _version_of(override))


def _version_of(override: Mapping[int, YearOverride]) -> str:
    # The source texts are left out: a corrected notice number changes no working day.
    payload = {
        "library": _LIBRARY_ID,
        "rules": RULES_ID,
        "override": {
            str(year): {
                "holidays": sorted(d.isoformat() for d in entry.holidays),
                "workdays": sorted(d.isoformat() for d in entry.workdays),
                "replace": entry.replace,
            }
            for year, entry in sorted(override.items())
        },
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


class WorkingDayCalendar:
    """Statutory working days: the county's override, chinese-calendar's data, else the rules.

    Thread-safe: activities call it from a thread pool while a reload may replace its data.
    """

    def __init__(self, override: Mapping[int, YearOverride] | None = None, *, log_approximate: bool = True) -> None:
        self._data = _Data.of(override or {})
        # False for a caller that tells the approximation itself (the CLI's answers), so no log line repeats it.
        self._log_approximate = log_approximate
        self._library_years = _library_years()
        self._warned: set[int] = set()
        self._warn_lock = threading.Lock()
        self._path: Path | None = None
        self._recheck_seconds = 0.0
        self._clock: Callable[[], float] = time.monotonic
        self._next_check = 0.0
        self._stamp: tuple[int, int, int] | None = None
        self._reload_lock = threading.Lock()

    @classmethod
    def from_file(
        cls,
        path: Path | None,
        *,
        recheck_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        log_approximate: bool = True,
    ) -> WorkingDayCalendar:
        """The calendar with the county's override file (``None``: none), re-read when it changes.

        Raises OverrideFileError when the file cannot be used now; later changes never raise.
        """
        if path is None:
            return cls(log_approximate=log_approximate)
        stamp = _stamp(path)
        calendar = cls(load_override(path), log_approximate=log_approximate)
        calendar._path = path
        calendar._recheck_seconds = recheck_seconds
        calendar._clock = clock
        calendar._next_check = clock() + recheck_seconds
        calendar._stamp = stamp
        return calendar

    # --- what the calendar knows

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def version(self) -> str:
        """A short hash of the data in force; it changes when a reload changes any working day."""
        return self._current().version

    @property
    def library_years(self) -> range:
        return self._library_years

    def override_years(self) -> tuple[int, ...]:
        return tuple(sorted(self._current().override))

    def official_years(self) -> tuple[int, ...]:
        """Every year with official data (the library's or the override's), ascending."""
        return tuple(sorted(set(self._library_years) | set(self._current().override)))

    def year_source(self, year: int) -> YearSource:
        return self._source(self._current(), year)

    def knows_year(self, year: int) -> bool:
        """Whether ``year`` has official data (answers in it are not approximate)."""
        return self.year_source(year) is not YearSource.RULES

    # --- questions

    def is_working_day(self, d: date) -> DayAnswer:
        """Whether ``d`` is a working day, and whether the answer is approximate (a rule-computed year)."""
        return self._is_working_day(self._current(), d)

    def add_working_days(self, start: date, n: int) -> DateAnswer:
        """The n-th working day strictly after ``start`` (``start`` itself when n is 0)."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        data = self._current()
        day, approximate, found = start, False, 0
        while found < n:
            day += _ONE_DAY
            working, rule_based = self._is_working_day(data, day)
            approximate |= rule_based
            found += working
        return DateAnswer(day, approximate)

    def working_days_between(self, after: date, until: date) -> CountAnswer:
        """How many working days d satisfy ``after < d <= until`` (0 when until <= after)."""
        data = self._current()
        count, approximate, day = 0, False, after
        while day < until:
            day += _ONE_DAY
            working, rule_based = self._is_working_day(data, day)
            approximate |= rule_based
            count += working
        return CountAnswer(count, approximate)

    # --- internals

    def _source(self, data: _Data, year: int) -> YearSource:
        if year in data.override:
            return YearSource.OVERRIDE
        if year in self._library_years:
            return YearSource.LIBRARY
        return YearSource.RULES

    def _is_working_day(self, data: _Data, d: date) -> DayAnswer:
        if isinstance(d, datetime):
            d = d.date()
        answer = data.days.get(d)
        if answer is None:
            answer = data.days[d] = self._work_out(data, d)
        return answer

    def _work_out(self, data: _Data, d: date) -> DayAnswer:
        entry = data.override.get(d.year)
        if entry is not None:
            if d in entry.workdays:
                return DayAnswer(True, False)
            if d in entry.holidays:
                return DayAnswer(False, False)
            if entry.replace or d.year not in self._library_years:
                return DayAnswer(d.weekday() < 5, False)
        if d.year in self._library_years:
            return DayAnswer(bool(chinese_calendar.is_workday(d)), False)
        off = self._rule_days_off(d.year)
        return DayAnswer(d.weekday() < 5 and d not in off, True)

    def _rule_days_off(self, year: int) -> frozenset[date]:
        try:
            off = statutory_days_off(year)
        except ValueError as err:
            # Beyond the lunar library's range: weekends only, still approximate, never a crash.
            self._warn_approximate(year, problem=str(err))
            return frozenset()
        self._warn_approximate(year)
        return off

    def _warn_approximate(self, year: int, problem: str | None = None) -> None:
        if not self._log_approximate:
            return
        with self._warn_lock:
            if year in self._warned:
                return
            self._warned.add(year)
        structlog.get_logger().warning(
            "calendar_year_approximate",
            year=year,
            basis="statutory_rules_without_tiaoxiu" if problem is None else "weekends_only",
            problem=problem,
            library_years=f"{self._library_years.start}-{self._library_years.stop - 1}",
            override_years=sorted(self._data.override),
        )

    def _current(self) -> _Data:
        if self._path is not None and self._clock() >= self._next_check:
            self._check_file(self._path)
        return self._data

    def _check_file(self, path: Path) -> None:
        with self._reload_lock:
            now = self._clock()
            if now < self._next_check:
                return  # another thread has just checked
            self._next_check = now + self._recheck_seconds
            stamp = _stamp(path)
            if stamp == self._stamp:
                return
            self._stamp = stamp
            log = structlog.get_logger()
            try:
                override = load_override(path)
            except OverrideFileError as err:
                # Logged once per version of the file: the stamp is now seen.
                log.error("calendar_override_invalid", problem=str(err), kept_version=self._data.version)
                return
            if _stamp(path) != stamp:
                self._stamp = _STALE  # written to while being read: read it again at the next check
            data = _Data.of(override)
            if data.version != self._data.version:
                log.info(
                    "calendar_override_reloaded",
                    path=str(path),
                    version=data.version,
                    previous_version=self._data.version,
                    override_years=sorted(data.override),
                )
            self._data = data
