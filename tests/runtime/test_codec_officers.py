"""The codec server's word on who decided: on ``/encode`` of a decision for a verified token it adds the officer's
signed statement; ``/officer-statement`` gives the CLI the same; ``/authorize`` (nginx ``auth_request``) keeps
officers from terminating, cancelling, resetting, starting or batch-operating. Production settings without an
identity provider stop the codec server and the worker with one Chinese line (exit 3).

Tokens are signed by key pairs made here and served as a JWKS file (tests/runtime/test_codec_auth.py).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from temporalio.api.common.v1 import Payload

from domain.enums import DecisionKind, Department, Issuer
from domain.models import OfficerStatement
from domain.officers import decision_digest, officer_statement_digest
from runtime.codec import EncryptionCodec
from runtime.codec_auth import JwksFile, TokenVerifier
from runtime.codec_server import OfficerSigning, operator_only, serve
from runtime.officers import ClaimMapping, decision_kind
from tests.runtime.test_codec_auth import AUDIENCE, ISSUER, JWKS, K1, ORIGINS, PROJECT_ROOT, bearer, token
from tests.signing import OFFICER, TRUST

MAPPING = ClaimMapping(name_claim="name", roles_claim="groups",
                       departments={"ybj-staff": Department.NHSA, "gjj-staff": Department.HPF},
                       supervisor_roles=frozenset({"county-supervisor"}))
OPERATORS = frozenset({"shenhou-operator"})
CODEC = EncryptionCodec({"k1": K1}, "k1")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def json_body(document: Any) -> dict[str, object]:
    data = json.dumps(document, ensure_ascii=False).encode()
    return {"payloads": [{"metadata": {"encoding": b64(b"json/plain")}, "data": b64(data)}]}


async def decoded(body: dict[str, Any]) -> Any:
    [payload] = body["payloads"]
    encrypted = Payload(metadata={k: base64.b64decode(v) for k, v in payload["metadata"].items()},
                        data=base64.b64decode(payload["data"]))
    [plain] = await CODEC.decode([encrypted])
    return json.loads(plain.data)


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest_asyncio.fixture
async def base_url(tmp_path: Path) -> AsyncIterator[str]:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(JWKS))
    verifier = TokenVerifier(JwksFile(path), issuer=ISSUER, audience=AUDIENCE)
    runner = await serve(CODEC, "127.0.0.1", 0, ORIGINS, verifier, OfficerSigning(OFFICER, MAPPING), OPERATORS)
    try:
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


def officer_token(name: str = "医保赵", groups: tuple[str, ...] = ("ybj-staff",), **claims: Any) -> str:
    return token(name=name, groups=list(groups), **claims)


async def test_encode_adds_the_verified_officers_statement_to_a_decision(
    base_url: str, http: aiohttp.ClientSession
) -> None:
    decision = {"officer": "随手写的", "amount": "300.00", "case_number": "SH-AAAA", "matter":
                "nhsa.employee_medical_account_settlement"}
    # What the Web UI sends when an officer signals approve: the typed JSON, and the officer's access token.
    async with http.post(f"{base_url}/encode", json=json_body(decision), headers=bearer(officer_token())) as resp:
        assert resp.status == 200
        document = await decoded(await resp.json())
    statement = OfficerStatement.model_validate(document.pop("officer_statement"))
    assert document == decision
    assert (statement.subject, statement.name, statement.departments, statement.supervisor) == (
        "staff-0042", "医保赵", (Department.NHSA,), False)
    assert statement.kind == DecisionKind.APPROVE and statement.case_number == "SH-AAAA"
    found = decision_kind(decision)
    assert found is not None and statement.decision == decision_digest(found[1])
    # Signed with the codec server's officer key, which the workers trust.
    assert TRUST.verify(Issuer.OFFICER, officer_statement_digest(statement), statement.signature) is None
    # A second encoding of the same decision gets its own nonce.
    async with http.post(f"{base_url}/encode", json=json_body(decision), headers=bearer(officer_token())) as resp:
        again = OfficerStatement.model_validate((await decoded(await resp.json()))["officer_statement"])
    assert again.nonce != statement.nonce

    # A supervisor's extension; and payloads that are no officer decision are encoded as they are.
    extension = {"supervisor": "x", "working_days": 3, "reason": "复杂"}
    async with http.post(f"{base_url}/encode", json=json_body(extension),
                         headers=bearer(officer_token("督办孙", ("county-supervisor",)))) as resp:
        signed = OfficerStatement.model_validate((await decoded(await resp.json()))["officer_statement"])
    assert signed.kind == DecisionKind.EXTEND_DEADLINE and signed.supervisor and signed.departments == ()
    for other in ({"reference": "PAY-1", "by": "银行", "reason": "销户"}, "王建国", {"officer": 3}):
        async with http.post(f"{base_url}/encode", json=json_body(other), headers=bearer(officer_token())) as resp:
            assert await decoded(await resp.json()) == other


async def test_the_cli_gets_its_statement_with_a_token_and_nothing_without(
    base_url: str, http: aiohttp.ClientSession
) -> None:
    decision = {"officer": "x", "reason": "不符合条件", "case_number": "SH-B", "matter": "hpf.death_withdrawal"}
    async with http.post(f"{base_url}/officer-statement", json={"decision": decision}) as resp:
        assert resp.status == 401
    async with http.post(f"{base_url}/officer-statement", json={"decision": decision},
                         headers=bearer(officer_token("公积金钱", ("gjj-staff",)))) as resp:
        assert resp.status == 200
        answer = (await resp.json())["decision"]
    statement = OfficerStatement.model_validate(answer["officer_statement"])
    assert statement.kind == DecisionKind.REJECT and statement.departments == (Department.HPF,)
    async with http.post(f"{base_url}/officer-statement", json={"decision": {"by": "x"}},
                         headers=bearer(officer_token())) as resp:
        assert resp.status == 400


TERMINATE = "/api/v1/namespaces/default/workflows/SH-A.hpf.death_withdrawal/terminate"
RESET = "/api/v1/namespaces/default/workflows/SH-A/reset"
SIGNAL = "/api/v1/namespaces/default/workflows/SH-A.hpf.death_withdrawal/signal/approve"


async def test_authorize_denies_officers_what_only_operators_may_do(
    base_url: str, http: aiohttp.ClientSession
) -> None:
    async def asked(method: str, uri: str, value: str | None) -> int:
        headers = {"X-Original-Method": method, "X-Original-URI": uri}
        if value is not None:
            headers["Authorization"] = f"Bearer {value}"
        async with http.get(f"{base_url}/authorize", headers=headers) as resp:
            return resp.status

    officer = officer_token()
    assert await asked("POST", TERMINATE, officer) == 403
    assert await asked("POST", RESET, officer) == 403
    assert await asked("POST", SIGNAL, officer) == 204
    assert await asked("GET", "/api/v1/namespaces/default/workflows?query=", officer) == 204
    assert await asked("POST", TERMINATE, officer_token("运维", ("shenhou-operator",))) == 204
    assert await asked("POST", TERMINATE, None) == 401
    assert await asked("POST", SIGNAL, None) == 204  # the UI server and Temporal check their own credentials


@pytest.mark.parametrize(("method", "path", "only"), [
    ("POST", TERMINATE, True), ("POST", RESET, True), ("POST", SIGNAL, False),
    ("POST", "/api/v1/namespaces/default/workflows/SH-A/cancel", True),
    ("POST", "/api/v1/namespaces/default/workflows/SH-NEW", True),  # start
    ("POST", "/api/v1/namespaces/default/batch-operations/job-1", True),
    ("DELETE", "/api/v1/namespaces/default/workflows/SH-A", True),
    ("POST", "/api/v1/namespaces/default/workflows/SH-A/update/decide", False),
    ("POST", "/api/v1/namespaces/default/workflows/SH-A/runs/r1/query/status", False),
    ("GET", "/api/v1/namespaces/default/workflows/SH-A/terminate", False),
    ("POST", "/auth/sso_callback", False),
])
def test_which_ui_calls_are_for_operators_only(method: str, path: str, only: bool) -> None:
    assert operator_only(method, path) is only


async def _leave(module: str, tmp_path: Path, env: dict[str, str]) -> tuple[int | None, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SHENHOU_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", module, cwd=tmp_path,
        env={**base, "SHENHOU_DATA_DIR": str(tmp_path), "PYTHONPATH": str(PROJECT_ROOT), **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, stderr = await asyncio.wait_for(proc.communicate(), timeout=60)
    return proc.returncode, stderr.decode()


async def test_production_settings_without_an_identity_provider_stop_with_one_chinese_line(tmp_path: Path) -> None:
    env = {"SHENHOU_REQUIRE_VERIFIED_OFFICERS": "true", "SHENHOU_TEMPORAL_ADDRESS": "127.0.0.1:1"}
    for module in ("runtime.codec_server", "worker"):
        code, stderr = await _leave(module, tmp_path, env)
        assert code == 3, (module, stderr)
        lines = stderr.strip().splitlines()
        assert len(lines) == 1 and "要求核验办理人身份" in lines[0], (module, stderr)
