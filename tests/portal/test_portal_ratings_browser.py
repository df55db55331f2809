"""好差评 in a real browser (Debian's Chromium through Playwright) on a phone's screen: the family of a finished
case rates a matter, is told in Chinese what is missing, and then sees 已评价. The case's status is a fixed
snapshot (no Temporal); the register is real. Screenshots: $SHENHOU_SCREENSHOTS (rating-form.png, rated.png)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from activities.calendar import WorkingDayCalendar
from domain.enums import CaseState, MatterState
from domain.policy import Policy
from domain.query_code import query_code
from portal import app as portal_app
from portal.app import PortalServices
from register.tables import RatingRow
from runtime.keys import Keys
from tests.portal.conftest import PHONE_CONTEXT, portal_settings, screenshot, serve_portal
from tests.portal.test_portal_browser import sign_in
from tests.portal.test_portal_ratings import CASE, NHSA, Status, snapshot
from tests.workflows.helpers import TODAY

# The matter's rating block (its id holds the matter's code, dots and all).
MEDICAL = f'[id="rating-{NHSA.value}"]'


async def test_the_family_rates_a_matter_on_a_phone(
    browser: Any, keys: Keys, engine: Engine, calendar: WorkingDayCalendar, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    status = Status()
    status.now = snapshot(CaseState.COMPLETED, MatterState.PAID, MatterState.REJECTED)
    monkeypatch.setattr(portal_app, "case_status", status)
    services = PortalServices(settings=portal_settings(tmp_path), policy=Policy(), keys=keys,
                              client=None,  # type: ignore[arg-type]
                              engine=engine, calendar=calendar, today=lambda: TODAY)
    async with serve_portal(services) as portal:
        context = await browser.new_context(**PHONE_CONTEXT)
        page = await context.new_page()
        await sign_in(page, portal, CASE, query_code(CASE, keys.query_code_key))
        whole = page.locator("#rating-case")
        assert "整体办理的评价" in await whole.inner_text()
        labels = await whole.locator(".scores label").all_inner_texts()
        assert [label.strip() for label in labels] == ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
        await screenshot(page, "rating-form")

        # Submitted without a grade: told so, the comment kept.
        medical = page.locator(MEDICAL)
        await medical.locator("textarea").fill("一次办好，不用来回跑。")
        await medical.locator("button[type=submit]").click()
        await page.wait_for_load_state()
        medical = page.locator(MEDICAL)
        assert "请选择满意程度" in await medical.locator(".error").inner_text()
        assert await medical.locator("textarea").input_value() == "一次办好，不用来回跑。"
        await screenshot(page, "rating-error")

        await medical.get_by_label("满意", exact=True).check()
        await medical.locator("button[type=submit]").click()
        await page.wait_for_load_state()
        medical = page.locator(MEDICAL)
        assert "已评价：满意" in await medical.inner_text()
        await medical.scroll_into_view_if_needed()
        await screenshot(page, "rated")
        await context.close()
    with Session(engine) as session:
        [row] = session.exec(select(RatingRow)).all()
    assert (row.subject, row.score, row.comment) == (NHSA.value, 4, "一次办好，不用来回跑。")
