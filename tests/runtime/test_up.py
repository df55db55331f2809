"""`python -m runtime.up` (scripts/run) with a part that cannot start for its configuration: it is not
started again every 2 seconds; everything stops and the operator is told which part and why."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_misconfigured_worker_stops_the_stack_instead_of_restarting(
    env: WorkflowEnvironment, tmp_path: Path, task_queue: str
) -> None:
    holidays = tmp_path / "holidays.yaml"
    holidays.write_text("2027:\n  holidays: [2027-02-30]\n", encoding="utf-8")
    settings = {
        # The session's dev server is already listening there, so `up` starts none of its own.
        "SHENHOU_TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
        "SHENHOU_TASK_QUEUE": task_queue,
        "SHENHOU_DATA_DIR": str(tmp_path / "data"),
        "SHENHOU_CODEC_SERVER_PORT": str(_free_port()),
        "SHENHOU_PORTAL_PORT": str(_free_port()),
        # Not the default 8092: a `scripts/run` on the same machine holds that one.
        "SHENHOU_STAND_IN_IDP_PORT": str(_free_port()),
        "SHENHOU_HOLIDAY_FILE": str(holidays),
    }
    environ = {name: value for name, value in os.environ.items() if not name.startswith("SHENHOU_")}
    up = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "runtime.up"], cwd=ROOT, env=environ | settings,
        capture_output=True, text=True, timeout=180, check=False,
    )
    assert up.returncode == 3, up.stderr[-3000:]
    told = up.stderr.strip().splitlines()
    # The worker, the portal and the dispatcher (its lapse reminders count working days) all read the holiday
    # file: whichever exits first stops the rest.
    stopped = told[-1]
    assert stopped.endswith("因配置有误未能启动（原因见上），已停止全部服务；改正配置后重新运行 scripts/run"), stopped
    assert set(stopped.split("因")[0].split("、")) <= {"worker", "portal", "dispatcher"}
    assert str(holidays) in up.stderr
    # Nothing was started again.
    assert "service_exited" not in up.stderr and "Traceback" not in up.stderr
    assert sum(line.startswith("worker未启动，节假日覆盖文件有误") for line in told) <= 1


async def test_up_says_ready_once_everything_answers(env: WorkflowEnvironment, tmp_path: Path, task_queue: str) -> None:
    settings = {
        "SHENHOU_TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
        "SHENHOU_TASK_QUEUE": task_queue,
        "SHENHOU_DATA_DIR": str(tmp_path / "data"),
        "SHENHOU_CODEC_SERVER_PORT": str(_free_port()),
        "SHENHOU_PORTAL_PORT": str(_free_port()),
        "SHENHOU_STAND_IN_IDP_PORT": str(_free_port()),
    }
    environ = {name: value for name, value in os.environ.items() if not name.startswith("SHENHOU_")}
    up = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "runtime.up", cwd=ROOT, env=environ | settings,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    assert up.stdout is not None
    lines: list[str] = []
    try:
        while not lines or not lines[-1].startswith("ready:"):
            line = (await asyncio.wait_for(up.stdout.readline(), timeout=120)).decode()
            assert line, f"runtime.up ended before it was ready: {lines}"
            lines.append(line.rstrip())
    finally:
        up.send_signal(signal.SIGINT)
        await asyncio.wait_for(up.wait(), timeout=60)
    # The first line says it is starting; the addresses come with the ready line, after everything answers.
    assert lines[0].startswith("starting:")
    assert any(f"families' portal: http://127.0.0.1:{settings['SHENHOU_PORTAL_PORT']}" in line for line in lines)
