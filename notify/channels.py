"""Where the dispatcher hands a message: an SMS gateway over HTTP, or a local file standing in for one.

Every message carries an idempotency key (the outbox row's case number and key). A channel must deliver a
message with a key it has already delivered at most once: that is what makes a resend after a crash (the
dispatcher died after the gateway took the message and before ``sent_at`` was written) harmless.

The gateway contract (``GatewayChannel``; httpx 0.28, the async HTTP client the project already relies on
in its tests' ecosystem and the most widely used one with timeouts per phase):

    POST <SHENHOU_SMS_GATEWAY_URL>
    Authorization: Bearer <SHENHOU_SMS_GATEWAY_TOKEN>
    Idempotency-Key: <case number>/<outbox key>
    {"to": "13904721234", "text": "...", "idempotency_key": "<same>"}

    2xx                    delivered (or already delivered under this key)
    400, 404, 410, 422     refused for good (e.g. not a mobile number); body {"error": "<code>"}
    anything else, or no answer within the timeout: try again later
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Protocol

import httpx

# Any run of digits long enough to be a phone or card number is masked in a reason we keep or log.
_LONG_DIGITS = re.compile(r"\d{7,}")
_REFUSED_STATUSES = frozenset({400, 404, 410, 422})
REASON_MAX_CHARS = 200


@dataclass(frozen=True)
class Outgoing:
    idempotency_key: str
    phone: str
    text: str


class Refused(Exception):
    """The channel will never deliver this message (e.g. the number does not exist)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Unavailable(Exception):
    """Not delivered now; the same message may be sent again later."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Channel(Protocol):
    async def send(self, message: Outgoing) -> None:
        """Deliver once per idempotency key; raise ``Refused`` or ``Unavailable`` when not delivered."""

    async def aclose(self) -> None: ...


def safe_reason(text: str) -> str:
    """A gateway's reason as we keep and log it: short, one line, no number in it."""
    one_line = " ".join(text.split())
    return _LONG_DIGITS.sub(lambda m: "*" * len(m.group()), one_line)[:REASON_MAX_CHARS]


class GatewayChannel:
    """An HTTP SMS gateway (the contract is in the module docstring)."""

    def __init__(self, url: str, token: str, *, timeout_seconds: float = 10.0,
                 client: httpx.AsyncClient | None = None) -> None:
        self._url = url
        self._token = token
        self._client = client or httpx.AsyncClient(timeout=httpx.Timeout(timeout_seconds))

    async def send(self, message: Outgoing) -> None:
        headers = {"Idempotency-Key": message.idempotency_key}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        body = {"to": message.phone, "text": message.text, "idempotency_key": message.idempotency_key}
        try:
            response = await self._client.post(self._url, json=body, headers=headers)
        except httpx.HTTPError as err:
            raise Unavailable(safe_reason(f"gateway unreachable: {type(err).__name__}")) from err
        if response.is_success:
            return
        reason = safe_reason(f"HTTP {response.status_code}: {_error_code(response)}")
        if response.status_code in _REFUSED_STATUSES:
            raise Refused(reason)
        raise Unavailable(reason)

    async def aclose(self) -> None:
        await self._client.aclose()


def _error_code(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.reason_phrase or ""
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return str(data["error"])
    return response.reason_phrase or ""


class FileChannel:
    """The stand-in for a gateway on one machine: one JSON line per delivered message, appended to a file
    (``JsonLinesOnce``: a key already in the file is not written again)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = JsonLinesOnce(path)

    async def send(self, message: Outgoing) -> None:
        entry = {"to": message.phone, "text": message.text, "at": datetime.now(UTC).isoformat()}
        try:
            await asyncio.to_thread(self._file.append, message.idempotency_key, entry)
        except OSError as err:
            raise Unavailable(f"cannot write {self.path.name}: {err.strerror}") from err

    async def aclose(self) -> None:
        return None


class JsonLinesOnce:
    """A file of JSON lines, each with its ``idempotency_key``, written at most once per key.

    The file is locked while it is read and appended, so several writers may share it; a line cut short by
    a crash is ignored and does not count.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._known: set[str] = set()
        self._read_up_to = 0

    def append(self, key: str, entry: Mapping[str, object]) -> bool:
        """Append ``entry`` under ``key`` unless the key is already there; whether it was written."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "r+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            self._catch_up(handle)
            if key in self._known:
                return False
            line = json.dumps({"idempotency_key": key, **entry}, ensure_ascii=False).encode() + b"\n"
            end = handle.seek(0, os.SEEK_END)
            if end and not self._ends_with_newline(handle, end):
                line = b"\n" + line
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
            self._known.add(key)
            self._read_up_to = handle.tell()
            return True

    def _catch_up(self, handle: IO[bytes]) -> None:
        """Learn the keys other writers (or an earlier run) appended since we last looked."""
        handle.seek(self._read_up_to)
        data = handle.read()
        complete = data.rfind(b"\n") + 1
        for raw in data[:complete].splitlines():
            key = _key_of(raw)
            if key is not None:
                self._known.add(key)
        self._read_up_to += complete

    @staticmethod
    def _ends_with_newline(handle: IO[bytes], end: int) -> bool:
        handle.seek(end - 1)
        return handle.read(1) == b"\n"


def _key_of(raw: bytes) -> str | None:
    try:
        entry = json.loads(raw)
    except ValueError:
        return None
    key = entry.get("idempotency_key") if isinstance(entry, dict) else None
    return key if isinstance(key, str) else None


def delivered_lines(path: Path) -> list[dict[str, str]]:
    """Every complete line of a stand-in file (what the gateway would have sent), for people and tests."""
    if not path.exists():
        return []
    lines = []
    for raw in path.read_bytes().splitlines():
        try:
            entry = json.loads(raw)
        except ValueError:
            continue
        if isinstance(entry, dict):
            lines.append(entry)
    return lines
