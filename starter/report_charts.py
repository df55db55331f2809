"""The report's two charts as PNG bytes: on-time rate by department (bars) and the monthly trend (lines).

matplotlib 3.11 (pinned in pyproject.toml): the de-facto standard for static charts, renders without a
display through its Agg canvas, and reads the faces of a TrueType collection (Debian's fonts-noto-cjk ships
``NotoSansCJK-Regular.ttc`` with the SC face inside). Figures are built with the object API, never pyplot,
so nothing global is left behind in the process.

Chinese text needs a CJK font: the first of ``PREFERRED`` that matplotlib's font manager knows, else the
file fontconfig names for Chinese (``fc-list :lang=zh``), which is added to the font manager (its cache may
predate the font's installation). Without either, ``NoChineseFont`` says what to install.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from contextlib import AbstractContextManager
from functools import cache

from matplotlib import font_manager, rc_context
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from register.report import Report

PREFERRED = (
    "Noto Sans CJK SC", "Source Han Sans SC", "Noto Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
    "Noto Serif CJK SC", "Droid Sans Fallback", "AR PL UMing CN",
)
DPI = 200
BAR = "#2f5d8a"
RECEIVED = "#2f5d8a"
CLOSED = "#6aa84f"
RATE = "#c0392b"
GRID = "#d9d9d9"


class NoChineseFont(RuntimeError):
    """No font that renders Chinese is installed."""


@cache
def chinese_font() -> str:
    """The family name of a font that renders Chinese, for matplotlib's ``font.family``."""
    known = {entry.name for entry in font_manager.fontManager.ttflist}
    for family in PREFERRED:
        if family in known:
            return family
    for path in _fontconfig_files():
        before = len(font_manager.fontManager.ttflist)
        font_manager.fontManager.addfont(path)
        added = {entry.name for entry in font_manager.fontManager.ttflist[before:]}
        for family in (*PREFERRED, *sorted(added)):
            if family in added:
                return family
    raise NoChineseFont("未找到可显示中文的字体，无法绘制图表：请安装 fonts-noto-cjk（apt-get install fonts-noto-cjk）")


def _fontconfig_files() -> list[str]:
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return []
    try:
        found = subprocess.run([fc_list, ":lang=zh", "file"], capture_output=True, text=True, timeout=30,
                               check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    files = sorted({line.split(":")[0].strip() for line in found.splitlines() if line.strip()})
    # Sans faces first: they read better small.
    return sorted(files, key=lambda path: ("Sans" not in path, path))


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", facecolor="white")
    return buffer.getvalue()


def _styled() -> AbstractContextManager[None]:
    return rc_context({"font.family": [chinese_font()], "font.size": 9, "axes.unicode_minus": False})


def on_time_by_department(report: Report) -> bytes:
    """Horizontal bars of each department's on-time rate, the county's as a dashed line."""
    rows = [d for d in report.departments if d.figures.pushed > 0] or list(report.departments)
    with _styled():
        figure = Figure(figsize=(6.2, max(3.9, 0.42 * len(rows) + 1.2)))
        axes = figure.add_subplot()
        labels = [d.name for d in rows]
        values = [(d.figures.on_time_rate or 0.0) * 100 for d in rows]
        positions = list(range(len(rows)))
        axes.barh(positions, values, color=BAR, height=0.6)
        axes.set_yticks(positions, labels)
        axes.invert_yaxis()
        axes.set_xlim(0, 112)
        axes.xaxis.set_major_formatter(PercentFormatter(decimals=0))
        axes.set_xticks([0, 20, 40, 60, 80, 100])
        for position, department, value in zip(positions, rows, values, strict=True):
            f = department.figures
            text = "无已决定事项" if f.on_time_rate is None else f"{value:.1f}%（{f.on_time}/{f.decided}）"
            axes.text(value + 1, position, text, va="center", fontsize=8)
        county = report.total.on_time_rate
        if county is not None:
            scope = "全县" if report.department is None else "合计"
            axes.axvline(county * 100, color=RATE, linestyle="--", linewidth=1, label=f"{scope} {county * 100:.1f}%")
            axes.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8, borderaxespad=0.2)
        axes.set_title("各部门按时办结率", loc="left", fontsize=10)
        axes.grid(axis="x", color=GRID, linewidth=0.6)
        axes.set_axisbelow(True)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        return _png(figure)


