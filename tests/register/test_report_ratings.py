"""满意度 (好差评) in the report on both backends: ratings given within the period (local days), per matter,
department and county, the whole cases' apart, and one department's alone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from register.report import build_report
from tests.postgres import open_register
from tests.register.rows import HPF, NHSA, NOW, PERIOD, fill, fill_ratings


@pytest.fixture
def register(register_url: str) -> Iterator[Engine]:
    yield from open_register(register_url, county_zone=True)


def test_ratings_per_matter_department_county_and_case(register: Engine) -> None:
    fill(register)
    fill_ratings(register)
    report = build_report(register, PERIOD, now=NOW)
    departments = {d.code: d for d in report.departments}
    medical = departments["nhsa"].matters[0]
    assert medical.code == NHSA.value
    assert medical.figures.satisfaction.model_dump() == {
        "ratings": 3, "average": 3.67, "distribution": {"5": 1, "4": 1, "3": 0, "2": 1, "1": 0}}
    assert departments["nhsa"].figures.satisfaction == medical.figures.satisfaction
    fund = next(m for m in departments["hpf"].matters if m.code == HPF.value)
    assert (fund.figures.satisfaction.ratings, fund.figures.satisfaction.average) == (1, 3.0)
    assert departments["police"].figures.satisfaction.average is None
    assert report.total.satisfaction.ratings == 4 and report.total.satisfaction.average == 3.5
    assert report.case_satisfaction.model_dump() == {
        "ratings": 1, "average": 5.0, "distribution": {"5": 1, "4": 0, "3": 0, "2": 0, "1": 0}}
    # The other figures are the matters' as before: a rating is not a matter.
    assert report.total.pushed == 9
    assert any("满意度" in line for line in report.semantics)


def test_one_departments_ratings(register: Engine) -> None:
    fill(register)
    fill_ratings(register)
    report = build_report(register, PERIOD, department="hpf", now=NOW)
    assert report.total.satisfaction.ratings == 1 and report.total.satisfaction.distribution["3"] == 1
    # C1's whole-case rating: C1 has no 公积金 matter.
    assert report.case_satisfaction.ratings == 0
    medical = build_report(register, PERIOD, department="nhsa", now=NOW)
    assert medical.total.satisfaction.ratings == 3 and medical.case_satisfaction.ratings == 1
