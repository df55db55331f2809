"""Matters added on the portal: only the case's own applicant, signed in, adds to their online case, and only the
online channel's matters (the others are sent to the window in the apply page's words). Over HTTP against the
real portal, stand-in identity provider, Temporal dev server and worker; the family's whole path is in
test_portal_browser.py."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.worker import Worker

from client.operations import start_case
from domain.application import validate_application
from domain.enums import CaseState, Channel, MatterCode, MatterState, PensionStatus
from domain.ids import matter_workflow_id
from domain.models import Application
from domain.policy import Policy
from domain.query_code import query_code
from portal.app import NOT_YOURS
from register.lookups import cases_of_applicant
from register.sealing import Sealer
from runtime.keys import Keys
from tests.factories import APPLICANT_CARD, DECEASED_CARD, REMOVE, unique_form
from tests.portal.conftest import (
    PHONE_CONTEXT,
    Portal,
    http_sign_in,
    new_id_number,
    scans,
    screenshot,
    token_of,
)
from tests.workflows.helpers import (
    TODAY,
    application,
    approve,
    approve_hukou,
    case_handle,
    certify,
    exists,
    inbox_rows,
    refused,
    view_of,
    wait_for,
)

HPF = MatterCode.PROVIDENT_FUND_DEATH_WITHDRAWAL
DPF = MatterCode.DISABILITY_SUBSIDY_TERMINATION
NHSA = MatterCode.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT
_seeds = itertools.count(950_000)



async def started_online(client: Client, keys: Keys, engine: Engine, task_queue: str, applicant_id: str) -> str:
    """An online case for 人社 and 医保 whose applicant is ``applicant_id``, once the register knows it."""
    app = application(channel=Channel.ONLINE.value, applicant__id_number=applicant_id, situations={
        "pension_status": PensionStatus.RESIDENT_PENSIONER.value, "employee_medical_insurance": True})
    number = (await start_case(client, app, keys.case_id_key, task_queue, register=engine)).case_number
    await wait_for(case_handle(client, number), lambda s: number in cases_of_applicant(
        engine, Sealer.from_keys(keys), applicant_id))
    return number


async def test_only_the_cases_own_applicant_adds_and_only_the_online_channels_matters(
    portal: Portal, client: Client, keys: Keys, engine: Engine, worker: Worker, task_queue: str,
) -> None:
    me = new_id_number()
    number = await started_online(client, keys, engine, task_queue, me)
    handle = case_handle(client, number)
    before = await wait_for(handle, lambda s: s.case_state == CaseState.HUKOU_CANCELLING)

    # Someone else, signed in, who follows the case with its number and code: no way to add, and the same
    # answer as for a case they cannot see.
    async with httpx.AsyncClient(base_url=portal.url) as other:
        await http_sign_in(other, portal.url, "李华", new_id_number(), then="/progress")
        mine = await other.get("/mine")
        followed = await other.post("/progress", data={
            "case_number": number, "code": query_code(number, keys.query_code_key), "csrf_token": token_of(mine.text)})
        assert followed.status_code == 303
        progress = await other.get("/progress")
        assert progress.status_code == 200 and "追加申请事项" not in progress.text
        page = await other.get("/progress/add")
        assert page.status_code == 404 and NOT_YOURS in page.text
        sent = await other.post("/progress/add", data={
            "csrf_token": token_of(progress.text), "matters": DPF.value, "situations.disability_subsidy": "true"})
        assert sent.status_code == 404 and NOT_YOURS in sent.text
        # Not signed in at all: sent to sign in, nothing added.
        async with httpx.AsyncClient(base_url=portal.url) as stranger:
            assert (await stranger.get("/progress/add")).status_code == 303

    async with httpx.AsyncClient(base_url=portal.url) as family:
        await http_sign_in(family, portal.url, "王芳", me, then="/progress")
        mine = await family.get("/mine")
        opened = await family.post("/mine", data={"case_number": number, "csrf_token": token_of(mine.text)})
        assert opened.status_code == 303
        progress = await family.get("/progress")
        assert 'href="/progress/add"' in progress.text
        form = await family.get("/progress/add")
        assert form.status_code == 200
        offered = re.findall(r'name="matters" value="([^"]+)"', form.text)
        assert DPF.value in offered and HPF.value not in offered
        assert MatterCode.RESIDENT_PENSION_FUNERAL_SUBSIDY.value not in offered  # the case has it
        # A window-only matter sent anyway: told where to go, in the apply page's words; nothing added.
        sent = await family.post("/progress/add", data={
            "csrf_token": token_of(form.text), "matters": HPF.value, "situations.housing_provident_fund": "true",
            "situations.pension_status": "resident_pensioner", "situations.employee_medical_insurance": "true"})
        assert sent.status_code == 200
        hpf = Policy().matter(HPF)
        assert f"“{hpf.short_name}”（{hpf.department_name}）暂不支持网上申请，请到窗口办理。" in sent.text
        assert Policy().window.address in sent.text
        assert 'id="problems"' in sent.text
        # Without the CSRF token: refused.
        forged = await family.post("/progress/add", data={"matters": DPF.value})
        assert forged.status_code == 403
    after = await wait_for(handle, lambda s: True)
    assert [view.code for view in after.matters] == [view.code for view in before.matters]
    assert not any(r.action == "add_matters" for r in refused(after))


async def test_a_family_adds_a_matter_to_its_running_case_in_the_browser(
    portal: Portal, browser: Any, client: Client, keys: Keys, engine: Engine, worker: Worker, task_queue: str,
) -> None:
    """A family that applied online for 人社 and 医保 signs in, adds 残联 to its running case, and the matter
    reaches its department and its own decision."""
    me = new_id_number()
    number = await started_online(client, keys, engine, task_queue, me)
    handle = case_handle(client, number)
    await certify(handle)
    context = await browser.new_context(**PHONE_CONTEXT)
    page = await context.new_page()
    await page.goto(f"{portal.url}/signin?then=/progress")
    await page.wait_for_url(re.compile(r".*/authorize\?.*"))
    await page.fill('[name="name"]', "王芳")
    await page.fill('[name="id_number"]', me)
    await page.click('form[action="/authorize"] button[type="submit"]')
    await page.wait_for_url(f"{portal.url}/mine")
    await page.click(f"text={number} 查看进度")
    await page.wait_for_url(f"{portal.url}/progress")
    await page.click("#add-matters")
    await page.wait_for_url(f"{portal.url}/progress/add")
    offered = await page.locator('input[name="matters"]').evaluate_all("els => els.map(e => e.value)")
    assert DPF.value in offered and HPF.value not in offered
    # The case's answers are there to start from: no disability subsidy.
    assert await page.input_value('[name="situations.disability_subsidy"]') == "false"
    assert Policy().window.address in await page.inner_text("#matters")
    await screenshot(page, "20-add-form")
    # 残联 chosen while the answers say the deceased drew no subsidy: told beside the inputs, nothing added.
    await page.check(f'input[name="matters"][value="{DPF.value}"]')
    await page.click('main button[type="submit"]')
    await page.wait_for_load_state()
    assert await page.locator("#problems").count() == 1
    assert await page.is_checked(f'input[name="matters"][value="{DPF.value}"]')
    await screenshot(page, "21-add-problems")
    await page.select_option('[name="situations.disability_subsidy"]', "true")
    await page.click('main button[type="submit"]')
    await page.wait_for_load_state()
    dpf = Policy().matter(DPF)
    text = await page.inner_text("main")
    assert f"已追加1项事项（{dpf.name}）" in text and number in text
    await screenshot(page, "22-add-accepted")

    snap = await wait_for(handle, lambda s: DPF in {view.code for view in s.matters})
    assert view_of(snap, DPF).state == MatterState.PENDING_PUSH
    await approve_hukou(client, handle)
    snap = await wait_for(handle, lambda s: view_of(s, DPF).state == MatterState.UNDER_REVIEW)
    assert await exists(client, matter_workflow_id(number, DPF))
    assert inbox_rows(engine, number)[DPF.value].department == dpf.department.value
    await approve(client, number, view_of(snap, DPF))
    await wait_for(handle, lambda s: view_of(s, DPF).state == MatterState.APPROVED)
    await page.click("text=查看办理进度")
    await page.wait_for_url(f"{portal.url}/progress")
    progress = await page.inner_text("main")
    assert dpf.short_name in progress and "网上追加" in progress
    await screenshot(page, "23-progress-with-added-matter")
    await context.close()


async def test_after_completion_the_portal_opens_a_linked_case_with_its_own_query_code(
    portal: Portal, client: Client, keys: Keys, engine: Engine, worker: Worker, task_queue: str,
) -> None:
    me = new_id_number()
    number = await started_online(client, keys, engine, task_queue, me)
    handle = case_handle(client, number)
    await certify(handle)
    await approve_hukou(client, handle)
    snap = await wait_for(handle, lambda s: all(
        view.state == MatterState.UNDER_REVIEW for view in s.matters if view.code != MatterCode.HUKOU_CANCELLATION))
    for view in snap.matters:
        if view.code != MatterCode.HUKOU_CANCELLATION:
            await approve(client, number, view)
    assert (await handle.result()).state == CaseState.COMPLETED
    async with httpx.AsyncClient(base_url=portal.url) as family:
        await http_sign_in(family, portal.url, "王芳", me, then="/progress")
        mine = await family.get("/mine")
        await family.post("/mine", data={"case_number": number, "csrf_token": token_of(mine.text)})
        progress = await family.get("/progress")
        assert 'href="/progress/add"' in progress.text
        form = await family.get("/progress/add")
        assert "已办结，追加事项将另行立案并关联本案件" in form.text
        sent = await family.post("/progress/add", data={
            "csrf_token": token_of(form.text), "matters": DPF.value, "situations.disability_subsidy": "true",
            "situations.pension_status": "resident_pensioner", "situations.employee_medical_insurance": "true"})
        assert sent.status_code == 303 and sent.headers["location"] == "/accepted"
        receipt = await family.get("/accepted")
        linked = f"{number}-2"
        assert linked in receipt.text and query_code(linked, keys.query_code_key) in receipt.text
    # The linked case pushes the added matter at once: 户口注销 and the certificate carry over.
    added = await wait_for(case_handle(client, linked), lambda s: view_of(s, DPF).state == MatterState.UNDER_REVIEW)
    assert added.added_to == number
    assert DPF.value in inbox_rows(engine, linked)


async def test_a_case_without_an_account_takes_one_with_its_first_paying_matter(
    portal: Portal, client: Client, keys: Keys, engine: Engine, worker: Worker, task_queue: str, tmp_path: Path,
) -> None:
    """An online case of terminations only (no account asked for) adds the medical account's balance: the page asks
    for the account, every problem is told at once, and the matter is pushed with the account given."""
    me = new_id_number()
    form = unique_form(next(_seeds), channel=Channel.ONLINE.value, applicant__id_number=me,
                       applicant__bank_account=REMOVE, matters=[DPF.value], situations={
                           "pension_status": "none", "employee_medical_insurance": False, "social_assistance": False,
                           "housing_provident_fund": False, "disability_subsidy": True, "preferential_care": False})
    form["deceased"].pop("bank_card")
    app = validate_application(form, Policy(), TODAY)
    assert isinstance(app, Application) and not app.applicant.bank_account.given
    number = (await start_case(client, app, keys.case_id_key, task_queue, register=engine)).case_number
    await wait_for(case_handle(client, number), lambda s: number in cases_of_applicant(
        engine, Sealer.from_keys(keys), me))
    card = scans(tmp_path / "scans", ["applicant_bank_card"])["applicant_bank_card"]
    chosen = {"matters": NHSA.value, "situations.employee_medical_insurance": "true",
              "situations.disability_subsidy": "true", "situations.pension_status": "none"}
    async with httpx.AsyncClient(base_url=portal.url) as family:
        await http_sign_in(family, portal.url, "王芳", me, then="/progress")
        mine = await family.get("/mine")
        await family.post("/mine", data={"case_number": number, "csrf_token": token_of(mine.text)})
        page = await family.get("/progress/add")
        assert 'id="payee"' in page.text and "本案件尚未登记收款账户" in page.text
        # No account: told beside its inputs, with the other problems, nothing added.
        told = await family.post("/progress/add", data={"csrf_token": token_of(page.text), **chosen})
        assert told.status_code == 200 and 'id="problems"' in told.text
        assert "收款" in told.text and "请填写逝者银行卡号" in told.text
        account = {"applicant.bank_account.kind": "card", "applicant.bank_account.bank_name": "中国建设银行固阳支行",
                   "applicant.bank_account.account_name": app.applicant.name,
                   "applicant.bank_account.card_number": APPLICANT_CARD, "deceased.bank_card": DECEASED_CARD}
        with card.open("rb") as scan:
            sent = await family.post("/progress/add", data={"csrf_token": token_of(told.text), **chosen, **account},
                                     files={"file.applicant_bank_card": (card.name, scan, "application/pdf")})
        assert sent.status_code in (200, 303), re.findall(r"<li>(.*?)</li>", sent.text)
        assert 'id="problems"' not in sent.text
    pushed = await wait_for(case_handle(client, number), lambda s: NHSA in {view.code for view in s.matters})
    assert pushed.payee_card and pushed.payee_card.endswith(APPLICANT_CARD[-4:])