def monthly_trend(report: Report) -> bytes:
    """Two panels on the months: the on-time rate above, cases received and closed below."""
    months = [m.month for m in report.months]
    positions = list(range(len(months)))
    with _styled():
        figure = Figure(figsize=(6.2, 3.9))
        rate_axes, case_axes = figure.subplots(2, 1, sharex=True, height_ratios=[1, 1])
        decided = [(i, m.on_time_rate * 100) for i, m in enumerate(report.months) if m.on_time_rate is not None]
        if decided:
            xs, ys = zip(*decided, strict=True)
            rate_axes.plot(xs, ys, color=RATE, marker="o", linewidth=1.6, markersize=4)
            for x, y in decided:
                rate_axes.annotate(f"{y:.1f}%", (x, y), textcoords="offset points", xytext=(0, 6), ha="center",
                                   fontsize=7)
        rate_axes.set_ylim(0, 118)
        rate_axes.set_yticks([0, 25, 50, 75, 100])
        rate_axes.yaxis.set_major_formatter(PercentFormatter(decimals=0))
        rate_axes.set_title("月度趋势：按时办结率（当月作出决定的事项）", loc="left", fontsize=10)
        case_axes.plot(positions, [m.cases_received for m in report.months], color=RECEIVED, marker="o",
                       linewidth=1.6, markersize=4, label="受理案件")
        case_axes.plot(positions, [m.cases_closed for m in report.months], color=CLOSED, marker="s",
                       linewidth=1.6, markersize=4, label="办结案件")
        case_axes.set_ylim(bottom=0, top=max(1, *(m.cases_received for m in report.months),
                                             *(m.cases_closed for m in report.months)) * 1.15)
        case_axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        case_axes.set_title("受理与办结案件数", loc="left", fontsize=10)
        # Above the panel, right of its title: never over the lines.
        case_axes.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False, ncols=2, fontsize=8,
                         borderaxespad=0.2)
        case_axes.set_xticks(positions, months, rotation=45 if len(months) > 6 else 0)
        case_axes.set_xlim(-0.5, len(months) - 0.5)
        for axes in (rate_axes, case_axes):
            axes.grid(axis="y", color=GRID, linewidth=0.6)
            axes.set_axisbelow(True)
            for side in ("top", "right"):
                axes.spines[side].set_visible(False)
        figure.align_ylabels()
        return _png(figure)


# 好差评 grades, best first, from green to red.
GRADE_COLOURS = (("5", "非常满意", "#2e7d32"), ("4", "满意", "#8bc34a"), ("3", "基本满意", "#f2c037"),
                 ("2", "不满意", "#ef8a3c"), ("1", "非常不满意", "#c0392b"))


def satisfaction_by_department(report: Report) -> bytes:
    """Each department's ratings as one bar split by grade (share of its ratings), the average beside it;
    the whole cases' ratings as the last bar."""
    rows = [(d.name, d.figures.satisfaction) for d in report.departments]
    rows.append(("案件整体", report.case_satisfaction))
    with _styled():
        figure = Figure(figsize=(6.2, max(3.0, 0.42 * len(rows) + 1.2)))
        axes = figure.add_subplot()
        positions = list(range(len(rows)))
        left = [0.0] * len(rows)
        for score, label, colour in GRADE_COLOURS:
            shares = [(s.distribution.get(score, 0) / s.ratings * 100) if s.ratings else 0.0 for _, s in rows]
            axes.barh(positions, shares, left=left, color=colour, height=0.6, label=label)
            left = [a + b for a, b in zip(left, shares, strict=True)]
        axes.set_yticks(positions, [name for name, _ in rows])
        axes.invert_yaxis()
        axes.set_xlim(0, 135)
        axes.set_xticks([0, 20, 40, 60, 80, 100])
        axes.xaxis.set_major_formatter(PercentFormatter(decimals=0))
        for position, (_, s) in zip(positions, rows, strict=True):
            text = "暂无评价" if s.average is None else f"平均{s.average:.2f}分（{s.ratings}次）"
            axes.text(101, position, text, va="center", fontsize=8)
        axes.set_title("各部门评价分布", loc="left", fontsize=10)
        # Below the bars: never over the title or the bars.
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), frameon=False, ncols=5, fontsize=8)
        axes.grid(axis="x", color=GRID, linewidth=0.6)
        axes.set_axisbelow(True)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        return _png(figure)
