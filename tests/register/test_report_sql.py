"""The report's SQL on both backends, over hand-built register rows whose answers are worked out by hand.

The instants sit on either side of local midnights: 00:30 on 1 April in 固阳县 is still 31 March in UTC,
so a report that cut months in UTC (or that read back a PostgreSQL session's own time zone) would move
them. On PostgreSQL the database's time zone is set to Asia/Shanghai, as a server in the county would be.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy.engine import Engine

from domain.enums import Department, MatterCode
from register.report import Period, build_report, percentile
from tests.postgres import open_register
from tests.register.rows import NHSA, NOW, PERIOD, TZ, fill


@pytest.fixture
def register(register_url: str) -> Iterator[Engine]:
    yield from open_register(register_url, county_zone=True)


def test_figures_per_matter_department_and_county(register: Engine) -> None:
    fill(register)
    report = build_report(register, PERIOD, now=NOW)
    assert report.period_from == date(2037, 3, 1) and report.period_to == date(2037, 4, 30)
    assert report.timezone == "Asia/Shanghai" and report.generated_at == NOW

    departments = {d.code: d for d in report.departments}
    assert list(departments) == ["police", "hrss", "nhsa", "mca", "hpf", "dpf", "va"]
    nhsa = departments["nhsa"]
    assert nhsa.name == "医保局"
    # Every catalogue matter is listed, the 城乡居民医保 termination with nothing in the period.
    medical, resident = nhsa.matters
    assert (resident.code, resident.figures.pushed) == ("nhsa.resident_medical_insurance_termination", 0)
    assert medical.code == NHSA.value and medical.name == "医保个人账户清算" and medical.time_limit_working_days == 5
    f = medical.figures
    assert (f.pushed, f.decided, f.approved, f.rejected, f.withdrawn) == (7, 4, 3, 1, 1)
    assert (f.on_time, f.on_time_rate) == (2, 0.5)
    # 1, 2, 4, 7: the median halfway between 2 and 4, the 90th percentile 0.7 of the way from 4 to 7.
    assert (f.handling_median_working_days, f.handling_p90_working_days) == (3.0, 6.1)
    assert (f.open_now, f.overdue_now) == (2, 1)
    assert (f.warnings, f.overdue_notices, f.reminders, f.supervisions) == (2, 2, 2, 1)
    assert (f.materials_matters, f.materials_requests, f.materials_rate) == (2, 3, 0.2857)
    assert (f.extensions, f.extension_working_days) == (1, 3)
    # Only what the paying system confirmed: 1234.56 + 0.01; the 999.99 being paid is not counted.
    assert (f.paid, f.paid_fen, f.paid_yuan) == (2, 123457, Decimal("1234.57"))
    assert nhsa.figures == f

    hpf = departments["hpf"].figures
    assert (hpf.pushed, hpf.decided, hpf.on_time_rate, hpf.open_now) == (1, 1, 1.0, 0)
    assert (hpf.handling_median_working_days, hpf.paid_yuan) == (0.0, Decimal("5000.00"))
    police = departments["police"].figures
    assert (police.pushed, police.decided, police.on_time, police.handling_p90_working_days) == (1, 1, 1, 1.0)
    # Departments with nothing in the period are listed with zeros and no rates.
    mca = departments["mca"].figures
    assert (mca.pushed, mca.on_time_rate, mca.handling_median_working_days, mca.paid_yuan) == (
        0, None, None, Decimal("0.00"))
    assert [m.code for m in departments["hrss"].matters][:1] == [MatterCode.ENTERPRISE_RETIREE_DEATH_BENEFIT.value]

    total = report.total
    assert (total.pushed, total.decided, total.on_time, total.on_time_rate) == (9, 6, 4, 0.6667)
    # 0, 1, 1, 2, 4, 7.
    assert (total.handling_median_working_days, total.handling_p90_working_days) == (1.5, 5.5)
    assert (total.open_now, total.overdue_now) == (2, 1)
    assert (total.paid_fen, total.paid_yuan) == (623_457, Decimal("6234.57"))
    # Open now whenever pushed: also December's overdue 医保 matter and 1 May's 公积金 matter.
    assert (report.backlog.open_now, report.backlog.overdue_now) == (4, 3)


def test_months_are_cut_at_local_midnight(register: Engine) -> None:
    fill(register)
    report = build_report(register, PERIOD, now=NOW)
    months = [(m.month, m.cases_received, m.cases_closed, m.matters_pushed, m.matters_decided, m.decided_on_time,
               m.on_time_rate) for m in report.months]
    assert months == [
        # C1 and C3; C3 closed; five pushed; decided: four on time (one pushed in February) and one late.
        ("2037-03", 2, 1, 5, 5, 4, 0.8),
        # C4 and C5; C1 closed five minutes into April; the 7-day matter decided at 00:30 on 1 April, late.
        ("2037-04", 2, 1, 4, 1, 0, 0.0),
    ]


def test_one_department_and_a_period_inside_a_month(register: Engine) -> None:
    fill(register)
    report = build_report(register, PERIOD, department=Department.NHSA, now=NOW)
    assert report.department == "nhsa" and [d.code for d in report.departments] == ["nhsa"]
    assert report.total == report.departments[0].figures
    assert (report.backlog.open_now, report.backlog.overdue_now) == (3, 2)
    # Cases count for the department when they have one of its matters: C1 in March, C4 in April.
    assert [(m.month, m.cases_received, m.cases_closed) for m in report.months] == [
        ("2037-03", 1, 0), ("2037-04", 1, 1)]

    # 31 March alone: two cases received that day (C3 at 23:59, not C4 at 07:59 the next morning).
    day = build_report(register, Period(date(2037, 3, 31), date(2037, 3, 31), TZ), now=NOW)
    assert [(m.month, m.cases_received, m.cases_closed, m.matters_decided) for m in day.months] == [
        ("2037-03", 1, 1, 1)]
    assert day.total.pushed == 0 and day.total.on_time_rate is None


def test_an_empty_register_reports_zeros(register: Engine) -> None:
    report = build_report(register, PERIOD, now=NOW)
    assert report.total.pushed == 0 and report.total.on_time_rate is None
    assert report.backlog.open_now == 0
    assert [(m.month, m.cases_received) for m in report.months] == [("2037-03", 0), ("2037-04", 0)]


@pytest.mark.parametrize(("values", "median", "p90"), [
    ([5], 5.0, 5.0),
    ([1, 2], 1.5, 1.9),
    ([3, 3, 3, 10], 3.0, 7.9),
    (list(range(1, 11)), 5.5, 9.1),
    ([0] * 9 + [20], 0.0, 2.0),
])
def test_percentiles_interpolate_between_ranks(values: list[int], median: float, p90: float) -> None:
    counts = Counter(values)
    assert (percentile(counts, 5), percentile(counts, 9)) == (median, p90)
    assert percentile(Counter(), 5) is None
