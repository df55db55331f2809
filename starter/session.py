"""What every command needs: settings, policy, keys and a Temporal client, and calls bounded in time.

Nothing here is created at import time; each command reads the settings once, through ``session``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import typer
from pydantic import BaseModel, ValidationError
from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.service import RPCError

from domain.catalogue import CatalogueError, load_catalogue, use_catalogue
from domain.enums import MatterCode
from domain.ids import is_case_number
from domain.input_errors import describe_validation_error
from domain.policy import Policy
from register.engine import make_engine
from runtime.keys import Keys, load_keys
from runtime.logging import configure_logging
from runtime.policy_file import load_county
from runtime.settings import Settings, get_settings, invalid_setting_names
from runtime.temporal import connect
from starter.errors import UNAVAILABLE_MESSAGE, ConfigError, ExitCode, InvalidInput, TemporalUnavailable, run

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

CONNECT_TIMEOUT_SECONDS = 10.0
DEFAULT_TIMEOUT_SECONDS = 30.0

# Labels for input fields the domain's table does not name (never the values: they are personal).
_EXTRA_LABELS = {"bank_name": "开户银行", "account_name": "户名", "card_number": "银行卡号"}
_SAFE_CODE_RE = re.compile(r"[a-z_.]{1,60}")


@dataclass(frozen=True)
class CliOptions:
    verbose: bool = False
    timeout: float = DEFAULT_TIMEOUT_SECONDS


class _LazyStderr:
    """Writes to whatever ``sys.stderr`` is at the time (the CLI test runner swaps it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_cli_logging(verbose: bool) -> None:
    configure_logging("INFO" if verbose else "WARNING")
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(_LazyStderr())


def options(ctx: typer.Context) -> CliOptions:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, CliOptions) else CliOptions()


def settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as err:
        raise ConfigError(f"环境变量配置有误：{'、'.join(invalid_setting_names(err)) or '无法读取'}") from None


def today(policy: Policy) -> date:
    return datetime.now(ZoneInfo(policy.timezone)).date()


async def connect_client(config: Settings, keys: Keys) -> Client:
    try:
        return await asyncio.wait_for(connect(config, keys), timeout=CONNECT_TIMEOUT_SECONDS)
    except (RuntimeError, RPCError, TimeoutError, OSError) as err:
        raise TemporalUnavailable(UNAVAILABLE_MESSAGE) from err


@dataclass(frozen=True)
class Session:
    settings: Settings
    policy: Policy
    keys: Keys
    client: Client


def use_county_catalogue() -> None:
    """The county's catalogue (SHENHOU_CATALOGUE_FILE) made the process's before any command reads it; a
    catalogue that cannot be used ends the command with every problem (exit 3)."""
    try:
        config = get_settings()
    except ValidationError:
        return  # each command reports its settings itself
    try:
        use_catalogue(load_catalogue(config.catalogue_file))
    except CatalogueError as err:
        typer.echo(str(err), err=True)
        raise typer.Exit(ExitCode.CONFIG) from None


def local(config: Settings | None = None) -> tuple[Settings, Policy]:
    """The settings and the county policy, for commands that do not talk to Temporal."""
    config = config or settings()
    return config, load_county(config)


async def session() -> Session:
    config, policy = local()
    keys = load_keys(config)
    return Session(config, policy, keys, await connect_client(config, keys))


async def bounded(ctx: typer.Context, work: Awaitable[T]) -> T:
    """One Temporal call, bounded: an update or query waits for a worker that may not be running."""
    return await asyncio.wait_for(work, timeout=options(ctx).timeout)


def execute(ctx: typer.Context, work: Callable[[], Awaitable[int | None]], *, json_output: bool = False) -> None:
    run(work, json_output=json_output, verbose=options(ctx).verbose)


def build(model: type[M], **values: Any) -> M:
    """The typed input from what was typed; options left out are reported as missing, in Chinese."""
    try:
        return model.model_validate({key: value for key, value in values.items() if value is not None})
    except ValidationError as err:
        text = describe_validation_error(err) or "输入格式不正确"
        for key, label in _EXTRA_LABELS.items():
            text = text.replace(key, label)
        raise InvalidInput(text) from None


def case_number(value: str) -> str:
    number = value.strip().upper()
    if not is_case_number(number):
        raise InvalidInput("受理编号格式不正确，应为“SH-”加12位大写字母A–Z或数字2–7（不含0、1、8、9）")
    return number


def matter_code(value: str, policy: Policy) -> MatterCode:
    text = value.strip()
    for matter in policy.matters:
        if text in (matter.code.value, matter.short_name, matter.name):
            return matter.code
    shown = f"“{text}”" if _SAFE_CODE_RE.fullmatch(text) else ""
    raise InvalidInput(f"不认识的事项{shown}，可用 shenhou matters 查看事项代码")


def echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def register_engine(config: Settings) -> Engine | None:
    """The case register, when this machine can read it (a SQLite register must already exist: asking must
    not create an empty one)."""
    url = config.register_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        return None
    return make_engine(url)
