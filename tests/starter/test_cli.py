"""The `shenhou` CLI against the real dev server: what a clerk, an officer and a funeral home see.

Commands run in-process through Typer's CliRunner, in a thread (each command calls asyncio.run),
with the settings pointed at the session's dev server, this test's task queue and keys.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import re
import secrets
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from typer.testing import CliRunner, Result

from client.operations import case_status
from domain.application import PROBLEMS_HEADER
from domain.enums import CaseState, MatterCode, MatterState
from domain.models import StatusSnapshot
from domain.query_code import query_code
from runtime.keys import Keys
from runtime.settings import get_settings
from starter.cli import app
from tests.factories import APPLICANT_CARD, APPLICANT_ID, APPLICANT_NAME, DECEASED_NAME, unique_form
from tests.signing import signing_env
from tests.starter.report_cli import _restore_logging

__all__ = ["_restore_logging"]

CASE_RE = re.compile(r"SH-[A-Z2-7]{12}")
HUKOU = MatterCode.HUKOU_CANCELLATION.value
MEDICAL = MatterCode.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT.value
RETIREE = MatterCode.ENTERPRISE_RETIREE_DEATH_BENEFIT.value
SOCIAL = MatterCode.SOCIAL_ASSISTANCE_TERMINATION.value
CREMATED_ON = "2026-11-20"  # after the factories' death date, before today
_seeds = itertools.count(60_000)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@pytest.fixture
def cli_env(
    env: WorkflowEnvironment, keys: Keys, task_queue: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    values = {
        "SHENHOU_TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
        "SHENHOU_TASK_QUEUE": task_queue,
        "SHENHOU_CASE_ID_KEY": _b64(keys.case_id_key),
        "SHENHOU_CODEC_KEYS": ",".join(f"{key_id}:{_b64(key)}" for key_id, key in keys.codec_keys.items()),
        "SHENHOU_CODEC_ACTIVE_KEY_ID": keys.active_key_id,
        "SHENHOU_DATA_DIR": str(tmp_path / "data"),
        **signing_env(),
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SHENHOU_POLICY_FILE", raising=False)
    get_settings.cache_clear()
    yield values
    get_settings.cache_clear()


async def shenhou(*args: str) -> Result:
    get_settings.cache_clear()
    return await asyncio.to_thread(CliRunner().invoke, app, list(args))


def write_form(directory: Path, form: dict[str, Any], suffix: str = ".yaml") -> Path:
    path = directory / f"form-{next(_seeds)}{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps(form, ensure_ascii=False), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(form, allow_unicode=True), encoding="utf-8")
    return path


def new_form(**overrides: Any) -> dict[str, Any]:
    return unique_form(next(_seeds), **overrides)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def start(tmp_path: Path, form: dict[str, Any] | None = None) -> str:
    result = await shenhou("case", "start", "--form", str(write_form(tmp_path, form or new_form())))
    assert result.exit_code == 0, result.output
    match = CASE_RE.search(result.stdout)
    assert match, result.output
    return match.group(0)


async def wait_for(
    client: Client, case_number: str, predicate: Callable[[StatusSnapshot], bool], timeout: float = 30
) -> StatusSnapshot:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    snap: StatusSnapshot | None = None
    while loop.time() < deadline:
        try:
            snap = await case_status(client, case_number)
            if predicate(snap):
                return snap
        except Exception:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError(f"condition not reached; last: {snap.model_dump_json(indent=1) if snap else None}")


def state_of(snap: StatusSnapshot, code: str) -> MatterState | None:
    return next((view.state for view in snap.matters if view.code.value == code), None)


async def certify(case_number: str) -> Result:
    return await shenhou(
        "case", "certify-cremation", case_number, "--certificate-no", "HH-2026-0001",
        "--funeral-home", "固阳县殡仪馆", "--cremated-on", CREMATED_ON,
    )


async def in_progress(client: Client, tmp_path: Path) -> str:
    """A case past 户口注销 with every other matter under review, driven only through the CLI."""
    case_number = await start(tmp_path)
    assert (await certify(case_number)).exit_code == 0
    await wait_for(client, case_number, lambda s: state_of(s, HUKOU) == MatterState.UNDER_REVIEW)
    approved = await shenhou("matter", "approve", case_number, HUKOU, "--officer", "王警官",
                             "--certificate-no", "ZX-0001")
    assert approved.exit_code == 0, approved.output
    await wait_for(client, case_number, lambda s: s.case_state == CaseState.IN_PROGRESS and all(
        view.state == MatterState.UNDER_REVIEW for view in s.matters if view.code.value != HUKOU))
    return case_number


def assert_no_personal_data(text: str, form: dict[str, Any] | None = None) -> None:
    secrets = [DECEASED_NAME, APPLICANT_NAME, APPLICANT_ID, APPLICANT_CARD]
    if form is not None:
        secrets += [form["deceased"]["id_number"], form["deceased"]["bank_card"]]
    for secret in secrets:
        assert secret not in text


# --- case start ------------------------------------------------------------------------------------


async def test_start_valid_form_prints_case_number_and_query_code(
    cli_env: dict[str, str], tmp_path: Path, worker: Worker, keys: Keys
) -> None:
    form = new_form()
    result = await shenhou("case", "start", "--form", str(write_form(tmp_path, form)))
    assert result.exit_code == 0, result.output
    match = CASE_RE.search(result.stdout)
    assert match
    assert "受理编号" in result.stdout
    # The family's code for the progress page: the same one the portal accepts for this case number.
    assert f"查询码：{query_code(match.group(0), keys.query_code_key)}" in result.stdout
    assert_no_personal_data(result.output, form)


async def test_start_json_output(cli_env: dict[str, str], tmp_path: Path, worker: Worker, keys: Keys) -> None:
    result = await shenhou("case", "start", "--form", str(write_form(tmp_path, new_form(), ".json")), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["ok"] is True
    assert CASE_RE.fullmatch(data["case_number"])
    assert data["query_code"] == query_code(data["case_number"], keys.query_code_key)
    assert re.fullmatch(r"[0-9]{8}", data["query_code"])


def _bad_form() -> dict[str, Any]:
    return new_form(
        deceased__household_county="达茂旗",
        deceased__work_injury=True,
        applicant__relationship="not_family",
        applicant__phone="12345",
    )


async def test_invalid_form_lists_every_problem_at_once(cli_env: dict[str, str], tmp_path: Path) -> None:
    form = _bad_form()
    result = await shenhou("case", "start", "--form", str(write_form(tmp_path, form)))
    assert result.exit_code == 1
    assert PROBLEMS_HEADER in result.stderr
    numbered = [line for line in result.stderr.splitlines() if re.match(r"^\d+\. ", line)]
    assert len(numbered) >= 4, result.stderr
    assert "Traceback" not in result.output
    assert_no_personal_data(result.output, form)


async def test_invalid_form_json_output(cli_env: dict[str, str], tmp_path: Path) -> None:
    result = await shenhou("case", "start", "--form", str(write_form(tmp_path, _bad_form())), "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False
    fields = {problem["field"] for problem in data["problems"]}
    assert {"deceased.household_county", "deceased.work_injury", "applicant.relationship", "applicant.phone"} <= fields
    assert all(problem["message"] for problem in data["problems"])


async def test_unreadable_form_file(cli_env: dict[str, str], tmp_path: Path) -> None:
    missing = await shenhou("case", "start", "--form", str(tmp_path / "王建国.yaml"))
    assert missing.exit_code == 1
    assert "申请表文件不存在" in missing.stderr
    assert "王建国" not in missing.output

    broken = tmp_path / "broken.json"
    broken.write_text('{"deceased": {"name": "王建国",}', encoding="utf-8")
    result = await shenhou("case", "start", "--form", str(broken))
    assert result.exit_code == 1
    assert "不是有效的JSON（第1行" in result.stderr
    assert "王建国" not in result.output


async def test_duplicate_application_names_the_case(cli_env: dict[str, str], tmp_path: Path, worker: Worker) -> None:
    form = new_form()
    case_number = await start(tmp_path, form)
    again = await shenhou("case", "start", "--form", str(write_form(tmp_path, form)))
    assert again.exit_code == 1
    assert case_number in again.stderr
    assert "不能重复申请" in again.stderr
    as_json = await shenhou("case", "start", "--form", str(write_form(tmp_path, form)), "--json")
    assert as_json.exit_code == 1
    data = json.loads(as_json.stdout)
    assert data["ok"] is False and data["exit_code"] == 1 and data["case_number"] == case_number
    assert case_number in data["error"]


async def test_temporal_unreachable_exits_2_with_one_line(
    cli_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHENHOU_TEMPORAL_ADDRESS", f"127.0.0.1:{closed_port()}")
    for args in (
        ("case", "start", "--form", str(write_form(tmp_path, new_form()))),
        ("case", "status", "SH-AAAAAAAAAAAA"),
        ("matter", "approve", "SH-AAAAAAAAAAAA", HUKOU, "--officer", "王警官", "--certificate-no", "ZX-1"),
    ):
        result = await shenhou(*args)
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1, result.output
        assert "无法连接Temporal服务" in result.stderr


async def test_start_stores_material_files_by_content(cli_env: dict[str, str], tmp_path: Path, worker: Worker) -> None:
    scan = tmp_path / "scans" / "死亡证明.pdf"
    scan.parent.mkdir()
    scan.write_bytes(b"%PDF-1.4 fake scan")
    form = new_form()
    as_checked = dict(form)
    form["materials"] = [m for m in form["materials"] if m["kind"] != "death_certificate"] + [
        {"kind": "death_certificate", "file": "scans/死亡证明.pdf"}]
    result = await shenhou("case", "start", "--form", str(write_form(tmp_path, form)))
    assert result.exit_code == 0, result.output
    import hashlib

    stored = Path(cli_env["SHENHOU_DATA_DIR"]) / "materials" / hashlib.sha256(b"%PDF-1.4 fake scan").hexdigest()
    assert stored.read_bytes() == b"%PDF-1.4 fake scan"
    # Which departments' officers may open it (the codec server's scans for signed-in staff): the case's.
    from datetime import date

    from domain.application import validate_application
    from domain.policy import Policy
    from register.sealing import Sealer
    from runtime.materials import MaterialStore
    from runtime.read_scope import departments_in

    application = validate_application(as_checked, Policy(), date.today())
    assert not isinstance(application, list)
    involved = departments_in({"matters": [code.value for code in application.matters]})
    assert MaterialStore(stored.parent, Sealer.ephemeral()).departments(stored.name) == involved != set()


async def test_missing_material_file_is_one_of_the_problems(cli_env: dict[str, str], tmp_path: Path) -> None:
    form = new_form(materials=[{"kind": "death_certificate", "file": "nowhere.pdf"}], applicant__phone="12345")
    result = await shenhou("case", "start", "--form", str(write_form(tmp_path, form)), "--json")
    assert result.exit_code == 1
    problems = json.loads(result.stdout)["problems"]
    assert [p["field"] for p in problems] == ["applicant.phone", "materials.0.file"]
    assert not (Path(cli_env["SHENHOU_DATA_DIR"]) / "materials").exists()


# --- status --------------------------------------------------------------------------------------------


async def test_status_table_and_json(
    cli_env: dict[str, str], client: Client, tmp_path: Path, worker: Worker, monkeypatch: pytest.MonkeyPatch
) -> None:
    form = new_form()
    case_number = await start(tmp_path, form)
    await wait_for(client, case_number, lambda s: state_of(s, HUKOU) == MatterState.UNDER_REVIEW)

    table = await shenhou("case", "status", case_number)
    assert table.exit_code == 0, table.output
    for label in ("受理编号", "案件状态", "户口注销中", "火化证明", "未上传", "事项办理情况", "户口注销",
                  "公安局（户籍地派出所）", "待审核", "办理期限", "办理过程", HUKOU, "王**"):
        assert label in table.stdout, label
    assert re.search(r"20\d\d-\d\d-\d\d \d\d:\d\d", table.stdout)
    assert_no_personal_data(table.output, form)
    # In a terminal of 120 columns the tables fit, nothing cut short.
    from starter import render

    monkeypatch.setattr(render, "PIPE_WIDTH", 120)
    narrow = (await shenhou("case", "status", case_number)).stdout
    assert max(len(line.rstrip()) for line in narrow.splitlines()) <= 120 and "…" not in narrow

    as_json = await shenhou("case", "status", case_number, "--json")
    assert as_json.exit_code == 0
    snap = StatusSnapshot.model_validate_json(as_json.stdout)
    assert snap.case_number == case_number
    assert snap.case_state == CaseState.HUKOU_CANCELLING


async def test_unknown_case(cli_env: dict[str, str], client: Client, worker: Worker) -> None:
    unknown = "SH-AAAAAAAAAAAA"
    status = await shenhou("case", "status", unknown)
    assert status.exit_code == 1
    assert "未找到" in status.stderr and unknown in status.stderr
    certify_result = await certify(unknown)
    assert certify_result.exit_code == 1
    assert "未找到" in certify_result.stderr
    decided = await shenhou("matter", "reject", unknown, HUKOU, "--officer", "王警官", "--reason", "查无此人")
    assert decided.exit_code == 1
    withdrawn = await shenhou("case", "withdraw", unknown, "--clerk", "李", "--reason", "家属撤回")
    assert withdrawn.exit_code == 1
    bad = await shenhou("case", "status", "12345")
    assert bad.exit_code == 1
    assert "受理编号格式不正确" in bad.stderr and "2–7" in bad.stderr
    # A mistyped number never opens a case.
    assert not [w async for w in client.list_workflows(f'WorkflowId = "{unknown}"')]


async def test_keys_other_than_the_workers_are_a_configuration_error(
    cli_env: dict[str, str], client: Client, tmp_path: Path, worker: Worker, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_number = await start(tmp_path)
    await wait_for(client, case_number, lambda s: state_of(s, HUKOU) == MatterState.UNDER_REVIEW)
    key_id = next(iter(cli_env["SHENHOU_CODEC_KEYS"].split(":")))
    # Another key under the worker's key id, then a key id the worker's payloads do not use.
    for other_id in (key_id, "other"):
        monkeypatch.setenv("SHENHOU_CODEC_KEYS", f"{other_id}:{_b64(secrets.token_bytes(32))}")
        monkeypatch.setenv("SHENHOU_CODEC_ACTIVE_KEY_ID", other_id)
        for args in (("case", "status", case_number),
                     ("case", "withdraw", case_number, "--clerk", "窗口李", "--reason", "家属撤回")):
            result = await shenhou(*args)
            assert result.exit_code == 3, result.output
            assert result.stderr.strip().splitlines()[-1].startswith("无法解密Temporal中的案件数据"), result.stderr
            assert "SHENHOU_CODEC_KEYS" in result.stderr and "系统内部错误" not in result.stderr
    # Nothing was withdrawn with the wrong keys.
    snap = await wait_for(client, case_number, lambda s: True)
    assert snap.case_state != CaseState.WITHDRAWN


# --- decisions -----------------------------------------------------------------------------------------


async def test_approve_accepted_and_refused(
    cli_env: dict[str, str], client: Client, tmp_path: Path, worker: Worker, engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHENHOU_DATABASE_URL", str(engine.url))
    case_number = await start(tmp_path)
    assert (await certify(case_number)).exit_code == 0
    await wait_for(client, case_number, lambda s: state_of(s, HUKOU) == MatterState.UNDER_REVIEW)

    refused = await shenhou("matter", "approve", case_number, HUKOU, "--officer", "王警官",
                            "--certificate-no", "ZX-0001", "--amount", "100")
    assert refused.exit_code == 1
    assert "决定未受理" in refused.stderr and "不应填写金额" in refused.stderr

    accepted = await shenhou("matter", "approve", case_number, "户口注销", "--officer", "王警官",
                             "--certificate-no", "ZX-0001")
    assert accepted.exit_code == 0, accepted.output
    assert "已通过" in accepted.stdout

    snap = await wait_for(client, case_number, lambda s: state_of(s, RETIREE) == MatterState.UNDER_REVIEW)
    assert snap.hukou_certificate_no == "ZX-0001"
    approved = await shenhou("matter", "approve", case_number, RETIREE, "--officer", "李科员", "--amount", "1234.50")
    assert approved.exit_code == 0, approved.output
    # The instruction is with the paying system: 发放中 until it confirms the transfer.
    assert "发放中" in approved.stdout
    snap = await wait_for(client, case_number, lambda s: state_of(s, RETIREE) == MatterState.PAYING)
    reference = next(v.payment_reference for v in snap.matters if v.code.value == RETIREE)
    assert reference and f"发放凭证号{reference}" in approved.stdout
    # The paying system's list: the payment waits for its confirmation, under its reference.
    waiting = await shenhou("payments", "--json")
    assert waiting.exit_code == 0, waiting.output
    listed = [item for item in json.loads(waiting.stdout) if item["case_number"] == case_number]
    assert [(i["reference"], i["matter"], i["standing"], i["amount"]) for i in listed] == [
        (reference, RETIREE, "待确认到账", "1234.50")]
    table = await shenhou("payments", "--department", "hrss")
    assert reference in table.stdout and "待确认到账" in table.stdout
    assert reference not in (await shenhou("payments", "--department", "nhsa")).stdout
    assert_no_personal_data(waiting.stdout + table.stdout)
    wrong = await shenhou("matter", "confirm-payment", case_number, RETIREE, "--reference", "PAY-0000",
                          "--by", "工商银行代发系统")
    assert wrong.exit_code == 1 and "凭证号" in wrong.stderr
    confirmed = await shenhou("matter", "confirm-payment", case_number, RETIREE, "--reference", reference,
                              "--by", "工商银行代发系统")
    assert confirmed.exit_code == 0, confirmed.output
    assert "已发放" in confirmed.stdout
    assert reference not in (await shenhou("payments", "--json")).stdout

    table = await shenhou("case", "status", case_number)
    assert "1234.50" in table.stdout and "审核记录" in table.stdout and "被拒绝的操作" not in table.stdout


async def test_bad_decision_input_is_told_in_chinese(cli_env: dict[str, str]) -> None:
    case_number = "SH-AAAAAAAAAAAA"
    amount = await shenhou("matter", "approve", case_number, RETIREE, "--officer", "李科员", "--amount", "abc")
    assert amount.exit_code == 1
    assert "金额应为" in amount.stderr and "数字" in amount.stderr
    days = await shenhou("matter", "extend", case_number, HUKOU, "--supervisor", "张", "--working-days", "abc",
                         "--reason", "系统故障")
    assert days.exit_code == 1
    assert "延长工作日数应为整数" in days.stderr
    missing = await shenhou("matter", "reject", case_number, HUKOU)
    assert missing.exit_code == 1
    assert "缺少经办人" in missing.stderr and "缺少原因" in missing.stderr
    matter = await shenhou("matter", "reject", case_number, "no.such_matter", "--officer", "王", "--reason", "x")
    assert matter.exit_code == 1
    assert "不认识的事项" in matter.stderr
    usage = await shenhou("case", "start")
    assert usage.exit_code == 1
    assert "缺少选项" in usage.output


async def test_request_materials_then_supplement(
    cli_env: dict[str, str], client: Client, tmp_path: Path, worker: Worker
) -> None:
    case_number = await in_progress(client, tmp_path)
    requested = await shenhou("matter", "request-materials", case_number, MEDICAL, "--officer", "赵科员",
                              "--item", "医保卡复印件", "--item", "银行流水", "--note", "请一周内补交")
    assert requested.exit_code == 0, requested.output
    assert "待补正" in requested.stdout

    table = await shenhou("case", "status", case_number)
    assert "待补：医保卡复印件、银行流水" in table.stdout and "暂停计时" in table.stdout

    approve_now = await shenhou("matter", "approve", case_number, MEDICAL, "--officer", "赵科员", "--amount", "10")
    assert approve_now.exit_code == 1
    assert "等待补正材料" in approve_now.stderr

    supplied = await shenhou("case", "supplement", case_number, MEDICAL, "--item", "医保卡复印件",
                             "--item", "银行流水")
    assert supplied.exit_code == 0, supplied.output
    assert "待审核" in supplied.stdout

    again = await shenhou("case", "supplement", case_number, MEDICAL, "--item", "银行流水")
    assert again.exit_code == 1
    assert "无需补正" in again.stderr


async def test_reject_extend_and_correct_account(
    cli_env: dict[str, str], client: Client, tmp_path: Path, worker: Worker
) -> None:
    case_number = await in_progress(client, tmp_path)
    stranger = await shenhou("matter", "extend", case_number, SOCIAL, "--supervisor", "县政务服务局张",
                             "--working-days", "3", "--reason", "需核查救助档案")
    assert stranger.exit_code == 1 and "督办人" in stranger.stderr
    extended = await shenhou("matter", "extend", case_number, SOCIAL, "--supervisor", "张主任",
                             "--working-days", "3", "--reason", "需核查救助档案")
    assert extended.exit_code == 0, extended.output
    rejected = await shenhou("matter", "reject", case_number, SOCIAL, "--officer", "民政刘",
                             "--reason", "未享受社会救助")
    assert rejected.exit_code == 0, rejected.output
    assert "不予办理" in rejected.stdout
    twice = await shenhou("matter", "reject", case_number, SOCIAL, "--officer", "民政刘", "--reason", "重复")
    assert twice.exit_code == 1
    assert "已办结" in twice.stderr

    correction = await shenhou("case", "correct-account", case_number, "--clerk", "窗口李",
                               "--bank-name", "中国银行固阳支行", "--account-name", APPLICANT_NAME,
                               "--card-number", APPLICANT_CARD)
    assert correction.exit_code == 1
    assert "没有发放失败待重新发放的款项" in correction.stderr
    assert_no_personal_data(correction.output)
    bad_card = await shenhou("case", "correct-account", case_number, "--clerk", "窗口李", "--bank-name", "中行",
                             "--account-name", APPLICANT_NAME, "--card-number", "6222020000000000001")
    assert bad_card.exit_code == 1
    assert "银行卡号校验不通过" in bad_card.stderr


# --- withdraw and cremation ------------------------------------------------------------------------


async def test_withdraw(cli_env: dict[str, str], client: Client, tmp_path: Path, worker: Worker) -> None:
    case_number = await start(tmp_path)
    await wait_for(client, case_number, lambda s: state_of(s, HUKOU) == MatterState.UNDER_REVIEW)
    result = await shenhou("case", "withdraw", case_number, "--clerk", "窗口李", "--reason", "家属决定自行办理")
    assert result.exit_code == 0, result.output
    assert "撤回申请已登记" in result.stdout
    snap = await wait_for(client, case_number, lambda s: s.case_state == CaseState.WITHDRAWN)
    assert all(view.final for view in snap.matters)
    await asyncio.wait_for(client.get_workflow_handle(case_number).result(), timeout=30)
    again = await shenhou("case", "withdraw", case_number, "--clerk", "窗口李", "--reason", "再次撤回")
    assert again.exit_code == 1
    assert "已关闭" in again.stderr


async def test_certify_after_intake_and_twice(
    cli_env: dict[str, str], client: Client, tmp_path: Path, worker: Worker
) -> None:
    case_number = await start(tmp_path)
    first = await certify(case_number)
    assert first.exit_code == 0, first.output
    assert "火化证明已登记" in first.stdout
    second = await certify(case_number)
    assert second.exit_code == 1
    assert "火化证明已上传" in second.stderr
    future = await shenhou("case", "certify-cremation", case_number, "--certificate-no", "HH-2", "--funeral-home",
                           "固阳县殡仪馆", "--cremated-on", "2026-13-01")
    assert future.exit_code == 1
    assert "火化日期" in future.stderr


async def test_certify_before_intake_by_deceased_id(
    cli_env: dict[str, str], client: Client, tmp_path: Path, worker: Worker
) -> None:
    form = new_form()
    deceased_id = form["deceased"]["id_number"]
    certified = await shenhou("case", "certify-cremation", "--deceased-id", deceased_id,
                              "--certificate-no", "HH-2026-0077", "--funeral-home", "固阳县殡仪馆",
                              "--cremated-on", CREMATED_ON)
    assert certified.exit_code == 0, certified.output
    assert deceased_id not in certified.output
    match = CASE_RE.search(certified.stdout)
    assert match, certified.output
    case_number = match.group(0)

    waiting = await shenhou("case", "status", case_number)
    assert "尚未收到家属申请" in waiting.stdout and "HH-2026-0077" in waiting.stdout

    assert await start(tmp_path, form) == case_number
    snap = await wait_for(client, case_number, lambda s: state_of(s, HUKOU) == MatterState.UNDER_REVIEW)
    assert snap.cremation is not None and snap.cremation.certificate_no == "HH-2026-0077"

    bad_id = await shenhou("case", "certify-cremation", "--deceased-id", "150222194801011234",
                           "--certificate-no", "HH-1", "--funeral-home", "固阳县殡仪馆", "--cremated-on", CREMATED_ON)
    assert bad_id.exit_code == 1
    assert "身份证号码校验不通过" in bad_id.stderr and "150222194801011234" not in bad_id.output
    both = await shenhou("case", "certify-cremation", case_number, "--deceased-id", deceased_id,
                         "--certificate-no", "HH-1", "--funeral-home", "固阳县殡仪馆", "--cremated-on", CREMATED_ON)
    assert both.exit_code == 1


async def test_the_funeral_home_invites_the_family_once_with_its_consent(
    cli_env: dict[str, str], client: Client, tmp_path: Path, worker: Worker
) -> None:
    from sqlmodel import Session, select

    from register.engine import create_schema, make_engine
    from register.tables import OutboxRow

    phone = "13987654321"
    deceased_id = new_form()["deceased"]["id_number"]
    certificate = ("--certificate-no", "HH-2026-0088", "--funeral-home", "固阳县殡仪馆", "--cremated-on", CREMATED_ON)
    # A number without the family's consent is refused, with every problem at once, before anything opens.
    refused = await shenhou("case", "certify-cremation", "--family-phone", "12345", *certificate)
    assert refused.exit_code == 1
    for part in ("受理编号或 --deceased-id", "征得家属同意", "不是有效的大陆手机号码"):
        assert part in refused.stderr

    (tmp_path / "data").mkdir(exist_ok=True)
    register = make_engine(get_settings().register_url)
    create_schema(register)
    opened = await shenhou("case", "certify-cremation", "--deceased-id", deceased_id, "--family-phone", phone,
                           "--consent", *certificate)
    assert opened.exit_code == 0, opened.output
    assert phone not in opened.output
    match = CASE_RE.search(opened.stdout)
    assert match, opened.output
    again = await shenhou("case", "certify-cremation", "--deceased-id", deceased_id, "--family-phone", phone,
                          "--consent", "--certificate-no", "HH-2026-0089", "--funeral-home", "固阳县殡仪馆",
                          "--cremated-on", CREMATED_ON)
    assert again.exit_code == 1
    with Session(register) as session:
        rows = session.exec(select(OutboxRow).where(OutboxRow.case_number == match.group(0))).all()
    assert [row.kind for row in rows] == ["invitation"]
    assert match.group(0) in rows[0].message and phone not in rows[0].message
    register.dispose()
    # The window's 待申请 list shows it (visibility catches up within moments).
    for _ in range(100):
        listed = await shenhou("case", "waiting")
        if match.group(0) in listed.stdout:
            break
        await asyncio.sleep(0.1)
    assert listed.exit_code == 0 and match.group(0) in listed.stdout and "待申请案件" in listed.stdout


async def test_without_a_worker(cli_env: dict[str, str], tmp_path: Path) -> None:
    # Starting needs no worker; a query or a command waits for one (bounded by --timeout), then says so.
    case_number = await start(tmp_path)
    status = await shenhou("--timeout", "2", "case", "status", case_number)
    assert status.exit_code == 2
    assert "等待工作流答复超时" in status.stderr and "Traceback" not in status.output
    withdrawn = await shenhou("--timeout", "2", "case", "withdraw", case_number, "--clerk", "窗口李",
                              "--reason", "家属撤回")
    assert withdrawn.exit_code == 2, withdrawn.output
    assert "case status" in withdrawn.stderr and "Traceback" not in withdrawn.output


# --- listings ----------------------------------------------------------------------------------------


async def test_matters_and_overdue(cli_env: dict[str, str]) -> None:
    listed = await shenhou("matters")
    assert listed.exit_code == 0
    assert HUKOU in listed.stdout and "承诺时限" in listed.stdout and "15个工作日" in listed.stdout
    as_json = json.loads((await shenhou("matters", "--json")).stdout)
    assert {m["code"] for m in as_json} == {code.value for code in MatterCode}

    overdue = await shenhou("overdue", "--department", "nhsa", "--json")
    assert overdue.exit_code == 0, overdue.output
    assert isinstance(json.loads(overdue.stdout), list)
    unknown = await shenhou("overdue", "--department", "xyz")
    assert unknown.exit_code == 1


async def test_overdue_lists_a_late_matter_for_the_supervisor(
    cli_env: dict[str, str], client: Client, keys: Keys, task_queue: str, worker: Worker, engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from tests.workflows import timeskip as ts
    from tests.workflows.helpers import matter_handle, wait_for

    nhsa, hpf = MatterCode.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT, MatterCode.PROVIDENT_FUND_DEATH_WITHDRAWAL
    # Pinned: pushed on Tuesday 4 March (no holiday near), so the deadline is the end of Tuesday 11 March.
    at = datetime(2036, 3, 4, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    skipper = ts.pinned_skipper(client, at)
    handle, _ = await ts.pushed_case(skipper, keys, task_queue, nhsa, hpf, at=at)
    # 医保 left alone for three weeks (to 25 March): past its 5 working days and 督办.
    await ts.advance(skipper, matter_handle(client, handle.id, nhsa), timedelta(days=21))
    await wait_for(handle, lambda s: any(m.code == nhsa and m.escalation_level == 4 for m in s.matters))

    async def mine() -> list[dict[str, Any]]:
        result = await shenhou("overdue", "--json")
        assert result.exit_code == 0, result.output
        return [item for item in json.loads(result.stdout) if item["case_number"] == handle.id]

    for _ in range(100):
        items = await mine()
        if items:
            break
        await asyncio.sleep(0.1)
    assert [item["matter"] for item in items] == [nhsa.value]
    # Working days 12-14, 17-21 and 24 March have ended: nine.
    assert items[0]["working_days_overdue"] == 9 and items[0]["escalation_level"] == 4
    table = await shenhou("overdue", "--department", "nhsa")
    assert handle.id in table.stdout and "督办" in table.stdout
    other = await shenhou("overdue", "--department", "hpf", "--json")
    assert handle.id not in other.stdout

    # Where the register can be read (the worker's machine), it answers, and tells the same.
    missing = await shenhou("overdue", "--source", "register")
    assert missing.exit_code == 1 and "案件登记库" in missing.output
    monkeypatch.setenv("SHENHOU_DATABASE_URL", str(engine.url))
    from_register = await shenhou("overdue", "--json")
    assert from_register.exit_code == 0, from_register.output
    assert json.loads(from_register.stdout) == items  # this test's register holds only this case
    engine_only = await shenhou("overdue", "--json", "--source", "engine")
    assert [item for item in json.loads(engine_only.stdout) if item["case_number"] == handle.id] == items


async def test_demo_advance_makes_a_matter_left_alone_overdue(
    cli_env: dict[str, str], client: Client, keys: Keys, task_queue: str, worker: Worker
) -> None:
    """The README's walk-through: a case started by the clerk, a matter left alone, the clock moved on."""
    from tests.workflows.helpers import start, to_parallel_phase, wait_for

    handle = await start(client, keys, task_queue)
    await to_parallel_phase(client, handle)
    moved = await shenhou("demo", "advance", handle.id, "hpf.death_withdrawal", "--days", "14")
    assert moved.exit_code == 0, moved.output
    snap = await wait_for(handle, lambda s: any(
        m.code == MatterCode.PROVIDENT_FUND_DEATH_WITHDRAWAL and m.overdue for m in s.matters))
    late = next(m for m in snap.matters if m.code == MatterCode.PROVIDENT_FUND_DEATH_WITHDRAWAL)
    assert late.escalation_level == 4
    listing = ""
    for _ in range(100):
        listing = (await shenhou("overdue", "--department", "hpf")).stdout
        if handle.id in listing:
            break
        await asyncio.sleep(0.1)
    assert handle.id in listing


