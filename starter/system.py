"""Commands about the system itself: the catalogue of matters, running a worker, and the demo clock."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer
from temporalio.testing import TimeSkipper, TimeSkippingConfig

from domain.ids import matter_workflow_id
from starter import render
from starter.errors import ExitCode
from starter.session import bounded, case_number, echo_json, execute, local, matter_code, session, settings
from starter.usage import group
from starter.window import CaseArg, Json, MatterArg

demo = group("演示与培训：在开发服务器上快进一个事项的时钟（仅限 scripts/run 启动的服务器）。")


def register(app: typer.Typer) -> None:
    app.command("matters")(matters)
    app.command("worker")(worker)
    app.add_typer(demo, name="demo")


def matters(ctx: typer.Context, json_output: Json = False) -> None:
    """列出可办事项：代码、部门、名称、承诺时限、是否发放款项。"""

    async def work() -> int:
        _, policy = local()
        if json_output:
            echo_json([
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

    execute(ctx, work, json_output=json_output)


def worker(ctx: typer.Context) -> None:
    """运行工作进程（承载案件和事项工作流及全部活动），Ctrl-C 停止。"""
    from worker import run_worker

    async def work() -> int:
        await run_worker(settings())
        return ExitCode.OK

    execute(ctx, work)


@demo.command("advance")
def advance(
    ctx: typer.Context,
    case: CaseArg,
    matter: MatterArg,
    days: Annotated[int, typer.Option("--days", min=1, max=90, help="快进的自然日数")] = 7,
) -> None:
    """把一个事项的时钟快进若干天，用于演示预警、超时和督办（仅对开发服务器有效）。"""

    async def work() -> int:
        current = await session()
        code = matter_code(matter, current.policy)
        skipper = TimeSkipper(current.client, config=TimeSkippingConfig(enabled=False))
        handle = current.client.get_workflow_handle(matter_workflow_id(case_number(case), code))
        done = await bounded(ctx, skipper.fast_forward(handle, timedelta(days=days)))
        typer.echo(f"已将事项{code.value}的时钟快进{days}天" if done else "事项已办结，未快进")
        return ExitCode.OK

    execute(ctx, work)
