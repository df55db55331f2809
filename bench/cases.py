"""Benchmark: whole cases through the real worker, side by side with the engine's floor for their shape.

    .venv/bin/python -m bench.cases [--quick] [--cases N] [--in-flight C] [--shapes 4,7]
    .venv/bin/python -m bench.cases --parked 10000 [--overdue 1000]

Starts its own dev server exactly as `scripts/run` does (SQLite file, WAL, synchronous=full) and, each in its
own process, the real worker (`python -m worker`) and the floor's worker (`python -m bench.floor`: no-op
workflows of the same shape). For each shape (4 matters: 户口注销, 人社, 医保, 残联, two paying; 7: every
department) it runs N cases with C in flight, deciding like officers the moment a matter is under review (the
driver follows each matter's history as the server writes it) and confirming payments like the bank, then does
the same with the floor. Prints, for both: cases/s, stage latency p50/p99 (a decision sent → the matter's next
state written), history events and bytes per case, server and worker CPU-seconds per case, worker peak RSS; and
the ratio full/floor. The last lines are machine-readable `RESULT shape=…` lines. Nothing is asserted.

`--parked N` instead opens N cases into the parallel phase and leaves them there (their matters under review),
moves `--overdue` 医保 matters past their deadline, and prints the worker's RSS and the p50/p95 of the
supervisor's overdue listing over them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import TimeSkipper, TimeSkippingConfig

from bench import fixtures
from bench.floor import FloorCase, FloorCaseInput
from domain.enums import Issuer, MatterCode, MatterState
from domain.ids import matter_workflow_id
from domain.models import PaymentConfirmedInput, StatusSnapshot
from domain.policy import Policy
from runtime.keys import load_keys, signer
from runtime.settings import Settings
from runtime.signing import StatementSigner, sign_statement
from runtime.temporal import connect
from starter.operations import start_case
from starter.supervision import list_overdue
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
CERTIFICATE = {"certificate_no": "HH-BENCH", "funeral_home": "固阳县殡仪馆", "cremated_on": "2026-11-25"}


# --- processes ---------------------------------------------------------------------------------------


@dataclass
class Process:
    """CPU time and peak memory of a running process, from /proc (Linux)."""

    pid: int

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

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
    case_numbers: list[str] = field(default_factory=list)


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
            await handle.signal("payment_confirmed", await signed_confirmation(handle, case_number, code))


# The paying system's key, as the embedded default's keys file holds it (set when the benchmark loads its keys).
PAYING_SYSTEM: list[StatementSigner] = []


async def signed_confirmation(handle: WorkflowHandle[Any, Any], case_number: str, code: MatterCode) -> Any:
    """The paying system's signed report for the payment the matter instructed (the floor ignores it)."""
    reference = "PAY-FLOOR"
    if PAYING_SYSTEM:
        snap = await handle.query("status", result_type=StatusSnapshot)
        reference = snap.matters[0].payment_reference or reference
    report = PaymentConfirmedInput(reference=reference, by="bench-bank")
    if PAYING_SYSTEM:
        report = sign_statement(PAYING_SYSTEM[0], case_number, code, report)
    return report.model_dump(mode="json", exclude_none=True)


def approval(code: MatterCode) -> dict[str, Any]:
    if code == M.HUKOU_CANCELLATION:
        return {"officer": "王警官", "certificate_no": "ZX-BENCH"}
    if code in PAYS:
        return {"officer": "李科员", "amount": str(Decimal("1234.50"))}
    return {"officer": "李科员"}


async def one_case(client: Client, run: Run, seed: int, start: Callable[[int], Any]) -> None:
    handle: WorkflowHandle[Any, Any] = await start(seed)
    run.case_numbers.append(handle.id)
    await handle.signal("cremation_certified", CERTIFICATE)
    codes = SHAPES[run.shape][1]
    await asyncio.gather(*(drive_matter(client, handle.id, code, run, approval(code)) for code in codes))
    await handle.result()


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


# --- one side of the comparison -------------------------------------------------------------------------


@dataclass
class Figures:
    cps: float
    p50: float
    p99: float
    events: float
    size: float
    server_cpu: float
    worker_cpu: float
    worker_rss: float


async def measure(
    client: Client, run: Run, cases: int, in_flight: int, start: Callable[[int], Any], server: Process,
    worker: Process,
) -> Figures:
    server_cpu, worker_cpu = server.cpu_seconds(), worker.cpu_seconds()
    await drive(client, run, cases, in_flight, start)
    server_cpu, worker_cpu = server.cpu_seconds() - server_cpu, worker.cpu_seconds() - worker_cpu
    codes = SHAPES[run.shape][1]
    sizes = [await history_size(client, number, codes) for number in run.case_numbers]
    stages = sorted(run.stages)
    return Figures(
        cps=cases / (run.finished - run.started),
        p50=statistics.median(stages),
        p99=stages[min(len(stages) - 1, int(len(stages) * 0.99))],
        events=statistics.mean(e for e, _ in sizes),
        size=statistics.mean(s for _, s in sizes),
        server_cpu=server_cpu / cases,
        worker_cpu=worker_cpu / cases,
        worker_rss=worker.peak_rss_mib(),
    )


