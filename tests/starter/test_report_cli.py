"""`shenhou report` as the supervisor types it: the figures in the terminal and as JSON, and what it says
when it cannot answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from register.engine import create_schema, make_engine
from starter import report_charts
from tests.register.rows import fill
from tests.starter.report_cli import _restore_logging, data_dir, report

__all__ = ["_restore_logging", "data_dir"]

PERIOD = ("--from", "2037-03-01", "--to", "2037-04-30")


@pytest.fixture
def filled(data_dir: Path) -> Engine:
    engine = make_engine(f"sqlite:///{data_dir / 'register.db'}")
    create_schema(engine)
    fill(engine)
    return engine


def test_json_and_terminal_show_the_same_figures(filled: Engine) -> None:
    result = report(*PERIOD, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["period_from"], data["period_to"], data["department"]) == ("2037-03-01", "2037-04-30", None)
    assert data["total"]["pushed"] == 9 and data["total"]["on_time_rate"] == 0.6667
    assert data["total"]["paid_yuan"] == "6234.57" and data["total"]["paid_fen"] == 623457
    assert [m["month"] for m in data["months"]] == ["2037-03", "2037-04"]
    assert any("推送时间在统计期内" in line for line in data["semantics"])

    text = report(*PERIOD)
    assert text.exit_code == 0, text.output
    out = text.stdout
    assert "统计期：2037-03-01 至 2037-04-30" in out and "全部部门" in out
    assert "按时办结率66.7%" in out and "已发放6,234.57元" in out and "当前在办4件" in out
    medical = next(line for line in out.splitlines() if "医保个人账户清算" in line)
    # 7 pushed, 4 decided, 50% on time, median 3 and p90 6.1 working days, 1,234.57 yuan paid.
    assert medical.split()[1:9] == ["7", "4", "3", "1", "1", "50.0%", "3", "6.1"]
    assert medical.rstrip().endswith("1,234.57")
    assert "统计口径" in out


def test_one_department(filled: Engine) -> None:
    result = report(*PERIOD, "--department", "NHSA", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["department"] == "nhsa" and [d["code"] for d in data["departments"]] == ["nhsa"]
    assert data["total"]["pushed"] == 7


@pytest.mark.parametrize(("args", "message"), [
    (("--from", "2037-3-1"), "--from 日期格式不正确"),
    (("--from", "2037-05-01", "--to", "2037-04-30"), "起始日不能晚于截止日"),
    (("--department", "supervision"), "不认识的部门代码"),
    (("--department", "tax"), "不认识的部门代码"),
])
def test_refuses_what_it_cannot_read(filled: Engine, args: tuple[str, ...], message: str) -> None:
    result = report(*args)
    assert result.exit_code == 1
    assert message in result.stderr


def test_without_a_register_says_so(data_dir: Path) -> None:
    result = report(*PERIOD)
    assert result.exit_code == 1
    assert "未找到案件登记库" in result.stderr
    # Asking must not create an empty register.
    assert not (data_dir / "register.db").exists()
    as_json = report(*PERIOD, "--json")
    assert as_json.exit_code == 1 and "未找到案件登记库" in json.loads(as_json.stdout)["error"]


def test_html_without_a_chinese_font_fails_clearly(
    filled: Engine, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report_charts.chinese_font.cache_clear()
    monkeypatch.setattr(report_charts, "PREFERRED", ("No Such Font",))
    monkeypatch.setattr(report_charts, "_fontconfig_files", list)
    try:
        result = report(*PERIOD, "--html", str(data_dir / "report.html"))
    finally:
        report_charts.chinese_font.cache_clear()
    assert result.exit_code == 3
    assert "未找到可显示中文的字体" in result.stderr and "fonts-noto-cjk" in result.stderr
    assert not (data_dir / "report.html").exists()


def test_the_terminal_report_fits_120_columns_with_every_heading_whole(
    filled: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from starter import render
    from starter.report_format import COLUMNS

    monkeypatch.setattr(render, "PIPE_WIDTH", 120)
    out = report(*PERIOD).stdout
    assert max(len(line.rstrip()) for line in out.splitlines()) <= 120
    assert "…" not in out
    headings = [line for line in out.splitlines() if line.lstrip().startswith("事项（承诺时限）")]
    assert headings and all(any(column.heading in line for line in headings) for column in COLUMNS), headings


def test_the_html_report_is_not_printed_again_in_the_terminal(filled: Engine, data_dir: Path) -> None:
    target = data_dir / "report.html"
    result = report(*PERIOD, "--html", str(target))
    assert result.exit_code == 0 and target.exists()
    assert "统计口径" not in result.stdout and str(target) in result.stdout
