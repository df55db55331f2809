"""The statutory holidays by rule, measured against the State Council's arrangements of 2015-2026.

chinese-calendar holds the official data; the rules must reproduce its holidays (not its 调休 and
the bridge days they buy, which no rule can know), so a wrong lunar date, solar term, revision or
补休 step fails here loudly.
"""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar  # type: ignore[import-untyped, unused-ignore]
import pytest
from tyme4py.solar import SolarDay

from activities.statutory_holidays import Festival, StatutoryDay, rules_for, statutory_days, statutory_days_off

VERIFIED_YEARS = range(2015, 2027)
# chinese-calendar's names for the festivals.
OFFICIAL_NAMES = {
    Festival.NEW_YEAR: "New Year's Day",
    Festival.SPRING_FESTIVAL: "Spring Festival",
    Festival.QINGMING: "Tomb-sweeping Day",
    Festival.LABOUR_DAY: "Labour Day",
    Festival.DRAGON_BOAT: "Dragon Boat Festival",
    Festival.MID_AUTUMN: "Mid-autumn Festival",
    Festival.NATIONAL_DAY: "National Day",
}
# Where the notice placed a make-up day elsewhere than the next working day.
MAKE_UP_ELSEWHERE = {
    # 中秋 fell on Sunday 09-27; the 2015 notice made it up inside the 国庆 week, not on Monday 09-28.
    date(2015, 9, 28),
}
# One-off days off that no rule of the 办法 produces.
ONE_OFF = "Anti-Fascist 70th Day"  # 2015-09-03: 抗战胜利70周年


def official_off(day: date) -> bool:
    return not chinese_calendar.is_workday(day)


def test_the_library_still_has_the_verified_years() -> None:
    assert all(date(year, 1, 1) in chinese_calendar.holidays for year in VERIFIED_YEARS)


@pytest.mark.parametrize("year", VERIFIED_YEARS)
def test_every_rule_holiday_is_the_official_festival_day(year: int) -> None:
    festival_days = [entry for entry in statutory_days(year) if entry.made_up_for is None]
    for entry in festival_days:
        assert chinese_calendar.holidays.get(entry.day) == OFFICIAL_NAMES[entry.festival], entry
    # 11 days a year under the 2013 revision, 13 from 2025 (除夕 and 5月2日 added); a day that is two
    # holidays (2020-10-01) is listed once.
    double = [
        entry for entry in statutory_days(year) if entry.made_up_for is not None and entry.made_up_for.weekday() < 5
    ]
    assert len(festival_days) + len(double) == (11 if year < 2025 else 13)


@pytest.mark.parametrize("year", VERIFIED_YEARS)
def test_every_rule_make_up_day_is_off_officially(year: int) -> None:
    make_ups = [entry for entry in statutory_days(year) if entry.made_up_for is not None]
    for entry in make_ups:
        assert entry.day.weekday() < 5, entry
        # A make-up is owed for a weekend holiday, or for the second of two holidays on one day (2020-10-01).
        assert entry.made_up_for is not None
        assert entry.made_up_for.weekday() >= 5 or entry.festival is Festival.MID_AUTUMN, entry
    assert {entry.day for entry in make_ups if not official_off(entry.day)} == {
        day for day in MAKE_UP_ELSEWHERE if day.year == year
    }


@pytest.mark.parametrize("year", VERIFIED_YEARS)
def test_every_other_official_weekday_off_bridges_to_a_rule_holiday(year: int) -> None:
    """An official weekday off that the rules lack belongs to a holiday period the rules have
    (a bridge day bought by 调休), unless it is a one-off holiday: so no festival is missing."""
    rule_off = statutory_days_off(year - 1) | statutory_days_off(year) | statutory_days_off(year + 1)
    for day in (date(year, 1, 1) + timedelta(days=i) for i in range(366)):
        if day.year != year or day.weekday() >= 5 or not official_off(day) or day in rule_off:
            continue
        if chinese_calendar.holidays.get(day) == ONE_OFF:
            continue
        assert rule_off & _off_run(day), f"{day} is off officially but no rule holiday is next to it"


