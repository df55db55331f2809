"""The codec server with authentication: bearer JWTs from the identity provider, checked against its JWKS.

Keys are made here (RSA and P-256); the JWKS is served from a file or from a small HTTP server on loopback,
as an identity provider would.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import pytest
import pytest_asyncio
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from temporalio.api.common.v1 import Payload

import runtime.codec_server
from runtime.codec import EncryptionCodec
from runtime.codec_auth import JwksFile, JwksUrl, TokenVerifier, verifier_from_settings
from runtime.codec_server import serve
from runtime.settings import Settings

ISSUER = "https://id.guyang.example/realms/staff"
AUDIENCE = "shenhou-codec"
UI_ORIGIN = "https://temporal.guyang.example"
ORIGINS = [UI_ORIGIN]
K1 = os.urandom(32)
PROJECT_ROOT = Path(runtime.codec_server.__file__).resolve().parents[1]
SECRET_TEXT = "王建国"

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk(private_key: Any, kid: str) -> dict[str, Any]:
    if isinstance(private_key, rsa.RSAPrivateKey):
        public = jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
        alg = "RS256"
    else:
        public = jwt.algorithms.ECAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
        alg = "ES256"
    return {**public, "kid": kid, "use": "sig", "alg": alg}


JWKS = {"keys": [jwk(RSA_KEY, "rsa-1"), jwk(EC_KEY, "ec-1")]}


def token(
    key: Any = RSA_KEY, kid: str | None = "rsa-1", alg: str = "RS256", drop: tuple[str, ...] = (), **claims: Any
) -> str:
    now = int(time.time())
    body: dict[str, Any] = {"iss": ISSUER, "aud": AUDIENCE, "sub": "staff-0042", "iat": now, "exp": now + 600}
    body.update(claims)
    for name in drop:
        body.pop(name)
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(body, key, algorithm=alg, headers=headers)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def plain_body(text: str) -> dict[str, object]:
    return {"payloads": [{"metadata": {"encoding": b64(b"json/plain")}, "data": b64(f'"{text}"'.encode())}]}


async def encrypted_body(text: str) -> dict[str, object]:
    codec = EncryptionCodec({"k1": K1}, "k1")
    [payload] = await codec.encode([Payload(metadata={"encoding": b"json/plain"}, data=f'"{text}"'.encode())])
    return {"payloads": [{"metadata": {k: b64(v) for k, v in payload.metadata.items()}, "data": b64(payload.data)}]}


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def jwks_file(tmp_path: Path) -> Path:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(JWKS))
    return path


async def _codec_server(verifier: TokenVerifier) -> AsyncIterator[str]:
    runner = await serve(EncryptionCodec({"k1": K1}, "k1"), "127.0.0.1", 0, ORIGINS, verifier)
    try:
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


@pytest_asyncio.fixture
async def base_url(jwks_file: Path) -> AsyncIterator[str]:
    verifier = TokenVerifier(JwksFile(jwks_file), issuer=ISSUER, audience=AUDIENCE)
    async for url in _codec_server(verifier):
        yield url


class FakeIdentityProvider:
    """Serves a JWKS document on loopback and counts how often it is fetched."""

    def __init__(self) -> None:
        self.jwks: dict[str, Any] = JWKS
        self.fetches = 0
        self.failing = False

    async def handle(self, request: web.Request) -> web.Response:
        self.fetches += 1
        if self.failing:
            return web.Response(status=502, text="bad gateway")
        return web.json_response(self.jwks)


@pytest_asyncio.fixture
async def idp() -> AsyncIterator[tuple[FakeIdentityProvider, str]]:
    provider = FakeIdentityProvider()
    app = web.Application()
    app.router.add_get("/realms/staff/protocol/openid-connect/certs", provider.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield provider, f"http://{host}:{port}/realms/staff/protocol/openid-connect/certs"
    finally:
        await runner.cleanup()


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}", "Origin": UI_ORIGIN}


@pytest.mark.asyncio
@pytest.mark.parametrize(("key", "kid", "alg"), [(RSA_KEY, "rsa-1", "RS256"), (EC_KEY, "ec-1", "ES256")])
async def test_valid_token_decrypts(
    base_url: str, http: aiohttp.ClientSession, key: Any, kid: str, alg: str
) -> None:
    body = await encrypted_body(SECRET_TEXT)
    async with http.post(f"{base_url}/decode", json=body, headers=bearer(token(key, kid, alg))) as resp:
        assert resp.status == 200
        assert await resp.json() == plain_body(SECRET_TEXT)
        assert resp.headers["Access-Control-Allow-Origin"] == UI_ORIGIN
    async with http.post(f"{base_url}/encode", json=plain_body("x"), headers=bearer(token(key, kid, alg))) as resp:
        assert resp.status == 200


REFUSED: dict[str, Callable[[], dict[str, str]]] = {
    "no header": lambda: {"Origin": UI_ORIGIN},
    "basic auth": lambda: {"Authorization": "Basic c3RhZmY6cGFzcw==", "Origin": UI_ORIGIN},
    "not a jwt": lambda: bearer("not-a-token"),
    "expired": lambda: bearer(token(exp=int(time.time()) - 3600)),
    "wrong issuer": lambda: bearer(token(iss="https://id.elsewhere.example/realms/staff")),
    "wrong audience": lambda: bearer(token(aud="some-other-app")),
    "no audience": lambda: bearer(token(drop=("aud",))),
    "no expiry": lambda: bearer(token(drop=("exp",))),
    "wrong key, known kid": lambda: bearer(token(OTHER_RSA_KEY, "rsa-1")),
    "unknown kid": lambda: bearer(token(OTHER_RSA_KEY, "rsa-9")),
    "no kid": lambda: bearer(token(kid=None)),
    "hmac token": lambda: bearer(token("a-shared-secret-of-enough-length-for-hs256", alg="HS256")),
    "rs256 kid, es256 key": lambda: bearer(token(EC_KEY, "rsa-1", "ES256")),
}


@pytest.mark.asyncio
@pytest.mark.parametrize("case", list(REFUSED))
async def test_refused_without_an_acceptable_token(base_url: str, http: aiohttp.ClientSession, case: str) -> None:
    headers = REFUSED[case]()
    body = await encrypted_body(SECRET_TEXT)
    for path in ("/decode", "/encode"):
        async with http.post(f"{base_url}{path}", json=body, headers=headers) as resp:
            assert resp.status == 401
            text = await resp.text()
            assert SECRET_TEXT not in text
            assert "error" in json.loads(text)
            challenge = resp.headers["WWW-Authenticate"]
            assert challenge.startswith('Bearer realm="shenhou-codec"')
            if case == "no header":
                assert "error=" not in challenge
            else:
                assert 'error="invalid_token"' in challenge
            # The Web UI must be able to read the refusal.
            assert resp.headers["Access-Control-Allow-Origin"] == UI_ORIGIN
            assert "WWW-Authenticate" in resp.headers["Access-Control-Expose-Headers"]


@pytest.mark.asyncio
async def test_preflight_and_health_need_no_token(base_url: str, http: aiohttp.ClientSession) -> None:
    preflight = {
        "Origin": UI_ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
    }
    async with http.options(f"{base_url}/decode", headers=preflight) as resp:
        assert resp.status == 204
        assert resp.headers["Access-Control-Allow-Origin"] == UI_ORIGIN
        assert "authorization" in resp.headers["Access-Control-Allow-Headers"]
    async with http.options(
        f"{base_url}/decode", headers={**preflight, "Origin": "http://localhost:8080"}
    ) as resp:
        assert resp.status == 403
        assert "Access-Control-Allow-Origin" not in resp.headers
    async with http.get(f"{base_url}/health") as resp:
        assert resp.status == 200


@pytest.mark.asyncio
async def test_jwks_url_is_cached_and_follows_key_rotation(
    idp: tuple[FakeIdentityProvider, str], http: aiohttp.ClientSession
) -> None:
    provider, url = idp
    verifier = TokenVerifier(JwksUrl(url, cooldown_s=0), issuer=ISSUER, audience=AUDIENCE)
    async for base_url in _codec_server(verifier):
        for _ in range(5):
            async with http.post(f"{base_url}/decode", json=plain_body("x"), headers=bearer(token())) as resp:
                assert resp.status == 200
        assert provider.fetches == 1

        # The provider rotates: a new key appears; tokens signed with it work without a restart.
        rotated = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        provider.jwks = {"keys": [*JWKS["keys"], jwk(rotated, "rsa-2")]}
        async with http.post(
            f"{base_url}/decode", json=plain_body("x"), headers=bearer(token(rotated, "rsa-2"))
        ) as resp:
            assert resp.status == 200
        assert provider.fetches == 2


@pytest.mark.asyncio
async def test_unreachable_identity_provider_is_503_not_401(
    idp: tuple[FakeIdentityProvider, str], http: aiohttp.ClientSession
) -> None:
    provider, url = idp
    provider.failing = True
    verifier = TokenVerifier(JwksUrl(url), issuer=ISSUER, audience=AUDIENCE)
    async for base_url in _codec_server(verifier):
        async with http.post(f"{base_url}/decode", json=plain_body("x"), headers=bearer(token())) as resp:
            assert resp.status == 503
            assert "error" in await resp.json()


def test_half_configured_authentication_is_an_error(jwks_file: Path) -> None:
    assert verifier_from_settings(Settings(_env_file=None)) is None
    for partial in (
        {"codec_auth_jwks_file": jwks_file},
        {"codec_auth_jwks_file": jwks_file, "codec_auth_issuer": ISSUER},
        {"codec_auth_issuer": ISSUER, "codec_auth_audience": AUDIENCE},
        {"codec_auth_jwks_file": jwks_file / "missing", "codec_auth_issuer": ISSUER, "codec_auth_audience": AUDIENCE},
    ):
        with pytest.raises(ValueError):
            verifier_from_settings(Settings(_env_file=None, **partial))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _start_entry_point(tmp_path: Path, extra_env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SHENHOU_")},
        "SHENHOU_DATA_DIR": str(tmp_path),
        "PYTHONPATH": str(PROJECT_ROOT),
        **extra_env,
    }
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "runtime.codec_server", *args,
        cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )


@pytest.mark.asyncio
async def test_entry_point_refuses_open_network_without_authentication(tmp_path: Path) -> None:
    proc = await _start_entry_point(tmp_path, {}, "--host", "0.0.0.0", "--port", str(_free_port()))
    _, stderr = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 2
    assert b"without authentication" in stderr


@pytest.mark.asyncio
async def test_entry_point_with_settings_requires_tokens(
    tmp_path: Path, jwks_file: Path, http: aiohttp.ClientSession
) -> None:
    port = _free_port()
    env = {
        "SHENHOU_CODEC_SERVER_PORT": str(port),
        "SHENHOU_CODEC_AUTH_JWKS_FILE": str(jwks_file),
        "SHENHOU_CODEC_AUTH_ISSUER": ISSUER,
        "SHENHOU_CODEC_AUTH_AUDIENCE": AUDIENCE,
    }
    proc = await _start_entry_point(tmp_path, env, "--origin", UI_ORIGIN)
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), timeout=20)).decode()
        if not line:
            assert proc.stderr is not None
            pytest.fail((await proc.stderr.read()).decode()[-2000:])
        assert "bearer tokens required" in line, line
        url = f"http://127.0.0.1:{port}/decode"
        async with http.post(url, json=plain_body("x")) as resp:
            assert resp.status == 401
        async with http.post(url, json=plain_body("x"), headers=bearer(token())) as resp:
            assert resp.status == 200
    finally:
        if proc.returncode is None:
            proc.terminate()
        await asyncio.wait_for(proc.wait(), timeout=20)
