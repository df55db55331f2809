"""Where a message to the family goes: the applicant's mobile number, read from the register here only.

The one place that knows where the phone lives: in the application the register keeps, sealed at rest
(register/sealed_fields.py), or, before the family applied, the number the funeral home recorded with the
family's consent when its certificate opened the case (``family_contacts``, sealed too); nothing else reads it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from domain.enums import NotificationKind, Recipient
from domain.identity import mask_number
from register.sealed_fields import PHONE, application_place
from register.sealing import Sealer
from register.tables import CaseRow, FamilyContactRow, OutboxRow

# One invitation per case: a retried write, or a second opening of the same case, adds nothing.
INVITATION_KEY = "case/invitation/family"


def contact_place(case_number: str) -> str:
    return f"family_contacts/{case_number}/phone"


def record_invitation(
    engine: Engine, case_number: str, phone: str, funeral_home: str, message: str, sealer: Sealer, at: datetime
) -> bool:
    """The funeral home's record of the family's number (sealed) and the one invitation to apply, in one
    transaction; False when this case already has them (the first number and invitation stay)."""
    with Session(engine) as session:
        if session.get(FamilyContactRow, case_number) is not None:
            return False
        session.add(FamilyContactRow(case_number=case_number, phone=sealer.seal(phone, contact_place(case_number)),
                                     funeral_home=funeral_home, consented_at=at))
        session.add(OutboxRow(case_number=case_number, key=INVITATION_KEY, kind=NotificationKind.INVITATION.value,
                              recipient=Recipient.FAMILY.value, message=message, created_at=at))
        session.commit()
    return True


def family_phone(session: Session, case_number: str, sealer: Sealer) -> str | None:
    """The applicant's mobile number for ``case_number`` (before an application, the funeral home's record of
    it); None when the register holds neither.

    Raises ``UnsealError`` when the stored number does not open with the configured keys.
    """
    case = session.get(CaseRow, case_number)
    if case is None:
        return _funeral_home_contact(session, case_number, sealer)
    applicant = case.application.get("applicant") if isinstance(case.application, dict) else None
    phone = applicant.get("phone") if isinstance(applicant, dict) else None
    if not isinstance(phone, str) or not phone:
        return _funeral_home_contact(session, case_number, sealer)
    return sealer.unseal(phone, application_place(case_number, PHONE)) or None


def _funeral_home_contact(session: Session, case_number: str, sealer: Sealer) -> str | None:
    """Before the family applied: the number the funeral home recorded with the family's consent."""
    contact = session.get(FamilyContactRow, case_number)
    if contact is None:
        return None
    return sealer.unseal(contact.phone, contact_place(case_number)) or None


def masked_phone(phone: str) -> str:
    """For logs and screens: 139****1234."""
    return mask_number(phone, 3, 4)
