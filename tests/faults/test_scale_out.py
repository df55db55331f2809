"""Scale-out rehearsal: three workers on one task queue, the register on PostgreSQL, faults under load.

A province's shape in miniature. Three real worker processes (`python -m worker`) share one task queue, a
dev server of this test's own (the embedded default: a SQLite file, restarted on that file once), a
PostgreSQL cluster of this test's own for the register, and a notification dispatcher
(`python -m notify.dispatcher`, the stand-in gateway file). Cases arrive in waves; officers decide and
the paying system confirms through the client-side operations the CLI uses (``client.operations``), the
moment a matter is ready, while, one wave after another:

1. a worker is killed with SIGKILL as soon as the first payment reaches the ledger;
2. another worker is stopped and started again (a rolling restart);
3. the dev server is stopped and started again on its file (workers that exit meanwhile are started
   again, as compose's restart policy does);
4. PostgreSQL is stopped for a few seconds and started again: the register is unreachable.

Then every case must be complete with exactly one ledger row per paid matter (its approved amount,
confirmed), one department item per matter (closed), each message in the outbox once and delivered once,
nothing left running or half-done, and no workflow task failed anywhere. The counts are printed.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select
from temporalio.client import Client, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError

from client import operations
from domain.enums import CaseState, DecisionKind, MatterState, PensionStatus
from domain.models import ApproveInput, CremationCertifiedInput, DecisionCommand, MatterView, PaymentConfirmedInput
from register.engine import create_schema, make_engine
from register.tables import InboxRow, OutboxRow, PaymentRow
from runtime.codec import EncryptionCodec
from runtime.keys import Keys
from tests.faults.test_server_restart import DevServer, connect
from tests.faults.test_worker_kill import WorkerProcess
from tests.postgres import Cluster, PostgresServer, new_cluster
from tests.signing import PAYING_SYSTEM, signing_env
from tests.workflows.helpers import HUKOU, amount_for, application_for, case_handle, failed_workflow_tasks

WAVES = 5
PER_WAVE = 4
WORKERS = 3
CALL_TIMEOUT = 15.0
CASE_TIMEOUT = 240.0

T = TypeVar("T")


# --- the infrastructure ------------------------------------------------------------------------------------


@pytest.fixture
def own_postgres() -> Iterator[tuple[Cluster, PostgresServer]]:
    """A PostgreSQL cluster of this test's own: the test stops and starts it, which the session's shared
    cluster must not suffer."""
    cluster = new_cluster()
    try:
        server = cluster.start()
        with server.connect() as conn:
            conn.execute("CREATE DATABASE rehearsal")
        yield cluster, server
    finally:
        cluster.stop()


class Fleet:
    """The worker processes of one task queue, started again when they exit unless told otherwise (as a
    container's restart policy does)."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.env = env
        self.folder = folder
        self.slots: list[WorkerProcess | None] = [None] * WORKERS
        self.held: set[int] = set()
        self.started = 0

    def spawn(self, slot: int) -> WorkerProcess:
        self.started += 1
        worker = WorkerProcess(self.env, self.folder / f"worker-{slot}-{self.started}.log")
        self.slots[slot] = worker
        return worker

    async def start_all(self) -> None:
        workers = [self.spawn(slot) for slot in range(WORKERS)]
        await asyncio.gather(*(asyncio.to_thread(worker.wait_started, 60) for worker in workers))

    async def keep(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            for slot, worker in enumerate(self.slots):
                if slot not in self.held and (worker is None or worker.proc.poll() is not None):
                    self.spawn(slot)
            await asyncio.sleep(0.5)

    def kill_all(self) -> None:
        for worker in self.slots:
            if worker is not None and worker.proc.poll() is None:
                worker.proc.kill()
                worker.proc.wait(timeout=10)


# --- officers and the paying system, through the client-side operations ----------------------------------


async def patiently(call: Callable[[], Awaitable[T]], what: str) -> T | None:
    """One client call, tried again while the server, a worker or the register is away. A refusal is
    returned as None: the caller reads the state again (the call may have arrived before its answer was
    lost)."""
    deadline = time.monotonic() + CASE_TIMEOUT
    while True:
        try:
            return await asyncio.wait_for(call(), CALL_TIMEOUT)
        except operations.OperationRefused:
            return None
        except (RPCError, TimeoutError, ConnectionError, WorkflowUpdateRPCTimeoutOrCancelledError) as err:
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: still failing after {CASE_TIMEOUT:.0f} s: {err!r}") from err
            await asyncio.sleep(0.5)


def approval(view: MatterView) -> DecisionCommand:
    if view.code == HUKOU:
        return DecisionCommand(kind=DecisionKind.APPROVE,
                               approve=ApproveInput(officer="王警官", certificate_no="ZX-REHEARSAL"))
    amount = amount_for(view.code) if view.pays_family else None
    return DecisionCommand(kind=DecisionKind.APPROVE, approve=ApproveInput(officer="李科员", amount=amount))


async def confirm(client: Client, case_number: str, view: MatterView, reference: str) -> object:
    """The paying system's report, signed with its key, as the CLI's `matter confirm-payment` sends it."""
    report = PaymentConfirmedInput(reference=reference, by="工商银行代发系统")
    return await operations.report_payment(client, case_number, view.code, report, PAYING_SYSTEM)


async def see_through(client: Client, case_number: str, approved: dict[str, Decimal]) -> None:
    """Certify, then decide each matter the moment it is under review and confirm each payment the moment
    it is instructed, until the case is complete."""
    certificate = CremationCertifiedInput(certificate_no="HH-REHEARSAL", funeral_home="固阳县殡仪馆",
                                          cremated_on=date(2026, 11, 20))
    await patiently(lambda: operations.certify_cremation(client, case_number, certificate, "rehearsal",
                                                         must_exist=True),
                    f"{case_number} certify")
    deadline = time.monotonic() + CASE_TIMEOUT
    while time.monotonic() < deadline:
        snap = await patiently(lambda: operations.case_status(client, case_number), f"{case_number} status")
        if snap is not None and snap.case_state == CaseState.COMPLETED:
            return
        for view in snap.matters if snap is not None else ():
            if view.state == MatterState.UNDER_REVIEW:
                command = approval(view)
                if command.approve is not None and command.approve.amount is not None:
                    approved[view.code.value] = Decimal(str(command.approve.amount))
                await patiently(lambda view=view, command=command: operations.decide(  # type: ignore[misc]
                    client, case_number, view.code, command), f"{case_number} approve")
            elif view.state == MatterState.PAYING and view.payment_reference is not None:
                reference = view.payment_reference
                await patiently(lambda view=view, reference=reference: confirm(  # type: ignore[misc]
                    client, case_number, view, reference), f"{case_number} confirm")
        await asyncio.sleep(0.3)
    raise AssertionError(f"{case_number} did not complete within {CASE_TIMEOUT:.0f} s")


# --- the register's view --------------------------------------------------------------------------------


def count(engine: Engine, table: type[Any], *where: Any) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(table).where(*where)).one())


