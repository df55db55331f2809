"""What the window and the supervisor see of the county's rules at the command line: the calendar's answers
(and whether they are approximate), a 户口注销-only application, ¥0 approved, and a family applying again after
户口注销 was rejected."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

from temporalio.client import Client
from temporalio.worker import Worker

from activities.calendar import WorkingDayCalendar, YearSource
from domain.enums import MatterState
from tests.starter.test_cli import (
    HUKOU,
    MEDICAL,
    _restore_logging,
    certify,
    cli_env,
    in_progress,
    new_form,
    shenhou,
    start,
    state_of,
    wait_for,
    write_form,
)

__all__ = ["_restore_logging", "cli_env"]
CASE_RE = re.compile(r"SH-[A-Z2-7]{12}(-[2-9])?")


async def test_calendar_deadline_and_coverage(cli_env: dict[str, str]) -> None:
    # Whether 2027 is counted by rule depends on the calendar data installed: the answer says which.
    by_rule = WorkingDayCalendar().year_source(2027) is YearSource.RULES
    spring = await shenhou("calendar", "deadline", "--from", "2027-02-01", "--working-days", "5", "--json")
    assert spring.exit_code == 0, spring.output
    answer = json.loads(spring.stdout)
    assert date.fromisoformat(answer["deadline"]) >= date(2027, 2, 10)
    assert answer["approximate"] is by_rule
    new_year = json.loads((await shenhou("calendar", "deadline", "--from", "2026-12-30", "--working-days", "2",
                                         "--json")).stdout)
    assert date.fromisoformat(new_year["deadline"]) >= date(2027, 1, 4)
    told = await shenhou("calendar", "deadline", "--from", "2027-02-01", "--working-days", "5")
    assert "第5个工作日" in told.stdout and (("推算" in told.stdout) is by_rule)
    # 国庆 1-7 October 2026, and Saturday the 10th a 调休 working day.
    official = json.loads((await shenhou("calendar", "deadline", "--from", "2026-09-30", "--working-days", "3",
                                         "--json")).stdout)
    assert official == {"start": "2026-09-30", "working_days": 3, "deadline": "2026-10-10", "approximate": False,
                        "approximate_years": []}
    bad = await shenhou("calendar", "deadline", "--from", "30.12.2026", "--working-days", "2")
    assert bad.exit_code == 1 and "YYYY-MM-DD" in bad.stderr
    coverage = await shenhou("calendar", "coverage")
    assert coverage.exit_code == 0 and "年：" in coverage.stdout


async def test_a_hukou_only_application_is_accepted(
    cli_env: dict[str, str], client: Client, tmp_path: Path, worker: Worker
) -> None:
    form = new_form(matters=["police.hukou_cancellation"])
    case_number = await start(tmp_path, form)
    snap = await wait_for(client, case_number, lambda s: state_of(s, HUKOU) == MatterState.UNDER_REVIEW)
    assert [view.code.value for view in snap.matters] == [HUKOU]


async def test_nothing_to_pay_is_approved_with_zero(
    cli_env: dict[str, str], client: Client, tmp_path: Path, worker: Worker
) -> None:
    case_number = await in_progress(client, tmp_path)
    approved = await shenhou("matter", "approve", case_number, MEDICAL, "--officer", "医保赵", "--amount", "0")
    assert approved.exit_code == 0, approved.output
    snap = await wait_for(client, case_number, lambda s: state_of(s, MEDICAL) == MatterState.APPROVED)
    medical = next(v for v in snap.matters if v.code.value == MEDICAL)
    assert medical.final and medical.payment_reference is None


async def test_after_hukou_is_rejected_the_family_applies_again(
    cli_env: dict[str, str], client: Client, tmp_path: Path, worker: Worker
) -> None:
    form = new_form()
    path = write_form(tmp_path, form)
    first = await start(tmp_path, form)
    assert (await certify(first)).exit_code == 0
    await wait_for(client, first, lambda s: state_of(s, HUKOU) == MatterState.UNDER_REVIEW)
    rejected = await shenhou("matter", "reject", first, HUKOU, "--officer", "王警官", "--reason", "户籍地址不符")
    assert rejected.exit_code == 0, rejected.output
    await wait_for(client, first, lambda s: s.case_state is not None and s.case_state.value == "户口注销未通过")

    again = await shenhou("case", "start", "--form", str(path))
    assert again.exit_code == 0, again.output
    match = CASE_RE.search(again.stdout)
    assert match and match.group(0) == f"{first}-2", again.stdout
    shown = await shenhou("case", "status", match.group(0))
    assert first in shown.stdout  # the earlier case is named
