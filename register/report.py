"""The supervisor's report: how each department keeps its time limits, from the register alone.

Everything is counted in SQL (SQLAlchemy core; the same statements on SQLite and PostgreSQL) over the
report-ready columns the worker writes on every change (``register.tables.MatterRow``):

- figures per department and matter over the matters *pushed* within the period (a cohort): what came in,
  what was decided, on time or not, what is still open and overdue *now*, escalations, 补正, extensions and
  the money the paying system confirmed. One ``GROUP BY department, matter`` answers every count; a
  department's and the county's figures are their matters' sums, so they always add up.
- handling-time percentiles from the distribution of ``handling_working_days``: one ``GROUP BY department,
  matter, days`` returns (days, how many) pairs, i.e. the ordered column in run-length form. Working days are
  small integers, so this is a few hundred rows for a year of cases, sums exactly into department and county
  distributions (a window-function percentile would need one sort per level), and the percentile is then
  exact integer arithmetic in Python, identical on both databases.
- 满意度 (好差评): the families' ratings given within the period, per department and matter (count, average,
  and how many of each grade 1–5), counted in the same additive tallies; ratings of a whole case apart.
- the monthly trend by event date: cases received, cases closed, matters pushed, and matters decided in
  each month with how many of those were on time. Month boundaries are local midnights of the county's time
  zone, computed here and compared with the stored instants as one ``CASE`` per row.

Percentiles interpolate linearly between the two nearest ranks (numpy's default, PostgreSQL's
``percentile_cont``): the median of 2, 3, 4, 5 working days is 3.5.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, and_, case, exists, func, select
from sqlalchemy.engine import Connection, Engine

from domain.catalogue import MatterDefinition, active_catalogue
from domain.enums import Department, MatterState
from register.lookups import APPROVED_STATES
from register.money import to_yuan
from register.tables import CASE_SUBJECT, CaseRow, MatterRow, RatingRow

# Still with the department: its time limit runs (or stands still while the family brings materials).
OPEN_STATES = frozenset({MatterState.UNDER_REVIEW, MatterState.AWAITING_MATERIALS})

# Printed with every report: what each figure counts.
SEMANTICS: tuple[str, ...] = (
    "统计对象：推送时间在统计期内的事项（按县时区自然日计算，含起止两日），各项为其截至报表生成时的情况；"
    "部门、全县数字为所含事项之和。",
    "已决定：部门已作出审核通过或不予办理决定；按时办结率＝决定时未超过承诺期限的事项数÷已决定事项数"
    "（补正期间计时暂停，督办人延长时限后按延长后的期限计算）。",
    "办理用时：自推送至决定的工作日数（不含补正暂停期间）；中位数、90分位数在相邻两值间线性插值。",
    "在办、当前超期：上述事项中仍待审核或待补正的数量，及其中已超过承诺期限的数量；"
    "“当前在办（不限推送时间）”含统计期外推送的事项。",
    "预警、超时、催办、督办：上述事项累计发出的提醒次数；补正率＝要求过补正的事项数÷推送事项数；"
    "延期：督办人批准延长时限的次数和工作日数。",
    "已发放金额：支付系统确认到账的实发金额（元），不含发放中、发放失败的款项。",
    "满意度：统计期内群众对已决定事项（按部门、事项）和已办结案件（整体）的评价，1分非常不满意至5分非常满意；"
    "平均分为评价分数的算术平均，每个事项、每个案件只评价一次。",
    "月度趋势按事件发生月份统计：当月受理、办结的案件，当月推送的事项，当月作出决定的事项及其按时办结率。",
)


SCORES = (5, 4, 3, 2, 1)


class Satisfaction(BaseModel):
    """好差评: how many ratings, their average (two places; None without any) and how many of each score."""

    model_config = ConfigDict(frozen=True)

    ratings: int
    average: float | None
    # Score ("5" 非常满意 … "1" 非常不满意) -> how many.
    distribution: dict[str, int]

    @classmethod
    def of(cls, counts: Counter[int]) -> Satisfaction:
        n = sum(counts[score] for score in SCORES)
        total = sum(score * counts[score] for score in SCORES)
        return cls(ratings=n, average=None if n == 0 else round(total / n, 2),
                   distribution={str(score): counts[score] for score in SCORES})


class Figures(BaseModel):
    """One row of the report: a matter, a department or the county."""

    model_config = ConfigDict(frozen=True)

    pushed: int
    decided: int
    approved: int
    rejected: int
    withdrawn: int
    on_time: int
    # on_time / decided, rounded to four places; None when nothing was decided.
    on_time_rate: float | None
    handling_median_working_days: float | None
    handling_p90_working_days: float | None
    open_now: int
    overdue_now: int
    warnings: int
    overdue_notices: int
    reminders: int
    supervisions: int
    # Matters that were asked for 补正 at least once, how often they were asked, and their share of pushed.
    materials_matters: int
    materials_requests: int
    materials_rate: float | None
    extensions: int
    extension_working_days: int
    # Matters whose payment the paying system confirmed, and what they paid (exact: fen, and yuan as text).
    paid: int
    paid_fen: int
    paid_yuan: Decimal
    satisfaction: Satisfaction


class MatterFigures(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    name: str
    time_limit_working_days: int | None
    figures: Figures


class DepartmentFigures(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    name: str
    figures: Figures
    matters: tuple[MatterFigures, ...]


class MonthFigures(BaseModel):
    model_config = ConfigDict(frozen=True)

    month: str
    cases_received: int
    cases_closed: int
    matters_pushed: int
    matters_decided: int
    decided_on_time: int
    on_time_rate: float | None


class Backlog(BaseModel):
    """Open and overdue now, whenever they were pushed."""

    model_config = ConfigDict(frozen=True)

    open_now: int
    overdue_now: int


class Report(BaseModel):
    model_config = ConfigDict(frozen=True)

    generated_at: datetime
    period_from: date
    period_to: date
    timezone: str
    department: str | None
    semantics: tuple[str, ...]
    total: Figures
    backlog: Backlog
    departments: tuple[DepartmentFigures, ...]
    months: tuple[MonthFigures, ...]
    # Ratings of whole cases (after 办结), apart from the matters'.
    case_satisfaction: Satisfaction


@dataclass(frozen=True)
class Period:
    """Local calendar days ``first`` to ``last``, both included, in the county's time zone."""

    first: date
    last: date
    zone: ZoneInfo

    def start(self, day: date) -> datetime:
        """The instant ``day`` begins locally (the register stores instants: sqlmodel's UTCDateTime)."""
        return datetime.combine(day, time.min, tzinfo=self.zone).astimezone(UTC)

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        return self.start(self.first), self.start(self.last + timedelta(days=1))

    def months(self) -> list[tuple[str, datetime, datetime]]:
        """Each calendar month the period touches, clipped to the period: (label, start, end)."""
        found: list[tuple[str, datetime, datetime]] = []
        day = self.first
        while day <= self.last:
            following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
            end = min(following, self.last + timedelta(days=1))
            found.append((f"{day:%Y-%m}", self.start(day), self.start(end)))
            day = following
        return found


def rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


def percentile(histogram: Counter[int], tenths: int) -> float | None:
    """The ``tenths``/10 percentile of the values counted in ``histogram``, interpolated linearly between
    the two nearest ranks; exact (a value with at most one decimal)."""
    n = sum(histogram.values())
    if n == 0:
        return None
    # The 0-based rank (n - 1) * tenths / 10, as a whole rank and tenths of the way to the next.
    low, fraction = divmod((n - 1) * tenths, 10)
    ordered = sorted(histogram.items())
    low_value = _value_at(ordered, low)
    if fraction == 0:
        return float(low_value)
    high_value = _value_at(ordered, low + 1)
    return (low_value * 10 + fraction * (high_value - low_value)) / 10


def _value_at(ordered: Sequence[tuple[int, int]], rank: int) -> int:
    seen = 0
    for value, count in ordered:
        seen += count
        if seen > rank:
            return value
    raise IndexError(rank)


@dataclass
class _Tally:
    """Additive counts of one row; a department's and the county's are sums of their matters'."""

    counts: Counter[str] = field(default_factory=Counter)
    days: Counter[int] = field(default_factory=Counter)
    scores: Counter[int] = field(default_factory=Counter)

    def add(self, other: _Tally) -> None:
        self.counts.update(other.counts)
        self.days.update(other.days)
        self.scores.update(other.scores)

    def figures(self) -> Figures:
        c = self.counts
        return Figures(
            pushed=c["pushed"], decided=c["decided"], approved=c["approved"], rejected=c["rejected"],
            withdrawn=c["withdrawn"], on_time=c["on_time"], on_time_rate=rate(c["on_time"], c["decided"]),
            handling_median_working_days=percentile(self.days, 5), handling_p90_working_days=percentile(self.days, 9),
            open_now=c["open_now"], overdue_now=c["overdue_now"], warnings=c["warnings"],
            overdue_notices=c["overdue_notices"], reminders=c["reminders"], supervisions=c["supervisions"],
            materials_matters=c["materials_matters"], materials_requests=c["materials_requests"],
            materials_rate=rate(c["materials_matters"], c["pushed"]), extensions=c["extensions"],
            extension_working_days=c["extension_working_days"], paid=c["paid"], paid_fen=c["paid_fen"],
            paid_yuan=to_yuan(c["paid_fen"]), satisfaction=Satisfaction.of(self.scores),
        )


