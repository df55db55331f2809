"""What the supervisor (县政务服务局) types: `shenhou overdue` across every open case, and `shenhou report`,
the figures of a supervision meeting from the case register."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TypeVar
from zoneinfo import ZoneInfo

import typer
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from client import worklist as work_views
from client.payments import list_payments
from client.supervision import OverdueItem, list_overdue, list_overdue_in_register
from domain.catalogue import active_catalogue
from domain.enums import Department
from domain.policy import Policy
from register.report import Period, Report, build_report
from runtime.settings import Settings
from starter import render
from starter.errors import CliError, ConfigError, ExitCode, InvalidInput
from starter.report_text import print_report
from starter.session import bounded, echo_json, execute, local, register_engine, session, today
from starter.window import Json


# Departments that handle matters in the catalogue (the supervisor's own bureau handles none): the only ones
# `overdue` and `report` can show.
def _reported() -> tuple[Department, ...]:
    return active_catalogue().matter_departments()


DepartmentOption = Annotated[
    str | None, typer.Option("--department", help="只看一个部门：" + "、".join(d.value for d in _reported()))
]
_NO_REGISTER = "未找到案件登记库：请在运行worker的机器上查询，或用 SHENHOU_DATABASE_URL 指定登记库"
_REGISTER_DOWN = "无法读取案件登记库，请确认数据库可用（SHENHOU_DATABASE_URL）"
# The default period: this month and the eleven before it.
_DEFAULT_MONTHS = 12

T = TypeVar("T")


def register(app: typer.Typer) -> None:
    app.command("overdue")(overdue)
    app.command("report")(report)
    app.command("payments")(payments)
    app.command("worklist")(worklist)


class Source(StrEnum):
    AUTO = "auto"
    REGISTER = "register"
    ENGINE = "engine"


def overdue(
    ctx: typer.Context,
    department: DepartmentOption = None,
    at_risk: Annotated[bool, typer.Option("--at-risk", help="列出已预警、即将到期的事项")] = False,
    source: Annotated[
        Source, typer.Option("--source", help="数据来源：register（案件登记库）、engine（Temporal，同Web界面筛选）；"
                             "auto 能读登记库时读登记库")
    ] = Source.AUTO,
    json_output: Json = False,
) -> None:
    """列出超过承诺时限或转人工处理、仍在办理的事项，按超期天数排序（督办用）。"""

    async def work() -> int:
        chosen = _department(department)
        items = None
        if source != Source.ENGINE:
            config, policy = local()
            items = _from_register(config, policy, chosen, at_risk=at_risk, required=source == Source.REGISTER)
        if items is None:
            current = await session()
            policy = current.policy
            items = await bounded(ctx, list_overdue(current.client, current.policy, chosen, at_risk=at_risk))
        if json_output:
            echo_json([item.model_dump(mode="json") for item in items])
        else:
            render.print_overdue(items, policy, at_risk=at_risk)
        return ExitCode.OK

    execute(ctx, work, json_output=json_output)


def payments(
    ctx: typer.Context,
    department: DepartmentOption = None,
    json_output: Json = False,
) -> None:
    """列出待支付系统确认到账或发放失败待更正账户的款项（发放凭证号PAY-…）。

    读自案件登记库：在运行worker的机器上查询，或用 SHENHOU_DATABASE_URL 指定登记库。"""

    async def work() -> int:
        config, policy = local()
        chosen = _department(department)
        items = _read_register(config, lambda engine: list_payments(engine, policy, chosen))
        if json_output:
            echo_json([item.model_dump(mode="json") for item in items])
        else:
            render.print_payments(items, policy)
        return ExitCode.OK

    execute(ctx, work, json_output=json_output)


def worklist(
    ctx: typer.Context,
    department: DepartmentOption = None,
    ui_url: Annotated[
        str | None, typer.Option("--ui-url", help="Web界面地址，默认本机 http://localhost:<SHENHOU_UI_PORT>")
    ] = None,
    json_output: Json = False,
) -> None:
    """各部门在Web界面中的待办链接（已填好筛选条件），及一次性设置列（状态、期限、超期）与保存视图的浏览器脚本。"""

    async def work() -> int:
        config, _ = local()
        chosen = _department(department)
        departments = (chosen,) if chosen else _reported()
        found = work_views.views(ui_url or f"http://localhost:{config.ui_port}", config.namespace, departments)
        setup = work_views.browser_setup(config.namespace, found)
        if json_output:
            echo_json({"views": [v.model_dump(mode="json") for v in found], "browser_setup": setup})
        else:
            render.print_worklist(found, setup)
        return ExitCode.OK

    execute(ctx, work, json_output=json_output)


def _from_register(
    config: Settings, policy: Policy, department: Department | None, *, at_risk: bool, required: bool
) -> list[OverdueItem] | None:
    """The listing from the case register; None when this machine cannot read it (then Temporal answers),
    unless the register was asked for by name."""
    try:
        return _read_register(
            config, lambda engine: list_overdue_in_register(engine, policy, department, at_risk=at_risk))
    except CliError:
        if required:
            raise
        return None


def _read_register(config: Settings, read: Callable[[Engine], T]) -> T:
    """What ``read`` finds in the case register; a one-line answer when this machine cannot read it."""
    engine = register_engine(config)
    if engine is None:
        raise CliError(_NO_REGISTER)
    try:
        return read(engine)
    except SQLAlchemyError:
        raise CliError(_REGISTER_DOWN, code=ExitCode.UNAVAILABLE) from None
    finally:
        engine.dispose()


def _department(value: str | None) -> Department | None:
    if value is None:
        return None
    for department in _reported():
        if value.strip().lower() == department.value:
            return department
    raise InvalidInput("不认识的部门代码，可选：" + "、".join(d.value for d in _reported()))


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{option} 日期格式不正确，应为YYYY-MM-DD，例如2026-01-31") from None


def _default_from(last: date) -> date:
    month = last.year * 12 + last.month - 1 - (_DEFAULT_MONTHS - 1)
    return date(month // 12, month % 12 + 1, 1)


def _write_html(report_: Report, county: str, path: Path) -> None:
    # Imported here: matplotlib is only loaded when a chart is drawn.
    from starter.report_charts import NoChineseFont
    from starter.report_html import render_html

    try:
        page = render_html(report_, county)
    except NoChineseFont as err:
        raise ConfigError(str(err)) from None
    try:
        path.write_text(page, encoding="utf-8")
    except OSError:
        raise InvalidInput(f"无法写入报表文件：{path}") from None


def report(
    ctx: typer.Context,
    period_from: Annotated[
        str | None, typer.Option("--from", help="统计期起始日（YYYY-MM-DD），默认为含本月在内12个月的首日")
    ] = None,
    period_to: Annotated[
        str | None, typer.Option("--to", help="统计期截止日（YYYY-MM-DD，含当日），默认为今天")
    ] = None,
    department: DepartmentOption = None,
    json_output: Json = False,
    html: Annotated[
        Path | None, typer.Option("--html", help="另存为HTML报表（含图表，单一文件，可按A4打印）", dir_okay=False)
    ] = None,
) -> None:
    """承诺时限履行情况报表：按部门、事项统计办结、按时率、超期、督办与发放金额，及月度趋势。

    含推送、办结、按时办结率、办理用时、超期、督办、补正、延期与发放金额；--html 另存为含图表的报表。"""

    async def work() -> int:
        config, policy = local()
        last = _day(period_to, "--to") if period_to is not None else today(policy)
        first = _day(period_from, "--from") if period_from is not None else _default_from(last)
        if first > last:
            raise InvalidInput("统计期起始日不能晚于截止日")
        chosen = _department(department)
        period = Period(first, last, ZoneInfo(policy.timezone))
        found = _read_register(
            config, lambda engine: build_report(engine, period, department=chosen, matters=policy.matters))
        if html is not None:
            _write_html(found, policy.county, html)
        if json_output:
            echo_json(found.model_dump(mode="json"))
        elif html is None:
            print_report(found)
        if html is not None:
            typer.echo(f"报表已写入：{html}", err=json_output)
        return ExitCode.OK

    execute(ctx, work, json_output=json_output)
