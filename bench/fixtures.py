"""What the benchmarks need and the tests do not share: made-up applications and a dev server of their own.

Every person here is fake: identity numbers carry the 固阳县 prefix and a valid check digit, bank cards
pass Luhn. The forms are ``examples/application.yaml`` with the deceased made unique per seed.
"""

from __future__ import annotations

import asyncio
import copy
import socket
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from domain.application import validate_application
from domain.identity import id_check_digit, luhn_check_digit
from domain.models import Application
from domain.policy import Policy
from runtime.devserver import command, env_without_proxy, port_open
from runtime.settings import Settings

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "application.yaml"
# The day the benchmark's forms are judged on (their death dates lie before it).
FORMS_DAY = date(2026, 11, 28)


@cache
def _template() -> dict[str, Any]:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def form(seed: int, **situations: Any) -> dict[str, Any]:
    """The example application with a deceased of its own for each seed (distinct below 10,000,000)."""
    data = copy.deepcopy(_template())
    birth = date(1940, 1, 1) + timedelta(days=seed % 10_000)
    first17 = f"150222{birth:%Y%m%d}{(seed // 10_000) % 1000:03d}"
    data["deceased"]["id_number"] = first17 + id_check_digit(first17)
    body = f"622848{seed:012d}"[:18]
    data["deceased"]["bank_card"] = body + luhn_check_digit(body)
    if situations:
        data["situations"] = {**data["situations"], **situations}
    return data


def application(seed: int, **situations: Any) -> Application:
    result = validate_application(form(seed, **situations), Policy(), FORMS_DAY)
    assert isinstance(result, Application), result
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def dev_server(data_dir: Path) -> AsyncIterator[tuple[Settings, int]]:
    """A dev server started exactly as `scripts/run` starts it (SQLite file, WAL, synchronous=full), and its
    process id."""
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings(temporal_address=f"127.0.0.1:{free_port()}", ui_port=free_port(), data_dir=data_dir)
    server = subprocess.Popen(command(settings, codec_endpoint=None), env=env_without_proxy(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        host, port = settings.temporal_address.split(":")
        while not port_open(host, int(port)):
            await asyncio.sleep(0.2)
        yield settings, server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)
