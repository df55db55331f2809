"""`shenhou case …`: what the window clerk (and the funeral home) type.

Receive an application, answer "how far is my case?", register the cremation certificate, the materials
a department asked for, a withdrawal, and a corrected bank account.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from sqlalchemy.engine import Engine

from client import intake, operations, worklist
from client.letter_pdf import render_pdf
from domain import messages, places
from domain.decisions import account_problem
from domain.enums import AccountKind, Issuer
from domain.heirs_letter import build_letter, load_guidance
from domain.identity import id_number_valid, mobile_number
from domain.models import (
    CremationCertifiedInput,
    MaterialsSupplementedInput,
    PayeeCorrectedInput,
    PayeeProvenInput,
    WithdrawInput,
)
from domain.policy import Policy
from domain.query_code import query_code
from register.contacts import record_invitation
from register.sealing import Sealer
from runtime.keys import load_keys, signer
from starter import render
from starter.errors import ConfigError, ExitCode, InvalidForm, InvalidInput
from starter.forms import load_form
from starter.session import (
    bounded,
    build,
    case_number,
    connect_client,
    echo_json,
    execute,
    local,
    matter_code,
    register_engine,
    session,
    today,
)
from starter.usage import group

app = group("案件：受理申请、追加事项、查询进度、火化证明、补正材料、撤回、更正收款账户、继承人告知书。")

Json = Annotated[bool, typer.Option("--json", help="输出机器可读的JSON")]
CaseArg = Annotated[str, typer.Argument(metavar="CASE", help="受理编号，如 SH-ABCDEFGH2345", show_default=False)]
MatterArg = Annotated[str, typer.Argument(metavar="MATTER", help="事项代码（见 shenhou matters），或事项简称")]
Clerk = Annotated[str | None, typer.Option("--clerk", help="窗口受理人员（必填）")]


@app.command("start")
def start(
    ctx: typer.Context,
    form: Annotated[Path, typer.Option("--form", "-f", help="申请表文件（JSON或YAML），见 examples/")],
    json_output: Json = False,
) -> None:
    """受理申请：检查申请表，一次告知全部问题，通过后立案。

    打印受理编号和查询码；--json 输出 {"ok": true, "case_number": ..., "query_code": ...}
    或 {"ok": false, "problems": [...]}。
    """

    async def work() -> int:
        config, policy = local()
        checked = intake.check(load_form(form), form.parent, policy, today(policy))
        if isinstance(checked, list):
            raise InvalidForm(checked)
        keys = load_keys(config)
        client = await connect_client(config, keys)
        started = await bounded(ctx, intake.submit(checked, client, keys, config, register=register_engine(config)))
        code = query_code(started.case_number, keys.query_code_key)
        if json_output:
            echo_json({"ok": True, "case_number": started.case_number, "query_code": code})
        else:
            typer.echo(f"申请已受理，受理编号：{started.case_number}")
            typer.echo(f"查询码：{code}（凭受理编号和查询码可在网上查询办理进度）")
        return ExitCode.OK

    execute(ctx, work, json_output=json_output)


@app.command("add-matters")
def add_matters(
    ctx: typer.Context,
    case: CaseArg,
    form: Annotated[Path, typer.Option("--form", "-f", help="追加事项表（JSON或YAML），见 examples/addition.yaml")],
    clerk: Clerk = None,
    json_output: Json = False,
) -> None:
    """为同一逝者追加事项（以受理窗口密钥签名），按受理申请的规则一次告知全部问题。

    案件办理中的，追加到本案件（各事项单独计时）；案件已办结的，追加事项另行立案并关联原案件，户口注销沿用原案件
    结果。--json 输出 {"ok": true, "case_number": ..., "earlier_case": ...} 或 {"ok": false, "problems": [...]}。
    """

    async def work() -> int:
        number = case_number(case)
        if not clerk or not clerk.strip():
            raise InvalidInput("请填写窗口受理人员（--clerk）")
        current = await session()
        window = signer(current.keys, Issuer.WINDOW)
        register = register_engine(current.settings)
        sealer = Sealer.from_keys(current.keys)
        target = await bounded(ctx, intake.addition_target(current.client, number, register, sealer))
        checked = intake.check_addition_form(load_form(form), form.parent, target, current.policy,
                                             today(current.policy))
        if isinstance(checked, list):
            raise InvalidForm(checked)
        addition, files = checked
        added = await bounded(ctx, intake.submit_addition(
            addition, files, target, clerk.strip(), current.client, current.settings, window,
            register=register, sealer=sealer))
        if json_output:
            echo_json({"ok": True, "case_number": added.case_number, "earlier_case": added.earlier_case,
                       "message": added.message})
        else:
            typer.echo(added.message)
            if added.earlier_case is not None:
                code = query_code(added.case_number, current.keys.query_code_key)
                typer.echo(f"查询码：{code}（凭受理编号和查询码可在网上查询办理进度）")
        return ExitCode.OK

    execute(ctx, work, json_output=json_output)


@app.command("status")
def status(ctx: typer.Context, case: CaseArg, json_output: Json = False) -> None:
    """查询案件进度：各事项状态、期限、金额和办理过程。

    含超时标记、发放流水号、审核记录、被拒绝的操作；--json 输出完整状态。
    """

    async def work() -> int:
        number = case_number(case)
        current = await session()
        snapshot = await bounded(ctx, operations.case_status(current.client, number))
        if json_output:
            typer.echo(snapshot.model_dump_json(indent=2))
        else:
            render.print_status(snapshot, current.policy)
        return ExitCode.OK

    execute(ctx, work, json_output=json_output)


@app.command("certify-cremation")
def certify_cremation(
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
    family_phone: Annotated[
        str | None, typer.Option("--family-phone", help="家属手机号（须同时 --consent；用于邀请家属申请）")
    ] = None,
    consent: Annotated[
        bool, typer.Option("--consent", help="家属已同意接收办理邀请短信（殡仪馆当面征得）")
    ] = False,
) -> None:
    """上传火化证明（殡仪馆），家属未申请时用 --deceased-id。

    按逝者身份证号建立案件并打印受理编号；家属申请到后自动合并到同一案件。建立案件时如登记了家属手机号并
    征得同意（--family-phone 与 --consent），向家属发送一次办理邀请短信。
    """

    async def work() -> int:
        problems = invitation_problems(case, deceased_id, family_phone, consent)
        if problems:
            raise InvalidInput("；".join(problems))
        certificate = build(
            CremationCertifiedInput, certificate_no=certificate_no, funeral_home=funeral_home,
            cremated_on=cremated_on, county=county,
        )
        current = await session()
        # The county's names: "包头市固阳县" is the county; a funeral home outside its list is refused by name.
        home, written_county, problems = places.cremation_problems(
            certificate.funeral_home, certificate.county, current.policy)
        if problems:
            raise InvalidInput("；".join(problems))
        certificate = certificate.model_copy(update={"funeral_home": home, "county": written_county})
        if deceased_id is not None:
            id_number = deceased_id.strip().upper()
            if not id_number_valid(id_number):
                raise InvalidInput("逝者身份证号码校验不通过，请核对")
            register = register_engine(current.settings)
            phone = mobile_number(family_phone) if family_phone else None
            if phone is not None and register is None:
                raise InvalidInput("本机无法写入案件登记库，不能登记家属手机号")
            invite = None
            if phone is not None and register is not None:
                invite = invitation(register, phone, home, current.policy, Sealer.from_keys(current.keys))
            ack = await bounded(ctx, operations.certify_cremation_for(
                current.client, id_number, current.keys.case_id_key, certificate, current.settings.task_queue,
                register=register, opened=invite,
            ))
        else:
            ack = await bounded(ctx, operations.certify_cremation(
                current.client, case_number(case or ""), certificate, current.settings.task_queue, must_exist=True,
            ))
        typer.echo(ack.message)
        return ExitCode.OK

    execute(ctx, work)


def invitation_problems(
    case: str | None, deceased_id: str | None, family_phone: str | None, consent: bool
) -> list[str]:
    """Everything wrong with how the certificate names its case and the family's number, told at once."""
    problems = []
    if (case is None) == (deceased_id is None):
        problems.append("请提供受理编号或 --deceased-id 其中之一")
    if family_phone is not None:
        if not consent:
            problems.append("登记家属手机号须征得家属同意（--consent），未经同意不得发送短信")
        if mobile_number(family_phone) is None:
            problems.append("家属手机号不是有效的大陆手机号码")
        if case is not None:
            problems.append("家属手机号只在殡仪馆建立案件时登记（--deceased-id）")
    elif consent:
        problems.append("--consent 须与 --family-phone 一起使用")
    return problems


