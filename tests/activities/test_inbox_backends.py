"""The department inbox on both register backends: SQLite and PostgreSQL (tests/postgres.py).

A push writes one item per case and matter, however often it is retried, even when retries overlap; a
withdrawal closes the item once, with its reason.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from activities.departments import InboxGateway
from domain.enums import Department, MatterCode
from domain.models import PushRequest, WithdrawItemRequest
from register.tables import InboxRow
from tests.postgres import open_register

CASE = "SH-INBOXAAAAAAA"
MATTER = MatterCode.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT
PUSHED_AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
WITHDRAWN_AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def register(register_url: str) -> Iterator[Engine]:
    yield from open_register(register_url)


def _push(matter: MatterCode = MATTER) -> PushRequest:
    return PushRequest(case_number=CASE, matter=matter, department=Department.NHSA, pushed_at=PUSHED_AT,
                       hukou_certificate_no="ZX-0001")


def _items(engine: Engine) -> list[InboxRow]:
    with Session(engine) as session:
        return list(session.exec(select(InboxRow).where(InboxRow.case_number == CASE)).all())


def test_a_push_writes_one_item_and_a_withdrawal_closes_it_once(register: Engine) -> None:
    gateway = InboxGateway(register)
    first = gateway.push(_push())
    again = gateway.push(_push())  # a retried push
    assert first.new and not again.new and again.inbox_id == first.inbox_id

    [item] = _items(register)
    assert (item.matter, item.department, item.status, item.hukou_certificate_no) == (
        MATTER.value, "nhsa", "open", "ZX-0001")
    assert item.closed_at is None

    withdrawal = WithdrawItemRequest(case_number=CASE, matter=MATTER, reason="家属撤回申请", at=WITHDRAWN_AT)
    assert gateway.withdraw(withdrawal) is True
    assert gateway.withdraw(withdrawal.model_copy(update={"reason": "再次撤回"})) is False
    # A matter never pushed has nothing to withdraw.
    never_pushed = withdrawal.model_copy(update={"matter": MatterCode.DISABILITY_SUBSIDY_TERMINATION})
    assert gateway.withdraw(never_pushed) is False

    [item] = _items(register)
    assert (item.status, item.close_reason) == ("withdrawn", "家属撤回申请")
    assert item.closed_at is not None


def test_overlapping_pushes_of_one_matter_write_one_item(register: Engine) -> None:
    # A push retried while the first attempt still runs (its activity timed out on a slow database).
    attempts = 8
    gateway = InboxGateway(register)
    start = threading.Barrier(attempts)

    def attempt(_: int) -> tuple[int, bool]:
        start.wait(timeout=30)
        receipt = gateway.push(_push())
        return receipt.inbox_id, receipt.new

    with ThreadPoolExecutor(max_workers=attempts) as pool:
        results = list(pool.map(attempt, range(attempts)))

    assert len({inbox_id for inbox_id, _ in results}) == 1
    assert [new for _, new in results].count(True) == 1
    assert len(_items(register)) == 1
