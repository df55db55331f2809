"""好差评 on the portal over HTTP (no browser, no Temporal: the case's status is a fixed snapshot): the form
only for what is decided, CSRF, a clear word for bad input that keeps what was typed, stored once, 已评价."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from activities.calendar import WorkingDayCalendar
from domain.catalogue import active_catalogue
from domain.enums import CaseState, Department, MatterCode, MatterState
from domain.models import MatterView, StatusSnapshot
from domain.policy import Policy
from domain.query_code import query_code
from portal import app as portal_app
from portal.app import PortalServices, create_app
from register.tables import RatingRow
from runtime.keys import Keys
from runtime.settings import Settings
from tests.portal.conftest import token_of
from tests.workflows.helpers import TODAY

CASE = "SH-ABCDEFGH2345"
NHSA = MatterCode.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT
HPF = MatterCode.PROVIDENT_FUND_DEATH_WITHDRAWAL


def view(code: MatterCode, department: Department, state: MatterState) -> MatterView:
    definition = next(d for d in active_catalogue().definitions() if d.code == code)
    assert definition.department == department
    return MatterView(case_number=CASE, code=code, name=definition.name, department=department,
                      department_name=definition.department_name, state=state, pays_family=True,
                      time_limit_working_days=definition.time_limit_working_days)


def snapshot(case_state: CaseState, nhsa: MatterState, hpf: MatterState) -> StatusSnapshot:
    return StatusSnapshot(case_number=CASE, scope="case", case_state=case_state, matters=(
        view(NHSA, Department.NHSA, nhsa), view(HPF, Department.HPF, hpf)))


class Status:
    def __init__(self) -> None:
        self.now = snapshot(CaseState.IN_PROGRESS, MatterState.PAID, MatterState.UNDER_REVIEW)

    async def __call__(self, _client: Any, number: str) -> StatusSnapshot:
        assert number == CASE
        return self.now


@pytest.fixture
def status(monkeypatch: pytest.MonkeyPatch) -> Iterator[Status]:
    fixed = Status()
    monkeypatch.setattr(portal_app, "case_status", fixed)
    yield fixed


@pytest.fixture
async def http(keys: Keys, engine: Engine, calendar: WorkingDayCalendar, tmp_path: Path, status: Status) -> Any:
    settings = Settings(data_dir=tmp_path / "data")
    services = PortalServices(settings=settings, policy=Policy(), keys=keys, client=None,  # type: ignore[arg-type]
                              engine=engine, calendar=calendar, today=lambda: TODAY)
    transport = httpx.ASGITransport(app=create_app(services))
    async with httpx.AsyncClient(transport=transport, base_url="https://portal.test") as client:
        page = await client.get("/progress")
        signed = await client.post("/progress", data={
            "case_number": CASE, "code": query_code(CASE, keys.query_code_key), "csrf_token": token_of(page.text)})
        assert signed.status_code == 303
        yield client



def forms(page: str) -> list[str]:
    return re.findall(r'name="subject" value="([^"]+)"', page)


def ratings(engine: Engine) -> list[RatingRow]:
    with Session(engine) as session:
        return list(session.exec(select(RatingRow)).all())


async def test_a_decided_matter_is_rated_once_and_shown_as_rated(
    http: httpx.AsyncClient, engine: Engine, status: Status,
) -> None:
    page = await http.get("/progress")
    # The paid matter may be rated; the one under review and the unfinished case may not.
    assert forms(page.text) == [NHSA.value]
    assert "满意度评价" in page.text and "非常满意" in page.text and "非常不满意" in page.text
    token = token_of(page.text)
    answer = await http.post("/rating", data={"csrf_token": token, "subject": NHSA.value, "score": "4",
                                              "comment": "窗口服务耐心，办理很快。"})
    assert answer.status_code == 303 and answer.headers["location"] == f"/progress#rating-{NHSA.value}"
    [row] = ratings(engine)
    assert (row.case_number, row.subject, row.department, row.score, row.comment, row.channel) == (
        CASE, NHSA.value, "nhsa", 4, "窗口服务耐心，办理很快。", "portal")
    assert row.sent_at is None
    again = await http.get("/progress")
    assert "已评价：满意" in again.text and forms(again.text) == []
    # A second rating of the same matter is refused: the first stands.
    second = await http.post("/rating", data={"csrf_token": token, "subject": NHSA.value, "score": "1"})
    assert second.status_code == 303
    assert [r.score for r in ratings(engine)] == [4]


async def test_the_whole_case_is_rated_once_it_is_completed(
    http: httpx.AsyncClient, engine: Engine, status: Status,
) -> None:
    token = token_of((await http.get("/progress")).text)
    early = await http.post("/rating", data={"csrf_token": token, "subject": "case", "score": "5"})
    assert early.status_code == 409 and "办结后方可评价" in early.text
    status.now = snapshot(CaseState.COMPLETED, MatterState.PAID, MatterState.REJECTED)
    page = await http.get("/progress")
    assert forms(page.text) == ["case", NHSA.value, HPF.value]
    assert "整体办理的评价" in page.text
    done = await http.post("/rating", data={"csrf_token": token, "subject": "case", "score": "5"})
    assert done.status_code == 303
    assert [(r.subject, r.department, r.score) for r in ratings(engine)] == [("case", "", 5)]


async def test_bad_input_is_told_in_chinese_and_what_was_typed_is_kept(
    http: httpx.AsyncClient, engine: Engine,
) -> None:
    token = token_of((await http.get("/progress")).text)
    unscored = await http.post("/rating", data={"csrf_token": token, "subject": NHSA.value, "score": "",
                                                "comment": "材料一次说清"})
    assert unscored.status_code == 400 and "请选择满意程度" in unscored.text
    assert "材料一次说清</textarea>" in unscored.text
    forged = await http.post("/rating", data={"csrf_token": token, "subject": NHSA.value, "score": "9"})
    assert forged.status_code == 400 and "请选择满意程度" in forged.text
    long = "很" * 201
    too_long = await http.post("/rating", data={"csrf_token": token, "subject": NHSA.value, "score": "2",
                                                "comment": long})
    assert too_long.status_code == 400 and "不超过200字" in too_long.text
    assert long in too_long.text and 'value="2" checked' in too_long.text
    assert ratings(engine) == []


async def test_a_rating_without_the_session_token_is_refused(http: httpx.AsyncClient, engine: Engine) -> None:
    refused = await http.post("/rating", data={"csrf_token": "forged", "subject": NHSA.value, "score": "5"})
    assert refused.status_code == 403 and "页面已过期" in refused.text
    assert ratings(engine) == []


async def test_the_sms_link_leads_to_the_progress_page(http: httpx.AsyncClient) -> None:
    answer = await http.get("/rate")
    assert answer.status_code == 303 and answer.headers["location"] == "/progress"

