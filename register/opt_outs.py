"""退订: a family that replies T (or 退订) to our SMS gets no more messages it did not ask for.

The SMS gateway posts replies to the portal (``POST /sms/replies``, portal/app.py); an opt-out is kept as the
number's keyed hash (``sms_opt_outs``), and the dispatcher skips the unsolicited kinds for it: the funeral home's
invitation and the reminders before an entitlement lapses. What the family's own application brings (受理, each
decision, money sent) still goes: it answers their request.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from domain.enums import NotificationKind
from domain.identity import mobile_number
from register.sealing import Sealer
from register.tables import OptOutRow

# The kinds a number that opted out no longer receives.
UNSOLICITED = frozenset({NotificationKind.INVITATION.value, NotificationKind.CLAIM_LAPSING.value})
# What a reply must say to opt out (trimmed, any case).
OPT_OUT_WORDS = frozenset({"T", "TD", "退订"})


def _number_hash(phone: str, sealer: Sealer) -> str:
    """The same hash for "+86 139 0000 1111" and "13900001111" (a number the gateway writes otherwise is kept
    as it came)."""
    return sealer.lookup_hash(mobile_number(phone) or phone.strip())


def is_opt_out(text: str) -> bool:
    return text.strip().upper() in OPT_OUT_WORDS


def record_opt_out(engine: Engine, phone: str, sealer: Sealer, at: datetime) -> bool:
    """Keep the number's opt-out; False when it had opted out already."""
    try:
        key = _number_hash(phone, sealer)
        with Session(engine) as session:
            if session.get(OptOutRow, key) is not None:
                return False
            session.add(OptOutRow(phone_hash=key, opted_out_at=at))
            session.commit()
    except IntegrityError:
        return False
    return True


def opted_out(session: Session, phone: str, sealer: Sealer) -> bool:
    return session.get(OptOutRow, _number_hash(phone, sealer)) is not None
