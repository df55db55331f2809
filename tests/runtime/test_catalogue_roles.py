"""A department the catalogue adds: its officers are known by the role the catalogue names, and the Web UI shows
them what a department of its kind needs (runtime/officers.py, runtime/read_scope.py)."""

from __future__ import annotations

import pytest

from domain.catalogue import CatalogueError, catalogue_from
from domain.enums import Department, Personal
from runtime.officers import ClaimMapping
from runtime.read_scope import Reader, departments_in, visible
from tests.catalogues import DRIVING_LICENCE, TRAFFIC, catalogue_in_use, default_data, with_traffic


def test_the_catalogues_officer_role_names_the_department() -> None:
    claims = {"sub": "u-1", "name": "赵警官", "groups": ["jj-staff"]}
    assert ClaimMapping().officer(claims).departments == ()  # the default catalogue has no such role
    with catalogue_in_use(with_traffic()):
        assert ClaimMapping().officer(claims).departments == (TRAFFIC,)
        # A department's code still counts as its role.
        assert ClaimMapping().officer({**claims, "groups": ["traffic"]}).departments == (TRAFFIC,)


def test_a_new_departments_officers_read_what_its_matters_need() -> None:
    with catalogue_in_use(with_traffic()):
        concerned = departments_in({"matter": DRIVING_LICENCE.value, "department": "traffic"})
        assert concerned == {TRAFFIC}
        officer = Reader(signed_in=True, departments=(TRAFFIC,))
        # 驾驶证注销 pays nothing: the names and the deceased's identity number, no bank card.
        assert visible(officer, concerned) == frozenset({Personal.NAMES, Personal.DECEASED_ID})


def test_what_a_department_reads_is_the_catalogues_word() -> None:
    """A county that gives 残联 the payee's card (say it pays a subsidy) changes the file, not the code."""
    data = default_data()
    data["version"] = "2027-01-dpf-pays"
    for department in data["departments"]:
        if department["code"] == "dpf":
            department["reads"] = ["names", "deceased_id", "payee_card"]
    officer = Reader(signed_in=True, departments=(Department.DPF,))
    concerned = {Department.DPF}
    assert visible(officer, concerned) == frozenset({Personal.NAMES, Personal.DECEASED_ID})
    with catalogue_in_use(catalogue_from(data)):
        assert visible(officer, concerned) == frozenset({Personal.NAMES, Personal.DECEASED_ID, Personal.PAYEE_CARD})


def test_a_read_the_catalogue_does_not_know_is_refused_by_name() -> None:
    data = default_data()
    data["departments"][0]["reads"] = ["names", "bank_pin"]
    with pytest.raises(CatalogueError) as raised:
        catalogue_from(data)
    assert "部门“police”：reads.1：取值无效，可选：names、deceased_id、applicant_id" in str(raised.value)
