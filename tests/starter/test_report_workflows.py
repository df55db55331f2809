"""The report's figures agree with what the workflows did: cases run through the real worker in virtual time,
then `shenhou report --json` reads the register the worker wrote.

Every case starts at a pinned virtual time and the worker counts working days on the pinned calendar
(``tests/workflows/pinned_calendar.yaml``), so each figure below is worked out by hand and holds on any day
the suite runs. Friday 6 March 2037, 10:00: a 5-day matter's working days are 9-13 March (deadline the end
of 13 March), a 3-day matter's 9-11 March.

    A  医保 approved on Tuesday 10 March (2 working days, on time), paid;
       公积金 approved on Friday 13 March, 2 working days late (5 working days; 预警, 超时, one 催办), paid.
    B  医保 asked for 补正 at once; materials back on Thursday 12 March (the clock stood still 4 working
       days), approved on Monday 16 March: 2 working days of handling, on time; paid.
    C  残联 overdue on Monday 16 March (预警, 超时); 张主任 extends by 3 working days (to the end of
       18 March) and it is approved the same day: on time after the extension, 6 working days.
    D  公积金 rejected at once (0 working days, on time); 医保 left open: by Thursday 19 March it is 3 working
       days overdue (预警, 超时, 2 催办, 督办).
    E  Wednesday 8 April 2037: 医保 approved at once, paid (the April point of the trend).

Every case's 户口注销 is approved as soon as it is pushed (0 working days, on time).

The same register then gives `shenhou report --html FILE`: a file with nothing to fetch, whose tables and
tiles show exactly the figures of `--json`, and whose two charts a browser draws offline.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import TimeSkipper
from temporalio.worker import Worker

from activities.calendar import WorkingDayCalendar
from domain.enums import MatterCode, MatterState
from domain.policy import Policy
from register.tables import CaseRow, MatterRow
from runtime.keys import Keys
from tests.signing import TRUST
from tests.starter.report_cli import _restore_logging, data_dir, report
from tests.starter.test_report_html import CHROMIUM, assert_charts_drawn, offline_report
from tests.workflows import timeskip as ts
from tests.workflows.helpers import amount_for, approve, matter_handle, matter_state, view_of, wait_for
from worker import Dependencies

__all__ = ["_restore_logging", "data_dir"]

TZ = ZoneInfo("Asia/Shanghai")
PINNED_CALENDAR = Path(__file__).resolve().parent.parent / "workflows" / "pinned_calendar.yaml"
NHSA = MatterCode.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT
HPF = MatterCode.PROVIDENT_FUND_DEATH_WITHDRAWAL
DPF = MatterCode.DISABILITY_SUBSIDY_TERMINATION
MARCH = datetime(2037, 3, 6, 10, 0, tzinfo=TZ)
APRIL = datetime(2037, 4, 8, 10, 0, tzinfo=TZ)


def at(day: int, hour: int = 12, month: int = 3) -> datetime:
    return datetime(2037, month, day, hour, 0, tzinfo=TZ)


@pytest.fixture
def deps(engine: Engine) -> Dependencies:
    return Dependencies(engine=engine, policy=Policy(), calendar=WorkingDayCalendar.from_file(PINNED_CALENDAR),
                        trust=TRUST)


class Cases:
    """Drives cases through the skipper of their start time."""

    def __init__(self, client: Client, keys: Keys, task_queue: str) -> None:
        self.client, self.keys, self.task_queue = client, keys, task_queue

    async def open(self, skipper: TimeSkipper, start: datetime, *codes: MatterCode) -> WorkflowHandle[Any, Any]:
        handle, _ = await ts.pushed_case(skipper, self.keys, self.task_queue, *codes, at=start)
        return handle

    async def approve_at(self, skipper: TimeSkipper, case: WorkflowHandle[Any, Any], code: MatterCode,
                         when: datetime | None) -> None:
        """Approve (and have the paying system confirm the money) once the matter's clock reads ``when``."""
        matter = matter_handle(skipper.client, case.id, code)
        if when is not None:
            await ts.advance_to(skipper, matter, when, timeout=60)
        snap = await wait_for(case, lambda s: matter_state(s, code) == MatterState.UNDER_REVIEW)
        await approve(self.client, case.id, view_of(snap, code))
        final = MatterState.PAID if view_of(snap, code).pays_family else MatterState.APPROVED
        await wait_for(case, lambda s: matter_state(s, code) == final)


