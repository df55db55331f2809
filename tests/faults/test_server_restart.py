"""The embedded Temporal server (runtime.devserver, a SQLite file) restarts under a running case.

Everything the case has done survives the restart in the SQLite file: after the server comes back on the
same file, a fresh client and worker finish the case and every payment is made exactly once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from domain.enums import CaseState, MatterState, PensionStatus
from domain.models import CaseResult
from runtime.codec import EncryptionCodec, data_converter
from runtime.devserver import command, env_without_proxy, port_open
from runtime.keys import Keys
from runtime.settings import Settings
from tests.workflows.helpers import (
    HUKOU,
    application_for,
    approve,
    approve_hukou,
    certify,
    ledger_amounts,
    payment_rows,
    start,
    status,
    view_of,
    wait_for,
)
from worker import Dependencies, build_worker


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class DevServer:
    """`temporal server start-dev` exactly as the embedded default runs it, on a file in tmp_path."""

    def __init__(self, data_dir: Path) -> None:
        self.port = free_port()
        self.settings = Settings(
            temporal_address=f"127.0.0.1:{self.port}", ui_port=free_port(), data_dir=data_dir, namespace="default",
        )
        self.address = self.settings.temporal_address
        self.log = data_dir / "temporal.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                command(self.settings, codec_endpoint=None), env=env_without_proxy(),
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while not port_open("127.0.0.1", self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"dev server did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.1)

    def stop(self, timeout: float = 20) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
            raise AssertionError("the dev server ignored SIGINT") from None

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[DevServer]:
    dev = DevServer(tmp_path)
    try:
        yield dev
    finally:
        dev.kill()


async def connect(address: str, codec: EncryptionCodec, timeout: float = 20) -> Client:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await Client.connect(address, namespace="default", data_converter=data_converter(codec))
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


async def test_a_case_survives_a_server_restart_and_pays_once(
    server: DevServer, codec: EncryptionCodec, keys: Keys, task_queue: str, deps: Dependencies,
    executor: concurrent.futures.ThreadPoolExecutor,
) -> None:
    await asyncio.to_thread(server.start)
    client = await connect(server.address, codec)
    worker = build_worker(client, task_queue, deps, executor)
    async with worker:
        handle = await start(client, keys, task_queue, application_for(PensionStatus.ENTERPRISE_RETIREE))
        case_number = handle.id
        await certify(handle)
        await approve_hukou(client, handle)
        snap = await wait_for(handle, lambda s: all(
            v.state == MatterState.UNDER_REVIEW for v in s.matters if v.code != HUKOU))
        paying = [v for v in snap.matters if v.pays_family and v.code != HUKOU]
        before, after = paying[:1], [v for v in snap.matters if v.code != HUKOU and v not in paying[:1]]
        for view in before:
            await approve(client, case_number, view)
        await wait_for(handle, lambda s: all(view_of(s, v.code).state == MatterState.PAID for v in before))
        # The server goes down under the running worker (SIGINT: its own clean stop).
        await asyncio.to_thread(server.stop)
    assert len(payment_rows(deps.engine, case_number)) == len(before)

    await asyncio.to_thread(server.start)
    client = await connect(server.address, codec)
    handle = client.get_workflow_handle(case_number, result_type=CaseResult)
    async with build_worker(client, task_queue, deps, executor):
        snap = await wait_for(handle, lambda s: s.case_state == CaseState.IN_PROGRESS)
        assert view_of(snap, HUKOU).state == MatterState.APPROVED
        assert all(view_of(snap, v.code).state == MatterState.PAID for v in before)
        expected: dict[str, Any] = {}
        for view in before:
            expected[view.code.value] = view_of(snap, view.code).amount
        for view in after:
            amount = await approve(client, case_number, view)
            if amount is not None:
                expected[view.code.value] = amount
        result = await asyncio.wait_for(handle.result(), timeout=30)
        assert result.state == CaseState.COMPLETED
        final = await status(handle)
    assert all(v.final for v in final.matters)
    rows = payment_rows(deps.engine, case_number)
    assert sorted(row.matter for row in rows) == sorted(expected)
    assert ledger_amounts(deps.engine, case_number) == expected