def _flag(condition: ColumnElement[bool]) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _states(states: Iterable[MatterState]) -> list[str]:
    return sorted(state.value for state in states)


_M = MatterRow.__table__.c  # type: ignore[attr-defined]
_C = CaseRow.__table__.c  # type: ignore[attr-defined]
_R = RatingRow.__table__.c  # type: ignore[attr-defined]
_OPEN = _M.state.in_(_states(OPEN_STATES))

# Each additive figure: its name and the SQL aggregate that counts it.
_COUNTS: tuple[tuple[str, Any], ...] = (
    ("pushed", func.count()),
    ("decided", func.count(_M.decided_at)),
    ("approved", _flag(_M.state.in_(_states(APPROVED_STATES)))),
    ("rejected", _flag(_M.state == MatterState.REJECTED.value)),
    ("withdrawn", _flag(_M.state == MatterState.WITHDRAWN.value)),
    ("on_time", _flag(and_(_M.decided_at.is_not(None), _M.on_time.is_(True)))),
    ("open_now", _flag(_OPEN)),
    ("overdue_now", _flag(and_(_OPEN, _M.overdue.is_(True)))),
    ("warnings", func.sum(_M.warnings)),
    ("overdue_notices", func.sum(_M.overdue_notices)),
    ("reminders", func.sum(_M.reminders)),
    ("supervisions", func.sum(_M.supervisions)),
    ("materials_matters", _flag(_M.materials_requests > 0)),
    ("materials_requests", func.sum(_M.materials_requests)),
    ("extensions", func.sum(_M.extensions)),
    ("extension_working_days", func.sum(_M.extension_working_days)),
    ("paid", func.count(_M.paid_fen)),
    ("paid_fen", func.sum(_M.paid_fen)),
)


