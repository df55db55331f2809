"""Benchmark: whole cases through the real worker, side by side with the engine's floor for their shape.

    .venv/bin/python -m bench.cases [--quick] [--cases N] [--in-flight C] [--shapes 4,7] [--pairs 3]
    .venv/bin/python -m bench.cases --workers 3 [--register postgres] [--runs 2] [--shapes 4]
    .venv/bin/python -m bench.cases --parked 10000 [--overdue 1000] [--register postgres]

Each side runs from scratch: its own dev server started exactly as `scripts/run` starts it (SQLite file, WAL,
synchronous=full; an empty store, so one side's history never slows the next), its own register, and its own
worker processes: the real worker (`python -m worker`) or the floor's (`python -m bench.floor`: no-op workflows
of the same shape). For each shape (4 matters: 户口注销, 人社, 医保, 残联, two paying; 7: every department) it
runs N cases with C in flight, deciding like officers the moment a matter is under review (the driver follows
each matter's history as the server writes it) and confirming payments like the bank. The two sides alternate
over ``--pairs`` pairs (full first, then floor first, ...). The headline is CPU-seconds per case, of the worker
and of the server, steadier than cases/s on a shared machine; beside it cases/s, stage latency p50/p99 (a
decision sent → the matter's next state written), case latency p50, history events and bytes per case and
worker peak RSS. The summary gives each figure's median and range over the pairs, and the last lines are
machine-readable `RESULT shape=…` lines. Nothing is asserted.

`--workers N` runs the real worker alone with 1, 2, … N worker processes on one task queue (each count on a
fresh server, the order alternated over ``--runs``) and prints `RESULT workers=…` lines: cases/s, CPU per
case of the server, of each worker and (with ``--register postgres``) of PostgreSQL, and latency.
`--register postgres` puts the register on a throwaway PostgreSQL cluster (Debian's binaries, as the tests
start it; a fresh database per side).

`--parked N` instead opens N cases into the parallel phase and leaves them there (their matters under review),
moves `--overdue` 医保 matters past their deadline, and prints the worker's RSS and the p50/p95 of the
supervisor's overdue listing over them: from the register (on SQLite, and on a PostgreSQL copy of the same
rows when PostgreSQL is installed), from the engine, and as the command `shenhou overdue --json`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from temporalio.api.enums.v1 import EventType
from temporalio.api.workflowservice.v1 import ListWorkflowExecutionsRequest
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import TimeSkipper, TimeSkippingConfig

from bench import fixtures
from bench.floor import FloorCase
from bench.floor_models import FloorCaseInput
from client.operations import start_case
from client.supervision import list_overdue, list_overdue_in_register, overdue_query
from domain.enums import Issuer, MatterCode, MatterState
from domain.ids import matter_workflow_id
from domain.models import PaymentConfirmedInput
from domain.policy import Policy
from register.engine import create_schema, make_engine
from register.tables import MatterRow, PaymentRow
from runtime.keys import load_keys, signer
from runtime.settings import Settings
from runtime.signing import StatementSigner, sign_statement
from runtime.temporal import connect
from tests.postgres import find_bin_dir
from workflows import search_attributes as sa

M = MatterCode
SHAPES: dict[int, tuple[dict[str, Any], tuple[MatterCode, ...]]] = {
    4: ({"pension_status": "enterprise_retiree", "employee_medical_insurance": True, "housing_provident_fund": False,
         "disability_subsidy": True},
        (M.HUKOU_CANCELLATION, M.ENTERPRISE_RETIREE_DEATH_BENEFIT, M.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT,
         M.DISABILITY_SUBSIDY_TERMINATION)),
    7: ({"pension_status": "enterprise_retiree", "employee_medical_insurance": True, "social_assistance": True,
         "housing_provident_fund": True, "disability_subsidy": True, "preferential_care": True},
        (M.HUKOU_CANCELLATION, M.ENTERPRISE_RETIREE_DEATH_BENEFIT, M.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT,
         M.SOCIAL_ASSISTANCE_TERMINATION, M.PROVIDENT_FUND_DEATH_WITHDRAWAL, M.DISABILITY_SUBSIDY_TERMINATION,
         M.PREFERENTIAL_BENEFIT_TERMINATION)),
}
PAYS = {matter.code for matter in Policy().matters if matter.pays_family}
REVIEW, PAYING = MatterState.UNDER_REVIEW.value, MatterState.PAYING.value
# The Web UI's page of workflows.
UI_PAGE = 100
CERTIFICATE = {"certificate_no": "HH-BENCH", "funeral_home": "固阳县殡仪馆", "cremated_on": "2026-11-25"}


# --- processes ---------------------------------------------------------------------------------------


@dataclass
class Process:
    """CPU time and peak memory of a running process, from /proc (Linux)."""

    pid: int

    def cpu_seconds(self, *, children: bool = False) -> float:
        """User and system CPU; with ``children``, also that of the children it has waited for."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])
        if children:
            ticks += int(fields[13]) + int(fields[14])
        return ticks / os.sysconf("SC_CLK_TCK")

    def peak_rss_mib(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0


async def spawn(*args: str, env: dict[str, str] | None = None) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(sys.executable, *args, env={**os.environ, **(env or {})},
                                                stdout=asyncio.subprocess.DEVNULL)


# --- following a matter ----------------------------------------------------------------------------------


async def states_of(client: Client, workflow_id: str) -> Any:
    """Each matter state the workflow writes (its search-attribute updates), with the time it was seen."""
    while True:
        try:
            handle = client.get_workflow_handle(workflow_id)
            async for event in handle.fetch_history_events(wait_new_event=True):
                if event.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
                    fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes
                    payload = fields.indexed_fields.get(sa.MATTER_STATE.name)
                    if payload is not None:
                        yield json.loads(payload.data), time.perf_counter()
                elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
                    return
            return
        except RPCError:
            await asyncio.sleep(0.05)  # not started yet


@dataclass
class Run:
    kind: str
    shape: int
    started: float = 0.0
    finished: float = 0.0
    stages: list[float] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)
    case_numbers: list[str] = field(default_factory=list)
    # The paying system's key (the real worker checks its reports; the floor's take anything).
    paying_system: StatementSigner | None = None
    # The payment ledger the paying system reads its instructions from (the floor has none).
    ledger: Engine | None = None


