"""The portal served for real (uvicorn on a loopback port) against the session's Temporal dev server, this
test's worker and register, with "today" pinned; the local stand-in identity provider served beside it, as
`scripts/run` does; and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import re
import shutil
import socket
import struct
import zlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from PIL import Image
from pypdf import PdfWriter
from sqlalchemy.engine import Engine
from temporalio.client import Client

from activities.calendar import WorkingDayCalendar
from domain.policy import Policy
from portal.app import PortalServices, create_app
from runtime.keys import Keys
from runtime.settings import Settings
from runtime.stand_in_idp import SAMPLE_ID_BASE, id_check_digit, stand_in_from_settings
from tests.workflows.helpers import TODAY

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-quic", "--disable-sync", "--lang=zh-CN"]
# A phone's screen: the families' usual device.
PHONE_CONTEXT: dict[str, Any] = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "locale": "zh-CN",
                                  "timezone_id": "Asia/Shanghai"}
SCREENSHOTS = Path(os.environ.get("SHENHOU_SCREENSHOTS", "/tmp/shenhou-portal-screenshots"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Portal:
    url: str
    services: PortalServices

    @property
    def settings(self) -> Settings:
        return self.services.settings


class _QuietServer(uvicorn.Server):
    """Serves in the test's event loop without taking over the process's signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def served(app: Any, port: int, **options: Any) -> AsyncIterator[None]:
    server = _QuietServer(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False,
                                         lifespan="off", **options))
    serving = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started or serving.done():
            break
        await asyncio.sleep(0.01)
    assert server.started, "the server did not start"
    try:
        yield
    finally:
        server.should_exit = True
        await serving


def portal_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for a portal on a free port, signing in with the stand-in provider on another."""
    values: dict[str, Any] = {"data_dir": tmp_path / "data", "portal_max_upload_bytes": 2 * 1024 * 1024,
                              "portal_port": free_port(), "stand_in_idp_port": free_port()}
    return Settings(**{**values, **overrides})


@contextlib.asynccontextmanager
async def serve_portal(services: PortalServices) -> AsyncIterator[Portal]:
    """The portal as `python -m portal` serves it (uvicorn; X-Forwarded-For believed only from the configured
    trusted proxies: none by default), and the stand-in identity provider as `scripts/run` starts it."""
    from portal.__main__ import uvicorn_proxy_options

    settings = services.settings
    async with served(stand_in_from_settings(settings), settings.stand_in_idp_port), \
            served(create_app(services), settings.portal_port, **uvicorn_proxy_options(settings)):
        yield Portal(url=f"http://127.0.0.1:{settings.portal_port}", services=services)


@pytest.fixture
async def portal(
    client: Client, keys: Keys, task_queue: str, engine: Engine, calendar: WorkingDayCalendar, tmp_path: Path,
) -> AsyncIterator[Portal]:
    settings = portal_settings(tmp_path, task_queue=task_queue)
    services = PortalServices(settings=settings, policy=Policy(), keys=keys, client=client, engine=engine,
                              calendar=calendar, today=lambda: TODAY)
    async with serve_portal(services) as served_portal:
        yield served_portal


# --- people who sign in ---------------------------------------------------------------------------

_person_seed = iter(range(1000, 9999))


def new_id_number() -> str:
    """A well-formed 身份证号码 of its own for each signed-in person in a test."""
    base = SAMPLE_ID_BASE[:-4] + f"{next(_person_seed):04d}"
    return base + id_check_digit(base)


def token_of(page: str) -> str:
    """The CSRF token a portal form carries."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "the page carries a CSRF token"
    return match.group(1)


async def http_sign_in(http: httpx.AsyncClient, portal_url: str, name: str, id_number: str,
                       then: str = "/apply") -> httpx.Response:
    """Sign in through the stand-in provider as a browser would (following each redirect by hand); the
    portal's answer after the callback."""
    to_provider = await http.get(f"{portal_url}/signin", params={"then": then})
    assert to_provider.status_code == 303
    sign_in_page = await http.get(to_provider.headers["location"])
    assert sign_in_page.status_code == 200
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', sign_in_page.text))
    back = await http.post(to_provider.headers["location"].split("?")[0],
                           data={**{k: v.replace("&amp;", "&") for k, v in fields.items()},
                                 "name": name, "id_number": id_number})
    assert back.status_code == 303
    return await http.get(back.headers["location"])


async def browser_sign_in(page: Any, portal: Portal, name: str, id_number: str, *, consent: bool = True) -> None:
    """On the page asking for sign-in: the stand-in's sign-in page, then (for /apply) the consent page."""
    await page.click('main a[href^="/signin"]')
    await page.wait_for_url(re.compile(r".*/authorize\?.*"))
    await page.fill('[name="name"]', name)
    await page.fill('[name="id_number"]', id_number)
    await page.click('form[action="/authorize"] button[type="submit"]')
    await page.wait_for_url(f"{portal.url}/apply")
    if consent:
        await page.check('input[name="agree"]')
        await page.click('main button[type="submit"]')
        await page.wait_for_url(f"{portal.url}/apply")


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    playwright = pytest.importorskip("playwright.async_api")
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required for the portal's browser tests in CI")
        pytest.skip("Debian's chromium is missing (scripts/test installs it)")
    async with playwright.async_playwright() as p:
        launched = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


async def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


# --- scanned materials: tiny files that are what they claim to be ---------------------------------


def png_bytes(seed: int) -> bytes:
    """A valid 1x1 PNG whose pixel depends on ``seed`` (so each file has its own sha256)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pixel = bytes([0, seed % 256, (seed // 256) % 256, 200])
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(pixel)) + chunk(b"IEND", b""))


def pdf_bytes(seed: int) -> bytes:
    """A one-page PDF (its page size depends on ``seed``), as a scanner writes one."""
    writer = PdfWriter()
    writer.add_blank_page(width=595 + seed % 100, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def jpeg_bytes(seed: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (seed % 256, (seed * 7) % 256, 90)).save(out, format="JPEG")
    return out.getvalue()


def scans(folder: Path, kinds: list[str]) -> dict[str, Path]:
    """One file per material kind, alternating PDF, JPEG and PNG."""
    folder.mkdir(parents=True, exist_ok=True)
    makers = ((".pdf", pdf_bytes), (".jpg", jpeg_bytes), (".png", png_bytes))
    files = {}
    for index, kind in enumerate(kinds):
        suffix, make = makers[index % 3]
        path = folder / f"{kind}{suffix}"
        path.write_bytes(make(index + 1))
        files[kind] = path
    return files
