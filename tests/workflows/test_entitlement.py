"""Money only to the entitled, and terminations that cannot be forgotten (DOMAIN.md §9; domain/entitlement.py), on
the real worker and server: an applicant who is not spouse, child or parent is paid only once the window has
recorded the relationship proof; a spouse is paid at once; a termination the family marks 不清楚 is pushed, its
stop date shows in `case status`, and the department's 无该待遇 ends it without a rejection."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.worker import Worker

from client.errors import OperationRefused
from client.operations import prove_relationship
from domain.application import validate_application
from domain.enums import CaseState, MaterialKind, MatterCode, MatterState
from domain.models import Application, PayeeProvenInput
from domain.policy import Policy
from runtime.keys import Keys
from tests.factories import DEATH_DATE, unique_form
from tests.signing import PAYING_SYSTEM, WINDOW, signed_payload
from tests.workflows import timeskip as ts
from tests.workflows.helpers import (
    TODAY,
    approve,
    confirm_payment,
    ledger_amounts,
    matter_handle,
    outbox_rows,
    rendered_status,
    start,
    status,
    to_parallel_phase,
    view_of,
    wait_for,
)

HPF = MatterCode.PROVIDENT_FUND_DEATH_WITHDRAWAL
MCA = MatterCode.SOCIAL_ASSISTANCE_TERMINATION
RESIDENT_MEDICAL = MatterCode.RESIDENT_MEDICAL_INSURANCE_TERMINATION
_seeds = itertools.count(930_000)
_ONLY_HPF = {"pension_status": "none", "employee_medical_insurance": False, "social_assistance": False,
             "housing_provident_fund": True, "disability_subsidy": False, "preferential_care": False}


def _application(**overrides: Any) -> Application:
    result = validate_application(unique_form(next(_seeds), **overrides), Policy(), TODAY)
    assert isinstance(result, Application), result
    return result


async def _told(engine: Engine, case_number: str, words: str) -> None:
    """The family's messages come to include ``words`` (the register write follows the state by a moment)."""
    async def texts() -> list[str]:
        return [row.message for row in outbox_rows(engine, case_number, "family")]
    await ts.poll(texts, lambda found: any(words in text for text in found))


def _proof(clerk: str = "窗口刘") -> PayeeProvenInput:
    return PayeeProvenInput(clerk=clerk, proof=MaterialKind.RELATIONSHIP_PROOF, document="固阳县金山镇派出所2026-118号")


async def test_a_child_in_law_is_paid_only_once_the_window_has_recorded_the_proof(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker
) -> None:
    app = _application(situations=_ONLY_HPF, applicant__relationship="child_in_law")
    handle = await start(client, keys, task_queue, app)
    snap = await to_parallel_phase(client, handle)
    assert any("儿媳、女婿" in entry.event and "亲属关系证明" in entry.event for entry in snap.timeline)

    await approve(client, handle.id, view_of(snap, HPF), confirm=False)
    matter = matter_handle(client, handle.id, HPF)
    waiting = (await wait_for(matter, lambda s: s.matters[0].state == MatterState.AWAITING_PROOF)).matters[0]
    assert waiting.payment_reference is None and waiting.payee_unproven
    # No instruction went to the paying system; the family is told what to bring.
    assert ledger_amounts(engine, handle.id) == {}
    await _told(engine, handle.id, "请携带亲属关系证明或继承权公证书到")
    assert "待窗口核验亲属关系证明" in rendered_status(await status(handle))

    # Neither the officer's Web UI nor another issuer's key moves the money.
    await matter.signal("payee_proven", _proof().model_dump(mode="json"))
    await matter.signal("payee_proven", signed_payload(PAYING_SYSTEM, handle.id, None, _proof()))
    refused = (await wait_for(matter, lambda s: s.matters[0].refused_total >= 2)).matters[0]
    assert refused.state == MatterState.AWAITING_PROOF
    with pytest.raises(OperationRefused):
        await prove_relationship(client, handle.id, _proof(), PAYING_SYSTEM)
    assert any(r.action == "prove_relationship" for r in (await status(handle)).refused_actions)
    assert ledger_amounts(engine, handle.id) == {}

    # The window records it: the money is instructed, confirmed, paid once.
    ack = await prove_relationship(client, handle.id, _proof(), WINDOW)
    assert ack.accepted and "发放" in ack.message
    # Recorded once: a second record is refused with its reason.
    with pytest.raises(OperationRefused, match="已核验过"):
        await prove_relationship(client, handle.id, _proof(), WINDOW)
    await confirm_payment(client, handle.id, HPF)
    result = await handle.result()
    assert result.state == CaseState.COMPLETED
    assert {m.matter: m.state for m in result.matters}[HPF] == MatterState.PAID
    assert len(ledger_amounts(engine, handle.id)) == 1


