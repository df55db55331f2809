"""The codec server over real HTTP: protocol, CORS for the Web UI, and error handling."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from temporalio.api.common.v1 import Payload

import runtime.codec_server
from runtime.codec import EncryptionCodec
from runtime.codec_server import build_app, serve

UI_ORIGIN = "http://localhost:8233"
ORIGINS = [UI_ORIGIN, "http://127.0.0.1:8233"]
ID_NUMBER = "11010519491231002X"
K1 = os.urandom(32)
PROJECT_ROOT = Path(runtime.codec_server.__file__).resolve().parents[1]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def plain_body(text: str) -> dict[str, object]:
    data = f'"{text}"'.encode()
    return {"payloads": [{"metadata": {"encoding": b64(b"json/plain")}, "data": b64(data)}]}


@pytest_asyncio.fixture
async def base_url() -> AsyncIterator[str]:
    runner = await serve(EncryptionCodec({"k1": K1}, "k1"), "127.0.0.1", 0, ORIGINS)
    try:
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.mark.asyncio
async def test_encode_decode_round_trip(base_url: str, http: aiohttp.ClientSession) -> None:
    body = plain_body(f"张三 {ID_NUMBER}")
    async with http.post(f"{base_url}/encode", json=body) as resp:
        assert resp.status == 200
        assert resp.content_type == "application/json"
        encoded = await resp.json()
    [payload] = encoded["payloads"]
    assert base64.b64decode(payload["metadata"]["encoding"]) == b"binary/encrypted"
    assert base64.b64decode(payload["metadata"]["encryption-key-id"]) == b"k1"
    assert ID_NUMBER.encode() not in base64.b64decode(payload["data"])

    async with http.post(f"{base_url}/decode", json=encoded) as resp:
        assert resp.status == 200
        decoded = await resp.json()
    # Nobody signed in (the embedded default): the identity number comes back masked (runtime/read_scope.py).
    [shown] = decoded["payloads"]
    assert base64.b64decode(shown["data"]).decode() == '"张三 1101**********002X"'
    trusted = await serve(EncryptionCodec({"k1": K1}, "k1"), "127.0.0.1", 0, ORIGINS, show_personal_data=True)
    try:
        host, port = trusted.addresses[0][:2]
        async with http.post(f"http://{host}:{port}/decode", json=encoded) as resp:
            assert await resp.json() == body
    finally:
        await trusted.cleanup()


@pytest.mark.asyncio
async def test_decode_passes_plain_payloads_and_handles_empty(
    base_url: str, http: aiohttp.ClientSession
) -> None:
    body = plain_body("办结")
    async with http.post(f"{base_url}/decode", json=body) as resp:
        assert await resp.json() == body
    async with http.post(f"{base_url}/decode", json={"payloads": []}) as resp:
        assert resp.status == 200
        assert await resp.json() == {"payloads": []}


@pytest.mark.asyncio
@pytest.mark.parametrize("body", [{}, {"payloads": []}])
async def test_empty_document_is_an_empty_answer(
    base_url: str, http: aiohttp.ClientSession, body: dict[str, object]
) -> None:
    # `temporal workflow signal` without --input sends `{}` through --codec-endpoint.
    for path in ("/encode", "/decode"):
        async with http.post(f"{base_url}{path}", json=body) as resp:
            assert resp.status == 200
            assert await resp.json() == {"payloads": []}


@pytest.mark.asyncio
async def test_cors_preflight_for_ui_origin(base_url: str, http: aiohttp.ClientSession) -> None:
    for path in ("/encode", "/decode"):
        headers = {
            "Origin": UI_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-namespace,authorization",
        }
        async with http.options(f"{base_url}{path}", headers=headers) as resp:
            assert resp.status in (200, 204)
            assert resp.headers["Access-Control-Allow-Origin"] == UI_ORIGIN
            assert resp.headers["Access-Control-Allow-Credentials"] == "true"
            assert "POST" in resp.headers["Access-Control-Allow-Methods"]
            allowed = {h.strip() for h in resp.headers["Access-Control-Allow-Headers"].split(",")}
            assert {"content-type", "x-namespace", "authorization"} <= allowed
            assert "Origin" in resp.headers.getall("Vary")

    # The actual request carries the origin header too, or the browser discards the response.
    headers = {"Origin": "http://127.0.0.1:8233", "X-Namespace": "default"}
    async with http.post(f"{base_url}/decode", json=plain_body("x"), headers=headers) as resp:
        assert resp.status == 200
        assert resp.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:8233"
        assert resp.headers["Access-Control-Allow-Credentials"] == "true"


@pytest.mark.asyncio
async def test_other_origins_get_no_cors(base_url: str, http: aiohttp.ClientSession) -> None:
    headers = {"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
    async with http.options(f"{base_url}/decode", headers=headers) as resp:
        assert resp.status == 403
        assert "Access-Control-Allow-Origin" not in resp.headers
    async with http.post(
        f"{base_url}/decode", json=plain_body("x"), headers={"Origin": "http://evil.example"}
    ) as resp:
        assert "Access-Control-Allow-Origin" not in resp.headers


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"",
        b"\xff\xfe",
        b"[]",
        b"null",
        b'{"payloads": "x"}',
        b'{"payloads": [1]}',
        b'{"payloads": [{"data": "!!not base64!!"}]}',
        b'{"payloads": [{"metadata": {"encoding": 5}}]}',
        b'{"unexpected": []}',
        b"[" * 100_000,
    ],
)
async def test_garbage_is_400_json(
    base_url: str, http: aiohttp.ClientSession, body: bytes
) -> None:
    headers = {"Content-Type": "application/json", "Origin": UI_ORIGIN}
    for path in ("/encode", "/decode"):
        async with http.post(f"{base_url}{path}", data=body, headers=headers) as resp:
            assert resp.status == 400
            error = await resp.json()
            assert set(error) == {"error"}
            assert "Traceback" not in error["error"]
            # The browser must be able to read the error too.
            assert resp.headers["Access-Control-Allow-Origin"] == UI_ORIGIN


@pytest.mark.asyncio
async def test_wrong_content_type_is_rejected(base_url: str, http: aiohttp.ClientSession) -> None:
    async with http.post(
        f"{base_url}/decode", data=b'{"payloads": []}', headers={"Content-Type": "text/plain"}
    ) as resp:
        assert resp.status == 415
        assert "error" in await resp.json()


@pytest.mark.asyncio
async def test_undecryptable_payload_is_400_without_content(
    base_url: str, http: aiohttp.ClientSession
) -> None:
    other = EncryptionCodec({"k9": os.urandom(32)}, "k9")
    [foreign] = await other.encode(
        [Payload(metadata={"encoding": b"json/plain"}, data=f'"{ID_NUMBER}"'.encode())]
    )
    body = {
        "payloads": [
            {
                "metadata": {k: b64(v) for k, v in foreign.metadata.items()},
                "data": b64(foreign.data),
            }
        ]
    }
    async with http.post(f"{base_url}/decode", json=body) as resp:
        assert resp.status == 400
        error = (await resp.json())["error"]
        assert "'k9'" in error
        assert ID_NUMBER not in error


@pytest.mark.asyncio
async def test_health_and_unknown_paths(base_url: str, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{base_url}/health") as resp:
        assert resp.status == 200
        assert await resp.json() == {"status": "ok"}
    async with http.get(f"{base_url}/nope") as resp:
        assert resp.status == 404
        assert "error" in await resp.json()
    async with http.get(f"{base_url}/decode") as resp:
        assert resp.status == 405
        assert "error" in await resp.json()


def test_build_app_registers_routes() -> None:
    app = build_app(EncryptionCodec({"k1": K1}, "k1"), ORIGINS)
    assert isinstance(app, web.Application)
    routes = {(r.method, r.resource.canonical) for r in app.router.routes() if r.resource}
    assert {("POST", "/encode"), ("POST", "/decode"), ("GET", "/health")} <= routes
    assert {("OPTIONS", "/encode"), ("OPTIONS", "/decode")} <= routes


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.asyncio
async def test_module_entry_point_serves(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "SHENHOU_DATA_DIR": str(tmp_path),
        "SHENHOU_CODEC_SERVER_PORT": str(port),
        "SHENHOU_CODEC_KEYS": "",
        "SHENHOU_CASE_ID_KEY": "",
        "SHENHOU_CODEC_ACTIVE_KEY_ID": "",
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "runtime.codec_server",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), timeout=20)).decode()
        if not line:
            assert proc.stderr is not None
            pytest.fail((await proc.stderr.read()).decode()[-2000:])
        assert line.startswith("Codec server listening on "), line
        assert f"http://127.0.0.1:{port}" in line, line
        async with http.get(f"http://127.0.0.1:{port}/health") as resp:
            assert resp.status == 200
        assert (tmp_path / "keys.json").exists()
    finally:
        if proc.returncode is None:
            proc.terminate()
        await asyncio.wait_for(proc.wait(), timeout=20)


@pytest.mark.asyncio
async def test_scans_go_to_this_machine_and_only_by_their_hash(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    import hashlib

    from register.sealing import SCAN_PLACE, Sealer
    from runtime.materials import MaterialStore

    sealer = Sealer({"k1": K1}, "k1", os.urandom(32))
    clear, sealed = b"%PDF-1.4 window scan", b"\x89PNG portal scan"
    store = tmp_path / "materials"
    store.mkdir()
    (store / hashlib.sha256(clear).hexdigest()).write_bytes(clear)
    (store / hashlib.sha256(sealed).hexdigest()).write_bytes(sealer.seal_bytes(sealed, SCAN_PLACE))
    runner = await serve(EncryptionCodec({"k1": K1}, "k1"), "127.0.0.1", 0, ORIGINS,
                         materials=MaterialStore(store, sealer))
    try:
        host, port = runner.addresses[0][:2]
        base = f"http://{host}:{port}/materials"
        for data, media in ((clear, "application/pdf"), (sealed, "image/png")):
            async with http.get(f"{base}/{hashlib.sha256(data).hexdigest()}") as resp:
                assert resp.status == 200 and await resp.read() == data and resp.content_type == media
        for name in ("0" * 64, "..%2Fkeys.json", "ABC"):
            async with http.get(f"{base}/{name}") as resp:
                assert resp.status == 404
    finally:
        await runner.cleanup()

