"""A change shipped after 1.0 (workflows/versions.py: COUNTY_AS_WRITTEN): the funeral home's certificate sent
from the Web UI names the county as people write it, its city first (包头市固阳县); a case started on today's
code takes it, while a county elsewhere is still refused by name. Cases recorded before the change replay with
1.0's exact rule (tests/test_replay.py)."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.worker import Worker

from domain.enums import MatterState, PensionStatus
from runtime.keys import Keys
from tests.histories import patch_ids
from tests.workflows.helpers import HUKOU, application_with, matter_state, start, status, wait_for
from workflows.versions import COUNTY_AS_WRITTEN

CERTIFICATE = {"certificate_no": "HH-2026-0007", "funeral_home": "固阳县殡仪馆", "cremated_on": "2026-11-20"}


async def test_the_county_written_after_its_city_is_the_county(
    client: Client, keys: Keys, task_queue: str, worker: Worker
) -> None:
    handle = await start(client, keys, task_queue, application_with(PensionStatus.NONE))
    await handle.signal("cremation_certified", {**CERTIFICATE, "county": "包头市昆都仑区"})
    refused = await wait_for(handle, lambda s: s.refused_total == 1)
    assert refused.cremation is None and "火化地须为固阳县" in refused.refused_actions[-1].reason

    await handle.signal("cremation_certified", {**CERTIFICATE, "county": "包头市固阳县"})
    taken = await wait_for(handle, lambda s: s.cremation is not None)
    assert taken.cremation is not None and taken.cremation.certificate_no == "HH-2026-0007"
    assert taken.refused_total == 1
    await wait_for(handle, lambda s: matter_state(s, HUKOU) == MatterState.UNDER_REVIEW)

    history = await handle.fetch_history()
    assert patch_ids(history) == {COUNTY_AS_WRITTEN}, "a case started on today's code carries the change's marker"
    assert (await status(handle)).cremation is not None
