"""The statutory working-day calendar: library data, 调休, the county override and the fallback.

Real holiday dates are checked against chinese-calendar's own tables first, so a wrong memory of
the State Council notices fails loudly instead of hiding in an expectation.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import chinese_calendar  # type: ignore[import-untyped, unused-ignore]
import pytest
import yaml
from structlog.testing import capture_logs

from activities.calendar import (
    WorkingDayCalendar,
    YearOverride,
    load_override,
    parse_override,
)
from runtime.settings import Settings

# A year no library release will cover soon: the "unknown year" of these tests.
UNKNOWN_YEAR = 2099
EXAMPLE_FILE = Path(__file__).resolve().parents[2] / "activities" / "holidays_override.example.yaml"


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


@pytest.fixture
def cal() -> WorkingDayCalendar:
    return WorkingDayCalendar()


# --- the library's data, verified --------------------------------------------------------------


def test_library_data_matches_the_dates_these_tests_rely_on() -> None:
    # 2025 National Day + Mid-Autumn: 10-01..10-08 off; 调休: Sunday 09-28 and Saturday 10-11 work.
    assert all(d in chinese_calendar.holidays for d in days(date(2025, 10, 1), date(2025, 10, 8)))
    assert date(2025, 9, 28) in chinese_calendar.workdays
    assert date(2025, 10, 11) in chinese_calendar.workdays
    assert date(2025, 9, 28).weekday() == 6 and date(2025, 10, 11).weekday() == 5
    # 2026 Spring Festival: 02-15..02-23 off; 调休: Saturdays 02-14 and 02-28 work.
    assert all(d in chinese_calendar.holidays for d in days(date(2026, 2, 15), date(2026, 2, 23)))
    assert {date(2026, 2, 14), date(2026, 2, 28)} <= set(chinese_calendar.workdays)
    assert date(2026, 2, 14).weekday() == 5 and date(2026, 2, 28).weekday() == 5


def test_library_years(cal: WorkingDayCalendar) -> None:
    assert cal.library_years.start == 2004
    assert {2025, 2026} <= set(cal.library_years)
    assert UNKNOWN_YEAR not in cal.library_years
    assert not cal.knows_year(UNKNOWN_YEAR)


def test_calendar_agrees_with_the_library_over_its_whole_range(cal: WorkingDayCalendar) -> None:
    for year in (2025, 2026):
        for d in days(date(year, 1, 1), date(year, 12, 31)):
            assert cal.is_working_day(d) == (bool(chinese_calendar.is_workday(d)), False), d


# --- is_working_day ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2025, 11, 17), True),  # an ordinary Monday
        (date(2025, 11, 15), False),  # an ordinary Saturday
        (date(2025, 11, 16), False),  # an ordinary Sunday
        (date(2025, 10, 1), False),  # National Day
        (date(2025, 10, 6), False),  # Mid-Autumn inside golden week (a Monday)
        (date(2025, 10, 8), False),  # last day of golden week (a Wednesday)
        (date(2025, 9, 28), True),  # 调休 Sunday
        (date(2025, 10, 11), True),  # 调休 Saturday
        (date(2026, 2, 14), True),  # 调休 Saturday before Spring Festival
        (date(2026, 2, 17), False),  # Spring Festival
        (date(2026, 2, 23), False),  # last day of Spring Festival (a Monday)
    ],
)
def test_is_working_day(cal: WorkingDayCalendar, day: date, working: bool) -> None:
    assert cal.is_working_day(day) == (working, False)


# --- add_working_days / working_days_between -------------------------------------------------


def test_add_working_days_crosses_a_weekend(cal: WorkingDayCalendar) -> None:
    assert cal.add_working_days(date(2025, 11, 14), 1) == (date(2025, 11, 17), False)
    assert cal.add_working_days(date(2025, 11, 15), 1) == (date(2025, 11, 17), False)
    assert cal.add_working_days(date(2025, 11, 14), 5) == (date(2025, 11, 21), False)


def test_add_working_days_crosses_golden_week_and_tiaoxiu(cal: WorkingDayCalendar) -> None:
    # Friday 09-26: Sat 27 off, Sun 28 works (调休), Mon 29, Tue 30, 10-01..08 off, Thu 9, Fri 10, Sat 11 (调休).
    start = date(2025, 9, 26)
    expected = [
        date(2025, 9, 28),
        date(2025, 9, 29),
        date(2025, 9, 30),
        date(2025, 10, 9),
        date(2025, 10, 10),
        date(2025, 10, 11),
        date(2025, 10, 13),
    ]
    for n, day in enumerate(expected, start=1):
        assert cal.add_working_days(start, n) == (day, False), n


def test_add_working_days_spring_festival_2026(cal: WorkingDayCalendar) -> None:
    assert cal.add_working_days(date(2026, 2, 13), 1) == (date(2026, 2, 14), False)  # 调休 Saturday
    assert cal.add_working_days(date(2026, 2, 13), 2) == (date(2026, 2, 24), False)
    assert cal.add_working_days(date(2026, 2, 27), 1) == (date(2026, 2, 28), False)  # 调休 Saturday


def test_add_zero_and_negative(cal: WorkingDayCalendar) -> None:
    assert cal.add_working_days(date(2025, 10, 3), 0) == (date(2025, 10, 3), False)
    with pytest.raises(ValueError, match="n must be >= 0"):
        cal.add_working_days(date(2025, 10, 3), -1)


def test_working_days_between(cal: WorkingDayCalendar) -> None:
    # after < d <= until
    assert cal.working_days_between(date(2025, 9, 26), date(2025, 10, 11)) == (6, False)
    assert cal.working_days_between(date(2025, 9, 30), date(2025, 10, 8)) == (0, False)
    assert cal.working_days_between(date(2025, 9, 30), date(2025, 10, 9)) == (1, False)
    assert cal.working_days_between(date(2025, 11, 17), date(2025, 11, 17)) == (0, False)
    assert cal.working_days_between(date(2025, 11, 18), date(2025, 11, 17)) == (0, False)


def test_between_is_the_inverse_of_add(cal: WorkingDayCalendar) -> None:
    start = date(2025, 12, 20)
    for n in range(40):
        day, _ = cal.add_working_days(start, n)
        assert cal.working_days_between(start, day) == (n, False)


# --- unknown year: Monday-Friday fallback ------------------------------------------------------


def test_unknown_year_falls_back_to_monday_friday_with_one_warning(cal: WorkingDayCalendar) -> None:
    monday = date(UNKNOWN_YEAR, 1, 5)
    assert monday.weekday() == 0
    with capture_logs() as logs:
        assert cal.is_working_day(monday) == (True, True)
        assert cal.is_working_day(monday + timedelta(days=5)) == (False, True)  # Saturday
        assert cal.add_working_days(monday, 5) == (date(UNKNOWN_YEAR, 1, 12), True)
        assert cal.working_days_between(monday, monday + timedelta(days=14)) == (10, True)
        cal.is_working_day(date(UNKNOWN_YEAR + 1, 3, 1))
    warnings = [entry for entry in logs if entry["event"] == "calendar_year_unknown"]
    assert [w["year"] for w in warnings] == [UNKNOWN_YEAR, UNKNOWN_YEAR + 1]
    assert all(w["log_level"] == "warning" for w in warnings)


def test_each_calendar_instance_warns_once_per_year() -> None:
    with capture_logs() as logs:
        for _ in range(2):
            calendar = WorkingDayCalendar()
            calendar.is_working_day(date(UNKNOWN_YEAR, 6, 1))
            calendar.is_working_day(date(UNKNOWN_YEAR, 6, 2))
    assert [entry["year"] for entry in logs if entry["event"] == "calendar_year_unknown"] == [
        UNKNOWN_YEAR,
        UNKNOWN_YEAR,
    ]


def test_fallback_flag_only_when_an_unknown_day_was_examined(cal: WorkingDayCalendar) -> None:
    # Counting up to 12-31 of a known year examines no unknown day.
    assert cal.working_days_between(date(2026, 12, 28), date(2026, 12, 31)) == (3, False)
    assert cal.add_working_days(date(2026, 12, 31), 1).fallback is (2027 not in cal.library_years)


# --- the override -------------------------------------------------------------------------------


def test_override_adds_a_year() -> None:
    override = parse_override(
        {
            UNKNOWN_YEAR: {
                "holidays": [f"{UNKNOWN_YEAR}-01-01..{UNKNOWN_YEAR}-01-02"],
                "workdays": [f"{UNKNOWN_YEAR}-01-04"],  # a Sunday
            }
        }
    )
    cal = WorkingDayCalendar(override)
    assert cal.knows_year(UNKNOWN_YEAR)
    with capture_logs() as logs:
        assert cal.is_working_day(date(UNKNOWN_YEAR, 1, 1)) == (False, False)  # Thursday, off
        assert cal.is_working_day(date(UNKNOWN_YEAR, 1, 2)) == (False, False)  # Friday, off
        assert cal.is_working_day(date(UNKNOWN_YEAR, 1, 3)) == (False, False)  # Saturday
        assert cal.is_working_day(date(UNKNOWN_YEAR, 1, 4)) == (True, False)  # 调休 Sunday
        assert cal.is_working_day(date(UNKNOWN_YEAR, 1, 5)) == (True, False)  # Monday
        # Only days after the start are examined, so the unknown year before is not consulted.
        assert cal.add_working_days(date(UNKNOWN_YEAR - 1, 12, 31), 1) == (date(UNKNOWN_YEAR, 1, 4), False)
    assert logs == []


def test_override_corrects_a_library_year() -> None:
    override = parse_override(
        {2025: {"holidays": ["2025-10-10"], "workdays": ["2025-10-12"], "source": "county notice"}}
    )
    assert override[2025].source == "county notice"
    cal = WorkingDayCalendar(override)
    assert cal.is_working_day(date(2025, 10, 10)) == (False, False)  # corrected: now off
    assert cal.is_working_day(date(2025, 10, 12)) == (True, False)  # corrected: now a workday
    # Everything else still comes from the library.
    assert cal.is_working_day(date(2025, 10, 1)) == (False, False)
    assert cal.is_working_day(date(2025, 9, 28)) == (True, False)
    assert cal.is_working_day(date(2025, 10, 11)) == (True, False)
    assert cal.add_working_days(date(2025, 9, 30), 2) == (date(2025, 10, 11), False)


def test_override_replace_drops_the_library_year() -> None:
    cal = WorkingDayCalendar({2025: YearOverride(holidays=frozenset({date(2025, 10, 1)}), replace=True)})
    assert cal.is_working_day(date(2025, 10, 1)) == (False, False)
    assert cal.is_working_day(date(2025, 10, 2)) == (True, False)  # library holiday, replaced
    assert cal.is_working_day(date(2025, 9, 28)) == (False, False)  # library 调休, replaced
    assert cal.is_working_day(date(2026, 2, 17)) == (False, False)  # other years untouched


def test_load_override_from_yaml(tmp_path: Path) -> None:
    path = tmp_path / "holidays.yaml"
    path.write_text(
        f"""
{UNKNOWN_YEAR}:
  source: test
  holidays:
    - {UNKNOWN_YEAR}-02-02            # unquoted
    - "{UNKNOWN_YEAR}-02-03..{UNKNOWN_YEAR}-02-05"
  workdays: ["{UNKNOWN_YEAR}-02-07"]
