"""The portal over HTTP without a browser: CSRF, the server-side session, limits, and what an upload must be."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine

from activities.calendar import WorkingDayCalendar
from domain.enums import MaterialKind
from domain.policy import Policy
from domain.query_code import query_code
from portal.app import PortalServices, create_app
from portal.limits import Backoff, BackoffRule, Limit, WindowCounter
from portal.scans import open_scan
from portal.uploads import Staging, UploadProblem
from register.sealing import Sealer
from runtime.keys import Keys
from runtime.settings import Settings
from tests.portal.conftest import jpeg_bytes, pdf_bytes, png_bytes, token_of
from tests.workflows.helpers import TODAY

CASE = "SH-ABCDEFGH2345"


@pytest.fixture
def services(keys: Keys, engine: Engine, calendar: WorkingDayCalendar, tmp_path: Path) -> PortalServices:
    # No Temporal here: these requests are answered before a case is started or looked up.
    settings = Settings(data_dir=tmp_path / "data", portal_max_upload_bytes=64 * 1024, portal_cookie_secure=True)
    return PortalServices(settings=settings, policy=Policy(), keys=keys, client=None,  # type: ignore[arg-type]
                          engine=engine, calendar=calendar, today=lambda: TODAY)


@pytest.fixture
async def http(services: PortalServices) -> Any:
    transport = httpx.ASGITransport(app=create_app(services))
    async with httpx.AsyncClient(transport=transport, base_url="https://portal.test") as client:
        yield client



async def test_a_post_without_the_session_token_is_refused(http: httpx.AsyncClient) -> None:
    await http.get("/progress")
    refused = await http.post("/progress", data={"case_number": CASE, "code": "12345678", "csrf_token": "forged"})
    assert refused.status_code == 403 and "页面已过期" in refused.text
    other = httpx.AsyncClient(transport=http._transport, base_url="https://portal.test")
    page = await http.get("/progress")
    # A token from someone else's session does not work in another session either.
    crossed = await other.post("/progress", data={"case_number": CASE, "code": "1", "csrf_token": token_of(page.text)})
    assert crossed.status_code == 403
    await other.aclose()


async def test_the_right_code_opens_a_new_server_side_session_and_no_url_names_the_case(
    http: httpx.AsyncClient, keys: Keys
) -> None:
    page = await http.get("/progress")
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" in cookie
    assert page.headers["cache-control"] == "no-store"
    before = http.cookies["shenhou_portal"]
    answer = await http.post("/progress", data={
        "case_number": CASE.lower(), "code": query_code(CASE, keys.query_code_key), "csrf_token": token_of(page.text),
    })
    assert answer.status_code == 303 and answer.headers["location"] == "/progress"
    assert CASE not in answer.headers["location"] and CASE not in answer.headers["set-cookie"]
    # Signing in gives the session a new id: the one seen before sign-in opens nothing.
    assert http.cookies["shenhou_portal"] != before
    stale = httpx.AsyncClient(transport=http._transport, base_url="https://portal.test",
                              cookies={"shenhou_portal": before})
    assert "请输入受理短信" in (await stale.get("/progress")).text
    await stale.aclose()


async def test_logout_ends_the_session_on_the_server(http: httpx.AsyncClient, keys: Keys) -> None:
    page = await http.get("/progress")
    await http.post("/progress", data={
        "case_number": CASE, "code": query_code(CASE, keys.query_code_key), "csrf_token": token_of(page.text)})
    signed_in = http.cookies["shenhou_portal"]
    home = await http.get("/")
    assert "退出查询" in home.text
    out = await http.post("/logout", data={"csrf_token": token_of(home.text)})
    assert out.status_code == 303
    # A copy of the cookie kept from before the logout opens nothing.
    replay = httpx.AsyncClient(transport=http._transport, base_url="https://portal.test",
                               cookies={"shenhou_portal": signed_in})
    assert "请输入受理短信" in (await replay.get("/progress")).text
    await replay.aclose()


async def test_a_session_ends_at_its_absolute_lifetime_however_busy(
    keys: Keys, engine: Engine, calendar: WorkingDayCalendar, tmp_path: Path,
) -> None:
    now = [0.0]
    settings = Settings(data_dir=tmp_path / "data", portal_session_minutes=30, portal_session_absolute_minutes=120)
    services = PortalServices(settings=settings, policy=Policy(), keys=keys, client=None,  # type: ignore[arg-type]
                              engine=engine, calendar=calendar, today=lambda: TODAY, clock=lambda: now[0])
    transport = httpx.ASGITransport(app=create_app(services))
    async with httpx.AsyncClient(transport=transport, base_url="https://portal.test") as http:
        page = await http.get("/progress")
        await http.post("/progress", data={
            "case_number": CASE, "code": query_code(CASE, keys.query_code_key), "csrf_token": token_of(page.text)})
        # Busy every 20 minutes (never idle for 30), but two hours after sign-in the session is over.
        for minute in range(20, 120, 20):
            now[0] = minute * 60.0
            assert "退出查询" in (await http.get("/")).text  # still following the case
        now[0] = 121 * 60.0
        assert "退出查询" not in (await http.get("/")).text


async def test_wrong_codes_make_the_client_wait(http: httpx.AsyncClient, keys: Keys) -> None:
    token = token_of((await http.get("/progress")).text)
    statuses = []
    for _ in range(6):
        answer = await http.post("/progress", data={"case_number": CASE, "code": "00000000", "csrf_token": token})
        statuses.append(answer.status_code)
    assert statuses == [200] * 5 + [429]
    right = await http.post("/progress", data={
        "case_number": CASE, "code": query_code(CASE, keys.query_code_key), "csrf_token": token})
    assert right.status_code == 429 and "错误次数过多" in right.text and "分钟后再试" in right.text


def test_backoff_doubles_after_the_free_failures_and_forgets() -> None:
    now = [0.0]
    backoff = Backoff(BackoffRule(free=2, base_seconds=10, max_seconds=25, forget_seconds=100), clock=lambda: now[0])
    backoff.fail("a")
    assert backoff.wait_seconds("a") == 0
    backoff.fail("a")
    assert backoff.wait_seconds("a") == 10 and backoff.wait_seconds("b") == 0
    now[0] = 10.0
    assert backoff.wait_seconds("a") == 0
    backoff.fail("a")
    assert backoff.wait_seconds("a") == 20
    backoff.fail("a")
    assert backoff.wait_seconds("a") == 25  # at most max_seconds
    now[0] = 111.0
    assert backoff.wait_seconds("a") == 0  # all forgotten


def test_a_quota_counts_requests_per_key_within_its_window() -> None:
    now = [0.0]
    quota = WindowCounter(Limit(count=2, window_seconds=60), clock=lambda: now[0])
    assert quota.take("a") and quota.take("a") and not quota.take("a") and quota.take("b")
    now[0] = 61.0
    assert quota.take("a")


async def test_an_oversized_request_is_refused_before_it_is_read(http: httpx.AsyncClient) -> None:
    answer = await http.post("/apply", content=b"x", headers={"content-length": str(10**9)})
    assert answer.status_code == 413


class Upload:
    def __init__(self, data: bytes) -> None:
        self.data = data

    async def read(self, size: int = -1) -> bytes:
        chunk, self.data = (self.data, b"") if size < 0 else (self.data[:size], self.data[size:])
        return chunk


async def test_uploads_are_checked_by_content_and_size_and_kept_sealed(keys: Keys, tmp_path: Path) -> None:
    sealer = Sealer.from_keys(keys)
    staging = Staging(tmp_path / "staging", b"k" * 32, max_bytes=4096, sealer=sealer, keep_seconds=3600)
    for data, name in ((pdf_bytes(1), "PDF"), (jpeg_bytes(2), "JPEG"), (png_bytes(3), "PNG")):
        staged = await staging.accept(MaterialKind.DEATH_CERTIFICATE, Upload(data))
        stored = staging.folder / staged.sha256
        assert staged.format == name and stored.read_bytes()[:4] not in (b"%PDF", b"\xff\xd8\xff\xe0", b"\x89PNG")
        assert open_scan(sealer, stored).startswith(data[:3])
    with pytest.raises(UploadProblem, match="不是PDF、JPEG或PNG"):
        await staging.accept(MaterialKind.DEATH_CERTIFICATE, Upload(b"<html>not a scan</html>"))
    with pytest.raises(UploadProblem, match="超过"):
        await staging.accept(MaterialKind.DEATH_CERTIFICATE, Upload(b"%PDF-" + b"0" * 5000))
    with pytest.raises(UploadProblem, match="为空"):
        await staging.accept(MaterialKind.DEATH_CERTIFICATE, Upload(b""))
    assert [p.name for p in staging.folder.iterdir() if p.name.startswith(".")] == []  # nothing half-written


async def test_an_earlier_upload_is_kept_only_with_its_own_signed_token(keys: Keys, tmp_path: Path) -> None:
    sealer = Sealer.from_keys(keys)
    staging = Staging(tmp_path / "staging", b"k" * 32, max_bytes=10_000, sealer=sealer, keep_seconds=3600)
    staged = await staging.accept(MaterialKind.DEATH_CERTIFICATE, Upload(png_bytes(9)))
    token = staging.token(staged)
    assert staging.from_token(MaterialKind.DEATH_CERTIFICATE, token) == staged
    assert staging.from_token(MaterialKind.APPLICANT_ID_CARD, token) is None  # another slot
    assert staging.from_token(MaterialKind.DEATH_CERTIFICATE, token[:-2] + "xx") is None
    other = Staging(tmp_path / "staging", b"j" * 32, max_bytes=10_000, sealer=sealer, keep_seconds=3600)
    assert other.from_token(MaterialKind.DEATH_CERTIFICATE, token) is None  # another installation's key
