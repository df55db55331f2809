"""What the browser tests share: Debian's chromium, the Web UI decrypting through a codec server, and a case
whose 户口注销 waits for the police officer."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from client.operations import start_case
from domain.enums import MatterCode, MatterState
from domain.ids import matter_workflow_id
from domain.models import Application
from runtime.codec import EncryptionCodec, data_converter
from runtime.codec_server import serve
from runtime.devserver import temporal_binary
from runtime.keys import Keys
from runtime.materials import MaterialStore
from tests.devserver import DEV_SERVER_STARTUP
from tests.workflows.helpers import certify, matter_state, wait_for
from workflows import search_attributes as sa

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright = pytest.importorskip("playwright.async_api")
# CI must run them; a developer machine without Chromium skips them with a reason.
pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"), reason="Debian's chromium is missing (scripts/test installs it)"
)

# As the machine's probe starts it: the closed network refuses Chromium's background connections.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def web_ui(
    codec: EncryptionCodec, codec_port: int, materials: MaterialStore | None = None
) -> AsyncIterator[tuple[WorkflowEnvironment, int]]:
    """The dev server with its Web UI, decrypting through a codec server on ``codec_port``; yields the
    environment and the UI's port."""
    ui_port = free_port()
    origins = [f"http://localhost:{ui_port}", f"http://127.0.0.1:{ui_port}"]
    runner = await serve(codec, "127.0.0.1", codec_port, origins, materials=materials)
    env = await WorkflowEnvironment.start_local(
        ui=True, ui_port=ui_port, dev_server_existing_path=temporal_binary(), search_attributes=sa.ALL,
        data_converter=data_converter(codec),
        dev_server_extra_args=["--ui-codec-endpoint", f"http://127.0.0.1:{codec_port}"],
        dev_server_startup_timeout=DEV_SERVER_STARTUP,
    )
    try:
        yield env, ui_port
    finally:
        await env.shutdown()
        await runner.cleanup()


async def hukou_under_review(
    client: Client, app: Application, keys: Keys, task_queue: str
) -> tuple[Any, str, str]:
    """A case from ``app`` whose 户口注销 waits for the police: its handle, number and the matter's workflow id."""
    started = await start_case(client, app, keys.case_id_key, task_queue)
    handle: Any = client.get_workflow_handle(started.case_number)
    await certify(handle)
    await wait_for(handle, lambda s: matter_state(s, MatterCode.HUKOU_CANCELLATION) == MatterState.UNDER_REVIEW,
                   timeout=60)
    return handle, started.case_number, matter_workflow_id(started.case_number, MatterCode.HUKOU_CANCELLATION)
