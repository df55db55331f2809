"""Exit codes and the one mapping from an exception to what the CLI tells the clerk.

Every command runs its work through ``run``: expected failures become one Chinese line (or a JSON
object with ``--json``) and an exit code; nothing here prints a traceback or any personal data.

    0  done
    1  refused, invalid input, not found
    2  Temporal unreachable, or no answer in time (no worker running)
    3  configuration: keys (also keys that cannot read what the worker wrote), policy or holiday file, settings
    4  an unexpected internal error (the type only; ``--verbose`` shows the traceback)
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import structlog
import typer
from pydantic import ValidationError
from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from client.errors import DuplicateCase, OperationRefused, configuration_problem
from client.letter_pdf import LetterFontMissing
from domain.application import format_problems
from domain.heirs_letter import LetterNotReady
from domain.input_errors import describe_validation_error
from domain.models import Problem
from runtime.keys import PayloadKeyMismatch

log = structlog.get_logger()


class ExitCode(IntEnum):
    OK = 0
    REFUSED = 1
    UNAVAILABLE = 2
    CONFIG = 3
    INTERNAL = 4


class CliError(Exception):
    """An expected failure raised by CLI code: a one-line Chinese message and its exit code."""

    code: ExitCode = ExitCode.REFUSED

    def __init__(self, message: str, *, code: ExitCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InvalidInput(CliError):
    """What the clerk typed cannot be used (a bad option value, an unreadable form file)."""


class InvalidForm(CliError):
    """The application has problems; all of them are told at once (一次告知)."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(format_problems(problems))
        self.problems = tuple(problems)


class TemporalUnavailable(CliError):
    code = ExitCode.UNAVAILABLE


class ConfigError(CliError):
    code = ExitCode.CONFIG


UNAVAILABLE_MESSAGE = "无法连接Temporal服务，请确认服务已启动、地址（SHENHOU_TEMPORAL_ADDRESS）正确"
TIMEOUT_MESSAGE = "等待工作流答复超时：请确认worker进程正在运行；办理操作是否生效，请稍后用 shenhou case status 查询"
NO_WORKER_MESSAGE = "工作进程无响应，操作可能已送达也可能未生效：请确认worker正在运行，再用 shenhou case status 核实"

KEY_MISMATCH_MESSAGE = (
    "无法解密Temporal中的案件数据（密钥{key_id}不符）：本机配置的加密密钥与工作进程不同，"
    "请使用与worker相同的 SHENHOU_CODEC_KEYS 或同一个 keys.json"
)

_CONNECT_FAILED = "Failed client connect"
_SHOWN_KEY_ID = re.compile(r"[A-Za-z0-9_.-]{1,40}")
_UNAVAILABLE_STATUSES = frozenset({RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED})


@dataclass(frozen=True)
class Failure:
    message: str
    code: ExitCode
    problems: tuple[Problem, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        if self.problems:
            return {"ok": False, "problems": [p.model_dump() for p in self.problems]}
        return {"ok": False, "error": self.message, "exit_code": int(self.code), **self.extra}


def classify(exc: BaseException) -> Failure:
    """The message and exit code for ``exc``: the one place exceptions become exit codes."""
    if isinstance(exc, InvalidForm):
        return Failure(exc.message, exc.code, problems=exc.problems)
    if isinstance(exc, CliError):
        return Failure(exc.message, exc.code)
    if isinstance(exc, DuplicateCase):
        return Failure(exc.message, ExitCode.REFUSED, extra={"case_number": exc.case_number})
    if isinstance(exc, OperationRefused):
        extra = {"case_number": exc.case_number} if exc.case_number else {}
        return Failure(exc.message, ExitCode.REFUSED, extra=extra)
    if isinstance(exc, LetterNotReady):
        return Failure(str(exc), ExitCode.REFUSED)
    if isinstance(exc, LetterFontMissing):
        return Failure(str(exc), ExitCode.CONFIG)
    if isinstance(exc, ValidationError):
        # Never str(exc): pydantic repeats the input, which may be personal data.
        return Failure(describe_validation_error(exc) or "输入格式不正确", ExitCode.REFUSED)
    if isinstance(exc, PayloadKeyMismatch):
        return Failure(KEY_MISMATCH_MESSAGE.format(key_id=_shown_key_id(exc.key_id)), ExitCode.CONFIG)
    problem = configuration_problem(exc)
    if problem is not None:
        return Failure(problem, ExitCode.CONFIG)
    if isinstance(exc, RPCError):
        if exc.status in _UNAVAILABLE_STATUSES:
            return Failure(UNAVAILABLE_MESSAGE, ExitCode.UNAVAILABLE)
        if exc.status == RPCStatusCode.NOT_FOUND:
            return Failure("未找到对应的案件或事项", ExitCode.REFUSED)
        return Failure(f"Temporal服务拒绝了请求（{exc.status.name}）", ExitCode.REFUSED)
    if isinstance(exc, TimeoutError):
        return Failure(TIMEOUT_MESSAGE, ExitCode.UNAVAILABLE)
    if isinstance(exc, WorkflowUpdateRPCTimeoutOrCancelledError):
        # The update reached the server but no worker answered (none running, or it died meanwhile).
        return Failure(NO_WORKER_MESSAGE, ExitCode.UNAVAILABLE)
    if isinstance(exc, RuntimeError) and str(exc).startswith(_CONNECT_FAILED):
        # Client.connect's error when nothing answers at the address (e.g. the worker command).
        return Failure(UNAVAILABLE_MESSAGE, ExitCode.UNAVAILABLE)
    return Failure(f"系统内部错误（{type(exc).__name__}），请联系管理员；加 --verbose 可查看详情", ExitCode.INTERNAL)


def _shown_key_id(key_id: str) -> str:
    # The id comes from the payload's metadata: repeated only when it looks like one.
    return f"“{key_id}”" if _SHOWN_KEY_ID.fullmatch(key_id) else ""


def _print_failure(failure: Failure, json_output: bool) -> None:
    if json_output:
        typer.echo(json.dumps(failure.as_json(), ensure_ascii=False))
    else:
        typer.echo(failure.message, err=True)


def run(work: Callable[[], Awaitable[int | None]], *, json_output: bool = False, verbose: bool = False) -> None:
    """Run one command's async work and leave through ``typer.Exit`` with its exit code.

    ``main()`` turns that exit into ``os._exit``; the Typer app itself never calls it, so tests can
    invoke commands in-process.
    """
    try:
        code = int(asyncio.run(_awaited(work)) or ExitCode.OK)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # every failure goes through classify
        failure = classify(exc)
        if failure.code == ExitCode.INTERNAL:
            log.error("command_failed", error_type=type(exc).__name__, exc_info=verbose)
        _print_failure(failure, json_output)
        code = int(failure.code)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    raise typer.Exit(code)


async def _awaited(work: Callable[[], Awaitable[int | None]]) -> int | None:
    return await work()