def invitation(
    register: Engine, phone: str, funeral_home: str, policy: Policy, sealer: Sealer
) -> Callable[[str], None]:
    """Once the certificate opened the case: the family's number (sealed) and the one invitation to apply."""

    def opened(number: str) -> None:
        text = messages.invitation(number, policy.county, policy.window.address, policy.window.hours)
        record_invitation(register, number, phone, funeral_home, text, sealer, datetime.now(UTC))

    return opened


@app.command("waiting")
def waiting(ctx: typer.Context, json_output: Json = False) -> None:
    """待申请：殡仪馆已建立、尚待家属申请的案件（最早的在前），及Web界面中同一列表的链接。"""

    async def work() -> int:
        current = await session()
        found = await bounded(ctx, worklist.waiting_for_application(current.client))
        url = worklist.waiting_url(f"http://localhost:{current.settings.ui_port}", current.settings.namespace)
        if json_output:
            echo_json({"cases": [case.model_dump(mode="json") for case in found], "url": url})
            return ExitCode.OK
        typer.echo(f"待申请案件{len(found)}件（殡仪馆已上传火化证明，家属尚未申请）")
        zone = ZoneInfo(current.policy.timezone)
        for case in found:
            typer.echo(f"{case.case_number}  建立于{case.opened_at.astimezone(zone):%Y-%m-%d %H:%M}")
        typer.echo(f"Web界面：{url}")
        return ExitCode.OK

    execute(ctx, work, json_output=json_output)


