"""A material link opened in Chromium where staff sign in: the page finds the Web UI's sign-in on the same origin
(temporalio/ui 2.49.1 keeps the access token in localStorage ``AuthUser``), asks for the scan with it, and shows
the scan, or one Chinese line saying why not."""

from __future__ import annotations

import hashlib
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image

from tests.runtime.test_codec_auth import token
from tests.runtime.test_codec_materials import serving_scans
from tests.ui.browser import CHROMIUM, CHROMIUM_ARGS, playwright, pytestmark

__all__ = ["pytestmark"]

def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


SCAN = _png()
SHA = hashlib.sha256(SCAN).hexdigest()


@pytest.fixture
async def base_url(tmp_path: Path) -> AsyncIterator[str]:
    async with serving_scans(tmp_path, SCAN) as url:
        yield url


async def test_a_link_shows_the_scan_to_the_cases_officer_and_says_why_not_to_others(base_url: str) -> None:
    assert CHROMIUM is not None, "chromium is required for the Web UI test in CI"
    link = f"{base_url}/materials/{SHA}"
    async with playwright.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()
            # Not signed in to the Web UI on this origin.
            await page.goto(link)
            await page.wait_for_function("document.getElementById('m').textContent !== '正在打开扫描件…'")
            assert await page.text_content("#m") == "未登录：请先登录 Web UI，再从事项页面打开材料链接"

            async def signed_in_as(groups: list[str]) -> None:
                user = {"accessToken": token(name="某经办人", groups=groups), "idToken": "", "name": "某经办人"}
                await page.evaluate("user => localStorage.setItem('AuthUser', JSON.stringify(user))", user)

            # An officer of 公积金, which this case does not involve.
            await signed_in_as(["gjj-staff"])
            await page.goto(link)
            await page.wait_for_function("document.getElementById('m').textContent !== '正在打开扫描件…'")
            assert await page.text_content("#m") == "无权查看此扫描件：只有该案所涉部门的经办人可以查看"

            # The case's police officer: the scan itself, from a blob: address (no token in any URL).
            await signed_in_as(["gaj-staff"])
            await page.goto(link)
            await page.wait_for_url(lambda url: url.startswith("blob:"))
            size = await page.evaluate("[document.images[0].naturalWidth, document.images[0].naturalHeight]")
            assert size == [40, 30]
        finally:
            await browser.close()
