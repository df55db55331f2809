"""`shenhou matter …`: what a department officer (or a supervisor extending a deadline) types.

Each decision goes to the matter's ``decide`` update and is answered at once: accepted, or refused with
the reason, by the same rules the Web UI's signals meet.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from domain.enums import DecisionKind
from domain.models import ApproveInput, DecisionCommand, ExtendDeadlineInput, RejectInput, RequestMaterialsInput
from starter import operations
from starter.errors import ExitCode
from starter.session import bounded, build, case_number, execute, local, matter_code, session
from starter.usage import group
from starter.window import CaseArg, MatterArg

app = group("部门事项：审核通过、不予办理、要求补正、延长时限。")

Officer = Annotated[str | None, typer.Option("--officer", help="部门经办人（必填）")]
Note = Annotated[str | None, typer.Option("--note", help="备注")]


def _decide(ctx: typer.Context, case: str, matter: str, command: Callable[[], DecisionCommand]) -> None:
    async def work() -> int:
        number = case_number(case)
        decision = command()
        _, policy = local()
        code = matter_code(matter, policy)
        current = await session()
        ack = await bounded(ctx, operations.decide(current.client, number, code, decision))
        typer.echo(ack.message)
        return ExitCode.OK

    execute(ctx, work)


@app.command("approve")
def approve(
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
        approve=build(ApproveInput, officer=officer, amount=amount, certificate_no=certificate_no, note=note),
    ))


@app.command("reject")
def reject(
    ctx: typer.Context,
    case: CaseArg,
    matter: MatterArg,
    officer: Officer = None,
    reason: Annotated[str | None, typer.Option("--reason", help="不予办理的原因（必填）")] = None,
) -> None:
    """不予办理，并说明原因。"""
    _decide(ctx, case, matter, lambda: DecisionCommand(
        kind=DecisionKind.REJECT, reject=build(RejectInput, officer=officer, reason=reason),
    ))


@app.command("request-materials")
def request_materials(
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
        request_materials=build(RequestMaterialsInput, officer=officer, items=item or [], note=note),
    ))


@app.command("extend")
def extend(
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
        extend_deadline=build(ExtendDeadlineInput, supervisor=supervisor, working_days=working_days, reason=reason),
    ))