async def test_the_window_takes_places_as_the_county_names_them_and_no_account_when_nothing_pays(
    cli_env: dict[str, str], client: Client, tmp_path: Path, worker: Worker
) -> None:
    # Only terminations: the window form has no bank account at all; the household's town names its 派出所.
    form = new_form(situations={"pension_status": "none", "social_assistance": True},
                    deceased__household_county="内蒙古自治区包头市固阳县金山镇", deceased__insured_area="金山镇")
    form["deceased"].pop("bank_card")
    form["applicant"].pop("bank_account")
    case_number = await start(tmp_path, form)

    # The funeral home writes its county with the city in front, and its own name short: both are the county's.
    certified = await shenhou("case", "certify-cremation", case_number, "--certificate-no", "HH-2026-0099",
                              "--funeral-home", "固阳殡仪馆", "--cremated-on", CREMATED_ON, "--county", "包头市固阳县")
    assert certified.exit_code == 0, certified.output
    snap = await wait_for(client, case_number, lambda s: s.cremation is not None)
    assert snap.cremation is not None and snap.cremation.funeral_home == "固阳县殡仪馆"
    shown = await shenhou("case", "status", case_number)
    assert "无（无发放事项）" in shown.stdout, shown.output

    elsewhere = await shenhou("case", "certify-cremation", case_number, "--certificate-no", "HH-2026-0100",
                              "--funeral-home", "达茂旗殡仪馆", "--cremated-on", CREMATED_ON,
                              "--county", "包头市中心城区")
    assert elsewhere.exit_code == 1
    assert "殡仪馆“达茂旗殡仪馆”不在固阳县殡仪馆名录中" in elsewhere.stderr
    assert "火化地“包头市中心城区”不在固阳县" in elsewhere.stderr


async def test_the_window_takes_a_passbook_number(
    cli_env: dict[str, str], client: Client, tmp_path: Path, worker: Worker
) -> None:
    form = new_form(applicant__bank_account__kind="passbook",
                    applicant__bank_account__card_number="1504 0212 3456 7890 11")
    assert CASE_RE.fullmatch(await start(tmp_path, form))
