"""The supervisor's report in the terminal: the county total, then departments, matters and months."""

from __future__ import annotations

from rich import box
from rich.table import Table

from register.report import Report
from starter.render import console
from starter.report_format import (
    COLUMNS,
    MONTH_COLUMNS,
    TITLE,
    department_name,
    period_line,
    summary_line,
)


def _table(title: str, first: str) -> Table:
    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False)
    table.add_column(first, no_wrap=True)
    for column in COLUMNS:
        table.add_column(column.heading, justify="right", no_wrap=True)
    return table


def print_report(report: Report) -> None:
    out = console()
    out.print(TITLE)
    out.print(period_line(report, department_name(report)))
    out.print("全县合计：" + summary_line(report))

    departments = _table("各部门", "部门")
    departments.add_row("全县合计", *(c.value(report.total) for c in COLUMNS))
    for department in report.departments:
        departments.add_row(department.name, *(c.value(department.figures) for c in COLUMNS))
    out.print(departments)

    matters = _table("各事项", "事项（承诺时限）")
    for department in report.departments:
        for matter in department.matters:
            limit = f"（{matter.time_limit_working_days}个工作日）" if matter.time_limit_working_days else ""
            matters.add_row(f"{department.name}·{matter.name}{limit}", *(c.value(matter.figures) for c in COLUMNS))
    out.print(matters)

    months = Table(title="月度趋势", box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False)
    for column in MONTH_COLUMNS:
        months.add_column(column.heading, justify="right", no_wrap=True)
    for month in report.months:
        months.add_row(*(c.value(month) for c in MONTH_COLUMNS))
    out.print(months)

    out.print("统计口径：")
    for line in report.semantics:
        out.print("　" + line)
