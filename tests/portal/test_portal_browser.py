"""A family on a phone, in a real browser (Debian's Chromium through Playwright), against the real portal,
the stand-in identity provider, Temporal dev server, worker and register: signing in and consenting, applying
online with scanned materials, correcting a form that has problems, being sent to the window for a matter the
online channel does not reach, and following the case (their own after sign-in, or anyone's with its number
and query code) while the officers decide, until the money is paid.

Screenshots go to $SHENHOU_SCREENSHOTS (default /tmp/shenhou-portal-screenshots)."""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.worker import Worker

from domain.enums import CaseState, MatterCode, MatterState
from domain.policy import Policy
from domain.query_code import query_code
from notify.channels import FileChannel, delivered_lines
from notify.dispatcher import Dispatcher, idempotency_key
from portal.app import ALREADY_YOURS, to_the_window
from portal.consent import NOTICE_VERSION, consents_of, notice_sha256
from portal.scans import open_scan
from register.lookups import cases_of_applicant
from register.sealing import Sealer
from runtime.keys import Keys
from runtime.materials import DEPARTMENTS_SUFFIX, MaterialStore
from tests.factories import APPLICANT_PHONE, MATERIAL_KINDS, unique_form
from tests.portal.conftest import PHONE_CONTEXT, Portal, browser_sign_in, new_id_number, scans, screenshot
from tests.workflows.helpers import (
    HUKOU,
    amount_for,
    approve,
    approve_hukou,
    case_handle,
    certify,
    outbox_rows,
    start,
    wait_for,
)

M = MatterCode
PENSION = M.RESIDENT_PENSION_FUNERAL_SUBSIDY
DISABILITY = M.DISABILITY_SUBSIDY_TERMINATION
CASE_RE = re.compile(r"SH-[A-Z2-7]{12}(-[2-9])?")

TEXT_FIELDS = (
    "deceased.name", "deceased.id_number", "deceased.bank_card", "deceased.death_date", "death_certificate.number",
    "death_certificate.issuer_name", "applicant.phone",
    "applicant.bank_account.bank_name", "applicant.bank_account.account_name", "applicant.bank_account.card_number",
)
# The county's places are lists to choose from (the catalogue's places).
SELECTS = ("deceased.household_county", "deceased.household_town", "deceased.insured_area",
           "deceased.cremation_county", "deceased.death_circumstance", "death_certificate.issuer_type",
           "applicant.relationship", "situations.pension_status")
CHECKS = ("deceased.work_injury", "situations.employee_medical_insurance", "situations.housing_provident_fund")
# The benefits a termination stops: 否, 是 or 不清楚 (which runs the termination all the same).
DREWS = ("situations.social_assistance", "situations.disability_subsidy", "situations.preferential_care",
         "situations.resident_medical_insurance")
_seed = iter(range(700_000, 800_000))


def online_form(**overrides: Any) -> dict[str, Any]:
    """Like examples/application-online.json: a resident pensioner with disability subsidies."""
    situations = {"pension_status": "resident_pensioner", "employee_medical_insurance": False,
                  "social_assistance": False, "housing_provident_fund": False, "disability_subsidy": True,
                  "preferential_care": False}
    overrides = {"deceased__household_town": "金山镇", "deceased__cremation_county": "固阳县殡仪馆",
                 "situations": situations, "matters": [PENSION.value, DISABILITY.value], **overrides}
    return unique_form(next(_seed), channel="online", **overrides)


def _value(form: dict[str, Any], path: str) -> Any:
    value: Any = form
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


