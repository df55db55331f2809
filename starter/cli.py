"""The `shenhou` command line: what the window clerk, the officers and the funeral home type.

Every command does its work in one async function run through ``errors.run``, which maps every
failure to a Chinese message and an exit code (starter/errors.py). ``app`` never leaves the process;
``main()`` (the console script) flushes and leaves with ``os._exit`` (ARCHITECTURE.md: a short-lived
process that used a Temporal client sometimes aborts at interpreter exit).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

import typer
from pydantic import BaseModel, ValidationError
from temporalio.client import Client
from temporalio.service import RPCError
from typer import rich_utils
from typer._click import exceptions as click_errors
from typer.core import TyperGroup

from domain.application import validate_application
from domain.enums import DecisionKind, Department, MatterCode
from domain.identity import id_number_valid, luhn_valid
from domain.ids import case_number_for, is_case_number, matter_workflow_id
from domain.inputs import describe_validation_error
from domain.models import (
    ApproveInput,
    CremationCertifiedInput,
    DecisionCommand,
    ExtendDeadlineInput,
    MaterialsSupplementedInput,
    PayeeCorrectedInput,
    RejectInput,
    RequestMaterialsInput,
    WithdrawInput,
)
from domain.policy import Policy
from runtime.keys import Keys, load_keys
from runtime.logging import configure_logging
from runtime.policy_file import load_policy
from runtime.settings import Settings, get_settings
from runtime.temporal import connect
from starter import operations, render
from starter.errors import (
    UNAVAILABLE_MESSAGE,
    ConfigError,
    ExitCode,
    InvalidForm,
    InvalidInput,
    TemporalUnavailable,
    run,
)
from starter.forms import attach_materials, load_form, store_materials
from starter.supervision import list_overdue

M = TypeVar("M", bound=BaseModel)

CONNECT_TIMEOUT_SECONDS = 10.0
DEFAULT_TIMEOUT_SECONDS = 30.0
SIGNAL_WAIT_SECONDS = 5.0

# Labels for input fields the domain's table does not name (never the values: they are personal).
_EXTRA_LABELS = {"bank_name": "开户银行", "account_name": "户名", "card_number": "银行卡号"}
_SAFE_CODE_RE = re.compile(r"[a-z_.]{1,60}")

# Chinese headings for Typer's help and error panels.
rich_utils.ARGUMENTS_PANEL_TITLE = "参数"
rich_utils.OPTIONS_PANEL_TITLE = "选项"
rich_utils.COMMANDS_PANEL_TITLE = "命令"
rich_utils.ERRORS_PANEL_TITLE = "错误"
rich_utils.RICH_HELP = "运行 '{command_path} {help_option}' 查看帮助。"


# --- usage errors in Chinese, exit code 1 ----------------------------------------------------------


class _UsageError(click_errors.UsageError):
    exit_code = int(ExitCode.REFUSED)

    def format_message(self) -> str:
        return self.message


def _hint(err: click_errors.BadParameter) -> str:
    if err.param_hint is not None:
        hint = err.param_hint
        return " / ".join(hint) if not isinstance(hint, str) else hint
    if err.param is not None:
        return err.param.get_error_hint()
    return ""


def _usage_message(err: click_errors.UsageError) -> str:
    if isinstance(err, click_errors.MissingParameter):
        kind = "参数" if (err.param is not None and err.param.param_type_name == "argument") else "选项"
        return f"缺少{kind} {_hint(err)}"
    if isinstance(err, click_errors.BadParameter):
        return f"{_hint(err)} 的值无效：{err.message}"
    if isinstance(err, click_errors.NoSuchOption):
        guess = f"（是否要用：{'、'.join(sorted(err.possibilities))}）" if err.possibilities else ""
        return f"没有选项 {err.option_name}{guess}"
    if isinstance(err, click_errors.BadOptionUsage):
        return f"选项 {err.option_name} 用法有误：{err.message}"
    if err.message.startswith("No such command"):
        return f"没有这个命令：{err.message.split(' ', 3)[-1].rstrip('.')}"
    if err.message.startswith("Got unexpected extra argument"):
        return "多余的参数：" + err.message.split("(", 1)[-1].rstrip(")")
    return f"命令用法有误：{err.message}"


@contextmanager
def _chinese_usage_errors() -> Iterator[None]:
    try:
        yield
    except _UsageError:
        raise
    except click_errors.NoArgsIsHelpError as err:
        err.exit_code = int(ExitCode.REFUSED)
        raise
    except click_errors.UsageError as err:
        raise _UsageError(_usage_message(err), err.ctx) from None


class _Group(TyperGroup):
    """A command group whose usage errors are told in Chinese and exit with code 1 (not click's 2)."""

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        with _chinese_usage_errors():
            return super().make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx: Any) -> Any:
        with _chinese_usage_errors():
            return super().invoke(ctx)


