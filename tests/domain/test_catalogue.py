"""The catalogue file: the packaged default reproduces main's catalogue exactly, and a faulty file is refused
with every problem listed at once, one Chinese line each."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from domain.catalogue import (
    DEFAULT_FILE,
    CatalogueError,
    catalogue_from,
    catalogue_schema,
    default_catalogue,
    load_catalogue,
)
from domain.enums import Department, MaterialKind, MatterCode, PensionStatus, Relationship, StopFrom
from domain.models import Situations
from tests.domain import catalogue_of_main as main


def _default_data() -> dict[str, Any]:
    data = yaml.safe_load(DEFAULT_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


# What the catalogue added since it became a file (issue 24): the rules main's tables did not have, the
# 城乡居民医保 termination and the notarised succession document.
_ADDED_RULES = {"department_name", "stops_from", "entitled_payees", "payee_proofs"}
_ADDED_MATTERS = {MatterCode.RESIDENT_MEDICAL_INSURANCE_TERMINATION}


def test_the_packaged_catalogue_reproduces_mains_matters_exactly() -> None:
    catalogue = default_catalogue()
    kept = [d for d in catalogue.definitions() if d.code not in _ADDED_MATTERS]
    assert [d.model_dump(exclude=_ADDED_RULES) for d in kept] == [m.model_dump() for m in main.DEFAULT_MATTERS]
    assert {d.code: d.department_name for d in kept} == {
        m.code: main.DEPARTMENT_NAMES[m.department] for m in main.DEFAULT_MATTERS
    }
    assert catalogue.department_names() == main.DEPARTMENT_NAMES
    labels = {k: v for k, v in catalogue.material_labels().items() if k != MaterialKind.SUCCESSION_NOTARISATION}
    assert labels == main.MATERIAL_LABELS
    assert list(labels) == list(main.MATERIAL_LABELS)  # the order problems list them in
    assert catalogue.base_material_kinds() == main.BASE_MATERIALS
    assert catalogue.channel_departments() == main.DEFAULT_CHANNEL_DEPARTMENTS
    assert catalogue.supervisor().code == Department.SUPERVISION
    # Codes and order: the enum members are the default catalogue's codes, in its order.
    assert [m.code for m in catalogue.matters] == [code.value for code in MatterCode]
    assert [d.code for d in catalogue.departments] == [code.value for code in Department]


def test_terminations_carry_their_stop_rule_and_paying_matters_their_payees() -> None:
    catalogue = default_catalogue()
    stops = {d.code: d.stops_from for d in catalogue.definitions() if d.stops_from is not None}
    assert stops == {
        MatterCode.INSTITUTION_RETIREE_DEATH_TERMINATION: StopFrom.DEATH_DATE,
        MatterCode.SOCIAL_ASSISTANCE_TERMINATION: StopFrom.NEXT_MONTH,
        MatterCode.DISABILITY_SUBSIDY_TERMINATION: StopFrom.NEXT_MONTH,
        MatterCode.PREFERENTIAL_BENEFIT_TERMINATION: StopFrom.DEATH_DATE,
        MatterCode.RESIDENT_MEDICAL_INSURANCE_TERMINATION: StopFrom.DEATH_DATE,
    }
    for definition in catalogue.definitions():
        if definition.pays_family:
            assert definition.entitled_payees == (Relationship.SPOUSE, Relationship.CHILD, Relationship.PARENT)
            assert definition.payee_proofs == (MaterialKind.RELATIONSHIP_PROOF, MaterialKind.SUCCESSION_NOTARISATION)
        else:
            assert definition.entitled_payees is None


def test_unknown_selects_a_termination_but_never_a_payout() -> None:
    answers = Situations(social_assistance="unknown", housing_provident_fund=False).answer_map()
    assert default_catalogue().selected({**answers, "resident_medical_insurance": "unknown"}) == [
        MatterCode.HUKOU_CANCELLATION, MatterCode.SOCIAL_ASSISTANCE_TERMINATION,
        MatterCode.RESIDENT_MEDICAL_INSURANCE_TERMINATION]
    data = _default_data()
    data["questions"][0]["unknown_allowed"] = True
    with pytest.raises(CatalogueError) as caught:
        catalogue_from(data)
    assert caught.value.problems == ["问题“pension_status”：“不清楚”（unknown_allowed）只用于是否题"]


@pytest.mark.parametrize("status", list(PensionStatus))
def test_the_pension_question_selects_mains_pension_matters(status: PensionStatus) -> None:
    selected = default_catalogue().selected(Situations(pension_status=status).answer_map())
    expected = main.PENSION_MATTERS.get(status)
    assert selected == [MatterCode.HUKOU_CANCELLATION, *([expected] if expected else [])]


def test_a_faulty_catalogue_lists_every_problem_in_one_line_each() -> None:
    data = _default_data()
    data["matters"][1]["department"] = "nope"
    data["matters"][2]["required_materials"] = ["driving_licence"]
    data["matters"][3]["selected_by"] = {"question": "owns_a_car", "answer": True}
    data["matters"].append(dict(data["matters"][0]))  # a duplicate code
    with pytest.raises(CatalogueError) as caught:
        catalogue_from(data)
    assert caught.value.problems == [
        "事项“police.hukou_cancellation”：代码重复",
        "事项“hrss.enterprise_retiree_death_benefit”：所属部门“nope”未在目录中定义",
        "事项“hrss.enterprise_retiree_death_benefit”：代码应以所属部门代码“nope.”开头",
        "事项“hrss.enterprise_employee_death_benefit”：材料“driving_licence”未在materials中定义",
        "事项“hrss.institution_employee_death_termination”：选择问题“owns_a_car”未在questions中定义",
    ]


def test_schema_problems_name_the_entry_by_its_code_and_come_with_the_others() -> None:
    data = _default_data()
    data["matters"][5]["time_limit_working_days"] = 0
    data["departments"][0]["colour"] = "blue"
    data["departments"][-1]["colour"] = "blue"  # the supervising department, refused, is still one
    del data["matters"][6]["name"]
    data["matters"][7]["department"] = "civil"
    with pytest.raises(CatalogueError) as caught:
        catalogue_from(data)
    assert caught.value.problems == [
        "部门“police”：colour：无法识别的字段",
        "部门“supervision”：colour：无法识别的字段",
        "事项“hrss.resident_pension_funeral_subsidy”：time_limit_working_days：取值过小",
        "事项“nhsa.employee_medical_account_settlement”：name：缺少必填项",
        # The checks between entries, on the same answer (a refused entry is not checked again).
        "事项“mca.social_assistance_termination”：所属部门“civil”未在目录中定义",
        "事项“mca.social_assistance_termination”：代码应以所属部门代码“civil.”开头",
    ]


def test_a_file_that_does_not_parse_or_is_missing_is_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "catalogue.yaml"
    broken.write_text("matters: [\n", encoding="utf-8")
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(broken)
    assert len(caught.value.problems) == 1 and caught.value.problems[0].startswith("格式不正确")
    with pytest.raises(CatalogueError):
        load_catalogue(tmp_path / "absent.yaml")


def test_the_schema_is_json_schema_of_the_file() -> None:
    schema = catalogue_schema()
    assert set(schema["required"]) == {"version", "departments", "materials", "matters"}
    assert "MatterEntry" in schema["$defs"]


# --- a county switches a matter off ------------------------------------------------------------------------


def test_a_switched_off_matter_is_neither_offered_nor_accepted() -> None:
    from domain.application import format_problems, validate_application
    from domain.models import Application
    from domain.policy import Policy
    from portal.form import all_inputs, online_matters
    from tests.catalogues import catalogue_in_use, switched_off
    from tests.factories import unique_form

    nhsa = MatterCode.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT
    with catalogue_in_use(switched_off(nhsa.value)):
        policy = Policy()
        assert nhsa not in [m.code for m in policy.matters]
        # The portal's form neither asks the question that selects it nor offers it.
        assert "situations.employee_medical_insurance" not in [spec.name for spec in all_inputs(policy)]
        assert nhsa not in [m.code for m in online_matters(policy)]
        # The situation alone no longer selects it; chosen by name, it is refused by name.
        quiet = validate_application(unique_form(8001), policy, date(2026, 11, 28))
        assert isinstance(quiet, Application), format_problems(quiet)
        assert nhsa not in quiet.matters
        chosen = validate_application(unique_form(8002, matters=[nhsa.value]), policy, date(2026, 11, 28))
        assert isinstance(chosen, list)
        assert [p.message for p in chosen] == ["本县暂未开通“医保个人账户清算”事项"]
    # The default catalogue is back: offered again.
    assert nhsa in [m.code for m in Policy().matters]


def test_a_matter_a_catalogue_adds_is_selected_by_its_question() -> None:
    from domain.application import validate_application
    from domain.models import Application
    from domain.policy import Policy
    from tests.catalogues import DRIVING_LICENCE, catalogue_in_use, with_traffic
    from tests.factories import unique_form

    with catalogue_in_use(with_traffic()):
        form = unique_form(8003, situations={"driving_licence": True})
        accepted = validate_application(form, Policy(), date(2026, 11, 28))
        assert isinstance(accepted, Application)
        assert accepted.matters == (MatterCode.HUKOU_CANCELLATION, DRIVING_LICENCE)
        assert accepted.situations.answers == {"driving_licence": True, "resident_medical_insurance": False}
        # Serialised beside the named answers, as the form has them, and read back the same.
        dumped = accepted.model_dump(mode="json")
        assert dumped["situations"]["driving_licence"] is True and "answers" not in dumped["situations"]
        assert Application.model_validate(dumped) == accepted
    # Under the default catalogue the question is unknown: intake says so.
    refused = validate_application(form, Policy(), date(2026, 11, 28))
    assert isinstance(refused, list)
    assert "逝者情形中有无法识别的填报项“driving_licence”" in [p.message for p in refused]


def test_a_case_started_before_the_catalogue_file_reads_its_department_name() -> None:
    """A recorded MatterDefinition has no department_name: the default catalogue's is read."""
    from domain.catalogue import MatterDefinition

    old = MatterDefinition.model_validate({
        "code": "mca.social_assistance_termination", "department": "mca", "name": "x", "short_name": "y",
        "pays_family": False, "time_limit_working_days": 5,
    })
    assert old.department_name == "民政局"


def test_a_renamed_supervising_department_is_named_in_the_cases_supervision_notices() -> None:
    from domain import messages
    from runtime.policy_file import load_policy
    from tests.catalogues import catalogue_in_use, default_data

    data = default_data()
    data["departments"][-1]["name"] = "县行政审批和政务服务局"
    with catalogue_in_use(catalogue_from(data)):
        matter = load_policy(None).for_matter(MatterCode.SOCIAL_ASSISTANCE_TERMINATION)
    assert matter.supervisor_name == "县行政审批和政务服务局"
    text = messages.supervision("SH-X", matter.definition, 3, matter.supervisor_name)
    assert text.endswith("由县行政审批和政务服务局督办。")
    # The default catalogue's cases carry nothing more, and read as before.
    default = load_policy(None)
    assert default.catalogue_labels == {} and default.for_matter(MatterCode.HUKOU_CANCELLATION).supervisor_name is None
    assert messages.supervision("SH-X", matter.definition, 3).endswith("由县政务服务局督办。")
