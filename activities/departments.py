"""Pushing work items to departments.

The default gateway is the department inbox table of the register, which departments read through
their own systems. A county that connects a department's system plugs in another gateway.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Protocol, cast

import structlog
from sqlalchemy import Table, bindparam, select
from sqlalchemy.engine import Engine
from sqlmodel import Session
from sqlmodel import select as orm_select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.deadlines import DeadlineActivities
from domain.enums import ErrorType
from domain.models import PushReceipt, PushRequest, Recorded, WithdrawItemRequest
from register import prepared
from register.engine import insert_for
from register.tables import InboxRow


class DepartmentRefused(Exception):
    """The department's system refused the item for good (not a transient failure)."""


class DepartmentGateway(Protocol):
    def push(self, request: PushRequest) -> PushReceipt: ...

    def withdraw(self, request: WithdrawItemRequest) -> bool: ...


_TABLE = cast(Table, InboxRow.__table__)  # type: ignore[attr-defined]
_INBOX_ID = select(_TABLE.c.id).where(_TABLE.c.case_number == bindparam("case_key"),
                                      _TABLE.c.matter == bindparam("matter_key"))


@cache
def _push_statement(dialect: str) -> Any:
    return (insert_for(dialect)(_TABLE).on_conflict_do_nothing(index_elements=["case_number", "matter"])
            .returning(_TABLE.c.id))


class InboxGateway:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def push(self, request: PushRequest) -> PushReceipt:
        """One statement in one transaction: the item is added unless a push of the same matter (a retry, or
        an overlapping attempt) added it already, whose id is then read back."""
        values = {
            "case_number": request.case_number, "matter": request.matter.value,
            "department": request.department.value, "status": "open", "pushed_at": request.pushed_at,
            "closed_at": None, "close_reason": None, "hukou_certificate_no": request.hukou_certificate_no,
            "unit": request.unit,
        }
        with self._engine.begin() as connection:
            added = prepared.first(connection, _push_statement(connection.dialect.name), values)
            if added is not None:
                return PushReceipt(inbox_id=added[0], new=True)
            existing = prepared.first(connection, _INBOX_ID, {"case_key": request.case_number,
                                                              "matter_key": request.matter.value})
        if existing is None:
            raise RuntimeError("the department item was neither added nor found")
        return PushReceipt(inbox_id=existing[0], new=False)

    def withdraw(self, request: WithdrawItemRequest) -> bool:
        with Session(self._engine) as session:
            row = self._find(session, request.case_number, request.matter.value)
            if row is None or row.status != "open":
                return False
            row.status = "withdrawn"
            row.closed_at = request.at
            row.close_reason = request.reason
            session.add(row)
            session.commit()
            return True

    @staticmethod
    def _find(session: Session, case_number: str, matter: str) -> InboxRow | None:
        return session.exec(
            orm_select(InboxRow).where(InboxRow.case_number == case_number, InboxRow.matter == matter)
        ).first()


log = structlog.get_logger()


class DepartmentActivities:
    def __init__(self, gateway: DepartmentGateway, deadlines: DeadlineActivities) -> None:
        self._gateway = gateway
        self._deadlines = deadlines

    @activity.defn(name="push_to_department")
    def push_to_department(self, request: PushRequest) -> PushReceipt:
        """Hand the item to its department and, once it is there, count the deadline it is held to."""
        try:
            receipt = self._gateway.push(request)
            log.info("matter_pushed", department=request.department.value, inbox_id=receipt.inbox_id, new=receipt.new)
            if request.clock is not None:
                receipt = receipt.model_copy(update={"plan": self._deadlines.plan_deadline(request.clock)})
            return receipt
        except DepartmentRefused as err:
            raise ApplicationError(
                f"department refused the work item: {err}",
                type=ErrorType.DEPARTMENT_UNAVAILABLE.value,
                non_retryable=True,
            ) from err

    @activity.defn(name="withdraw_from_department")
    def withdraw_from_department(self, request: WithdrawItemRequest) -> Recorded:
        return Recorded(new=self._gateway.withdraw(request))
