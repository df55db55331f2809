"""The officer's desk in the real Web UI (bundled UI 2.54, headless Chromium): a matter's own page briefs its
officer — the case (deceased, applicant, relationship, situation, claims, materials), the deadline in 北京时间
with the working days left, and the signals with examples — without opening the parent case.

Screenshots go to ``SHENHOU_SCREENSHOTS`` (default /tmp/shenhou-officer-screenshots) for people to look at.
"""

from __future__ import annotations

import concurrent.futures
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from temporalio.testing import WorkflowEnvironment

from activities.calendar import WorkingDayCalendar
from client import worklist
from domain import search_attributes as names
from domain.application import RELATIONSHIP_LABELS
from domain.enums import Department, MaterialKind, MatterState
from domain.identity import mask_name
from domain.models import StatusSnapshot
from domain.policy import Policy
from register.sealing import Sealer
from runtime.codec import EncryptionCodec
from runtime.keys import Keys
from runtime.materials import MaterialStore, scan_url
from tests.signing import TRUST
from tests.ui.browser import CHROMIUM, CHROMIUM_ARGS, free_port, hukou_under_review, playwright, pytestmark, web_ui
from tests.workflows import timeskip as ts
from tests.workflows.helpers import application
from worker import Dependencies, build_worker

__all__ = ["pytestmark"]

SCREENSHOTS = Path(os.environ.get("SHENHOU_SCREENSHOTS", "/tmp/shenhou-officer-screenshots"))
SCAN = b"%PDF-1.4 a scanned death certificate"


@pytest.fixture
def codec_port() -> int:
    return free_port()


@pytest.fixture
def deps(engine: Engine, calendar: WorkingDayCalendar, sealer: Sealer, codec_port: int) -> Dependencies:
    # As the embedded default's worker: scans open at its own codec server.
    return Dependencies(engine=engine, policy=Policy(scan_url=scan_url(codec_port)), calendar=calendar,
                        sealer=sealer, trust=TRUST)


@pytest.fixture
async def ui_env(
    codec: EncryptionCodec, codec_port: int, sealer: Sealer, tmp_path: Path
) -> AsyncIterator[tuple[WorkflowEnvironment, int]]:
    """The Web UI decrypting through a codec server that also serves the materials store in ``tmp_path``."""
    async with web_ui(codec, codec_port, MaterialStore(tmp_path / "materials", sealer)) as found:
        yield found


