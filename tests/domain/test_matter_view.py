"""What a matter shows of its state (domain/matter_view.py), without a server."""

from __future__ import annotations

from datetime import timedelta

from domain import matter_view
from domain import search_attributes as names
from domain.enums import MatterState
from domain.models import MatterProgress, MatterView
from tests.domain.matters import CASE, DEADLINE, NOW, PAYS, matter, paused, paying, reviewing, rungs


def test_the_view_shows_every_field_it_shares_with_the_state_as_the_state_holds_it() -> None:
    state = paying(working_days_overdue=2, refused_total=3, manual_handling="x")
    view = matter_view.view(state, matter())
    shared = set(MatterView.model_fields) & set(MatterProgress.model_fields)
    assert len(shared) > 20
    assert all(getattr(view, name) == getattr(state, name) for name in shared)
    assert (view.case_number, view.code, view.department_name) == (CASE, PAYS, "人社局")


def test_the_ladder_is_shown_only_for_a_running_deadline() -> None:
    assert matter_view.view(reviewing(), matter()).ladder == rungs()
    assert matter_view.view(paused(3, rungs=rungs()), matter()).ladder == ()


def test_the_clis_answer_names_the_payment_instruction_while_paying() -> None:
    assert matter_view.ack(paying()).message == "决定已受理，事项状态：发放中，发放凭证号PAY-1（待支付系统确认到账）"
    assert matter_view.ack(paying()).payment_reference == "PAY-1"
    rejected = matter_view.ack(reviewing(state=MatterState.REJECTED))
    assert rejected.message == "决定已受理，事项状态：不予办理" and rejected.payment_reference is None


def test_the_search_attributes_show_a_deadline_only_under_review_and_only_changes_are_set() -> None:
    values = matter_view.attributes(reviewing())
    assert values[names.DEADLINE] == DEADLINE and values[names.WARNING_AT] == DEADLINE - timedelta(days=1)
    assert matter_view.attributes(paused(3))[names.DEADLINE] is None
    state = reviewing(attributes=values)
    assert matter_view.changed_attributes(state) == {}
    assert matter_view.changed_attributes(state.model_copy(update={"overdue": True})) == {names.OVERDUE: True}


def test_the_result_is_what_the_case_settles_on() -> None:
    result = matter_view.result(paying(state=MatterState.PAID, final=True), matter())
    assert (result.case_number, result.matter, result.state, result.payment_reference) == (
        CASE, PAYS, MatterState.PAID, "PAY-1")


def test_a_continued_run_carries_the_whole_matter_and_reads_it_back_the_same() -> None:
    state = paying(timeline=(), fired=((0, rungs()[0].step, 0),), seq=12, runs=2, report_end=True)
    carried = matter().model_copy(update={"carried": state})
    again = type(carried).model_validate_json(carried.model_dump_json())
    assert again.carried == state
    assert matter_view.report(state, matter(), "事项办结", NOW, True).final
