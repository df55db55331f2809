"""`shenhou matter …`: what a department officer (or a supervisor extending a deadline) types.

Each decision goes to the matter's ``decide`` update and is answered at once: accepted, or refused with
the reason, by the same rules the Web UI's signals meet.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from client import operations
from domain.decisions import command_payload
from domain.enums import DecisionKind, Issuer, MatterCode
from domain.models import (
    ApproveInput,
    DecisionCommand,
    ExtendDeadlineInput,
    PaymentConfirmedInput,
    PaymentFailedInput,
    RejectInput,
    RequestMaterialsInput,
)
from domain.officers import OFFICER_KINDS
from runtime.keys import signer
from runtime.settings import Settings
from starter.errors import ExitCode
from starter.identity import with_statement
from starter.session import bounded, build, case_number, execute, local, matter_code, session
from starter.usage import group
from starter.window import CaseArg, MatterArg

app = group("部门事项：审核通过、不予办理、要求补正、延长时限；支付系统确认到账或报告发放失败。")

Officer = Annotated[str | None, typer.Option("--officer", help="部门经办人（未用 --token 时必填）")]
Token = Annotated[str | None, typer.Option(
    "--token", envvar="SHENHOU_OFFICER_TOKEN", show_envvar=False,
    help="身份提供方签发的登录令牌（要求核验身份的集群必填；建议用环境变量 SHENHOU_OFFICER_TOKEN）")]
# With a token the verified name replaces whatever was typed.
SIGNED_IN = "已登录办理人"
Note = Annotated[str | None, typer.Option("--note", help="备注")]


def _decide(ctx: typer.Context, case: str, matter: str, command: Callable[[], DecisionCommand],
            token: str | None = None) -> None:
    async def work() -> int:
        number = case_number(case)
        decision = command()
        config, policy = local()
        code = matter_code(matter, policy)
        decision = await _identified(config, decision, number, code, token)
        current = await session()
        ack = await bounded(ctx, operations.decide(current.client, number, code, decision))
        typer.echo(ack.message)
        return ExitCode.OK

    execute(ctx, work)


async def _identified(config: Settings, command: DecisionCommand, number: str, code: MatterCode,
                      token: str | None) -> DecisionCommand:
    """The decision naming its case and matter, with the codec server's statement of who decided when the
    officer gave a token. Without one the cluster decides: refused where officers must be verified, else taken
    and marked unverified."""
    payload = command_payload(command)
    if isinstance(payload, str) or command.kind not in OFFICER_KINDS:
        return command
    payload = payload.model_copy(update={"case_number": number, "matter": code})
    if token and token.strip():
        payload = await with_statement(config, token, payload)
    return command.model_copy(update={command.kind.value: payload})


@app.command("approve")
def approve(
    ctx: typer.Context,
    case: CaseArg,
    matter: MatterArg,
    officer: Officer = None,
    amount: Annotated[
        str | None, typer.Option("--amount", help="发放金额（元），如 1234.50；发放款项的事项必填")
    ] = None,
    overpaid: Annotated[
        str | None, typer.Option("--overpaid", help="逝者身故后多领、须抵扣的金额（元）")
    ] = None,
    overpaid_source: Annotated[
        str | None, typer.Option("--overpaid-source", help="多领款项的来源，如“养老金多发2个月”")
    ] = None,
    certificate_no: Annotated[
        str | None, typer.Option("--certificate-no", help="证明编号（户口注销须填户口注销证明编号）")
    ] = None,
    note: Note = None,
    token: Token = None,
) -> None:
    """审核通过；发放款项的事项填核定金额（无款项填0），有多领的一并抵扣，实发金额下达支付系统。"""
    _decide(ctx, case, matter, lambda: DecisionCommand(
        kind=DecisionKind.APPROVE,
        approve=build(ApproveInput, officer=_named(officer, token), amount=amount, overpaid=overpaid,
                      overpaid_source=overpaid_source, certificate_no=certificate_no, note=note),
    ), token)


@app.command("no-benefit")
def no_benefit(
    ctx: typer.Context,
    case: CaseArg,
    matter: MatterArg,
    officer: Officer = None,
    note: Note = None,
    token: Token = None,
) -> None:
    """无该待遇：待遇终止事项经核查无此待遇，以此办结。

    这是部门的办理结果之一，不是不予办理。"""
    _decide(ctx, case, matter, lambda: DecisionCommand(
        kind=DecisionKind.APPROVE,
        approve=build(ApproveInput, officer=_named(officer, token), no_benefit=True, note=note),
    ), token)


@app.command("reject")
def reject(
    ctx: typer.Context,
    case: CaseArg,
    matter: MatterArg,
    officer: Officer = None,
    reason: Annotated[str | None, typer.Option("--reason", help="不予办理的原因（必填）")] = None,
    token: Token = None,
) -> None:
    """不予办理，并说明原因。"""
    _decide(ctx, case, matter, lambda: DecisionCommand(
        kind=DecisionKind.REJECT, reject=build(RejectInput, officer=_named(officer, token), reason=reason),
    ), token)


@app.command("request-materials")
def request_materials(
    ctx: typer.Context,
    case: CaseArg,
    matter: MatterArg,
    officer: Officer = None,
    item: Annotated[list[str] | None, typer.Option("--item", help="需补正的材料（可重复，必填）")] = None,
    note: Note = None,
    token: Token = None,
) -> None:
    """要求补正材料：暂停计时，通知家属补交。"""
    _decide(ctx, case, matter, lambda: DecisionCommand(
        kind=DecisionKind.REQUEST_MATERIALS,
        request_materials=build(RequestMaterialsInput, officer=_named(officer, token), items=item or [], note=note),
    ), token)


@app.command("extend")
def extend(
    ctx: typer.Context,
    case: CaseArg,
    matter: MatterArg,
    supervisor: Annotated[str | None, typer.Option("--supervisor", help="督办人（必填）")] = None,
    working_days: Annotated[str | None, typer.Option("--working-days", help="延长的工作日数，1-60（必填）")] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="延长原因（必填）")] = None,
    token: Token = None,
) -> None:
    """延长承诺时限（督办）。"""
    _decide(ctx, case, matter, lambda: DecisionCommand(
        kind=DecisionKind.EXTEND_DEADLINE,
        extend_deadline=build(ExtendDeadlineInput, supervisor=_named(supervisor, token), working_days=working_days,
                              reason=reason),
    ), token)


def _named(typed: str | None, token: str | None) -> str | None:
    return typed or (SIGNED_IN if token and token.strip() else None)


# Required on the command line (a confirmation without its reference cannot be matched to a payment).
Reference = Annotated[str, typer.Option("--reference", help="发放凭证号（PAY-…，见 case status）")]
By = Annotated[str | None, typer.Option("--by", help="确认人或支付系统名称（必填）")]


def _report(
    ctx: typer.Context, case: str, matter: str, report: Callable[[], PaymentConfirmedInput | PaymentFailedInput]
) -> None:
    """A payment report, signed with the paying system's key this machine holds (the stand-in paying system of
    the embedded default; in production the bank's interface signs with its own key)."""

    async def work() -> int:
        number = case_number(case)
        built = report()
        _, policy = local()
        code = matter_code(matter, policy)
        current = await session()
        paying_system = signer(current.keys, Issuer.PAYING_SYSTEM)
        ack = await bounded(ctx, operations.report_payment(current.client, number, code, built, paying_system))
        typer.echo(ack.message)
        return ExitCode.OK

    execute(ctx, work)


@app.command("confirm-payment")
def confirm_payment(
    ctx: typer.Context, case: CaseArg, matter: MatterArg, reference: Reference, by: By = None,
    note: Note = None,
) -> None:
    """支付系统确认款项已到账（以支付系统密钥签名）：事项转为已发放，并告知家属。"""
    _report(ctx, case, matter, lambda: build(PaymentConfirmedInput, reference=reference, by=by, note=note))


@app.command("payment-failed")
def payment_failed(
    ctx: typer.Context, case: CaseArg, matter: MatterArg, reference: Reference, by: By = None,
    reason: Annotated[str | None, typer.Option("--reason", help="失败原因（必填）")] = None,
) -> None:
    """支付系统报告发放失败（以支付系统密钥签名）：转人工处理，等待窗口更正收款账户后重新发放。"""
    _report(ctx, case, matter, lambda: build(PaymentFailedInput, reference=reference, by=by, reason=reason))