async def fill(page: Any, form: dict[str, Any], files: dict[str, Path]) -> None:
    """Type the form as a family would: every field, the situations, the matters, one scan per material."""
    for name in TEXT_FIELDS:
        await page.fill(f'[name="{name}"]', str(_value(form, name) or ""))
    for name in SELECTS:
        await page.select_option(f'[name="{name}"]', str(_value(form, name)))
    for name in CHECKS:
        await page.set_checked(f'[name="{name}"]', bool(_value(form, name)))
    for name in DREWS:
        value = _value(form, name)
        await page.select_option(f'[name="{name}"]', "unknown" if value == "unknown" else "true" if value else "false")
    for code in form.get("matters", []):
        await page.check(f'input[name="matters"][value="{code}"]')
    for kind, path in files.items():
        await page.set_input_files(f'[name="file.{kind}"]', str(path))


async def sign_in(page: Any, portal: Portal, case_number: str, code: str) -> None:
    await page.goto(f"{portal.url}/progress")
    await page.fill('[name="case_number"]', case_number)
    await page.fill('[name="code"]', code)
    await page.click('main form[action="/progress"] button[type="submit"]')
    await page.wait_for_load_state()


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def apply_signed_in(page: Any, portal: Portal, form: dict[str, Any], *, path: str = "/apply") -> None:
    """Open the apply page, sign in as the form's applicant and consent: the form is on the screen."""
    await page.goto(f"{portal.url}{path}")
    await browser_sign_in(page, portal, form["applicant"]["name"], form["applicant"]["id_number"])


