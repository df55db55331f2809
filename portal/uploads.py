"""Scanned materials uploaded through the portal: checked by content and size, kept until the form is clean.

Each upload is read (at most the per-file limit), checked and cleaned (``portal/scans.py``: images encoded
again, PDFs parsed and written again from their pages), sealed with the register's key ring, and stored once
in a staging folder under the sha256 of what is stored; the page carries a signed token for it, so a form
sent back with problems keeps the files already uploaded (the family does not upload eight scans again for
one typo). On acceptance, intake stores them in the content-addressed materials store exactly as the window's
CLI does (``client/materials.py``), and the staged copies are deleted; uploads of forms never completed are
deleted after ``portal_staging_minutes``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from itsdangerous import BadSignature, URLSafeSerializer
from starlette.concurrency import run_in_threadpool

from domain.enums import MaterialKind
from portal import scans
from register.sealing import Sealer

_CHUNK = 1024 * 1024


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


class Staging:
    def __init__(self, folder: Path, secret: bytes, max_bytes: int, sealer: Sealer, keep_seconds: float) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self.keep_seconds = keep_seconds
        self._sealer = sealer
        self._tokens = URLSafeSerializer(secret, salt="shenhou-portal-staged")

    async def accept(self, kind: MaterialKind, upload: Readable) -> Staged:
        """Read one upload (never more than the limit), check and clean it, and stage it sealed."""
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.sweep()
        data = bytearray()
        while chunk := await upload.read(_CHUNK):
            data += chunk
            if len(data) > self.max_bytes:
                raise UploadProblem(f"文件超过{self.max_bytes // (1024 * 1024)}MB，请压缩后重新上传")
        if not data:
            raise UploadProblem("文件为空，请重新上传")
        try:
            cleaned = await run_in_threadpool(scans.clean, bytes(data))
        except scans.ScanRefused as refused:
            raise UploadProblem(str(refused)) from None
        sealed = scans.seal(self._sealer, cleaned.data)
        sha256 = hashlib.sha256(sealed).hexdigest()
        fd, tmp_name = tempfile.mkstemp(dir=self.folder, prefix=".upload-")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(sealed)
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.folder / sha256)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        return Staged(kind=kind, sha256=sha256, size=len(sealed), format=cleaned.format)

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

    def discard(self, names: list[str]) -> None:
        """Delete staged files (once intake has stored them, or when their session ends)."""
        for name in names:
            if len(name) == 64 and all(c in "0123456789abcdef" for c in name):
                with contextlib.suppress(FileNotFoundError):
                    (self.folder / name).unlink()

    def sweep(self) -> int:
        """Forget uploads of forms never completed."""
        return scans.purge_old(self.folder, self.keep_seconds)