@app.command("supplement")
def supplement(
    ctx: typer.Context,
    case: CaseArg,
    matter: MatterArg,
    item: Annotated[list[str] | None, typer.Option("--item", help="补交的材料（可重复，必填）")] = None,
    note: Annotated[str | None, typer.Option("--note", help="备注")] = None,
) -> None:
    """登记补正材料：事项恢复计时，立即告知是否受理。"""

    async def work() -> int:
        number = case_number(case)
        _, policy = local()
        materials = build(MaterialsSupplementedInput, matter=matter_code(matter, policy), items=item or [], note=note)
        current = await session()
        ack = await bounded(ctx, operations.supplement(current.client, number, materials))
        typer.echo(f"{ack.message}（事项状态：{ack.state.value}）")
        return ExitCode.OK

    execute(ctx, work)


@app.command("withdraw")
def withdraw(
    ctx: typer.Context,
    case: CaseArg,
    clerk: Clerk = None,
    reason: Annotated[str | None, typer.Option("--reason", help="撤回原因（必填）")] = None,
    matter: Annotated[
        str | None, typer.Option("--matter", help="只撤回这一事项（代码或名称），其余事项继续办理")
    ] = None,
) -> None:
    """申请人撤回申请：未办结的事项全部撤回，案件关闭；--matter 只撤回一项。"""

    async def work() -> int:
        number = case_number(case)
        current = await session()
        code = matter_code(matter, current.policy) if matter else None
        withdrawal = build(WithdrawInput, clerk=clerk, reason=reason, matter=code)
        ack = await bounded(ctx, operations.withdraw(current.client, number, withdrawal,
                                                     signer(current.keys, Issuer.WINDOW)))
        typer.echo(f"{ack.message}（案件{number}）")
        return ExitCode.OK

    execute(ctx, work)