"2025":
  replace: false
  holidays: [2025-10-10]
""",
        encoding="utf-8",
    )
    override = load_override(path)
    assert override[UNKNOWN_YEAR] == YearOverride(
        holidays=frozenset(days(date(UNKNOWN_YEAR, 2, 2), date(UNKNOWN_YEAR, 2, 5))),
        workdays=frozenset({date(UNKNOWN_YEAR, 2, 7)}),
        replace=False,
        source="test",
    )
    assert override[2025].holidays == {date(2025, 10, 10)}
    cal = WorkingDayCalendar.from_file(path)
    assert cal.is_working_day(date(UNKNOWN_YEAR, 2, 7)) == (True, False)


def test_load_override_none_and_empty(tmp_path: Path) -> None:
    assert load_override(None) == {}
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing yet\n", encoding="utf-8")
    assert load_override(empty) == {}


def test_example_file_is_inert_and_its_commented_entries_are_valid() -> None:
    assert load_override(EXAMPLE_FILE) == {}
    lines = EXAMPLE_FILE.read_text(encoding="utf-8").splitlines()
    blocks: list[str] = []
    for header in ("# 2027:", "# 2026:"):
        start = lines.index(header)
        block = []
        for line in lines[start:]:
            if line.strip() == "#":
                break
            block.append(line.removeprefix("# "))
        blocks.append("\n".join(block))
    parsed = parse_override(yaml.safe_load("\n".join(blocks)), source="example")
    assert set(parsed) == {2026, 2027}
    assert date(2027, 2, 13) in parsed[2027].workdays


def test_from_settings(tmp_path: Path) -> None:
    (tmp_path / "holidays.yaml").write_text(f"{UNKNOWN_YEAR}: {{}}\n", encoding="utf-8")
    assert WorkingDayCalendar.from_settings(Settings(data_dir=tmp_path)).knows_year(UNKNOWN_YEAR)
    assert not WorkingDayCalendar.from_settings(Settings(data_dir=tmp_path / "none")).knows_year(UNKNOWN_YEAR)
    missing = tmp_path / "missing.yaml"
    with pytest.raises(ValueError, match=r"missing\.yaml: cannot be read"):
        WorkingDayCalendar.from_settings(Settings(data_dir=tmp_path, holiday_file=missing))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("2027: [\n", "not valid YAML"),
        ("- 2027-01-01\n", "top level must be a mapping of year -> entry, got list"),
        ("holidays: [2027-01-01]\n", "top-level key 'holidays' is not a year"),
        ("2027:\n  holiday: [2027-01-01]\n", "year 2027: unknown key(s) holiday; allowed:"),
        ("2027:\n  holidays: [2027-02-30]\n", "year 2027, holidays: '2027-02-30' is not a date"),
        ("2027:\n  holidays: [2026-12-31]\n", "year 2027, holidays: 2026-12-31 is not in 2027"),
        ("2027:\n  holidays: 2027-01-01\n", "year 2027, holidays: expected a list of dates, got str"),
        ("2027:\n  workdays: [2027-01-01 08:00:00]\n", "'2027-01-01 08:00:00' is not a date"),
        ("2027:\n  holidays: [2027-01-05..2027-01-01]\n", "ends before it starts"),
        (
            "2027:\n  holidays: [2027-01-01]\n  workdays: [2027-01-01]\n",
            "listed both as holiday and as workday: 2027-01-01",
        ),
        ("2027:\n  replace: maybe\n", "replace must be true or false, got 'maybe'"),
        ("2027: [2027-01-01]\n", "year 2027: expected a mapping with holidays/workdays/replace"),
        ("3000: {}\n", "year 3000 is out of range"),
        ("2027: {}\n'2027': {}\n", "year 2027 appears twice"),
    ],
)
def test_malformed_override_file(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "county-holidays.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError) as err:
        load_override(path)
    message = str(err.value)
    assert str(path) in message
    assert problem in message


def test_parse_override_rejects_a_datetime() -> None:
    with pytest.raises(ValueError, match="2027-01-01T08:00:00 has a time of day"):
        parse_override({2027: {"holidays": [datetime(2027, 1, 1, 8)]}}, source="inline")


def test_unreadable_override_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("2027: {source: \xe9}\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin1\.yaml: not UTF-8 text"):
        load_override(path)
