"""A case whose chosen matters pay nothing (only 户口注销 and terminations) asks for no bank account and runs to
办结 on the real worker and server; the police matter names the deceased's 户籍地派出所 (docs/domain.md,
"Place names")."""

from __future__ import annotations

import itertools

from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.worker import Worker

from domain.application import validate_application
from domain.enums import AccountKind, CaseState, MatterCode, MatterState
from domain.models import Application
from domain.policy import Policy
from runtime.keys import Keys
from tests.factories import REMOVE, unique_form
from tests.workflows.helpers import (
    HUKOU,
    TODAY,
    approve,
    current_details,
    describe,
    inbox_rows,
    start,
    to_parallel_phase,
)

M = MatterCode
_seeds = itertools.count(910_000)


def termination_only() -> Application:
    form = unique_form(
        next(_seeds),
        situations={"pension_status": "none", "social_assistance": True, "disability_subsidy": True},
        deceased__household_town="金山镇", applicant__bank_account=REMOVE,
    )
    form["deceased"].pop("bank_card")
    result = validate_application(form, Policy(), TODAY)
    assert isinstance(result, Application), result
    return result


async def test_a_case_with_only_terminations_and_no_bank_account_runs_to_completion(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker
) -> None:
    app = termination_only()
    assert app.applicant.bank_account.kind is AccountKind.NONE and not app.applicant.bank_account.given
    assert app.deceased.police_station == "固阳县公安局金山派出所"
    assert app.matters == (HUKOU, M.SOCIAL_ASSISTANCE_TERMINATION, M.DISABILITY_SUBSIDY_TERMINATION)

    handle = await start(client, keys, task_queue, app)
    snap = await to_parallel_phase(client, handle)
    assert snap.payee_card == ""
    police = await describe(client, f"{handle.id}.{HUKOU.value}")
    assert police is not None
    assert "固阳县公安局金山派出所" in (await police.static_details() or "")
    # The item itself goes to that 派出所.
    assert inbox_rows(engine, handle.id)[HUKOU.value].unit == "固阳县公安局金山派出所"
    for view in snap.matters:
        if view.code != HUKOU:
            assert not view.pays_family
            assert await approve(client, handle.id, view) is None
    result = await handle.result()
    assert result.state == CaseState.COMPLETED
    assert all(m.state == MatterState.APPROVED for m in result.matters), result.matters
    # Nothing was paid, and nothing waits for an account.
    matter = client.get_workflow_handle(f"{handle.id}.{M.SOCIAL_ASSISTANCE_TERMINATION.value}")
    assert "收款账户" not in await current_details(matter)
