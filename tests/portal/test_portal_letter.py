"""The heirs' letter on the portal (portal/letter.py): the page and the PDF for the family following a finished
case, nothing for anyone else, nothing before 办结. The case's status is a stand-in (tests/letters/cases.py); the
letter's content and PDF are tested in tests/letters/."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from pypdf import PdfReader
from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.worker import Worker

from activities.calendar import WorkingDayCalendar
from client.letter_pdf import DEFAULT_FONT_FILE
from domain.enums import CaseState, MatterCode, PensionStatus
from domain.models import StatusSnapshot
from domain.policy import Policy
from domain.query_code import query_code
from portal.app import PortalServices, create_app
from runtime.keys import Keys
from runtime.settings import Settings
from tests.letters.cases import CASE, finished
from tests.letters.test_heirs_letter import font_or_skip, pdf_text
from tests.portal.conftest import PHONE_CONTEXT, Portal, portal_settings, screenshot, serve_portal, token_of
from tests.portal.test_portal_browser import sign_in
from tests.workflows.helpers import (
    TODAY,
    application_with,
    complete_parallel,
    start,
    status,
    to_parallel_phase,
)

NHSA = MatterCode.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT
HPF = MatterCode.PROVIDENT_FUND_DEATH_WITHDRAWAL


@pytest.fixture
def state(monkeypatch: pytest.MonkeyPatch) -> dict[str, CaseState]:
    """The state the stand-in status answers with (COMPLETED unless a test changes it)."""
    current = {"state": CaseState.COMPLETED}

    async def status(_client: Any, number: str) -> StatusSnapshot:
        assert number == CASE
        return finished(current["state"])

    monkeypatch.setattr("portal.letter.case_status", status)
    monkeypatch.setattr("portal.app.case_status", status)
    return current


@pytest.fixture
async def http(keys: Keys, engine: Engine, calendar: WorkingDayCalendar, tmp_path: Path) -> Any:
    settings = Settings(data_dir=tmp_path / "data", letter_font_file=DEFAULT_FONT_FILE)
    services = PortalServices(settings=settings, policy=Policy(), keys=keys, client=None,  # type: ignore[arg-type]
                              engine=engine, calendar=calendar, today=lambda: TODAY)
    transport = httpx.ASGITransport(app=create_app(services))
    async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as client:
        yield client


async def follow(http: httpx.AsyncClient, keys: Keys, number: str = CASE) -> None:
    page = await http.get("/progress")
    answer = await http.post("/progress", data={
        "case_number": number, "code": query_code(number, keys.query_code_key), "csrf_token": token_of(page.text)})
    assert answer.status_code == 303


async def test_no_letter_without_following_the_case(http: httpx.AsyncClient, state: dict[str, CaseState]) -> None:
    for path in ("/progress/letter", "/progress/letter.pdf"):
        answer = await http.get(path)
        assert answer.status_code == 303 and answer.headers["location"] == "/progress"


async def test_a_finished_case_links_its_letter_shows_it_and_gives_the_pdf(
    http: httpx.AsyncClient, keys: Keys, state: dict[str, CaseState],
) -> None:
    await follow(http, keys)
    progress = await http.get("/progress")
    assert progress.status_code == 200 and "下载告知书（PDF）" in progress.text
    page = await http.get("/progress/letter")
    assert page.status_code == 200
    for told in ("身后事项办理告知书（继承人）", "8,849.45元", "PAY-HRSS-0001", "56,321.07元", "PAY-HPF-0002",
                 "各银行单家不超过5万元的小额存款", "逝者未享受残疾人两项补贴"):
        assert told in page.text, told
    font_or_skip()
    pdf = await http.get("/progress/letter.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    # The filename names no person and no case.
    assert pdf.headers["content-disposition"] == 'attachment; filename="heirs-letter.pdf"'
    assert pdf.headers["cache-control"] == "no-store"
    text = pdf_text(pdf.content)
    assert "PAY-HRSS-0001" in text and "56,321.07元" in text and "5万元" in text
    assert len(PdfReader(io.BytesIO(pdf.content)).pages) >= 1


async def test_an_unfinished_case_has_no_letter(
    http: httpx.AsyncClient, keys: Keys, state: dict[str, CaseState],
) -> None:
    state["state"] = CaseState.IN_PROGRESS
    await follow(http, keys)
    assert "下载告知书" not in (await http.get("/progress")).text
    for path in ("/progress/letter", "/progress/letter.pdf"):
        answer = await http.get(path)
        assert answer.status_code == 404 and "案件全部办结后" in answer.text
        assert answer.headers["content-type"].startswith("text/html")


async def test_the_letter_page_in_a_browser(
    keys: Keys, engine: Engine, calendar: WorkingDayCalendar, tmp_path: Path, browser: Any,
    state: dict[str, CaseState],
) -> None:
    """The family follows the finished case on a phone, opens the letter from the progress page, and sees it."""
    settings = portal_settings(tmp_path)
    services = PortalServices(settings=settings, policy=Policy(), keys=keys, client=None,  # type: ignore[arg-type]
                              engine=engine, calendar=calendar, today=lambda: TODAY)
    async with serve_portal(services) as portal:
        context = await browser.new_context(**PHONE_CONTEXT)
        page = await context.new_page()
        await sign_in(page, portal, CASE, query_code(CASE, keys.query_code_key))
        assert await page.locator("#letter-pdf").inner_text() == "下载告知书（PDF）"
        await page.click('a[href="/progress/letter"]')
        await page.wait_for_url(f"{portal.url}/progress/letter")
        assert "身后事项办理告知书（继承人）" in await page.inner_text("h1")
        paid = await page.inner_text("#paid")
        assert "PAY-HRSS-0001" in paid and "合计实发：65,170.52元" in paid
        assert "各银行单家不超过5万元的小额存款" in await page.inner_text("#remaining")
        await screenshot(page, "30-heirs-letter")
        await context.close()


async def test_a_case_run_to_completion_gives_a_pdf_naming_each_payment(
    portal: Portal, client: Client, keys: Keys, task_queue: str, worker: Worker,
) -> None:
    """End to end against the dev server, the worker and the real portal: every matter approved and each payment
    confirmed by the paying system; the letter's PDF names each payment's amount and reference and the
    deposit rule."""
    font_or_skip()
    handle = await start(client, keys, task_queue, application_with(PensionStatus.ENTERPRISE_RETIREE, NHSA, HPF))
    await to_parallel_phase(client, handle)
    result = await complete_parallel(client, handle)
    assert result.state is CaseState.COMPLETED
    snapshot = await status(handle)
    payments = [(v.net_amount, v.payment_reference) for v in snapshot.matters if v.payment_reference]
    assert len(payments) == 3
    async with httpx.AsyncClient(base_url=portal.url) as http:
        await follow(http, keys, handle.id)
        pdf = await http.get("/progress/letter.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.content, handle.id)
    for amount, reference in payments:
        assert amount is not None and reference is not None
        assert f"{amount:,.2f}元" in text and reference in text, (amount, reference)
    assert "各银行单家不超过5万元的小额存款，继承人可凭死亡证明、亲属关系证明等材料办理，无需公证。" in text
