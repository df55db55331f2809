"""Statutory public holidays computed by rule, for a year that has no official arrangement yet.

The rules are those of 全国年节及纪念日放假办法 for the holidays of all citizens:

- revision of 2013-12-11 (国务院令第644号), in force 2014-2024: 元旦 1 day; 春节 3 (正月初一-初三);
  清明 1; 劳动节 1; 端午 1; 中秋 1; 国庆 3.
- revision of 2024-11-10 (国务院令第795号), in force from 2025: 春节 4 (除夕-正月初三) and 劳动节 2 (5月1日-2日);
  the rest unchanged.

A holiday falling on a Saturday or Sunday is made up (补休) on the following working day(s). Choice where
the text is silent: a day that is two holidays at once (中秋 on 1 October, as in 2020) is made up too,
as the 2020 arrangement did. What a rule cannot know: the 调休 of each year's State Council notice
(weekend days made working days to bridge a holiday) and the bridge days they buy; the notices also
sometimes place a make-up day elsewhere (2015: 中秋 on Sunday 09-27 was made up inside the 国庆 week,
not on Monday 09-28). A year computed here is therefore approximate; tests/activities/test_statutory_holidays.py
measures it against the official data of 2015-2026. Years before 2014 use the 2013 revision too (only
reached for dates before the official data of chinese-calendar, which starts in 2004).

Lunar dates and the 清明 solar term come from tyme4py 1.5.0 (PyPI ``tyme4py``, MIT, pure Python, no
dependencies; 6tail's successor of lunar-python). Candidates checked 2026-11-28, all installed and
compared over 2004-2099 (正月初一, 端午, 中秋, 清明):

- tyme4py 1.5.0 (2026-05, ~20 releases): astronomical computation after 寿星天文历 (sxwnl), lunar years
  -1..9999, public typed API (``LunarDay``, ``SolarTerm``; annotated, no py.typed marker). Chosen.
- lunar_python 1.4.8 (2025-11): same author and algorithm, untyped; tyme4py is its announced successor.
- holidays 0.109: tables typed into the package (1901-2099) behind a private class (``_ChineseLunisolar``);
  the public API gives whole country calendars, with China's rules and 调休 mixed in.
- sxtwl 2.0.7 (2024-09): the same algorithm as a C++ extension: platform wheels, no typing, older.
- borax 4.1.3: table-based; differs from all others on 中秋 2089.
- cnlunar 0.2.5: an almanac (黄历) project; far more than needed.
- lunardate 0.3.0 and zhdate: GPL-3.0, and neither gives solar terms.
tyme4py, lunar_python, holidays, sxtwl and lunardate agreed on every date compared. As a cross-check
of the rules, holidays 0.109's own China rules give the same days off for 2027-2035 but for the make-up
of a day that is two holidays (2028-10-05, 2031-10-06), which it does not grant.

tyme4py initialises its lunar tables lazily in class attributes without a lock, so every call into it
here is serialised by a module lock; results are cached per year.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from tyme4py.lunar import LunarDay
from tyme4py.solar import SolarDay, SolarTerm

__all__ = [
    "REVISIONS",
    "RULES_ID",
    "Festival",
    "HolidayRules",
    "StatutoryDay",
    "rules_for",
    "statutory_days",
    "statutory_days_off",
]

_ONE_DAY = timedelta(days=1)


class Festival(StrEnum):
    NEW_YEAR = "元旦"
    SPRING_FESTIVAL = "春节"
    QINGMING = "清明节"
    LABOUR_DAY = "劳动节"
    DRAGON_BOAT = "端午节"
    MID_AUTUMN = "中秋节"
    NATIONAL_DAY = "国庆节"


@dataclass(frozen=True)
class HolidayRules:
    """One revision of 全国年节及纪念日放假办法 (holidays of all citizens)."""

    in_force_from: int
    name: str
    # 春节 starts this many days from 正月初一 (-1: on 除夕) and lasts this many days.
    spring_festival_start: int
    spring_festival_days: int
    labour_days: int


REVISIONS: tuple[HolidayRules, ...] = (
    HolidayRules(2014, "全国年节及纪念日放假办法（2013年修订）", 0, 3, 1),
    HolidayRules(2025, "全国年节及纪念日放假办法（2024年修订）", -1, 4, 2),
)
# Part of the calendar's version: change it whenever the rules or the lunar library change.
RULES_ID = "statutory-rules-2024/tyme4py-1.5.0"


@dataclass(frozen=True, order=True)
class StatutoryDay:
    """A day off by rule: the holiday itself, or the make-up day (补休) of ``made_up_for``."""

    day: date
    festival: Festival
    made_up_for: date | None = None


def rules_for(year: int) -> HolidayRules:
    """The revision in force in ``year`` (the oldest one for years before it)."""
    in_force = [rules for rules in REVISIONS if rules.in_force_from <= year]
    return in_force[-1] if in_force else REVISIONS[0]


_lock = threading.Lock()
_cache: dict[int, tuple[tuple[StatutoryDay, ...], frozenset[date]]] = {}


def statutory_days(year: int) -> tuple[StatutoryDay, ...]:
    """Every day off by rule in ``year`` (holidays and their make-up days), sorted by date.

    Raises ValueError for a year the lunar library cannot compute.
    """
    return _cached(year)[0]


def statutory_days_off(year: int) -> frozenset[date]:
    """The dates of ``statutory_days(year)``; cheap after the first call for a year."""
    return _cached(year)[1]


def _cached(year: int) -> tuple[tuple[StatutoryDay, ...], frozenset[date]]:
    with _lock:
        cached = _cache.get(year)
        if cached is None:
            days = _compute(year)
            cached = _cache[year] = (days, frozenset(entry.day for entry in days))
        return cached


def _compute(year: int) -> tuple[StatutoryDay, ...]:
    rules = rules_for(year)
    first_of_spring = _lunar(year, 1, 1) + timedelta(days=rules.spring_festival_start)
    # Fixed-date holidays first: on a day that is two holidays, the moving one is the one made up
    # (2020-10-01 is 国庆 in the official data, and 中秋 was made up).
    holidays: list[tuple[date, Festival]] = [
        (date(year, 1, 1), Festival.NEW_YEAR),
        *((date(year, 5, 1 + i), Festival.LABOUR_DAY) for i in range(rules.labour_days)),
        *((date(year, 10, 1 + i), Festival.NATIONAL_DAY) for i in range(3)),
        *((first_of_spring + timedelta(days=i), Festival.SPRING_FESTIVAL) for i in range(rules.spring_festival_days)),
        (_qingming(year), Festival.QINGMING),
        (_lunar(year, 5, 5), Festival.DRAGON_BOAT),
        (_lunar(year, 8, 15), Festival.MID_AUTUMN),
    ]
    holidays.sort(key=lambda holiday: holiday[0])
    days: list[StatutoryDay] = []
    off: set[date] = set()
    owed: list[tuple[date, Festival]] = []
    for day, festival in holidays:
        if day.weekday() >= 5 or day in off:
            owed.append((day, festival))
        if day not in off:
            days.append(StatutoryDay(day, festival))
            off.add(day)
    for day, festival in owed:
        make_up = day + _ONE_DAY
        while make_up.weekday() >= 5 or make_up in off:
            make_up += _ONE_DAY
        days.append(StatutoryDay(make_up, festival, made_up_for=day))
        off.add(make_up)
    return tuple(sorted(days))


def _lunar(year: int, month: int, day: int) -> date:
    """The Gregorian date of a lunar date (month 1 = 正月) in the lunar year that starts in ``year``."""
    return _gregorian(LunarDay.from_ymd(year, month, day).get_solar_day())


def _qingming(year: int) -> date:
    found = _gregorian(SolarTerm.from_name(year, "清明").get_solar_day())
    if found.year != year or found.month != 4:
        raise ValueError(f"tyme4py placed 清明 {year} on {found.isoformat()}")
    return found


def _gregorian(day: SolarDay) -> date:
    return date(day.get_year(), day.get_month(), day.get_day())