async def test_a_spouse_is_paid_and_a_proof_brought_to_the_window_counts_at_intake(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker
) -> None:
    spouse = _application(situations=_ONLY_HPF, applicant__relationship="spouse")
    sibling = _application(situations=_ONLY_HPF, applicant__relationship="sibling")
    sibling = sibling.model_copy(update={"materials": (*sibling.materials, sibling.materials[0].model_copy(
        update={"kind": MaterialKind.RELATIONSHIP_PROOF.value}))})
    for app in (spouse, sibling):
        handle = await start(client, keys, task_queue, app)
        snap = await to_parallel_phase(client, handle)
        await approve(client, handle.id, view_of(snap, HPF))
        result = await handle.result()
        assert {m.matter: m.state for m in result.matters}[HPF] == MatterState.PAID, app.applicant.relationship
        assert len(ledger_amounts(engine, handle.id)) == 1


async def test_a_termination_marked_unknown_is_pushed_shows_its_stop_date_and_may_end_with_no_benefit(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker
) -> None:
    # The family chose only 公积金 and said 不清楚 to 低保 and 城乡居民医保: both terminations run all the same.
    app = _application(situations={**_ONLY_HPF, "social_assistance": "不清楚", "resident_medical_insurance": "unknown"},
                       matters=[HPF.value])
    assert MCA in app.matters and RESIDENT_MEDICAL in app.matters
    handle = await start(client, keys, task_queue, app)
    snap = await to_parallel_phase(client, handle)

    # 低保 stops from the month after the death, 城乡居民医保 from the date of death.
    assert DEATH_DATE == date(2026, 11, 16)
    assert view_of(snap, MCA).stop_date == date(2026, 12, 1)
    assert view_of(snap, RESIDENT_MEDICAL).stop_date == DEATH_DATE
    assert view_of(snap, HPF).stop_date is None
    shown = rendered_status(snap)
    assert "停发日期2026-12-01" in shown and "停发日期2026-11-16" in shown

    # 无该待遇 only where a benefit is to stop; never with an amount.
    hpf = matter_handle(client, handle.id, HPF)
    await hpf.signal("approve", {"officer": "公积金钱", "no_benefit": True})
    assert "不是待遇终止事项" in (await wait_for(hpf, lambda s: s.matters[0].refused_total == 1)
                                  ).matters[0].refused_actions[-1].reason
    mca = matter_handle(client, handle.id, MCA)
    await mca.signal("approve", {"officer": "民政孙", "no_benefit": True, "note": "经核查未享受低保"})
    ended = (await wait_for(mca, lambda s: s.matters[0].final)).matters[0]
    assert ended.state == MatterState.NO_BENEFIT and ended.reason is None
    await _told(engine, handle.id, "逝者无该项待遇，无需办理")

    await approve(client, handle.id, view_of(snap, RESIDENT_MEDICAL))
    await approve(client, handle.id, view_of(snap, HPF))
    result = await handle.result()
    assert result.state == CaseState.COMPLETED
    states = {m.matter: m.state for m in result.matters}
    assert (states[MCA], states[RESIDENT_MEDICAL], states[HPF]) == (
        MatterState.NO_BENEFIT, MatterState.APPROVED, MatterState.PAID)
