"""A worker killed with SIGKILL in the middle of the parallel phase loses nothing and pays nothing twice.

The worker runs as a real subprocess (`python -m worker`, configured only through SHENHOU_* variables)
against the session dev server, so the kill is a real process death: no graceful shutdown, activities
cut off mid-flight, cached workflows gone. A second worker process picks everything up.

Recovery time is bounded by the activity start-to-close timeout (30 s, no heartbeat): an activity the
dead worker had started is only retried once that timeout expires.
"""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from domain.enums import CaseState, MatterState, PensionStatus
from domain.models import MatterView
from register.tables import PaymentRow
from runtime.keys import Keys
from tests.signing import signing_env
from tests.workflows.helpers import (
    HUKOU,
    amount_for,
    application_for,
    approve,
    confirm_payment,
    failed_workflow_tasks,
    family_messages,
    ledger_amounts,
    matter_handle,
    outbox_rows,
    payment_rows,
    start,
    status,
    to_parallel_phase,
)

ROOT = Path(__file__).resolve().parents[2]
CASES = 3


class WorkerProcess:
    """`python -m worker` as a child process, logging to a file; killed for sure in teardown."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "worker"], cwd=ROOT, env=env,
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def wait_started(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if b"worker_started" in self.log_path.read_bytes():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"worker did not start (rc={self.proc.poll()}):\n{self.log_path.read_text()[-3000:]}")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._log.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()


@pytest.fixture
def spawn_worker(
    env: WorkflowEnvironment, keys: Keys, task_queue: str, tmp_path: Path
) -> Iterator[Any]:
    """Starts worker subprocesses wired to the session server, this test's queue and a register file."""
    register = tmp_path / "register.db"
    settings = {
        "SHENHOU_TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
        "SHENHOU_NAMESPACE": env.client.namespace,
        "SHENHOU_TASK_QUEUE": task_queue,
        "SHENHOU_DATABASE_URL": f"sqlite:///{register}",
        "SHENHOU_DATA_DIR": str(tmp_path / "data"),
        "SHENHOU_CASE_ID_KEY": base64.b64encode(keys.case_id_key).decode(),
        "SHENHOU_CODEC_KEYS": ",".join(
            f"{key_id}:{base64.b64encode(key).decode()}" for key_id, key in keys.codec_keys.items()
        ),
        "SHENHOU_CODEC_ACTIVE_KEY_ID": keys.active_key_id,
        "SHENHOU_LOG_JSON": "true",
        **signing_env(),
    }
    base = {k: v for k, v in os.environ.items()
            if not k.startswith("SHENHOU_") and not k.lower().endswith("_proxy")}
    started: list[WorkerProcess] = []

    def spawn() -> WorkerProcess:
        worker = WorkerProcess({**base, **settings}, tmp_path / f"worker-{len(started) + 1}.log")
        started.append(worker)
        return worker

    try:
        yield spawn
    finally:
        for worker in started:
            if worker.proc.poll() is None:
                worker.proc.kill()
            worker.proc.wait(timeout=10)


def payments_count(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(PaymentRow)).one())


async def test_sigkill_in_the_parallel_phase_loses_nothing_and_pays_once(
    client: Client, keys: Keys, task_queue: str, engine: Engine, spawn_worker: Any
) -> None:
    first = spawn_worker()
    await asyncio.to_thread(first.wait_started)
    handles = [
        await start(client, keys, task_queue, application_for(PensionStatus.ENTERPRISE_RETIREE))
        for _ in range(CASES)
    ]
    snaps = await asyncio.gather(*(to_parallel_phase(client, handle) for handle in handles))

    # Per case: half of the parallel matters now (money ones first), the rest after the restart.
    first_batch: dict[str, list[MatterView]] = {}
    second_batch: dict[str, list[MatterView]] = {}
    for handle, snap in zip(handles, snaps, strict=True):
        views = sorted((v for v in snap.matters if v.code != HUKOU), key=lambda v: (not v.pays_family, v.code))
        first_batch[handle.id] = views[:3]
        second_batch[handle.id] = views[3:]
        assert any(v.pays_family for v in views[:3]) and any(v.pays_family for v in views[3:])

    expected: dict[str, dict[str, Decimal]] = {handle.id: {} for handle in handles}
    for case_number, views in first_batch.items():
        for view in views:
            amount = await approve(client, case_number, view, confirm=False)
            if amount is not None:
                expected[case_number][view.code.value] = amount
    # Kill as soon as the first payment lands: the other payments and their bookkeeping are in flight.
    deadline = time.monotonic() + 20
    while payments_count(engine) == 0 and time.monotonic() < deadline:
        await asyncio.sleep(0.005)
    first.kill()
    paid_at_kill = payments_count(engine)
    assert paid_at_kill >= 1, "no payment reached the ledger before the kill"

    second = spawn_worker()
    await asyncio.to_thread(second.wait_started)
    # The bank confirms the transfers instructed around the kill, once each.
    for case_number, views in first_batch.items():
        for view in views:
            if view.pays_family:
                await confirm_payment(client, case_number, view.code)
    for case_number, views in second_batch.items():
        for view in views:
            amount = await approve(client, case_number, view)
            if amount is not None:
                expected[case_number][view.code.value] = amount

    results = await asyncio.wait_for(asyncio.gather(*(handle.result() for handle in handles)), timeout=55)

    for handle, result in zip(handles, results, strict=True):
        case_number = handle.id
        assert result.state == CaseState.COMPLETED, case_number
        snap = await status(handle)
        assert snap.case_state == CaseState.COMPLETED
        for view in snap.matters:
            want = MatterState.PAID if view.pays_family else MatterState.APPROVED
            assert view.state == want and view.final, (case_number, view.code, view.state)

        # The ledger: exactly one row per paid matter, with the amount the officer approved.
        rows = payment_rows(engine, case_number)
        assert sorted(row.matter for row in rows) == sorted(expected[case_number]), case_number
        assert ledger_amounts(engine, case_number) == expected[case_number]
        assert all(amount_for(v.code) == v.amount for v in snap.matters if v.pays_family)

        # The family hears each thing once.
        family = family_messages(engine, case_number)
        duplicates = [key for key, n in Counter(family).items() if n > 1]
        assert not duplicates, (case_number, duplicates)
        kinds = Counter(kind for kind, _ in family)
        assert kinds["case_received"] == 1 and kinds["case_completed"] == 1, kinds
        assert kinds["money_sent"] == len(expected[case_number]), kinds
        keys_seen = Counter(row.key for row in outbox_rows(engine, case_number))
        assert max(keys_seen.values()) == 1

        # A killed worker shows up as timed-out tasks at most, never as a failed workflow task.
        assert await failed_workflow_tasks(handle) == 0, case_number
        for view in snap.matters:
            assert await failed_workflow_tasks(matter_handle(client, case_number, view.code)) == 0, view.code
    second.stop()
