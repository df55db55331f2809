"""Scanned materials uploaded through the portal: checked by content and size, kept until the form is clean.

Each upload is stored once under its sha256 in a staging folder, and the page carries a signed token for
it, so a form sent back with problems keeps the files already uploaded (the family does not upload eight
scans again for one typo). On acceptance, intake reads them from there and stores them in the
content-addressed materials store exactly as the window's CLI does (``starter/forms.py``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from itsdangerous import BadSignature, URLSafeSerializer

from domain.enums import MaterialKind

_CHUNK = 1024 * 1024
STAGING_HOURS = 24

# The formats a scan may have, by their first bytes (a file's name or declared type proves nothing).
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "PDF"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
)


class UploadProblem(Exception):
    """An upload that cannot be used; the message is Chinese and names no file."""


class Readable(Protocol):
    async def read(self, size: int = -1) -> bytes: ...


@dataclass(frozen=True)
class Staged:
    kind: MaterialKind
    sha256: str
    size: int
    format: str


def sniff(head: bytes) -> str | None:
    for signature, name in _SIGNATURES:
        if head.startswith(signature):
            return name
    return None


class Staging:
    def __init__(self, folder: Path, secret: bytes, max_bytes: int) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self._tokens = URLSafeSerializer(secret, salt="shenhou-portal-staged")

    async def accept(self, kind: MaterialKind, upload: Readable) -> Staged:
        """Stream one upload into the staging folder; refuse it when too large or not a PDF/JPEG/PNG."""
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._sweep()
        fd, tmp_name = tempfile.mkstemp(dir=self.folder, prefix=".upload-")
        tmp = Path(tmp_name)
        try:
            digest, size, head = hashlib.sha256(), 0, b""
            with os.fdopen(fd, "wb") as out:
                while chunk := await upload.read(_CHUNK):
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise UploadProblem(f"文件超过{self.max_bytes // (1024 * 1024)}MB，请压缩后重新上传")
                    if len(head) < 16:
                        head += chunk[: 16 - len(head)]
                    digest.update(chunk)
                    out.write(chunk)
            if size == 0:
                raise UploadProblem("文件为空，请重新上传")
            kind_of_file = sniff(head)
            if kind_of_file is None:
                raise UploadProblem("文件不是PDF、JPEG或PNG格式，请上传扫描件或照片")
            sha256 = digest.hexdigest()
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.folder / sha256)
            return Staged(kind=kind, sha256=sha256, size=size, format=kind_of_file)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    def token(self, staged: Staged) -> str:
        return self._tokens.dumps([staged.kind.value, staged.sha256, staged.size, staged.format])

    def from_token(self, kind: MaterialKind, token: str) -> Staged | None:
        """A file uploaded earlier in this form, if the token is ours, names this kind and the file is still here."""
        try:
            value = self._tokens.loads(token)
        except BadSignature:
            return None
        if not (isinstance(value, list) and len(value) == 4 and value[0] == kind.value):
            return None
        _, sha256, size, fmt = value
        if not (self.folder / str(sha256)).is_file():
            return None
        return Staged(kind=kind, sha256=str(sha256), size=int(size), format=str(fmt))

    def _sweep(self) -> None:
        """Forget uploads of forms never completed (accepted ones are in the materials store by then)."""
        cutoff = time.time() - STAGING_HOURS * 3600
        for entry in self.folder.iterdir():
            with contextlib.suppress(OSError):
                if entry.stat().st_mtime < cutoff:
                    entry.unlink()
