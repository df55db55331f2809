"""The supervisor's report as one self-contained HTML file: the charts inline as PNG data, the styles inline,
nothing fetched when it is opened; laid out to print on A4 (CSS ``@page``).

Plain string building with ``html.escape`` on every value: the page is small and fixed, and no template
engine is needed for it.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from html import escape

from register.report import Figures, Report
from starter import report_charts
from starter.report_format import (
    COLUMNS,
    MONTH_COLUMNS,
    SATISFACTION_COLUMNS,
    SATISFACTION_TITLE,
    TITLE,
    days,
    department_name,
    percent,
    period_line,
    satisfaction_rows,
    yuan,
)

STYLE = """
@page { size: A4 landscape; margin: 12mm 10mm; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Zen Hei",
       sans-serif; color: #1a1a1a; margin: 0 auto; max-width: 277mm; padding: 8mm 4mm; font-size: 10pt;
       line-height: 1.4; }
h1 { font-size: 16pt; margin: 0 0 1.5mm; }
h2 { font-size: 12pt; margin: 6mm 0 2mm; border-left: 3pt solid #2f5d8a; padding-left: 2mm; break-after: avoid; }
.meta { color: #555; margin: 0 0 3mm; font-size: 9pt; }
.tiles { display: grid; grid-template-columns: repeat(8, 1fr); gap: 2mm; margin: 0 0 3mm; }
.tile { border: 0.5pt solid #c8d3df; border-radius: 1.5mm; padding: 1.5mm 2mm; break-inside: avoid; }
.tile .label { color: #555; font-size: 8pt; }
.tile .value { font-size: 12pt; font-weight: 700; white-space: nowrap; }
.tile .value.alert { color: #c0392b; }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: 4mm; align-items: start; break-inside: avoid; }
figure { margin: 0; }
figure img { display: block; width: 100%; height: auto; }
table { width: 100%; border-collapse: collapse; font-size: 8pt; font-variant-numeric: tabular-nums; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
th, td { border-bottom: 0.4pt solid #d0d0d0; padding: 0.9mm 1.2mm; text-align: right; vertical-align: middle; }
td { white-space: nowrap; }
th { background: #eef2f6; font-weight: 700; }
th.group { text-align: center; border-bottom: 0.6pt solid #9fb3c8; }
th.first, td:first-child { text-align: left; white-space: normal; }
tr.total td { font-weight: 700; background: #f7f7f7; }
tr.group td { font-weight: 700; background: #f2f5f8; text-align: left; }
table.months { width: auto; min-width: 50%; }
ol.semantics { font-size: 8.5pt; color: #333; padding-left: 5mm; margin: 0; }
footer { margin-top: 5mm; font-size: 8pt; color: #777; }
@media print { body { padding: 0; max-width: none; } h2.tables { break-before: page; } }
"""


def _img(element_id: str, png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img id="{element_id}" alt="{escape(alt)}" src="data:image/png;base64,{data}">'


def _head(first: str) -> str:
    """Two heading rows: the groups, then each column's short heading (a column without a group spans both)."""
    groups: list[tuple[str, int]] = []
    for column in COLUMNS:
        if groups and groups[-1][0] == column.group and column.group:
            groups[-1] = (column.group, groups[-1][1] + 1)
        else:
            groups.append((column.group, 1))
    top = [f'<th rowspan="2" class="first">{escape(first)}</th>']
    below: list[str] = []
    index = 0
    for group, span in groups:
        if group:
            top.append(f'<th colspan="{span}" class="group">{escape(group)}</th>')
            below += [f"<th>{escape(c.short)}</th>" for c in COLUMNS[index:index + span]]
        else:
            top.append(f'<th rowspan="2">{escape(COLUMNS[index].short)}</th>')
        index += span
    return "<tr>" + "".join(top) + "</tr><tr>" + "".join(below) + "</tr>"


def _row(name: str, figures: Figures, css: str = "") -> str:
    cls = f' class="{css}"' if css else ""
    cells = "".join(f"<td>{escape(column.value(figures))}</td>" for column in COLUMNS)
    return f'<tr{cls}><td class="name">{escape(name)}</td>{cells}</tr>'


def _tile(label: str, value: str, alert: bool = False) -> str:
    cls = "value alert" if alert else "value"
    return f'<div class="tile"><div class="label">{escape(label)}</div><div class="{cls}">{escape(value)}</div></div>'


def _tiles(report: Report) -> str:
    t = report.total
    tiles = [
        _tile("推送事项", f"{t.pushed}件"),
        _tile("已作出决定", f"{t.decided}件"),
        _tile("按时办结率", percent(t.on_time_rate)),
        _tile("办理用时中位数", f"{days(t.handling_median_working_days)}个工作日"),
        _tile("当前在办（不限推送时间）", f"{report.backlog.open_now}件"),
        _tile("其中超期", f"{report.backlog.overdue_now}件", alert=report.backlog.overdue_now > 0),
        _tile("督办 / 补正率", f"{t.supervisions}次 / {percent(t.materials_rate)}"),
        _tile("已发放金额", f"{yuan(t.paid_yuan)}元"),
    ]
    return '<div class="tiles">' + "".join(tiles) + "</div>"


def _lines(parts: Iterable[str]) -> str:
    return "\n".join(parts)


def render_html(report: Report, county: str) -> str:
    """The whole page; raises ``report_charts.NoChineseFont`` when the charts cannot be drawn."""
    scope = department_name(report)
    on_time_png = report_charts.on_time_by_department(report)
    trend_png = report_charts.monthly_trend(report)
    satisfaction_png = report_charts.satisfaction_by_department(report)
    title = f"{county}{TITLE}"

    department_rows = [_row("全县合计" if scope is None else f"{scope}合计", report.total, "total")]
    department_rows += [_row(d.name, d.figures) for d in report.departments]
    matter_rows: list[str] = []
    for department in report.departments:
        matter_rows.append(f'<tr class="group"><td colspan="{len(COLUMNS) + 1}">{escape(department.name)}</td></tr>')
        for matter in department.matters:
            limit = f"（{matter.time_limit_working_days}日）" if matter.time_limit_working_days else ""
            matter_rows.append(_row(matter.name + limit, matter.figures))
    month_head = "".join(f"<th>{escape(c.heading)}</th>" for c in MONTH_COLUMNS)
    month_rows = ["<tr>" + "".join(f"<td>{escape(c.value(m))}</td>" for c in MONTH_COLUMNS) + "</tr>"
                  for m in report.months]
    satisfaction_head = "<th class=\"first\">部门 / 事项</th>" + "".join(
        f"<th>{escape(c.heading)}</th>" for c in SATISFACTION_COLUMNS)
    satisfaction_body = [
        (' class="total"' if kind == "total" else "").join(("<tr", f"><td>{escape(name)}</td>"))
        + "".join(f"<td>{escape(c.value(figures))}</td>" for c in SATISFACTION_COLUMNS) + "</tr>"
        for name, figures, kind in satisfaction_rows(report)]
    semantics = "".join(f"<li>{escape(line)}</li>" for line in report.semantics)

    return _lines([
        "<!doctype html>",
        '<html lang="zh-CN">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        f"<header><h1>{escape(title)}</h1>",
        f'<p class="meta">{escape(period_line(report, scope))}</p></header>',
        _tiles(report),
        '<div class="charts">',
        "<figure>" + _img("chart-on-time", on_time_png, "各部门按时办结率柱状图") + "</figure>",
        "<figure>" + _img("chart-trend", trend_png, "月度趋势折线图：按时办结率、受理与办结案件数") + "</figure>",
        "</div>",
        '<h2 class="tables">各部门</h2>',
        f"<table><thead>{_head('部门')}</thead><tbody>{''.join(department_rows)}</tbody></table>",
        "<h2>各事项</h2>",
        f"<table><thead>{_head('事项（承诺时限）')}</thead><tbody>{''.join(matter_rows)}</tbody></table>",
        f"<h2>{escape(SATISFACTION_TITLE)}</h2>",
        '<div class="charts">',
        "<figure>" + _img("chart-satisfaction", satisfaction_png, "各部门满意度评价分布条形图") + "</figure>",
        f'<table class="satisfaction"><thead><tr>{satisfaction_head}</tr></thead>'
        f'<tbody>{"".join(satisfaction_body)}</tbody></table>',
        "</div>",
        "<h2>月度趋势</h2>",
        f'<table class="months"><thead><tr>{month_head}</tr></thead><tbody>{"".join(month_rows)}</tbody></table>',
        "<h2>统计口径</h2>",
        f'<ol class="semantics">{semantics}</ol>',
        f"<footer>{escape(county)}政务服务局 · 数据来源：案件登记库 · 本报表由 shenhou report 生成</footer>",
        "</body>",
        "</html>",
    ]) + "\n"