async def drive_matter(client: Client, case_number: str, code: MatterCode, run: Run, approve: dict[str, Any]) -> None:
    """Decide the moment the matter is under review; confirm the payment the moment it is instructed."""
    sent: float | None = None
    async for state, seen in states_of(client, matter_workflow_id(case_number, code)):
        if sent is not None:
            run.stages.append(seen - sent)
            sent = None
        handle = client.get_workflow_handle(matter_workflow_id(case_number, code))
        if state == REVIEW:
            sent = time.perf_counter()
            await handle.signal("approve", approve)
        elif state == PAYING:
            sent = time.perf_counter()
            await handle.signal("payment_confirmed", await confirmation(run, case_number, code))


async def confirmation(run: Run, case_number: str, code: MatterCode) -> Any:
    """The paying system's signed report on the payment the matter instructed, whose reference it reads from the
    payment ledger as a bank does (not from the workflow: a query is work for the worker that no paying system
    asks of it). The floor's reports carry anything."""
    if run.paying_system is None or run.ledger is None:
        return {"reference": "PAY-FLOOR", "by": "bench-bank"}
    reference = await asyncio.to_thread(instructed_reference, run.ledger, case_number, code)
    report = PaymentConfirmedInput(reference=reference or "", by="bench-bank")
    return sign_statement(run.paying_system, case_number, code, report).model_dump(mode="json", exclude_none=True)


def instructed_reference(ledger: Engine, case_number: str, code: MatterCode) -> str | None:
    """The reference of the matter's latest instruction in the ledger (written before the matter shows 发放中)."""
    p = PaymentRow.__table__.c  # type: ignore[attr-defined]
    query = (select(p.reference).where(p.case_number == case_number, p.matter == code.value)
             .order_by(p.attempt.desc()).limit(1))
    with ledger.connect() as connection:
        return connection.execute(query).scalar()


def approval(code: MatterCode) -> dict[str, Any]:
    if code == M.HUKOU_CANCELLATION:
        return {"officer": "王警官", "certificate_no": "ZX-BENCH"}
    if code in PAYS:
        return {"officer": "李科员", "amount": str(Decimal("1234.50"))}
    return {"officer": "李科员"}


