"""The worker dies while an officer's command waits for its answer: the officer is told to check with
``shenhou case status``, not shown an internal error.

The worker is a real ``python -m worker`` process. It is frozen (SIGSTOP) before the command is sent, so the
update is certainly in flight at the server when the worker is then killed (SIGKILL); the command runs
in-process through Typer, as the CLI tests run it.
"""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

from temporalio.client import Client, WorkflowHandle

from domain.enums import MatterState, PensionStatus
from runtime.keys import Keys
from tests.faults.test_worker_kill import spawn_worker
from tests.starter.test_cli import _restore_logging, cli_env, shenhou
from tests.workflows.helpers import HUKOU, application_for, start, view_of, wait_for

__all__ = ["_restore_logging", "cli_env", "spawn_worker"]

# starter/errors.py NO_WORKER_MESSAGE, spelt out: the officer's words are what this test pins.
NO_WORKER = "工作进程无响应，操作可能已送达也可能未生效：请确认worker正在运行，再用 shenhou case status 核实"
CLI_TIMEOUT = "10"


async def pending_workflow_task(handle: WorkflowHandle[Any, Any]) -> bool:
    description = await handle.describe()
    return description.raw_description.HasField("pending_workflow_task")


async def until(condition: Any, timeout: float = 15) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await condition():
        assert loop.time() < deadline, "condition not reached"
        await asyncio.sleep(0.05)


async def test_worker_killed_while_a_withdrawal_waits_tells_the_clerk_to_check_case_status(
    cli_env: dict[str, str], client: Client, keys: Keys, task_queue: str, spawn_worker: Any
) -> None:
    worker = spawn_worker()
    await asyncio.to_thread(worker.wait_started)
    handle = await start(client, keys, task_queue, application_for(PensionStatus.ENTERPRISE_RETIREE))
    await wait_for(handle, lambda s: view_of(s, HUKOU).state == MatterState.UNDER_REVIEW)

    async def idle() -> bool:
        return not await pending_workflow_task(handle)

    await until(idle)  # the case waits for 户口注销: nothing for the worker to do until the command
    os.kill(worker.proc.pid, signal.SIGSTOP)
    withdrawal = asyncio.create_task(shenhou(
        "--timeout", CLI_TIMEOUT, "case", "withdraw", handle.id, "--clerk", "窗口李", "--reason", "家属撤回"))
    # The update has reached the server: it gave the case a workflow task that the frozen worker holds.
    await until(lambda: pending_workflow_task(handle))
    assert not withdrawal.done()
    worker.kill()

    result = await withdrawal
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == NO_WORKER
    assert result.stdout == "" and "Traceback" not in result.output and "系统内部错误" not in result.output

    # What the message says to do works once a worker runs again.
    again = spawn_worker()
    await asyncio.to_thread(again.wait_started)
    checked = await shenhou("--timeout", CLI_TIMEOUT, "case", "status", handle.id)
    assert checked.exit_code == 0, checked.output
    assert handle.id in checked.stdout
