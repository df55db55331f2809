"""Coverage (which years are official, the staff warning) and a deadline from a date.

2027 is the first year chinese-calendar 1.11.0 lacks (checked in test_calendar.py); every ``today``
is pinned.
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from activities.calendar import WorkingDayCalendar, YearSource, parse_override
from activities.calendar_queries import calendar_coverage, deadline_from_date

WARNING_2027 = "2027年尚无官方节假日安排（国务院通知），期限按法定节假日规则推算，仅供参考；请在节假日覆盖文件中录入"


@pytest.fixture
def cal() -> WorkingDayCalendar:
    return WorkingDayCalendar()


@pytest.fixture
def county_2027() -> WorkingDayCalendar:
    return WorkingDayCalendar(parse_override({2027: {"holidays": ["2027-01-01", "2027-02-05..2027-02-12"]}}))


# --- coverage ----------------------------------------------------------------------------------


def test_no_warning_before_november(cal: WorkingDayCalendar) -> None:
    coverage = calendar_coverage(cal, date(2026, 10, 31))
    assert coverage.official_years == tuple(range(2004, 2027))
    assert coverage.override_years == ()
    assert [(y.year, y.source, y.approximate) for y in coverage.years] == [
        (2026, YearSource.LIBRARY, False),
        (2027, YearSource.RULES, True),
    ]
    assert coverage.approximate_years == (2027,)
    assert coverage.missing_years == ()
    assert coverage.warning is None
    assert coverage.version == cal.version


def test_warning_from_the_first_of_november(cal: WorkingDayCalendar) -> None:
    coverage = calendar_coverage(cal, date(2026, 11, 1))
    assert coverage.missing_years == (2027,)
    assert coverage.warning == WARNING_2027


def test_the_override_year_silences_the_warning(county_2027: WorkingDayCalendar) -> None:
    coverage = calendar_coverage(county_2027, date(2026, 12, 15))
    assert coverage.warning is None
    assert coverage.approximate_years == ()
    assert coverage.override_years == (2027,)
    assert coverage.official_years[-1] == 2027
    assert coverage.years[1].source is YearSource.OVERRIDE


def test_a_current_year_without_data_is_always_warned(cal: WorkingDayCalendar) -> None:
    coverage = calendar_coverage(cal, date(2027, 3, 1))
    assert coverage.approximate_years == (2027, 2028)
    assert coverage.missing_years == (2027,)
    assert coverage.warning == WARNING_2027
    december = calendar_coverage(cal, date(2027, 12, 1))
    assert december.missing_years == (2027, 2028)
    assert december.warning is not None and december.warning.startswith("2027年、2028年尚无官方节假日安排")


def test_coverage_as_json(cal: WorkingDayCalendar) -> None:
    data = json.loads(calendar_coverage(cal, date(2026, 11, 28)).model_dump_json())
    assert data["today"] == "2026-11-28"
    assert data["years"][1] == {"year": 2027, "source": "rules", "approximate": True}
    assert data["warning"] == WARNING_2027


# --- deadline from a date ----------------------------------------------------------------------


def test_five_working_days_from_2027_02_01_skip_spring_festival(cal: WorkingDayCalendar) -> None:
    answer = deadline_from_date(cal, date(2027, 2, 1), 5)
    assert answer.deadline >= date(2027, 2, 10)
    # Tue 2, Wed 3, Thu 4; 除夕 Fri 5 .. 初三 Mon 8 and 补休 Tue 9, Wed 10 off; Thu 11, Fri 12.
    assert answer.deadline == date(2027, 2, 12)
    assert answer.approximate
    assert answer.approximate_years == (2027,)


def test_two_working_days_from_2026_12_30_skip_new_year(cal: WorkingDayCalendar) -> None:
    answer = deadline_from_date(cal, date(2026, 12, 30), 2)
    assert answer.deadline >= date(2027, 1, 4)
    # Thu 2026-12-31, then 元旦 Friday 2027-01-01 and the weekend: Monday 01-04.
    assert answer.deadline == date(2027, 1, 4)
    assert answer.approximate and answer.approximate_years == (2027,)


def test_a_matter_pushed_on_2027_01_28(cal: WorkingDayCalendar) -> None:
    # 5 working days end on Thursday 02-04, the eve of 除夕; a sixth waits for 春节 and its 补休.
    assert deadline_from_date(cal, date(2027, 1, 28), 5).deadline == date(2027, 2, 4)
    assert deadline_from_date(cal, date(2027, 1, 28), 6).deadline == date(2027, 2, 11)
    assert deadline_from_date(cal, date(2027, 1, 28), 10).deadline == date(2027, 2, 17)


def test_the_county_year_is_exact(county_2027: WorkingDayCalendar) -> None:
    answer = deadline_from_date(county_2027, date(2027, 1, 28), 6)
    assert answer.deadline == date(2027, 2, 15)
    assert not answer.approximate and answer.approximate_years == ()


def test_an_official_year_is_exact(cal: WorkingDayCalendar) -> None:
    # Friday 2025-09-26 + 7 crosses golden week and two 调休 weekend days (see test_calendar.py).
    answer = deadline_from_date(cal, date(2025, 9, 26), 7)
    assert (answer.deadline, answer.approximate, answer.approximate_years) == (date(2025, 10, 13), False, ())


def test_zero_and_negative(cal: WorkingDayCalendar) -> None:
    assert deadline_from_date(cal, date(2027, 2, 6), 0).deadline == date(2027, 2, 6)
    assert not deadline_from_date(cal, date(2027, 2, 6), 0).approximate
    with pytest.raises(ValueError, match="n must be >= 0"):
        deadline_from_date(cal, date(2027, 2, 6), -1)


def test_deadline_as_json(cal: WorkingDayCalendar) -> None:
    assert json.loads(deadline_from_date(cal, date(2026, 12, 30), 2).model_dump_json()) == {
        "start": "2026-12-30",
        "working_days": 2,
        "deadline": "2027-01-04",
        "approximate": True,
        "approximate_years": [2027],
    }