async def real_case(client: Client, shape: int, case_id_key: bytes, task_queue: str, seed: int) -> Any:
    """A case of the shape applied for at the window, as the clerk starts it."""
    started = await start_case(client, fixtures.application(seed, **SHAPES[shape][0]), case_id_key, task_queue)
    return client.get_workflow_handle(started.case_number)


async def floor_case(client: Client, shape: int, case_id_key: bytes, task_queue: str, seed: int) -> Any:
    """The floor's case of the same shape (its number needs no key)."""
    codes = SHAPES[shape][1]
    number = f"FLOOR-{shape}-{seed:06d}"
    return await client.start_workflow(
        FloorCase.run, FloorCaseInput(case_number=number, matters=[c.value for c in codes],
                                      pays=[c in PAYS for c in codes]),
        id=number, task_queue=task_queue)


async def one_case(client: Client, run: Run, seed: int, start: Callable[[int], Any]) -> None:
    began = time.perf_counter()
    handle: WorkflowHandle[Any, Any] = await start(seed)
    run.case_numbers.append(handle.id)
    await handle.signal("cremation_certified", CERTIFICATE)
    codes = SHAPES[run.shape][1]
    await asyncio.gather(*(drive_matter(client, handle.id, code, run, approval(code)) for code in codes))
    await handle.result()
    run.durations.append(time.perf_counter() - began)


_seeds = iter(range(10**9))


async def drive(client: Client, run: Run, cases: int, in_flight: int, start: Callable[[int], Any]) -> None:
    gate = asyncio.Semaphore(in_flight)

    async def gated(seed: int) -> None:
        async with gate:
            await one_case(client, run, seed, start)

    run.started = time.perf_counter()
    await asyncio.gather(*(gated(next(_seeds)) for _ in range(cases)))
    run.finished = time.perf_counter()


async def history_size(client: Client, case_number: str, codes: Sequence[MatterCode]) -> tuple[int, int]:
    events = size = 0
    for workflow_id in (case_number, *(matter_workflow_id(case_number, code) for code in codes)):
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        events += len(history.events)
        size += sum(event.ByteSize() for event in history.events)
    return events, size


# --- one side, on a server of its own --------------------------------------------------------------------


@dataclass
class Figures:
    kind: str
    shape: int
    workers: int
    cps: float
    p50: float
    p99: float
    case_p50: float
    events: float
    size: float
    server_cpu: float
    worker_cpu: float  # all the side's workers together, per case
    worker_cpu_each: list[float]
    postgres_cpu: float | None
    worker_rss: float  # the largest worker's peak


@dataclass
class Postgres:
    """A throwaway PostgreSQL cluster for the register (Debian's binaries, as the tests start it); a fresh
    database for each side."""

    server: Any
    pid: int
    databases: int = 0

    def new_database(self) -> str:
        self.databases += 1
        name = f"bench_{self.databases}"
        with self.server.connect() as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return str(self.server.url(name))

    def cpu_seconds(self) -> float:
        """The postmaster, the children it has reaped, and its live children (the backends)."""
        total = Process(self.pid).cpu_seconds(children=True)
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.pid:
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total


@asynccontextmanager
async def postgres() -> AsyncIterator[Postgres]:
    from tests.postgres import new_cluster  # the tests' throwaway cluster (skips without PostgreSQL)

    cluster = new_cluster()
    try:
        server = cluster.start()
        pid = int((cluster.data / "postmaster.pid").read_text().split()[0])
        yield Postgres(server, pid)
    finally:
        cluster.stop()


def worker_env(config: Settings, database_url: str) -> dict[str, str]:
    return {"SHENHOU_TEMPORAL_ADDRESS": config.temporal_address, "SHENHOU_DATA_DIR": str(config.data_dir),
            "SHENHOU_TASK_QUEUE": config.task_queue, "SHENHOU_LOG_LEVEL": "WARNING",
            "SHENHOU_DATABASE_URL": database_url}


