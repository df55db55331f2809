"""好差评 on the portal: after a matter's decision and after 办结 the family rates the service 1–5 with an
optional comment, once per matter and once for the whole case (``register.tables.RatingRow``).

The form is shown on the progress page of a followed case, only for what is decided; a second rating of the
same thing is refused (the first may already be with the province). Nothing here is logged but the case
number and what was rated: a comment is the family's own words and stays in the register.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from domain.enums import CaseState, MatterState
from domain.models import StatusSnapshot
from register.tables import CASE_SUBJECT, RatingRow
from register.tables import COMMENT_MAX_CHARS as COMMENT_MAX_CHARS
from register.tables import SCORES as SCORES

SCORE_TEXT = dict(SCORES)
# A matter the department has decided: approved (paid or being paid) or refused.
DECIDED = frozenset({MatterState.APPROVED, MatterState.PAYING, MatterState.PAID, MatterState.PAYMENT_FAILED,
                     MatterState.REJECTED, MatterState.NO_BENEFIT, MatterState.AWAITING_PROOF})
CASE_TITLE = "对本次“一件事”整体办理的评价"
MATTER_TITLE = "对本事项办理服务的评价"
NO_SCORE = "请选择满意程度（非常满意至非常不满意）后再提交。"
TOO_LONG = f"评价内容不超过{COMMENT_MAX_CHARS}字，请删减后再提交。"
NOT_YET = "该事项尚未办结，办结后方可评价。"
ALREADY = "该事项已评价，每项只能评价一次。"


@dataclass
class Slot:
    """One rating form on the progress page, or its 已评价 line."""

    subject: str
    title: str
    department: str
    given: str = ""
    error: str = ""
    typed_score: str = ""
    typed_comment: str = ""


@dataclass(frozen=True)
class Typed:
    subject: str
    score: int | None
    comment: str
    raw_score: str


def rateable(snapshot: StatusSnapshot) -> dict[str, tuple[str, str]]:
    """What the family may rate now: subject -> (title, department code)."""
    found: dict[str, tuple[str, str]] = {}
    if snapshot.case_state is CaseState.COMPLETED:
        found[CASE_SUBJECT] = (CASE_TITLE, "")
    for view in snapshot.matters:
        if view.state in DECIDED:
            found[view.code.value] = (MATTER_TITLE, view.department.value)
    return found


def slots(snapshot: StatusSnapshot, given: Mapping[str, int], typed: Typed | None = None,
          error: str = "") -> dict[str, Slot]:
    result: dict[str, Slot] = {}
    for subject, (title, department) in rateable(snapshot).items():
        slot = Slot(subject, title, department)
        if subject in given:
            slot.given = SCORE_TEXT.get(given[subject], str(given[subject]))
        elif typed is not None and typed.subject == subject:
            slot.error, slot.typed_score, slot.typed_comment = error, typed.raw_score, typed.comment
        result[subject] = slot
    return result


def read(fields: Mapping[str, str]) -> tuple[Typed, str]:
    """The submitted form and what is wrong with it ("" when nothing)."""
    raw = fields.get("score", "").strip()
    comment = fields.get("comment", "").strip().replace("\r\n", "\n")
    score = int(raw) if raw in {str(value) for value, _ in SCORES} else None
    typed = Typed(fields.get("subject", "")[:64], score, comment, raw if score is not None else "")
    if score is None:
        return typed, NO_SCORE
    if len(comment) > COMMENT_MAX_CHARS:
        return typed, TOO_LONG
    return typed, ""


def given(engine: Engine, case_number: str) -> dict[str, int]:
    """What the case's family has rated: subject -> score."""
    with Session(engine) as session:
        rows = session.exec(select(RatingRow.subject, RatingRow.score)
                            .where(col(RatingRow.case_number) == case_number)).all()
    return {subject: score for subject, score in rows}


def record(engine: Engine, case_number: str, subject: str, department: str, score: int, comment: str,
           at: datetime) -> bool:
    """Store the rating; False when this subject of the case was already rated (the first one stands)."""
    row = RatingRow(case_number=case_number, subject=subject, department=department, score=score,
                    comment=comment[:COMMENT_MAX_CHARS], channel="portal", rated_at=at)
    with Session(engine) as session:
        session.add(row)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            return False
    return True
