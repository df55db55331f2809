"""The HTML report in a real browser (Playwright driving Debian's chromium): it opens from the file alone,
its Chinese is drawn with a CJK font, its charts are drawn, and it prints on A4 without overflowing.

The screenshot is left in the test's temporary folder (``report.png``) for a person to look at.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from register.engine import create_schema, make_engine
from tests.register.rows import fill, fill_ratings
from tests.starter.report_cli import _restore_logging, data_dir, report

__all__ = ["_restore_logging", "data_dir"]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright = pytest.importorskip("playwright.async_api")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"), reason="Debian's chromium is missing (scripts/test installs it)"
)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
# A4 landscape less the page margins (@page: 10 mm each side), in CSS pixels (96 per inch).
PRINTABLE_WIDTH_PX = round((297 - 20) / 25.4 * 96)

# For each chart: its natural size, and how much of it is not white and how many colours it has.
CHART_PIXELS = """
(img) => {
  const canvas = document.createElement("canvas");
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  const context = canvas.getContext("2d");
  context.drawImage(img, 0, 0);
  const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
  let inked = 0;
  const colours = new Set();
  for (let i = 0; i < data.length; i += 4 * 7) {
    if (data[i] < 235 || data[i + 1] < 235 || data[i + 2] < 235) inked++;
    colours.add((data[i] >> 4) * 256 + (data[i + 1] >> 4) * 16 + (data[i + 2] >> 4));
  }
  return {width: img.naturalWidth, height: img.naturalHeight, complete: img.complete,
          inked: inked / (data.length / (4 * 7)), colours: colours.size};
}
"""


@pytest.fixture
def html_report(data_dir: Path) -> Path:
    engine: Engine = make_engine(f"sqlite:///{data_dir / 'register.db'}")
    create_schema(engine)
    fill(engine)
    fill_ratings(engine)
    engine.dispose()
    target = data_dir / "报表.html"
    result = report("--from", "2037-03-01", "--to", "2037-04-30", "--html", str(target))
    assert result.exit_code == 0, result.output
    assert f"报表已写入：{target}" in result.stdout
    return target


async def _fonts_for(page: Any, selector: str) -> list[dict[str, Any]]:
    """The platform fonts chromium drew an element's text with (DevTools: CSS.getPlatformFontsForNode)."""
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("DOM.enable")
    await cdp.send("CSS.enable")
    document = await cdp.send("DOM.getDocument", {"depth": -1})
    found = await cdp.send("DOM.querySelector", {"nodeId": document["root"]["nodeId"], "selector": selector})
    fonts = await cdp.send("CSS.getPlatformFontsForNode", {"nodeId": found["nodeId"]})
    result: list[dict[str, Any]] = fonts["fonts"]
    return result


@contextlib.asynccontextmanager
async def offline_report(path: Path, screenshot: Path) -> AsyncIterator[Any]:
    """The report opened from its file with the network off, a full-page screenshot taken; only the page
    itself was loaded (the charts are inline data)."""
    assert CHROMIUM is not None, "chromium is required for this test in CI"
    async with playwright.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport={"width": 1200, "height": 900}, offline=True)
            page = await context.new_page()
            requests: list[str] = []
            page.on("request", lambda request: requests.append(request.url))
            await page.goto(path.as_uri())
            await page.wait_for_load_state("load")
            await page.screenshot(path=str(screenshot), full_page=True)
            assert [url for url in requests if not url.startswith(("file:", "data:"))] == []
            yield page
        finally:
            await browser.close()


async def assert_charts_drawn(page: Any) -> None:
    for chart in ("#chart-on-time", "#chart-trend", "#chart-satisfaction"):
        pixels = await page.eval_on_selector(chart, CHART_PIXELS)
        assert pixels["complete"] and pixels["width"] > 400 and pixels["height"] > 300, (chart, pixels)
        # Drawn: bars or lines and labels in several colours, not a blank or one-colour image.
        assert 0.03 < pixels["inked"] < 0.9 and pixels["colours"] > 8, (chart, pixels)


async def test_report_opens_offline_with_chinese_text_and_both_charts(html_report: Path, data_dir: Path) -> None:
    page_source = html_report.read_text(encoding="utf-8")
    # Self-contained: no address to fetch anything from.
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", page_source)
    assert "@page" in page_source

    screenshot = data_dir / "report.png"
    async with offline_report(html_report, screenshot) as page:
        assert await page.title() == "固阳县身后“一件事一次办”承诺时限履行情况"
        heading = await page.inner_text("h1")
        assert heading == "固阳县身后“一件事一次办”承诺时限履行情况"
        assert "统计期：2037-03-01 至 2037-04-30" in await page.inner_text(".meta")
        body = await page.inner_text("body")
        assert "66.7%" in body and "6,234.57元" in body and "医保个人账户清算（5日）" in body
        # 满意度: 医保局 rated 5, 4 and 2; one whole case rated 5.
        satisfaction = await page.inner_text("table.satisfaction")
        assert "满意度（好差评）" in body and "3.67" in satisfaction and "案件整体评价" in satisfaction

        # Chinese drawn with a CJK font's glyphs (not boxes from a font without them).
        for selector in ("h1", "table thead th.first", "ol.semantics li"):
            fonts = await _fonts_for(page, selector)
            assert fonts, selector
            assert all("CJK" in font["familyName"] for font in fonts), (selector, fonts)
            assert sum(font["glyphCount"] for font in fonts) > 0

        await assert_charts_drawn(page)
        for chart in ("#chart-on-time", "#chart-trend"):
            shown = await page.eval_on_selector(chart, "(img) => img.getBoundingClientRect().width")
            assert shown > 300

        # Print: A4 landscape, and nothing wider than the printable width.
        await page.emulate_media(media="print")
        await page.set_viewport_size({"width": PRINTABLE_WIDTH_PX, "height": 900})
        overflow = await page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0
        pdf = await page.pdf(prefer_css_page_size=True, print_background=True)
        boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
        assert boxes, "no pages in the printed PDF"
        assert {(round(float(w)), round(float(h))) for w, h in boxes} == {(842, 595)}
    assert screenshot.stat().st_size > 50_000
