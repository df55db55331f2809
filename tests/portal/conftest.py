"""The portal served for real (uvicorn on a loopback port) against the session's Temporal dev server, this
test's worker and register, with "today" pinned; and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import struct
import zlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy.engine import Engine
from temporalio.client import Client

from activities.calendar import WorkingDayCalendar
from domain.policy import Policy
from portal.app import PortalServices, create_app
from runtime.keys import Keys
from runtime.settings import Settings
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


@pytest.fixture
async def portal(
    client: Client, keys: Keys, task_queue: str, engine: Engine, calendar: WorkingDayCalendar, tmp_path: Path,
) -> AsyncIterator[Portal]:
    settings = Settings(task_queue=task_queue, data_dir=tmp_path / "data", portal_max_upload_bytes=2 * 1024 * 1024)
    services = PortalServices(settings=settings, policy=Policy(), keys=keys, client=client, engine=engine,
                              calendar=calendar, today=lambda: TODAY)
    port = free_port()
    # As `python -m portal` serves it: the client address comes from X-Forwarded-For when the proxy (here the
    # test's browser on loopback) sends one.
    server = _QuietServer(uvicorn.Config(create_app(services), host="127.0.0.1", port=port, log_config=None,
                                         access_log=False, lifespan="off", proxy_headers=True,
                                         forwarded_allow_ips=settings.portal_forwarded_allow_ips))
    serving = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started or serving.done():
            break
        await asyncio.sleep(0.01)
    assert server.started, "the portal did not start"
    try:
        yield Portal(url=f"http://127.0.0.1:{port}", services=services)
    finally:
        server.should_exit = True
        await serving


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
    return (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
            + f"% scan {seed}\n".encode() + b"trailer<</Root 1 0 R>>\n%%EOF\n")


def jpeg_bytes(seed: int) -> bytes:
    header = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return header + bytes([seed % 256]) * 64 + b"\xff\xd9"


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
