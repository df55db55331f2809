"""Where a message to the family goes: the applicant's mobile number, read from the register here only.

The one place that knows where the phone lives (today in the application the register keeps); nothing
else reads it, so moving it (e.g. sealed at rest) changes this module alone.
"""

from __future__ import annotations

from sqlmodel import Session

from domain.identity import mask_number
from register.tables import CaseRow


def family_phone(session: Session, case_number: str) -> str | None:
    """The applicant's mobile number for ``case_number``; None when the register holds no application."""
    case = session.get(CaseRow, case_number)
    if case is None:
        return None
    applicant = case.application.get("applicant") if isinstance(case.application, dict) else None
    phone = applicant.get("phone") if isinstance(applicant, dict) else None
    return phone if isinstance(phone, str) and phone else None


def masked_phone(phone: str) -> str:
    """For logs and screens: 139****1234."""
    return mask_number(phone, 3, 4)
