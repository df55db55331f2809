from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from temporalio.client import Client
from temporalio.testing._timeskipping import TimeSkipper, TimeSkippingConfig
from temporalio.worker import Worker

from domain.enums import MatterCode, PensionStatus, MatterState
from runtime.keys import Keys
from tests.workflows.helpers import application_for, matter_handle, start, status, to_parallel_phase, view_of, certify, approve_hukou, wait_for, all_parallel_under_review

NHSA = MatterCode.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT


async def test_probe(client: Client, keys: Keys, task_queue: str, worker: Worker) -> None:
    skipper = TimeSkipper(client, config=TimeSkippingConfig(enabled=False))
    app = application_for(PensionStatus.ENTERPRISE_RETIREE, social_assistance=False, housing_provident_fund=False,
                          disability_subsidy=False, preferential_care=False)
    handle = await start(skipper.client, keys, task_queue, app)
    await certify(handle)
    await wait_for(handle, lambda s: s.matters[0].state == MatterState.UNDER_REVIEW and s.cremation is not None)
    t1 = time.monotonic()
    try:
        ok = await asyncio.wait_for(skipper.fast_forward(handle, timedelta(days=30)), 15)
        print("ff parent", ok, time.monotonic() - t1)
    except TimeoutError:
        print("ff parent timed out")
    print("parent tsi", await skipper.get_time_skipping_info(handle))
    hk = matter_handle(skipper.client, handle.id, MatterCode.HUKOU_CANCELLATION)
    print("hukou tsi", await skipper.get_time_skipping_info(hk))
    await approve_hukou(skipper.client, handle)
    snap = await wait_for(handle, all_parallel_under_review)
    for v in snap.matters:
        print(v.code, v.pushed_at, v.deadline, v.calendar_fallback, v.escalations)
    for e in snap.timeline:
        print(" ", e.at, e.event)
    mh = matter_handle(skipper.client, handle.id, NHSA)
    print("child tsi", await skipper.get_time_skipping_info(mh))
    assert False
