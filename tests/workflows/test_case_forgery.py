"""The case's `matter_updated` signal is listed in the Web UI like any other; the case checks every report
with the engine, so a forged one changes nothing the case acts on."""

from __future__ import annotations

import pytest
from temporalio.client import Client
from temporalio.worker import Worker

from client.errors import OperationRefused
from client.operations import correct_bank_account
from domain.enums import MatterCode, MatterState
from domain.models import MatterReport, PayeeCorrectedInput, StatusSnapshot
from runtime.keys import Keys
from tests.factories import APPLICANT_CARD, APPLICANT_NAME
from tests.signing import WINDOW
from tests.workflows import timeskip as ts
from tests.workflows.helpers import matter_handle, start, to_parallel_phase, view_of, wait_for


async def test_a_forged_progress_report_is_refused(client: Client, keys: Keys, task_queue: str, worker: Worker) -> None:
    handle = await start(client, keys, task_queue)
    snap = await to_parallel_phase(client, handle)
    code = MatterCode.PROVIDENT_FUND_DEATH_WITHDRAWAL
    at = view_of(snap, code).pushed_at or snap.received_at
    # A forged "payment failed" would let anyone redirect the money to another account. The case believes no
    # report: it asks the engine, which holds the matter's own state.
    await handle.signal("matter_updated", MatterReport(matter=code, state=MatterState.PAYMENT_FAILED,
                                                       event="款项发放失败", at=at))
    own = await ts.poll(lambda: handle.query("status", result_type=StatusSnapshot),
                        lambda s: view_of(s, code).state == MatterState.UNDER_REVIEW)
    assert view_of(own, code).state == MatterState.UNDER_REVIEW
    with pytest.raises(OperationRefused, match="没有发放失败"):
        await correct_bank_account(client, handle.id, PayeeCorrectedInput(
            clerk="窗口刘", bank_name="中国工商银行", account_name=APPLICANT_NAME, card_number=APPLICANT_CARD), WINDOW)


async def test_a_matter_withdrawn_straight_from_the_web_ui_is_refused(
    client: Client, keys: Keys, task_queue: str, worker: Worker
) -> None:
    handle = await start(client, keys, task_queue)
    await to_parallel_phase(client, handle)
    code = MatterCode.PROVIDENT_FUND_DEATH_WITHDRAWAL
    matter = matter_handle(client, handle.id, code)
    # Withdrawing is the applicant's, recorded on the case: one matter stopped behind the case's back is not.
    await matter.signal("withdraw", {"clerk": "窗口刘", "reason": "误操作"})
    after = (await wait_for(matter, lambda s: s.matters[0].refused_total == 1)).matters[0]
    assert after.state == MatterState.UNDER_REVIEW and "受理窗口签名" in after.refused_actions[-1].reason
