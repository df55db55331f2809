"""Scans for staff: the codec server serves a material's scan by its SHA-256 (``GET /materials/<sha256>``),
which a matter's page links to (domain/brief.py).

Who may open one: on the embedded default (no sign-in) only the machine itself (a loopback client), which
``scripts/run`` serves; a codec server that authenticates staff serves none (a link from the Web UI carries no
bearer token; opening scans there is left to the department's own systems). Each scan served is logged with
its hash prefix and the client, never its content. The store keeps files by the SHA-256 of their content,
sealed (the portal's) or as the window stored them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from register.sealing import BLOB_PREFIX, SCAN_PLACE, Sealer, UnsealError
from runtime.settings import Settings

_SHA256 = re.compile(r"[0-9a-f]{64}")
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


def materials_dir(settings: Settings) -> Path:
    """The materials store: scans by SHA-256."""
    return settings.data_dir / "materials"


def scan_url(codec_server_port: int) -> str:
    """Where the embedded default's codec server serves scans."""
    return f"http://127.0.0.1:{codec_server_port}/materials/"
