"""The CLI held to the Web UI's rule: against a worker that requires verified officers, a decision counts only
with the officer's token from the identity provider, which the codec server exchanges for its signed statement;
without one it is refused."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.worker import Worker

from domain.enums import Department, MatterState
from runtime.codec_auth import JwksFile, TokenVerifier
from runtime.codec_server import OfficerSigning, serve
from runtime.officers import ClaimMapping
from tests.runtime.test_codec_auth import AUDIENCE, ISSUER, JWKS, K1, ORIGINS, token
from tests.signing import OFFICER
from tests.starter.test_cli import HUKOU, certify, cli_env, shenhou, start, state_of, wait_for

__all__ = ["cli_env"]

MAPPING = ClaimMapping(departments={"police-staff": Department.POLICE})


@pytest_asyncio.fixture
async def codec_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    from runtime.codec import EncryptionCodec

    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(JWKS))
    verifier = TokenVerifier(JwksFile(path), issuer=ISSUER, audience=AUDIENCE)
    runner = await serve(EncryptionCodec({"k1": K1}, "k1"), "127.0.0.1", 0, ORIGINS, verifier,
                         OfficerSigning(OFFICER, MAPPING))
    try:
        host, port = runner.addresses[0][:2]
        monkeypatch.setenv("SHENHOU_OFFICER_STATEMENT_URL", f"http://{host}:{port}")
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
def no_token(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("SHENHOU_OFFICER_TOKEN", raising=False)
    yield


async def test_a_decision_needs_the_officers_token(
    cli_env: dict[str, str], client: Client, tmp_path: Path, strict_worker: Worker, codec_server: str,
    no_token: None,
) -> None:
    case_number = await start(tmp_path)
    assert (await certify(case_number)).exit_code == 0
    await wait_for(client, case_number, lambda s: state_of(s, HUKOU) == MatterState.UNDER_REVIEW)

    typed = await shenhou("matter", "approve", case_number, HUKOU, "--officer", "王警官", "--certificate-no", "ZX-1")
    assert typed.exit_code == 1
    assert "未附经核验的办理人身份" in typed.stderr

    expired = token(name="王警官", groups=["police-staff"], exp=1)
    stale = await shenhou("matter", "approve", case_number, HUKOU, "--token", expired, "--certificate-no", "ZX-1")
    assert stale.exit_code == 1 and "登录令牌无效或已过期" in stale.stderr

    signed_in = token(name="公安刘警官", groups=["police-staff"])
    accepted = await shenhou("matter", "approve", case_number, HUKOU, "--officer", "随便写", "--token", signed_in,
                             "--certificate-no", "ZX-1")
    assert accepted.exit_code == 0, accepted.output
    await wait_for(client, case_number, lambda s: state_of(s, HUKOU) == MatterState.APPROVED)
    status = await shenhou("case", "status", case_number)
    assert "公安刘警官" in status.stdout and "随便写" not in status.stdout
    assert "王警官" in status.stdout  # the refused attempt, and who made it
