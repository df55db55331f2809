"""Intake validation: what a family and a window clerk see when a form is accepted or refused."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from domain.application import allowed_matters, format_problems, validate_application
from domain.enums import (
    CertificateIssuer,
    Channel,
    Department,
    MatterCode,
    PensionStatus,
)
from domain.identity import id_number_valid, luhn_valid
from domain.models import Application, Problem, Situations
from domain.policy import DeathCertificateRules, Policy
from tests.factories import (
    APPLICANT_BIRTH,
    APPLICANT_CARD,
    APPLICANT_ID,
    APPLICANT_NAME,
    APPLICANT_PHONE,
    DECEASED_CARD,
    DECEASED_ID,
    DECEASED_NAME,
    MATERIAL_KINDS,
    REMOVE,
    TODAY,
    make_card_number,
    make_id_number,
    unique_form,
    valid_form,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
POLICY = Policy()
M = MatterCode


def accept(raw: object, today: date = TODAY, policy: Policy = POLICY) -> Application:
    result = validate_application(raw, policy, today)
    assert isinstance(result, Application), format_problems(result)
    return result


def refuse(raw: object, today: date = TODAY, policy: Policy = POLICY) -> list[Problem]:
    result = validate_application(raw, policy, today)
    assert isinstance(result, list), "expected the application to be refused"
    assert result, "a refusal lists at least one problem"
    return result


def messages(problems: list[Problem]) -> list[str]:
    return [problem.message for problem in problems]


def field_messages(problems: list[Problem], field: str) -> list[str]:
    return [problem.message for problem in problems if problem.field == field]


# --- accepted forms -------------------------------------------------------------------------------


def test_valid_form_is_accepted_with_every_allowed_matter_in_catalogue_order() -> None:
    application = accept(valid_form())

    assert application.channel is Channel.WINDOW
    assert application.matters == (
        M.HUKOU_CANCELLATION,
        M.ENTERPRISE_RETIREE_DEATH_BENEFIT,
        M.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT,
        M.SOCIAL_ASSISTANCE_TERMINATION,
        M.PROVIDENT_FUND_DEATH_WITHDRAWAL,
        M.DISABILITY_SUBSIDY_TERMINATION,
        M.PREFERENTIAL_BENEFIT_TERMINATION,
    )
    assert application.deceased.id_number == DECEASED_ID
    assert application.applicant.bank_account.card_number == APPLICANT_CARD
    assert [m.kind for m in application.materials] == list(MATERIAL_KINDS)


def test_factories_build_valid_numbers() -> None:
    assert id_number_valid(make_id_number(date(1950, 1, 31), 7))
    assert make_id_number(date(1950, 1, 31)).startswith("150222")
    for prefix, length, seq in (("622202", 19, 0), ("4", 16, 99), ("6217", 12, 123456)):
        card = make_card_number(prefix, length, seq)
        assert card.startswith(prefix) and len(card) == length and luhn_valid(card)


def test_unique_forms_give_distinct_deceased() -> None:
    ids = {accept(unique_form(seed)).deceased.id_number for seed in range(0, 30_000, 997)}
    assert len(ids) == len(range(0, 30_000, 997))


def test_chosen_matters_are_kept_and_ordered_with_hukou_first() -> None:
    form = valid_form(matters=["va.preferential_benefit_termination", "hrss.enterprise_retiree_death_benefit"])
    assert accept(form).matters == (
        M.HUKOU_CANCELLATION,
        M.ENTERPRISE_RETIREE_DEATH_BENEFIT,
        M.PREFERENTIAL_BENEFIT_TERMINATION,
    )


def test_hukou_cancellation_may_be_listed_and_duplicates_are_harmless() -> None:
    form = valid_form(matters=["police.hukou_cancellation", "hpf.death_withdrawal", "hpf.death_withdrawal"])
    assert accept(form).matters == (M.HUKOU_CANCELLATION, M.PROVIDENT_FUND_DEATH_WITHDRAWAL)


def test_situation_booleans_default_to_false() -> None:
    form = valid_form(situations={"pension_status": "resident_pensioner"})
    assert accept(form).matters == (M.HUKOU_CANCELLATION, M.RESIDENT_PENSION_FUNERAL_SUBSIDY)


def test_optional_fields_take_their_defaults() -> None:
    form = valid_form(channel=REMOVE, deceased__work_injury=REMOVE)
    application = accept(form)
    assert application.channel is Channel.WINDOW
    assert application.deceased.work_injury is False


def test_missing_materials_are_listed_together() -> None:
    problems = refuse(valid_form(materials=REMOVE))
    assert [(p.field, p.message) for p in problems] == [(
        "materials",
        "缺少材料：身后“一件事一次办”登记表、居民死亡医学证明（推断）书、逝者身份证、逝者户口簿、逝者银行卡、"
        "申请人身份证、申请人户口簿、申请人收款银行卡",
    )]
    # 户口注销 alone needs no bank card.
    only_hukou = valid_form(matters=["police.hukou_cancellation"],
                            materials=[m for m in valid_form()["materials"] if "bank_card" not in m["kind"]])
    assert accept(only_hukou).matters == (M.HUKOU_CANCELLATION,)


def test_hukou_cancellation_alone_is_an_application() -> None:
    assert accept(valid_form(matters=["police.hukou_cancellation"])).matters == (M.HUKOU_CANCELLATION,)
    assert accept(valid_form(situations=REMOVE)).matters == (M.HUKOU_CANCELLATION,)


def test_the_money_goes_to_the_applicant_or_to_an_authorised_payee() -> None:
    other = valid_form(applicant__bank_account__account_name="王小明")
    assert [p.field for p in refuse(other)] == ["applicant.bank_account.account_name"]
    authorised = valid_form(applicant__bank_account__account_name="王小明",
                            applicant__bank_account__authorised_reason="申请人年迈，委托其子代收（公证委托书）")
    assert [p.message for p in refuse(authorised)] == ["缺少材料：收款委托书"]
    authorised["materials"].append({"kind": "payee_authorisation", "sha256": "9" * 64, "size": 1200})
    assert accept(authorised).applicant.bank_account.authorised_reason


def test_county_and_area_are_recognised_as_people_write_them() -> None:
    form = valid_form(deceased__household_county="内蒙古自治区包头市固阳县", deceased__insured_area="固阳县中心城区",
                      deceased__cremation_county="包头市固阳县")
    accept(form)
    problems = refuse(valid_form(deceased__household_county="包头市达尔罕茂明安联合旗"))
    assert [p.field for p in problems] == ["deceased.household_county"]


def test_home_death_certificates_around_the_switch_to_the_electronic_certificate() -> None:
    def home(death: str, issuer: str) -> dict[str, object]:
        return valid_form(deceased__death_circumstance="home", deceased__death_date=death,
                          death_certificate__issuer_type=issuer)

    # Before the switch and during the transition both kinds are accepted.
    accept(home("2026-06-30", "township_health_centre"))
    accept(home("2026-06-30", "village_committee"))
    accept(home("2026-08-15", "community"))
    # After it, only township and community health centres.
    accept(home("2026-11-16", "community_health_centre"))
    assert [p.field for p in refuse(home("2026-11-16", "village_committee"))] == ["death_certificate.issuer_type"]
    # A county that switched later says so in its policy.
    later = Policy(death_certificates=DeathCertificateRules(switch_date=date(2027, 1, 1)))
    assert isinstance(validate_application(home("2026-11-16", "village_committee"), later, TODAY), Application)


def test_input_is_normalised() -> None:
    form = valid_form(
        deceased__name="  王建国 ",
        deceased__id_number=f" {DECEASED_ID.lower()} ",
        deceased__bank_card=" ".join(DECEASED_CARD[i : i + 4] for i in range(0, 19, 4)),
        applicant__phone="+86 139-0472-1234",
        materials=[*valid_form()["materials"][:-1],
                   {"kind": " applicant_bank_card ", "sha256": "AB" * 32, "size": 0}],
    )
    application = accept(form)
    assert application.deceased.name == "王建国"
    assert application.deceased.id_number == DECEASED_ID
    assert application.deceased.bank_card == DECEASED_CARD
    assert application.applicant.phone == "13904721234"
    assert application.materials[-1].sha256 == "ab" * 32 and application.materials[-1].kind == "applicant_bank_card"


def test_lowercase_x_check_digit_is_accepted() -> None:
    applicant_id = make_id_number(date(1955, 2, 14), 48)
    assert applicant_id.endswith("X")
    application = accept(valid_form(applicant__id_number=applicant_id.lower()))
    assert application.applicant.id_number == applicant_id


def test_yaml_dates_are_accepted() -> None:
    form = yaml.safe_load(yaml.safe_dump(valid_form()).replace("'2026-11-16'", "2026-11-16"))
    assert isinstance(form["deceased"]["death_date"], date)
    assert accept(form).deceased.death_date == date(2026, 11, 16)


@pytest.mark.parametrize(
    ("circumstance", "death_date", "issuer"),
    [
        ("medical", "2026-03-02", "medical_institution"),
        ("home", "2026-06-30", "village_committee"),
        ("home", "2026-06-30", "community"),
        ("home", "2026-07-01", "township_health_centre"),
        ("home", "2026-11-16", "community_health_centre"),
    ],
)
def test_death_certificate_from_the_right_issuer_is_accepted(circumstance: str, death_date: str, issuer: str) -> None:
    form = valid_form(
        deceased__death_circumstance=circumstance,
        deceased__death_date=death_date,
        death_certificate__issuer_type=issuer,
    )
    assert accept(form).death_certificate.issuer_type is CertificateIssuer(issuer)


def test_online_application_within_the_online_departments_is_accepted() -> None:
    form = valid_form(
        channel="online",
        situations={
            "pension_status": "enterprise_employee",
            "employee_medical_insurance": True,
            "disability_subsidy": True,
        },
    )
    application = accept(form)
    assert application.channel is Channel.ONLINE
    assert application.matters == (
        M.HUKOU_CANCELLATION,
        M.ENTERPRISE_EMPLOYEE_DEATH_BENEFIT,
        M.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT,
        M.DISABILITY_SUBSIDY_TERMINATION,
    )


def test_an_online_family_may_leave_out_window_only_matters() -> None:
    form = valid_form(channel="online", matters=["hrss.enterprise_retiree_death_benefit"])
    assert accept(form).matters == (M.HUKOU_CANCELLATION, M.ENTERPRISE_RETIREE_DEATH_BENEFIT)


def test_county_policy_decides_the_county_and_area() -> None:
    policy = Policy(county="达尔罕茂明安联合旗", insured_area="百灵庙镇")
    form = valid_form(
        deceased__household_county="达尔罕茂明安联合旗",
        deceased__cremation_county="达尔罕茂明安联合旗",
        deceased__insured_area="百灵庙镇",
    )
    accept(form, policy=policy)
    problems = refuse(valid_form(), policy=policy)
    assert "逝者户籍所在地“固阳县”不属于达尔罕茂明安联合旗，暂不纳入身后“一件事一次办”" in messages(problems)


# --- each rule refuses, with its message ---------------------------------------------------------

RULES: list[tuple[str, dict[str, Any], str, str]] = [
    # (case, overrides, field, message)
    (
        "not from the county",
        {"deceased__household_county": "土默特右旗"},
        "deceased.household_county",
        "逝者户籍所在地“土默特右旗”不属于固阳县，暂不纳入身后“一件事一次办”",
    ),
    (
        "insured elsewhere",
        # The city's districts, not the county's 中心城区: refused by name.
        {"deceased__insured_area": "包头市中心城区"},
        "deceased.insured_area",
        "逝者参保地“包头市中心城区”不是固阳县中心城区，暂不纳入身后“一件事一次办”",
    ),
    (
        "cremated elsewhere",
        {"deceased__cremation_county": "包头市"},
        "deceased.cremation_county",
        "火化地“包头市”不在固阳县，暂不纳入身后“一件事一次办”",
    ),
    (
        "case-related death",
        {"deceased__death_circumstance": "case_related"},
        "deceased.death_circumstance",
        "案件类死亡不纳入身后“一件事一次办”",
    ),
    ("work injury", {"deceased__work_injury": True}, "deceased.work_injury", "工伤死亡暂不纳入身后“一件事一次办”"),
    ("not family", {"applicant__relationship": "not_family"}, "applicant.relationship", "申请人须为逝者直系亲属或家属"),
    ("missing name", {"deceased__name": REMOVE}, "deceased.name", "请填写逝者姓名"),
    ("blank name", {"deceased__name": "   "}, "deceased.name", "请填写逝者姓名"),
    ("name too long", {"applicant__name": "王" * 31}, "applicant.name", "申请人姓名不能超过30个字"),
    (
        "name with control characters",
        {"applicant__name": "王\u200b丽华"},
        "applicant.name",
        "申请人姓名含有不可见或无效字符",
    ),
    (
        "text too long",
        {"death_certificate__issuer_name": "医" * 101},
        "death_certificate.issuer_name",
        "死亡医学证明出具单位名称不能超过100个字",
    ),
    ("number as name", {"deceased__name": 42}, "deceased.name", "逝者姓名应按文字填写（请加引号）"),
    ("list as name", {"deceased__name": ["王"]}, "deceased.name", "逝者姓名应为文字"),
    (
        "certificate number missing",
        {"death_certificate__number": ""},
        "death_certificate.number",
        "请填写死亡医学证明编号",
    ),
    (
        "id check digit",
        {"deceased__id_number": DECEASED_ID[:17] + "0"},
        "deceased.id_number",
        "逝者身份证号码校验位不正确",
    ),
    (
        "id too short",
        {"deceased__id_number": DECEASED_ID[:17]},
        "deceased.id_number",
        "逝者身份证号码应为18位（前17位为数字，末位为数字或X）",
    ),
    (
        "id with full-width digits",
        {"applicant__id_number": "１５０２２２１９７５０９３０２４６０"},
        "applicant.id_number",
        "申请人身份证号码应为18位（前17位为数字，末位为数字或X）",
    ),
    (
        "id birth date not real",
        {"deceased__id_number": "150222" + "19480230" + "1230"},
        "deceased.id_number",
        "逝者身份证号码中的出生日期不存在",
    ),
    (
        "id born after today",
        {"applicant__id_number": make_id_number(date(2027, 1, 5))},
        "applicant.id_number",
        "申请人身份证号码中的出生日期晚于今天",
    ),
    (
        "id as integer",
        {"applicant__id_number": int(APPLICANT_ID)},
        "applicant.id_number",
        "申请人身份证号码应按文字填写（请加引号）",
    ),
    (
        "same person",
        {"applicant__id_number": DECEASED_ID.lower()},
        "applicant.id_number",
        "申请人身份证号码与逝者相同，请核对",
    ),
    (
        "card Luhn",
        {"deceased__bank_card": DECEASED_CARD[:-1] + str((int(DECEASED_CARD[-1]) + 1) % 10)},
        "deceased.bank_card",
        "逝者银行卡号校验不通过，请核对卡号",
    ),
    (
        "card letters",
        {"applicant__bank_account__card_number": "6222-0200-0000-0000"},
        "applicant.bank_account.card_number",
        "收款银行卡号只能包含数字",
    ),
    (
        "card too short",
        {"applicant__bank_account__card_number": "42"},
        "applicant.bank_account.card_number",
        "收款银行卡号应为12至19位数字",
    ),
    ("phone", {"applicant__phone": "0472-8123456"}, "applicant.phone", "申请人手机号码不是有效的大陆手机号码"),
    (
        "phone too long",
        {"applicant__phone": APPLICANT_PHONE + "0"},
        "applicant.phone",
        "申请人手机号码不是有效的大陆手机号码",
    ),
    ("death in the future", {"deceased__death_date": "2026-11-21"}, "deceased.death_date", "死亡日期不能晚于今天"),
    (
        "death before birth",
        {"deceased__death_date": "1948-03-11"},
        "deceased.death_date",
        "死亡日期不能早于逝者出生日期",
    ),
    ("date format", {"deceased__death_date": "2026/11/16"}, "deceased.death_date", "死亡日期应为YYYY-MM-DD格式的日期"),
    ("date not real", {"deceased__death_date": "2026-02-30"}, "deceased.death_date", "死亡日期不是有效的日期"),
    ("flag not boolean", {"deceased__work_injury": "否"}, "deceased.work_injury", "是否工伤死亡应填写true或false"),
    (
        "medical death, village certificate",
        {"death_certificate__issuer_type": "village_committee"},
        "death_certificate.issuer_type",
        "在医疗机构或送医途中死亡的，死亡医学证明应由医疗机构出具",
    ),
    (
        "home death after the transition, residents' committee",
        {
            "deceased__death_circumstance": "home",
            "deceased__death_date": "2026-11-16",
            "death_certificate__issuer_type": "community",
        },
        "death_certificate.issuer_type",
        "该日期在家死亡的，死亡医学证明（推断）书应由乡镇卫生院、社区卫生服务中心、医养结合机构内设医疗机构出具",
    ),
    (
        "matter the situations do not allow",
        {"situations__housing_provident_fund": False, "matters": ["hpf.death_withdrawal"]},
        "matters.0",
        "所选事项“公积金死亡提取”与填报的逝者情形不符",
    ),
    (
        "unknown matter code",
        {"matters": ["hrss.enterprise_retiree_death_benefit", "police.x"]},
        "matters.1",
        "所选第2项事项代码无法识别",
    ),
    ("matters not a list", {"matters": "hpf.death_withdrawal"}, "matters", "所选事项应为事项代码列表"),
    (
        "bad sha256",
        {"materials": [{"kind": "id_card", "sha256": "xyz", "size": 1}]},
        "materials.0.sha256",
        "第1份材料的sha256摘要应为64位十六进制字符",
    ),
    (
        "negative size",
        {"materials": [{"kind": "id_card", "sha256": "a" * 64, "size": -1}]},
        "materials.0.size",
        "第1份材料的文件大小应为不小于0的整数（字节数）",
    ),
    (
        "boolean size",
        {"materials": [{"kind": "id_card", "sha256": "a" * 64, "size": True}]},
        "materials.0.size",
        "第1份材料的文件大小应为不小于0的整数（字节数）",
    ),
    (
        "material kind empty",
        {"materials": [{"kind": "", "sha256": "a" * 64, "size": 1}]},
        "materials.0.kind",
        "第1份材料的类型填写有误，可选：registration_form（身后“一件事一次办”登记表）、death_certificate（居民死亡医学证明（推断）书）、"
        "deceased_id_card（逝者身份证）、deceased_household_register（逝者户口簿）、deceased_bank_card（逝者银行卡）、"
        "applicant_id_card（申请人身份证）、applicant_household_register（申请人户口簿）、applicant_bank_card（申请人收款银行卡）、"
        "relationship_proof（亲属关系证明）、succession_notarisation（继承权公证书）、payee_authorisation（收款委托书）、other（其他材料）",
    ),
    ("material not a mapping", {"materials": ["scan.pdf"]}, "materials.0", "第1份材料格式不正确"),
    ("materials not a list", {"materials": {"kind": "x"}}, "materials", "材料清单应为列表"),
    ("section not a mapping", {"applicant": "王丽华"}, "applicant", "申请人信息格式不正确"),
    ("unknown field", {"deceased__idnumber": "x"}, "deceased.idnumber", "逝者信息中有无法识别的填报项“idnumber”"),
]


@pytest.mark.parametrize(
    ("overrides", "field", "message"), [rule[1:] for rule in RULES], ids=[rule[0] for rule in RULES]
)
def test_each_rule_refuses_with_its_message(overrides: dict[str, Any], field: str, message: str) -> None:
    problems = refuse(valid_form(**overrides))
    assert message in field_messages(problems, field), format_problems(problems)


@pytest.mark.parametrize(
    ("field", "value", "allowed"),
    [
        ("channel", "counter", "window（县政务大厅窗口办理）、online（网上申请）"),
        ("deceased__death_circumstance", "accident", "case_related（案件类死亡）"),
        ("death_certificate__issuer_type", "hospital", "medical_institution（医疗机构）"),
        ("applicant__relationship", "friend", "not_family（非亲属）"),
        ("situations__pension_status", "retired", "resident_pensioner（城乡居民养老保险参保人员）"),
    ],
)
def test_unknown_choices_list_the_allowed_values_with_their_meaning(field: str, value: str, allowed: str) -> None:
    problems = refuse(valid_form(**{field: value}))
    path = field.replace("__", ".")
    [message] = field_messages(problems, path)
    assert "填写有误，可选：" in message and allowed in message
    assert value not in message


def test_online_application_is_told_once_per_window_only_matter() -> None:
    problems = refuse(valid_form(channel="online"))
    assert messages(problems) == [
        "民政局的“社会救助待遇注销”事项暂不支持网上申请，请到县政务大厅“一件事一次办”窗口办理",
        "住房公积金中心的“公积金死亡提取”事项暂不支持网上申请，请到县政务大厅“一件事一次办”窗口办理",
        "退役军人事务局的“优抚待遇终止”事项暂不支持网上申请，请到县政务大厅“一件事一次办”窗口办理",
    ]
    assert {problem.field for problem in problems} == {"matters"}


def test_channel_reach_is_county_configuration() -> None:
    policy = Policy(
        channel_departments={
            Channel.WINDOW: frozenset(Department),
            Channel.ONLINE: frozenset(Department),
        }
    )
    assert accept(valid_form(channel="online"), policy=policy).channel is Channel.ONLINE


def test_a_matter_the_county_has_not_opened_is_reported() -> None:
    policy = Policy(matters=tuple(m for m in POLICY.matters if m.code is not M.PREFERENTIAL_BENEFIT_TERMINATION))
    problems = refuse(valid_form(), policy=policy)
    assert messages(problems) == ["本县暂未开通“优抚待遇终止”事项"]


# --- 一次告知: every problem in one answer ----------------------------------------------------------


def test_every_problem_is_reported_in_one_answer_in_form_order() -> None:
    form = valid_form(
        channel="online",
        deceased__household_county="昆都仑区",
        deceased__id_number=DECEASED_ID[:17] + "0",
        deceased__work_injury=True,
        death_certificate__issuer_type="community",
        applicant__relationship="not_family",
        applicant__phone="12345",
        applicant__bank_account__card_number=APPLICANT_CARD[:-1] + "9",
        situations__social_assistance=False,
        situations__preferential_care=False,
        situations__housing_provident_fund=False,
    )
    problems = refuse(form)
    assert [(p.field, p.message) for p in problems] == [
        ("deceased.id_number", "逝者身份证号码校验位不正确"),
        ("deceased.household_county", "逝者户籍所在地“昆都仑区”不属于固阳县，暂不纳入身后“一件事一次办”"),
        ("deceased.work_injury", "工伤死亡暂不纳入身后“一件事一次办”"),
        ("death_certificate.issuer_type", "在医疗机构或送医途中死亡的，死亡医学证明应由医疗机构出具"),
        ("applicant.relationship", "申请人须为逝者直系亲属或家属"),
        ("applicant.phone", "申请人手机号码不是有效的大陆手机号码"),
        ("applicant.bank_account.card_number", "收款银行卡号校验不通过，请核对卡号"),
    ]


def test_an_empty_form_lists_every_required_field() -> None:
    problems = refuse({})
    fields = [problem.field for problem in problems]
    assert fields[:3] == ["deceased.name", "deceased.id_number", "deceased.household_county"]
    # Nothing chosen pays (户口注销 only): no bank account is asked for.
    assert not any(field.startswith("applicant.bank_account") for field in fields)
    assert "请填写死亡医学证明编号" in messages(problems)
    assert len(problems) == len(set(fields))


def test_format_problems_is_a_numbered_chinese_list() -> None:
    problems = refuse(valid_form(deceased__work_injury=True, applicant__relationship="not_family"))
    assert format_problems(problems) == (
        "申请未受理，请一次补齐以下问题：\n1. 工伤死亡暂不纳入身后“一件事一次办”\n2. 申请人须为逝者直系亲属或家属"
    )
    assert format_problems([]) == ""


# --- allowed_matters ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("situations", "expected"),
    [
        (Situations(), [M.HUKOU_CANCELLATION]),
        (
            Situations(pension_status=PensionStatus.INSTITUTION_RETIREE, social_assistance=True),
            [M.HUKOU_CANCELLATION, M.INSTITUTION_RETIREE_DEATH_TERMINATION, M.SOCIAL_ASSISTANCE_TERMINATION],
        ),
        (
            Situations(
                pension_status=PensionStatus.INSTITUTION_EMPLOYEE,
                preferential_care=True,
                employee_medical_insurance=True,
            ),
            [
                M.HUKOU_CANCELLATION,
                M.INSTITUTION_EMPLOYEE_DEATH_TERMINATION,
                M.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT,
                M.PREFERENTIAL_BENEFIT_TERMINATION,
            ],
        ),
    ],
)
def test_allowed_matters_follow_the_situations(situations: Situations, expected: list[MatterCode]) -> None:
    assert allowed_matters(situations) == expected


# --- the examples ---------------------------------------------------------------------------------


def test_the_window_example_validates() -> None:
    raw = yaml.safe_load((EXAMPLES / "application.yaml").read_text(encoding="utf-8"))
    application = accept(raw, today=date(2026, 11, 28))
    assert application.channel is Channel.WINDOW
    assert application.matters[0] is M.HUKOU_CANCELLATION
    assert len(application.matters) > 1


def test_the_online_example_validates() -> None:
    raw = json.loads((EXAMPLES / "application-online.json").read_text(encoding="utf-8"))
    application = accept(raw, today=date(2026, 11, 28))
    assert application.channel is Channel.ONLINE
    online = POLICY.departments_for(Channel.ONLINE)
    assert all(POLICY.matter(code).department in online for code in application.matters)


# --- privacy: messages never echo personal data ---------------------------------------------------


def test_messages_never_contain_personal_data() -> None:
    bad_deceased_id = DECEASED_ID[:17] + "0"
    bad_card = APPLICANT_CARD[:-1] + str((int(APPLICANT_CARD[-1]) + 1) % 10)
    form = valid_form(
        deceased__id_number=bad_deceased_id,
        deceased__name=DECEASED_NAME * 11,
        deceased__household_county=APPLICANT_NAME,
        applicant__id_number=int(APPLICANT_ID),
        applicant__phone="2" + APPLICANT_PHONE[1:],
        applicant__bank_account__card_number=bad_card,
        applicant__relationship=APPLICANT_ID,
        situations__pension_status=DECEASED_ID,
        matters=[APPLICANT_PHONE, DECEASED_ID],
        materials=[{"kind": DECEASED_NAME, "sha256": DECEASED_ID, "size": APPLICANT_PHONE}],
        **{f"deceased__{DECEASED_ID}": "x", f"applicant__{APPLICANT_NAME}": "y"},
    )
    problems = refuse(form)
    text = format_problems(problems) + "".join(problem.field for problem in problems)
    for secret in (
        DECEASED_ID,
        bad_deceased_id,
        APPLICANT_ID,
        APPLICANT_PHONE,
        "2" + APPLICANT_PHONE[1:],
        APPLICANT_CARD,
        bad_card,
        DECEASED_NAME,
        APPLICANT_NAME,
        APPLICANT_BIRTH.strftime("%Y%m%d"),
    ):
        assert secret not in text
    assert len(problems) >= 10


# --- garbage never raises -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        None,
        [],
        [valid_form()],
        "申请",
        42,
        3.5,
        True,
        b"\x00",
        {"deceased": None, "applicant": []},
        {1: 2, None: [], "deceased": {"name": {"a": 1}, "id_number": 150222194803121237}},
        {"channel": ["online"], "situations": "all", "matters": [None, 1, {}], "materials": "x"},
        {"deceased": {"death_date": "9999-99-99", "bank_card": "\n", "name": "\ud800"}},
        {"applicant": {"bank_account": 0, "phone": "+86"}},
        {"deceased": {"name": "王" * 1_000_000, "id_number": "1" * 1_000_000}},
    ],
)
def test_garbage_is_refused_with_problems_never_an_exception(raw: object) -> None:
    problems = refuse(raw)
    assert all(isinstance(problem, Problem) and problem.message for problem in problems)


def test_a_non_mapping_form_is_one_problem() -> None:
    assert refuse(None) == [Problem(field="", message="申请表格式不正确，应为逐项填写的登记表")]
