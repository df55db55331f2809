"""The rehearsal of a change shipped after 1.0 (workflows/versions.py): a case under way when the workers are
replaced by tomorrow's code finishes with 1.0's behaviour, without a failed workflow task, while a case started
after takes the new one; the same change without its patch would break the case under way."""

from __future__ import annotations

import concurrent.futures
from datetime import timedelta
from typing import Any

from temporalio.client import Client, WorkflowHandle, WorkflowHistory
from temporalio.worker import Replayer, Worker

from domain.enums import CaseState, MatterCode
from runtime.codec import EncryptionCodec, data_converter
from runtime.keys import Keys
from tests.histories import patch_ids
from tests.workflows.helpers import (
    HUKOU,
    complete_parallel,
    failed_workflow_tasks,
    matter_handle,
    start,
    status,
    to_parallel_phase,
)
from tests.workflows.rehearsal import REHEARSAL, TOLD, RehearsedMatter, UnguardedMatter
from worker import Dependencies, activities_for, build_worker, sandbox_runner
from workflows.case import CaseWorkflow


async def _histories(client: Client, case: WorkflowHandle[Any, Any]) -> dict[str, WorkflowHistory]:
    codes = [view.code for view in (await status(case)).matters]
    handles = [case, *(matter_handle(client, case.id, code) for code in codes)]
    return {handle.id: await handle.fetch_history() for handle in handles}


async def _timelines(client: Client, case: WorkflowHandle[Any, Any]) -> dict[MatterCode, list[str]]:
    codes = [view.code for view in (await status(case)).matters]
    return {code: [entry.event for entry in (await status(matter_handle(client, case.id, code))).timeline]
            for code in codes}


async def test_a_case_under_way_keeps_the_old_behaviour_while_new_cases_take_the_patched_change(
    client: Client, keys: Keys, task_queue: str, deps: Dependencies, executor: concurrent.futures.ThreadPoolExecutor,
    codec: EncryptionCodec,
) -> None:
    # Today's workers take a case to the parallel phase. (Its workflows' next tasks go to the shared queue a
    # second after these workers stop, not after the default ten.)
    async with build_worker(client, task_queue, deps, executor,
                            sticky_queue_schedule_to_start_timeout=timedelta(seconds=1)):
        old = await start(client, keys, task_queue)
        await to_parallel_phase(client, old)
    # Tomorrow's workers replace them: the same workflow names, the matter's code changed behind the patch.
    async with Worker(client, task_queue=task_queue, workflows=[CaseWorkflow, RehearsedMatter],
                      activities=activities_for(deps, client), activity_executor=executor,
                      workflow_runner=sandbox_runner()):
        assert (await complete_parallel(client, old)).state == CaseState.COMPLETED
        old_timelines = await _timelines(client, old)
        new = await start(client, keys, task_queue)
        await to_parallel_phase(client, new)
        assert (await complete_parallel(client, new)).state == CaseState.COMPLETED
        new_timelines = await _timelines(client, new)
        old_histories = await _histories(client, old)
        new_histories = await _histories(client, new)

    # The case under way: 1.0's behaviour to the end, no marker, no failed workflow task.
    assert all(TOLD not in events for events in old_timelines.values()), old_timelines
    for workflow_id, history in old_histories.items():
        assert REHEARSAL not in patch_ids(history), workflow_id
        assert await failed_workflow_tasks(client.get_workflow_handle(workflow_id)) == 0, workflow_id
    # The case started after: every matter took the change and carries its marker (the case has none).
    assert all(TOLD in events for events in new_timelines.values()), new_timelines
    for workflow_id, history in new_histories.items():
        assert (REHEARSAL in patch_ids(history)) == ("." in workflow_id), workflow_id

    # Both replay on tomorrow's code; the change without its patch cannot replay a matter that was under way.
    converter = data_converter(codec)
    guarded = Replayer(workflows=[CaseWorkflow, RehearsedMatter], data_converter=converter,
                       workflow_runner=sandbox_runner())
    for history in [*old_histories.values(), *new_histories.values()]:
        assert (await guarded.replay_workflow(history, raise_on_replay_failure=False)).replay_failure is None
    unguarded = Replayer(workflows=[CaseWorkflow, UnguardedMatter], data_converter=converter,
                         workflow_runner=sandbox_runner())
    for workflow_id, history in old_histories.items():
        if "." in workflow_id and not workflow_id.endswith(HUKOU.value):
            failure = (await unguarded.replay_workflow(history, raise_on_replay_failure=False)).replay_failure
            assert failure is not None and "nondeterminism" in str(failure).lower(), workflow_id
