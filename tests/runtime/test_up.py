"""`python -m runtime.up` (scripts/run) with a part that cannot start for its configuration: it is not
started again every 2 seconds; everything stops and the operator is told which part and why."""

from __future__ import annotations

import asyncio
import os
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
        "SHENHOU_HOLIDAY_FILE": str(holidays),
    }
    environ = {name: value for name, value in os.environ.items() if not name.startswith("SHENHOU_")}
    up = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "runtime.up"], cwd=ROOT, env=environ | settings,
        capture_output=True, text=True, timeout=180, check=False,
    )
    assert up.returncode == 3, up.stderr[-3000:]
    told = up.stderr.strip().splitlines()
    # The worker and the portal both read the holiday file: whichever exits first stops the rest.
    stopped = told[-1]
    assert stopped.endswith("因配置有误未能启动（原因见上），已停止全部服务；改正配置后重新运行 scripts/run"), stopped
    assert set(stopped.split("因")[0].split("、")) <= {"worker", "portal"}
    assert str(holidays) in up.stderr
    # Nothing was started again.
    assert "service_exited" not in up.stderr and "Traceback" not in up.stderr
    assert sum(line.startswith("worker未启动，节假日覆盖文件有误") for line in told) <= 1
