"""The dispatcher delivers every outbox message once: through a real HTTP gateway (a local server here) that
fails, refuses a number, or is left hanging by a killed dispatcher; and through the stand-in file."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from domain.enums import Department
from domain.policy import Policy, StaffContacts
from domain.query_code import query_code
from notify.channels import FileChannel, GatewayChannel, Outgoing, delivered_lines
from notify.dispatcher import NO_NUMBER, DispatchConfig, Dispatcher, idempotency_key
from register.sealing import Sealer, UnsealError
from tests.factories import APPLICANT_PHONE
from tests.notify.conftest import CASE, QUERY_KEY, TOKEN, Clock, Gateway, aware, b64, rows, seed_case

ROOT = Path(__file__).resolve().parents[2]
RACERS = 4
RACE_CASES = [f"SH-RACE{letter * 8}" for letter in "ABCDEFGH"]


def gateway_dispatcher(engine: Engine, gateway: Gateway, clock: Clock, **config: Any) -> Dispatcher:
    return Dispatcher(engine, GatewayChannel(gateway.url, TOKEN), Policy(), QUERY_KEY, clock=clock,
                      config=DispatchConfig(**config))


async def test_a_gateway_that_fails_twice_then_succeeds(engine: Engine, gateway: Gateway) -> None:
    [row] = seed_case(engine, (("case_received", "family", None),))
    clock = Clock()
    started = clock.now
    dispatcher = gateway_dispatcher(engine, gateway, clock, backoff=DispatchConfig().backoff)
    gateway.fail_next = 2

    assert await dispatcher.run_once() == 1
    [after] = rows(engine)
    assert after.sent_at is None and after.attempts == 1 and "HTTP 503" in (after.last_error or "")
    assert aware(after.next_attempt_at) == started + DispatchConfig().backoff
    assert await dispatcher.run_once() == 0  # not due yet

    clock.advance(seconds=5)
    assert await dispatcher.run_once() == 1
    [after] = rows(engine)
    assert after.attempts == 2 and aware(after.next_attempt_at) == clock.now + 2 * DispatchConfig().backoff
    clock.advance(seconds=9)
    assert await dispatcher.run_once() == 0  # the backoff doubled

    clock.advance(seconds=1)
    assert await dispatcher.run_once() == 1
    [after] = rows(engine)
    assert aware(after.sent_at) == clock.now and after.failed_at is None and after.lease_owner is None
    # Three tries of one message, all under its one idempotency key; delivered once.
    assert gateway.keys_requested() == [idempotency_key(row)] * 3
    assert list(gateway.delivered) == [idempotency_key(row)]
    assert gateway.delivered[idempotency_key(row)]["to"] == APPLICANT_PHONE
    assert f"查询码{query_code(CASE, QUERY_KEY)}" in gateway.delivered[idempotency_key(row)]["text"]
    clock.advance(days=1)
    assert await dispatcher.run_once() == 0


async def test_a_number_the_gateway_refuses_is_marked_and_not_retried(engine: Engine, gateway: Gateway) -> None:
    seed_case(engine)
    gateway.refuse = {APPLICANT_PHONE}
    clock = Clock()
    dispatcher = gateway_dispatcher(engine, gateway, clock)
    await dispatcher.run_until_idle()
    family = [row for row in rows(engine) if row.recipient == "family"]
    staff = [row for row in rows(engine) if row.recipient != "family"]
    assert all(row.sent_at is None and row.failed_at is not None for row in family)
    assert all(row.failed_reason == "HTTP 422: invalid_number" for row in family)
    assert all(row.sent_at is not None for row in staff)
    asked = len(gateway.requests)
    clock.advance(days=3)
    await dispatcher.run_until_idle()
    assert len(gateway.requests) == asked  # refused for good: never asked again


async def test_a_message_that_keeps_failing_is_given_up_after_the_configured_attempts(
    engine: Engine, gateway: Gateway
) -> None:
    seed_case(engine, (("case_completed", "family", None),))
    gateway.fail_next = 100
    clock = Clock()
    dispatcher = gateway_dispatcher(engine, gateway, clock, max_attempts=3)
    for _ in range(5):
        await dispatcher.run_once()
        clock.advance(hours=1)
    [row] = rows(engine)
    assert row.sent_at is None and row.attempts == 3 and len(gateway.requests) == 3
    assert (row.failed_reason or "").startswith("gave up after 3 attempts: HTTP 503")


async def test_staff_get_the_numbers_the_county_configured_and_no_query_code(engine: Engine, tmp_path: Path) -> None:
    seed_case(engine)
    contacts = StaffContacts(departments={Department.HRSS: "13800000001"},
                             department_heads={Department.NHSA: "13800000002"}, supervisor="13800000003")
    sms = tmp_path / "sms.jsonl"
    await Dispatcher(engine, FileChannel(sms), Policy(contacts=contacts), QUERY_KEY).run_until_idle()
    sent = {line["idempotency_key"]: line for line in delivered_lines(sms)}
    by_kind = {row.kind: sent[idempotency_key(row)] for row in rows(engine)}
    assert by_kind["deadline_warning"]["to"] == "13800000001"
    assert by_kind["deadline_overdue"]["to"] == "13800000002"
    assert by_kind["supervision"]["to"] == "13800000003"
    assert {by_kind[k]["to"] for k in ("case_received", "hukou_cancelled", "case_completed")} == {APPLICANT_PHONE}
    code = query_code(CASE, QUERY_KEY)
    assert [kind for kind, line in by_kind.items() if code in line["text"]] == ["case_received"]


async def test_a_message_without_a_number_is_marked(engine: Engine, tmp_path: Path) -> None:
    # The funeral home opened the case; no family application (and no phone) yet.
    seed_case(engine, (("case_completed", "family", None),), with_application=False)
    await Dispatcher(engine, FileChannel(tmp_path / "sms.jsonl"), Policy(), QUERY_KEY).run_until_idle()
    [row] = rows(engine)
    assert row.failed_reason == NO_NUMBER and row.sent_at is None


async def test_the_family_is_reached_at_its_sealed_number(engine: Engine, sealer: Sealer, tmp_path: Path) -> None:
    seed_case(engine, sealer=sealer)
    sms = tmp_path / "sms.jsonl"
    await Dispatcher(engine, FileChannel(sms), Policy(), QUERY_KEY, sealer=sealer).run_until_idle()
    sent = {line["idempotency_key"]: line["to"] for line in delivered_lines(sms)}
    family = [row for row in rows(engine) if row.recipient == "family"]
    assert family and all(row.sent_at is not None for row in family)
    assert {sent[idempotency_key(row)] for row in family} == {APPLICANT_PHONE}


async def test_without_the_key_a_family_message_waits_and_is_not_given_up(
    engine: Engine, sealer: Sealer, tmp_path: Path
) -> None:
    seed_case(engine, (("case_received", "family", None),), sealer=sealer)
    sms = tmp_path / "sms.jsonl"
    clock = Clock()
    with pytest.raises(UnsealError):
        await Dispatcher(engine, FileChannel(sms), Policy(), QUERY_KEY, clock=clock).run_once()
    [row] = rows(engine)
    assert row.sent_at is None and row.failed_at is None and not delivered_lines(sms)

    clock.advance(seconds=DispatchConfig().lease.total_seconds())
    await Dispatcher(engine, FileChannel(sms), Policy(), QUERY_KEY, sealer=sealer, clock=clock).run_until_idle()
    [row] = rows(engine)
    assert row.sent_at is not None
    assert [line["to"] for line in delivered_lines(sms)] == [APPLICANT_PHONE]


class Killed(BaseException):
    """The process dies here: between the channel taking a message and ``sent_at`` being written."""


class DiesAfterSending:
    def __init__(self, inner: FileChannel, on_message: int) -> None:
        self.inner = inner
        self.on_message = on_message
        self.count = 0

    async def send(self, message: Outgoing) -> None:
        await self.inner.send(message)
        self.count += 1
        if self.count == self.on_message:
            raise Killed

    async def aclose(self) -> None:
        return None


async def test_stand_in_file_after_a_crash_between_sending_and_marking(engine: Engine, tmp_path: Path) -> None:
    seed_case(engine)
    sms = tmp_path / "sms.jsonl"
    clock = Clock()
    with pytest.raises(Killed):
        await Dispatcher(engine, DiesAfterSending(FileChannel(sms), 3), Policy(), QUERY_KEY, clock=clock
                         ).run_until_idle()
    assert [row.sent_at is not None for row in rows(engine)] == [True, True, False, False, False, False]
    # The third message is in the file but not marked; while its lease runs nobody takes it.
    restarted = Dispatcher(engine, FileChannel(sms), Policy(), QUERY_KEY, clock=clock)
    await restarted.run_until_idle()
    assert rows(engine)[2].sent_at is None
    clock.advance(seconds=DispatchConfig().lease.total_seconds())
    await restarted.run_until_idle()
    assert all(row.sent_at is not None for row in rows(engine))
    keys = [line["idempotency_key"] for line in delivered_lines(sms)]
    assert sorted(keys) == sorted(idempotency_key(row) for row in rows(engine))  # each once


async def test_a_leased_message_is_not_taken_by_a_second_dispatcher(engine: Engine, tmp_path: Path) -> None:
    seed_case(engine, (("case_received", "family", None),))
    sms = tmp_path / "sms.jsonl"
    clock = Clock()
    second = Dispatcher(engine, FileChannel(sms), Policy(), QUERY_KEY, clock=clock)
    seen: list[int] = []

    class Slow:
        """The first dispatcher's channel: while it sends, the second one looks for work."""

        async def send(self, message: Outgoing) -> None:
            seen.append(await second.run_once())
            clock.advance(seconds=DispatchConfig().lease.total_seconds())
            seen.append(await second.run_once())  # the lease ended: it resends, under the same key
            await FileChannel(sms).send(message)

        async def aclose(self) -> None:
            return None

    await Dispatcher(engine, Slow(), Policy(), QUERY_KEY, clock=clock).run_until_idle()
    assert seen == [0, 1]
    assert len(delivered_lines(sms)) == 1
    assert rows(engine)[0].sent_at is not None


