"""Usage errors (a missing option, an unknown command, a bad value) told in Chinese, exit code 1.

Typer parses the command line with its bundled click and reports mistakes in English. The group below
catches them where the command line is parsed and invoked and says the same in Chinese. Only Typer's
public names are used: ``typer.BadParameter`` is click's BadParameter, whose base is click's UsageError.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup, TyperOption

from starter.errors import ExitCode

UsageError: type[Exception] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")


class ChineseUsageError(typer.BadParameter):
    exit_code = int(ExitCode.REFUSED)

    def format_message(self) -> str:
        return self.message


def _hint(err: Any) -> str:
    hint = getattr(err, "param_hint", None)
    if hint is not None:
        return hint if isinstance(hint, str) else " / ".join(hint)
    param = getattr(err, "param", None)
    return str(param.get_error_hint()) if param is not None else ""


def usage_message(err: Any) -> str:
    """The Chinese for one of click's usage errors (matched by its class name and fields)."""
    kind = type(err).__name__
    message = str(getattr(err, "message", ""))
    if kind == "MissingParameter":
        param = getattr(err, "param", None)
        noun = "参数" if param is not None and param.param_type_name == "argument" else "选项"
        return f"缺少{noun} {_hint(err)}"
    if isinstance(err, typer.BadParameter):
        return f"{_hint(err)} 的值无效：{message}"
    if kind == "NoSuchOption":
        possibilities = sorted(getattr(err, "possibilities", None) or ())
        guess = f"（是否要用：{'、'.join(possibilities)}）" if possibilities else ""
        return f"没有选项 {getattr(err, 'option_name', '')}{guess}"
    if kind == "BadOptionUsage":
        return f"选项 {getattr(err, 'option_name', '')} 用法有误：{message}"
    if message.startswith("No such command"):
        return f"没有这个命令：{message.split(' ', 3)[-1].rstrip('.')}"
    if message.startswith("Got unexpected extra argument"):
        return "多余的参数：" + message.split("(", 1)[-1].rstrip(")")
    return f"命令用法有误：{message}"


@contextmanager
def chinese_usage_errors() -> Iterator[None]:
    try:
        yield
    except ChineseUsageError:
        raise
    except UsageError as err:
        if type(err).__name__ == "NoArgsIsHelpError":
            err.exit_code = int(ExitCode.REFUSED)  # type: ignore[attr-defined]
            raise
        raise ChineseUsageError(usage_message(err), getattr(err, "ctx", None)) from None


HELP_OPTION_TEXT = "显示本帮助并退出"
# Typer shows each option's value type; in Chinese, or nothing for a flag.
_TYPE_NAMES = {"<bool>": "", "<str>": "文本", "<text>": "文本", "<integer>": "整数", "<float>": "数值",
               "<float range>": "数值", "<integer range>": "整数", "<path>": "路径", "<file>": "文件"}


class _ChineseHelp:
    """Help in Chinese: the help option's text, the usage line and the value types."""

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help = HELP_OPTION_TEXT
        return option

    def get_usage(self, ctx: Any) -> str:
        usage: str = super().get_usage(ctx)  # type: ignore[misc]
        return usage.replace("Usage: ", "用法：", 1)

    def get_params(self, ctx: Any) -> list[Any]:
        params: list[Any] = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            # The help panel wraps lines only at spaces: a long Chinese help would be cut with "…".
            if param.help and "；" in param.help and "； " not in param.help:
                param.help = param.help.replace("；", "； ").replace("，", "， ")
            if isinstance(param, TyperOption) and param.metavar is None:
                shown = param.display_type_rich(ctx)
                if shown in _TYPE_NAMES:
                    param.metavar = _TYPE_NAMES[shown]
        return params


class ChineseCommand(_ChineseHelp, TyperCommand):
    """A command whose help is in Chinese."""


class ChineseGroup(_ChineseHelp, TyperGroup):
    """A command group whose usage errors and help are told in Chinese; errors exit with code 1 (not click's 2)."""


    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        with chinese_usage_errors():
            return super().make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx: Any) -> Any:
        with chinese_usage_errors():
            return super().invoke(ctx)


class _Typer(typer.Typer):
    """Typer whose commands have Chinese help unless told otherwise."""

    def command(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cls", ChineseCommand)
        return super().command(*args, **kwargs)


def group(help: str) -> typer.Typer:
    return _Typer(
        cls=ChineseGroup, help=help, no_args_is_help=True, add_completion=False,
        pretty_exceptions_enable=False, pretty_exceptions_show_locals=False,
    )
