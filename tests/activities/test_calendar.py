"""The statutory working-day calendar: library data, 调休, the county override, rule-computed years, live reload.

Real holiday dates are checked against chinese-calendar's own tables first, so a wrong memory of
the State Council notices fails loudly instead of hiding in an expectation.
"""

from __future__ import annotations

import os
import threading
from collections.abc import MutableMapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import chinese_calendar  # type: ignore[import-untyped, unused-ignore]
import pytest
import yaml
from structlog.testing import capture_logs

from activities.calendar import (
    OverrideFileError,
    WorkingDayCalendar,
    YearOverride,
    YearSource,
    load_override,
    parse_override,
)

# A year no library release will cover soon: the "unknown year" of these tests (counted by rule).
UNKNOWN_YEAR = 2099
# The first year after chinese-calendar 1.11.0's data: counted by rule until the county adds it.
RULE_YEAR = 2027
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


# --- a year without official data: the statutory rules, approximate -------------------------------


def test_library_lacks_the_rule_year(cal: WorkingDayCalendar) -> None:
    assert RULE_YEAR not in cal.library_years, "chinese-calendar now covers 2027: move RULE_YEAR on"
    assert cal.year_source(RULE_YEAR) is YearSource.RULES
    assert cal.year_source(2026) is YearSource.LIBRARY
    assert not cal.knows_year(RULE_YEAR)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2027, 1, 1), False),  # 元旦, a Friday
        (date(2027, 1, 4), True),  # Monday after
        (date(2027, 2, 4), True),  # Thursday before 除夕
        (date(2027, 2, 5), False),  # 除夕, Friday
        (date(2027, 2, 8), False),  # 初三, Monday
        (date(2027, 2, 9), False),  # 补休 for 初一 (Saturday)
        (date(2027, 2, 10), False),  # 补休 for 初二 (Sunday)
        (date(2027, 2, 11), True),
        (date(2027, 2, 13), False),  # a Saturday: no 调休 is predicted
        (date(2027, 4, 5), False),  # 清明
        (date(2027, 5, 3), False),  # 补休 for 劳动节 on Saturday 05-01
        (date(2027, 5, 4), False),  # 补休 for 劳动节 on Sunday 05-02
        (date(2027, 6, 9), False),  # 端午
        (date(2027, 9, 15), False),  # 中秋
        (date(2027, 10, 5), False),  # 补休 for 国庆 on Sunday 10-03
        (date(2027, 10, 6), True),
    ],
)
def test_rule_year_days(cal: WorkingDayCalendar, day: date, working: bool) -> None:
    assert cal.is_working_day(day) == (working, True)


def test_rule_year_is_approximate_with_one_warning(cal: WorkingDayCalendar) -> None:
    monday = date(UNKNOWN_YEAR, 1, 5)
    assert monday.weekday() == 0
    with capture_logs() as logs:
        assert cal.is_working_day(date(UNKNOWN_YEAR, 1, 1)) == (False, True)  # 元旦, a Thursday
        assert cal.is_working_day(monday) == (True, True)
        assert cal.is_working_day(monday + timedelta(days=5)) == (False, True)  # Saturday
        assert cal.add_working_days(monday, 5) == (date(UNKNOWN_YEAR, 1, 12), True)
        assert cal.working_days_between(monday, monday + timedelta(days=14)) == (10, True)
        cal.is_working_day(date(UNKNOWN_YEAR + 1, 3, 1))
    warnings = [entry for entry in logs if entry["event"] == "calendar_year_approximate"]
    assert [w["year"] for w in warnings] == [UNKNOWN_YEAR, UNKNOWN_YEAR + 1]
    assert all(w["log_level"] == "warning" for w in warnings)
    assert all(w["basis"] == "statutory_rules_without_tiaoxiu" for w in warnings)


def test_each_calendar_instance_warns_once_per_year() -> None:
    with capture_logs() as logs:
        for _ in range(2):
            calendar = WorkingDayCalendar()
            calendar.is_working_day(date(UNKNOWN_YEAR, 6, 1))
            calendar.is_working_day(date(UNKNOWN_YEAR, 6, 2))
    assert [entry["year"] for entry in logs if entry["event"] == "calendar_year_approximate"] == [
        UNKNOWN_YEAR,
        UNKNOWN_YEAR,
    ]


