"""`python -m notify.dispatcher`: delivers every message of the register's notification outbox once.

Each message is claimed with a lease (a conditional update, so two dispatchers never hold one message at
once), sent through the channel with its idempotency key, and marked ``sent_at`` only when the channel took
it. A dispatcher that dies between the two leaves the message claimed; when the lease ends it is sent again
with the same key and the channel (gateway or stand-in file) delivers it only once. A failure is retried
with exponential backoff; a number refused for good, or a message that failed too often, is marked
``failed_at`` with the reason and left for staff.

Each round also forwards the families' 好差评 ratings to the province (notify/ratings.py), and the first round of
each day queues the reminders of entitlements about to lapse (notify/lapses.py). A family message
that announces a decision or 办结 gets a short rating link to the portal (``SHENHOU_PORTAL_PUBLIC_URL`` +
``/rate``; no code in it: the family signs in on the portal as usual).

The family's 受理 message gets the query code appended here, at sending time: the code is then in neither
Temporal's history nor the outbox table. Phone numbers are never logged in clear. The family's number is
sealed in the register: the dispatcher opens it with the payload key ring (register/sealing.py), so it needs
``SHENHOU_CODEC_KEYS`` besides the query-code key; a number that does not open fails the round (and is tried
again) instead of giving the message up.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Self

import structlog
from pydantic import ValidationError
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from activities.calendar import WorkingDayCalendar
from client.errors import configuration_problem
from domain.catalogue import active_catalogue
from domain.enums import Department, NotificationKind, Recipient
from domain.policy import Policy
from domain.query_code import query_code
from notify import leases
from notify.channels import Channel, FileChannel, GatewayChannel, Outgoing, Refused, Unavailable
from notify.lapses import LapseSweep
from notify.ratings import RatingForwarder, adapter_for
from register.contacts import family_phone, masked_phone
from register.engine import make_engine
from register.opt_outs import UNSOLICITED, opted_out
from register.sealing import Sealer
from register.tables import CaseRow, OutboxRow
from runtime.keys import load_keys
from runtime.logging import configure_logging
from runtime.policy_file import load_county
from runtime.settings import Settings, get_settings, invalid_setting_names

log = structlog.get_logger()

NO_NUMBER = "no number for this recipient"
# The family applied before its invitation to apply went out: it is not sent.
ALREADY_APPLIED = "the family has already applied"
# The number replied 退订: a message nobody asked for is not sent (register/opt_outs.py).
OPTED_OUT = "the number opted out"
# Family messages after which the family may rate the service (好差评): a decision, and 办结.
RATING_INVITED = frozenset({NotificationKind.MATTER_APPROVED.value, NotificationKind.MATTER_REJECTED.value,
                            NotificationKind.CASE_COMPLETED.value})


@dataclass(frozen=True)
class DispatchConfig(leases.QueueConfig):
    # Appended to the 受理 message when set: where the family follows the case.
    portal_url: str = ""

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return replace(super().from_settings(settings), portal_url=settings.portal_public_url)


def utc_now() -> datetime:
    return datetime.now(UTC)


def idempotency_key(row: OutboxRow) -> str:
    return f"{row.case_number}/{row.key}"


class Dispatcher:
    def __init__(
        self, engine: Engine, channel: Channel, policy: Policy, query_code_key: bytes, *,
        sealer: Sealer | None = None, config: DispatchConfig | None = None, clock: Callable[[], datetime] = utc_now,
        owner: str | None = None, ratings: RatingForwarder | None = None, lapses: LapseSweep | None = None,
    ) -> None:
        self._engine = engine
        self._ratings = ratings
        self._lapses = lapses
        # Without one, only numbers stored before sealing can be read (a sealed one fails the round loudly).
        self._sealer = sealer or Sealer.ephemeral()
        self._channel = channel
        self._policy = policy
        self._query_code_key = query_code_key
        self._config = config or DispatchConfig()
        self._clock = clock
        self.owner = owner or uuid.uuid4().hex[:16]

    async def run_once(self) -> int:
        """Send what is due now (one batch); how many messages were tried."""
        tried = 0
        if self._lapses is not None:
            self._lapses.run_due(self._clock())
        for row_id in self._due():
            row = self._claim(row_id)
            if row is None:
                continue
            tried += 1
            await self._deliver(row)
        if self._ratings is not None:
            tried += await self._ratings.run_once()
        return tried

    async def run_until_idle(self) -> None:
        while await self.run_once():
            pass

    async def run_forever(self, stopping: asyncio.Event, poll_seconds: float) -> None:
        log.info("dispatcher_started", owner=self.owner)
        failures = 0
        waited = False
        while not stopping.is_set():
            if not self._register_ready():
                # A first start: the worker creates the register. Nothing has failed; wait for it quietly.
                if not waited:
                    log.info("dispatcher_waiting_for_register")
                    waited = True
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), timeout=poll_seconds)
                continue
            try:
                tried = await self.run_once()
                failures = 0
            except Exception as err:  # a database hiccup must not end the process: try again after a pause
                failures += 1
                # The first failures are usually the register not being ready yet (the worker creates it).
                log.warning("dispatch_round_failed", error=type(err).__name__, failures=failures,
                            exc_info=failures >= 3)
                tried = 0
            if not tried:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), timeout=poll_seconds)
        log.info("dispatcher_stopped", owner=self.owner)

    def _register_ready(self) -> bool:
        try:
            return inspect(self._engine).has_table(OutboxRow.__tablename__)
        except SQLAlchemyError:
            return False

    # --- claiming ---------------------------------------------------------------------------------

    def _due(self) -> list[int]:
        return leases.due(self._engine, OutboxRow, self._clock(), self._config.batch_size)

    def _claim(self, row_id: int) -> OutboxRow | None:
        return leases.claim(self._engine, OutboxRow, row_id, self.owner, self._clock(), self._config.lease)

    # --- sending ----------------------------------------------------------------------------------

    async def _deliver(self, row: OutboxRow) -> None:
        assert row.id is not None
        where = {"case_number": row.case_number, "kind": row.kind, "recipient": row.recipient,
                 "key": row.key, "attempt": row.attempts + 1}
        if row.kind == NotificationKind.INVITATION.value and self._applied(row.case_number):
            self._give_up(row.id, ALREADY_APPLIED)
            log.info("notification_not_needed", reason=ALREADY_APPLIED, **where)
            return
        phone = self._number_for(row)
        if phone is None:
            self._give_up(row.id, NO_NUMBER)
            log.warning("notification_failed", reason=NO_NUMBER, **where)
            return
        if row.kind in UNSOLICITED and self._opted_out(phone):
            self._give_up(row.id, OPTED_OUT)
            log.info("notification_not_needed", reason=OPTED_OUT, **where)
            return
        outgoing = Outgoing(idempotency_key=idempotency_key(row), phone=phone, text=self._text(row))
        try:
            await self._channel.send(outgoing)
        except Refused as refused:
            self._give_up(row.id, refused.reason)
            log.warning("notification_refused", to=masked_phone(phone), reason=refused.reason, **where)
            return
        except Unavailable as unavailable:
            self._retry_later(row, unavailable.reason)
            log.warning("notification_retry", to=masked_phone(phone), reason=unavailable.reason, **where)
            return
        self._mark_sent(row.id)
        log.info("notification_sent", to=masked_phone(phone), **where)

    def _applied(self, case_number: str) -> bool:
        with Session(self._engine) as session:
            return session.get(CaseRow, case_number) is not None

    def _opted_out(self, phone: str) -> bool:
        with Session(self._engine) as session:
            return opted_out(session, phone, self._sealer)

    def _number_for(self, row: OutboxRow) -> str | None:
        recipient = Recipient(row.recipient)
        if recipient is Recipient.FAMILY:
            with Session(self._engine) as session:
                return family_phone(session, row.case_number, self._sealer)
        department = Department(row.department) if row.department else None
        return self._policy.contacts.number_for(recipient, department)

    def _text(self, row: OutboxRow) -> str:
        if row.kind == NotificationKind.CASE_RECEIVED.value and row.recipient == Recipient.FAMILY.value:
            code = query_code(row.case_number, self._query_code_key)
            where = f"在{self._config.portal_url}" if self._config.portal_url else "在网上"
            return f"{row.message}查询码{code}，凭受理编号和查询码可{where}查询办理进度。"
        if row.kind == NotificationKind.INVITATION.value and self._config.portal_url:
            return row.message.replace("在网上", f"在网上（{self._config.portal_url}）", 1)
        if row.kind in RATING_INVITED and row.recipient == Recipient.FAMILY.value and self._config.portal_url:
            return f"{row.message}欢迎评价：{self._config.portal_url.rstrip('/')}/rate"
        return row.message

    # --- recording the outcome --------------------------------------------------------------------

    def _mark_sent(self, row_id: int) -> None:
        # Whoever holds the lease now: the channel took the message, so it is sent (once: sent_at IS NULL).
        self._update(row_id, sent_at=self._clock(), lease_owner=None, lease_until=None, last_error=None)

    def _retry_later(self, row: OutboxRow, reason: str) -> None:
        assert row.id is not None
        attempts = row.attempts + 1
        if attempts >= self._config.max_attempts:
            self._give_up(row.id, f"gave up after {attempts} attempts: {reason}", attempts=attempts)
            return
        self._update(row.id, attempts=attempts, last_error=reason, lease_owner=None, lease_until=None,
                     next_attempt_at=self._clock() + self._config.delay_after(attempts))

    def _give_up(self, row_id: int, reason: str, *, attempts: int | None = None) -> None:
        values: dict[str, object] = {"failed_at": self._clock(), "failed_reason": reason, "lease_owner": None,
                                     "lease_until": None}
        if attempts is not None:
            values["attempts"] = attempts
        self._update(row_id, **values)

    def _update(self, row_id: int, **values: object) -> None:
        leases.settle(self._engine, OutboxRow, row_id, **values)


def channel_for(settings: Settings) -> Channel:
    if settings.sms_gateway_url:
        return GatewayChannel(settings.sms_gateway_url, settings.sms_gateway_token)
    return FileChannel(settings.sms_outbox_path)


async def _main(settings: Settings, once: bool) -> None:
    # The worker creates and extends the register's tables at its start; until then a round fails and is
    # tried again (two processes creating a SQLite schema at once could trip over each other).
    engine = make_engine(settings.register_url)
    channel = channel_for(settings)
    keys = load_keys(settings)
    policy = load_county(settings)
    adapter = adapter_for(settings)
    ratings = RatingForwarder(engine, adapter, policy.county, config=leases.QueueConfig.from_settings(settings))
    lapses = LapseSweep(engine, WorkingDayCalendar.from_file(settings.holiday_path), active_catalogue(),
                        policy.timezone)
    dispatcher = Dispatcher(engine, channel, policy, keys.query_code_key, sealer=Sealer.from_keys(keys),
                            config=DispatchConfig.from_settings(settings), ratings=ratings, lapses=lapses)
    where = "gateway" if settings.sms_gateway_url else str(settings.sms_outbox_path)
    log.info("dispatcher_channel", channel=where,
             haochaping="http" if settings.haochaping_url else str(settings.haochaping_path))
    try:
        if once:
            await dispatcher.run_until_idle()
            return
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopping.set)
        await dispatcher.run_forever(stopping, settings.dispatcher_poll_seconds)
    finally:
        await channel.aclose()
        await adapter.aclose()
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m notify.dispatcher", description=__doc__.splitlines()[0])
    parser.add_argument("--once", action="store_true", help="send what is due, then exit")
    args = parser.parse_args(argv)
    try:
        settings = get_settings()
    except ValidationError as err:
        return _not_started(f"环境变量配置有误：{'、'.join(invalid_setting_names(err)) or '无法读取'}")
    configure_logging(settings.log_level, settings.log_json)
    try:
        asyncio.run(_main(settings, args.once))
    except Exception as err:
        problem = configuration_problem(err)
        if problem is None:
            raise
        return _not_started(problem)
    return 0


def _not_started(message: str) -> int:
    print(f"通知发送程序未启动，{message}", file=sys.stderr)
    return 3


if __name__ == "__main__":
    sys.exit(main())
