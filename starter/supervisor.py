"""What the supervisor (县政务服务局) types: `shenhou overdue` across every open case."""

from __future__ import annotations

from typing import Annotated

import typer

from domain.enums import Department
from starter import render
from starter.errors import ExitCode, InvalidInput
from starter.session import bounded, echo_json, execute, session
from starter.supervision import list_overdue
from starter.window import Json


def register(app: typer.Typer) -> None:
    app.command("overdue")(overdue)


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
        current = await session()
        items = await bounded(ctx, list_overdue(current.client, current.policy, chosen, at_risk=at_risk))
        if json_output:
            echo_json([item.model_dump(mode="json") for item in items])
        else:
            render.print_overdue(items, current.policy, at_risk=at_risk)
        return ExitCode.OK

    execute(ctx, work, json_output=json_output)
