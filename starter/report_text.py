"""The supervisor's report in the terminal: the county total, then departments, matters and months."""

from __future__ import annotations

from rich import box
from rich.cells import cell_len
from rich.table import Table

from register.report import Report
from starter.render import console
from starter.report_format import (
    COLUMNS,
    MONTH_COLUMNS,
    SATISFACTION_COLUMNS,
    SATISFACTION_TITLE,
    TITLE,
    Column,
    department_name,
    period_line,
    satisfaction_rows,
    summary_line,
)

# Room for a department's or matter's name beside the figures; the figures after SPLIT go to a second table
# when all do not fit.
NAME_WIDTH = 28
SPLIT = 8


def _table(title: str, first: str, columns: tuple[Column, ...]) -> Table:
    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False)
    # A long matter name wraps; a figure's heading is never cut short.
    table.add_column(first, overflow="fold", min_width=8)
    for column in columns:
        table.add_column(column.heading, justify="right", no_wrap=True, min_width=cell_len(column.heading))
    return table


def _parts(width: int) -> list[tuple[Column, ...]]:
    """All figures in one table where they fit beside a name; else in two (decisions and time limits, then
    the rest), each with the names."""
    needed = NAME_WIDTH + sum(cell_len(column.heading) + 3 for column in COLUMNS)
    return [COLUMNS] if needed <= width else [COLUMNS[:SPLIT], COLUMNS[SPLIT:]]


def print_report(report: Report) -> None:
    out = console()
    out.print(TITLE)
    out.print(period_line(report, department_name(report)))
    out.print("全县合计：" + summary_line(report))

    parts = _parts(out.width)
    for i, columns in enumerate(parts):
        suffix = f"（{i + 1}/{len(parts)}）" if len(parts) > 1 else ""
        departments = _table("各部门" + suffix, "部门", columns)
        departments.add_row("全县合计", *(c.value(report.total) for c in columns))
        for department in report.departments:
            departments.add_row(department.name, *(c.value(department.figures) for c in columns))
        out.print(departments)

    for i, columns in enumerate(parts):
        suffix = f"（{i + 1}/{len(parts)}）" if len(parts) > 1 else ""
        matters = _table("各事项" + suffix, "事项（承诺时限）", columns)
        for department in report.departments:
            for matter in department.matters:
                limit = f"（{matter.time_limit_working_days}个工作日）" if matter.time_limit_working_days else ""
                matters.add_row(f"{department.name}·{matter.name}{limit}", *(c.value(matter.figures) for c in columns))
        out.print(matters)

    satisfaction = Table(title=SATISFACTION_TITLE, box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False)
    satisfaction.add_column("部门 / 事项", overflow="fold", min_width=8)
    for s_column in SATISFACTION_COLUMNS:
        satisfaction.add_column(s_column.heading, justify="right", no_wrap=True, min_width=cell_len(s_column.heading))
    for name, figures, _ in satisfaction_rows(report):
        satisfaction.add_row(name, *(c.value(figures) for c in SATISFACTION_COLUMNS))
    out.print(satisfaction)

    months = Table(title="月度趋势", box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False)
    for column in MONTH_COLUMNS:
        months.add_column(column.heading, justify="right", no_wrap=True, min_width=cell_len(column.heading))
    for month in report.months:
        months.add_row(*(c.value(month) for c in MONTH_COLUMNS))
    out.print(months)

    out.print("统计口径：")
    for line in report.semantics:
        out.print("　" + line)