def build_report(
    engine: Engine,
    period: Period,
    *,
    department: Department | str | None = None,
    matters: Sequence[MatterDefinition] | None = None,
    now: datetime | None = None,
) -> Report:
    """The report for ``period`` (and one department, if given), read in one transaction; ``matters``
    (default: the catalogue's) orders and names what it shows."""
    if matters is None:
        matters = active_catalogue().definitions()
    chosen = str(department) if department is not None else None
    generated = (now or datetime.now(UTC)).astimezone(period.zone)
    with engine.connect() as connection:
        tallies = _matter_tallies(connection, period, chosen)
        backlog = _backlog(connection, chosen)
        months = _months(connection, period, chosen)
        case_scores = _rated(connection, period, chosen, tallies)
    departments = _departments(tallies, matters, chosen)
    total = _Tally()
    for tally in tallies.values():
        total.add(tally)
    return Report(
        generated_at=generated, period_from=period.first, period_to=period.last, timezone=period.zone.key,
        department=chosen, semantics=SEMANTICS, total=total.figures(), backlog=backlog, departments=departments,
        months=months, case_satisfaction=Satisfaction.of(case_scores),
    )


def _rated(connection: Connection, period: Period, department: str | None,
           tallies: dict[tuple[str, str], _Tally]) -> Counter[int]:
    """The ratings given within the period: a matter's into its tally, a whole case's returned apart."""
    start, end = period.bounds
    where: list[ColumnElement[bool]] = [_R.rated_at >= start, _R.rated_at < end]
    whole: Counter[int] = Counter()
    query = select(_R.department, _R.subject, _R.score, func.count().label("n")).where(*where)
    if department is not None:
        # A case's rating counts for a department when the case has a matter of that department.
        query = query.where((_R.department == department) | (
            (_R.subject == CASE_SUBJECT)
            & exists().where(_M.case_number == _R.case_number, _M.department == department)))
    for department_code, subject, score, n in connection.execute(
            query.group_by(_R.department, _R.subject, _R.score)):
        if subject == CASE_SUBJECT:
            whole[int(score)] += int(n)
        else:
            tallies.setdefault((department_code, subject), _Tally()).scores[int(score)] += int(n)
    return whole


def _cohort(period: Period, department: str | None) -> list[ColumnElement[bool]]:
    start, end = period.bounds
    clauses = [_M.pushed_at >= start, _M.pushed_at < end]
    if department is not None:
        clauses.append(_M.department == department)
    return clauses


def _matter_tallies(connection: Connection, period: Period, department: str | None) -> dict[tuple[str, str], _Tally]:
    where = _cohort(period, department)
    tallies: dict[tuple[str, str], _Tally] = {}
    counts = select(_M.department, _M.matter, *(aggregate.label(name) for name, aggregate in _COUNTS))
    for row in connection.execute(counts.where(*where).group_by(_M.department, _M.matter)).mappings():
        tally = tallies.setdefault((row["department"], row["matter"]), _Tally())
        # int(): PostgreSQL sums bigint as numeric (a Decimal); every figure here is a whole number.
        tally.counts.update({name: int(row[name] or 0) for name, _ in _COUNTS})
    days = _M.handling_working_days
    spread = (
        select(_M.department, _M.matter, days, func.count().label("n"))
        .where(*where, _M.decided_at.is_not(None), days.is_not(None))
        .group_by(_M.department, _M.matter, days)
    )
    for department_code, matter_code, value, n in connection.execute(spread):
        tallies.setdefault((department_code, matter_code), _Tally()).days[int(value)] += int(n)
    return tallies


def _backlog(connection: Connection, department: str | None) -> Backlog:
    query = select(_flag(_OPEN).label("open_now"), _flag(and_(_OPEN, _M.overdue.is_(True))).label("overdue_now"))
    if department is not None:
        query = query.where(_M.department == department)
    row = connection.execute(query).mappings().one()
    return Backlog(open_now=int(row["open_now"] or 0), overdue_now=int(row["overdue_now"] or 0))


def _month_of(column: Any, months: Sequence[tuple[str, datetime, datetime]]) -> Any:
    """The index of the month ``column`` falls in (rows are already within the period)."""
    whens = [(column < end, index) for index, (_, _, end) in enumerate(months[:-1])]
    return case(*whens, else_=len(months) - 1) if whens else case((column.is_not(None), 0))


