"""Read-only questions the clients ask the register (it answers after the engine's retention has ended)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from domain.enums import CaseState, MatterCode, MatterState
from domain.models import Application
from register.sealed_fields import opened_application
from register.sealing import Sealer
from register.tables import CaseRow, MatterRow

# A matter in one of these states brought the family something (its approval, and the money if any; a
# termination's 无该待遇 is its department's answer too).
APPROVED_STATES = frozenset({MatterState.APPROVED, MatterState.PAYING, MatterState.PAID, MatterState.PAYMENT_FAILED,
                             MatterState.AWAITING_PROOF, MatterState.NO_BENEFIT})


@dataclass(frozen=True)
class RecordedCase:
    case_number: str
    state: CaseState
    closed: bool
    # Some matter besides 户口注销 was approved: the family got something from this case.
    delivered: bool
    # 户口注销's certificate, when this case's police approved it.
    hukou_certificate_no: str | None = None
    # Each matter's state, as last written.
    matters: dict[MatterCode, MatterState] | None = None


def delivered(states: dict[MatterCode, MatterState]) -> bool:
    return any(state in APPROVED_STATES for code, state in states.items() if code != MatterCode.HUKOU_CANCELLATION)


def recorded_case(engine: Engine, case_number: str) -> RecordedCase | None:
    """The case as the register holds it; None when it holds nothing (or cannot be read)."""
    try:
        with Session(engine) as session:
            case = session.get(CaseRow, case_number)
            if case is None:
                return None
            rows = session.exec(select(MatterRow).where(MatterRow.case_number == case_number)).all()
    except SQLAlchemyError:
        return None
    states = {MatterCode(row.matter): MatterState(row.state) for row in rows}
    hukou = next((row for row in rows if row.matter == MatterCode.HUKOU_CANCELLATION.value
                  and row.state == MatterState.APPROVED.value), None)
    certificate = hukou.view.get("certificate_no") if hukou is not None else None
    return RecordedCase(case_number=case_number, state=CaseState(case.state), closed=case.closed_at is not None,
                        delivered=delivered(states), matters=states,
                        hukou_certificate_no=certificate if isinstance(certificate, str) else None)


def cases_of_applicant(engine: Engine, sealer: Sealer, id_number: str) -> list[str]:
    """The case numbers an applicant (by identity number) applied for, newest first: the window finds a
    family's cases from the ID card on the counter. Compares keyed hashes, never the number itself; rows
    written before sealing are found once ``shenhou keys rotate`` has filled in their hash."""
    with Session(engine) as session:
        numbers = session.exec(
            select(CaseRow.case_number)
            .where(CaseRow.applicant_id_hash == sealer.lookup_hash(id_number))
            .order_by(col(CaseRow.received_at).desc(), col(CaseRow.case_number))
        ).all()
    return list(numbers)


def case_application(engine: Engine, sealer: Sealer, case_number: str) -> Application | None:
    """The case's application as it now stands (matters added included), its sealed fields opened; None when
    the register holds no application for it."""
    with Session(engine) as session:
        case = session.get(CaseRow, case_number)
    if case is None or not case.application:
        return None
    return Application.model_validate(opened_application(case.application, case_number, sealer))
