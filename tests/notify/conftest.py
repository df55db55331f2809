"""A real local HTTP server standing in for the SMS gateway, and a register holding one case's messages.

The register here is parametrized: every test in this folder runs once on SQLite and once on PostgreSQL
(tests/postgres.py), since the outbox's leases are conditional updates whose safety is the database's.
The PostgreSQL database runs in the county's time zone, as a server there would: the register's timestamps
carry no zone, so a lease compared in the wrong zone would be eight hours off.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from register.sealed_fields import sealed_application
from register.sealing import Sealer
from register.tables import CaseRow, OutboxRow
from tests.factories import APPLICANT_PHONE
from tests.postgres import open_register
from tests.workflows.helpers import application

TOKEN = "gateway-token-1"
CASE = "SH-ABCDEFGH2345"
QUERY_KEY = secrets.token_bytes(32)


@pytest.fixture
def engine(register_url: str) -> Iterator[Engine]:
    """The register on both backends (overrides tests/conftest.py's SQLite-only one for this folder)."""
    yield from open_register(register_url, county_zone=True)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@dataclass
class Gateway:
    """Delivers each idempotency key once; can fail, refuse numbers, or take a message and never answer."""

    url: str = ""
    requests: list[dict[str, str]] = field(default_factory=list)
    delivered: dict[str, dict[str, str]] = field(default_factory=dict)
    fail_next: int = 0
    refuse: set[str] = field(default_factory=set)
    hang_on_request: int | None = None
    hung: asyncio.Event = field(default_factory=asyncio.Event)

    def keys_requested(self) -> list[str]:
        return [request["key"] for request in self.requests]

    async def handle(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response({"error": "unauthorised"}, status=401)
        body: dict[str, Any] = await request.json()
        key = request.headers["Idempotency-Key"]
        assert body["idempotency_key"] == key
        self.requests.append({"key": key, "to": body["to"], "text": body["text"]})
        if body["to"] in self.refuse:
            return web.json_response({"error": "invalid_number"}, status=422)
        if self.fail_next > 0:
            self.fail_next -= 1
            return web.json_response({"error": "busy"}, status=503)
        self.delivered.setdefault(key, {"to": body["to"], "text": body["text"]})
        if self.hang_on_request == len(self.requests):
            # The message is taken; the answer never comes (the dispatcher is killed while it waits).
            self.hung.set()
            await asyncio.Event().wait()
        return web.json_response({"id": f"msg-{len(self.delivered)}"})


@pytest.fixture
async def gateway() -> AsyncIterator[Gateway]:
    gw = Gateway()
    app = web.Application()
    app.router.add_post("/sms", gw.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    gw.url = f"http://127.0.0.1:{runner.addresses[0][1]}/sms"
    try:
        yield gw
    finally:
        await runner.cleanup()


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


# (kind, recipient, department) of the messages one case queues, in order.
MESSAGES = (
    ("case_received", "family", None),
    ("deadline_warning", "department", "hrss"),
    ("hukou_cancelled", "family", None),
    ("deadline_overdue", "department_head", "nhsa"),
    ("supervision", "supervisor", None),
    ("case_completed", "family", None),
)


def seed_case(engine: Engine, messages: tuple[tuple[str, str, str | None], ...] = MESSAGES,
              case_number: str = CASE, with_application: bool = True, sealer: Sealer | None = None) -> list[OutboxRow]:
    """The case's application sealed as the worker writes it with ``sealer``; without one, in clear as a
    register from before sealing holds it."""
    now = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    with Session(engine) as session:
        if with_application:
            stored = application().model_dump(mode="json")
            if sealer is not None:
                stored = sealed_application(stored, case_number, sealer)
            session.add(CaseRow(case_number=case_number, channel="window", state="受理",
                                application=stored, received_at=now, updated_at=now))
        for index, (kind, recipient, department) in enumerate(messages):
            session.add(OutboxRow(case_number=case_number, key=f"case/{kind}/{recipient}/{index}", kind=kind,
                                  recipient=recipient, department=department, message=f"第{index + 1}条通知。",
                                  created_at=now))
        session.commit()
    return rows(engine, case_number)


_TIMES = ("created_at", "sent_at", "next_attempt_at", "lease_until", "failed_at")


def rows(engine: Engine, case_number: str = CASE) -> list[OutboxRow]:
    """The case's messages, their times given back the zone they were stored in."""
    with Session(engine) as session:
        found = list(session.exec(
            select(OutboxRow).where(OutboxRow.case_number == case_number).order_by(OutboxRow.id)  # type: ignore[arg-type]
        ).all())
        zone = stored_zone(session)
    for row in found:
        for name in _TIMES:
            value = getattr(row, name)
            if value is not None and value.tzinfo is None:
                setattr(row, name, value.replace(tzinfo=zone))
    return found


def stored_zone(session: Session) -> tzinfo:
    """Timestamps without a zone: SQLite keeps the UTC the dispatcher wrote; PostgreSQL converts what it is
    given to the session's zone."""
    if session.get_bind().dialect.name == "sqlite":
        return UTC
    return ZoneInfo(str(session.exec(text("SHOW TimeZone")).one()[0]))  # type: ignore[call-overload]


def aware(value: datetime | None) -> datetime | None:
    """A time from ``rows``: already carrying its zone (kept for the tests' readability)."""
    assert value is None or value.tzinfo is not None
    return value


__all__ = ["APPLICANT_PHONE"]
