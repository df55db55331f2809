"""The officers' real path: the Temporal Web UI in a headless browser, decrypting through the codec
server, finds a matter workflow and sends `approve` with typed JSON through Send a Signal."""

from __future__ import annotations

import concurrent.futures
import json
import os
import re
import shutil
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from domain.enums import CaseState, MatterCode, MatterState
from domain.ids import matter_workflow_id
from runtime.codec import EncryptionCodec, data_converter
from runtime.codec_server import serve
from runtime.devserver import temporal_binary
from runtime.keys import Keys
from starter.operations import start_case
from tests.devserver import DEV_SERVER_STARTUP
from tests.workflows.helpers import application, certify, matter_state, wait_for
from worker import Dependencies, build_worker
from workflows import search_attributes as sa

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright = pytest.importorskip("playwright.async_api")
# CI must run it; a developer machine without Chromium skips it with a reason.
pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"), reason="Debian's chromium is missing (scripts/test installs it)"
)

SIGNAL_INPUT = '{"officer": "王警官", "certificate_no": "ZX-2026-0001"}'

# As the machine's probe starts it: the closed network refuses Chromium's background connections.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def ui_env(codec: EncryptionCodec) -> AsyncIterator[tuple[WorkflowEnvironment, int]]:
    ui_port, codec_port = _free_port(), _free_port()
    origins = [f"http://localhost:{ui_port}", f"http://127.0.0.1:{ui_port}"]
    runner = await serve(codec, "127.0.0.1", codec_port, origins)
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


async def test_officer_approves_hukou_cancellation_from_the_web_ui(
    ui_env: tuple[WorkflowEnvironment, int], keys: Keys, task_queue: str, deps: Dependencies,
    executor: concurrent.futures.ThreadPoolExecutor,
) -> None:
    assert CHROMIUM is not None, "chromium is required for the Web UI test in CI"
    env, ui_port = ui_env
    client = env.client
    async with build_worker(client, task_queue, deps, executor):
        started = await start_case(client, application(), keys.case_id_key, task_queue)
        handle: Any = client.get_workflow_handle(started.case_number)
        await certify(handle)
        await wait_for(handle, lambda s: matter_state(s, MatterCode.HUKOU_CANCELLATION) == MatterState.UNDER_REVIEW,
                       timeout=60)
        workflow_id = matter_workflow_id(started.case_number, MatterCode.HUKOU_CANCELLATION)

        async with playwright.async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = await browser.new_page(viewport={"width": 1400, "height": 1000})
                # The police officer's list: their department's open items.
                query = f"ShenhouDepartment = 'police' AND ShenhouCaseNumber = '{started.case_number}'"
                await page.goto(f"http://127.0.0.1:{ui_port}/namespaces/default/workflows?query={query}")
                await page.get_by_role("link", name=workflow_id).first.click(timeout=30_000)
                await page.get_by_role("button", name="More Actions").click()
                await page.get_by_role("menuitem", name="Send a Signal").click()
                dialog = page.locator("dialog[open]")
                await dialog.get_by_test_id("signal-select-button").click()
                # The UI lists our signals with their Chinese descriptions.
                option = dialog.locator("#signal-select-select [role=option]").filter(
                    has=page.locator("span", has_text=re.compile(r"^approve$"))
                )
                await option.first.click()
                editor = dialog.locator("[role=textbox][aria-label=Data]")
                await editor.click()
                await page.keyboard.type(SIGNAL_INPUT)
                assert json.loads(await editor.inner_text()) == json.loads(SIGNAL_INPUT)
                submit = dialog.get_by_role("button", name="Submit")
                await playwright.expect(submit).to_be_enabled()
                await submit.click()
                await playwright.expect(page.locator("dialog[open]")).to_have_count(0, timeout=30_000)
            finally:
                await browser.close()

        snap = await wait_for(handle, lambda s: s.case_state == CaseState.IN_PROGRESS, timeout=60)
    hukou = next(m for m in snap.matters if m.code == MatterCode.HUKOU_CANCELLATION)
    assert hukou.state == MatterState.APPROVED
    assert hukou.certificate_no == "ZX-2026-0001"
    # The embedded default has no sign-in: the typed name is taken, and shown as unverified (issue 19).
    assert hukou.decisions[-1].by == "王警官（未核验身份）"
    assert any("审核通过（王警官（未核验身份））" in entry.event for entry in snap.timeline)
    assert snap.hukou_certificate_no == "ZX-2026-0001"
