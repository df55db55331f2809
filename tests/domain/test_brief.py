"""The officer's brief (domain/brief.py): what a matter's page says, worked out without a server."""

from __future__ import annotations

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

from domain.brief import brief_of, current_details, signal_examples, static_details, static_summary, working_days_left
from domain.catalogue import DEFAULT_MATTERS
from domain.enums import MatterCode, MatterState
from domain.models import ApproveInput, MatterView, RejectInput, RequestMaterialsInput
from tests.workflows.helpers import application

TZ = "Asia/Shanghai"
NHSA = next(d for d in DEFAULT_MATTERS if d.code is MatterCode.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT)


def test_the_brief_names_the_people_masked_and_never_a_full_number() -> None:
    app = application()
    brief = brief_of(app, [d for d in DEFAULT_MATTERS if d.code in app.matters])
    text = static_summary(brief, NHSA) + static_details(brief, NHSA, "SH-AAAAAAAAAAAA")
    for secret in (app.deceased.name, app.deceased.id_number, app.applicant.name, app.applicant.id_number,
                   app.applicant.bank_account.card_number, app.applicant.phone):
        assert secret not in text
    # Masked names are escaped, so Markdown shows 王** and does not turn it bold.
    assert "\\*\\*" in static_summary(brief, NHSA)
    # The situation and the family's claims are there for the officer.
    assert "有职工医保个人账户" in text and "户口注销" in text


def test_every_signal_example_is_a_decision_the_matter_takes() -> None:
    examples = dict((name, json.loads(body)) for name, _, body in signal_examples(NHSA, "SH-AAAAAAAAAAAA"))
    assert ApproveInput.model_validate(examples["approve"]).amount is not None
    RejectInput.model_validate(examples["reject"])
    RequestMaterialsInput.model_validate(examples["request_materials"])
    assert examples["approve"]["matter"] == NHSA.code.value


def test_working_days_left_counts_today_and_the_days_after() -> None:
    days = [date(2026, 12, 7), date(2026, 12, 8), date(2026, 12, 9)]
    # Monday noon in Beijing: Monday itself is still being worked.
    assert working_days_left(days, datetime(2026, 12, 7, 4, 0, tzinfo=ZoneInfo("UTC")), TZ) == 3
    # Late on Monday (UTC) is already Tuesday in Beijing.
    assert working_days_left(days, datetime(2026, 12, 7, 17, 0, tzinfo=ZoneInfo("UTC")), TZ) == 2


def test_current_details_say_the_deadline_in_beijing_time_and_what_comes_next() -> None:
    deadline = datetime(2026, 12, 10, tzinfo=ZoneInfo(TZ))
    view = MatterView(case_number="SH-AAAAAAAAAAAA", code=NHSA.code, name=NHSA.name, department=NHSA.department,
                      department_name=NHSA.department_name, state=MatterState.UNDER_REVIEW, pays_family=True,
                      time_limit_working_days=5, deadline=deadline)
    now = datetime(2026, 12, 7, 2, 0, tzinfo=ZoneInfo("UTC"))
    text = current_details(view, [date(2026, 12, 8), date(2026, 12, 9)], now, TZ)
    assert "2026-12-09 24:00（北京时间）" in text and "剩余2个工作日" in text and "approve" in text


def test_the_police_matter_names_the_household_s_police_station_and_no_account_is_shown_when_none() -> None:
    from domain.application import validate_application
    from domain.brief import brief_of, static_details
    from domain.catalogue import default_catalogue
    from domain.models import Application
    from domain.policy import Policy
    from tests.factories import REMOVE, TODAY, valid_form

    form = valid_form(deceased__household_town="怀朔镇", applicant__bank_account=REMOVE,
                      situations={"pension_status": "none", "social_assistance": True})
    form["deceased"].pop("bank_card")
    app = validate_application(form, Policy(), TODAY)
    assert isinstance(app, Application), app
    catalogue = default_catalogue()
    definitions = [catalogue.definition(code) for code in app.matters]
    brief = brief_of(app, definitions)
    assert brief.police_station == "固阳县公安局怀朔派出所"
    assert brief.payee == "无（家属所选事项均不发放款项）"
    police, assistance = definitions
    assert "**户籍地派出所**：固阳县公安局怀朔派出所" in static_details(brief, police, "SH-ABCDEFGH2345")
    assert "户籍地派出所" not in static_details(brief, assistance, "SH-ABCDEFGH2345")
