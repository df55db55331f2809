"""Taking work from a register queue under a lease: the family's messages (``OutboxRow``) and the ratings
forwarded to the province (``RatingRow``) are both claimed this way, so two dispatchers never send the same row
and a dispatcher that dies mid-send leaves its rows to the next once the lease runs out."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from register.tables import OutboxRow, RatingRow

Leased = TypeVar("Leased", OutboxRow, RatingRow)


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