async def test_family_applies_online_and_follows_the_case_to_payment(
    portal: Portal, browser: Any, client: Client, keys: Keys, engine: Engine, worker: Worker, tmp_path: Path,
) -> None:
    form = online_form()
    files = scans(tmp_path / "scans", list(MATERIAL_KINDS))
    context = await browser.new_context(**PHONE_CONTEXT)
    page = await context.new_page()
    await page.goto(f"{portal.url}/apply")
    # No form before sign-in: the page asks for the province's identity sign-in (here the marked stand-in).
    assert await page.locator('input[name="deceased.id_number"]').count() == 0
    assert "模拟的统一身份认证" in await page.inner_text("main")
    await screenshot(page, "00-apply-sign-in-first")
    await page.click('main a[href^="/signin"]')
    await page.wait_for_url(re.compile(r".*/authorize\?.*"))
    assert "不核验身份" in await page.inner_text(".banner")
    await screenshot(page, "00-stand-in-provider")
    await page.fill('[name="name"]', form["applicant"]["name"])
    await page.fill('[name="id_number"]', form["applicant"]["id_number"])
    await page.click('form[action="/authorize"] button[type="submit"]')
    await page.wait_for_url(f"{portal.url}/apply")
    # The separate consent comes first; without the tick nothing goes on.
    assert "敏感个人信息" in await page.inner_text("main")
    await screenshot(page, "00-consent")
    await page.click('main button[type="submit"]')
    assert "请勾选同意" in await page.inner_text("main")
    await page.check('input[name="agree"]')
    await page.click('main button[type="submit"]')
    await page.wait_for_url(f"{portal.url}/apply")
    # The applicant is the signed-in person, shown and not editable.
    assert await page.locator('input[name="applicant.id_number"]').count() == 0
    assert (await page.inner_text('[id="applicant.id_number"]')).strip() == form["applicant"]["id_number"]
    # Only the online channel's matters are offered; the others are named with the window's address.
    offered = await page.locator('input[name="matters"]').evaluate_all("els => els.map(e => e.value)")
    assert M.PROVIDENT_FUND_DEATH_WITHDRAWAL.value not in offered and PENSION.value in offered
    assert Policy().window.address in await page.inner_text("#matters")
    await fill(page, form, files)
    await screenshot(page, "01-apply-filled")
    await page.click('main button[type="submit"]')
    await page.wait_for_url(f"{portal.url}/accepted")
    case_number = (await page.inner_text("#case-number")).strip()
    code = (await page.inner_text("#query-code")).strip()
    assert CASE_RE.fullmatch(case_number) and re.fullmatch(r"[0-9]{8}", code)
    assert code == query_code(case_number, keys.query_code_key)
    await screenshot(page, "02-accepted")
    # The scans are in the content-addressed store, sealed, each with the departments whose officers may open
    # it; the staged copies are gone.
    sealer = Sealer.from_keys(keys)
    store = portal.settings.data_dir / "materials"
    stored = sorted(path for path in store.iterdir() if path.suffix != DEPARTMENTS_SUFFIX)
    assert len(stored) == len(files)
    assert all(MaterialStore(store, sealer).departments(item.name) for item in stored)
    for item in stored:
        assert item.name == sha256_of(item)
        assert open_scan(sealer, item)[:4] in (b"%PDF", b"\xff\xd8\xff\xe0", b"\x89PNG")
    assert list((portal.settings.data_dir / "portal-uploads").iterdir()) == []
    # The consent is recorded with the case.
    [given] = consents_of(engine, case_number)
    assert (given.notice_version, given.notice_sha256, given.channel) == (NOTICE_VERSION, notice_sha256(), "online")
    handle = case_handle(client, case_number)
    first = await wait_for(handle, lambda s: s.case_state is not None)
    assert first.channel == "online"
    assert [view.code for view in first.matters] == [HUKOU, PENSION, DISABILITY]

    # The applicant, signed in, finds the case under 我的申请 without any code.
    await wait_for(handle, lambda s: bool(cases_of_applicant(engine, sealer, form["applicant"]["id_number"])))
    await page.goto(f"{portal.url}/mine")
    assert case_number in await page.inner_text("main")
    await screenshot(page, "02-mine")
    await page.click(f"text={case_number} 查看进度")
    await page.wait_for_url(f"{portal.url}/progress")
    assert "户口注销" in await page.inner_text("main")

    # Another signed-in person applying for the same deceased is sent to the window; nothing names the case.
    other_context = await browser.new_context(**PHONE_CONTEXT)
    other = await other_context.new_page()
    await other.goto(f"{portal.url}/apply")
    await browser_sign_in(other, portal, "李华", new_id_number())
    await fill(other, form, files)
    await other.fill('[name="applicant.bank_account.account_name"]', "李华")
    await other.click('main button[type="submit"]')
    await other.wait_for_load_state()
    answer = await other.inner_text("main")
    assert to_the_window(Policy()) in answer
    assert case_number not in answer and "已有申请" not in answer and "受理编号" not in answer
    await screenshot(other, "02-duplicate-to-window")
    await other_context.close()
    # The applicant applying again is told it is theirs (a new application asks for consent again).
    await page.goto(f"{portal.url}/apply")
    await page.check('input[name="agree"]')
    await page.click('main button[type="submit"]')
    await page.wait_for_url(f"{portal.url}/apply")
    await fill(page, form, files)
    await page.click('main button[type="submit"]')
    await page.wait_for_load_state()
    assert ALREADY_YOURS in await page.inner_text("main")

    # Later, on another phone: the number and the code open the progress page; nothing in the URL.
    follower = await browser.new_context(**PHONE_CONTEXT)
    progress = await follower.new_page()
    await sign_in(progress, portal, case_number, code)
    assert progress.url == f"{portal.url}/progress"
    text = await progress.inner_text("main")
    assert "户口注销" in text and "公安局" in text and "承诺办结期限" in text
    assert "预计办结" in text and "按承诺时限2个工作日预计" in text
    await screenshot(progress, "03-progress-received")

    await certify(handle)
    await approve_hukou(client, handle)
    await wait_for(handle, lambda s: all(v.state == MatterState.UNDER_REVIEW for v in s.matters if v.code != HUKOU))
    await progress.reload()
    text = await progress.inner_text("main")
    assert text.count("部门审核中") == 2 and "已办结（审核通过）" in text
    assert "推送部门时间" in text and "证明编号" in text
    await screenshot(progress, "04-progress-parallel")

    snap = await wait_for(handle, lambda s: True)
    for view in snap.matters:
        if view.code != HUKOU:
            await approve(client, case_number, view)
    result = await handle.result()
    assert result.state == CaseState.COMPLETED
    await progress.reload()
    text = await progress.inner_text("main")
    assert "全部事项已办结" in text
    assert "已办结，款项已到账" in text
    paid = amount_for(PENSION)
    assert f"{paid:,.2f}元" in text and "实发金额" in text and "发放流水号" in text and "到账确认时间" in text
    card = form["applicant"]["bank_account"]["card_number"]
    assert card not in text and f"{card[:4]}" in text and card[-4:] in text  # the account, masked
    assert form["deceased"]["name"] not in text and form["applicant"]["id_number"] not in text
    assert "办理过程" in text and "支付系统确认到账" in text
    await screenshot(progress, "05-progress-completed")

    # Every message of the finished case is delivered once; the 受理 SMS carries the query code.
    sms = tmp_path / "sms.jsonl"
    dispatcher = Dispatcher(engine, FileChannel(sms), Policy(), keys.query_code_key, sealer=Sealer.from_keys(keys))
    await dispatcher.run_until_idle()
    rows = outbox_rows(engine, case_number)
    assert rows and all(row.sent_at is not None for row in rows)
    lines = [line for line in delivered_lines(sms) if line["idempotency_key"].startswith(f"{case_number}/")]
    assert sorted(line["idempotency_key"] for line in lines) == sorted(idempotency_key(row) for row in rows)
    received = next(line for line in lines if "/case/case_received/family/" in line["idempotency_key"])
    assert received["to"] == APPLICANT_PHONE and f"查询码{code}" in received["text"]
    money = [line for line in lines if line["to"] == APPLICANT_PHONE and f"{paid:.2f}元" in line["text"]]
    assert money, "the family hears that the money arrived"
    sent_at = {row.id: row.sent_at for row in rows}
    await Dispatcher(engine, FileChannel(sms), Policy(), keys.query_code_key,
                     sealer=Sealer.from_keys(keys)).run_until_idle()
    assert len(delivered_lines(sms)) == len(lines)
    assert {row.id: row.sent_at for row in outbox_rows(engine, case_number)} == sent_at
    await context.close()
    await follower.close()


