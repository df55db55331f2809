"""Taking work from a register queue under a lease: the family's messages (``OutboxRow``) and the ratings
forwarded to the province (``RatingRow``) are both claimed this way, so two dispatchers never send the same row
and a dispatcher that dies mid-send leaves its rows to the next once the lease runs out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Self, TypeVar

from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from register.tables import OutboxRow, RatingRow
from runtime.settings import Settings

Leased = TypeVar("Leased", OutboxRow, RatingRow)


@dataclass(frozen=True)
class QueueConfig:
    """How a queue is worked: rows per round, the lease, and the retries (the dispatcher's settings)."""

    batch_size: int = 50
    lease: timedelta = timedelta(seconds=120)
    max_attempts: int = 10
    backoff: timedelta = timedelta(seconds=5)
    backoff_max: timedelta = timedelta(hours=1)

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls(
            batch_size=settings.dispatcher_batch_size,
            lease=timedelta(seconds=settings.dispatcher_lease_seconds),
            max_attempts=settings.dispatcher_max_attempts,
            backoff=timedelta(seconds=settings.dispatcher_backoff_seconds),
            backoff_max=timedelta(seconds=settings.dispatcher_backoff_max_seconds),
        )

    def delay_after(self, attempts: int) -> timedelta:
        """Exponential backoff: the base after the first failure, doubling, capped."""
        return min(self.backoff * (1 << max(attempts - 1, 0)), self.backoff_max)


def due(engine: Engine, model: type[Leased], now: datetime, limit: int) -> list[int]:
    """The rows not yet sent nor given up, whose retry time has come and whose lease (if any) has run out."""
    with Session(engine) as session:
        ids = session.exec(
            select(model.id)
            .where(col(model.sent_at).is_(None), col(model.failed_at).is_(None),
                   or_(col(model.next_attempt_at).is_(None), col(model.next_attempt_at) <= now),
                   or_(col(model.lease_until).is_(None), col(model.lease_until) <= now))
            .order_by(col(model.id))
            .limit(limit)
        ).all()
    return [row_id for row_id in ids if row_id is not None]


def claim(engine: Engine, model: type[Leased], row_id: int, owner: str, now: datetime,
          lease: timedelta) -> Leased | None:
    """Take the row for the length of a lease, unless someone else holds it or it is done."""
    with Session(engine) as session:
        result = session.exec(
            update(model)
            .where(col(model.id) == row_id, col(model.sent_at).is_(None), col(model.failed_at).is_(None),
                   or_(col(model.lease_until).is_(None), col(model.lease_until) <= now))
            .values(lease_owner=owner, lease_until=now + lease)
        )
        session.commit()
        if result.rowcount != 1:
            return None
        row = session.get(model, row_id)
        if row is not None:
            session.expunge(row)
        return row


def settle(engine: Engine, model: type[Leased], row_id: int, **values: object) -> None:
    """Record what became of a row, unless it was sent meanwhile (sent is final)."""
    with Session(engine) as session:
        session.exec(update(model).where(col(model.id) == row_id, col(model.sent_at).is_(None)).values(**values))
        session.commit()
