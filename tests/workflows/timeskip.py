"""Per-workflow virtual time on the session dev server (temporalio 1.35 time skipping, experimental).

The recipe, measured on Temporal CLI 1.9.1 (server 1.32) started with
``--dynamic-config-value frontend.WorkflowTimeSkippingEnabled=true`` (tests/conftest.py):

- ``TimeSkipper(client, config=TimeSkippingConfig(enabled=False))`` and start the case through
  ``skipper.client``. Nothing skips on its own: cases and their matters run in real time until a test
  fast-forwards one workflow. (With the default ``enabled=True`` every case would skip unbounded and race
  through its whole escalation ladder.)
- ``skipper.fast_forward(matter_handle, delta)`` moves one MatterWorkflow's clock: every timer due within
  ``delta`` fires in order, ``workflow.now()`` jumps, activities and the signal to the parent case run as
  usual, and skipping switches itself off at the target. The case and the other matters keep real time.
- Each workflow has its own clock; a child starts at its parent's virtual time and inherits the parent's
  ``enabled`` flag at that moment. A parent's fast-forward never moves a running child.
- Skipping only happens while a workflow has no in-flight work. A case waiting on a running matter
  (child workflow) cannot be fast-forwarded at all: the call never completes and leaves skipping enabled,
  so matters the case starts later inherit unbounded skipping. ``advance`` therefore bounds the wait and
  switches skipping off again on failure. A case can be moved while it waits for the cremation
  certificate (only a timer pending), so its later matters start at the moved time.
- Every timer that fires during a fast-forward costs about one real second on the dev server's default
  ``history.timerProcessorMaxTimeShift`` (1s); with ``history.timerProcessorMaxTimeShift="10ms"`` it
  costs about 10 ms. Keep the number of rungs a test crosses small.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import google.protobuf.field_mask_pb2
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflow.v1 import WorkflowExecutionOptions
from temporalio.api.workflowservice.v1 import UpdateWorkflowExecutionOptionsRequest
from temporalio.client import (
    Client,
    Interceptor,
    OutboundInterceptor,
    StartWorkflowInput,
    WorkflowExecutionStatus,
    WorkflowHandle,
)
from temporalio.testing import TimeSkipper, TimeSkippingConfig
from temporalio.testing._timeskipping import FastForwardConfig

from activities.calendar import WorkingDayCalendar
from activities.deadlines import DeadlineActivities
from domain.enums import EscalationStep, MatterCode, NotificationKind, PensionStatus
from domain.models import (
    Application,
    DeadlinePlan,
    DeadlineRequest,
    LadderRung,
    RemainingDays,
    RemainingRequest,
    StatusSnapshot,
)
from domain.policy import Policy
from register.tables import AuditRow, OutboxRow
from runtime.keys import Keys
from tests.workflows import helpers
from tests.workflows.helpers import start, to_parallel_phase

T = TypeVar("T")

# The outbox kinds the escalation ladder writes.
LADDER_KINDS = frozenset({
    NotificationKind.DEADLINE_WARNING.value,
    NotificationKind.DEADLINE_OVERDUE.value,
    NotificationKind.DEADLINE_REMINDER.value,
    NotificationKind.SUPERVISION.value,
})

# Where a fast-forward stops relative to a rung: far enough from it that the ~1 s the dev server takes
# to fire a due timer cannot blur "before" and "after".
MARGIN = timedelta(minutes=5)


def time_skipper(client: Client) -> TimeSkipper:
    """A skipper whose client starts workflows that run in real time until fast-forwarded."""
    return TimeSkipper(client, config=TimeSkippingConfig(enabled=False))


class _PinnedStart(Interceptor):
    """Starts every workflow at a fixed virtual time: a start delay up to ``at`` that the server skips."""

    def __init__(self, at: datetime) -> None:
        self._at = at

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _PinnedStartOutbound(next, self._at)


class _PinnedStartOutbound(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, at: datetime) -> None:
        super().__init__(next)
        self._at = at

    async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
        delay = self._at - datetime.now(UTC)
        if delay <= timedelta(0):
            raise AssertionError(f"a pinned start must lie in the future, got {self._at.isoformat()}")
        input.start_delay = delay
        # Skip exactly the delay, then run in real time from the pinned moment (children inherit it).
        input.time_skipping_config = TimeSkippingConfig(
            enabled=True, fast_forward_config=FastForwardConfig(id=str(uuid.uuid4()), duration=delay)
        )._to_proto()
        return await super().start_workflow(input)


def pinned_skipper(client: Client, at: datetime) -> TimeSkipper:
    """A skipper whose client starts each workflow at the virtual time ``at`` (timezone-aware, in the
    future): the working-day arithmetic of a test then no longer depends on the day the suite runs."""
    skipper = time_skipper(client)
    config = skipper.client.config()
    config["interceptors"] = [*config["interceptors"], _PinnedStart(at)]
    skipper._client = Client(**config)
    return skipper


async def started_at(skipper: TimeSkipper, handle: WorkflowHandle[Any, Any], at: datetime) -> None:
    """Wait until a workflow started by a pinned skipper has reached its virtual start."""
    await poll(lambda: virtual_now(skipper, handle), lambda now: now >= at)


async def virtual_now(skipper: TimeSkipper, handle: WorkflowHandle[Any, Any]) -> datetime:
    return await skipper.get_current_time(handle)


async def advance(
    skipper: TimeSkipper, handle: WorkflowHandle[Any, Any], delta: timedelta, *, timeout: float = 30
) -> None:
    """Fast-forward one workflow by ``delta`` and wait until its clock has got there."""
    if delta <= timedelta(0):
        return
    try:
        done = await asyncio.wait_for(skipper.fast_forward(handle, delta), timeout)
    except TimeoutError:
        await stop_skipping(skipper.client, handle)
        raise AssertionError(f"fast-forward of {handle.id} by {delta} did not complete in {timeout}s") from None
    assert done, f"{handle.id} closed before its fast-forward by {delta} completed"
    await settled(handle)


async def settled(handle: WorkflowHandle[Any, Any], *, timeout: float = 10) -> None:
    """Wait until the workflow has handled what became due (no workflow task pending, twice in a row):
    a fast-forward completes when the clock is there, which can be just before the timers' task runs."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    quiet = 0
    while quiet < 2 and loop.time() < deadline:
        description = await handle.describe()
        pending = description.raw_description.HasField("pending_workflow_task")
        quiet = 0 if pending and description.status == WorkflowExecutionStatus.RUNNING else quiet + 1
        await asyncio.sleep(0.05)


