"""A department and a matter added by catalogue alone (tests/catalogues.py: 交警大队, 驾驶证注销, 5 working days,
nothing paid, selected by a yes/no question), taken through a case to 办结: the form offers it, intake selects
it, the department receives it, the ladder holds it to its time limit, the officer approves, the case completes
and the report counts it. And a running case keeps the catalogue it started under when the worker restarts
with another."""

from __future__ import annotations

import concurrent.futures
import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy.engine import Engine
from temporalio.client import Client

from activities.calendar import WorkingDayCalendar
from domain.application import validate_application
from domain.catalogue import Catalogue, active_catalogue
from domain.enums import CaseState, EscalationStep, MatterState, PensionStatus
from domain.models import Application, MatterInput
from domain.policy import Policy
from portal.app import PortalServices, create_app
from portal.form import all_inputs, online_matters
from register.report import Period, build_report
from register.sealing import Sealer
from runtime.keys import Keys
from runtime.policy_file import load_policy
from tests.catalogues import DRIVING_LICENCE, TRAFFIC, catalogue_in_use, with_traffic
from tests.factories import unique_form
from tests.portal.conftest import portal_settings
from tests.signing import TRUST
from tests.workflows import timeskip as ts
from tests.workflows.helpers import (
    HUKOU,
    TODAY,
    approve,
    inbox_rows,
    matter_handle,
    start,
    status,
    to_parallel_phase,
    view_of,
    wait_for,
)
from worker import Dependencies, build_worker

TZ = ZoneInfo("Asia/Shanghai")
SITUATIONS = {"pension_status": PensionStatus.NONE.value, "employee_medical_insurance": False,
              "social_assistance": False, "housing_provident_fund": False, "disability_subsidy": False,
              "preferential_care": False, "driving_licence": True}


@pytest.fixture
def traffic() -> Iterator[Catalogue]:
    with catalogue_in_use(with_traffic()) as catalogue:
        yield catalogue


def county_policy(catalogue: Catalogue) -> Policy:
    """The policy the worker loads at start over the county's catalogue (runtime/policy_file.py: load_county);
    called where ``catalogue`` is the process's."""
    assert active_catalogue() is catalogue
    return load_policy(None)


@pytest.fixture
def deps(engine: Engine, calendar: WorkingDayCalendar, sealer: Sealer, traffic: Catalogue) -> Dependencies:
    return Dependencies(engine=engine, policy=county_policy(traffic), calendar=calendar, sealer=sealer, trust=TRUST)


def traffic_application(seed: int) -> Application:
    result = validate_application(unique_form(seed, situations=SITUATIONS), Policy(), TODAY)
    assert isinstance(result, Application), result
    return result


async def test_the_form_offers_a_matter_the_catalogue_adds(
    traffic: Catalogue, client: Client, keys: Keys, engine: Engine, calendar: WorkingDayCalendar, tmp_path: Path,
) -> None:
    policy = county_policy(traffic)
    inputs = {spec.name: spec for spec in all_inputs(policy)}
    assert inputs["situations.driving_licence"].label == "持有机动车驾驶证"
    assert DRIVING_LICENCE in [m.code for m in online_matters(policy)]
    services = PortalServices(settings=portal_settings(tmp_path), policy=policy, keys=keys, client=client,
                              engine=engine, calendar=calendar, today=lambda: TODAY)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(services)),
                                 base_url="http://portal") as http:
        home = await http.get("/")
    assert home.status_code == 200
    assert "驾驶证注销（公安局交通管理大队）" in home.text
    # Intake: the new question selects it; unanswered, it is not chosen.
    assert traffic_application(7001).matters == (HUKOU, DRIVING_LICENCE)
    without = validate_application(unique_form(7002, situations={**SITUATIONS, "driving_licence": False}),
                                   policy, TODAY)
    assert isinstance(without, Application) and without.matters == (HUKOU,)


