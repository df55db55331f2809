"""What the progress page tells a family beyond the happy path, in a real browser (Debian's Chromium through
Playwright) against the real portal, Temporal dev server, worker and register: an officer's 补正 request
(what to bring and where), an approval offset by money paid after the death (抵扣, and 需退回 when the offset
is larger), and the per-address limit on wrong query codes.

Screenshots go to $SHENHOU_SCREENSHOTS (default /tmp/shenhou-portal-screenshots), numbered after the ones of
``test_portal_browser.py``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.worker import Worker

from activities.calendar import WorkingDayCalendar
from domain.enums import MatterCode, MatterState, PensionStatus
from domain.policy import Policy
from domain.query_code import query_code
from portal.app import PortalServices
from runtime.keys import Keys
from tests.portal.conftest import PHONE_CONTEXT, Portal, portal_settings, screenshot, serve_portal
from tests.portal.test_portal_browser import sign_in
from tests.workflows.helpers import (
    TODAY,
    application_with,
    matter_handle,
    matter_state,
    start,
    to_parallel_phase,
    view_of,
    wait_for,
)

M = MatterCode
NHSA = M.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT
PENSION = M.ENTERPRISE_RETIREE_DEATH_BENEFIT
HPF = M.PROVIDENT_FUND_DEATH_WITHDRAWAL


def card(page: Any, short_name: str) -> Any:
    """The matter's card on the progress page, found by its heading."""
    return page.locator("section.matter").filter(has=page.locator("h2", has_text=short_name))


async def pairs(section: Any, selector: str = "dl.pairs") -> dict[str, str]:
    """A definition list as the family reads it: label → value (a note below the value after one space)."""
    labels = [" ".join(t.split()) for t in await section.locator(f"{selector} > dt").all_inner_texts()]
    values = [" ".join(t.split()) for t in await section.locator(f"{selector} > dd").all_inner_texts()]
    assert len(labels) == len(values)
    return dict(zip(labels, values, strict=True))


async def test_a_materials_request_tells_the_family_what_to_bring_and_where(
    portal: Portal, browser: Any, client: Client, keys: Keys, task_queue: str, worker: Worker,
) -> None:
    window = Policy().window
    handle = await start(client, keys, task_queue, application_with(PensionStatus.ENTERPRISE_RETIREE, NHSA, HPF))
    await to_parallel_phase(client, handle)
    items = ["医保卡原件", "逝者户口簿首页复印件"]
    await matter_handle(client, handle.id, NHSA).signal("request_materials", {"officer": "孙科员", "items": items})
    await wait_for(handle, lambda s: matter_state(s, NHSA) == MatterState.AWAITING_MATERIALS)

    context = await browser.new_context(**PHONE_CONTEXT)
    page = await context.new_page()
    await sign_in(page, portal, handle.id, query_code(handle.id, keys.query_code_key))
    medical = card(page, "医保个人账户清算")
    assert "需要补正材料" in await medical.locator(".matter-state").inner_text()
    notice = await medical.locator(".notice.action").inner_text()
    assert "需补正材料：医保卡原件、逝者户口簿首页复印件" in notice
    for told in (window.name, window.address, window.hours, window.phone, "补交后恢复计时"):
        assert told in notice, told
    # While the materials are awaited no completion day is promised.
    rows = await pairs(medical)
    assert rows["预计办结"] == "暂无法预计 计时暂停：补正材料交齐后恢复计时，届时重新预计"
    assert "承诺办结期限" not in rows
    # Only the matter that asked for materials says so; the other one is still with its department.
    fund = card(page, "公积金死亡提取")
    assert await fund.locator(".notice.action").count() == 0
    assert "部门审核中" in await fund.locator(".matter-state").inner_text()
    await screenshot(page, "10-progress-materials-requested")

    # The family brings them to the window: the request disappears and the department has the matter again.
    await handle.signal("materials_supplemented", {"matter": NHSA.value, "items": items})
    await wait_for(handle, lambda s: matter_state(s, NHSA) == MatterState.UNDER_REVIEW)
    await page.reload()
    medical = card(page, "医保个人账户清算")
    assert await medical.locator(".notice.action").count() == 0
    assert "部门审核中" in await medical.locator(".matter-state").inner_text()
    assert "需补正材料" not in await page.inner_text("main")
    await context.close()