async def _register_settles(engine: Engine, predicate: Callable[[list[MatterRow], list[CaseRow]], bool]) -> None:
    """Wait until the worker's last writes are in the register."""

    async def read() -> tuple[list[MatterRow], list[CaseRow]]:
        with Session(engine) as session:
            return list(session.exec(select(MatterRow)).all()), list(session.exec(select(CaseRow)).all())

    await ts.poll(read, lambda found: predicate(*found), timeout=30)


class _Page(HTMLParser):
    """What a reader of the HTML report sees: each table's rows of cell texts, the tiles, the images."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.tiles: dict[str, str] = {}
        self.images: dict[str, str] = {}
        self._cell: list[str] | None = None
        self._tile: list[str] = []
        self._in_tile_part: str | None = None
        self._in_body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table":
            self.tables.append([])
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.tables[-1].append([])
        elif tag == "td" and self._in_body:
            self._cell = []
        elif tag == "img":
            self.images[found.get("id") or ""] = found.get("src") or ""
        elif tag == "div" and found.get("class") in ("label", "value", "value alert"):
            self._in_tile_part = found["class"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self._in_body = False
        elif tag == "td" and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell))
            self._cell = None
        elif tag == "div" and self._in_tile_part is not None:
            self._in_tile_part = None
            if len(self._tile) == 2:
                self.tiles[self._tile[0]] = self._tile[1]
                self._tile = []

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        elif self._in_tile_part is not None:
            self._tile.append(data)


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _cells(f: dict[str, Any]) -> list[str]:
    """A figures row of the JSON as the HTML tables show it, column by column."""

    def days(value: float | None) -> str:
        return "—" if value is None else f"{value:g}"

    counts = ("pushed", "decided", "approved", "rejected", "withdrawn")
    now_and_alerts = ("open_now", "overdue_now", "warnings", "overdue_notices", "reminders", "supervisions")
    extensions = "0" if f["extensions"] == 0 else f"{f['extensions']}/{f['extension_working_days']}"
    return ([str(f[name]) for name in counts]
            + [_percent(f["on_time_rate"]), days(f["handling_median_working_days"]),
               days(f["handling_p90_working_days"])]
            + [str(f[name]) for name in now_and_alerts]
            + [_percent(f["materials_rate"]), extensions, f"{Decimal(f['paid_yuan']):,.2f}"])


def _html_shows_the_json(page: str, data: dict[str, Any]) -> None:
    read = _Page()
    read.feed(page)
    departments_table, matters_table, satisfaction_table, months_table = read.tables
    total = data["total"]["satisfaction"]
    assert ["事项评价全县合计", str(total["ratings"])] == satisfaction_table[0][:2]
    assert departments_table == [["全县合计", *_cells(data["total"])]] + [
        [d["name"], *_cells(d["figures"])] for d in data["departments"]]
    expected_matters: list[list[str]] = []
    for department in data["departments"]:
        expected_matters.append([department["name"]])
        for matter in department["matters"]:
            limit = matter["time_limit_working_days"]
            expected_matters.append([matter["name"] + (f"（{limit}日）" if limit else ""), *_cells(matter["figures"])])
    assert matters_table == expected_matters
    assert months_table == [
        [m["month"], str(m["cases_received"]), str(m["cases_closed"]), str(m["matters_pushed"]),
         str(m["matters_decided"]), str(m["decided_on_time"]), _percent(m["on_time_rate"])] for m in data["months"]]
    total, backlog = data["total"], data["backlog"]
    assert read.tiles["推送事项"] == f"{total['pushed']}件"
    assert read.tiles["按时办结率"] == _percent(total["on_time_rate"])
    assert read.tiles["当前在办（不限推送时间）"] == f"{backlog['open_now']}件"
    assert read.tiles["其中超期"] == f"{backlog['overdue_now']}件"
    assert read.tiles["已发放金额"] == f"{Decimal(total['paid_yuan']):,.2f}元"
    # Both charts, inline as PNG data.
    for chart in ("chart-on-time", "chart-trend"):
        source = read.images[chart]
        assert source.startswith("data:image/png;base64,"), chart
        assert base64.b64decode(source.split(",", 1)[1]).startswith(b"\x89PNG\r\n\x1a\n"), chart


async def _charts_drawn_offline(path: Path) -> None:
    """Opened from the file with the network off: nothing else is requested and both charts are drawn."""
    async with offline_report(path, path.with_suffix(".png")) as page:
        await assert_charts_drawn(page)


async def test_report_counts_what_the_workflows_did(
    client: Client, keys: Keys, task_queue: str, worker: Worker, engine: Engine, data_dir: Path
) -> None:
    cases = Cases(client, keys, task_queue)
    march = ts.pinned_skipper(client, MARCH)
    april = ts.pinned_skipper(client, APRIL)

    a = await cases.open(march, MARCH, NHSA, HPF)
    await cases.approve_at(march, a, NHSA, at(10))
    await cases.approve_at(march, a, HPF, at(13))

    b = await cases.open(march, MARCH, NHSA)
    b_medical = matter_handle(march.client, b.id, NHSA)
    await b_medical.signal("request_materials", {"officer": "孙科员", "items": ["医保卡原件"]})
    await wait_for(b, lambda s: matter_state(s, NHSA) == MatterState.AWAITING_MATERIALS)
    await ts.advance_to(march, b_medical, at(12, 10), timeout=60)
    await b.signal("materials_supplemented", {"matter": NHSA.value, "items": ["医保卡原件"]})
    await wait_for(b, lambda s: matter_state(s, NHSA) == MatterState.UNDER_REVIEW)
    await cases.approve_at(march, b, NHSA, at(16))

    c = await cases.open(march, MARCH, DPF)
    c_disability = matter_handle(march.client, c.id, DPF)
    await ts.advance_to(march, c_disability, at(16), timeout=60)
    await wait_for(c, lambda s: view_of(s, DPF).overdue)
    await c_disability.signal("extend_deadline", {"supervisor": "张主任", "working_days": 3, "reason": "家属在外地"})
    await wait_for(c, lambda s: view_of(s, DPF).deadline == at(19, 0) and not view_of(s, DPF).overdue)
    await cases.approve_at(march, c, DPF, None)

    d = await cases.open(march, MARCH, NHSA, HPF)
    await matter_handle(march.client, d.id, HPF).signal("reject", {"officer": "吴科员", "reason": "未缴存公积金"})
    await wait_for(d, lambda s: matter_state(s, HPF) == MatterState.REJECTED)
    await ts.advance_to(march, matter_handle(march.client, d.id, NHSA), at(19, 10), timeout=60)
    await wait_for(d, lambda s: view_of(s, NHSA).working_days_overdue == 3)

    e = await cases.open(april, APRIL, NHSA)
    await cases.approve_at(april, e, NHSA, None)

    def settled(matters: list[MatterRow], case_rows: list[CaseRow]) -> bool:
        closed = {row.case_number for row in case_rows if row.closed_at is not None}
        open_medical = [m for m in matters if m.case_number == d.id and m.matter == NHSA.value]
        return closed == {a.id, b.id, c.id, e.id} and bool(open_medical) and open_medical[0].supervisions == 1

    await _register_settles(engine, settled)

    result = await asyncio.to_thread(report, "--from", "2037-03-01", "--to", "2037-04-30", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    departments = {d["code"]: d["figures"] for d in data["departments"]}
    police, medical, fund, disability = (departments[code] for code in ("police", "nhsa", "hpf", "dpf"))

    def figures(f: dict[str, Any], *names: str) -> tuple[Any, ...]:
        return tuple(f[name] for name in names)

    flow = ("pushed", "decided", "approved", "rejected", "withdrawn", "on_time", "on_time_rate")
    timing = ("handling_median_working_days", "handling_p90_working_days", "open_now", "overdue_now")
    alerts = ("warnings", "overdue_notices", "reminders", "supervisions")
    extra = ("materials_matters", "materials_requests", "materials_rate", "extensions", "extension_working_days",
             "paid", "paid_yuan")

    # 户口注销 of all five cases, each approved as soon as it was pushed.
    assert figures(police, *flow) == (5, 5, 5, 0, 0, 5, 1.0)
    assert figures(police, *timing) == (0.0, 0.0, 0, 0)
    assert figures(police, *alerts) == (0, 0, 0, 0)

    # 医保: A 2 days, B 2 days after its pause, E 0 days; D open, 3 working days overdue.
    assert figures(medical, *flow) == (4, 3, 3, 0, 0, 3, 1.0)
    assert figures(medical, *timing) == (2.0, 2.0, 1, 1)
    assert figures(medical, *alerts) == (1, 1, 2, 1)
    nhsa_paid = str(3 * amount_for(NHSA))
    assert figures(medical, *extra) == (1, 1, 0.25, 0, 0, 3, nhsa_paid)

    # 公积金: A late after 5 days, D rejected at once: the median halfway, p90 nine tenths of the way.
    assert figures(fund, *flow) == (2, 2, 1, 1, 0, 1, 0.5)
    assert figures(fund, *timing) == (2.5, 4.5, 0, 0)
    assert figures(fund, *alerts) == (1, 1, 1, 0)
    assert figures(fund, *extra) == (0, 0, 0.0, 0, 0, 1, str(amount_for(HPF)))

    # 残联: overdue, extended by 张主任, then on time.
    assert figures(disability, *flow) == (1, 1, 1, 0, 0, 1, 1.0)
    assert figures(disability, *timing) == (6.0, 6.0, 0, 0)
    assert figures(disability, *alerts) == (1, 1, 0, 0)
    assert figures(disability, *extra) == (0, 0, 0.0, 1, 3, 0, "0.00")

    assert all(f["pushed"] == 0 for code, f in departments.items() if code not in ("police", "nhsa", "hpf", "dpf"))

    total = data["total"]
    assert figures(total, *flow) == (12, 11, 10, 1, 0, 10, 0.9091)
    # Handling days 0 ×7, 2, 2, 5, 6.
    assert figures(total, *timing) == (0.0, 5.0, 1, 1)
    assert figures(total, *alerts) == (3, 3, 3, 1)
    paid = 3 * amount_for(NHSA) + amount_for(HPF)
    assert figures(total, *extra) == (1, 1, 0.0833, 1, 3, 4, str(paid))
    assert Decimal(total["paid_yuan"]) == paid and total["paid_fen"] == int(paid * 100)
    assert data["backlog"] == {"open_now": 1, "overdue_now": 1}

    # March: cases A-D received, A-C closed (each case's own clock stayed on 6 March); nine decisions, one
    # late (公积金 of A). April: case E, its two matters decided on time.
    assert [(m["month"], m["cases_received"], m["cases_closed"], m["matters_pushed"], m["matters_decided"],
             m["decided_on_time"], m["on_time_rate"]) for m in data["months"]] == [
        ("2037-03", 4, 3, 10, 9, 8, 0.8889),
        ("2037-04", 1, 1, 2, 2, 2, 1.0),
    ]

    # The same register as an HTML file for the supervisor's meeting.
    target = data_dir / "报表.html"
    made = await asyncio.to_thread(report, "--from", "2037-03-01", "--to", "2037-04-30", "--html", str(target))
    assert made.exit_code == 0, made.output
    assert f"报表已写入：{target}" in made.stdout
    page = target.read_text(encoding="utf-8")
    assert not re.search(r"https?:|//[a-z0-9.-]+\.[a-z]{2,}/", page, re.IGNORECASE)  # nothing to fetch
    assert re.findall(r"""(?:src|href)=["']?([a-z]*:?)""", page) == ["data:"] * 3  # the three charts only
    _html_shows_the_json(page, data)
    if CHROMIUM is None and not os.environ.get("CI"):
        pytest.skip("Debian's chromium is missing (scripts/test installs it): the charts were not drawn")
    await _charts_drawn_offline(target)
