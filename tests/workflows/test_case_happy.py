"""The case end to end: one application, 户口注销 first, every other matter in parallel, money paid, 办结.

Pension statuses are mutually exclusive, so five cases (one per pension status, every other situation
on) together cover all eleven matters of the catalogue.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from sqlalchemy.engine import Engine
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.worker import Worker

from domain.catalogue import DEPARTMENT_NAMES
from domain.enums import CaseState, Department, MatterCode, MatterState, PensionStatus
from register.money import to_yuan
from runtime.keys import Keys
from tests.workflows.helpers import (
    HUKOU,
    application_for,
    approve,
    describe,
    family_messages,
    inbox_rows,
    payment_rows,
    start,
    status,
    to_parallel_phase,
)

M = MatterCode

# docs/domain.md, "The catalogue and 承诺时限": which department handles each matter, and whether the
# family is paid.
DEPARTMENT = {
    M.HUKOU_CANCELLATION: Department.POLICE,
    M.ENTERPRISE_RETIREE_DEATH_BENEFIT: Department.HRSS,
    M.ENTERPRISE_EMPLOYEE_DEATH_BENEFIT: Department.HRSS,
    M.INSTITUTION_EMPLOYEE_DEATH_TERMINATION: Department.HRSS,
    M.INSTITUTION_RETIREE_DEATH_TERMINATION: Department.HRSS,
    M.RESIDENT_PENSION_FUNERAL_SUBSIDY: Department.HRSS,
    M.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT: Department.NHSA,
    M.SOCIAL_ASSISTANCE_TERMINATION: Department.MCA,
    M.PROVIDENT_FUND_DEATH_WITHDRAWAL: Department.HPF,
    M.DISABILITY_SUBSIDY_TERMINATION: Department.DPF,
    M.PREFERENTIAL_BENEFIT_TERMINATION: Department.VA,
    M.RESIDENT_MEDICAL_INSURANCE_TERMINATION: Department.NHSA,
}
PAYS_FAMILY = {
    M.ENTERPRISE_RETIREE_DEATH_BENEFIT, M.ENTERPRISE_EMPLOYEE_DEATH_BENEFIT,
    M.INSTITUTION_EMPLOYEE_DEATH_TERMINATION, M.INSTITUTION_RETIREE_DEATH_TERMINATION,
    M.RESIDENT_PENSION_FUNERAL_SUBSIDY, M.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT,
    M.PROVIDENT_FUND_DEATH_WITHDRAWAL, M.PREFERENTIAL_BENEFIT_TERMINATION,
}
PENSION_MATTER = {
    PensionStatus.ENTERPRISE_RETIREE: M.ENTERPRISE_RETIREE_DEATH_BENEFIT,
    PensionStatus.ENTERPRISE_EMPLOYEE: M.ENTERPRISE_EMPLOYEE_DEATH_BENEFIT,
    PensionStatus.INSTITUTION_EMPLOYEE: M.INSTITUTION_EMPLOYEE_DEATH_TERMINATION,
    PensionStatus.INSTITUTION_RETIREE: M.INSTITUTION_RETIREE_DEATH_TERMINATION,
    PensionStatus.RESIDENT_PENSIONER: M.RESIDENT_PENSION_FUNERAL_SUBSIDY,
}
FLAG_MATTERS = {
    M.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT, M.SOCIAL_ASSISTANCE_TERMINATION, M.PROVIDENT_FUND_DEATH_WITHDRAWAL,
    M.DISABILITY_SUBSIDY_TERMINATION, M.PREFERENTIAL_BENEFIT_TERMINATION, M.RESIDENT_MEDICAL_INSURANCE_TERMINATION,
}


def test_the_five_pension_statuses_cover_every_matter() -> None:
    covered = {HUKOU} | FLAG_MATTERS | set(PENSION_MATTER.values())
    assert covered == set(MatterCode)


async def test_every_matter_reaches_its_department_and_the_case_completes(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker
) -> None:
    """Five cases at once on one worker, one per pension status (a failure names its status)."""

    async def one(pension: PensionStatus) -> None:
        try:
            await _case_end_to_end(client, keys, task_queue, engine, pension)
        except BaseException as err:
            err.add_note(f"in the case of pension status {pension.value}")
            raise

    async with asyncio.TaskGroup() as group:
        for pension in PENSION_MATTER:
            group.create_task(one(pension))


async def _case_end_to_end(client: Client, keys: Keys, task_queue: str, engine: Engine, pension: PensionStatus) -> None:
    handle = await start(client, keys, task_queue, application_for(pension, resident_medical_insurance=True))
    case = handle.id
    expected = {HUKOU, PENSION_MATTER[pension], *FLAG_MATTERS}

    snap = await to_parallel_phase(client, handle)
    assert snap.case_state == CaseState.IN_PROGRESS
    assert {view.code for view in snap.matters} == expected
    amounts = {}
    for view in snap.matters:
        if view.code == HUKOU:
            continue
        assert view.deadline is not None and view.pushed_at is not None
        amount = await approve(client, case, view)
        if amount is not None:
            amounts[view.code] = amount
    assert set(amounts) == expected & PAYS_FAMILY

    result = await handle.result()
    assert result.state == CaseState.COMPLETED
    snap = await status(handle)
    assert snap.case_state == CaseState.COMPLETED and snap.closed_at is not None
    assert snap.hukou_certificate_no == "ZX-0001"

    # Each matter ran as its own workflow `<case>.<code>`, completed, at the right department.
    for view in snap.matters:
        description = await describe(client, f"{case}.{view.code.value}")
        assert description is not None, view.code
        assert description.status == WorkflowExecutionStatus.COMPLETED
        assert description.parent_id == case
        assert view.department == DEPARTMENT[view.code]
        assert view.department_name == DEPARTMENT_NAMES[DEPARTMENT[view.code]]
        assert view.final
        if view.code in PAYS_FAMILY:
            assert view.state == MatterState.PAID, view.code
            assert view.amount == amounts[view.code]
            assert view.payment_reference
        else:
            assert view.state == MatterState.APPROVED, view.code
            assert view.amount is None
    assert {r.matter: r.state for r in result.matters} == {v.code: v.state for v in snap.matters}

    # The department inboxes hold exactly one item per matter, each at its department.
    inbox = inbox_rows(engine, case)
    assert {code: row.department for code, row in inbox.items()} == {
        code.value: DEPARTMENT[code].value for code in expected
    }
    # Each closed with its outcome once the matter was final.
    assert {code: row.status for code, row in inbox.items()} == {
        code.value: "paid" if code in amounts else "approved" for code in expected
    }
    assert all(row.closed_at is not None for row in inbox.values())
    assert all(row.hukou_certificate_no == "ZX-0001" for code, row in inbox.items() if code != HUKOU.value)

    # The payments ledger: exactly one instruction per paid matter, with the approved amount, confirmed.
    payments = payment_rows(engine, case)
    assert Counter(row.matter for row in payments) == Counter(code.value for code in amounts)
    assert {row.matter: to_yuan(row.amount_fen) for row in payments} == {
        code.value: amount for code, amount in amounts.items()
    }
    assert all(row.status == "confirmed" and row.confirmed_at is not None for row in payments)
    assert {row.reference for row in payments} == {
        view.payment_reference for view in snap.matters if view.code in amounts
    }

    # The family was told each step, once: 受理, 户口注销完成, every outcome, every payment, 办结.
    family = family_messages(engine, case)
    assert Counter(family) == Counter(
        [("case_received", None), ("hukou_cancelled", None), ("case_completed", None)]
        + [("matter_approved", code.value) for code in expected - {HUKOU}]
        + [("money_sent", code.value) for code in amounts]
    )
    assert family[0] == ("case_received", None)
    assert family[1] == ("hukou_cancelled", None)
    assert family[-1] == ("case_completed", None)