async def test_invalid_online_form_lists_every_problem_and_keeps_what_was_typed(
    portal: Portal, browser: Any, client: Client, keys: Keys, worker: Worker, tmp_path: Path,
) -> None:
    form = online_form()
    files = scans(tmp_path / "scans", list(MATERIAL_KINDS))
    bad = online_form(applicant__phone="12345", deceased__death_date="2026-12-25")
    bad["deceased"]["id_number"] = "15022219480312"
    not_a_scan = tmp_path / "scans" / "registration.pdf"
    not_a_scan.write_text("这不是扫描件")
    context = await browser.new_context(**PHONE_CONTEXT)
    page = await context.new_page()
    await apply_signed_in(page, portal, bad)
    # Typed with mistakes; two scans only, one of them a text file named .pdf.
    await fill(page, bad, {"registration_form": not_a_scan, "death_certificate": files["death_certificate"]})
    await page.click('main button[type="submit"]')
    await page.wait_for_load_state()
    problems = [item.strip() for item in await page.locator("#problems li").all_inner_texts()]
    await screenshot(page, "06-apply-problems")
    expected = ["逝者身份证号码应为18位", "死亡日期不能晚于今天", "申请人手机号码不是有效的大陆手机号码",
                "缺少材料：", "身后“一件事一次办”登记表：文件不是PDF、JPEG或PNG格式"]
    for fragment in expected:
        assert any(fragment in problem for problem in problems), (fragment, problems)
    assert len(problems) == len(expected), problems
    # Each problem also stands beside its input, and what was typed is still there.
    assert await page.input_value('[name="applicant.phone"]') == "12345"
    assert await page.input_value('[name="deceased.name"]') == bad["deceased"]["name"]
    assert await page.input_value('[name="applicant.bank_account.card_number"]') == \
        bad["applicant"]["bank_account"]["card_number"]
    assert await page.is_checked('input[name="matters"][value="dpf.disability_subsidy_termination"]')
    assert await page.locator(".field.invalid").count() >= 4
    assert "已上传（JPEG" in await page.inner_text("#materials")  # the death certificate's scan is kept

    # Corrected, with the remaining scans: the death certificate uploaded before is not asked for again.
    await page.fill('[name="applicant.phone"]', form["applicant"]["phone"])
    await page.fill('[name="deceased.id_number"]', form["deceased"]["id_number"])
    await page.fill('[name="deceased.death_date"]', form["deceased"]["death_date"])
    for kind, path in files.items():
        if kind != "death_certificate":
            await page.set_input_files(f'[name="file.{kind}"]', str(path))
    await page.click('main button[type="submit"]')
    await page.wait_for_url(f"{portal.url}/accepted")
    case_number = (await page.inner_text("#case-number")).strip()
    snap = await wait_for(case_handle(client, case_number), lambda s: s.case_state is not None)
    assert snap.channel == "online"
    kept = [path for path in (portal.settings.data_dir / "materials").iterdir() if path.suffix != DEPARTMENTS_SUFFIX]
    assert len(kept) == len(files)
    await context.close()


