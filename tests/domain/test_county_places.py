"""Issue 24 at intake: places as the county defines them (the catalogue's places), a bank account only when
something pays (passbooks accepted as such), and the care-home clinic (docs/catalogue.md, docs/domain.md)."""

from __future__ import annotations

from typing import Any

import pytest

from domain import places
from domain.application import validate_application
from domain.catalogue import CatalogueError, catalogue_from, default_catalogue
from domain.enums import AccountKind, MaterialKind, MatterCode
from domain.identity import luhn_valid
from domain.models import Application, Problem
from domain.policy import DeathCertificateRules, Policy
from portal.form import Typed, all_inputs, raw_form, sections
from tests.factories import APPLICANT_NAME, REMOVE, TODAY, valid_form

POLICY = Policy()
M = MatterCode
# A passbook (一折通) number: no Luhn check digit.
PASSBOOK = "150402123456789011"


def accept(raw: object, policy: Policy = POLICY) -> Application:
    result = validate_application(raw, policy, TODAY)
    assert isinstance(result, Application), result
    return result


def refuse(raw: object, policy: Policy = POLICY) -> list[Problem]:
    result = validate_application(raw, policy, TODAY)
    assert isinstance(result, list), "expected the application to be refused"
    return result


def at(problems: list[Problem], field: str) -> list[str]:
    return [p.message for p in problems if p.field == field]


# --- places ------------------------------------------------------------------------------------------


def test_the_city_s_central_area_is_refused_by_name_and_the_county_seat_is_accepted() -> None:
    problems = refuse(valid_form(deceased__insured_area="包头市中心城区"))
    assert at(problems, "deceased.insured_area") == [
        "逝者参保地“包头市中心城区”不是固阳县中心城区，暂不纳入身后“一件事一次办”"]
    for area in ("金山镇", "固阳县金山镇", "中心城区", "固阳县中心城区", "内蒙古包头市固阳县中心城区", "县城",
                 "固阳县城"):
        accept(valid_form(deceased__insured_area=area))
    # Another town of the county is in the county, but not its 中心城区.
    assert at(refuse(valid_form(deceased__insured_area="银号镇")), "deceased.insured_area")


@pytest.mark.parametrize("written", ["金山镇", "固阳县", "固阳", "包头市固阳县", "内蒙古自治区包头市固阳县兴顺西镇",
                                     "固阳县怀朔镇某村"])
def test_a_household_in_the_county_is_accepted_however_written(written: str) -> None:
    accept(valid_form(deceased__household_county=written))


@pytest.mark.parametrize("written", ["包头市中心城区", "包头市金山镇", "昆都仑区", "百灵庙镇", "固阳县百灵庙镇"])
def test_a_household_outside_the_county_s_list_is_refused_by_name(written: str) -> None:
    assert at(refuse(valid_form(deceased__household_county=written)), "deceased.household_county") == [
        f"逝者户籍所在地“{written}”不属于固阳县，暂不纳入身后“一件事一次办”"]


def test_the_funeral_home_and_its_county_as_people_write_them() -> None:
    for written in ("固阳县殡仪馆", "固阳殡仪馆", "包头市固阳县", "固阳县"):
        accept(valid_form(deceased__cremation_county=written))
    assert places.cremation_problems("固阳殡仪馆", "包头市固阳县", POLICY) == ("固阳县殡仪馆", "固阳县", [])
    assert places.cremation_problems("固阳县殡仪馆", None, POLICY) == ("固阳县殡仪馆", None, [])
    _, _, problems = places.cremation_problems("达茂旗殡仪馆", "包头市中心城区", POLICY)
    assert problems == ["殡仪馆“达茂旗殡仪馆”不在固阳县殡仪馆名录中", "火化地“包头市中心城区”不在固阳县"]


def test_the_household_s_town_records_its_police_station() -> None:
    app = accept(valid_form(deceased__household_town="西斗铺"))
    assert (app.deceased.household_town, app.deceased.police_station) == ("西斗铺镇", "固阳县公安局西斗铺派出所")
    app = accept(valid_form(deceased__household_county="包头市固阳县下湿壕镇"))
    assert (app.deceased.household_town, app.deceased.police_station) == ("下湿壕镇", "固阳县公安局下湿壕派出所")
    # A station typed into the form is not taken: intake records the town's.
    app = accept(valid_form(deceased__police_station="别处派出所"))
    assert app.deceased.police_station is None
    # What was accepted reads back to the same application.
    app = accept(valid_form(deceased__household_town="金山镇"))
    assert accept(app.model_dump(mode="json")) == app


def test_a_town_outside_the_list_is_refused_by_name_and_a_person_s_name_never_repeated() -> None:
    assert at(refuse(valid_form(deceased__household_town="百灵庙镇")), "deceased.household_town") == [
        "逝者户籍所在乡镇“百灵庙镇”不是固阳县的乡镇，请从本县乡镇中选择"]
    problems = refuse(valid_form(deceased__household_town=APPLICANT_NAME, deceased__household_county=APPLICANT_NAME))
    assert problems and all(APPLICANT_NAME not in p.message for p in problems)
    mismatch = refuse(valid_form(deceased__household_county="固阳县银号镇", deceased__household_town="金山镇"))
    assert at(mismatch, "deceased.household_town") == ["逝者户籍所在乡镇与户籍所在地不一致，请核对"]


