"""How long matters have actually taken in this county: the register's handling times per matter."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from register.tables import MatterRow

# The most recent decisions only: a department's pace changes, and the portal asks on every page view.
RECENT_DECISIONS = 200


def handling_samples(engine: Engine, matter: str, limit: int = RECENT_DECISIONS) -> list[int]:
    """Working days from push to decision (补正 pauses left out) of the latest decided matters of this code."""
    with Session(engine) as session:
        rows = session.exec(
            select(MatterRow.handling_working_days)
            .where(MatterRow.matter == matter, col(MatterRow.handling_working_days).is_not(None),
                   col(MatterRow.decided_at).is_not(None))
            .order_by(col(MatterRow.decided_at).desc())
            .limit(limit)
        ).all()
    return [int(days) for days in rows if days is not None]
