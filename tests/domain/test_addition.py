"""An addition is checked by intake's rules, its own problems told with intake's in one answer (一次告知)."""

from __future__ import annotations

from datetime import date

from domain import messages
from domain.addition import Addition, check_addition
from domain.application import validate_application
from domain.enums import MatterCode, MatterState
from domain.models import Application, Problem
from domain.policy import Policy
from tests.factories import REMOVE, unique_form

TODAY = date(2026, 11, 28)
HPF = MatterCode.PROVIDENT_FUND_DEATH_WITHDRAWAL
NHSA = MatterCode.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT
MCA = MatterCode.SOCIAL_ASSISTANCE_TERMINATION
BANK_CARD = {"kind": "applicant_bank_card", "sha256": "9" * 64, "size": 1000}


def case_application(**overrides: object) -> Application:
    form = unique_form(3_100_000, situations={"pension_status": "resident_pensioner",
                                              "employee_medical_insurance": True}, **overrides)
    result = validate_application(form, Policy(), TODAY)
    assert isinstance(result, Application), result
    return result


def terminations_only() -> Application:
    """A case with nothing to pay, so no account and no bank cards."""
    form = unique_form(3_100_001, situations={"pension_status": "none", "social_assistance": True},
                       deceased__household_town="金山镇", applicant__bank_account=REMOVE)
    form["deceased"].pop("bank_card")
    form["materials"] = [m for m in form["materials"] if "bank_card" not in m["kind"]]
    result = validate_application(form, Policy(), TODAY)
    assert isinstance(result, Application), result
    return result


def problems(result: Addition | list[Problem]) -> list[str]:
    assert isinstance(result, list), result
    return [problem.message for problem in result]


def test_a_valid_addition_keeps_the_case_and_adds_the_matter() -> None:
    app = case_application()
    result = check_addition({"matters": [HPF.value], "situations": {"housing_provident_fund": True}},
                            app, {}, Policy(), TODAY)
    assert isinstance(result, Addition)
    assert result.matters == (HPF,)
    assert result.application.matters == (MatterCode.HUKOU_CANCELLATION, HPF)
    assert result.situations.housing_provident_fund and result.situations.employee_medical_insurance
    assert result.bank_account is None and result.materials == ()
    assert result.statement("窗口李").matters == (HPF,)


def test_every_problem_of_an_addition_is_told_at_once() -> None:
    app = case_application()
    present = {NHSA: ("SH-AAAAAAAAAAAA", MatterState.UNDER_REVIEW)}
    found = problems(check_addition(
        {"matters": [HPF.value, MatterCode.HUKOU_CANCELLATION.value, NHSA.value, "nope"], "channel": "online",
         "situations": {"housing_provident_fund": True}, "extra": 1},
        app, present, Policy(), TODAY))
    assert "所选第4项事项代码无法识别" in found
    # Online, 公积金 needs the window: told so, not dropped.
    assert any("公积金" in text and "窗口办理" in text for text in found)
    assert "追加事项表中的“extra”无法识别" in found
    assert messages.ADDITION_HUKOU in found
    assert messages.addition_present("医保个人账户清算", "SH-AAAAAAAAAAAA", "待审核") in found
    assert len(found) == 5


def test_a_matter_the_situations_do_not_select_and_no_matters() -> None:
    app = case_application()
    assert problems(check_addition({"matters": [HPF.value]}, app, {}, Policy(), TODAY)) == [
        "所选事项“公积金死亡提取”与填报的逝者情形不符"]
    assert problems(check_addition({}, app, {}, Policy(), TODAY)) == ["请填写追加的事项（matters）"]
    assert problems(check_addition([], app, {}, Policy(), TODAY)) == ["追加事项表格式不正确，应为逐项填写的表"]


def test_a_paying_matter_added_to_a_case_without_an_account_needs_one_and_its_card() -> None:
    app = terminations_only()
    assert not app.applicant.bank_account.given
    found = check_addition({"matters": [HPF.value], "situations": {"housing_provident_fund": True}},
                           app, {}, Policy(), TODAY)
    texts = problems(found)
    assert isinstance(found, list)
    assert any("收款" in text for text in texts)
    assert any("缺少材料" in text and "申请人收款银行卡" in text for text in texts)
    assert {problem.field for problem in found} >= {"materials", "deceased_bank_card"}
    account = {"bank_name": "中国建设银行固阳支行", "account_name": app.applicant.name,
               "card_number": "6217000000000000020"}
    assert "请填写逝者银行卡号" in texts
    result = check_addition({"matters": [HPF.value], "situations": {"housing_provident_fund": True},
                             "bank_account": account, "deceased_bank_card": "6228480000000010009",
                             "materials": [BANK_CARD]}, app, {}, Policy(), TODAY)
    assert isinstance(result, Addition), result
    assert result.bank_account is not None and result.bank_account.card_number == "6217000000000000020"
    assert [m.kind for m in result.materials] == ["applicant_bank_card"]
    assert result.deceased_bank_card == "6228480000000010009"


def test_an_account_is_not_changed_by_an_addition() -> None:
    account = {"bank_name": "x", "account_name": "y", "card_number": "6217000000000000020"}
    found = problems(check_addition({"matters": [MCA.value], "situations": {"social_assistance": True},
                                     "bank_account": account}, case_application(), {}, Policy(), TODAY))
    assert found == [messages.ADDITION_ACCOUNT_GIVEN]


def test_a_termination_the_answers_select_is_added_once() -> None:
    app = terminations_only()
    assert MCA in app.matters
    present = {MCA: ("SH-RUNNINGCASE1", MatterState.UNDER_REVIEW)}
    # The case has 低保's termination already: answering yes again does not add it twice.
    again = check_addition({"matters": [MatterCode.RESIDENT_MEDICAL_INSURANCE_TERMINATION.value],
                            "situations": {"resident_medical_insurance": True}}, app, present, Policy(), TODAY)
    assert isinstance(again, Addition)
    assert again.matters == (MatterCode.RESIDENT_MEDICAL_INSURANCE_TERMINATION,)
    # A new answer of 不清楚 about the disability subsidies adds their termination with the family's choice.
    more = check_addition({"matters": [MatterCode.RESIDENT_MEDICAL_INSURANCE_TERMINATION.value],
                           "situations": {"resident_medical_insurance": True, "disability_subsidy": "不清楚"}},
                          app, present, Policy(), TODAY)
    assert isinstance(more, Addition)
    assert set(more.matters) == {MatterCode.RESIDENT_MEDICAL_INSURANCE_TERMINATION,
                                 MatterCode.DISABILITY_SUBSIDY_TERMINATION}