def _typer(help: str) -> typer.Typer:
    return typer.Typer(
        cls=_Group, help=help, no_args_is_help=True, add_completion=False,
        pretty_exceptions_enable=False, pretty_exceptions_show_locals=False,
    )


app = _typer("身后“一件事一次办”：一次申请，并联办理逝者身后各项事务。")
case_app = _typer("案件：受理申请、查询进度、火化证明、补正材料、撤回、更正收款账户。")
matter_app = _typer("部门事项：审核通过、不予办理、要求补正、延长时限。")
app.add_typer(case_app, name="case")
app.add_typer(matter_app, name="matter")
demo_app = _typer("演示与培训：在开发服务器上快进一个事项的时钟（仅限 scripts/run 启动的服务器）。")
app.add_typer(demo_app, name="demo")


# --- shared plumbing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CliOptions:
    verbose: bool = False
    timeout: float = DEFAULT_TIMEOUT_SECONDS


class _LazyStderr:
    """Writes to whatever ``sys.stderr`` is at the time (the CLI test runner swaps it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def _configure_logging(verbose: bool) -> None:
    configure_logging("INFO" if verbose else "WARNING")
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(_LazyStderr())


@app.callback()
def _root(
    ctx: typer.Context,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="显示运行日志（INFO级别）")] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1, help="等待Temporal答复的最长秒数")
    ] = DEFAULT_TIMEOUT_SECONDS,
) -> None:
    _configure_logging(verbose)
    ctx.obj = CliOptions(verbose=verbose, timeout=timeout)


def _options(ctx: typer.Context) -> CliOptions:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, CliOptions) else CliOptions()


def _settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as err:
        names = sorted({f"SHENHOU_{str(e['loc'][0]).upper()}" for e in err.errors() if e.get("loc")})
        raise ConfigError(f"环境变量配置有误：{'、'.join(names) or '无法读取'}") from None


def _policy(settings: Settings) -> Policy:
    return load_policy(settings.policy_file)


def _today(policy: Policy) -> date:
    return datetime.now(ZoneInfo(policy.timezone)).date()


async def _connect(settings: Settings, keys: Keys) -> Client:
    try:
        return await asyncio.wait_for(connect(settings, keys), timeout=CONNECT_TIMEOUT_SECONDS)
    except (RuntimeError, RPCError, TimeoutError, OSError) as err:
        raise TemporalUnavailable(UNAVAILABLE_MESSAGE) from err


@dataclass(frozen=True)
class _Session:
    settings: Settings
    keys: Keys
    client: Client
    policy: Policy


async def _session() -> _Session:
    settings = _settings()
    policy = _policy(settings)
    keys = load_keys(settings)
    client = await _connect(settings, keys)
    return _Session(settings, keys, client, policy)


T = TypeVar("T")


async def _bounded(ctx: typer.Context, work: Awaitable[T]) -> T:
    """One Temporal call, bounded: an update or query waits for a worker that may not be running."""
    return await asyncio.wait_for(work, timeout=_options(ctx).timeout)


def _execute(ctx: typer.Context, work: Callable[[], Awaitable[int | None]], *, json_output: bool = False) -> None:
    run(work, json_output=json_output, verbose=_options(ctx).verbose)


def _build(model: type[M], **values: Any) -> M:
    """The typed input from what was typed; options left out are reported as missing, in Chinese."""
    try:
        return model.model_validate({key: value for key, value in values.items() if value is not None})
    except ValidationError as err:
        text = describe_validation_error(err) or "输入格式不正确"
        for key, label in _EXTRA_LABELS.items():
            text = text.replace(key, label)
        raise InvalidInput(text) from None


def _case_number(value: str) -> str:
    number = value.strip().upper()
    if not is_case_number(number):
        raise InvalidInput("受理编号格式不正确，应为“SH-”加12位字母或数字")
    return number


def _matter(value: str, policy: Policy) -> MatterCode:
    text = value.strip()
    for matter in policy.matters:
        if text in (matter.code.value, matter.short_name, matter.name):
            return matter.code
    shown = f"“{text}”" if _SAFE_CODE_RE.fullmatch(text) else ""
    raise InvalidInput(f"不认识的事项{shown}，可用 shenhou matters 查看事项代码")


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _signal_result(outcome: operations.SignalOutcome, done: str, what: str) -> int:
    if outcome.accepted is False:
        raise operations.OperationRefused(f"{what}未被接受：{outcome.reason}", case_number=outcome.case_number)
    if outcome.accepted:
        typer.echo(done)
    else:
        typer.echo(f"{what}已送达案件{outcome.case_number}，尚未确认处理结果，请稍后用 shenhou case status 查询")
    return ExitCode.OK


# --- case -----------------------------------------------------------------------------------------


Json = Annotated[bool, typer.Option("--json", help="输出机器可读的JSON")]
CaseArg = Annotated[str, typer.Argument(metavar="CASE", help="受理编号，如 SH-ABCDEFGH2345", show_default=False)]
MatterArg = Annotated[str, typer.Argument(metavar="MATTER", help="事项代码（见 shenhou matters），或事项简称")]


@case_app.command("start")
def case_start(
    ctx: typer.Context,
    form: Annotated[Path, typer.Option("--form", "-f", help="申请表文件（JSON或YAML），见 examples/")],
    json_output: Json = False,
) -> None:
    """受理申请：检查申请表，一次告知全部问题，通过后立案。

    打印受理编号；--json 输出 {"ok": true, "case_number": ...} 或 {"ok": false, "problems": [...]}。
    """

    async def work() -> int:
        settings = _settings()
        policy = _policy(settings)
        attached = attach_materials(load_form(form), form.parent)
        result = validate_application(attached.form, policy, _today(policy))
        problems = attached.merge(result) if isinstance(result, list) else attached.problems
        if problems or isinstance(result, list):
            raise InvalidForm(problems)
        store_materials(attached.files, settings.data_dir / "materials")
        keys = load_keys(settings)
        client = await _connect(settings, keys)
        started = await _bounded(ctx, operations.start_case(client, result, keys.case_id_key, settings.task_queue))
        if json_output:
            _echo_json({"ok": True, "case_number": started.case_number})
        else:
            typer.echo(f"申请已受理，受理编号：{started.case_number}")
        return ExitCode.OK

    _execute(ctx, work, json_output=json_output)


@case_app.command("status")
def case_status(ctx: typer.Context, case: CaseArg, json_output: Json = False) -> None:
    """查询案件进度：各事项状态、期限、金额和办理过程。

    含超时标记、发放流水号、审核记录、被拒绝的操作；--json 输出完整状态。
    """

    async def work() -> int:
        number = _case_number(case)
        session = await _session()
        snapshot = await _bounded(ctx, operations.case_status(session.client, number))
        if json_output:
            typer.echo(snapshot.model_dump_json(indent=2))
        else:
            render.print_status(snapshot, session.policy)
        return ExitCode.OK

    _execute(ctx, work, json_output=json_output)


@case_app.command("certify-cremation")
def case_certify_cremation(
    ctx: typer.Context,
    case: Annotated[
        str | None, typer.Argument(metavar="CASE", help="受理编号；家属尚未申请时改用 --deceased-id")
    ] = None,
    deceased_id: Annotated[
        str | None, typer.Option("--deceased-id", help="逝者身份证号码（殡仪馆在家属申请前上传时用）")
    ] = None,
    certificate_no: Annotated[str | None, typer.Option("--certificate-no", help="火化证明编号（必填）")] = None,
    funeral_home: Annotated[str | None, typer.Option("--funeral-home", help="殡仪馆名称（必填）")] = None,
    cremated_on: Annotated[str | None, typer.Option("--cremated-on", help="火化日期 YYYY-MM-DD（必填）")] = None,
    county: Annotated[str | None, typer.Option("--county", help="火化地（县）")] = None,
) -> None:
    """上传火化证明（殡仪馆），家属未申请时用 --deceased-id。

    按逝者身份证号建立案件并打印受理编号；家属申请到后自动合并到同一案件。
    """

    async def work() -> int:
        if (case is None) == (deceased_id is None):
            raise InvalidInput("请提供受理编号或 --deceased-id 其中之一")
        certificate = _build(
            CremationCertifiedInput, certificate_no=certificate_no, funeral_home=funeral_home,
            cremated_on=cremated_on, county=county,
        )
        session = await _session()
        if deceased_id is not None:
            id_number = deceased_id.strip().upper()
            if not id_number_valid(id_number):
                raise InvalidInput("逝者身份证号码校验不通过，请核对")
            number = case_number_for(id_number, session.keys.case_id_key)
        else:
            number = _case_number(case or "")
        outcome = await _bounded(ctx, operations.certify_cremation_checked(
            session.client, number, certificate, session.settings.task_queue,
            must_exist=deceased_id is None, wait=SIGNAL_WAIT_SECONDS,
        ))
        return _signal_result(outcome, f"火化证明已登记，受理编号：{number}", "火化证明")

    _execute(ctx, work)


@case_app.command("supplement")
def case_supplement(
    ctx: typer.Context,
    case: CaseArg,
    matter: MatterArg,
    item: Annotated[list[str] | None, typer.Option("--item", help="补交的材料（可重复，必填）")] = None,
    note: Annotated[str | None, typer.Option("--note", help="备注")] = None,
) -> None:
    """登记补正材料：事项恢复计时，立即告知是否受理。"""

    async def work() -> int:
        number = _case_number(case)
        supplement = _build(
            MaterialsSupplementedInput, matter=_matter(matter, _policy(_settings())), items=item or [], note=note,
        )
        session = await _session()
        ack = await _bounded(ctx, operations.supplement(session.client, number, supplement))
        typer.echo(f"{ack.message}（事项状态：{ack.state.value}）")
        return ExitCode.OK

    _execute(ctx, work)


@case_app.command("withdraw")
def case_withdraw(
    ctx: typer.Context,
    case: CaseArg,
    clerk: Annotated[str | None, typer.Option("--clerk", help="窗口受理人员（必填）")] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="撤回原因（必填）")] = None,
) -> None:
    """申请人撤回申请：未办结的事项全部撤回，案件关闭。"""

    async def work() -> int:
        number = _case_number(case)
        withdrawal = _build(WithdrawInput, clerk=clerk, reason=reason)
        session = await _session()
        outcome = await _bounded(
            ctx, operations.withdraw(session.client, number, withdrawal, wait=SIGNAL_WAIT_SECONDS)
        )
        return _signal_result(outcome, f"撤回申请已登记，案件{number}的未办结事项将全部撤回", "撤回申请")

    _execute(ctx, work)


@case_app.command("correct-account")
def case_correct_account(
    ctx: typer.Context,
    case: CaseArg,
    clerk: Annotated[str | None, typer.Option("--clerk", help="窗口受理人员（必填）")] = None,
    bank_name: Annotated[str | None, typer.Option("--bank-name", help="开户银行（必填）")] = None,
    account_name: Annotated[str | None, typer.Option("--account-name", help="户名（必填）")] = None,
    card_number: Annotated[str | None, typer.Option("--card-number", help="银行卡号（必填）")] = None,
) -> None:
    """更正收款账户：发放失败的款项按新账户重新发放。"""

    async def work() -> int:
        number = _case_number(case)
        correction = _build(
            PayeeCorrectedInput, clerk=clerk, bank_name=bank_name, account_name=account_name,
            card_number=card_number.replace(" ", "") if card_number else None,
        )
        if not luhn_valid(correction.card_number):
            raise InvalidInput("银行卡号校验不通过，请核对")
        session = await _session()
        outcome = await _bounded(
            ctx, operations.correct_bank_account(session.client, number, correction, wait=SIGNAL_WAIT_SECONDS)
        )
        return _signal_result(outcome, "收款账户已更正，款项将重新发放", "更正收款账户")

    _execute(ctx, work)


# --- matter -----------------------------------------------------------------------------------------


def _decide(ctx: typer.Context, case: str, matter: str, build: Callable[[], DecisionCommand]) -> None:
    async def work() -> int:
        number = _case_number(case)
        command = build()
        code = _matter(matter, _policy(_settings()))
        session = await _session()
        ack = await _bounded(ctx, operations.decide_checked(session.client, number, code, command))
        typer.echo(ack.message)
        return ExitCode.OK

    _execute(ctx, work)


Officer = Annotated[str | None, typer.Option("--officer", help="部门经办人（必填）")]
Note = Annotated[str | None, typer.Option("--note", help="备注")]


@matter_app.command("approve")
def matter_approve(
    ctx: typer.Context,
    case: CaseArg,
    matter: MatterArg,
    officer: Officer = None,
    amount: Annotated[
        str | None, typer.Option("--amount", help="发放金额（元），如 1234.50；发放款项的事项必填")
    ] = None,
    certificate_no: Annotated[
        str | None, typer.Option("--certificate-no", help="证明编号（户口注销须填户口注销证明编号）")
    ] = None,
    note: Note = None,
) -> None:
    """审核通过；发放款项的事项同时发放金额。"""
    _decide(ctx, case, matter, lambda: DecisionCommand(
        kind=DecisionKind.APPROVE,
        approve=_build(ApproveInput, officer=officer, amount=amount, certificate_no=certificate_no, note=note),
    ))


@matter_app.command("reject")
def matter_reject(
    ctx: typer.Context,
    case: CaseArg,
    matter: MatterArg,
    officer: Officer = None,
    reason: Annotated[str | None, typer.Option("--reason", help="不予办理的原因（必填）")] = None,
) -> None:
    """不予办理，并说明原因。"""
    _decide(ctx, case, matter, lambda: DecisionCommand(
        kind=DecisionKind.REJECT, reject=_build(RejectInput, officer=officer, reason=reason),
    ))


@matter_app.command("request-materials")
def matter_request_materials(
    ctx: typer.Context,
    case: CaseArg,
    matter: MatterArg,
    officer: Officer = None,
    item: Annotated[list[str] | None, typer.Option("--item", help="需补正的材料（可重复，必填）")] = None,
    note: Note = None,
) -> None:
    """要求补正材料：暂停计时，通知家属补交。"""
    _decide(ctx, case, matter, lambda: DecisionCommand(
        kind=DecisionKind.REQUEST_MATERIALS,
        request_materials=_build(RequestMaterialsInput, officer=officer, items=item or [], note=note),
    ))


@matter_app.command("extend")
def matter_extend(
    ctx: typer.Context,
    case: CaseArg,
    matter: MatterArg,
    supervisor: Annotated[str | None, typer.Option("--supervisor", help="督办人（必填）")] = None,
    working_days: Annotated[str | None, typer.Option("--working-days", help="延长的工作日数，1-60（必填）")] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="延长原因（必填）")] = None,
) -> None:
    """延长承诺时限（督办）。"""
    _decide(ctx, case, matter, lambda: DecisionCommand(
        kind=DecisionKind.EXTEND_DEADLINE,
        extend_deadline=_build(ExtendDeadlineInput, supervisor=supervisor, working_days=working_days, reason=reason),
    ))


@demo_app.command("advance")
def demo_advance(
    ctx: typer.Context,
    case: CaseArg,
    matter: MatterArg,
    days: Annotated[int, typer.Option("--days", min=1, max=90, help="快进的自然日数")] = 7,
) -> None:
    """把一个事项的时钟快进若干天，用于演示预警、超时和督办（仅对开发服务器有效）。"""

    async def work() -> int:
        from datetime import timedelta

        from temporalio.testing import TimeSkipper, TimeSkippingConfig

        session = await _session()
        code = _matter(matter, session.policy)
        skipper = TimeSkipper(session.client, config=TimeSkippingConfig(enabled=False))
        handle = session.client.get_workflow_handle(matter_workflow_id(case.strip(), code))
        done = await _bounded(ctx, skipper.fast_forward(handle, timedelta(days=days)))
        typer.echo(f"已将事项{code.value}的时钟快进{days}天" if done else "事项已办结，未快进")
        return ExitCode.OK

    _execute(ctx, work)


# --- top-level commands -----------------------------------------------------------------------------


@app.command("matters")
def matters(ctx: typer.Context, json_output: Json = False) -> None:
    """列出可办事项：代码、部门、名称、承诺时限、是否发放款项。"""

    async def work() -> int:
        policy = _policy(_settings())
        if json_output:
            _echo_json([
                {
                    "code": m.code.value, "department": m.department.value, "department_name": m.department_name,
                    "name": m.name, "short_name": m.short_name,
                    "time_limit_working_days": m.time_limit_working_days, "pays_family": m.pays_family,
                }
                for m in policy.matters
            ])
        else:
            render.print_catalogue(policy)
        return ExitCode.OK

    _execute(ctx, work, json_output=json_output)


@app.command("overdue")
def overdue(
    ctx: typer.Context,
    department: Annotated[
        str | None, typer.Option("--department", help="只看一个部门：" + "、".join(d.value for d in Department))
    ] = None,
    at_risk: Annotated[bool, typer.Option("--at-risk", help="列出已预警、即将到期的事项")] = False,
    json_output: Json = False,
) -> None:
    """列出超过承诺时限或转人工处理、仍在办理的事项，按超期天数排序（督办用）。"""

    async def work() -> int:
        chosen: Department | None = None
        if department is not None:
            try:
                chosen = Department(department.strip().lower())
            except ValueError:
                raise InvalidInput("不认识的部门代码，可选：" + "、".join(d.value for d in Department)) from None
        session = await _session()
        items = await _bounded(ctx, list_overdue(session.client, session.policy, chosen, at_risk=at_risk))
        if json_output:
            _echo_json([item.model_dump(mode="json") for item in items])
        else:
            render.print_overdue(items, session.policy, at_risk=at_risk)
        return ExitCode.OK

    _execute(ctx, work, json_output=json_output)


@app.command("worker")
def worker(ctx: typer.Context) -> None:
    """运行工作进程（承载案件和事项工作流及全部活动），Ctrl-C 停止。"""
    from worker import run_worker

    async def work() -> int:
        await run_worker(_settings())
        return ExitCode.OK

    _execute(ctx, work)


# --- the console script -----------------------------------------------------------------------------


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass


def main() -> None:
    """Entry point of the `shenhou` console script: run the app, flush, and leave with os._exit."""
    code: int = ExitCode.OK
    try:
        app(prog_name="shenhou")
    except SystemExit as done:
        if done.code is None:
            code = ExitCode.OK
        elif isinstance(done.code, int):
            code = done.code
        else:
            print(done.code, file=sys.stderr)
            code = ExitCode.REFUSED
    except BaseException as exc:  # nothing may stop the os._exit below
        print(f"系统内部错误（{type(exc).__name__}）", file=sys.stderr)
        code = ExitCode.INTERNAL
    _flush()
    os._exit(code)


if __name__ == "__main__":
    main()