async def side(
    kind: str, shape: int, cases: int, in_flight: int, *, workers: int = 1, pg: Postgres | None = None,
) -> Figures:
    """One side of a comparison from scratch: a fresh dev server (its SQLite store empty), fresh workers, a
    fresh register; a few cases to warm up, then ``cases`` measured."""
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        async with fixtures.dev_server(data / "server") as (settings, server_pid):
            config = Settings(temporal_address=settings.temporal_address, data_dir=data / "worker",
                              task_queue=f"bench-{kind}", log_level="WARNING")
            config.data_dir.mkdir(parents=True)
            keys = load_keys(config)  # created now, read by the workers
            database_url = pg.new_database() if pg is not None else ""
            if kind == "full":
                env = worker_env(config, database_url)
                processes = [await spawn("-m", "worker", env=env) for _ in range(workers)]
            else:
                processes = [await spawn("-m", "bench.floor", "--address", config.temporal_address,
                                         "--task-queue", config.task_queue, "--data-dir", str(config.data_dir))
                             for _ in range(workers)]
            ledger = make_engine(database_url or config.register_url) if kind == "full" else None
            try:
                client = await connect(config, keys)
                starter = real_case if kind == "full" else floor_case
                start = functools.partial(starter, client, shape, keys.case_id_key, config.task_queue)
                paying = signer(keys, Issuer.PAYING_SYSTEM) if kind == "full" else None
                # A few cases first, so the workers have imported and compiled what they need.
                await drive(client, Run("warm", shape, paying_system=paying, ledger=ledger), 3 * workers,
                            3 * workers, start)
                return await measure(client, Run(kind, shape, paying_system=paying, ledger=ledger), cases,
                                     in_flight, start, Process(server_pid),
                                     [Process(process.pid) for process in processes], pg, workers)
            finally:
                if ledger is not None:
                    ledger.dispose()
                for process in processes:
                    process.terminate()
                    await process.wait()


async def measure(
    client: Client, run: Run, cases: int, in_flight: int, start: Callable[[int], Any], server: Process,
    workers: list[Process], pg: Postgres | None, count: int,
) -> Figures:
    server_cpu = server.cpu_seconds()
    worker_cpu = [worker.cpu_seconds() for worker in workers]
    pg_cpu = pg.cpu_seconds() if pg is not None else 0.0
    await drive(client, run, cases, in_flight, start)
    server_cpu = server.cpu_seconds() - server_cpu
    worker_cpu = [worker.cpu_seconds() - before for worker, before in zip(workers, worker_cpu, strict=True)]
    pg_cpu = pg.cpu_seconds() - pg_cpu if pg is not None else 0.0
    codes = SHAPES[run.shape][1]
    sizes = [await history_size(client, number, codes) for number in run.case_numbers]
    stages = sorted(run.stages)
    return Figures(
        kind=run.kind, shape=run.shape, workers=count,
        cps=cases / (run.finished - run.started),
        p50=statistics.median(stages),
        p99=stages[min(len(stages) - 1, int(len(stages) * 0.99))],
        case_p50=statistics.median(run.durations),
        events=statistics.mean(e for e, _ in sizes),
        size=statistics.mean(s for _, s in sizes),
        server_cpu=server_cpu / cases,
        worker_cpu=sum(worker_cpu) / cases,
        worker_cpu_each=[cpu / cases for cpu in worker_cpu],
        postgres_cpu=pg_cpu / cases if pg is not None else None,
        worker_rss=max(worker.peak_rss_mib() for worker in workers),
    )


def show(figures: Figures) -> None:
    each = "+".join(f"{cpu:.3f}" for cpu in figures.worker_cpu_each)
    pg = f" postgres {figures.postgres_cpu:5.3f} s" if figures.postgres_cpu is not None else ""
    print(f"  {figures.kind:5} shape={figures.shape} workers={figures.workers}: {figures.cps:5.2f} cases/s  "
          f"CPU per case: server {figures.server_cpu:5.3f} s, worker {figures.worker_cpu:5.3f} s ({each}){pg}  "
          f"stage p50 {figures.p50 * 1000:4.0f} ms p99 {figures.p99 * 1000:5.0f} ms, case p50 "
          f"{figures.case_p50:5.1f} s  {figures.events:4.0f} events {figures.size / 1024:5.1f} KiB/case  "
          f"worker peak RSS {figures.worker_rss:4.0f} MiB", flush=True)


