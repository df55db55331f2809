"""CLI pieces that need no Temporal server: form files, exit codes, configuration errors."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
import yaml
from pydantic import ValidationError
from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode
from typer.testing import CliRunner, Result

from activities.calendar import OverrideFileError
from client.errors import DuplicateCase, NotFound, OperationRefused
from domain.models import ApproveInput, Problem
from runtime.keys import KeyError_, PayloadKeyMismatch
from runtime.policy_file import PolicyFileError
from runtime.settings import get_settings
from runtime.temporal import TlsSettingsError
from starter.cli import app
from starter.errors import ExitCode, InvalidForm, TemporalUnavailable, classify
from starter.forms import FormError, load_form
from tests.factories import DECEASED_NAME, valid_form

SHENHOU = Path(sys.executable).parent / "shenhou"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    config = structlog.get_config()
    for name in list(os.environ):
        if name.startswith("SHENHOU_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SHENHOU_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.configure(**config)


def invoke(*args: str) -> Result:
    get_settings.cache_clear()
    return CliRunner().invoke(app, list(args))


# --- form files -------------------------------------------------------------------------------------


def test_load_form_reads_yaml_and_json(tmp_path: Path) -> None:
    form = valid_form()
    as_yaml = tmp_path / "form.yml"
    as_yaml.write_text(yaml.safe_dump(form, allow_unicode=True), encoding="utf-8")
    as_json = tmp_path / "form.json"
    as_json.write_text("\ufeff" + json.dumps(form, ensure_ascii=False), encoding="utf-8")
    assert load_form(as_yaml) == form
    assert load_form(as_json) == form


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("form.json", '{"deceased": {"name": "王建国",}}', "不是有效的JSON（第1行"),
        ("form.yaml", 'deceased:\n  name: "王建国\n  id_number: [', "不是有效的YAML"),
        ("form.yaml", "   \n", "申请表文件为空"),
        ("form.yaml", None, "申请表文件不存在"),
    ],
)
def test_load_form_errors_never_quote_the_form(tmp_path: Path, name: str, content: str | None, message: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(FormError) as caught:
        load_form(path)
    assert message in caught.value.message
    assert DECEASED_NAME not in caught.value.message
    assert str(tmp_path) not in caught.value.message


def test_load_form_rejects_other_encodings(tmp_path: Path) -> None:
    path = tmp_path / "form.yaml"
    path.write_bytes("deceased:\n  name: 王建国\n".encode("gbk"))
    with pytest.raises(FormError, match="UTF-8"):
        load_form(path)


# --- exit codes ---------------------------------------------------------------------------------------


def _validation_error() -> ValidationError:
    try:
        ApproveInput.model_validate({"officer": "王", "amount": "13904721234abc"})
    except ValidationError as err:
        return err
    raise AssertionError("expected a validation error")


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (OperationRefused("决定未受理"), ExitCode.REFUSED),
        (DuplicateCase("已有申请", case_number="SH-AAAAAAAAAAAA"), ExitCode.REFUSED),
        (NotFound("未找到"), ExitCode.REFUSED),
        (InvalidForm([Problem(field="a", message="b")]), ExitCode.REFUSED),
        (TemporalUnavailable("x"), ExitCode.UNAVAILABLE),
        (RPCError("down", RPCStatusCode.UNAVAILABLE, b""), ExitCode.UNAVAILABLE),
        (TimeoutError(), ExitCode.UNAVAILABLE),
        (WorkflowUpdateRPCTimeoutOrCancelledError(), ExitCode.UNAVAILABLE),
        (RuntimeError("Failed client connect: Server connection error"), ExitCode.UNAVAILABLE),
        (KeyError_("case-number key is not valid base64"), ExitCode.CONFIG),
        (PolicyFileError("bad"), ExitCode.CONFIG),
        (OverrideFileError("holiday override file x.yaml: not valid YAML"), ExitCode.CONFIG),
        (TlsSettingsError("SHENHOU_TEMPORAL_TLS_CERT and SHENHOU_TEMPORAL_TLS_KEY must be set together"),
         ExitCode.CONFIG),
        (PayloadKeyMismatch("unknown payload encryption key id 'k2'", "k2"), ExitCode.CONFIG),
        (ZeroDivisionError(), ExitCode.INTERNAL),
    ],
)
def test_classify_maps_every_failure_to_one_exit_code(exc: BaseException, code: ExitCode) -> None:
    assert classify(exc).code == code
    assert classify(exc).message


def test_an_unanswered_update_tells_the_officer_to_check_case_status() -> None:
    # The command may have taken effect: unlike a query that timed out, the officer must verify before repeating.
    told = classify(WorkflowUpdateRPCTimeoutOrCancelledError())
    assert told.message.startswith("工作进程无响应，操作可能已送达也可能未生效")
    assert "shenhou case status 核实" in told.message
    assert "等待工作流答复超时" in classify(TimeoutError()).message


def test_validation_errors_never_repeat_the_input() -> None:
    failure = classify(_validation_error())
    assert failure.code == ExitCode.REFUSED
    assert "13904721234" not in failure.message and "金额" in failure.message


def test_duplicate_as_json_names_the_case() -> None:
    failure = classify(DuplicateCase("该逝者已有申请", case_number="SH-AAAAAAAAAAAA"))
    assert failure.as_json() == {
        "ok": False, "error": "该逝者已有申请", "exit_code": 1, "case_number": "SH-AAAAAAAAAAAA",
    }


# --- the app without a server ----------------------------------------------------------------------------


def test_usage_errors_exit_1_in_chinese() -> None:
    for args, text in (
        (("case", "start"), "缺少选项"),
        (("case", "status"), "缺少参数"),
        (("case", "status", "SH-AAAAAAAAAAAA", "--nope"), "没有选项"),
        (("case", "nope"), "没有这个命令"),
        (("--timeout", "abc", "matters"), "的值无效"),
    ):
        result = invoke(*args)
        assert result.exit_code == ExitCode.REFUSED, (args, result.output)
        assert text in result.output, (args, result.output)


def test_bad_keys_exit_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHENHOU_CASE_ID_KEY", "not base64!")
    monkeypatch.setenv("SHENHOU_CODEC_KEYS", "k1:also-not-base64")
    result = invoke("case", "status", "SH-AAAAAAAAAAAA")
    assert result.exit_code == ExitCode.CONFIG
    assert "密钥配置有误" in result.stderr
    assert "Traceback" not in result.output


def test_bad_policy_file_exit_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("matters:\n  no.such_matter: {time_limit_working_days: 3}\n", encoding="utf-8")
    monkeypatch.setenv("SHENHOU_POLICY_FILE", str(policy))
    result = invoke("matters")
    assert result.exit_code == ExitCode.CONFIG
    assert "政策配置文件有误" in result.stderr


def test_bad_holiday_file_exit_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    holidays = tmp_path / "holidays.yaml"
    holidays.write_text("2027:\n  holidays: [2027-13-01]\n", encoding="utf-8")
    monkeypatch.setenv("SHENHOU_HOLIDAY_FILE", str(holidays))
    result = invoke("calendar", "coverage")
    assert result.exit_code == ExitCode.CONFIG
    assert result.stderr.startswith("节假日覆盖文件有误") and str(holidays) in result.stderr


def test_bad_setting_exit_3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHENHOU_CODEC_SERVER_PORT", "eighty")
    result = invoke("matters")
    assert result.exit_code == ExitCode.CONFIG
    assert "SHENHOU_CODEC_SERVER_PORT" in result.stderr


def test_form_is_checked_before_connecting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing listens at port 1: an invalid form is told without ever reaching Temporal.
    monkeypatch.setenv("SHENHOU_TEMPORAL_ADDRESS", "127.0.0.1:1")
    path = tmp_path / "form.json"
    path.write_text(json.dumps(valid_form(applicant__phone="12345")), encoding="utf-8")
    result = invoke("case", "start", "--form", str(path), "--json")
    assert result.exit_code == ExitCode.REFUSED
    assert [p["field"] for p in json.loads(result.stdout)["problems"]] == ["applicant.phone"]


# --- the console script: main() leaves with os._exit and the same codes ---------------------------------------


def _script(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SHENHOU), *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **env})


def test_console_script_exit_codes(tmp_path: Path) -> None:
    env = {"SHENHOU_DATA_DIR": str(tmp_path / "data"), "SHENHOU_TEMPORAL_ADDRESS": "127.0.0.1:1"}
    listed = _script("matters", env=env)
    assert listed.returncode == 0, listed.stderr
    assert "police.hukou_cancellation" in listed.stdout
    assert _script("case", "status", "12345", env=env).returncode == ExitCode.REFUSED
    unreachable = _script("case", "status", "SH-AAAAAAAAAAAA", env=env)
    assert unreachable.returncode == ExitCode.UNAVAILABLE
    assert unreachable.stderr.strip().count("\n") == 0 and "无法连接Temporal服务" in unreachable.stderr
    assert _script("case", "start", env=env).returncode == ExitCode.REFUSED
    worker = _script("worker", env=env)
    assert worker.returncode == ExitCode.UNAVAILABLE, worker.stderr


# --- help and options that need no server --------------------------------------------------------------------


def _help(*args: str) -> str:
    # Wide enough that no option's help is wrapped.
    return CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": "240"}).stdout


def test_overdue_offers_only_departments_with_matters(monkeypatch: pytest.MonkeyPatch) -> None:
    offered = _help("overdue")
    for department in ("police", "hrss", "nhsa", "mca", "hpf", "dpf", "va"):
        assert department in offered
    assert "supervision" not in offered
    # Refused before anything is asked of Temporal (nothing listens at port 1).
    monkeypatch.setenv("SHENHOU_TEMPORAL_ADDRESS", "127.0.0.1:1")
    refused = invoke("overdue", "--department", "supervision")
    assert refused.exit_code == ExitCode.REFUSED
    assert refused.stderr.startswith("不认识的部门代码") and "supervision" not in refused.stderr


@pytest.mark.parametrize(("command", "others"), [("confirm-payment", ()), ("payment-failed", ("--reason", "户名不符"))])
def test_the_payment_reference_is_a_required_option(command: str, others: tuple[str, ...]) -> None:
    assert re.search(r"\*\s+--reference\b.*\[必填\]", _help("matter", command))
    missing = invoke("matter", command, "SH-AAAAAAAAAAAA", "户口注销", "--by", "支付系统", *others)
    assert missing.exit_code == ExitCode.REFUSED
    assert "缺少选项 '--reference'" in missing.output


def test_a_payment_report_without_its_sender_and_reason_names_both_in_chinese() -> None:
    missing = invoke("matter", "payment-failed", "SH-AAAAAAAAAAAA", "户口注销", "--reference", "PAY-0000")
    assert missing.exit_code == ExitCode.REFUSED
    assert "缺少确认人或支付系统名称" in missing.stderr and "缺少原因" in missing.stderr
    assert "“by”" not in missing.stderr


def test_a_deadline_in_a_year_without_official_holidays_says_so_without_a_log_line() -> None:
    # 2090: no State Council notice for decades; its holidays are computed by rule.
    result = invoke("calendar", "deadline", "--from", "2090-01-28", "--working-days", "5")
    assert result.exit_code == ExitCode.OK, result.output
    answer, note = result.stdout.strip().splitlines()
    assert answer.startswith("自2090-01-28起第5个工作日：2090-")
    assert note == "注：2090年尚无官方节假日安排，按法定节假日规则推算（未含调休），仅供参考"
    assert result.stderr == ""
    as_json = invoke("calendar", "deadline", "--from", "2090-01-28", "--working-days", "5", "--json")
    assert json.loads(as_json.stdout)["approximate_years"] == [2090] and as_json.stderr == ""


def _command_paths() -> list[list[str]]:
    """Every command and group of the CLI, as the words that name it."""
    import typer.main

    root = typer.main.get_command(app)
    paths: list[list[str]] = [[]]

    def walk(command: object, path: list[str]) -> None:
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            paths.append([*path, name])
            walk(sub, [*path, name])

    walk(root, [])
    return paths


def test_help_is_chinese_and_whole_at_120_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "120")
    for path in _command_paths():
        result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "120"})
        text = result.output
        assert result.exit_code == 0, (path, text)
        assert "显示本帮助并退出" in text and "用法：" in text, (path, text)
        for english in ("Show this message", "Usage:", "[default", "[required]", "<bool>", "<text>"):
            assert english not in text, (path, english)
        # Descriptions are not cut short (the only "…" allowed is in the reference PAY-…).
        assert "…" not in text.replace("PAY-…", ""), (path, text)
        assert max(len(line) for line in text.splitlines()) <= 120
