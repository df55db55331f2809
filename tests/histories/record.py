"""Regenerates the recorded histories the suite replays: `.venv/bin/python -m tests.histories.record`.

Each scenario runs on a fresh dev server with a real worker, unencrypted (the committed files hold only
the factories' fake people), and every workflow of the case is saved as `<scenario>/<workflow id>.json`.
The folders named after the scenarios hold the 1.0 shape, with no patch marker; a change shipped behind
`workflow.patched` is recorded beside them as `<scenario>:<scenario>-<patch id>` (workflows/versions.py).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import secrets
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.calendar import WorkingDayCalendar
from domain.enums import MatterCode, MatterState, PensionStatus
from domain.ids import matter_workflow_id
from domain.models import Situations
from domain.policy import Policy
from register.engine import create_schema, make_engine
from runtime.codec import data_converter
from runtime.devserver import temporal_binary
from runtime.keys import Keys
from tests.signing import TRUST
from worker import Dependencies, build_worker
from workflows import search_attributes as sa
from workflows.versions import MATTER_ADDITIONS

HERE = Path(__file__).resolve().parent
Scenario = Callable[[Client, WorkflowHandle[Any, Any]], Awaitable[None]]


async def _drive_to_parallel(client: Client, handle: WorkflowHandle[Any, Any]) -> None:
    from tests.workflows.helpers import approve_hukou, certify, matter_state, wait_for

    await certify(handle)
    await approve_hukou(client, handle)
    await wait_for(handle, lambda s: all(
        matter_state(s, m.code) == MatterState.UNDER_REVIEW
        for m in s.matters if m.code != MatterCode.HUKOU_CANCELLATION))


async def _approve_all(client: Client, handle: WorkflowHandle[Any, Any]) -> None:
    """Every matter under review approved; money confirmed by the paying system, as the bank would."""
    from tests.workflows.helpers import confirm_payment, matter_handle, status

    for view in (await status(handle)).matters:
        if view.state == MatterState.UNDER_REVIEW:
            payload: dict[str, Any] = {"officer": "李科员"}
            if view.pays_family:
                payload["amount"] = "2000.00"
            await matter_handle(client, handle.id, view.code).signal("approve", payload)
            if view.pays_family:
                await confirm_payment(client, handle.id, view.code)


async def happy(client: Client, handle: WorkflowHandle[Any, Any]) -> None:
    await _drive_to_parallel(client, handle)
    await _approve_all(client, handle)


async def rejection(client: Client, handle: WorkflowHandle[Any, Any]) -> None:
    from tests.workflows.helpers import matter_handle

    await _drive_to_parallel(client, handle)
    await matter_handle(client, handle.id, MatterCode.PROVIDENT_FUND_DEATH_WITHDRAWAL).signal(
        "reject", {"officer": "赵科员", "reason": "未查询到公积金账户"})
    await matter_handle(client, handle.id, MatterCode.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT).signal(
        "approve", {"officer": "钱科员"})  # refused: money matter without amount
    await _approve_all(client, handle)


async def materials(client: Client, handle: WorkflowHandle[Any, Any]) -> None:
    from tests.workflows.helpers import matter_handle, matter_state, wait_for

    code = MatterCode.ENTERPRISE_RETIREE_DEATH_BENEFIT
    await _drive_to_parallel(client, handle)
    await matter_handle(client, handle.id, code).signal(
        "request_materials", {"officer": "孙科员", "items": ["近期银行流水"]})
    await wait_for(handle, lambda s: matter_state(s, code) == MatterState.AWAITING_MATERIALS)
    await handle.signal("materials_supplemented", {"matter": code.value, "items": ["近期银行流水"]})
    await wait_for(handle, lambda s: matter_state(s, code) == MatterState.UNDER_REVIEW)
    await _approve_all(client, handle)


async def withdrawal(client: Client, handle: WorkflowHandle[Any, Any]) -> None:
    """One payment confirmed, one still out with the bank when the applicant withdraws: it is kept."""
    from tests.workflows.helpers import confirm_payment, matter_handle, matter_state, wait_for, window_withdrawal

    await _drive_to_parallel(client, handle)
    code = MatterCode.ENTERPRISE_RETIREE_DEATH_BENEFIT
    await matter_handle(client, handle.id, code).signal("approve", {"officer": "李科员", "amount": "800.00"})
    await wait_for(handle, lambda s: matter_state(s, code) == MatterState.PAYING)
    await handle.signal("withdraw", window_withdrawal(handle.id, "窗口周", "家属决定自行办理"))
    await confirm_payment(client, handle.id, code)


async def payment(client: Client, handle: WorkflowHandle[Any, Any]) -> None:
    """A transfer fails, the clerk corrects the account on the case, the second transfer is confirmed."""
    from client.operations import correct_bank_account
    from domain.models import PayeeCorrectedInput
    from tests.factories import APPLICANT_NAME, make_card_number
    from tests.signing import WINDOW
    from tests.workflows.helpers import confirm_payment, fail_payment, matter_handle, matter_state, wait_for

    await _drive_to_parallel(client, handle)
    code = MatterCode.ENTERPRISE_RETIREE_DEATH_BENEFIT
    matter = matter_handle(client, handle.id, code)
    await matter.signal("approve", {"officer": "李科员", "amount": "5000.00"})
    paying = await wait_for(matter, lambda s: s.matters[0].state == MatterState.PAYING)
    await fail_payment(client, handle.id, code, paying.matters[0].payment_reference, "账户已销户", by="代发系统")
    await wait_for(handle, lambda s: matter_state(s, code) == MatterState.PAYMENT_FAILED)
    await correct_bank_account(client, handle.id, PayeeCorrectedInput(
        clerk="窗口周", bank_name="中国银行", account_name=APPLICANT_NAME, card_number=make_card_number("6228", 19, 9)),
        WINDOW)
    await wait_for(matter, lambda s: s.matters[0].state == MatterState.PAYING
                   and s.matters[0].payment_reference != paying.matters[0].payment_reference)
    await confirm_payment(client, handle.id, code)
    await _approve_all(client, handle)


async def escalation(client: Client, handle: WorkflowHandle[Any, Any]) -> None:
    """The 医保 matter is left alone for two weeks: warning, 超时, reminders, 督办; then approved."""
    from tests.workflows.helpers import matter_handle, matter_state, wait_for
    from tests.workflows.timeskip import advance, time_skipper

    code = MatterCode.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT
    await _drive_to_parallel(client, handle)
    await advance(time_skipper(client), matter_handle(client, handle.id, code), timedelta(days=14), timeout=120)
    await wait_for(handle, lambda s: any(m.code == code and m.escalation_level >= 4 for m in s.matters))
    await _approve_all(client, handle)
    await wait_for(handle, lambda s: matter_state(s, code) == MatterState.PAID)


async def continued(client: Client, handle: WorkflowHandle[Any, Any]) -> None:
    """Bad signals flood the case in the parallel phase until it continues as new; its matters go on and the
    new run completes the case with their outcomes from the engine."""
    from tests.workflows.helpers import json_payload, signal_raw

    await _drive_to_parallel(client, handle)
    first = (await handle.describe()).run_id
    for burst in range(0, 1_500, 250):
        await asyncio.gather(*(signal_raw(client, handle.id, "aprove", [json_payload(b'{"officer": "x"}')])
                               for _ in range(burst, burst + 250)))
    for _ in range(600):
        if (await handle.describe()).run_id != first:
            break
        await asyncio.sleep(0.1)
    await _approve_all(client, handle)


def _signed(case_number: str, code: MatterCode, department: Any, body: dict[str, Any],
            supervisor: bool = False) -> dict[str, Any]:
    """``body`` naming its case and matter, with the statement the codec server signs for a signed-in officer."""
    from runtime.officers import Officer, decision_kind, statement_for
    from tests.signing import OFFICER

    body = {**body, "case_number": case_number, "matter": code.value}
    found = decision_kind(body)
    assert found is not None
    officer = Officer(subject=f"u-{department}", name=f"{department}官", departments=(department,),
                      supervisor=supervisor)
    statement = statement_for(OFFICER, officer, found[0], found[1])
    return {**body, "officer_statement": statement.model_dump(mode="json", exclude_none=True)}


async def officers(client: Client, handle: WorkflowHandle[Any, Any]) -> None:
    """Signed-in officers: an officer of another department is refused; a supervisor extends the
    医保 matter; every matter is approved by an officer of its own department."""
    from domain.enums import Department
    from tests.workflows.helpers import confirm_payment, matter_handle, status, wait_for

    await _drive_to_parallel(client, handle)
    nhsa = MatterCode.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT
    views = (await status(handle)).matters
    for view in views:
        if view.code == nhsa:
            matter = matter_handle(client, handle.id, nhsa)
            await matter.signal("approve", _signed(handle.id, nhsa, Department.HPF, {"officer": "x", "amount": "1.00"}))
            await matter.signal("extend_deadline", _signed(handle.id, nhsa, Department.SUPERVISION, {
                "supervisor": "x", "working_days": 3, "reason": "材料复杂"}, supervisor=True))
            await wait_for(matter, lambda s: len(s.matters[0].decisions) == 1)
    for view in views:
        if view.state == MatterState.UNDER_REVIEW:
            body: dict[str, Any] = {"officer": "x"}
            if view.pays_family:
                body["amount"] = "2000.00"
            await matter_handle(client, handle.id, view.code).signal(
                "approve", _signed(handle.id, view.code, view.department, body))
            if view.pays_family:
                await confirm_payment(client, handle.id, view.code)


async def added(client: Client, handle: WorkflowHandle[Any, Any]) -> None:
    """The window adds 公积金 (signed) while the other matters are under way; it is pushed at once and approved
    with them."""
    from client.operations import add_matters
    from domain.models import MattersAdded
    from tests.signing import WINDOW
    from tests.workflows.helpers import matter_state, wait_for

    await _drive_to_parallel(client, handle)
    hpf = MatterCode.PROVIDENT_FUND_DEATH_WITHDRAWAL
    await add_matters(client, handle.id, MattersAdded(clerk="窗口李", matters=(hpf,), situations=_ADDED_SITUATIONS
                                                      .model_copy(update={"housing_provident_fund": True})), WINDOW)
    await wait_for(handle, lambda s: matter_state(s, hpf) == MatterState.UNDER_REVIEW)
    await _approve_all(client, handle)


_ADDED_SITUATIONS = Situations(pension_status=PensionStatus.ENTERPRISE_RETIREE, employee_medical_insurance=True)

SCENARIOS: dict[str, Scenario] = {
    "officers": officers,
    "happy": happy,
    "rejection": rejection,
    "materials": materials,
    "withdrawal": withdrawal,
    "escalation": escalation,
    "payment": payment,
    "continued": continued,
    "added": added,
}

# Scenarios of a change shipped behind a patch, recorded only in its shape (`<scenario>-<patch id>`): 1.0 had
# nothing to record for them.
SINCE_PATCH: dict[str, str] = {"added": MATTER_ADDITIONS}
# The application a scenario's case starts with (default: every matter).
APPLIED: dict[str, dict[str, Any]] = {"added": {"situations": _ADDED_SITUATIONS.model_dump(mode="json")}}


def default_specs() -> list[str]:
    return [f"{name}:{name}-{SINCE_PATCH[name]}" if name in SINCE_PATCH else name for name in SCENARIOS]


async def record(specs: list[str]) -> None:
    """Each spec is `scenario` or `scenario:folder` (to keep an older recording beside a new one)."""
    from client.operations import start_case
    from tests.devserver import DEV_SERVER_STARTUP, TIME_SKIPPING_FLAG
    from tests.workflows.helpers import application
    from tests.workflows.timeskip import time_skipper

    keys = Keys(case_id_key=secrets.token_bytes(32), codec_keys={"k": secrets.token_bytes(32)}, active_key_id="k")
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_binary(), search_attributes=sa.ALL,
        data_converter=data_converter(None), dev_server_extra_args=TIME_SKIPPING_FLAG,
        dev_server_startup_timeout=DEV_SERVER_STARTUP,
    )
    try:
        with tempfile.TemporaryDirectory() as tmp, concurrent.futures.ThreadPoolExecutor(8) as pool:
            engine = make_engine(f"sqlite:///{tmp}/register.db")
            create_schema(engine)
            deps = Dependencies(engine=engine, policy=Policy(), calendar=WorkingDayCalendar(), trust=TRUST)
            queue = f"record-{uuid.uuid4().hex[:8]}"
            async with build_worker(env.client, queue, deps, pool):
                for spec in specs:
                    name, _, folder = spec.partition(":")
                    # Started through a time skipper (switched off) so a scenario can fast-forward a matter.
                    client = time_skipper(env.client).client
                    started = await start_case(client, application(**APPLIED.get(name, {})), keys.case_id_key, queue)
                    handle = client.get_workflow_handle(started.case_number)
                    await SCENARIOS[name](client, handle)
                    await asyncio.wait_for(handle.result(), timeout=60)
                    await _save(env.client, folder or name, started.case_number)
    finally:
        await env.shutdown()


async def _save(client: Client, scenario: str, case_number: str) -> None:
    folder = HERE / scenario
    folder.mkdir(exist_ok=True)
    for old in folder.glob("*.json"):
        old.unlink()
    from tests.workflows.helpers import status

    snapshot = await status(client.get_workflow_handle(case_number))
    ids = [case_number] + [matter_workflow_id(case_number, m.code) for m in snapshot.matters if m.pushed_at]
    for workflow_id in ids:
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        (folder / f"{workflow_id}.json").write_text(history.to_json())
    print(f"{scenario}: {len(ids)} histories")


if __name__ == "__main__":
    asyncio.run(record(sys.argv[1:] or default_specs()))