def show(kind: str, shape: int, figures: Figures) -> None:
    print(f"  {kind:5} shape={shape}: {figures.cps:5.2f} cases/s  stage p50 {figures.p50 * 1000:6.0f} ms "
          f"p99 {figures.p99 * 1000:6.0f} ms  {figures.events:5.0f} events {figures.size / 1024:6.1f} KiB/case  "
          f"CPU server {figures.server_cpu:5.3f} s worker {figures.worker_cpu:5.3f} s per case  "
          f"worker peak RSS {figures.worker_rss:5.0f} MiB", flush=True)


# --- the benchmark ---------------------------------------------------------------------------------------


async def compare(shapes: list[int], cases: int, in_flight: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        async with fixtures.dev_server(data / "server") as (settings, server_pid):
            config = Settings(temporal_address=settings.temporal_address, data_dir=data / "worker",
                              task_queue="bench-full", log_level="WARNING")
            config.data_dir.mkdir(parents=True)
            keys = load_keys(config)  # created now, read by both workers
            PAYING_SYSTEM[:] = [signer(keys, Issuer.PAYING_SYSTEM)]
            env = {"SHENHOU_TEMPORAL_ADDRESS": config.temporal_address, "SHENHOU_DATA_DIR": str(config.data_dir),
                   "SHENHOU_TASK_QUEUE": config.task_queue, "SHENHOU_LOG_LEVEL": "WARNING"}
            real = await spawn("-m", "worker", env=env)
            floor = await spawn("-m", "bench.floor", "--address", config.temporal_address, "--task-queue",
                                "bench-floor", "--data-dir", str(config.data_dir))
            client = await connect(config, keys)
            server = Process(server_pid)
            results = []
            try:
                for shape in shapes:
                    situations, codes = SHAPES[shape]

                    async def real_case(seed: int, situations: dict[str, Any] = situations) -> Any:
                        app = fixtures.application(seed, **situations)
                        started = await start_case(client, app, keys.case_id_key, config.task_queue)
                        return client.get_workflow_handle(started.case_number)

                    async def floor_case(seed: int, codes: Sequence[MatterCode] = codes, shape: int = shape) -> Any:
                        number = f"FLOOR-{shape}-{seed:06d}"
                        return await client.start_workflow(
                            FloorCase.run, FloorCaseInput(case_number=number, matters=[c.value for c in codes],
                                                          pays=[c in PAYS for c in codes]),
                            id=number, task_queue="bench-floor")

                    # A few cases first, so both workers have imported and compiled what they need.
                    await drive(client, Run("warm", shape), 3, 3, real_case)
                    await drive(client, Run("warm", shape), 3, 3, floor_case)
                    full = await measure(client, Run("full", shape), cases, in_flight, real_case, server,
                                         Process(real.pid))
                    show("full", shape, full)
                    bottom = await measure(client, Run("floor", shape), cases, in_flight, floor_case, server,
                                           Process(floor.pid))
                    show("floor", shape, bottom)
                    results.append((shape, full, bottom))
            finally:
                for process in (real, floor):
                    process.terminate()
                    await process.wait()
    for shape, full, bottom in results:
        print(f"RESULT shape={shape} full_cps={full.cps:.2f} floor_cps={bottom.cps:.2f} "
              f"ratio={full.cps / bottom.cps:.2f} p99_stage_s={full.p99:.3f} events_per_case={full.events:.0f} "
              f"bytes_per_case={full.size:.0f}")


async def parked(count: int, overdue: int, in_flight: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        async with fixtures.dev_server(data / "server") as (settings, _server_pid):
            config = Settings(temporal_address=settings.temporal_address, data_dir=data / "worker",
                              task_queue="bench-parked", log_level="WARNING")
            config.data_dir.mkdir(parents=True)
            keys = load_keys(config)
            PAYING_SYSTEM[:] = [signer(keys, Issuer.PAYING_SYSTEM)]
            env = {"SHENHOU_TEMPORAL_ADDRESS": config.temporal_address, "SHENHOU_DATA_DIR": str(config.data_dir),
                   "SHENHOU_TASK_QUEUE": config.task_queue, "SHENHOU_LOG_LEVEL": "WARNING"}
            real = await spawn("-m", "worker", env=env)
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
                while len(await list_overdue(client, Policy())) < overdue:
                    await asyncio.sleep(0.5)
                timings = []
                for _ in range(40):
                    began = time.perf_counter()
                    items = await list_overdue(client, Policy())
                    timings.append(time.perf_counter() - began)
                timings.sort()
                worker = Process(real.pid)
                print(f"parked {count} cases: worker RSS {worker.rss_mib():.0f} MiB (peak {worker.peak_rss_mib():.0f} "
                      f"MiB); overdue listing of {len(items)} items: p50 {statistics.median(timings) * 1000:.0f} ms, "
                      f"p95 {timings[int(len(timings) * 0.95)] * 1000:.0f} ms")
            finally:
                real.terminate()
                await real.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (within 5 minutes)")
    parser.add_argument("--cases", type=int, default=150)
    parser.add_argument("--in-flight", type=int, default=30)
    parser.add_argument("--shapes", default="4,7")
    parser.add_argument("--parked", type=int, default=0)
    parser.add_argument("--overdue", type=int, default=None)
    args = parser.parse_args()
    if args.parked:
        asyncio.run(parked(args.parked, args.overdue if args.overdue is not None else args.parked // 10,
                           args.in_flight))
        return
    cases = 40 if args.quick else args.cases
    asyncio.run(compare([int(shape) for shape in args.shapes.split(",")], cases, args.in_flight))


if __name__ == "__main__":
    main()