class Racing(Dispatcher):
    """A dispatcher that, on its first round, waits for the others before claiming: they all hold the same
    list of due messages and then claim them in the same order, so every claim is contested."""

    def __init__(self, engine: Engine, channel: GatewayChannel, start: threading.Barrier, owner: str) -> None:
        super().__init__(engine, channel, Policy(), QUERY_KEY, owner=owner)
        self.channel = channel
        self._start: threading.Barrier | None = start
        self.due_first: list[int] = []

    def _due(self) -> list[int]:
        due = super()._due()
        if self._start is not None:
            self.due_first = due
            self._start.wait(timeout=60)
            self._start = None
        return due


async def test_dispatchers_claiming_at_once_deliver_each_message_once(engine: Engine, gateway: Gateway) -> None:
    seeded = [row for number in RACE_CASES for row in seed_case(engine, case_number=number)]
    assert len(seeded) <= DispatchConfig().batch_size  # one round holds them all
    start = threading.Barrier(RACERS)

    def run(dispatcher: Racing) -> int:
        """One dispatcher process, as it were: its own thread, event loop and HTTP client."""

        async def rounds() -> int:
            tried = 0
            try:
                while found := await dispatcher.run_once():
                    tried += found
            finally:
                await dispatcher.channel.aclose()
            return tried

        return asyncio.run(rounds())

    # A channel per dispatcher, never opened on this loop: its HTTP client belongs to the thread that sends.
    racers = [Racing(engine, GatewayChannel(gateway.url, TOKEN), start, f"dispatcher-{n}") for n in range(RACERS)]
    tried = await asyncio.wait_for(asyncio.gather(*(asyncio.to_thread(run, racer) for racer in racers)), timeout=120)

    keys = sorted(idempotency_key(row) for row in seeded)
    assert all(sorted(racer.due_first) == sorted(row.id for row in seeded if row.id) for racer in racers)
    # Every message was claimed by exactly one of them and sent once: the gateway was asked once per key.
    assert sum(tried) == len(keys)
    assert sorted(gateway.keys_requested()) == keys
    after = [row for number in RACE_CASES for row in rows(engine, number)]
    assert all(row.sent_at is not None and row.lease_owner is None for row in after)


