"""The bar of 好差评: a rating given on the portal appears in `shenhou report --json` (and in the terminal)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from activities.calendar import WorkingDayCalendar
from domain.enums import CaseState, MatterState
from domain.policy import Policy
from domain.query_code import query_code
from portal import app as portal_app
from portal.app import PortalServices, create_app
from register.engine import create_schema, make_engine
from runtime.keys import Keys
from runtime.settings import Settings
from tests.portal.conftest import token_of
from tests.portal.test_portal_ratings import CASE, NHSA, Status, snapshot
from tests.starter.report_cli import _restore_logging, data_dir, report
from tests.workflows.helpers import TODAY

__all__ = ["_restore_logging", "data_dir"]


async def rate_on_the_portal(data_dir: Path, keys: Keys, monkeypatch: pytest.MonkeyPatch) -> None:
    """The family signs in with the case number and query code and rates a paid matter and the case."""
    engine = make_engine(f"sqlite:///{data_dir / 'register.db'}")
    create_schema(engine)
    status = Status()
    status.now = snapshot(CaseState.COMPLETED, MatterState.PAID, MatterState.REJECTED)
    monkeypatch.setattr(portal_app, "case_status", status)
    services = PortalServices(settings=Settings(data_dir=data_dir / "portal"), policy=Policy(), keys=keys,
                              client=None,  # type: ignore[arg-type]
                              engine=engine, calendar=WorkingDayCalendar(), today=lambda: TODAY)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(services)),
                                 base_url="https://portal.test") as http:
        page = await http.get("/progress")
        await http.post("/progress", data={"case_number": CASE, "code": query_code(CASE, keys.query_code_key),
                                           "csrf_token": token_of(page.text)})
        token = token_of((await http.get("/progress")).text)
        for subject, score in ((NHSA.value, "4"), ("case", "5")):
            given = await http.post("/rating", data={"csrf_token": token, "subject": subject, "score": score,
                                                     "comment": "很好"})
            assert given.status_code == 303
    engine.dispose()


def test_a_rating_given_on_the_portal_is_in_the_report(
    data_dir: Path, keys: Keys, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The CLI runs its own event loop: the portal's part runs to its end first.
    asyncio.run(rate_on_the_portal(data_dir, keys, monkeypatch))
    today = datetime.now(UTC).date()
    period = ("--from", f"{today - timedelta(days=1)}", "--to", f"{today + timedelta(days=1)}")
    result = report(*period, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    nhsa = next(d for d in data["departments"] if d["code"] == "nhsa")
    medical = next(m for m in nhsa["matters"] if m["code"] == NHSA.value)
    assert medical["figures"]["satisfaction"] == {
        "ratings": 1, "average": 4.0, "distribution": {"5": 0, "4": 1, "3": 0, "2": 0, "1": 0}}
    assert nhsa["figures"]["satisfaction"]["ratings"] == 1
    assert data["total"]["satisfaction"]["ratings"] == 1
    assert data["case_satisfaction"]["ratings"] == 1 and data["case_satisfaction"]["average"] == 5.0

    text = report(*period)
    assert text.exit_code == 0, text.output
    assert "满意度（好差评）" in text.stdout and "案件整体评价" in text.stdout
    assert "满意度评价1次，平均4.00分" in text.stdout