async def test_a_window_matter_chosen_online_is_refused_with_the_reason(
    portal: Portal, browser: Any, worker: Worker, tmp_path: Path,
) -> None:
    window = Policy().window
    context = await browser.new_context(**PHONE_CONTEXT)
    page = await context.new_page()
    # From the 政务服务网's page of 公积金死亡提取: that matter is the window's.
    form = online_form(situations__housing_provident_fund=True)
    await page.goto(f"{portal.url}/apply")
    await browser_sign_in(page, portal, form["applicant"]["name"], form["applicant"]["id_number"])
    await page.goto(f"{portal.url}/apply?matter={M.PROVIDENT_FUND_DEATH_WITHDRAWAL.value}")
    notice = await page.inner_text(".notice.refused")
    assert "公积金死亡提取" in notice and "暂不支持网上申请" in notice
    assert window.address in notice and window.hours in notice
    await screenshot(page, "07-window-matter-link")

    # A request that names the matter anyway (the situations allow it) is refused by intake with the reason.
    await fill(page, form, scans(tmp_path / "scans", list(MATERIAL_KINDS)))
    await page.evaluate("""() => {
        const box = document.createElement('input');
        box.type = 'checkbox'; box.name = 'matters'; box.value = 'hpf.death_withdrawal'; box.checked = true;
        document.querySelector('#matters').appendChild(box);
    }""")
    await page.click('main button[type="submit"]')
    await page.wait_for_load_state()
    assert page.url == f"{portal.url}/apply"
    problems = await page.inner_text("#problems")
    assert "住房公积金中心的“公积金死亡提取”事项暂不支持网上申请，请到县政务大厅“一件事一次办”窗口办理" in problems
    assert window.address in await page.inner_text(".notice.refused")
    await screenshot(page, "08-window-matter-refused")
    await context.close()


