"""The `shenhou` command line, one group per actor: the window (`case`), the departments (`matter`), the
supervisor (`overdue`), and the system (`matters`, `worker`, `demo`).

Every command does its work in one async function run through ``errors.run``, which maps every failure to
a Chinese message and an exit code (starter/errors.py). ``app`` never leaves the process; ``main()`` (the
console script) flushes and leaves with ``os._exit``: a short-lived process that used a Temporal client
sometimes aborts at interpreter exit.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer
from typer import rich_utils

from starter import calendar, catalogue, department, supervisor, system, window
from starter.errors import ExitCode
from starter.session import DEFAULT_TIMEOUT_SECONDS, CliOptions, configure_cli_logging, use_county_catalogue
from starter.usage import group

# Chinese headings for Typer's help and error panels.
rich_utils.ARGUMENTS_PANEL_TITLE = "参数"
rich_utils.OPTIONS_PANEL_TITLE = "选项"
rich_utils.COMMANDS_PANEL_TITLE = "命令"
rich_utils.ERRORS_PANEL_TITLE = "错误"
rich_utils.RICH_HELP = "运行 '{command_path} {help_option}' 查看帮助。"
rich_utils.DEFAULT_STRING = "[默认：{}]"
rich_utils.REQUIRED_LONG_STRING = "[必填]"
rich_utils.ENVVAR_STRING = "[环境变量：{}]"
rich_utils.DEPRECATED_STRING = "（已停用）"
rich_utils.ABORTED_TEXT = "已中止。"

app = group("身后“一件事一次办”：一次申请，并联办理逝者身后各项事务。")
app.add_typer(window.app, name="case")
app.add_typer(department.app, name="matter")
app.add_typer(calendar.app, name="calendar")
app.add_typer(catalogue.app, name="catalogue")
supervisor.register(app)
system.register(app)


@app.callback()
def _root(
    ctx: typer.Context,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="显示运行日志（INFO级别）")] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1, help="等待Temporal答复的最长秒数")
    ] = DEFAULT_TIMEOUT_SECONDS,
) -> None:
    configure_cli_logging(verbose)
    ctx.obj = CliOptions(verbose=verbose, timeout=timeout)
    if ctx.invoked_subcommand != "catalogue":  # `catalogue check` reads a file that may not be usable yet
        use_county_catalogue()


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