async def test_an_offset_approval_shows_what_is_deducted_paid_and_to_be_returned(
    portal: Portal, browser: Any, client: Client, keys: Keys, task_queue: str, worker: Worker,
) -> None:
    handle = await start(client, keys, task_queue, application_with(PensionStatus.ENTERPRISE_RETIREE, NHSA))
    await to_parallel_phase(client, handle)
    # More pension paid after the death than this benefit: the family is paid the difference.
    await matter_handle(client, handle.id, PENSION).signal("approve", {
        "officer": "人社钱", "amount": "12000.00", "overpaid": "3150.55", "overpaid_source": "养老金多发3个月"})
    # More drawn from the medical account than is due: nothing is paid and the family owes the rest.
    await matter_handle(client, handle.id, NHSA).signal("approve", {
        "officer": "医保赵", "amount": "800.00", "overpaid": "1300.00", "overpaid_source": "医保账户多划"})
    snap = await wait_for(handle, lambda s: matter_state(s, PENSION) == MatterState.PAYING
                          and matter_state(s, NHSA) == MatterState.APPROVED)
    account = snap.payee_card
    assert account

    context = await browser.new_context(**PHONE_CONTEXT)
    page = await context.new_page()
    await sign_in(page, portal, handle.id, query_code(handle.id, keys.query_code_key))

    pension = card(page, "企业退休职工死亡待遇")
    assert "审核通过，款项发放中" in await pension.locator(".matter-state").inner_text()
    money = await pairs(pension, "dl.money")
    assert money["核定金额"] == "12,000.00元"
    assert money["抵扣（逝者身故后多领）"] == "3,150.55元 养老金多发3个月"
    assert money["实发金额"] == "8,849.45元"
    assert money["收款账户"] == account
    assert money["发放流水号"] == view_of(snap, PENSION).payment_reference
    assert "需退回金额" not in money

    medical = card(page, "医保个人账户清算")
    assert "已办结（审核通过）" in await medical.locator(".matter-state").inner_text()
    owed = await pairs(medical, "dl.money")
    assert owed["核定金额"] == "800.00元"
    assert owed["抵扣（逝者身故后多领）"] == "1,300.00元 医保账户多划"
    assert owed["实发金额"] == "0.00元"
    assert owed["需退回金额"] == "500.00元 请按部门通知办理退回"
    # Nothing is sent to the family's account for this matter.
    assert "收款账户" not in owed and "发放流水号" not in owed
    await screenshot(page, "11-progress-offset-and-return")
    await context.close()


async def test_wrong_codes_from_one_address_make_it_wait_whatever_the_case_number(
    browser: Any, client: Client, keys: Keys, task_queue: str, worker: Worker, engine: Engine,
    calendar: WorkingDayCalendar, tmp_path: Path,
) -> None:
    target = await start(client, keys, task_queue)
    untouched = await start(client, keys, task_queue)
    right = query_code(target.id, keys.query_code_key)
    wrong = f"{(int(right) + 1) % 10**8:08d}"
    # Behind the HTTPS proxy (as in compose): it is the trusted proxy here, and puts the family's address in
    # X-Forwarded-For.
    settings = portal_settings(tmp_path, task_queue=task_queue, portal_forwarded_allow_ips="127.0.0.1")
    services = PortalServices(settings=settings, policy=Policy(), keys=keys, client=client, engine=engine,
                              calendar=calendar, today=lambda: TODAY)
    async with serve_portal(services) as portal:
        guesser = await browser.new_context(**PHONE_CONTEXT, extra_http_headers={"X-Forwarded-For": "203.0.113.7"})
        page = await guesser.new_page()
        # 5 wrong codes (the free ones per address), each for another number.
        numbers = [target.id, "SH-AAAAAAAAAAAA", "SH-BBBBBBBBBBBB", "SH-CCCCCCCCCCCC", "SH-DDDDDDDDDDDD"]
        for number in numbers:
            await sign_in(page, portal, number, wrong)
            assert "受理编号或查询码不正确" in await page.inner_text("main")

        # The next try waits, before any code is checked: the right code of a number tried once, and that of a
        # case never tried from here.
        for case_number in (target.id, untouched.id):
            async with page.expect_response(lambda r: r.request.method == "POST") as answer:
                await sign_in(page, portal, case_number, query_code(case_number, keys.query_code_key))
            assert (await answer.value).status == 429
            text = await page.inner_text("main")
            assert "查询码错误次数过多，请1分钟后再试" in text
            for secret in ("户口注销", "部门审核中", "受理时间", "逝者", "收款账户", "办理过程"):
                assert secret not in text, secret
            assert page.url == f"{portal.url}/progress"
        await screenshot(page, "12-too-many-wrong-codes")
        await page.goto(f"{portal.url}/progress")
        assert await page.locator('[name="code"]').count() == 1  # still the sign-in form: no session was opened

        # Another family, from another address, is not held back by these attempts.
        family = await browser.new_context(**PHONE_CONTEXT, extra_http_headers={"X-Forwarded-For": "198.51.100.23"})
        other = await family.new_page()
        await sign_in(other, portal, untouched.id, query_code(untouched.id, keys.query_code_key))
        text = await other.inner_text("main")
        assert untouched.id in text and "户口注销" in text
        await guesser.close()
        await family.close()