def spread(values: Sequence[float], digits: int = 2) -> str:
    """The median and the range: ``1.23 [1.10–1.40]``."""
    return f"{statistics.median(values):.{digits}f} [{min(values):.{digits}f}–{max(values):.{digits}f}]"


# --- the benchmark ---------------------------------------------------------------------------------------


async def compare(shapes: list[int], cases: int, in_flight: int, pairs: int, register: str) -> None:
    """Full against floor, each side on a fresh server, the order alternated pair by pair."""
    async with contextlib.AsyncExitStack() as stack:
        pg = await stack.enter_async_context(postgres()) if register == "postgres" else None
        results: dict[int, list[tuple[Figures, Figures]]] = {}
        for shape in shapes:
            for pair in range(pairs):
                order = ("full", "floor") if pair % 2 == 0 else ("floor", "full")
                done = {}
                for kind in order:
                    done[kind] = await side(kind, shape, cases, in_flight, pg=pg)
                    show(done[kind])
                results.setdefault(shape, []).append((done["full"], done["floor"]))
    print(f"\n{pairs} pairs per shape, each side on a fresh server, alternated; median [min–max]. A shared or "
          "busy machine widens the ranges: quote the medians with their ranges.")
    compared = {shape: _compared(runs) for shape, runs in results.items()}
    for shape, (full, floor, ratios, worker_ratios) in compared.items():
        print(f"shape={shape}: CPU-s per case: worker {spread([f.worker_cpu for f in full], 3)} against the "
              f"floor's {spread([b.worker_cpu for b in floor], 3)} (×{spread(worker_ratios)}), server "
              f"{spread([f.server_cpu for f in full], 3)} against {spread([b.server_cpu for b in floor], 3)}; "
              f"cases/s {spread([f.cps for f in full])} against {spread([b.cps for b in floor])} "
              f"(ratio {spread(ratios)})")
    for shape, (full, floor, ratios, worker_ratios) in compared.items():
        print(f"RESULT shape={shape} pairs={len(full)} register={register} "
              f"full_worker_cpu={statistics.median(f.worker_cpu for f in full):.3f} "
              f"floor_worker_cpu={statistics.median(b.worker_cpu for b in floor):.3f} "
              f"worker_cpu_ratio={statistics.median(worker_ratios):.2f} "
              f"worker_cpu_ratio_range={min(worker_ratios):.2f}-{max(worker_ratios):.2f} "
              f"full_server_cpu={statistics.median(f.server_cpu for f in full):.3f} "
              f"floor_server_cpu={statistics.median(b.server_cpu for b in floor):.3f} "
              f"full_cps={statistics.median(f.cps for f in full):.2f} "
              f"floor_cps={statistics.median(b.cps for b in floor):.2f} "
              f"ratio={statistics.median(ratios):.2f} ratio_range={min(ratios):.2f}-{max(ratios):.2f} "
              f"p99_stage_s={statistics.median(f.p99 for f in full):.3f} "
              f"events_per_case={statistics.median(f.events for f in full):.0f} "
              f"bytes_per_case={statistics.median(f.size for f in full):.0f}")


def _compared(runs: list[tuple[Figures, Figures]]) -> tuple[list[Figures], list[Figures], list[float], list[float]]:
    """The full and floor sides of alternated pairs, and the ratios of their cases/s and worker CPU pair by pair."""
    full, floor = [f for f, _ in runs], [b for _, b in runs]
    return full, floor, [f.cps / b.cps for f, b in runs], [f.worker_cpu / b.worker_cpu for f, b in runs]