async def advance_to(
    skipper: TimeSkipper, handle: WorkflowHandle[Any, Any], target: datetime, *, timeout: float = 30
) -> None:
    """Fast-forward one workflow until its virtual clock reads ``target`` (no-op if already past)."""
    await advance(skipper, handle, target - await virtual_now(skipper, handle), timeout=timeout)


async def stop_skipping(client: Client, handle: WorkflowHandle[Any, Any]) -> None:
    """Switch a workflow's time skipping off (what a completed fast-forward does by itself)."""
    await client.workflow_service.update_workflow_execution_options(
        UpdateWorkflowExecutionOptionsRequest(
            namespace=client.namespace,
            workflow_execution=WorkflowExecution(workflow_id=handle.id),
            workflow_execution_options=WorkflowExecutionOptions(
                time_skipping_config=TimeSkippingConfig(enabled=False)._to_proto()
            ),
            update_mask=google.protobuf.field_mask_pb2.FieldMask(paths=["time_skipping_config"]),
            identity=client.identity,
        ),
        retry=True,
    )


async def poll(
    probe: Callable[[], Awaitable[T]], accept: Callable[[T], bool], *, timeout: float = 20, every: float = 0.1
) -> T:
    """Call ``probe`` until ``accept`` holds for its answer; the last answer is in the failure."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await probe()
        if accept(value):
            return value
        if loop.time() > deadline:
            raise AssertionError(f"condition not reached in {timeout}s; last value: {value!r}")
        await asyncio.sleep(every)



async def registered(check: Callable[[], bool]) -> None:
    """Until ``check`` (a read of the register) holds: the register is written by the workflow task that
    changed the state, so a state seen by a query can be a moment ahead of its rows."""

    async def probe() -> bool:
        return check()

    await poll(probe, bool)

# --- expectations from the deadline activities themselves ---------------------------------------


def plan(
    calendar: WorkingDayCalendar, case_number: str, matter: MatterCode, start: datetime, working_days: int,
    policy: Policy | None = None, *, already_overdue: int = 0,
) -> DeadlinePlan:
    """What ``plan_deadline`` answers for this start: the workflow stored the same plan."""
    policy = policy or Policy()
    return DeadlineActivities(calendar).plan_deadline(DeadlineRequest(
        case_number=case_number, matter=matter, start=start, working_days=working_days, timezone=policy.timezone,
        ladder=policy.ladder, already_overdue=already_overdue,
    ))


def remaining(
    calendar: WorkingDayCalendar, case_number: str, matter: MatterCode, paused_at: datetime, deadline: datetime,
    policy: Policy | None = None,
) -> RemainingDays:
    return DeadlineActivities(calendar).remaining_working_days(RemainingRequest(
        case_number=case_number, matter=matter, paused_at=paused_at, deadline=deadline,
        timezone=(policy or Policy()).timezone,
    ))


def rung(deadline_plan: DeadlinePlan, step: EscalationStep, working_days_overdue: int = 0) -> LadderRung:
    for candidate in deadline_plan.rungs:
        if candidate.step == step and candidate.working_days_overdue == working_days_overdue:
            return candidate
    raise AssertionError(f"no {step} rung at {working_days_overdue} working days overdue")


# --- the register ---------------------------------------------------------------------------------


def ladder_rows(engine: Engine, case_number: str, matter: MatterCode) -> list[OutboxRow]:
    """The escalation ladder's outbox rows for one matter, in the order they were written."""
    with Session(engine) as session:
        rows = session.exec(
            select(OutboxRow).where(OutboxRow.case_number == case_number, OutboxRow.matter == matter.value)
            .order_by(OutboxRow.id)  # type: ignore[arg-type]
        ).all()
    return [row for row in rows if row.kind in LADDER_KINDS]


