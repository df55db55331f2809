"""The worker: hosts CaseWorkflow, MatterWorkflow and every activity on one task queue.

Several workers can run against one cluster; each builds its dependencies here, nothing at import.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib.abc
import os
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib.machinery import ModuleSpec, PathFinder, SourceFileLoader
from types import CodeType, ModuleType
from typing import Any, NoReturn, cast
from zoneinfo import ZoneInfo

import structlog
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.converter import SerializationContext
from temporalio.converter._extstore import StorageDriverStoreContext
from temporalio.worker import Worker, WorkflowInstance, WorkflowInstanceDetails
from temporalio.worker._command_aware_visitor import CommandInfo
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions
from temporalio.worker.workflow_sandbox._runner import _Instance

from activities.calendar import WorkingDayCalendar
from activities.calendar_queries import calendar_coverage
from activities.deadlines import DeadlineActivities
from activities.departments import DepartmentActivities, DepartmentGateway, InboxGateway
from activities.payments import LedgerPaymentGateway, PaymentActivities, PaymentGateway
from activities.register import RegisterActivities
from activities.trust import MatterOutcomeActivities, TrustActivities
from client.errors import configuration_problem
from domain.policy import Policy
from register.engine import create_schema, make_engine
from register.sealing import Sealer
from runtime.codec import check_key_canary, codec_from_keys
from runtime.keys import Keys, load_keys, trust_anchors
from runtime.logging import configure_logging
from runtime.materials import scan_url
from runtime.policy_file import load_county
from runtime.settings import Settings, get_settings, invalid_setting_names
from runtime.signing import TrustAnchors
from runtime.temporal import connect
from workflows.case import CaseWorkflow
from workflows.matter import MatterWorkflow

log = structlog.get_logger()

# Heavy modules the workflows never use but that live in the worker process: passing them through
# keeps the sandbox from re-importing them for every workflow run (docs/architecture.md, "Activities, the
# worker and the sandbox").
PASSTHROUGH_MODULES = ("sqlmodel", "sqlalchemy", "structlog", "pydantic", "pydantic_core", "yaml")
# Workflow-side modules that hold no state: constants and pure helpers. Loaded once instead of for every
# workflow the sandbox starts.
STATELESS_WORKFLOW_MODULES = (
    "workflows.contract",
    "workflows.descriptions",
    "workflows.inbox",
    "workflows.matter_steps",
    "workflows.options",
    "workflows.raw_input",
    "workflows.search_attributes",
    "workflows.versions",
)


@dataclass
class Dependencies:
    engine: Engine
    policy: Policy
    calendar: WorkingDayCalendar
    departments: DepartmentGateway | None = None
    payments: PaymentGateway | None = None
    extra_activities: Sequence[Any] = field(default_factory=tuple)
    # Seals personal data in the register. ``dependencies_from`` builds it from the configured keys; the
    # default (for tests that build their own dependencies) seals under a random key nobody else holds.
    sealer: Sealer = field(default_factory=Sealer.ephemeral)
    # The public keys of the paying system and the window; empty: every signed statement is refused.
    trust: TrustAnchors = field(default_factory=TrustAnchors)
    # Decisions count only with a verified officer's statement (production); else they are marked unverified.
    require_verified_officers: bool = False


def precompile_workflows(*packages: str) -> None:
    """The sandbox imports each workflow module afresh for every workflow it starts: without a .pyc
    (PYTHONDONTWRITEBYTECODE is common in containers and CI) that meant compiling the source every time (about
    15% of the worker's CPU), and with one, reading and unmarshalling it every time (about 5%). Each module of
    the workflow package (or of ``packages``) is compiled once per process instead, and its code kept; the
    module itself is still executed afresh in every sandbox."""
    for package in packages or ("workflows",):
        if not any(isinstance(finder, _WorkflowCode) and finder.package == package for finder in sys.meta_path):
            sys.meta_path.insert(0, _WorkflowCode(package))


class _WorkflowCode(importlib.abc.MetaPathFinder):
    """Finds a package's modules as Python does, with a loader that keeps their compiled code."""

    def __init__(self, package: str) -> None:
        self.package = package

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname != self.package and not fullname.startswith(self.package + "."):
            return None
        spec = PathFinder.find_spec(fullname, path, target)
        if spec is not None and type(spec.loader) is SourceFileLoader:
            spec.loader = _KeptCode(spec.loader.name, spec.loader.path)
        return spec


class _KeptCode(SourceFileLoader):
    def get_code(self, fullname: str) -> CodeType | None:
        code = _WORKFLOW_CODE.get(self.path)
        if code is None:
            code = super().get_code(fullname)
            if code is not None:
                _WORKFLOW_CODE[self.path] = code
        return code


_WORKFLOW_CODE: dict[str, CodeType] = {}


class _SandboxedInstance(_Instance):
    """A sandboxed workflow whose payloads' serialization context is asked of it directly.

    For every payload sequence of every activation and completion (three passes each way), the SDK asks the
    workflow which context applies (the workflow's, an activity's, a child's). The stock sandbox answers by
    compiling and running a line of code inside the sandbox with its importer applied, which cost about a
    sixth of the worker's CPU. The answer is a look-up in the SDK's own instance (passed through, no user
    code, no import), so it is asked here without entering the sandbox; the answer is the same."""

    def _in_sandbox(self) -> Any:
        return cast(dict[str, Any], self.globals_and_locals).get("__temporal_in_sandbox")

    def get_serialization_context(self, command_info: CommandInfo | None) -> SerializationContext | None:
        inside = self._in_sandbox()
        if inside is None:  # not created (yet): as the SDK does it
            return super().get_serialization_context(command_info)
        return cast(SerializationContext | None, inside.get_serialization_context(command_info))

    def get_external_store_context(self, command_info: CommandInfo | None) -> StorageDriverStoreContext:
        inside = self._in_sandbox()
        if inside is None:
            return super().get_external_store_context(command_info)
        return cast(StorageDriverStoreContext, inside.get_external_store_context(command_info))


@dataclass(frozen=True)
class _Runner(SandboxedWorkflowRunner):
    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return _SandboxedInstance(det, self.runner_class, self.restrictions)


def sandbox_runner() -> SandboxedWorkflowRunner:
    return _Runner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(
            *PASSTHROUGH_MODULES, *STATELESS_WORKFLOW_MODULES
        )
    )


