"""The supervisor's report as people read it: Chinese column headings and figures formatted the same way in
the terminal (``report_text``) and in the HTML file (``report_html``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from register.report import Figures, MonthFigures, Report, Satisfaction
from register.tables import SCORES

TITLE = "身后“一件事一次办”承诺时限履行情况"
NONE = "—"


def percent(value: float | None) -> str:
    return NONE if value is None else f"{value * 100:.1f}%"


def days(value: float | None) -> str:
    return NONE if value is None else f"{value:g}"


def yuan(value: Decimal) -> str:
    # Decimal formats exactly: no float on the way.
    return f"{value:,.2f}"


def extensions(f: Figures) -> str:
    return "0" if f.extensions == 0 else f"{f.extensions}/{f.extension_working_days}"


@dataclass(frozen=True)
class Column:
    # The heading in the terminal; in the HTML file the short one, under its group's heading.
    heading: str
    value: Callable[[Figures], str]
    short: str
    group: str


_DECISIONS = "受理与决定（件）"
_LIMITS = "承诺时限（用时：工作日，不含补正）"
_NOW = "当前（件）"
_ALERTS = "提醒（次）"
_MATERIALS = "补正与延期"

COLUMNS: tuple[Column, ...] = (
    Column("推送", lambda f: str(f.pushed), "推送", _DECISIONS),
    Column("已决定", lambda f: str(f.decided), "已决定", _DECISIONS),
    Column("通过", lambda f: str(f.approved), "通过", _DECISIONS),
    Column("不予办理", lambda f: str(f.rejected), "不予办理", _DECISIONS),
    Column("撤回", lambda f: str(f.withdrawn), "撤回", _DECISIONS),
    Column("按时办结率", lambda f: percent(f.on_time_rate), "按时办结率", _LIMITS),
    Column("用时中位数", lambda f: days(f.handling_median_working_days), "用时中位数", _LIMITS),
    Column("用时90分位", lambda f: days(f.handling_p90_working_days), "用时90分位", _LIMITS),
    Column("在办", lambda f: str(f.open_now), "在办", _NOW),
    Column("当前超期", lambda f: str(f.overdue_now), "超期", _NOW),
    Column("预警", lambda f: str(f.warnings), "预警", _ALERTS),
    Column("超时", lambda f: str(f.overdue_notices), "超时", _ALERTS),
    Column("催办", lambda f: str(f.reminders), "催办", _ALERTS),
    Column("督办", lambda f: str(f.supervisions), "督办", _ALERTS),
    Column("补正率", lambda f: percent(f.materials_rate), "补正率", _MATERIALS),
    Column("延期（次/工作日）", extensions, "延期（次/日）", _MATERIALS),
    Column("已发放（元）", lambda f: yuan(f.paid_yuan), "已发放（元）", ""),
)


@dataclass(frozen=True)
class MonthColumn:
    heading: str
    value: Callable[[MonthFigures], str]


MONTH_COLUMNS: tuple[MonthColumn, ...] = (
    MonthColumn("月份", lambda m: m.month),
    MonthColumn("受理案件", lambda m: str(m.cases_received)),
    MonthColumn("办结案件", lambda m: str(m.cases_closed)),
    MonthColumn("推送事项", lambda m: str(m.matters_pushed)),
    MonthColumn("作出决定", lambda m: str(m.matters_decided)),
    MonthColumn("其中按时", lambda m: str(m.decided_on_time)),
    MonthColumn("按时办结率", lambda m: percent(m.on_time_rate)),
)


@dataclass(frozen=True)
class SatisfactionColumn:
    heading: str
    value: Callable[[Satisfaction], str]


def average(value: float | None) -> str:
    return NONE if value is None else f"{value:.2f}"


GRADES: tuple[tuple[str, str], ...] = tuple((str(score), label) for score, label in SCORES)
SATISFACTION_TITLE = "满意度（好差评）"
CASE_RATINGS = "案件整体评价"


def _grade(score: str) -> Callable[[Satisfaction], str]:
    return lambda s: str(s.distribution.get(score, 0))


SATISFACTION_COLUMNS: tuple[SatisfactionColumn, ...] = (
    SatisfactionColumn("评价数", lambda s: str(s.ratings)),
    SatisfactionColumn("平均分", lambda s: average(s.average)),
    *(SatisfactionColumn(label, _grade(score)) for score, label in GRADES),
)


def satisfaction_rows(report: Report) -> list[tuple[str, Satisfaction, str]]:
    """(name, figures, kind) in the order both outputs show them: the total, departments, matters, cases."""
    scope = "全县合计" if report.department is None else "合计"
    found: list[tuple[str, Satisfaction, str]] = [(f"事项评价{scope}", report.total.satisfaction, "total")]
    found += [(d.name, d.figures.satisfaction, "department") for d in report.departments]
    found += [(f"{d.name}·{m.name}", m.figures.satisfaction, "matter") for d in report.departments for m in d.matters]
    found.append((CASE_RATINGS, report.case_satisfaction, "total"))
    return found


def period_line(report: Report, department_name: str | None) -> str:
    scope = department_name or "全部部门"
    generated = report.generated_at.strftime("%Y-%m-%d %H:%M")
    return (f"统计期：{report.period_from:%Y-%m-%d} 至 {report.period_to:%Y-%m-%d}（{report.timezone}）"
            f"　范围：{scope}　生成时间：{generated}")


def summary_line(report: Report) -> str:
    t = report.total
    return (f"推送事项{t.pushed}件，已决定{t.decided}件，按时办结率{percent(t.on_time_rate)}，"
            f"用时中位数{days(t.handling_median_working_days)}个工作日；"
            f"督办{t.supervisions}次，补正率{percent(t.materials_rate)}，"
            f"已发放{yuan(t.paid_yuan)}元；"
            f"满意度评价{t.satisfaction.ratings}次，平均{average(t.satisfaction.average)}分。"
            f"当前在办{report.backlog.open_now}件（不限推送时间），其中超期{report.backlog.overdue_now}件。")


def department_name(report: Report) -> str | None:
    if report.department is None:
        return None
    for department in report.departments:
        if department.code == report.department:
            return department.name
    return report.department