def test_the_stand_in_file_ignores_a_line_cut_short(tmp_path: Path) -> None:
    sms = tmp_path / "sms.jsonl"
    sms.write_bytes(b'{"idempotency_key": "SH-ABCDEFGH2345/a", "to": "1390')
    channel = FileChannel(sms)
    asyncio.run(channel.send(Outgoing("SH-ABCDEFGH2345/a", APPLICANT_PHONE, "一")))
    asyncio.run(channel.send(Outgoing("SH-ABCDEFGH2345/a", APPLICANT_PHONE, "一")))
    assert [line["idempotency_key"] for line in delivered_lines(sms)] == ["SH-ABCDEFGH2345/a"]


# --- a real process, killed mid-batch ------------------------------------------------------------


async def _dispatcher_process(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "notify.dispatcher", *args, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )


async def test_exactly_once_when_the_dispatcher_is_killed_mid_batch(
    engine: Engine, register_url: str, gateway: Gateway, tmp_path: Path
) -> None:
    seeded = seed_case(engine)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SHENHOU_")},
        "SHENHOU_DATABASE_URL": register_url,
        "SHENHOU_DATA_DIR": str(tmp_path / "data"),
        "SHENHOU_SMS_GATEWAY_URL": gateway.url,
        "SHENHOU_SMS_GATEWAY_TOKEN": TOKEN,
        "SHENHOU_QUERY_CODE_KEY": b64(QUERY_KEY),
        "SHENHOU_LOG_JSON": "true",
        # A killed dispatcher's claim may be taken over at once (no waiting in a test).
        "SHENHOU_DISPATCHER_LEASE_SECONDS": "0",
        "SHENHOU_DISPATCHER_POLL_SECONDS": "0.2",
    }
    gateway.hang_on_request = 3
    first = await _dispatcher_process(env)
    try:
        await asyncio.wait_for(gateway.hung.wait(), timeout=60)
    finally:
        first.send_signal(signal.SIGKILL)
        _, first_log = await first.communicate()
    assert first.returncode == -signal.SIGKILL
    assert [row.sent_at is not None for row in rows(engine)] == [True, True, False, False, False, False]

    gateway.hang_on_request = None
    second = await _dispatcher_process(env, "--once")
    _, second_log = await asyncio.wait_for(second.communicate(), timeout=60)
    assert second.returncode == 0, second_log.decode()

    keys = [idempotency_key(row) for row in seeded]
    assert all(row.sent_at is not None for row in rows(engine))
    assert sorted(gateway.delivered) == sorted(keys)  # every message delivered, each once
    asked = Counter(gateway.keys_requested())
    assert asked[keys[2]] == 2 and all(asked[key] == 1 for key in keys if key != keys[2])
    # Phones are masked in the logs; the gateway alone sees them.
    logs = (first_log + second_log).decode()
    assert APPLICANT_PHONE not in logs and "139****1234" in logs
    events = [json.loads(line)["event"] for line in logs.splitlines() if line.startswith("{")]
    assert events.count("notification_sent") == len(keys)


async def test_a_first_start_waits_for_the_register_without_a_failure(tmp_path: Path) -> None:
    from sqlalchemy import create_engine
    from structlog.testing import capture_logs

    from register.engine import create_schema

    # The worker has not created the register yet: an empty database file.
    engine = create_engine(f"sqlite:///{tmp_path / 'register.db'}")
    dispatcher = Dispatcher(engine, FileChannel(tmp_path / "sms.jsonl"), Policy(), QUERY_KEY)
    stopping = asyncio.Event()
    with capture_logs() as logs:
        running = asyncio.create_task(dispatcher.run_forever(stopping, poll_seconds=0.05))
        await asyncio.sleep(0.3)
        # Then the worker creates it, and a message is due: it goes out.
        create_schema(engine)
        seed_case(engine)
        for _ in range(100):
            if (tmp_path / "sms.jsonl").exists():
                break
            await asyncio.sleep(0.05)
        stopping.set()
        await running
    events = [entry["event"] for entry in logs]
    assert "dispatch_round_failed" not in events and events.count("dispatcher_waiting_for_register") == 1
    assert (tmp_path / "sms.jsonl").exists()
    engine.dispose()