def test_verification_totals() -> None:
    """The figures reported for 2015-2026: rule days reproduced, and official days the rules lack."""
    rule_days = [entry for year in VERIFIED_YEARS for entry in statutory_days(year)]
    festival_days = [entry for entry in rule_days if entry.made_up_for is None]
    make_ups = [entry for entry in rule_days if entry.made_up_for is not None]
    reproduced = [entry for entry in rule_days if official_off(entry.day)]
    assert (len(festival_days), len(make_ups), len(reproduced)) == (135, 39, 173)
    official_weekdays_off = [
        date(year, 1, 1) + timedelta(days=i)
        for year in VERIFIED_YEARS
        for i in range(366)
        if (date(year, 1, 1) + timedelta(days=i)).year == year
    ]
    not_by_rule = [
        day
        for day in official_weekdays_off
        if day.weekday() < 5 and official_off(day) and day not in statutory_days_off(day.year)
    ]
    assert len(not_by_rule) == 79  # bridge days bought by 调休, and 2015-09-03/04


def _off_run(day: date) -> set[date]:
    """The run of consecutive official non-working days around ``day``."""
    run = {day}
    for step in (timedelta(days=-1), timedelta(days=1)):
        other = day + step
        while official_off(other):
            run.add(other)
            other += step
    return run


# --- the rules themselves -------------------------------------------------------------------------


def test_revisions() -> None:
    assert (rules_for(2024).spring_festival_start, rules_for(2024).spring_festival_days) == (0, 3)
    assert rules_for(2024).labour_days == 1
    assert (rules_for(2025).spring_festival_start, rules_for(2025).spring_festival_days) == (-1, 4)
    assert rules_for(2025).labour_days == 2
    assert rules_for(2027) == rules_for(2025)
    assert rules_for(2000) == rules_for(2014)  # before the oldest revision kept: the oldest


def test_2027_by_rule() -> None:
    holidays = {entry.day: entry.festival for entry in statutory_days(2027) if entry.made_up_for is None}
    make_ups = {entry.day: entry.made_up_for for entry in statutory_days(2027) if entry.made_up_for is not None}
    assert holidays == {
        date(2027, 1, 1): Festival.NEW_YEAR,  # Friday
        # 除夕 Friday 02-05 to 初三 Monday 02-08.
        **{date(2027, 2, d): Festival.SPRING_FESTIVAL for d in (5, 6, 7, 8)},
        date(2027, 4, 5): Festival.QINGMING,
        date(2027, 5, 1): Festival.LABOUR_DAY,  # Saturday
        date(2027, 5, 2): Festival.LABOUR_DAY,  # Sunday
        date(2027, 6, 9): Festival.DRAGON_BOAT,
        date(2027, 9, 15): Festival.MID_AUTUMN,
        **{date(2027, 10, d): Festival.NATIONAL_DAY for d in (1, 2, 3)},  # Friday to Sunday
    }
    assert make_ups == {
        date(2027, 2, 9): date(2027, 2, 6),
        date(2027, 2, 10): date(2027, 2, 7),
        date(2027, 5, 3): date(2027, 5, 1),
        date(2027, 5, 4): date(2027, 5, 2),
        date(2027, 10, 4): date(2027, 10, 2),
        date(2027, 10, 5): date(2027, 10, 3),
    }


@pytest.mark.parametrize("year", range(2025, 2061))
def test_spring_festival_starts_on_the_last_day_of_the_twelfth_month(year: int) -> None:
    first = min(entry.day for entry in statutory_days(year) if entry.festival is Festival.SPRING_FESTIVAL)
    lunar = SolarDay.from_ymd(first.year, first.month, first.day).get_lunar_day()
    assert abs(lunar.get_month()) == 12
    assert lunar.get_day() == lunar.get_lunar_month().get_day_count() in (29, 30)


def test_a_weekend_holiday_is_made_up_after_the_other_holidays() -> None:
    # 2022: 国庆 Saturday 10-01 and Sunday 10-02, Monday 10-03 is itself 国庆: made up on 10-04 and 10-05.
    october = [entry for entry in statutory_days(2022) if entry.day.month == 10]
    assert october[-2:] == [
        StatutoryDay(date(2022, 10, 4), Festival.NATIONAL_DAY, date(2022, 10, 1)),
        StatutoryDay(date(2022, 10, 5), Festival.NATIONAL_DAY, date(2022, 10, 2)),
    ]


def test_two_holidays_on_one_day_give_two_days_off() -> None:
    # 2028: 中秋 falls on 10-03, the third day of 国庆 (Tuesday): it is made up on Thursday 10-05.
    assert StatutoryDay(date(2028, 10, 5), Festival.MID_AUTUMN, date(2028, 10, 3)) in statutory_days(2028)
    assert len([entry for entry in statutory_days(2028) if entry.day.month == 10]) == 5


def test_every_year_a_date_can_hold_is_computed() -> None:
    for year in (1, 1900, 2200, 9999):
        assert date(year, 1, 1) in statutory_days_off(year)
