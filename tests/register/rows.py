"""Hand-built register rows around local midnights, with answers worked out by hand (tests/register and the
HTML report test share them)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session

from domain.enums import MatterCode, MatterState
from register.report import Period
from register.tables import CaseRow, MatterRow, RatingRow

TZ = ZoneInfo("Asia/Shanghai")
NHSA = MatterCode.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT
HPF = MatterCode.PROVIDENT_FUND_DEATH_WITHDRAWAL
HUKOU = MatterCode.HUKOU_CANCELLATION
PERIOD = Period(date(2037, 3, 1), date(2037, 4, 30), TZ)
NOW = datetime(2037, 5, 2, 9, 0, tzinfo=TZ)


def local(month: int, day: int, hour: int = 10, minute: int = 0, year: int = 2037) -> datetime:
    """A local time in the county, as the worker writes it: an aware instant in UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=TZ).astimezone(UTC)


def case(number: str, received: datetime, closed: datetime | None = None) -> CaseRow:
    return CaseRow(case_number=number, channel="window", state="办结" if closed else "联办中", application={},
                   received_at=received, updated_at=received, closed_at=closed)


def matter(number: str, code: MatterCode, state: MatterState, pushed: datetime, **values: Any) -> MatterRow:
    department = code.value.split(".")[0]
    return MatterRow(case_number=number, matter=code.value, department=department, state=state.value, view={},
                     updated_at=pushed, pushed_at=pushed, **values)


def decided(at: datetime, on_time: bool, days: int) -> dict[str, Any]:
    return {"decided_at": at, "on_time": on_time, "handling_working_days": days}


def fill(engine: Engine) -> None:
    early = local(1, 15)
    rows: list[Any] = [
        # Cases: 00:30 on 1 March is 28 February in UTC; 07:59 on 1 April is still 31 March in UTC.
        case("C1", local(3, 1, 0, 30), closed=local(4, 1, 0, 5)),
        case("C2", local(2, 28, 23, 30)),
        case("C3", local(3, 31, 23, 59), closed=local(3, 31, 20, 0)),
        case("C4", local(4, 1, 7, 59)),
        case("C5", local(4, 30, 23, 0)),
        case("C6", local(5, 1, 0, 10)),
        *(case(f"X{i}", early) for i in range(2, 10)),
        # 医保局: seven matters pushed in the period, handled in 1, 2, 4 and 7 working days.
        matter("C1", NHSA, MatterState.PAID, local(3, 1), **decided(local(3, 2), True, 1), paid_fen=123456,
               net_fen=123456, gross_fen=123456),
        matter("X2", NHSA, MatterState.REJECTED, local(3, 3), **decided(local(3, 5), True, 2)),
        matter("X3", NHSA, MatterState.PAYING, local(3, 10), **decided(local(3, 31, 23, 30), False, 4),
               net_fen=99_999, warnings=1, overdue_notices=1, reminders=2, supervisions=1, materials_requests=2,
               extensions=1, extension_working_days=3),
        matter("X4", NHSA, MatterState.PAID, local(3, 20), **decided(local(4, 1, 0, 30), False, 7), paid_fen=1),
        matter("C4", NHSA, MatterState.UNDER_REVIEW, local(4, 10), overdue=True, warnings=1, overdue_notices=1),
        matter("X5", NHSA, MatterState.AWAITING_MATERIALS, local(4, 15), materials_requests=1),
        matter("X6", NHSA, MatterState.WITHDRAWN, local(4, 1, 7, 0)),
        # Pushed before the period: not in the figures, but decided in March (the trend) ...
        matter("X7", NHSA, MatterState.APPROVED, local(2, 28, 23, 0), **decided(local(3, 3), True, 2)),
        # ... and open and overdue since December: in the county's backlog only.
        matter("X8", NHSA, MatterState.UNDER_REVIEW, local(12, 20, year=2036), overdue=True, supervisions=1),
        # 住房公积金中心: pushed half an hour before the period ends, decided after it.
        matter("C5", HPF, MatterState.PAID, local(4, 30, 23, 30), **decided(local(5, 1), True, 0), paid_fen=500_000),
        # 16:10 UTC on 30 April is 1 May in the county: after the period.
        matter("C6", HPF, MatterState.UNDER_REVIEW, local(5, 1, 0, 10), overdue=True),
        matter("X9", HUKOU, MatterState.APPROVED, local(3, 1, 9), **decided(local(3, 1, 15), True, 1)),
    ]
    with Session(engine) as session:
        session.add_all(rows)
        session.commit()


def fill_ratings(engine: Engine) -> None:
    """好差评 around the period's edges: 医保局 rated 5, 4 and 2 (average 3.67), 公积金中心 3, one whole case 5;
    one rating before the period and one after it, counted nowhere."""
    def rating(number: str, subject: str, department: str, score: int, at: datetime) -> RatingRow:
        return RatingRow(case_number=number, subject=subject, department=department, score=score, rated_at=at,
                         comment="")

    with Session(engine) as session:
        session.add_all([
            rating("C1", NHSA.value, "nhsa", 5, local(3, 1, 0, 30)),
            rating("X2", NHSA.value, "nhsa", 4, local(3, 6)),
            rating("X3", NHSA.value, "nhsa", 2, local(4, 30, 23, 59)),
            rating("C5", HPF.value, "hpf", 3, local(4, 2)),
            rating("C1", "case", "", 5, local(4, 2)),
            rating("X7", NHSA.value, "nhsa", 1, local(2, 28, 23, 59)),
            rating("C6", HPF.value, "hpf", 1, local(5, 1, 0, 1)),
        ])
        session.commit()
