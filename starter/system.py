"""Commands about the system itself: the catalogue of matters, running a worker, the demo clock, and the keys
(re-sealing the register after a key rotation)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer
from sqlalchemy.exc import SQLAlchemyError
from temporalio.testing import TimeSkipper, TimeSkippingConfig

from domain.ids import matter_workflow_id
from register.engine import create_schema
from register.rotation import DEFAULT_BATCH_SIZE, Rotation, rotate
from register.sealing import Sealer
from runtime.keys import load_keys
from starter import render
from starter.errors import CliError, ExitCode
from starter.session import (
    bounded,
    case_number,
    echo_json,
    execute,
    local,
    matter_code,
    register_engine,
    session,
    settings,
)
from starter.usage import group
from starter.window import CaseArg, Json, MatterArg

demo = group("演示与培训：在开发服务器上快进一个事项的时钟（仅限 scripts/run 启动的服务器）。")
keys = group("密钥：轮换加密密钥后，用当前密钥重新加密案件登记库中的个人信息。")


def register(app: typer.Typer) -> None:
    app.command("matters")(matters)
    app.command("worker")(worker)
    app.add_typer(demo, name="demo")
    app.add_typer(keys, name="keys")


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


@keys.command("rotate")
def rotate_keys(
    ctx: typer.Context,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, max=10_000, help="每批处理的行数（每批单独提交）")
    ] = DEFAULT_BATCH_SIZE,
    json_output: Json = False,
) -> None:
    """用当前密钥重新加密登记库中的身份证号、手机号和银行卡号（含尚未加密的旧记录）。

    当前密钥即 SHENHOU_CODEC_ACTIVE_KEY_ID 所指的密钥。可重复运行，中断后再次运行即从未完成处继续。"""

    async def work() -> int:
        config = settings()
        sealer = Sealer.from_keys(load_keys(config))
        engine = register_engine(config)
        if engine is None:
            raise CliError("未找到案件登记库：请在运行worker的机器上执行，或用 SHENHOU_DATABASE_URL 指定登记库")
        try:
            create_schema(engine)
            done = rotate(engine, sealer, batch_size=batch_size)
        except SQLAlchemyError:
            raise CliError("无法读写案件登记库，请确认数据库可用（SHENHOU_DATABASE_URL）",
                           code=ExitCode.UNAVAILABLE) from None
        finally:
            engine.dispose()
        if json_output:
            echo_json(_rotation_json(done))
        else:
            _print_rotation(done)
        return ExitCode.CONFIG if done.unreadable else ExitCode.OK

    execute(ctx, work, json_output=json_output)


def _print_rotation(done: Rotation) -> None:
    typer.echo(f"当前密钥编号：{done.active_key_id}")
    for label, unit, tally in (("案件", "件", done.cases), ("支付记录", "条", done.payments),
                               ("家属联系电话", "条", done.contacts)):
        typer.echo(
            f"{label}：共检查{tally.examined}{unit}，重新加密{tally.resealed}{unit}"
            f"（其中原为明文{tally.from_clear}{unit}），已是当前密钥{tally.current}{unit}"
        )
    if done.unreadable:
        typer.echo(
            f"无法解密：案件{done.cases.unreadable}件、支付记录{done.payments.unreadable}条"
            + (f"、家属联系电话{done.contacts.unreadable}条" if done.contacts.unreadable else "")
            + "，未作改动。"
            "请在 SHENHOU_CODEC_KEYS 中补齐原有密钥编号后重新运行",
            err=True,
        )


def _rotation_json(done: Rotation) -> dict[str, object]:
    return {
        "ok": not done.unreadable,
        "active_key_id": done.active_key_id,
        **{
            name: {"examined": t.examined, "resealed": t.resealed, "from_clear": t.from_clear,
                   "current": t.current, "unreadable": t.unreadable}
            for name, t in (("cases", done.cases), ("payments", done.payments), ("contacts", done.contacts))
        },
    }
