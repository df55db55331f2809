"""Server-side sessions: the cookie carries only a random id; what a session holds stays in this process.

A session ends after ``idle_seconds`` without a request, ``absolute_seconds`` after it began at the latest,
and at once on logout (the record is deleted, so an old copy of the cookie opens nothing). Signing in (a
query code, or the identity provider) starts a new session id (``renew``): an id seen before sign-in is
never the signed-in one.

Kept in memory, for one portal process: a restart signs everybody out, and several processes would need a
shared store. Memory is bounded: past ``max_sessions`` the oldest sessions are dropped.

The cookie is HttpOnly, SameSite=Lax (the identity provider sends the browser back with a top-level GET from
its own site: with Strict the callback would arrive without it; every POST carries a CSRF token) and Secure
behind HTTPS.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "shenhou_portal"
# Set in a session to give it a new id at the end of this request (sign-in).
RENEW = "_renew"


@dataclass
class _Record:
    data: dict[str, Any]
    started: float
    seen: float = field(default=0.0)


class SessionStore:
    def __init__(self, idle_seconds: float, absolute_seconds: float, clock: Callable[[], float] = time.monotonic,
                 max_sessions: int = 50_000) -> None:
        self.idle_seconds = idle_seconds
        self.absolute_seconds = absolute_seconds
        self._clock = clock
        self._max = max_sessions
        self._records: OrderedDict[str, _Record] = OrderedDict()
        self._lock = threading.Lock()

    def load(self, sid: str) -> tuple[dict[str, Any], float] | None:
        """The session's data and when it began, or None when there is none (or it has ended)."""
        with self._lock:
            record = self._records.get(sid)
            if record is None:
                return None
            now = self._clock()
            if now - record.seen > self.idle_seconds or now - record.started > self.absolute_seconds:
                del self._records[sid]
                return None
            record.seen = now
            return dict(record.data), record.started

    def save(self, sid: str | None, data: dict[str, Any], started: float | None) -> str:
        """Store ``data`` under ``sid`` (a new id when None); returns the id."""
        with self._lock:
            now = self._clock()
            if sid is None:
                sid = secrets.token_urlsafe(32)
                started = now
                while len(self._records) >= self._max:
                    self._records.popitem(last=False)
            self._records[sid] = _Record(dict(data), started if started is not None else now, now)
            return sid

    def delete(self, sid: str) -> None:
        with self._lock:
            self._records.pop(sid, None)

    def __len__(self) -> int:
        return len(self._records)


class ServerSessions:
    """ASGI middleware: ``request.session`` backed by a ``SessionStore``."""

    def __init__(self, app: ASGIApp, store: SessionStore, *, secure: bool) -> None:
        self.app = app
        self.store = store
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sid = _cookie(scope)
        loaded = self.store.load(sid) if sid else None
        data, started = loaded if loaded is not None else ({}, None)
        if loaded is None:
            sid = None
        scope["session"] = data

        async def send_with_cookie(message: Message) -> None:
            nonlocal sid
            if message["type"] == "http.response.start":
                session: dict[str, Any] = scope["session"]
                renew = bool(session.pop(RENEW, False))
                old = sid
                if renew and sid is not None:
                    self.store.delete(sid)
                    sid = None
                if session:
                    sid = self.store.save(sid, session, None if sid is None else started)
                elif sid is not None:
                    self.store.delete(sid)
                    sid = None
                headers = MutableHeaders(scope=message)
                if sid is not None and sid != old:
                    headers.append("Set-Cookie", self._cookie_header(sid, self.store.absolute_seconds))
                elif sid is None and _cookie(scope):
                    headers.append("Set-Cookie", self._cookie_header("", 0))
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _cookie_header(self, value: str, max_age: float) -> str:
        parts = [f"{COOKIE}={value}", "Path=/", f"Max-Age={int(max_age)}", "HttpOnly", "SameSite=Lax"]
        if self.secure:
            parts.append("Secure")
        return "; ".join(parts)


def _cookie(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            cookies: SimpleCookie = SimpleCookie()
            try:
                cookies.load(value.decode("latin-1"))
            except CookieError:
                return None
            morsel = cookies.get(COOKIE)
            if morsel is not None and morsel.value:
                return morsel.value
    return None
