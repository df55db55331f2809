"""Scans for staff: the codec server serves a material's scan by its SHA-256 (``GET /materials/<sha256>``),
which a matter's page links to (domain/brief.py).

Who may open one: on the embedded default (no sign-in) only the machine itself (a loopback client), which
``scripts/run`` serves. A codec server that signs staff in serves a scan only to a verified officer of a
department the scan's case involves, or an operator (runtime/codec_server.py, ``_material_scan``): the link
opens a page that asks for the scan with the signed-in user's bearer token, so nothing in the link gives
authority. Each scan served or refused is logged with its hash prefix and who asked, never its content.

The store keeps files by the SHA-256 of their content, sealed (the portal's) or as the window stored them, and
next to each ``<sha256>.departments``: the departments of the matters of every application that attached it
(department codes only, one a line; no case number, no personal data), written when the application is
accepted (client/intake.py).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from domain.enums import Department
from register.sealing import BLOB_PREFIX, SCAN_PLACE, Sealer, UnsealError
from runtime.settings import Settings

_SHA256 = re.compile(r"[0-9a-f]{64}")
DEPARTMENTS_SUFFIX = ".departments"
_DEPARTMENTS = {department.value: department for department in Department}
_TYPES = ((b"%PDF", "application/pdf"), (b"\x89PNG", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))


@dataclass(frozen=True)
class MaterialStore:
    folder: Path
    sealer: Sealer

    def read(self, sha256: str) -> tuple[bytes, str] | None:
        """A scan's content and media type; None when the name is no SHA-256 or nothing is stored under it."""
        if not _SHA256.fullmatch(sha256):
            return None
        path = self.folder / sha256
        try:
            data = path.read_bytes()
        except OSError:
            return None
        if data.startswith(BLOB_PREFIX):
            try:
                data = self.sealer.unseal_bytes(data, SCAN_PLACE)
            except UnsealError:
                return None
        media = next((kind for magic, kind in _TYPES if data.startswith(magic)), "application/octet-stream")
        return data, media

    def departments(self, sha256: str) -> frozenset[Department]:
        """The departments of the cases that attached this scan; empty when none is recorded."""
        if not _SHA256.fullmatch(sha256):
            return frozenset()
        try:
            lines = (self.folder / f"{sha256}{DEPARTMENTS_SUFFIX}").read_text().split()
        except OSError:
            return frozenset()
        return frozenset(_DEPARTMENTS[line] for line in lines if line in _DEPARTMENTS)


def record_departments(folder: Path, sha256s: Iterable[str], departments: Iterable[Department]) -> None:
    """Add ``departments`` to each scan's index (a scan two applications attached is both cases'). Lines are
    appended, so two intakes at once lose none."""
    wanted = {department.value for department in departments}
    for sha256 in sha256s:
        if not _SHA256.fullmatch(sha256):
            continue
        path = folder / f"{sha256}{DEPARTMENTS_SUFFIX}"
        known: set[str] = set()
        with contextlib.suppress(OSError):
            known = set(path.read_text().split())
        missing = sorted(wanted - known)
        if missing:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a") as out:
                out.write("".join(f"{line}\n" for line in missing))


def materials_dir(settings: Settings) -> Path:
    """The materials store: scans by SHA-256."""
    return settings.materials_dir or settings.data_dir / "materials"


def scan_url(codec_server_port: int) -> str:
    """Where the embedded default's codec server serves scans."""
    return f"http://127.0.0.1:{codec_server_port}/materials/"