def test_approximate_only_when_a_rule_day_was_examined(cal: WorkingDayCalendar) -> None:
    # Counting up to 12-31 of an official year examines no rule-computed day.
    assert cal.working_days_between(date(2026, 12, 28), date(2026, 12, 31)) == (3, False)
    # 2027-01-01 is 元旦 by rule, then a weekend.
    assert cal.add_working_days(date(2026, 12, 31), 1) == (date(2027, 1, 4), True)
    assert cal.add_working_days(date(2026, 12, 30), 2) == (date(2027, 1, 4), True)


def test_rule_year_counts_across_spring_festival(cal: WorkingDayCalendar) -> None:
    # Monday 2027-02-01: Tue 2, Wed 3, Thu 4, then 02-05..02-10 off, Thu 11, Fri 12.
    assert cal.add_working_days(date(2027, 2, 1), 5) == (date(2027, 2, 12), True)
    assert cal.working_days_between(date(2027, 2, 4), date(2027, 2, 10)) == (0, True)
    start = date(2027, 1, 20)
    for n in range(30):
        day, _ = cal.add_working_days(start, n)
        assert cal.working_days_between(start, day) == (n, n > 0)


def test_datetime_is_taken_as_its_date(cal: WorkingDayCalendar) -> None:
    assert cal.is_working_day(datetime(2027, 1, 1, 9, 30)) == (False, True)


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


def test_override_year_is_official_over_the_rules() -> None:
    # The county enters its year (placeholder dates): the entry and Monday-Friday, nothing by rule.
    cal = WorkingDayCalendar(
        parse_override({RULE_YEAR: {"holidays": ["2027-02-05..2027-02-12"], "workdays": ["2027-02-20"]}})
    )
    assert cal.year_source(RULE_YEAR) is YearSource.OVERRIDE
    assert cal.knows_year(RULE_YEAR)
    assert cal.is_working_day(date(2027, 2, 11)) == (False, False)
    assert cal.is_working_day(date(2027, 2, 20)) == (True, False)  # 调休 Saturday
    assert cal.is_working_day(date(2027, 4, 5)) == (True, False)  # not in the entry: Monday-Friday
    assert cal.add_working_days(date(2027, 2, 1), 5) == (date(2027, 2, 16), False)
    assert RULE_YEAR in cal.official_years() and cal.override_years() == (RULE_YEAR,)


# --- version and live reload ------------------------------------------------------------------