def row_keys(rows: Iterable[OutboxRow]) -> list[tuple[str, str, str]]:
    """(kind, recipient, rung) of each row; the rung is the key's "generation/step/days" tail."""
    return [(row.kind, row.recipient, row.key.split("/", 3)[-1]) for row in rows]


def outbox_kinds(engine: Engine, case_number: str, matter: MatterCode) -> list[tuple[str, str]]:
    with Session(engine) as session:
        rows = session.exec(
            select(OutboxRow).where(OutboxRow.case_number == case_number, OutboxRow.matter == matter.value)
            .order_by(OutboxRow.id)  # type: ignore[arg-type]
        ).all()
    return [(row.kind, row.recipient) for row in rows]


def audit_rows(engine: Engine, case_number: str, matter: MatterCode) -> list[AuditRow]:
    with Session(engine) as session:
        return list(session.exec(
            select(AuditRow).where(AuditRow.case_number == case_number, AuditRow.matter == matter.value)
            .order_by(AuditRow.id)  # type: ignore[arg-type]
        ).all())


def audit_events(engine: Engine, case_number: str, matter: MatterCode) -> list[str]:
    return [row.event for row in audit_rows(engine, case_number, matter)]


# --- cases with chosen matters ------------------------------------------------------------------


def application_with(*codes: MatterCode) -> Application:
    """A window application whose case runs 户口注销 and exactly ``codes`` (at most the retiree pension)."""
    pension = (PensionStatus.ENTERPRISE_RETIREE if MatterCode.ENTERPRISE_RETIREE_DEATH_BENEFIT in codes
               else PensionStatus.NONE)
    app = helpers.application_with(pension, *codes)
    assert set(app.matters) == {MatterCode.HUKOU_CANCELLATION, *codes}, app.matters
    return app


async def pushed_case(
    skipper: TimeSkipper, keys: Keys, task_queue: str, *codes: MatterCode, at: datetime | None = None
) -> tuple[WorkflowHandle[Any, Any], StatusSnapshot]:
    """A case started through the skipper's client, with ``codes`` pushed and under review (real time).

    ``at``: the skipper is a ``pinned_skipper`` for that moment; wait for the case to get there first.
    """
    handle = await start(skipper.client, keys, task_queue, application_with(*codes))
    if at is not None:
        await started_at(skipper, handle, at)
    snap = await to_parallel_phase(skipper.client, handle)
    return handle, snap


def audit_actors(engine: Engine, case_number: str, matter: MatterCode) -> list[str]:
    return [row.actor for row in audit_rows(engine, case_number, matter)]