@app.command("correct-account")
def correct_account(
    ctx: typer.Context,
    case: CaseArg,
    clerk: Clerk = None,
    bank_name: Annotated[str | None, typer.Option("--bank-name", help="开户银行（必填）")] = None,
    account_name: Annotated[str | None, typer.Option("--account-name", help="户名（必填）")] = None,
    card_number: Annotated[str | None, typer.Option("--card-number", help="银行卡号（必填）")] = None,
    authorised_reason: Annotated[
        str | None, typer.Option("--authorised-reason", help="户名不是申请人本人时：委托他人收款的原因")
    ] = None,
    authorisation_document: Annotated[
        str | None, typer.Option("--authorisation-document", help="户名不是申请人本人时：收款委托书（或公证文书）编号")
    ] = None,
    passbook: Annotated[
        bool, typer.Option("--passbook", help="新账户为存折（一折通）：账号8至30位数字，不作银行卡校验")
    ] = False,
) -> None:
    """更正收款账户（以受理窗口密钥签名）：发放失败的款项按新账户重新发放。"""

    async def work() -> int:
        number = case_number(case)
        correction = build(
            PayeeCorrectedInput, clerk=clerk, bank_name=bank_name, account_name=account_name,
            card_number=card_number.replace(" ", "") if card_number else None, authorised_reason=authorised_reason,
            authorisation_document=authorisation_document,
            kind=AccountKind.PASSBOOK if passbook else AccountKind.CARD,
        )
        if problem := account_problem(correction):
            raise InvalidInput(f"{problem}，请核对")
        current = await session()
        ack = await bounded(ctx, operations.correct_bank_account(current.client, number, correction,
                                                                 signer(current.keys, Issuer.WINDOW)))
        typer.echo(ack.message)
        return ExitCode.OK

    execute(ctx, work)


@app.command("prove-relationship")
def prove_relationship(
    ctx: typer.Context,
    case: CaseArg,
    clerk: Clerk = None,
    proof: Annotated[
        str, typer.Option("--proof", help="核验的材料：relationship_proof（亲属关系证明）或"
                                         "succession_notarisation（继承权公证书）")
    ] = "relationship_proof",
    document: Annotated[str | None, typer.Option("--document", help="证明的编号或出具机关（必填）")] = None,
) -> None:
    """记录已核验的亲属关系证明（窗口签名），待核验的款项随即发放。

    申请人不是逝者的配偶、子女或父母时，款项须经窗口核验亲属关系证明或继承权公证书后发放。"""

    async def work() -> int:
        number = case_number(case)
        proven = build(PayeeProvenInput, clerk=clerk, proof=proof, document=document)
        current = await session()
        ack = await bounded(ctx, operations.prove_relationship(current.client, number, proven,
                                                               signer(current.keys, Issuer.WINDOW)))
        typer.echo(ack.message)
        return ExitCode.OK

    execute(ctx, work)


@app.command("letter")
def letter(
    ctx: typer.Context,
    case: CaseArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="告知书PDF的保存路径（必填）", show_default=False)],
) -> None:
    """打印继承人告知书（PDF）：办结案件的办理结果、款项和后续事项。

    含已办事项、已发放款项、未办事项，以及存款、不动产、车辆等仍需继承人自行办理的事项。

    仅限已办结的案件；字体由 SHENHOU_LETTER_FONT_FILE 指定（默认 fonts-noto-cjk）。
    """

    async def work() -> int:
        number = case_number(case)
        config, policy = local()
        try:
            guidance = load_guidance(config.heirs_guidance_file)
        except (OSError, ValueError) as err:
            raise ConfigError("继承人告知书指引文件无法读取"
                              f"（SHENHOU_HEIRS_GUIDANCE_FILE：{type(err).__name__}）") from None
        current = await session()
        snapshot = await bounded(ctx, operations.case_status(current.client, number))
        content = build_letter(snapshot, guidance, timezone=policy.timezone, window=policy.window)
        pdf = render_pdf(content, config.letter_font_file)
        try:
            out.write_bytes(pdf)
        except OSError as err:
            raise InvalidInput(f"无法写入文件{out}（{type(err).__name__}）") from None
        typer.echo(f"继承人告知书已保存：{out}（{len(content.paid)}笔款项，{len(content.remaining)}项后续事项）")
        return ExitCode.OK

    execute(ctx, work)
