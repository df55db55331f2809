"""The reverse proxy of the production shape (deploy/nginx/shenhou.conf.template), run by Debian's nginx with
the pilot's certificates in front of a real codec server that requires tokens: what a staff browser reaches."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import ssl
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

from register.sealing import Sealer
from runtime.codec import EncryptionCodec
from runtime.codec_auth import JwksFile, TokenVerifier
from runtime.codec_server import serve
from runtime.materials import MaterialStore
from tests.runtime.test_codec_auth import AUDIENCE, ISSUER, JWKS, plain_body, token
from tests.runtime.test_temporal_tls import _nginx

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "deploy" / "nginx" / "shenhou.conf.template"
PORTAL_HOST = "portal.localhost"
SCAN = b"%PDF-1.4 a scan"
SCAN_SHA = hashlib.sha256(SCAN).hexdigest()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"{old!r} should appear once in {TEMPLATE.name}"
    return text.replace(old, new)


@pytest.fixture(scope="module")
def web_pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pki")
    subprocess.run(
        [str(ROOT / "deploy" / "make-pilot-ca.sh"), str(out)],
        check=True, capture_output=True, env={**os.environ, "PUBLIC_HOST": "localhost", "PORTAL_HOST": PORTAL_HOST},
    )
    return out


@pytest_asyncio.fixture
async def upstreams(tmp_path: Path) -> AsyncIterator[tuple[int, int, int]]:
    """The codec server (tokens required) and stand-ins for the Web UI and the portal, on loopback ports."""
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(JWKS))
    verifier = TokenVerifier(JwksFile(jwks), issuer=ISSUER, audience=AUDIENCE)
    key = os.urandom(32)
    store = tmp_path / "materials"
    store.mkdir()
    (store / SCAN_SHA).write_bytes(SCAN)
    codec = await serve(EncryptionCodec({"k1": key}, "k1"), "127.0.0.1", 0, ["https://localhost"], verifier,
                        operator_roles=frozenset({"shenhou-operator"}),
                        materials=MaterialStore(store, Sealer({"k1": key}, "k1", os.urandom(32))))

    async def ui_page(request: web.Request) -> web.Response:
        return web.Response(text=f"ui {request.method} {request.path}" if request.method != "GET"
                            else f"ui {request.path}")

    async def portal_page(request: web.Request) -> web.Response:
        return web.Response(text=f"portal {request.path} from {request.headers.get('X-Forwarded-For')}")

    ui_app = web.Application()
    ui_app.router.add_route("*", "/{tail:.*}", ui_page)
    ui = web.AppRunner(ui_app, access_log=None)
    await ui.setup()
    await web.TCPSite(ui, "127.0.0.1", 0).start()
    portal_app = web.Application()
    portal_app.router.add_route("*", "/{tail:.*}", portal_page)
    portal = web.AppRunner(portal_app, access_log=None)
    await portal.setup()
    await web.TCPSite(portal, "127.0.0.1", 0).start()
    try:
        yield codec.addresses[0][1], ui.addresses[0][1], portal.addresses[0][1]
    finally:
        await portal.cleanup()
        await ui.cleanup()
        await codec.cleanup()


@pytest.fixture
def staff_networks() -> str:
    return "allow 127.0.0.1;\n"


@pytest.fixture
def proxy(upstreams: tuple[int, int, int], web_pki: Path, tmp_path: Path,
          staff_networks: str) -> Iterator[tuple[int, int]]:
    """(https port, http port) of nginx running the template with the compose service names mapped to loopback."""
    nginx = _nginx()
    codec_port, ui_port, portal_port = upstreams
    https_port, http_port = _free_port(), _free_port()
    site = TEMPLATE.read_text().replace("${PUBLIC_HOST}", "localhost").replace("${PORTAL_HOST}", PORTAL_HOST)
    site = _replace_once(site, "listen 80;", f"listen 127.0.0.1:{http_port};")
    site = _replace_once(site, "listen 80 default_server;", f"listen 127.0.0.1:{http_port} default_server;")
    site = _replace_once(site, "listen 443 ssl default_server;", f"listen 127.0.0.1:{https_port} ssl default_server;")
    # The staff's server and the families' portal's: the same HTTPS port, told apart by name.
    assert site.count("listen 443 ssl http2;") == 2
    site = site.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
    # The county's networks: here the loopback the test's browser comes from, or (staff_networks) others.
    networks = tmp_path / "staff-networks.conf"
    networks.write_text(staff_networks)
    site = _replace_once(site, "include /etc/nginx/staff-networks.conf;", f"include {networks};")
    site = _replace_once(site, "proxy_pass http://codec-server:8081/;", f"proxy_pass http://127.0.0.1:{codec_port}/;")
    # The UI's API (behind the codec server's /authorize) and its pages.
    assert site.count("proxy_pass http://temporal-ui:8080;") == 2
    site = site.replace("proxy_pass http://temporal-ui:8080;", f"proxy_pass http://127.0.0.1:{ui_port};")
    site = _replace_once(site, "proxy_pass http://codec-server:8081/authorize;",
                         f"proxy_pass http://127.0.0.1:{codec_port}/authorize;")
    site = _replace_once(site, "proxy_pass http://portal:8090;", f"proxy_pass http://127.0.0.1:{portal_port};")
    site = site.replace("/etc/nginx/pki/web", str(web_pki / "web"))
    site = site.replace("/etc/nginx/pki/portal-web", str(web_pki / "portal-web"))
    (tmp_path / "site.conf").write_text(site)
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"""
daemon off;
pid {tmp_path}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp_path}/body;
    proxy_temp_path {tmp_path}/proxy;
    fastcgi_temp_path {tmp_path}/fastcgi;
    uwsgi_temp_path {tmp_path}/uwsgi;
    scgi_temp_path {tmp_path}/scgi;
    include {tmp_path}/site.conf;
}}
"""
    )
    log = tmp_path / "error.log"
    checked = subprocess.run([nginx, "-t", "-c", str(conf), "-p", str(tmp_path), "-e", str(log)], capture_output=True)
    assert checked.returncode == 0, checked.stderr.decode()
    proc = subprocess.Popen(
        [nginx, "-c", str(conf), "-p", str(tmp_path), "-e", str(log)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", https_port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"nginx did not start: {log.read_text(errors='replace')}")
                time.sleep(0.05)
        yield https_port, http_port
    finally:
        proc.terminate()
        proc.wait(timeout=20)


async def test_staff_browser_reaches_ui_and_codec_under_one_https_origin(
    proxy: tuple[int, int], web_pki: Path
) -> None:
    https_port, http_port = proxy
    trust = ssl.create_default_context(cafile=str(web_pki / "ca.pem"))
    base = f"https://localhost:{https_port}"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trust)) as http:
        async with http.get(f"{base}/namespaces/default/workflows") as resp:
            assert resp.status == 200
            assert await resp.text() == "ui /namespaces/default/workflows"

        body = plain_body("x")
        async with http.post(f"{base}/codec/decode", json=body) as resp:
            assert resp.status == 401
            assert resp.headers["WWW-Authenticate"].startswith("Bearer")
        headers = {"Authorization": f"Bearer {token()}", "Origin": "https://localhost"}
        async with http.post(f"{base}/codec/decode", json=body, headers=headers) as resp:
            assert resp.status == 200
            assert await resp.json() == body

        # A material link (policy scan_url https://<PUBLIC_HOST>/codec/materials/) reaches the codec server: the
        # page, then the scan for the token the page sends (an operator's here; tests/runtime/test_codec_materials.py
        # has who else may open one).
        async with http.get(f"{base}/codec/materials/{SCAN_SHA}") as resp:
            assert resp.status == 200 and resp.content_type == "text/html"
        async with http.get(f"{base}/codec/materials/{SCAN_SHA}/scan") as resp:
            assert resp.status == 401
        operator = {"Authorization": f"Bearer {token(groups=['shenhou-operator'])}"}
        async with http.get(f"{base}/codec/materials/{SCAN_SHA}/scan", headers=operator) as resp:
            assert resp.status == 200 and await resp.read() == SCAN

        async with http.get(f"http://localhost:{http_port}/", allow_redirects=False) as resp:
            assert resp.status == 301
            assert resp.headers["Location"].startswith("https://localhost")


async def test_families_reach_the_portal_on_its_own_name_and_nothing_of_the_staff(
    proxy: tuple[int, int], web_pki: Path
) -> None:
    https_port, http_port = proxy
    trust = ssl.create_default_context(cafile=str(web_pki / "ca.pem"))
    base = f"https://127.0.0.1:{https_port}"
    portal = {"server_hostname": PORTAL_HOST, "headers": {"Host": PORTAL_HOST, "X-Forwarded-For": "203.0.113.9"}}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trust)) as http:
        async with http.get(f"{base}/apply", **portal) as resp:  # type: ignore[arg-type]
            assert resp.status == 200
            # The address the portal counts wrong codes under is the proxy's view, not what the client claims.
            assert await resp.text() == "portal /apply from 127.0.0.1"
        async with http.post(f"{base}/codec/decode", json=plain_body("x"), **portal) as resp:  # type: ignore[arg-type]
            assert await resp.text() == "portal /codec/decode from 127.0.0.1"  # the codec server is not here
        async with http.get(f"http://127.0.0.1:{http_port}/progress", headers={"Host": PORTAL_HOST},
                            allow_redirects=False) as resp:
            assert resp.status == 301
            assert resp.headers["Location"] == f"https://{PORTAL_HOST}/progress"


@pytest.mark.parametrize("staff_networks", [(ROOT / "deploy" / "nginx" / "staff-networks.conf").read_text()])
async def test_staff_paths_are_closed_outside_the_county_networks_and_by_bare_address(
    proxy: tuple[int, int], web_pki: Path
) -> None:
    # The shipped networks file does not list loopback: here the test's browser is outside the county's networks.
    https_port, http_port = proxy
    trust = ssl.create_default_context(cafile=str(web_pki / "ca.pem"))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trust)) as http:
        async with http.get(f"https://localhost:{https_port}/namespaces/default/workflows") as resp:
            assert resp.status == 403
        async with http.post(f"https://localhost:{https_port}/codec/decode", json=plain_body("x")) as resp:
            assert resp.status == 403
        # The families' portal stays open to everyone.
        async with http.get(f"https://127.0.0.1:{https_port}/apply", server_hostname=PORTAL_HOST,
                            headers={"Host": PORTAL_HOST}) as resp:
            assert resp.status == 200
    # By bare address (no name, or a name the proxy does not serve): no certificate, no answer.
    bare = ssl.create_default_context(cafile=str(web_pki / "ca.pem"))
    bare.check_hostname = False
    with socket.create_connection(("127.0.0.1", https_port), timeout=5) as raw, pytest.raises(ssl.SSLError):
        bare.wrap_socket(raw)
    with socket.create_connection(("127.0.0.1", https_port), timeout=5) as raw, pytest.raises(ssl.SSLError):
        bare.wrap_socket(raw, server_hostname="other.example")
    with socket.create_connection(("127.0.0.1", http_port), timeout=5) as raw:
        raw.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert raw.recv(1024) == b""  # closed without a reply (444)


async def test_officers_cannot_terminate_or_reset_through_the_ui(proxy: tuple[int, int], web_pki: Path) -> None:
    """The calls the Web UI makes for its buttons, as an officer's browser sends them (the access token in
    Authorization): terminate and reset are denied at the proxy; a signal reaches the UI; an operator may."""
    https_port, _ = proxy
    trust = ssl.create_default_context(cafile=str(web_pki / "ca.pem"))
    base = f"https://localhost:{https_port}/api/v1/namespaces/default/workflows"
    officer = {"Authorization": f"Bearer {token(name='医保赵', groups=['ybj-staff'])}"}
    operator = {"Authorization": f"Bearer {token(name='运维', groups=['shenhou-operator'])}"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trust)) as http:
        for path in ("/SH-AAAAAAAAAAAA/terminate", "/SH-AAAAAAAAAAAA.hpf.death_withdrawal/reset",
                     "/SH-AAAAAAAAAAAA/cancel", "/SH-NEW"):
            async with http.post(base + path, json={"reason": "x"}, headers=officer) as resp:
                assert resp.status == 403, path
            async with http.post(base + path, json={"reason": "x"}) as resp:
                assert resp.status == 401, path
        async with http.post(f"https://localhost:{https_port}/api/v1/namespaces/default/batch-operations/b1",
                             json={}, headers=officer) as resp:
            assert resp.status == 403
        signal = "/SH-AAAAAAAAAAAA.hpf.death_withdrawal/signal/approve"
        async with http.post(base + signal, json={}, headers=officer) as resp:
            assert resp.status == 200
            assert await resp.text() == f"ui POST /api/v1/namespaces/default/workflows{signal}"
        async with http.get(base, headers=officer) as resp:
            assert resp.status == 200
        async with http.post(base + "/SH-AAAAAAAAAAAA/terminate", json={}, headers=operator) as resp:
            assert resp.status == 200
