"""What an uploaded scan must be, and how it is kept.

* Images (JPEG, PNG) are decoded with Pillow and encoded again from their pixels: whatever was glued to the
  file (a program after the image data, metadata, comments) is not in what is kept. EXIF orientation is
  applied first, so a phone photo stays upright without its metadata.
* PDFs are parsed with pypdf; one that is not a readable document with pages, is encrypted, or carries
  JavaScript, launch or other dangerous actions, or embedded files, anywhere in its object graph, is
  refused. An accepted PDF is written again from its pages only (pypdf), which drops anything outside them
  (data after ``%%EOF``, unreferenced objects, document metadata).
* What is kept is sealed at rest with the register's key ring (``register/sealing.py``: the active key, AES-
  256-GCM), in the staging folder and in the materials store alike; ``open_scan`` reads one back.
* Scans are deleted ``scan_retention_days`` after they were stored (``purge_old``), staged uploads after
  ``portal_staging_minutes``.
"""

from __future__ import annotations

import contextlib
import io
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, PdfObject

from register.sealing import SCAN_PLACE, Sealer

MAX_PIXELS = 40_000_000
MAX_PDF_PAGES = 100
MAX_PDF_OBJECTS = 200_000
# Keys that carry scripts, launch actions, embedded files or active content, wherever they appear.
_FORBIDDEN_KEYS = frozenset({
    "/JS", "/JavaScript", "/Launch", "/EmbeddedFile", "/EmbeddedFiles", "/RichMedia", "/RichMediaContent",
    "/XFA",
})
# Action types (the value of /S) a scan has no business carrying.
_FORBIDDEN_ACTIONS = frozenset({
    "/JavaScript", "/Launch", "/ImportData", "/SubmitForm", "/RichMediaExecute", "/Rendition", "/Sound",
    "/Movie", "/GoToE",
})
_FORBIDDEN_TYPES = frozenset({"/EmbeddedFile", "/Filespec"})


class ScanRefused(Exception):
    """The file is not a scan the portal keeps; the message is Chinese and names no file."""


@dataclass(frozen=True)
class Cleaned:
    data: bytes
    format: str


def clean(data: bytes) -> Cleaned:
    """The scan as it will be kept, or ``ScanRefused``."""
    if data.startswith(b"%PDF-"):
        return Cleaned(_clean_pdf(data), "PDF")
    if data.startswith(b"\xff\xd8\xff") or data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _clean_image(data)
    raise ScanRefused("文件不是PDF、JPEG或PNG格式，请上传扫描件或照片")


def _clean_image(data: bytes) -> Cleaned:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=["JPEG", "PNG"]) as image:
                fmt = image.format
                if image.width * image.height > MAX_PIXELS:
                    raise ScanRefused("图片尺寸过大，请缩小后重新上传")
                image.load()
                upright = ImageOps.exif_transpose(image)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombWarning,
            Image.DecompressionBombError):
        raise ScanRefused("图片文件已损坏或无法识别，请重新拍照或扫描后上传") from None
    out = io.BytesIO()
    if fmt == "JPEG":
        if upright.mode not in ("RGB", "L"):
            upright = upright.convert("RGB")
        upright.save(out, format="JPEG", quality=90)
    else:
        if upright.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I;16"):
            upright = upright.convert("RGBA")
        upright.save(out, format="PNG", optimize=False)
    return Cleaned(out.getvalue(), "JPEG" if fmt == "JPEG" else "PNG")


def _clean_pdf(data: bytes) -> bytes:
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise ScanRefused("PDF文件已加密，请上传未加密的扫描件")
        pages = len(reader.pages)
        if pages == 0:
            raise ScanRefused("PDF文件没有页面，请重新扫描后上传")
        if pages > MAX_PDF_PAGES:
            raise ScanRefused(f"PDF文件超过{MAX_PDF_PAGES}页，请分开上传")
        if _dangerous(reader.trailer):
            raise ScanRefused("PDF文件含有脚本、动作或嵌入文件，请上传普通扫描件")
        writer = PdfWriter()
        for page in reader.pages:
            writer.add_page(page)
        out = io.BytesIO()
        writer.write(out)
    except ScanRefused:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError, OSError,
            AssertionError, IndexError, ZeroDivisionError):
        raise ScanRefused("PDF文件已损坏或无法识别，请重新扫描后上传") from None
    return out.getvalue()


def _dangerous(root: PdfObject) -> bool:
    """Whether anything reachable from ``root`` is a script, an action a scan should not have, or a file."""
    seen: set[tuple[int, int]] = set()
    stack: list[PdfObject] = [root]
    visited = 0
    while stack:
        item = stack.pop()
        visited += 1
        if visited > MAX_PDF_OBJECTS:
            raise ScanRefused("PDF文件结构过于复杂，请重新扫描后上传")
        if isinstance(item, IndirectObject):
            ref = (item.idnum, item.generation)
            if ref in seen:
                continue
            seen.add(ref)
            target = item.get_object()
            if target is not None:
                stack.append(target)
        elif isinstance(item, DictionaryObject):
            for key, value in item.items():
                if str(key) in _FORBIDDEN_KEYS:
                    return True
                if key == "/S" and isinstance(value, NameObject) and str(value) in _FORBIDDEN_ACTIONS:
                    return True
                if key == "/Type" and isinstance(value, NameObject) and str(value) in _FORBIDDEN_TYPES:
                    return True
                stack.append(value)
        elif isinstance(item, ArrayObject):
            stack.extend(item)
    return False


def seal(sealer: Sealer, data: bytes) -> bytes:
    return sealer.seal_bytes(data, SCAN_PLACE)


def open_scan(sealer: Sealer, path: Path) -> bytes:
    """A stored scan's content (for a clerk's tool, or a department's export)."""
    return sealer.unseal_bytes(path.read_bytes(), SCAN_PLACE)


def purge_old(folder: Path, max_age_seconds: float, now: float | None = None) -> int:
    """Delete the files in ``folder`` older than ``max_age_seconds``; the number deleted."""
    if not folder.is_dir():
        return 0
    cutoff = (time.time() if now is None else now) - max_age_seconds
    deleted = 0
    for entry in folder.iterdir():
        with contextlib.suppress(OSError):
            if entry.is_file() and entry.stat().st_mtime < cutoff:
                entry.unlink()
                deleted += 1
    return deleted
