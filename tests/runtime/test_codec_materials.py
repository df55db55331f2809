"""Scans for signed-in staff: a material link opens a page that asks for the scan with the signed-in user's
bearer token; the scan goes to an officer of a department the case involves, or an operator, and to nobody else.

Tokens are signed by key pairs made here and served as a JWKS file (tests/runtime/test_codec_auth.py).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest_asyncio
from cryptography.hazmat.primitives.asymmetric import rsa
from structlog.testing import capture_logs

from domain.enums import Department
from register.sealing import SCAN_PLACE, Sealer
from runtime.codec import EncryptionCodec
from runtime.codec_auth import JwksFile, TokenVerifier
from runtime.codec_server import MATERIAL_PAGE, OfficerSigning, serve
from runtime.materials import MaterialStore, record_departments
from runtime.officers import ClaimMapping
from tests.runtime.test_codec_auth import AUDIENCE, ISSUER, JWKS, K1, ORIGINS, bearer, token
from tests.runtime.test_codec_server import http
from tests.signing import OFFICER

__all__ = ["http"]

MAPPING = ClaimMapping(name_claim="name", roles_claim="groups",
                       departments={"gaj-staff": Department.POLICE, "gjj-staff": Department.HPF},
                       supervisor_roles=frozenset({"county-supervisor"}))
SCAN = b"%PDF-1.4 death certificate of the case"
SHA = hashlib.sha256(SCAN).hexdigest()


@contextlib.asynccontextmanager
async def serving_scans(tmp_path: Path, scan: bytes) -> AsyncIterator[str]:
    """A codec server that signs staff in, with ``scan`` stored sealed as the portal keeps it, attached by a case
    that involves the police (户口注销) only; its base URL."""
    sealer = Sealer({"k1": K1}, "k1", os.urandom(32))
    store = tmp_path / "materials"
    store.mkdir()
    (store / hashlib.sha256(scan).hexdigest()).write_bytes(sealer.seal_bytes(scan, SCAN_PLACE))
    record_departments(store, [hashlib.sha256(scan).hexdigest()], [Department.POLICE])
    verifier = TokenVerifier(JwksFile(_jwks(tmp_path)), issuer=ISSUER, audience=AUDIENCE)
    runner = await serve(EncryptionCodec({"k1": K1}, "k1"), "127.0.0.1", 0, ORIGINS, verifier,
                         OfficerSigning(OFFICER, MAPPING), frozenset({"shenhou-operator"}),
                         materials=MaterialStore(store, sealer))
    try:
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


@pytest_asyncio.fixture
async def base_url(tmp_path: Path) -> AsyncIterator[str]:
    async with serving_scans(tmp_path, SCAN) as url:
        yield url


async def scan(http: aiohttp.ClientSession, url: str, headers: dict[str, str] | None = None,
               **kwargs: Any) -> tuple[int, bytes, str]:
    async with http.get(url, headers=headers or {}, **kwargs) as resp:
        return resp.status, await resp.read(), resp.content_type


async def test_an_officer_of_a_department_the_case_involves_gets_the_scan_and_it_is_logged(
    base_url: str, http: aiohttp.ClientSession
) -> None:
    with capture_logs() as logs:
        status, body, media = await scan(http, f"{base_url}/materials/{SHA}/scan",
                                         bearer(token(name="公安钱", groups=["gaj-staff"])))
    assert (status, body, media) == (200, SCAN, "application/pdf")
    [served] = [entry for entry in logs if entry["event"] == "material_served"]
    assert served["subject"] == "staff-0042" and served["sha256"] == SHA[:12]
    logged = json.dumps(logs, ensure_ascii=False)
    assert "公安钱" not in logged and SHA not in logged  # no names; the hash as its prefix only
    # An operator too.
    status, body, _ = await scan(http, f"{base_url}/materials/{SHA}/scan",
                                 bearer(token(groups=["shenhou-operator"])))
    assert (status, body) == (200, SCAN)


async def test_officers_of_other_departments_and_supervisors_are_refused_in_one_chinese_line(
    base_url: str, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    for groups in (["gjj-staff"], ["county-supervisor"], []):
        with capture_logs() as logs:
            async with http.get(f"{base_url}/materials/{SHA}/scan", headers=bearer(token(groups=groups))) as resp:
                assert resp.status == 403
                assert (await resp.json())["error"] == "无权查看此扫描件：只有该案所涉部门的经办人可以查看"
        [refused] = [entry for entry in logs if entry["event"] == "material_refused"]
        assert refused["reason"] == "not entitled" and refused["sha256"] == SHA[:12]
    # Once another accepted application attaches the same file and involves 公积金, its officer may open it.
    record_departments(tmp_path / "materials", [SHA], [Department.HPF])
    status, body, _ = await scan(http, f"{base_url}/materials/{SHA}/scan", bearer(token(groups=["gjj-staff"])))
    assert (status, body) == (200, SCAN)


async def test_no_forged_or_expired_token_gets_a_scan(base_url: str, http: aiohttp.ClientSession) -> None:
    url = f"{base_url}/materials/{SHA}/scan"
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    officer = ["gaj-staff"]
    for headers in ({}, bearer(token(key=stranger, groups=officer)),
                    bearer(token(iat=now - 3600, exp=now - 600, groups=officer)),
                    bearer(token(aud="someone-else", groups=officer))):
        async with http.get(url, headers=headers) as resp:
            assert resp.status == 401
            assert (await resp.json())["error"] == "未登录或登录已失效：请在 Web UI 重新登录后再打开扫描件"
    # What a reader of the workflow could put in a link or a cookie carries no identity: only the header does.
    valid = token(groups=["gaj-staff"])
    forged_cookie = base64.b64encode(json.dumps({"AccessToken": valid}).encode()).decode()
    for kwargs in ({"params": {"token": valid}}, {"cookies": {"user0": forged_cookie, "AuthUser": valid}}):
        status, body, _ = await scan(http, url, **kwargs)
        assert status == 401 and SCAN not in body


async def test_an_unknown_hash_is_404(base_url: str, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{base_url}/materials/{'0' * 64}/scan", headers=bearer(token(groups=["gaj-staff"]))) as resp:
        assert resp.status == 404 and (await resp.json())["error"] == "未找到该扫描件（可能已超过保存期限）"
    async with http.get(f"{base_url}/materials/not-a-hash") as resp:
        assert resp.status == 404


async def test_the_link_opens_a_page_that_holds_nothing_and_asks_with_the_users_token(
    base_url: str, http: aiohttp.ClientSession
) -> None:
    # The link a matter's page shows (domain/brief.py) is the scan's hash under the codec server: a browser
    # navigation, with no Authorization header, gets the same page for every scan and reader, never the scan.
    async with http.get(f"{base_url}/materials/{SHA}") as resp:
        assert resp.status == 200 and resp.content_type == "text/html"
        page = await resp.text()
        policy = resp.headers["Content-Security-Policy"]
    assert page == MATERIAL_PAGE and SCAN.decode() not in page and SHA not in page
    assert "Authorization: \"Bearer \" + token" in page and 'localStorage.getItem("AuthUser")' in page
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy


def test_an_accepted_applications_scans_record_its_departments_only(tmp_path: Path) -> None:
    from runtime.materials import DEPARTMENTS_SUFFIX

    store = tmp_path / "materials"
    store.mkdir()
    record_departments(store, [SHA, "../escape"], [Department.POLICE, Department.HRSS])
    record_departments(store, [SHA], [Department.POLICE])
    assert sorted((store / f"{SHA}{DEPARTMENTS_SUFFIX}").read_text().split()) == sorted(
        [Department.POLICE.value, Department.HRSS.value])
    assert MaterialStore(store, Sealer({"k1": K1}, "k1", os.urandom(32))).departments(SHA) == {
        Department.POLICE, Department.HRSS}
    assert not (tmp_path / f"escape{DEPARTMENTS_SUFFIX}").exists()


def test_the_codec_server_reads_the_configured_store_only_when_it_signs_staff_in(tmp_path: Path) -> None:
    from runtime.codec_server import material_store
    from runtime.keys import Keys
    from runtime.settings import Settings

    keys = Keys(case_id_key=os.urandom(32), codec_keys={"k1": K1}, active_key_id="k1")
    settings = Settings(data_dir=tmp_path, materials_dir=tmp_path / "portal" / "materials")
    verifier = TokenVerifier(JwksFile(_jwks(tmp_path)), issuer=ISSUER, audience=AUDIENCE)
    store = material_store(settings, keys, verifier)
    assert store is not None and store.folder == tmp_path / "portal" / "materials"
    assert material_store(settings, keys, None) is None  # the embedded default: scripts/run gives its own


def _jwks(tmp_path: Path) -> Path:
    path = tmp_path / "jwks-file.json"
    path.write_text(json.dumps(JWKS))
    return path