def rows(engine: Engine, table: type[T], case_number: str) -> list[T]:
    with Session(engine) as session:
        return list(session.exec(select(table).where(table.case_number == case_number)).all())  # type: ignore[attr-defined]


async def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout:.0f} s: {what}")
        await asyncio.sleep(0.2)


# --- the rehearsal ----------------------------------------------------------------------------------------


@pytest.mark.timeout(600)
async def test_three_workers_under_faults_pay_and_tell_everything_once(
    tmp_path: Path, keys: Keys, codec: EncryptionCodec, own_postgres: tuple[Cluster, PostgresServer],
) -> None:
    began = time.monotonic()
    cluster, pg = own_postgres
    register_url = pg.url("rehearsal")
    engine = make_engine(register_url)
    create_schema(engine)  # as the first worker would; done here so the dispatcher's first rounds succeed
    server = DevServer(tmp_path)
    outbox_file = tmp_path / "sms-outbox.jsonl"
    settings = {
        "SHENHOU_TEMPORAL_ADDRESS": server.address,
        "SHENHOU_NAMESPACE": "default",
        "SHENHOU_TASK_QUEUE": "rehearsal",
        "SHENHOU_DATABASE_URL": register_url,
        "SHENHOU_DATA_DIR": str(tmp_path / "data"),
        "SHENHOU_CASE_ID_KEY": base64.b64encode(keys.case_id_key).decode(),
        "SHENHOU_CODEC_KEYS": ",".join(
            f"{key_id}:{base64.b64encode(key).decode()}" for key_id, key in keys.codec_keys.items()),
        "SHENHOU_CODEC_ACTIVE_KEY_ID": keys.active_key_id,
        "SHENHOU_SMS_OUTBOX_FILE": str(outbox_file),
        "SHENHOU_DISPATCHER_POLL_SECONDS": "0.5",
        # A message claimed just before the register went away is sent again when its lease ends (the
        # stand-in gateway keeps one line per key): a short lease keeps that wait short.
        "SHENHOU_DISPATCHER_LEASE_SECONDS": "10",
        "SHENHOU_LOG_JSON": "true",
        **signing_env(),
    }
    base = {k: v for k, v in os.environ.items()
            if not k.startswith("SHENHOU_") and not k.lower().endswith("_proxy")}
    env = {**base, **settings}
    fleet = Fleet(env, tmp_path)
    with (tmp_path / "dispatcher.log").open("ab") as log:
        dispatcher = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "notify.dispatcher", env=env, stdout=log, stderr=asyncio.subprocess.STDOUT)
    stopping = asyncio.Event()
    keeper: asyncio.Task[None] | None = None
    try:
        await asyncio.to_thread(server.start, 60)
        client = await connect(server.address, codec, timeout=60)
        await fleet.start_all()
        keeper = asyncio.create_task(fleet.keep(stopping))

        approved: dict[str, dict[str, Decimal]] = {}
        drivers: list[asyncio.Task[None]] = []
        under_load: list[str] = []

        def note(fault: str) -> None:
            open_cases = sum(not driver.done() for driver in drivers)
            under_load.append(f"{fault} with {open_cases} cases open")
            assert open_cases > 0, f"{fault}: no case was open"

        async def wave() -> None:
            for _ in range(PER_WAVE):
                app = application_for(PensionStatus.ENTERPRISE_RETIREE, social_assistance=False,
                                      preferential_care=False)
                started = await patiently(lambda app=app: operations.start_case(  # type: ignore[misc]
                    client, app, keys.case_id_key, "rehearsal", register=engine), "start")
                assert started is not None
                approved[started.case_number] = {}
                drivers.append(asyncio.create_task(see_through(client, started.case_number,
                                                               approved[started.case_number])))

        # 1. SIGKILL a worker as soon as money is moving.
        await wave()
        await wait_until(lambda: count(engine, PaymentRow) >= 1, 120, "a first payment")
        killed = fleet.slots[0]
        assert killed is not None
        fleet.held.add(0)
        note("SIGKILL")
        killed.kill()
        # 2. A rolling restart of another, while the killed one is still away.
        await wave()
        await asyncio.sleep(3)
        restarted = fleet.slots[1]
        assert restarted is not None
        fleet.held.add(1)
        note("worker restart")
        await asyncio.to_thread(restarted.stop)
        await asyncio.to_thread(fleet.spawn(1).wait_started, 60)
        fleet.held.clear()
        # 3. The dev server restarts on its file.
        await wave()
        await asyncio.sleep(1)
        note("server restart")
        await asyncio.to_thread(server.stop)
        await asyncio.sleep(1)
        await asyncio.to_thread(server.start, 60)
        # 4. The register is unreachable for a few seconds, while the last wave is still being decided.
        await wave()
        note("register down 5 s")
        await asyncio.to_thread(cluster.pause)
        await asyncio.sleep(5)
        await asyncio.to_thread(cluster.resume)
        await wave()

        await asyncio.gather(*drivers)
        load_done = time.monotonic()

        # --- everything once --------------------------------------------------------------------------
        cases = len(approved)
        for case_number, amounts in approved.items():
            result = await asyncio.wait_for(case_handle(client, case_number).result(), 60)
            assert result.state == CaseState.COMPLETED, case_number
            snap = await operations.case_status(client, case_number)
            assert snap.case_state == CaseState.COMPLETED, case_number
            for view in snap.matters:
                want = MatterState.PAID if view.pays_family else MatterState.APPROVED
                assert view.state == want and view.final, (case_number, view.code, view.state)
            # One ledger row per paid matter, with the approved amount, confirmed.
            ledger = rows(engine, PaymentRow, case_number)
            assert sorted(row.matter for row in ledger) == sorted(amounts), case_number
            assert {row.matter: Decimal(row.amount_fen) / 100 for row in ledger} == amounts, case_number
            assert all(row.status == "confirmed" and row.attempt == 1 for row in ledger), case_number
            # One department item per matter pushed, each closed with its outcome.
            inbox = rows(engine, InboxRow, case_number)
            assert sorted(row.matter for row in inbox) == sorted(view.code.value for view in snap.matters)
            assert all(row.status in ("approved", "paid") for row in inbox), case_number
            # Each message once.
            messages = rows(engine, OutboxRow, case_number)
            assert max(Counter(row.key for row in messages).values()) == 1
            family = Counter(row.kind for row in messages if row.recipient == "family")
            assert family["case_received"] == 1 and family["case_completed"] == 1, family
            assert family["money_sent"] == len(amounts), family

        # Nothing left in flight: no workflow running, no payment unconfirmed, no item open, and every
        # message delivered, once.
        running = await client.count_workflows("ExecutionStatus = 'Running'")
        assert running.count == 0
        assert count(engine, PaymentRow, PaymentRow.status != "confirmed") == 0
        assert count(engine, InboxRow, InboxRow.status == "open") == 0
        outbox = count(engine, OutboxRow)
        unsent = (OutboxRow.sent_at == None, OutboxRow.failed_at == None)  # noqa: E711
        await wait_until(lambda: count(engine, OutboxRow, *unsent) == 0, 90, "every message delivered")
        assert count(engine, OutboxRow, OutboxRow.failed_at != None) == 0  # noqa: E711
        delivered = [json.loads(line) for line in outbox_file.read_text(encoding="utf-8").splitlines()]
        assert len(delivered) == outbox
        assert max(Counter(line["idempotency_key"] for line in delivered).values()) == 1

        # No workflow task failed anywhere: a killed worker or an absent register shows as retries only.
        workflows = 0
        async for execution in client.list_workflows("ExecutionStatus = 'Completed'"):
            workflows += 1
            assert await failed_workflow_tasks(client.get_workflow_handle(execution.id)) == 0, execution.id
        payments = sum(len(amounts) for amounts in approved.values())
        matters = count(engine, InboxRow)
        print(f"\nscale-out rehearsal: {cases} cases, {matters} matters ({workflows} workflows), {payments} payments, "
              f"{count(engine, PaymentRow)} ledger rows, {outbox} messages in the outbox, {len(delivered)} sent; "
              f"{fleet.started} worker processes started for {WORKERS} slots; load {load_done - began:.0f} s, "
              f"whole test {time.monotonic() - began:.0f} s; "
              + "; ".join(under_load))
        assert workflows == cases + matters
        assert count(engine, PaymentRow) == payments
    finally:
        stopping.set()
        if keeper is not None:
            with contextlib.suppress(BaseException):
                await keeper
        fleet.kill_all()
        if dispatcher.returncode is None:
            dispatcher.kill()
        await dispatcher.wait()
        server.kill()
        engine.dispose()