def test_the_packaged_places_are_marked_defaults_and_checked() -> None:
    lists = default_catalogue().places
    assert [t.name for t in lists.towns] == ["金山镇", "西斗铺镇", "下湿壕镇", "银号镇", "怀朔镇", "兴顺西镇"]
    assert [t.name for t in lists.towns if t.seat] == ["金山镇"]
    entries = [*lists.towns, *lists.funeral_homes, *lists.police_stations, lists.central_area]
    assert all(entry is not None and entry.default for entry in entries)
    data: dict[str, Any] = default_catalogue().model_dump(mode="json")
    data["places"]["towns"][0]["police_station"] = "nowhere"
    data["places"]["central_area"]["towns"] = ["atlantis"]
    with pytest.raises(CatalogueError) as err:
        catalogue_from(data)
    assert err.value.problems == ["乡镇“jinshan”：派出所“nowhere”未在police_stations中定义",
                                  "中心城区：乡镇“atlantis”未在towns中定义"]


def test_another_county_s_policy_uses_county_level_names_only() -> None:
    policy = Policy(county="达尔罕茂明安联合旗", insured_area="百灵庙镇")
    accept(valid_form(deceased__household_county="包头市达尔罕茂明安联合旗", deceased__insured_area="百灵庙镇",
                      deceased__cremation_county="达尔罕茂明安联合旗"), policy)
    assert places.choices(policy)["towns"] == ()


# --- a bank account only when something pays -----------------------------------------------------------


def termination_only(**overrides: Any) -> dict[str, Any]:
    form = valid_form(situations={"pension_status": "none", "social_assistance": True, "disability_subsidy": True},
                      applicant__bank_account=REMOVE, **overrides)
    form["deceased"].pop("bank_card")
    return form


def test_a_form_with_only_termination_matters_asks_for_no_bank_account() -> None:
    app = accept(termination_only())
    assert app.matters == (M.HUKOU_CANCELLATION, M.SOCIAL_ASSISTANCE_TERMINATION, M.DISABILITY_SUBSIDY_TERMINATION)
    assert app.applicant.bank_account.kind is AccountKind.NONE and app.deceased.bank_card == ""
    assert accept(app.model_dump(mode="json")) == app
    # Chosen from a wider set of situations: what is chosen decides.
    chosen = valid_form(matters=["mca.social_assistance_termination"], applicant__bank_account=REMOVE)
    assert not accept(chosen).applicant.bank_account.given


def test_a_form_that_pays_still_needs_the_accounts() -> None:
    form = valid_form(applicant__bank_account=REMOVE)
    form["deceased"].pop("bank_card")
    fields = [p.field for p in refuse(form)]
    assert "deceased.bank_card" in fields
    assert {"applicant.bank_account.bank_name", "applicant.bank_account.card_number"} <= set(fields)


def test_a_passbook_number_is_accepted_as_such() -> None:
    app = accept(valid_form(applicant__bank_account__kind="passbook",
                            applicant__bank_account__card_number="1504 0212 3456 7890 11"))
    assert app.applicant.bank_account.kind is AccountKind.PASSBOOK
    assert app.applicant.bank_account.card_number == PASSBOOK and not luhn_valid(PASSBOOK)
    short = refuse(valid_form(applicant__bank_account__kind="passbook", applicant__bank_account__card_number="1234"))
    assert at(short, "applicant.bank_account.card_number") == ["存折（一折通）账号应为8至30位数字"]
    # A card still passes Luhn.
    card = refuse(valid_form(applicant__bank_account__card_number=PASSBOOK))
    assert at(card, "applicant.bank_account.card_number") == ["收款银行卡号校验不通过，请核对卡号"]


# --- the care-home clinic --------------------------------------------------------------------------------


@pytest.mark.parametrize(("circumstance", "death"), [("home", "2026-11-16"), ("home", "2026-06-30"),
                                                      ("medical", "2026-11-16")])
def test_a_care_home_s_own_clinic_may_certify(circumstance: str, death: str) -> None:
    accept(valid_form(deceased__death_circumstance=circumstance, deceased__death_date=death,
                      death_certificate__issuer_type="care_home_clinic",
                      death_certificate__issuer_name="固阳县某医养结合养老院医务室"))


def test_a_county_may_refuse_the_care_home_clinic() -> None:
    policy = Policy(death_certificates=DeathCertificateRules(care_home=frozenset()))
    problems = refuse(valid_form(deceased__death_circumstance="home",
                                 death_certificate__issuer_type="care_home_clinic"), policy)
    assert [p.field for p in problems] == ["death_certificate.issuer_type"]


# --- the portal's form -----------------------------------------------------------------------------------


def test_the_portal_offers_the_places_and_leaves_the_account_out_when_nothing_pays() -> None:
    inputs = {spec.name: spec for spec in all_inputs(POLICY)}
    assert inputs["deceased.household_town"].choices[0] == ("金山镇", "金山镇（县城）")
    assert [v for v, _ in inputs["deceased.insured_area"].choices] == ["中心城区", "金山镇"]
    assert inputs["deceased.cremation_county"].choices == (("固阳县殡仪馆", "固阳县殡仪馆"),)
    money = next(section for section in sections(POLICY) if section.title == "银行账户")
    assert not any(spec.required for spec in money.inputs)
    typed = Typed(values={"deceased.household_county": "固阳县", "applicant.bank_account.bank_name": "农行",
                          "applicant.bank_account.kind": "card", "deceased.bank_card": "1"},
                  matters=[M.DISABILITY_SUBSIDY_TERMINATION.value])
    form = raw_form(typed, [(MaterialKind.REGISTRATION_FORM, "x.pdf")], POLICY)
    assert "bank_account" not in form["applicant"] and "bank_card" not in form["deceased"]
    typed.matters.append(M.RESIDENT_PENSION_FUNERAL_SUBSIDY.value)
    form = raw_form(typed, [], POLICY)
    assert form["applicant"]["bank_account"]["bank_name"] == "农行"