async def scale(max_workers: int, shape: int, cases: int, in_flight: int, runs: int, register: str) -> None:
    """The real worker only, with 1..N worker processes on one task queue; the counts alternated run by run."""
    async with contextlib.AsyncExitStack() as stack:
        pg = await stack.enter_async_context(postgres()) if register == "postgres" else None
        results: dict[int, list[Figures]] = {}
        for run in range(runs):
            counts = list(range(1, max_workers + 1))
            for workers in counts if run % 2 == 0 else counts[::-1]:
                one = await side("full", shape, cases, in_flight, workers=workers, pg=pg)
                show(one)
                results.setdefault(workers, []).append(one)
    print(f"\n{runs} run(s) per worker count, each on a fresh server; median [min–max]")
    for workers, figures in sorted(results.items()):
        each = [statistics.median(f.worker_cpu_each[i] for f in figures) for i in range(workers)]
        pg_cpu = [f.postgres_cpu for f in figures if f.postgres_cpu is not None]
        print(f"RESULT workers={workers} shape={shape} register={register} runs={len(figures)} "
              f"cps={statistics.median(f.cps for f in figures):.2f} "
              f"cps_range={min(f.cps for f in figures):.2f}-{max(f.cps for f in figures):.2f} "
              f"server_cpu={statistics.median(f.server_cpu for f in figures):.3f} "
              f"worker_cpu={statistics.median(f.worker_cpu for f in figures):.3f} "
              f"worker_cpu_each={'+'.join(f'{cpu:.3f}' for cpu in each)} "
              + (f"postgres_cpu={statistics.median(pg_cpu):.3f} " if pg_cpu else "")
              + f"stage_p50_s={statistics.median(f.p50 for f in figures):.3f} "
              f"stage_p99_s={statistics.median(f.p99 for f in figures):.3f} "
              f"case_p50_s={statistics.median(f.case_p50 for f in figures):.1f} "
              f"worker_peak_rss_mib={max(f.worker_rss for f in figures):.0f}")


def percentiles(timings: list[float]) -> str:
    ordered = sorted(timings)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"p50 {statistics.median(ordered) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms (n={len(ordered)})"


def copy_matters(source: Engine, url: str) -> Engine:
    """The register's matters copied into another database (what the listing reads)."""
    target = make_engine(url)
    create_schema(target)
    table = MatterRow.__table__  # type: ignore[attr-defined]
    with source.connect() as reading, target.begin() as writing:
        rows = [dict(row._mapping) for row in reading.execute(select(table))]
        for first in range(0, len(rows), 2000):
            writing.execute(table.insert(), rows[first:first + 2000])
    return target


async def time_listings(
    client: Client | None, register: Engine, config: Settings, label: str, *, engine_runs: int,
    register_runs: int,
) -> None:
    policy = Policy()
    timings = []
    for _ in range(register_runs):
        began = time.perf_counter()
        items = list_overdue_in_register(register, policy)
        timings.append(time.perf_counter() - began)
    print(f"  from the register ({label}): {len(items)} items, {percentiles(timings)}", flush=True)
    if client is not None and engine_runs:
        timings = []
        for _ in range(engine_runs):
            began = time.perf_counter()
            from_engine = await list_overdue(client, policy)
            timings.append(time.perf_counter() - began)
        print(f"  from the engine (the dev server's visibility store): {len(from_engine)} items, "
              f"{percentiles(timings)}", flush=True)
        timings = []
        for _ in range(engine_runs):
            began = time.perf_counter()
            page = await client.workflow_service.list_workflow_executions(ListWorkflowExecutionsRequest(
                namespace=client.namespace, query=overdue_query(), page_size=UI_PAGE))
            timings.append(time.perf_counter() - began)
        print(f"  the Web UI's filter (the same query, its first page of {len(page.executions)}): "
              f"{percentiles(timings)}", flush=True)
        same = ({(i.case_number, i.matter, i.working_days_overdue) for i in items}
                == {(i.case_number, i.matter, i.working_days_overdue) for i in from_engine})
        print(f"  the register and the engine list the same matters: {'yes' if same else 'NO'}")
    env = {**os.environ, "SHENHOU_TEMPORAL_ADDRESS": config.temporal_address,
           "SHENHOU_DATA_DIR": str(config.data_dir), "SHENHOU_DATABASE_URL": str(register.url.render_as_string(
               hide_password=False)), "SHENHOU_LOG_LEVEL": "WARNING"}
    shenhou = str(Path(sys.executable).parent / "shenhou")
    timings = []
    for _ in range(10):
        began = time.perf_counter()
        done = await asyncio.create_subprocess_exec(shenhou, "overdue", "--json", env=env,
                                                    stdout=asyncio.subprocess.DEVNULL)
        await done.wait()
        timings.append(time.perf_counter() - began)
    print(f"  `shenhou overdue --json` as a command ({label}; process start and imports included): "
          f"{percentiles(timings)}", flush=True)


