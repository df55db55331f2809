"""好差评 through the dispatcher: the rating link in the family's decision and 办结 messages, and each rating
forwarded once to the province, through the file adapter and through an HTTP adapter (a local server here),
also after a crash between sending and marking."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from domain.enums import MatterCode
from domain.policy import Policy
from notify.channels import FileChannel, delivered_lines
from notify.dispatcher import DispatchConfig, Dispatcher
from notify.ratings import FILE_NAME, FileAdapter, ForwardConfig, HttpAdapter, RatingForwarder, idempotency_key
from portal.ratings import record
from register.tables import RatingRow
from tests.notify.conftest import CASE, QUERY_KEY, Clock, rows, seed_case

NHSA = MatterCode.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT
RATED_AT = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def rate(engine: Engine, subject: str = NHSA.value, score: int = 4, comment: str = "办理迅速") -> None:
    assert record(engine, CASE, subject, "nhsa" if subject != "case" else "", score, comment, RATED_AT)


def ratings(engine: Engine) -> list[RatingRow]:
    with Session(engine) as session:
        return list(session.exec(select(RatingRow).order_by(RatingRow.id)).all())  # type: ignore[arg-type]


async def test_decision_and_completion_messages_invite_a_rating(engine: Engine, tmp_path: Path) -> None:
    seed_case(engine, (("case_received", "family", None), ("matter_approved", "family", None),
                       ("materials_requested", "family", None), ("matter_rejected", "family", None),
                       ("case_completed", "family", None)))
    sms = tmp_path / "sms.jsonl"
    config = DispatchConfig(portal_url="https://shenhou.example.gov.cn/")
    await Dispatcher(engine, FileChannel(sms), Policy(), QUERY_KEY, config=config).run_until_idle()
    texts = {row.kind: next(line["text"] for line in delivered_lines(sms)
                            if line["idempotency_key"].endswith(row.key)) for row in rows(engine)}
    link = "欢迎评价：https://shenhou.example.gov.cn/rate"
    for kind in ("matter_approved", "matter_rejected", "case_completed"):
        assert texts[kind].endswith(link), texts[kind]
    assert link not in texts["materials_requested"] and link not in texts["case_received"]
    # No code in the link: the family signs in on the portal as usual.
    assert texts["case_completed"] == "第5条通知。" + link


async def test_without_a_portal_address_no_link(engine: Engine, tmp_path: Path) -> None:
    seed_case(engine, (("case_completed", "family", None),))
    sms = tmp_path / "sms.jsonl"
    await Dispatcher(engine, FileChannel(sms), Policy(), QUERY_KEY).run_until_idle()
    assert [line["text"] for line in delivered_lines(sms)] == ["第1条通知。"]


async def test_the_file_adapter_writes_each_rating_once(engine: Engine, tmp_path: Path) -> None:
    rate(engine)
    rate(engine, "case", 5, "")
    assert not record(engine, CASE, "case", "", 1, "", RATED_AT)  # the first one stands
    clock = Clock()
    forwarder = RatingForwarder(engine, FileAdapter(tmp_path / "hcp"), "示例县", clock=clock)
    # The dispatcher forwards ratings in each of its rounds.
    dispatcher = Dispatcher(engine, FileChannel(tmp_path / "sms.jsonl"), Policy(), QUERY_KEY, clock=clock,
                            ratings=forwarder)
    assert await dispatcher.run_once() == 2
    assert await dispatcher.run_once() == 0
    lines = delivered_lines(tmp_path / "hcp" / FILE_NAME)
    assert [line["idempotency_key"] for line in lines] == [f"rating/{CASE}/{NHSA.value}", f"rating/{CASE}/case"]
    first: dict[str, Any] = dict(lines[0])
    assert (first["county"], first["case_number"], first["subject"], first["department"], first["score"],
            first["grade"], first["comment"], first["channel"]) == (
        "示例县", CASE, NHSA.value, "nhsa", 4, "满意", "办理迅速", "portal")
    assert first["rated_at"] == "2026-11-30T08:00:00+00:00" and first["department_name"] == "医保局"
    assert lines[1]["subject_name"] == "身后“一件事一次办”" and lines[1]["grade"] == "非常满意"
    assert all(row.sent_at is not None and row.lease_owner is None for row in ratings(engine))


class Killed(Exception):
    pass


class DiesAfterSending:
    def __init__(self, inner: FileAdapter) -> None:
        self.inner = inner

    async def send(self, key: str, body: dict[str, Any]) -> None:
        await self.inner.send(key, body)
        raise Killed

    async def aclose(self) -> None:
        return None


async def test_a_crash_between_sending_and_marking_sends_again_under_the_same_key(
    engine: Engine, tmp_path: Path,
) -> None:
    rate(engine)
    clock = Clock()
    with pytest.raises(Killed):
        await RatingForwarder(engine, DiesAfterSending(FileAdapter(tmp_path)), "示例县", clock=clock).run_once()
    [row] = ratings(engine)
    assert row.sent_at is None and row.lease_owner is not None
    restarted = RatingForwarder(engine, FileAdapter(tmp_path), "示例县", clock=clock)
    assert await restarted.run_once() == 0  # still leased to the dead one
    clock.advance(seconds=ForwardConfig().lease.total_seconds())
    assert await restarted.run_once() == 1
    [row] = ratings(engine)
    assert row.sent_at is not None
    assert [line["idempotency_key"] for line in delivered_lines(tmp_path / FILE_NAME)] == [idempotency_key(row)]


@dataclass
class Province:
    url: str = ""
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    taken: dict[str, dict[str, Any]] = field(default_factory=dict)
    fail_next: int = 0
    refuse: bool = False

    async def handle(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != "Bearer hcp-token":
            return web.json_response({"error": "unauthorised"}, status=401)
        key = request.headers["Idempotency-Key"]
        body: dict[str, Any] = await request.json()
        self.requests.append((key, body))
        if self.refuse:
            return web.json_response({"error": "bad_subject"}, status=422)
        if self.fail_next > 0:
            self.fail_next -= 1
            return web.json_response({"error": "busy"}, status=503)
        self.taken.setdefault(key, body)
        return web.json_response({"ok": True})


@pytest.fixture
async def province() -> AsyncIterator[Province]:
    found = Province()
    app = web.Application()
    app.router.add_post("/haochaping", found.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    found.url = f"http://127.0.0.1:{runner.addresses[0][1]}/haochaping"
    try:
        yield found
    finally:
        await runner.cleanup()


async def test_the_http_adapter_retries_and_the_province_takes_each_rating_once(
    engine: Engine, province: Province,
) -> None:
    rate(engine)
    clock = Clock()
    adapter = HttpAdapter(province.url, "hcp-token", tries=3, pause_seconds=0)
    forwarder = RatingForwarder(engine, adapter, "示例县", clock=clock)
    # Two failures are retried at once; the third try is taken.
    province.fail_next = 2
    assert await forwarder.run_once() == 1
    key = f"rating/{CASE}/{NHSA.value}"
    assert [k for k, _ in province.requests] == [key] * 3 and list(province.taken) == [key]
    assert province.taken[key]["score"] == 4 and province.taken[key]["idempotency_key"] == key
    assert ratings(engine)[0].sent_at is not None

    # Down for longer than the quick retries: tried again later, by the backoff.
    rate(engine, "case", 2, "")
    province.fail_next = 3
    assert await forwarder.run_once() == 1
    row = ratings(engine)[1]
    assert row.sent_at is None and row.attempts == 1 and "HTTP 503" in (row.last_error or "")
    assert await forwarder.run_once() == 0
    clock.advance(seconds=ForwardConfig().backoff.total_seconds())
    assert await forwarder.run_once() == 1
    assert ratings(engine)[1].sent_at is not None and list(province.taken) == [key, f"rating/{CASE}/case"]
    await adapter.aclose()


async def test_a_rating_the_province_refuses_is_marked_and_not_retried(engine: Engine, province: Province) -> None:
    rate(engine)
    province.refuse = True
    clock = Clock()
    adapter = HttpAdapter(province.url, "hcp-token", pause_seconds=0)
    forwarder = RatingForwarder(engine, adapter, "示例县", clock=clock)
    assert await forwarder.run_once() == 1
    [row] = ratings(engine)
    assert row.failed_at is not None and row.sent_at is None and "HTTP 422" in (row.last_error or "")
    clock.advance(days=1)
    assert await forwarder.run_once() == 0 and len(province.requests) == 1
    await adapter.aclose()