class FakeClock:
    """Monotonic seconds that only move when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


ENTRY_2027 = "2027:\n  source: 国办发明电〔2026〕X号\n  holidays: [2027-02-05..2027-02-12]\n  workdays: [2027-02-20]\n"


def write(path: Path, text: str, mtime_ns: int) -> None:
    """Write the file and give it an explicit modification time (file systems tick coarsely)."""
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(mtime_ns, mtime_ns))


def events(logs: Sequence[MutableMapping[str, Any]], name: str) -> list[MutableMapping[str, Any]]:
    return [entry for entry in logs if entry["event"] == name]


def test_version_is_a_hash_of_the_working_days_in_force() -> None:
    plain = WorkingDayCalendar()
    assert plain.version == WorkingDayCalendar().version
    assert len(plain.version) == 16
    with_2027 = WorkingDayCalendar(parse_override(yaml.safe_load(ENTRY_2027)))
    assert with_2027.version != plain.version
    # The source text is not data: a corrected notice number keeps the version.
    renamed = WorkingDayCalendar(parse_override(yaml.safe_load(ENTRY_2027.replace("X号", "12号"))))
    assert renamed.version == with_2027.version


def test_from_file_none_has_no_override() -> None:
    cal = WorkingDayCalendar.from_file(None)
    assert cal.path is None
    assert cal.override_years() == ()
    assert cal.version == WorkingDayCalendar().version


def test_the_county_adds_2027_while_the_worker_runs(tmp_path: Path) -> None:
    path = tmp_path / "holidays.yaml"
    write(path, "# 2027 not published yet\n", 1_000_000_000_000_000_000)
    clock = FakeClock()
    cal = WorkingDayCalendar.from_file(path, recheck_seconds=5, clock=clock)
    before = cal.version
    assert cal.is_working_day(date(2027, 2, 11)) == (True, True)

    write(path, ENTRY_2027, 1_000_000_001_000_000_000)
    clock.advance(4)
    # Not looked at again yet: at most one check every 5 seconds.
    assert cal.is_working_day(date(2027, 2, 11)) == (True, True)
    assert cal.version == before
    clock.advance(1)
    with capture_logs() as logs:
        assert cal.is_working_day(date(2027, 2, 11)) == (False, False)
    assert cal.version != before
    assert cal.add_working_days(date(2027, 2, 1), 5) == (date(2027, 2, 16), False)
    [reloaded] = events(logs, "calendar_override_reloaded")
    assert reloaded["version"] == cal.version and reloaded["previous_version"] == before
    assert reloaded["override_years"] == [2027]


def test_an_unchanged_file_is_not_read_again(tmp_path: Path) -> None:
    path = tmp_path / "holidays.yaml"
    write(path, ENTRY_2027, 1_000_000_000_000_000_000)
    clock = FakeClock()
    cal = WorkingDayCalendar.from_file(path, recheck_seconds=5, clock=clock)
    # Same size, same modification time: the calendar keeps what it read.
    write(path, ENTRY_2027.replace("02-12", "02-11"), 1_000_000_000_000_000_000)
    clock.advance(60)
    assert cal.is_working_day(date(2027, 2, 12)) == (False, False)
    # A touch is a change.
    os.utime(path, ns=(1_000_000_002_000_000_000,) * 2)
    clock.advance(5)
    assert cal.is_working_day(date(2027, 2, 12)) == (True, False)


def test_a_broken_file_keeps_the_last_good_data_and_logs_once(tmp_path: Path) -> None:
    path = tmp_path / "holidays.yaml"
    write(path, ENTRY_2027, 1_000_000_000_000_000_000)
    clock = FakeClock()
    cal = WorkingDayCalendar.from_file(path, recheck_seconds=5, clock=clock)
    good = cal.version
    with capture_logs() as logs:
        write(path, "2027:\n  holidays: [2027-02-30]\n", 1_000_000_001_000_000_000)
        for _ in range(3):
            clock.advance(5)
            assert cal.is_working_day(date(2027, 2, 11)) == (False, False)
            assert cal.version == good
        path.unlink()
        for _ in range(3):
            clock.advance(5)
            assert cal.is_working_day(date(2027, 2, 11)) == (False, False)
        write(path, "", 1_000_000_003_000_000_000)  # emptied on purpose: no override
        clock.advance(5)
        assert cal.is_working_day(date(2027, 2, 11)) == (True, True)
    errors = events(logs, "calendar_override_invalid")
    assert [e["log_level"] for e in errors] == ["error", "error"]
    assert "'2027-02-30' is not a date" in errors[0]["problem"] and str(path) in errors[0]["problem"]
    assert "cannot be read" in errors[1]["problem"]
    assert all(e["kept_version"] == good for e in errors)


def test_a_broken_file_at_start_up_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "holidays.yaml"
    path.write_text("2027: [\n", encoding="utf-8")
    with pytest.raises(OverrideFileError, match="not valid YAML"):
        WorkingDayCalendar.from_file(path)
    with pytest.raises(OverrideFileError, match=r"missing\.yaml: cannot be read"):
        WorkingDayCalendar.from_file(tmp_path / "missing.yaml")


def test_threads_see_either_the_old_or_the_new_data(tmp_path: Path) -> None:
    """Activity threads keep asking while the file flips between two versions; every answer is
    one version's, and none raises."""
    path = tmp_path / "holidays.yaml"
    write(path, "", 1_000_000_000_000_000_000)
    clock = FakeClock()
    cal = WorkingDayCalendar.from_file(path, recheck_seconds=0, clock=clock)
    # Thu 02-04 + 3: by rule Thu 11, Fri 12, Mon 15; with the county's entry (02-05..02-12 off) Mon 15 to Wed 17.
    allowed = {(date(2027, 2, 15), True), (date(2027, 2, 17), False)}
    stop = threading.Event()
    seen: list[tuple[date, bool]] = []
    failures: list[BaseException] = []

    def ask() -> None:
        try:
            while not stop.is_set():
                seen.append(tuple(cal.add_working_days(date(2027, 2, 4), 3)))  # type: ignore[arg-type]
        except BaseException as err:  # the test reports any failure below
            failures.append(err)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    with capture_logs():
        for thread in threads:
            thread.start()
        for i in range(1, 41):
            write(path, ENTRY_2027 if i % 2 else "", 1_000_000_000_000_000_000 + i * 1_000_000_000)
            clock.advance(1)
            cal.is_working_day(date(2027, 2, 11))
        stop.set()
        for thread in threads:
            thread.join()
    assert failures == []
    assert seen and set(seen) <= allowed