async def parked(count: int, overdue: int, in_flight: int, register: str) -> None:
    """N cases opened into the parallel phase and left there; some matters moved past their deadline; then the
    supervisor's listing from the register and from the engine."""
    async with contextlib.AsyncExitStack() as stack:
        pg = await stack.enter_async_context(postgres()) if register == "postgres" else None
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        data = Path(tmp)
        settings, _server_pid = await stack.enter_async_context(fixtures.dev_server(data / "server"))
        config = Settings(temporal_address=settings.temporal_address, data_dir=data / "worker",
                          task_queue="bench-parked", log_level="WARNING")
        config.data_dir.mkdir(parents=True)
        keys = load_keys(config)
        database_url = pg.new_database() if pg is not None else ""
        real = await spawn("-m", "worker", env=worker_env(config, database_url))
        try:
            client = await connect(config, keys)
            skipper = TimeSkipper(client, config=TimeSkippingConfig(enabled=False))
            situations, codes = SHAPES[4]
            gate = asyncio.Semaphore(in_flight)
            began = time.perf_counter()

            async def open_case(seed: int) -> str:
                async with gate:
                    app = fixtures.application(seed, **situations)
                    started = await start_case(skipper.client, app, keys.case_id_key, config.task_queue)
                    handle = client.get_workflow_handle(started.case_number)
                    await handle.signal("cremation_certified", CERTIFICATE)
                    async for state, _ in states_of(client, matter_workflow_id(started.case_number, codes[0])):
                        if state == REVIEW:
                            await client.get_workflow_handle(
                                matter_workflow_id(started.case_number, codes[0])).signal(
                                    "approve", approval(codes[0]))
                    return started.case_number

            numbers = await asyncio.gather(*(open_case(seed) for seed in range(count)))
            waiting = (f"WorkflowType = 'MatterWorkflow' AND ExecutionStatus = 'Running' AND "
                       f"{sa.MATTER_STATE.name} = '{REVIEW}'")
            while (await client.count_workflows(waiting)).count < count * (len(codes) - 1):
                await asyncio.sleep(1)
            print(f"opened {count} cases ({count * (len(codes) - 1)} matters under review) in "
                  f"{time.perf_counter() - began:.0f} s", flush=True)
            late_gate = asyncio.Semaphore(8)

            async def late(number: str) -> None:
                async with late_gate:
                    medical = matter_workflow_id(number, M.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT)
                    handle = client.get_workflow_handle(medical)
                    await skipper.fast_forward(handle, timedelta(days=10))

            await asyncio.gather(*(late(number) for number in numbers[:overdue]))
            engine = make_engine(config.register_url if pg is None else database_url)
            stack.callback(engine.dispose)
            while (len(list_overdue_in_register(engine, Policy())) < overdue
                   or len(await list_overdue(client, Policy())) < overdue):
                await asyncio.sleep(0.5)
            worker = Process(real.pid)
            print(f"parked {count} cases: worker RSS {worker.rss_mib():.0f} MiB (peak {worker.peak_rss_mib():.0f} "
                  f"MiB); the overdue listing of {overdue} late matters:", flush=True)
            await time_listings(client, engine, config, engine.dialect.name, engine_runs=40, register_runs=100)
            if pg is None and find_bin_dir() is not None:
                copy = await stack.enter_async_context(postgres())
                target = copy_matters(engine, copy.new_database())
                stack.callback(target.dispose)
                await time_listings(client, target, config, "postgresql, a copy of the same rows",
                                    engine_runs=0, register_runs=100)
        finally:
            real.terminate()
            await real.wait()


