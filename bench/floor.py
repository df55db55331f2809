"""The floor: a no-op workflow set of exactly the shape real cases have, to measure what the engine allows.

``FloorCase`` and ``FloorMatter`` issue the same commands, in the same workflow tasks, as ``CaseWorkflow`` and
``MatterWorkflow`` do for a case whose officers decide at once (activities, local activities, search-attribute
updates, children, timers, signals), and nothing else: their activities return at once and
their state is a few fields. When the real shape changes, this file changes with it.

Run as a worker: ``python -m bench.floor --address HOST:PORT --task-queue QUEUE --data-dir DIR`` (the data
folder holds the keys, so payloads are encrypted as the real worker's are).
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
from datetime import timedelta
from pathlib import Path

from temporalio import activity, workflow
from temporalio.common import RawValue, SearchAttributePair, TypedSearchAttributes
from temporalio.worker import Worker
from temporalio.workflow import LocalActivityConfig

from workflows import search_attributes as sa
from workflows.options import LOCAL_OPTIONS, PUSH_LOCAL_OPTIONS
from workflows.raw_input import NO_INPUT, one_input
from workflows.versions import COUNTY_AS_WRITTEN

# The patches CaseWorkflow asks in its @workflow.init.
CASE_PATCHES_AT_START = (COUNTY_AS_WRITTEN,)

# The floor's inputs live beside it and pass through the sandbox, as the real workflows' models (domain) do.
with workflow.unsafe.imports_passed_through():
    from bench.floor_models import Ack, FloorCaseInput, FloorMatterInput

REVIEW, APPROVED, PAYING, PAID = "待审核", "已通过", "发放中", "已发放"


class FloorActivities:
    @activity.defn(name="floor_noop")
    def noop(self, payload: Ack) -> Ack:
        return payload


async def _local(options: LocalActivityConfig = LOCAL_OPTIONS) -> None:
    await workflow.execute_local_activity_method(FloorActivities.noop, Ack(at=workflow.now()), **options)


@workflow.defn(name="FloorMatter")
class FloorMatter:
    @workflow.init
    def __init__(self, input: FloorMatterInput) -> None:
        self._approved = False
        self._confirmed = False
        self._timer: asyncio.Task[None] | None = None

    @workflow.run
    async def run(self, input: FloorMatterInput) -> str:
        await _local(PUSH_LOCAL_OPTIONS)  # push, with the deadline counted in the same local activity
        await self._flush(REVIEW)
        self._arm(timedelta(days=5))
        await workflow.wait_condition(lambda: self._approved)
        await _local()  # who decided: the officer's statement checked when the decision's turn comes
        if not input.pays:
            await self._flush(APPROVED)
            return APPROVED
        await _local()  # the payment instruction, in the officer's workflow task
        await self._flush(PAYING)  # the approval and the instruction written together
        await _local()  # the next reminder of the wait for the paying system, planned on the working-day calendar
        self._arm(timedelta(days=3))  # the ladder's timer gives way to the confirmation's
        await workflow.wait_condition(lambda: self._confirmed)
        await _local()  # the paying system's signature on its report
        await self._flush(PAID)
        return PAID

    async def _flush(self, state: str) -> None:
        workflow.upsert_search_attributes([sa.MATTER_STATE.value_set(state)])
        await _local()

    def _arm(self, delta: timedelta) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.create_task(workflow.sleep(delta))

    @workflow.signal(name="approve")
    @one_input
    def approve(self, payload: RawValue = NO_INPUT, *extra: object) -> None:
        self._approved = True

    @workflow.signal(name="payment_confirmed")
    @one_input
    def payment_confirmed(self, payload: RawValue = NO_INPUT, *extra: object) -> None:
        self._confirmed = True

    @workflow.query(name="status")
    def status(self) -> str:
        return PAID if self._confirmed else APPROVED if self._approved else REVIEW


@workflow.defn(name="FloorCase")
class FloorCase:
    @workflow.init
    def __init__(self, input: FloorCaseInput) -> None:
        self._certified = False
        # A case started today records the patches it asks at its start (a marker, and the engine's own
        # search attribute naming them): workflows/versions.py.
        for patch in CASE_PATCHES_AT_START:
            workflow.patched(patch)

    @workflow.run
    async def run(self, input: FloorCaseInput) -> str:
        workflow.upsert_search_attributes([sa.CASE_STATE.value_set("户口注销中")])
        await _local()  # the case opened in the register, returning the county policy
        await self._children(input, input.matters[:1], input.pays[:1])
        await workflow.wait_condition(lambda: self._certified)
        workflow.upsert_search_attributes([sa.CASE_STATE.value_set("联办中")])
        await _local()
        await self._children(input, input.matters[1:], input.pays[1:])
        workflow.upsert_search_attributes([sa.CASE_STATE.value_set("办结")])
        await _local()
        return "办结"

    async def _children(self, input: FloorCaseInput, matters: list[str], pays: list[bool]) -> None:
        async def one(matter: str, paying: bool) -> str:
            return await workflow.execute_child_workflow(
                FloorMatter.run, FloorMatterInput(case_number=input.case_number, matter=matter, pays=paying),
                id=f"{input.case_number}.{matter}",
                search_attributes=TypedSearchAttributes([
                    SearchAttributePair(sa.CASE_NUMBER, input.case_number),
                    SearchAttributePair(sa.DEPARTMENT, matter.split(".")[0]),
                    SearchAttributePair(sa.MATTER, matter),
                    SearchAttributePair(sa.MATTER_STATE, "待推送"),
                ]),
            )

        await asyncio.gather(*(one(matter, paying) for matter, paying in zip(matters, pays, strict=True)))

    @workflow.signal(name="cremation_certified")
    @one_input
    def cremation_certified(self, payload: RawValue = NO_INPUT, *extra: object) -> None:
        self._certified = True  # written to the register with the case's next change


async def _serve(address: str, task_queue: str, data_dir: Path) -> None:
    from bench import floor  # by its own name: run as __main__, the sandbox compiled this file for every workflow
    from runtime.keys import load_keys
    from runtime.settings import Settings
    from runtime.temporal import connect
    from worker import precompile_workflows, sandbox_runner

    precompile_workflows("bench")  # the floor's workflow module compiled once, as the real worker's package
    settings = Settings(temporal_address=address, data_dir=data_dir, task_queue=task_queue)
    client = await connect(settings, load_keys(settings), worker=True)
    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as executor:
        worker = Worker(client, task_queue=task_queue, workflows=[floor.FloorCase, floor.FloorMatter],
                        activities=[floor.FloorActivities().noop], activity_executor=executor,
                        workflow_runner=sandbox_runner())
        await worker.run()


def main() -> None:
    parser = argparse.ArgumentParser(description="the floor's worker")
    parser.add_argument("--address", required=True)
    parser.add_argument("--task-queue", required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    args = parser.parse_args()
    asyncio.run(_serve(args.address, args.task_queue, args.data_dir))


if __name__ == "__main__":
    main()