def activities_for(deps: Dependencies, client: Client | None = None) -> list[Any]:
    register = RegisterActivities(deps.engine, deps.policy, deps.calendar, deps.sealer)
    deadlines = DeadlineActivities(deps.calendar)
    departments = DepartmentActivities(deps.departments or InboxGateway(deps.engine), deadlines)
    payments = PaymentActivities(deps.payments or LedgerPaymentGateway(deps.engine, deps.sealer), deadlines)
    trust = TrustActivities(deps.trust, require_verified_officers=deps.require_verified_officers)
    outcomes = MatterOutcomeActivities(client)
    return [
        register.resolve_policy,
        register.open_case,
        register.record,
        departments.push_to_department,
        departments.withdraw_from_department,
        payments.instruct_payment,
        deadlines.plan_deadline,
        deadlines.remaining_working_days,
        deadlines.plan_reminder,
        trust.verify_statement,
        trust.verify_officer,
        outcomes.matter_standing,
        *deps.extra_activities,
    ]


def build_worker(
    client: Client,
    task_queue: str,
    deps: Dependencies,
    executor: concurrent.futures.Executor,
    **options: Any,
) -> Worker:
    precompile_workflows()
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[CaseWorkflow, MatterWorkflow],
        activities=activities_for(deps, client),
        activity_executor=executor,
        workflow_runner=sandbox_runner(),
        **options,
    )


def dependencies_from(settings: Settings, keys: Keys) -> Dependencies:
    # The county's files first: a mistake in them is told before anything is created.
    policy = load_county(settings)
    if policy.scan_url is None and settings.scan_url:
        # Staff sign in: the codec server under the staff host serves scans to entitled officers (compose).
        policy = policy.model_copy(update={"scan_url": settings.scan_url})
    elif (policy.scan_url is None and settings.codec_enabled and not settings.codec_auth_issuer
          and not settings.require_verified_officers):
        # The embedded default: its own codec server serves scans to this machine (runtime/materials.py).
        policy = policy.model_copy(update={"scan_url": scan_url(settings.codec_server_port)})
    calendar = WorkingDayCalendar.from_file(settings.holiday_path)
    sealer = Sealer.from_keys(keys)
    trust = trust_anchors(settings, keys)
    engine = make_engine(settings.register_url)
    create_schema(engine)
    return Dependencies(engine=engine, policy=policy, calendar=calendar, sealer=sealer, trust=trust,
                        require_verified_officers=settings.require_verified_officers)


async def run_worker(settings: Settings) -> None:
    configure_logging(settings.log_level, settings.log_json)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    keys = load_keys(settings)
    if settings.codec_enabled:
        await check_key_canary(codec_from_keys(keys), settings.data_dir)
    # Configuration before connecting, so a bad file is reported even while Temporal is not up yet.
    deps = dependencies_from(settings, keys)
    client = await connect(settings, keys, worker=True)
    coverage = calendar_coverage(deps.calendar, datetime.now(ZoneInfo(deps.policy.timezone)).date())
    if coverage.warning:
        log.warning("calendar_coverage", missing_years=coverage.missing_years, message=coverage.warning)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as executor:
        worker = build_worker(client, settings.task_queue, deps, executor,
                              max_cached_workflows=settings.worker_max_cached_workflows)
        log.info("worker_started", task_queue=settings.task_queue, address=settings.temporal_address,
                 pid=os.getpid())
        async with worker:
            await stop.wait()
        log.info("worker_stopped")


# Exit codes of `python -m worker` besides 0, as for the portal and the dispatcher: runtime/up starts a worker
# that exited with UNAVAILABLE again, and stops everything on CONFIG (starting again cannot help).
EXIT_UNAVAILABLE = 2
EXIT_CONFIG = 3


def _leave(code: int, message: str) -> NoReturn:
    print(f"worker未启动，{message}", file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    # Not sys.exit: a process that made a Temporal client sometimes aborts at interpreter exit (as the CLI).
    os._exit(code)


def main() -> None:
    try:
        settings = get_settings()
    except ValidationError as err:
        _leave(EXIT_CONFIG, f"环境变量配置有误：{'、'.join(invalid_setting_names(err)) or '无法读取'}")
    if settings.require_verified_officers and not settings.officer_public_keys.strip():
        _leave(EXIT_CONFIG, "要求核验办理人身份，但未配置身份核验公钥（SHENHOU_OFFICER_PUBLIC_KEYS）")
    try:
        asyncio.run(run_worker(settings))
    except Exception as err:
        problem = configuration_problem(err)
        if problem is not None:
            _leave(EXIT_CONFIG, problem)
        if isinstance(err, RuntimeError) and str(err).startswith("Failed client connect"):
            _leave(EXIT_UNAVAILABLE, f"无法连接Temporal服务（{settings.temporal_address}）")
        raise


if __name__ == "__main__":
    main()