def fill_register(engine: Engine, count: int, overdue: int) -> None:
    """``count`` open cases of the 4-matter shape written through the worker's own register activity, as the
    parked cases leave them: 户口注销 approved, the other three under review, the first ``overdue`` cases'
    医保 matter 3 working days overdue (超时, 催办)."""
    from temporalio.testing import ActivityEnvironment

    from activities.calendar import WorkingDayCalendar
    from activities.register import RegisterActivities
    from domain.enums import CaseState, EscalationStep
    from domain.models import CaseRecord, MatterView, RegisterBatch
    from register.sealing import Sealer

    policy = Policy()
    activities = RegisterActivities(engine, policy, WorkingDayCalendar(log_approximate=False), Sealer.ephemeral())
    environment = ActivityEnvironment()
    situations, codes = SHAPES[4]
    pushed = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    for seed in range(count):
        app = fixtures.application(seed, **situations)
        number = f"SH-PARK{seed:07d}"
        environment.run(activities.record, RegisterBatch(case_number=number, case=CaseRecord(
            case_number=number, application=app, state=CaseState.IN_PROGRESS, received_at=pushed)))
        for code in codes:
            definition = policy.matter(code)
            late = code == M.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT and seed < overdue
            view = MatterView(
                case_number=number, code=code, name=definition.name, department=definition.department,
                department_name=definition.department_name, pays_family=definition.pays_family,
                time_limit_working_days=definition.time_limit_working_days, pushed_at=pushed,
                state=MatterState.APPROVED if code == M.HUKOU_CANCELLATION else MatterState.UNDER_REVIEW,
                final=code == M.HUKOU_CANCELLATION, deadline=pushed + timedelta(days=7), overdue=late,
                working_days_overdue=3 if late else 0, escalation_level=3 if late else 0,
                escalations=(EscalationStep.WARNING, EscalationStep.OVERDUE, EscalationStep.REMINDER) if late
                else ())
            environment.run(activities.record, RegisterBatch(case_number=number, matter=view))


async def register_only(count: int, overdue: int, register: str) -> None:
    """The register's listing alone, over a register filled as ``--parked`` leaves it (no engine involved)."""
    async with contextlib.AsyncExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        if register == "postgres":
            url = (await stack.enter_async_context(postgres())).new_database()
        else:
            url = f"sqlite:///{tmp / 'register.db'}"
        engine = make_engine(url)
        stack.callback(engine.dispose)
        create_schema(engine)
        began = time.perf_counter()
        await asyncio.to_thread(fill_register, engine, count, overdue)
        print(f"register ({engine.dialect.name}) filled with {count} open cases ({count * 4} matters, {overdue} "
              f"overdue) through the register activity in {time.perf_counter() - began:.0f} s", flush=True)
        config = Settings(data_dir=tmp / "cli", database_url=url)
        config.data_dir.mkdir()
        await time_listings(None, engine, config, engine.dialect.name, engine_runs=0, register_runs=100)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 pairs of 30 cases of 4 matters (about 5 minutes)")
    parser.add_argument("--cases", type=int, default=150)
    parser.add_argument("--in-flight", type=int, default=30)
    parser.add_argument("--shapes", default="4,7")
    parser.add_argument("--pairs", type=int, default=3, help="alternated full/floor pairs per shape")
    parser.add_argument("--workers", type=int, default=0,
                        help="the real worker alone with 1..N worker processes (scale-out)")
    parser.add_argument("--runs", type=int, default=1, help="with --workers: runs per worker count")
    parser.add_argument("--register", choices=("sqlite", "postgres"), default="sqlite",
                        help="the register: a SQLite file per side, or a throwaway PostgreSQL cluster")
    parser.add_argument("--parked", type=int, default=0)
    parser.add_argument("--overdue", type=int, default=None)
    parser.add_argument("--register-only", action="store_true",
                        help="with --parked: fill only the register (through its activity) and time its listing")
    args = parser.parse_args()
    if args.parked and args.register_only:
        asyncio.run(register_only(args.parked, args.overdue if args.overdue is not None else args.parked // 10,
                                  args.register))
        return
    if args.parked:
        asyncio.run(parked(args.parked, args.overdue if args.overdue is not None else args.parked // 10,
                           args.in_flight, args.register))
        return
    shapes = [int(shape) for shape in args.shapes.split(",")]
    if args.workers:
        asyncio.run(scale(args.workers, shapes[0], args.cases, args.in_flight, args.runs, args.register))
        return
    if args.quick:
        shapes, args.cases = [4], 30
    asyncio.run(compare(shapes, args.cases, args.in_flight, args.pairs, args.register))


if __name__ == "__main__":
    main()