async def test_a_wrong_code_shows_nothing_about_the_case(
    portal: Portal, browser: Any, client: Client, keys: Keys, task_queue: str, worker: Worker,
) -> None:
    handle = await start(client, keys, task_queue)
    case_number = handle.id
    code = query_code(case_number, keys.query_code_key)
    wrong = f"{(int(code) + 1) % 10**8:08d}"
    context = await browser.new_context(**PHONE_CONTEXT)
    page = await context.new_page()
    await page.goto(f"{portal.url}/progress")
    assert await page.locator('[name="code"]').count() == 1  # without the code: the sign-in form only

    await sign_in(page, portal, case_number, wrong)
    for_existing = (await page.inner_text("main")).replace(case_number, "<number>")
    await screenshot(page, "09-wrong-code")
    await sign_in(page, portal, "SH-AAAAAAAAAAAA", wrong)
    for_missing = (await page.inner_text("main")).replace("SH-AAAAAAAAAAAA", "<number>")
    assert for_existing == for_missing  # not even whether the case exists
    assert "受理编号或查询码不正确" in for_existing
    for secret in ("户口注销", "部门审核中", "受理时间", "逝者", "收款账户", "办理过程"):
        assert secret not in for_existing
    assert case_number not in page.url

    # Four more wrong codes from this phone: then even the right one waits a while.
    for _ in range(4):
        await sign_in(page, portal, case_number, wrong)
    await sign_in(page, portal, case_number, code)
    text = await page.inner_text("main")
    assert "错误次数过多" in text and "分钟后再试" in text and "部门审核中" not in text
    await screenshot(page, "09-wrong-code-wait")
    # A family member signed in (here on the same network) is counted as themselves: not shut out by the
    # anonymous guesses, and the code opens this case's page only.
    family = await browser.new_context(**PHONE_CONTEXT)
    member = await family.new_page()
    await member.goto(f"{portal.url}/apply")
    await browser_sign_in(member, portal, "王芳", new_id_number(), consent=False)
    await sign_in(member, portal, case_number, code)
    await member.wait_for_url(f"{portal.url}/progress")
    text = await member.inner_text("main")
    assert case_number in text and "户口注销" in text
    other = await start(client, keys, task_queue)
    assert other.id not in text
    await family.close()
    await context.close()


def test_amounts_are_shown_as_yuan_with_two_decimals() -> None:
    # The page formats money as the family reads it on a bank slip.
    from portal.progress import yuan

    assert yuan(Decimal("12000")) == "12,000.00元"
    assert yuan(Decimal("0.5")) == "0.50元"


async def test_a_family_asking_only_for_a_termination_gives_no_bank_account(
    portal: Portal, browser: Any, client: Client, worker: Worker, tmp_path: Path,
) -> None:
    """The county's places are lists to choose from; the bank account is asked for only when something pays."""
    form = online_form(situations__pension_status="none", matters=[DISABILITY.value])
    context = await browser.new_context(**PHONE_CONTEXT)
    page = await context.new_page()
    await apply_signed_in(page, portal, form)
    towns = await page.locator('[name="deceased.household_town"] option').all_inner_texts()
    assert towns == ["请选择", "金山镇（县城）", "西斗铺镇", "下湿壕镇", "银号镇", "怀朔镇", "兴顺西镇"]
    areas = await page.locator('[name="deceased.insured_area"] option').all_inner_texts()
    assert areas == ["请选择", "中心城区", "金山镇"]
    assert "只办理注销、终止类事项的无需填写" in await page.inner_text("main")
    for name in TEXT_FIELDS:
        if name.startswith(("applicant.bank_account.", "deceased.bank_card")):
            continue
        await page.fill(f'[name="{name}"]', str(_value(form, name) or ""))
    for name in SELECTS:
        await page.select_option(f'[name="{name}"]', str(_value(form, name)))
    drew = await page.locator('[name="situations.disability_subsidy"] option').all_inner_texts()
    assert drew == ["请选择", "否", "是", "不清楚"]
    await page.select_option('[name="situations.disability_subsidy"]', "true")
    await page.check(f'input[name="matters"][value="{DISABILITY.value}"]')
    base = ["registration_form", "death_certificate", "deceased_id_card", "deceased_household_register",
            "applicant_id_card", "applicant_household_register"]
    for kind, path in scans(tmp_path / "scans", base).items():
        await page.set_input_files(f'[name="file.{kind}"]', str(path))
    await page.click('main button[type="submit"]')
    await page.wait_for_url(f"{portal.url}/accepted")
    case_number = (await page.inner_text("#case-number")).strip()
    snap = await wait_for(case_handle(client, case_number), lambda s: s.case_state is not None)
    assert snap.payee_card == ""
    await context.close()
