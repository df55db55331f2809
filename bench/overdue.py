"""Benchmark: the supervisor's overdue listing over many open cases on the embedded dev server.

    .venv/bin/python -m bench.overdue --cases 1000 --overdue 200

Starts its own dev server on a SQLite file (the same pragmas as `scripts/run`), a worker, opens the
cases into the parallel phase, fast-forwards the 医保 matter of `--overdue` cases past its deadline, then
times `list_overdue` (one visibility query) and prints figures. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import os
import resource
import secrets
import statistics
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from temporalio.client import Client
from temporalio.testing import TimeSkipper, TimeSkippingConfig

from activities.calendar import WorkingDayCalendar
from bench import fixtures
from domain.enums import MatterCode, MatterState
from domain.ids import matter_workflow_id
from domain.models import StatusSnapshot
from domain.policy import Policy
from register.engine import create_schema, make_engine
from runtime.codec import EncryptionCodec, data_converter
from runtime.keys import Keys
from starter.operations import start_case
from starter.supervision import list_overdue
from worker import Dependencies, build_worker

NHSA = MatterCode.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT


def time_skipper(client: Client) -> TimeSkipper:
    """Workflows started through its client run in real time until one is fast-forwarded."""
    return TimeSkipper(client, config=TimeSkippingConfig(enabled=False))


async def _open_case(client: Client, keys: Keys, queue: str, seed: int) -> str:
    started = await start_case(client, fixtures.application(seed), keys.case_id_key, queue)
    handle = client.get_workflow_handle(started.case_number)
    await handle.signal("cremation_certified", {
        "certificate_no": f"HH-{seed}", "funeral_home": "固阳县殡仪馆", "cremated_on": "2026-11-20"})
    hukou = client.get_workflow_handle(matter_workflow_id(started.case_number, MatterCode.HUKOU_CANCELLATION))
    while True:
        try:
            snap = await hukou.query("status", result_type=StatusSnapshot)
            if snap.matters[0].state == MatterState.UNDER_REVIEW:
                break
        except Exception:
            pass
        # An officer looks now and then; polling hard would measure the queries, not the cases.
        await asyncio.sleep(1.0)
    await hukou.signal("approve", {"officer": "王警官", "certificate_no": f"ZX-{seed}"})
    return started.case_number


async def _count(client: Client, query: str) -> int:
    return (await client.count_workflows(query)).count


async def run(cases: int, overdue: int, concurrency: int) -> None:
    keys = Keys(case_id_key=secrets.token_bytes(32), codec_keys={"b": secrets.token_bytes(32)}, active_key_id="b")
    codec = EncryptionCodec(keys.codec_keys, "b")
    with tempfile.TemporaryDirectory() as tmp:
        async with fixtures.dev_server(Path(tmp)) as settings:
            client = await Client.connect(settings.temporal_address, data_converter=data_converter(codec))
            skipping = time_skipper(client).client
            engine = make_engine(f"sqlite:///{tmp}/register.db")
            create_schema(engine)
            deps = Dependencies(engine=engine, policy=Policy(), calendar=WorkingDayCalendar())
            queue = f"bench-{uuid.uuid4().hex[:6]}"
            with concurrent.futures.ThreadPoolExecutor(32) as pool:
                async with build_worker(client, queue, deps, pool):
                    gate = asyncio.Semaphore(concurrency)

                    async def one(seed: int) -> str:
                        async with gate:
                            return await _open_case(skipping, keys, queue, seed)

                    began = time.perf_counter()
                    numbers = await asyncio.gather(*(one(seed) for seed in range(cases)))
                    pushed = f"WorkflowType = 'MatterWorkflow' AND ShenhouMatter = '{NHSA.value}' AND " \
                             f"ShenhouMatterState = '{MatterState.UNDER_REVIEW.value}'"
                    while await _count(client, pushed) < cases:
                        await asyncio.sleep(1)
                    opened = time.perf_counter() - began
                    running = await _count(client, "ExecutionStatus = 'Running'")
                    print(f"opened {cases} cases into the parallel phase in {opened:.1f}s "
                          f"({cases / opened:.1f} cases/s); {running} running workflows")

                    skipper = time_skipper(client)
                    began = time.perf_counter()
                    ff_gate = asyncio.Semaphore(8)

                    async def late(number: str) -> None:
                        async with ff_gate:
                            handle = client.get_workflow_handle(matter_workflow_id(number, NHSA))
                            await skipper.fast_forward(handle, timedelta(days=10))

                    await asyncio.gather(*(late(n) for n in numbers[:overdue]))
                    while len(await list_overdue(client, Policy())) < overdue:
                        await asyncio.sleep(0.5)
                    print(f"made {overdue} matters overdue in {time.perf_counter() - began:.1f}s")

                    timings = []
                    for _ in range(7):
                        began = time.perf_counter()
                        items = await list_overdue(client, Policy())
                        timings.append(time.perf_counter() - began)
                    by_dept = []
                    for _ in range(7):
                        began = time.perf_counter()
                        await list_overdue(client, Policy(), department=deps.policy.matter(NHSA).department)
                        by_dept.append(time.perf_counter() - began)
                    print(f"list_overdue over {running} running workflows: {len(items)} items, "
                          f"median {statistics.median(timings) * 1000:.0f} ms, min {min(timings) * 1000:.0f} ms; "
                          f"--department nhsa median {statistics.median(by_dept) * 1000:.0f} ms")
                    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                    print(f"benchmark process (worker + client) peak RSS {rss:.0f} MiB; pid {os.getpid()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--overdue", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(run(args.cases, args.overdue, args.concurrency))


if __name__ == "__main__":
    main()
