"""The CLI's officer identity: a bearer token from the identity provider (``--token`` or
``SHENHOU_OFFICER_TOKEN``), exchanged at the codec server's ``/officer-statement`` for the signed statement a
decision carries (domain/officers.py), exactly as the Web UI's ``/encode`` adds it.

The CLI never holds the officer signing key: whoever can run the CLI could otherwise sign as anyone. The codec
server verifies the token with the one verifier (runtime/codec_auth.py) and signs.
"""

from __future__ import annotations

from typing import TypeVar

import aiohttp
from pydantic import BaseModel, ValidationError

from runtime.settings import Settings
from starter.errors import CliError, ExitCode

M = TypeVar("M", bound=BaseModel)
TIMEOUT_S = 10.0


def statement_url(settings: Settings) -> str:
    base = settings.officer_statement_url or f"http://127.0.0.1:{settings.codec_server_port}"
    return base.rstrip("/") + "/officer-statement"


async def with_statement(settings: Settings, token: str, decision: M) -> M:
    """``decision`` with the codec server's statement of who the token's officer is."""
    body = {"decision": decision.model_dump(mode="json", exclude_none=True)}
    url = statement_url(settings)
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S)) as http, http.post(
                url, json=body, headers={"Authorization": f"Bearer {token.strip()}"}) as resp:
            if resp.status == 401:
                raise CliError("登录令牌无效或已过期，请重新从身份提供方获取（--token 或 SHENHOU_OFFICER_TOKEN）")
            if resp.status == 404:
                raise CliError("codec server未配置办理人身份核验，无法核验令牌", code=ExitCode.CONFIG)
            if resp.status != 200:
                raise CliError(f"codec server未能核验办理人身份（HTTP {resp.status}）", code=ExitCode.UNAVAILABLE)
            answer = await resp.json()
    except aiohttp.ClientError:
        raise CliError(f"无法连接codec server（{url}）核验办理人身份", code=ExitCode.UNAVAILABLE) from None
    try:
        return type(decision).model_validate(answer["decision"])
    except (KeyError, TypeError, ValidationError):
        raise CliError("codec server的答复格式不正确", code=ExitCode.UNAVAILABLE) from None
