"""`shenhou calendar …`: what the working-day calendar knows, and a deadline counted from a date.

For supervisors and clerks answering "by when?": a year without the State Council's official schedule is
counted by the statutory holiday rules and every answer from it is marked approximate.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from activities.calendar import WorkingDayCalendar, YearSource
from activities.calendar_queries import calendar_coverage, deadline_from_date
from starter.errors import ExitCode, InvalidInput
from starter.session import execute, local, today
from starter.usage import group
from starter.window import Json

app = group("工作日日历：官方节假日安排的覆盖情况，按工作日推算期限。")

_SOURCES = {YearSource.LIBRARY: "官方安排（内置数据）", YearSource.OVERRIDE: "官方安排（本县覆盖文件）",
            YearSource.RULES: "按法定节假日规则推算（无调休，仅供参考）"}


def _calendar() -> WorkingDayCalendar:
    config, _ = local()
    # Each answer says itself when it is counted by rule: no log line for the clerk on top.
    return WorkingDayCalendar.from_file(config.holiday_path, log_approximate=False)


@app.command("coverage")
def coverage(ctx: typer.Context, json_output: Json = False) -> None:
    """今年和明年的节假日数据来源；从11月1日起，明年尚无官方安排时给出提醒。"""

    async def work() -> int:
        _, policy = local()
        report = calendar_coverage(_calendar(), today(policy))
        if json_output:
            typer.echo(report.model_dump_json(indent=2))
            return ExitCode.OK
        for year in report.years:
            typer.echo(f"{year.year}年：{_SOURCES[year.source]}")
        if report.warning:
            typer.echo(f"提醒：{report.warning}")
        return ExitCode.OK

    execute(ctx, work, json_output=json_output)


@app.command("deadline")
def deadline(
    ctx: typer.Context,
    start: Annotated[str, typer.Option("--from", help="起算日期 YYYY-MM-DD（当日不计）")],
    working_days: Annotated[int, typer.Option("--working-days", min=0, max=366, help="工作日数")],
    json_output: Json = False,
) -> None:
    """从某日起算若干个工作日的期限（起算当日不计），并说明是否为推算。"""

    async def work() -> int:
        try:
            first = date.fromisoformat(start.strip())
        except ValueError:
            raise InvalidInput("起算日期应为YYYY-MM-DD格式") from None
        answer = deadline_from_date(_calendar(), first, working_days)
        if json_output:
            typer.echo(answer.model_dump_json(indent=2))
            return ExitCode.OK
        typer.echo(f"自{first.isoformat()}起第{working_days}个工作日：{answer.deadline.isoformat()}")
        if answer.approximate:
            years = "、".join(f"{year}年" for year in answer.approximate_years)
            typer.echo(f"注：{years}尚无官方节假日安排，按法定节假日规则推算（未含调休），仅供参考")
        return ExitCode.OK

    execute(ctx, work, json_output=json_output)
