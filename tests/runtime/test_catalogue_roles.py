"""A department the catalogue adds: its officers are known by the role the catalogue names, and the Web UI shows
them what a department of its kind needs (runtime/officers.py, runtime/read_scope.py)."""

from __future__ import annotations

from runtime.officers import ClaimMapping
from runtime.read_scope import Personal, Reader, departments_in, visible
from tests.catalogues import DRIVING_LICENCE, TRAFFIC, catalogue_in_use, with_traffic


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
