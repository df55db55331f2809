"""The officers' real path: the Temporal Web UI in a headless browser, decrypting through the codec
server, finds a matter workflow and sends `approve` with typed JSON through Send a Signal."""

from __future__ import annotations

import concurrent.futures
import json
import re
from collections.abc import AsyncIterator

import pytest
from temporalio.testing import WorkflowEnvironment

from domain.enums import CaseState, MatterCode, MatterState
from runtime.codec import EncryptionCodec
from runtime.keys import Keys
from tests.ui.browser import CHROMIUM, CHROMIUM_ARGS, free_port, hukou_under_review, playwright, pytestmark, web_ui
from tests.workflows.helpers import application, wait_for
from worker import Dependencies, build_worker

__all__ = ["pytestmark"]

SIGNAL_INPUT = '{"officer": "王警官", "certificate_no": "ZX-2026-0001"}'


@pytest.fixture
async def ui_env(codec: EncryptionCodec) -> AsyncIterator[tuple[WorkflowEnvironment, int]]:
    async with web_ui(codec, free_port()) as found:
        yield found


async def test_officer_approves_hukou_cancellation_from_the_web_ui(
    ui_env: tuple[WorkflowEnvironment, int], keys: Keys, task_queue: str, deps: Dependencies,
    executor: concurrent.futures.ThreadPoolExecutor,
) -> None:
    assert CHROMIUM is not None, "chromium is required for the Web UI test in CI"
    env, ui_port = ui_env
    client = env.client
    async with build_worker(client, task_queue, deps, executor):
        handle, case_number, workflow_id = await hukou_under_review(client, application(), keys, task_queue)

        async with playwright.async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = await browser.new_page(viewport={"width": 1400, "height": 1000})
                # The police officer's list: their department's open items.
                query = f"ShenhouDepartment = 'police' AND ShenhouCaseNumber = '{case_number}'"
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
