"""Where a message to the family goes: the applicant's mobile number, read from the register here only.

The one place that knows where the phone lives: in the application the register keeps, sealed at rest
(register/sealed_fields.py); nothing else reads it.
"""

from __future__ import annotations

from sqlmodel import Session

from domain.identity import mask_number
from register.sealed_fields import PHONE, application_place
from register.sealing import Sealer
from register.tables import CaseRow


def family_phone(session: Session, case_number: str, sealer: Sealer) -> str | None:
    """The applicant's mobile number for ``case_number``; None when the register holds no application.

    Raises ``UnsealError`` when the stored number does not open with the configured keys.
    """
    case = session.get(CaseRow, case_number)
    if case is None:
        return None
    applicant = case.application.get("applicant") if isinstance(case.application, dict) else None
    phone = applicant.get("phone") if isinstance(applicant, dict) else None
    if not isinstance(phone, str) or not phone:
        return None
    return sealer.unseal(phone, application_place(case_number, PHONE)) or None


def masked_phone(phone: str) -> str:
    """For logs and screens: 139****1234."""
    return mask_number(phone, 3, 4)
