"""Logs are JSON off a terminal, carry the case number and matter on every workflow and activity line,
and a workflow's line is written once even when a new worker replays its history."""

from __future__ import annotations

import concurrent.futures
import io
import json
import logging
from collections.abc import Iterator

import pytest
from temporalio.client import Client

from domain.enums import MatterCode, MatterState
from runtime.keys import Keys
from runtime.logging import configure_logging
from tests.workflows.helpers import approve_hukou, certify, matter_handle, matter_state, start, wait_for
from worker import Dependencies, build_worker


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    configure_logging("INFO", json=True, stream=stream)
    yield stream
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)


async def test_lines_are_json_with_case_and_matter_and_not_repeated_on_replay(
    client: Client, keys: Keys, task_queue: str, deps: Dependencies,
    executor: concurrent.futures.ThreadPoolExecutor, log_stream: io.StringIO,
) -> None:
    code = MatterCode.SOCIAL_ASSISTANCE_TERMINATION
    async with build_worker(client, task_queue, deps, executor):
        handle = await start(client, keys, task_queue)
        await certify(handle)
        await approve_hukou(client, handle)
        await wait_for(handle, lambda s: matter_state(s, code) == MatterState.UNDER_REVIEW)
        matter = matter_handle(client, handle.id, code)
        for _ in range(3):
            await matter.signal("approve", {"officer": "李科员", "amount": "1.00"})
        await wait_for(handle, lambda s: sum(len(m.refused_actions) for m in s.matters) >= 3)
    # A fresh worker has nothing cached: it replays every history, refusals included, before going on.
    async with build_worker(client, task_queue, deps, executor):
        await matter.signal("approve", {"officer": "李科员"})
        await wait_for(handle, lambda s: matter_state(s, code) == MatterState.APPROVED)

    lines = [json.loads(line) for line in log_stream.getvalue().splitlines() if line.strip()]
    assert lines, "the worker logged nothing"
    refused = [line for line in lines if "refused action" in line["event"] and line.get("matter") == code.value]
    assert len(refused) == 3, refused
    assert all(line["case_number"] == handle.id for line in refused)
    pushed = [line for line in lines if line["event"] == "matter_pushed" and line.get("case_number") == handle.id]
    assert {line.get("matter") for line in pushed} >= {MatterCode.HUKOU_CANCELLATION.value, code.value}
    sdk_lines = [line for line in lines if line.get("logger", "").startswith("temporalio")]
    assert all("timestamp" in line and "level" in line for line in sdk_lines)