async def test_a_matters_page_briefs_its_officer_without_opening_the_case(
    ui_env: tuple[WorkflowEnvironment, int], keys: Keys, task_queue: str, deps: Dependencies,
    executor: concurrent.futures.ThreadPoolExecutor, tmp_path: Path,
) -> None:
    assert CHROMIUM is not None, "chromium is required for the Web UI test in CI"
    env, ui_port = ui_env
    client = env.client
    app = application()
    # The window stored the death certificate's scan under its hash.
    certificate = next(ref for ref in app.materials if ref.kind == MaterialKind.DEATH_CERTIFICATE.value)
    (tmp_path / "materials").mkdir()
    (tmp_path / "materials" / certificate.sha256).write_bytes(SCAN)
    async with build_worker(client, task_queue, deps, executor):
        _, _, workflow_id = await hukou_under_review(client, app, keys, task_queue)
        # The matter's own status names the people (masked), as the case's does.
        snap = await client.get_workflow_handle(workflow_id).query("status", result_type=StatusSnapshot)
        assert (snap.deceased, snap.applicant) == (mask_name(app.deceased.name), mask_name(app.applicant.name)
                                                   + "（" + RELATIONSHIP_LABELS[app.applicant.relationship] + "）")

        async with playwright.async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = await browser.new_page(viewport={"width": 1400, "height": 1400})
                await page.goto(f"http://127.0.0.1:{ui_port}/namespaces/default/workflows/{workflow_id}")
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                # The timeline names each timer: the next ladder step, in 北京时间.
                await playwright.expect(page.get_by_text("（北京时间）").first).to_be_visible(timeout=30_000)
                await page.screenshot(path=str(SCREENSHOTS / "1-matter-timeline.png"), full_page=True)
                # User Metadata: the case's summary and details, and where the matter stands now.
                await page.get_by_text("User Metadata", exact=True).first.click()
                deceased = mask_name(app.deceased.name)

                async def shown() -> str:
                    # The UI renders each Markdown text in its own sandboxed frame.
                    texts = [await frame.locator("body").inner_text() for frame in page.frames]
                    return "\n".join(texts)

                try:
                    body = await ts.poll(shown, lambda text: f"逝者{deceased}" in text and "承诺期限" in text,
                                         timeout=30)
                finally:
                    await page.screenshot(path=str(SCREENSHOTS / "2-matter-user-metadata.png"), full_page=True)
                assert "北京时间" in body and "剩余" in body and "个工作日" in body, body[:3000]
                assert mask_name(app.applicant.name) in body and "approve" in body and "certificate_no" in body
                for secret in (app.deceased.id_number, app.applicant.id_number, app.deceased.name):
                    assert secret not in body
                # Each material links to its scan, which this machine may open.
                links = [await frame.locator("a").evaluate_all("(anchors) => anchors.map(a => a.href)")
                         for frame in page.frames]
                href = next(link for found in links for link in found if certificate.sha256 in link)
                scan = await page.request.get(href)
                assert scan.status == 200 and await scan.body() == SCAN
                assert scan.headers["content-type"] == "application/pdf"

                # Send a Signal: nothing unnamed is chosen for the officer; each signal says its example.
                await page.get_by_role("button", name="More Actions").click()
                await page.get_by_role("menuitem", name="Send a Signal").click()
                dialog = page.locator("dialog[open]")
                await playwright.expect(dialog).to_have_count(1)
                await page.screenshot(path=str(SCREENSHOTS / "4-signal-dialog.png"))
                # The UI lists the dynamic handler first, unnamed, as chosen: it reads as the prompt to choose.
                first = dialog.locator("#signal-select-select [role=option]").nth(1)
                await playwright.expect(first).to_contain_text("请在下方选择要发送的信号", timeout=30_000)
                await dialog.get_by_test_id("signal-select-button").click()
                await playwright.expect(first).to_be_visible()
                await page.screenshot(path=str(SCREENSHOTS / "5-signal-list.png"))
                await playwright.expect(dialog.get_by_role("button", name="Submit")).to_be_disabled()
            finally:
                await browser.close()


async def test_a_departments_worklist_link_lists_its_items_with_state_and_deadline(
    ui_env: tuple[WorkflowEnvironment, int], keys: Keys, task_queue: str, deps: Dependencies,
    executor: concurrent.futures.ThreadPoolExecutor,
) -> None:
    assert CHROMIUM is not None, "chromium is required for the Web UI test in CI"
    env, ui_port = ui_env
    client = env.client
    async with build_worker(client, task_queue, deps, executor):
        _, _, workflow_id = await hukou_under_review(client, application(), keys, task_queue)
        found = worklist.views(f"http://127.0.0.1:{ui_port}", "default", (Department.POLICE,))
        todo = next(view for view in found if view.name == "待办")

        async with playwright.async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = await browser.new_page(viewport={"width": 1600, "height": 900})
                await page.goto(f"http://127.0.0.1:{ui_port}/namespaces/default/workflows")
                # What the officer pastes once into the console (without its reload), then the link.
                setup = worklist.browser_setup("default", found).removesuffix(";location.reload()")
                await page.evaluate(setup)
                await page.goto(todo.url)
                await playwright.expect(page.get_by_role("link", name=workflow_id).first).to_be_visible(
                    timeout=30_000)
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                await page.screenshot(path=str(SCREENSHOTS / "3-police-worklist.png"), full_page=True)
                table = await page.locator("table").first.inner_text()
                assert names.MATTER_STATE in table and names.DEADLINE in table, table
                assert MatterState.UNDER_REVIEW.value in table
                # Times in 北京时间: the deadline is the end of the second working day after the push.
                assert "12:00:00.00 AM GMT+8" in table, table
            finally:
                await browser.close()