def _per_month(
    connection: Connection, column: Any, months: Sequence[tuple[str, datetime, datetime]],
    where: Sequence[ColumnElement[bool]], extra: Sequence[tuple[str, Any]] = (),
) -> dict[int, dict[str, int]]:
    """Rows counted per month of ``column``, plus ``extra`` sums of the inner query's columns."""
    start, end = months[0][1], months[-1][2]
    inner = select(_month_of(column, months).label("month"), *(value.label(name) for name, value in extra)).where(
        column >= start, column < end, *where).subquery()
    # Grouped outside the CASE: PostgreSQL sees the CASE's bound parameters in GROUP BY as other expressions.
    outer = select(inner.c.month, func.count().label("n"), *(func.sum(inner.c[name]).label(name) for name, _ in extra))
    found: dict[int, dict[str, int]] = {}
    for row in connection.execute(outer.group_by(inner.c.month)).mappings():
        found[int(row["month"])] = {"n": int(row["n"]), **{name: int(row[name] or 0) for name, _ in extra}}
    return found


def _months(connection: Connection, period: Period, department: str | None) -> tuple[MonthFigures, ...]:
    months = period.months()
    case_where: list[ColumnElement[bool]] = []
    matter_where: list[ColumnElement[bool]] = []
    if department is not None:
        # A case counts for a department when it has a matter of that department.
        case_where.append(exists().where(_M.case_number == _C.case_number, _M.department == department))
        matter_where.append(_M.department == department)
    received = _per_month(connection, _C.received_at, months, case_where)
    closed = _per_month(connection, _C.closed_at, months, case_where)
    pushed = _per_month(connection, _M.pushed_at, months, matter_where)
    on_time = case((_M.on_time.is_(True), 1), else_=0)
    decided = _per_month(connection, _M.decided_at, months, matter_where, extra=[("on_time", on_time)])
    figures: list[MonthFigures] = []
    for index, (label, _, _) in enumerate(months):
        made = decided.get(index, {})
        figures.append(MonthFigures(
            month=label,
            cases_received=received.get(index, {}).get("n", 0),
            cases_closed=closed.get(index, {}).get("n", 0),
            matters_pushed=pushed.get(index, {}).get("n", 0),
            matters_decided=made.get("n", 0),
            decided_on_time=made.get("on_time", 0),
            on_time_rate=rate(made.get("on_time", 0), made.get("n", 0)),
        ))
    return tuple(figures)


def _departments(
    tallies: dict[tuple[str, str], _Tally], matters: Sequence[MatterDefinition], department: str | None
) -> tuple[DepartmentFigures, ...]:
    """Every department of the catalogue (with zeros where nothing came in) and any other the register
    holds, in catalogue order; within each, its matters likewise."""
    known = {matter.code.value: matter for matter in matters}
    order: dict[str, list[str]] = {}
    for matter in matters:
        order.setdefault(matter.department.value, []).append(matter.code.value)
    for department_code, matter_code in sorted(tallies):
        codes = order.setdefault(department_code, [])
        if matter_code not in codes:
            codes.append(matter_code)
    names = {code.value: name for code, name in active_catalogue().department_names().items()}
    names.update({matter.department.value: matter.department_name for matter in matters})
    result: list[DepartmentFigures] = []
    for department_code, codes in order.items():
        if department is not None and department_code != department:
            continue
        total = _Tally()
        rows: list[MatterFigures] = []
        for code in codes:
            tally = tallies.get((department_code, code), _Tally())
            total.add(tally)
            definition = known.get(code)
            rows.append(MatterFigures(
                code=code, name=definition.short_name if definition else code,
                time_limit_working_days=definition.time_limit_working_days if definition else None,
                figures=tally.figures(),
            ))
        result.append(DepartmentFigures(code=department_code, name=names.get(department_code, department_code),
                                        figures=total.figures(), matters=tuple(rows)))
    return tuple(result)
