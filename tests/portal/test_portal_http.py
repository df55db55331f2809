"""The portal over HTTP without a browser: CSRF, the session cookie, limits, and what an upload must be."""

from __future__ import annotations

import re
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
from portal.limits import FailureLimiter, Limit
from portal.uploads import Staging, UploadProblem
from runtime.keys import Keys
from runtime.settings import Settings
from tests.portal.conftest import jpeg_bytes, pdf_bytes, png_bytes
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


def token_of(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "the form carries a CSRF token"
    return match.group(1)


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


async def test_the_right_code_opens_a_signed_httponly_strict_session_and_no_url_names_the_case(
    http: httpx.AsyncClient, keys: Keys
) -> None:
    page = await http.get("/progress")
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" in cookie
    assert page.headers["cache-control"] == "no-store"
    answer = await http.post("/progress", data={
        "case_number": CASE.lower(), "code": query_code(CASE, keys.query_code_key), "csrf_token": token_of(page.text),
    })
    assert answer.status_code == 303 and answer.headers["location"] == "/progress"
    assert CASE not in answer.headers["location"] and CASE not in answer.headers["set-cookie"]


async def test_wrong_codes_are_limited_per_case_number(http: httpx.AsyncClient, keys: Keys) -> None:
    token = token_of((await http.get("/progress")).text)
    statuses = []
    for _ in range(6):
        answer = await http.post("/progress", data={"case_number": CASE, "code": "00000000", "csrf_token": token})
        statuses.append(answer.status_code)
    assert statuses == [200] * 5 + [429]
    right = await http.post("/progress", data={
        "case_number": CASE, "code": query_code(CASE, keys.query_code_key), "csrf_token": token})
    assert right.status_code == 429 and "错误次数过多" in right.text


def test_the_limiter_counts_failures_per_key_within_its_window() -> None:
    now = [0.0]
    limiter = FailureLimiter(Limit(failures=2, window_seconds=60), clock=lambda: now[0])
    limiter.fail("a")
    limiter.fail("a")
    assert limiter.blocked("a") and not limiter.blocked("b")
    now[0] = 61.0
    assert not limiter.blocked("a")


async def test_an_oversized_request_is_refused_before_it_is_read(http: httpx.AsyncClient) -> None:
    answer = await http.post("/apply", content=b"x", headers={"content-length": str(10**9)})
    assert answer.status_code == 413


class Upload:
    def __init__(self, data: bytes) -> None:
        self.data = data

    async def read(self, size: int = -1) -> bytes:
        chunk, self.data = (self.data, b"") if size < 0 else (self.data[:size], self.data[size:])
        return chunk


async def test_uploads_are_checked_by_content_and_size(tmp_path: Path) -> None:
    staging = Staging(tmp_path / "staging", b"k" * 32, max_bytes=1024)
    for data, name in ((pdf_bytes(1), "PDF"), (jpeg_bytes(2), "JPEG"), (png_bytes(3), "PNG")):
        staged = await staging.accept(MaterialKind.DEATH_CERTIFICATE, Upload(data))
        assert staged.format == name and (staging.folder / staged.sha256).read_bytes() == data
    with pytest.raises(UploadProblem, match="不是PDF、JPEG或PNG"):
        await staging.accept(MaterialKind.DEATH_CERTIFICATE, Upload(b"<html>not a scan</html>"))
    with pytest.raises(UploadProblem, match="超过"):
        await staging.accept(MaterialKind.DEATH_CERTIFICATE, Upload(b"%PDF-" + b"0" * 2000))
    with pytest.raises(UploadProblem, match="为空"):
        await staging.accept(MaterialKind.DEATH_CERTIFICATE, Upload(b""))
    assert [p.name for p in staging.folder.iterdir() if p.name.startswith(".")] == []  # nothing half-written


async def test_an_earlier_upload_is_kept_only_with_its_own_signed_token(tmp_path: Path) -> None:
    staging = Staging(tmp_path / "staging", b"k" * 32, max_bytes=10_000)
    staged = await staging.accept(MaterialKind.DEATH_CERTIFICATE, Upload(png_bytes(9)))
    token = staging.token(staged)
    assert staging.from_token(MaterialKind.DEATH_CERTIFICATE, token) == staged
    assert staging.from_token(MaterialKind.APPLICANT_ID_CARD, token) is None  # another slot
    assert staging.from_token(MaterialKind.DEATH_CERTIFICATE, token[:-2] + "xx") is None
    other = Staging(tmp_path / "staging", b"j" * 32, max_bytes=10_000)
    assert other.from_token(MaterialKind.DEATH_CERTIFICATE, token) is None  # another installation's key