async def test_a_matter_added_by_catalogue_alone_runs_to_completion_and_is_reported(
    traffic: Catalogue, client: Client, keys: Keys, task_queue: str, engine: Engine, worker: object,
    calendar: WorkingDayCalendar,
) -> None:
    skipper = ts.time_skipper(client)
    handle = await start(skipper.client, keys, task_queue, traffic_application(7003))
    snap = await to_parallel_phase(skipper.client, handle)
    view = view_of(snap, DRIVING_LICENCE)
    assert view.state == MatterState.UNDER_REVIEW
    assert (view.department, view.department_name) == (TRAFFIC, "公安局交通管理大队")
    assert view.time_limit_working_days == 5 and not view.pays_family

    # The department received it.
    assert inbox_rows(engine, handle.id)[DRIVING_LICENCE.value].department == TRAFFIC.value

    # The ladder holds it to its 5 working days: 预警 one working day before the deadline, not before.
    assert view.pushed_at is not None
    plan = ts.plan(calendar, handle.id, DRIVING_LICENCE, view.pushed_at, 5)
    assert view.deadline == plan.deadline
    matter = matter_handle(skipper.client, handle.id, DRIVING_LICENCE)
    warning = ts.rung(plan, EscalationStep.WARNING)
    await ts.advance_to(skipper, matter, warning.at - ts.MARGIN)
    assert (await status(matter)).matters[0].escalations == ()
    await ts.advance_to(skipper, matter, warning.at + ts.MARGIN)
    assert (await status(matter)).matters[0].escalations == (EscalationStep.WARNING,)
    assert ts.row_keys(ts.ladder_rows(engine, handle.id, DRIVING_LICENCE)) == [
        ("deadline_warning", "department", "0/warning/0")]

    # The officer approves; the case completes.
    await approve(skipper.client, handle.id, view, officer="赵警官")
    result = await handle.result()
    assert result.state == CaseState.COMPLETED
    assert {m.matter: m.state for m in result.matters}[DRIVING_LICENCE] == MatterState.APPROVED

    # The report counts it, under its department.
    day = view.pushed_at.astimezone(TZ).date()
    report = build_report(engine, Period(day - timedelta(days=1), day + timedelta(days=31), TZ))
    department = next(d for d in report.departments if d.code == TRAFFIC.value)
    assert department.name == "公安局交通管理大队"
    [row] = department.matters
    assert (row.code, row.name, row.time_limit_working_days) == (DRIVING_LICENCE.value, "驾驶证注销", 5)
    assert (row.figures.pushed, row.figures.decided, row.figures.approved) == (1, 1, 1)


async def test_a_running_case_keeps_the_catalogue_it_started_under(
    client: Client, keys: Keys, task_queue: str, engine: Engine, calendar: WorkingDayCalendar, sealer: Sealer,
    executor: concurrent.futures.ThreadPoolExecutor,
) -> None:
    first = with_traffic(version="2027-01-a", time_limit=5)
    second = with_traffic(version="2027-02-b", time_limit=10)
    with catalogue_in_use(first):
        deps = Dependencies(engine=engine, policy=county_policy(first), calendar=calendar, sealer=sealer,
                            trust=TRUST)
        app = traffic_application(7004)
        async with build_worker(client, task_queue, deps, executor):
            handle = await start(client, keys, task_queue, app)
            snap = await to_parallel_phase(client, handle)
    pushed = view_of(snap, DRIVING_LICENCE)
    # The worker restarts with a new version of the catalogue: 10 working days.
    with catalogue_in_use(second):
        later = dataclasses.replace(deps, policy=county_policy(second))
        async with build_worker(client, task_queue, later, executor):
            snap = await wait_for(handle, lambda s: view_of(s, DRIVING_LICENCE).state == MatterState.UNDER_REVIEW)
            view = view_of(snap, DRIVING_LICENCE)
            assert view.time_limit_working_days == 5 and view.deadline == pushed.deadline
            started = await matter_handle(client, handle.id, DRIVING_LICENCE).fetch_history()
            first_event = started.events[0].workflow_execution_started_event_attributes
            [matter_input] = await client.data_converter.decode(list(first_event.input.payloads), [MatterInput])
            assert matter_input.matter_policy is not None
            assert matter_input.matter_policy.definition.time_limit_working_days == 5
            assert matter_input.matter_policy.catalogue_version == "2027-01-a"
            assert matter_input.matter_policy.definition.department_name == "公安局交通管理大队"
            # The officer's brief names the situation by the catalogue's words.
            assert matter_input.brief is not None and "持有机动车驾驶证" in matter_input.brief.situations
            # A case started now runs by the new version.
            fresh = await start(client, keys, task_queue, traffic_application(7005))
            assert view_of(await to_parallel_phase(client, fresh),
                           DRIVING_LICENCE).time_limit_working_days == 10
            await approve(client, handle.id, view)
            assert (await handle.result()).state == CaseState.COMPLETED
