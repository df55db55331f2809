"""The floor the benchmark measures the worker against issues the commands a real case issues, event for event.

A floor that does less than a real case (a local activity fewer, a timer missing) makes the worker look
dearer than it is; one that does more hides the worker's own cost. Each shape the benchmark runs is driven
here as the benchmark drives it (bench.cases.one_case), once through the real worker and once through the
floor's workflows, and the commands each workflow recorded are compared.
"""

from __future__ import annotations

import concurrent.futures
import functools
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.worker import Worker

from bench.cases import SHAPES, Run, floor_case, one_case, real_case
from bench.floor import FloorActivities, FloorCase, FloorMatter
from domain.ids import matter_workflow_id
from runtime.keys import Keys
from tests.signing import PAYING_SYSTEM
from tests.workflows.timeskip import pinned_skipper
from worker import Dependencies, sandbox_runner

# Both sides start at this moment, whatever the day the suite runs (a Tuesday, 10:00 in the county).
START = datetime(2036, 3, 4, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))

# The events a workflow's own commands write (the rest: workflow tasks, signals received, children's progress).
COMMANDS = {
    EventType.EVENT_TYPE_MARKER_RECORDED,
    EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
    EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
    EventType.EVENT_TYPE_TIMER_STARTED,
    EventType.EVENT_TYPE_TIMER_CANCELED,
    EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
    EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
    EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
}


async def commands(client: Client, workflow_id: str) -> list[str]:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return [EventType.Name(event.event_type) for event in history.events if event.event_type in COMMANDS]


@pytest.mark.parametrize("shape", sorted(SHAPES))
async def test_the_floor_issues_the_commands_of_a_real_case(
    client: Client, worker: Worker, task_queue: str, deps: Dependencies, keys: Keys,
    executor: concurrent.futures.ThreadPoolExecutor, shape: int,
) -> None:
    pinned = pinned_skipper(client, START).client
    real = Run("full", shape, paying_system=PAYING_SYSTEM, ledger=deps.engine)
    await one_case(pinned, real, shape, functools.partial(real_case, pinned, shape, keys.case_id_key, task_queue))

    floor_queue = f"{task_queue}-floor"
    floor = Run("floor", shape)
    async with Worker(client, task_queue=floor_queue, workflows=[FloorCase, FloorMatter],
                      activities=[FloorActivities().noop], activity_executor=executor,
                      workflow_runner=sandbox_runner()):
        await one_case(pinned, floor, shape, functools.partial(floor_case, pinned, shape, b"", floor_queue))

    (real_number,), (floor_number,) = real.case_numbers, floor.case_numbers
    real_commands = await commands(client, real_number)
    assert real_commands.count("EVENT_TYPE_MARKER_RECORDED") >= 3  # what is compared is there to compare
    assert await commands(client, floor_number) == real_commands
    for code in SHAPES[shape][1]:
        real_matter = await commands(client, matter_workflow_id(real_number, code))
        assert await commands(client, matter_workflow_id(floor_number, code)) == real_matter, code.value
