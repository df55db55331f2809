"""`shenhou catalogue …`: the catalogue file's JSON Schema, and a county's file checked before it is used
(domain/catalogue.py, docs/catalogue.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from domain.catalogue import catalogue_schema, load_catalogue
from starter.errors import ExitCode
from starter.session import execute
from starter.usage import group
from starter.window import Json

app = group("事项目录：目录文件的结构（JSON Schema），以及启用前检查本县的目录文件。")


@app.command("schema")
def schema(ctx: typer.Context) -> None:
    """打印目录文件的 JSON Schema。"""

    async def work() -> int:
        typer.echo(json.dumps(catalogue_schema(), ensure_ascii=False, indent=2))
        return ExitCode.OK

    execute(ctx, work)


@app.command("check")
def check(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="目录文件（YAML或JSON）")],
    json_output: Json = False,
) -> None:
    """检查目录文件，一次列出全部问题；无误时列出其中的部门和事项数。"""

    async def work() -> int:
        catalogue = load_catalogue(file)
        enabled = catalogue.enabled()
        if json_output:
            typer.echo(json.dumps({"version": catalogue.version, "departments": len(catalogue.departments),
                                   "matters": len(enabled)}, ensure_ascii=False))
        else:
            typer.echo(f"目录“{catalogue.version}”无误：{len(catalogue.departments)}个部门，{len(enabled)}项事项启用。")
        return ExitCode.OK

    execute(ctx, work, json_output=json_output)
