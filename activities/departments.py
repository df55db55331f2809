"""Pushing work items to departments.

The default gateway is the department inbox table of the register, which departments read through
their own systems. A county that connects a department's system plugs in another gateway.
"""

from __future__ import annotations

from typing import Protocol

import structlog
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.deadlines import DeadlineActivities
from domain.enums import ErrorType
from domain.models import PushReceipt, PushRequest, Recorded, WithdrawItemRequest
from register.tables import InboxRow


class DepartmentRefused(Exception):
    """The department's system refused the item for good (not a transient failure)."""


class DepartmentGateway(Protocol):
    def push(self, request: PushRequest) -> PushReceipt: ...

    def withdraw(self, request: WithdrawItemRequest) -> bool: ...


class InboxGateway:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def push(self, request: PushRequest) -> PushReceipt:
        with Session(self._engine) as session:
            row = self._find(session, request.case_number, request.matter.value)
            if row is not None and row.id is not None:
                return PushReceipt(inbox_id=row.id, new=False)
            row = InboxRow(
                case_number=request.case_number,
                matter=request.matter.value,
                department=request.department.value,
                pushed_at=request.pushed_at,
                hukou_certificate_no=request.hukou_certificate_no,
            )
            session.add(row)
            try:
                session.commit()
            except IntegrityError:
                # An overlapping attempt of the same push (a retry while the first still ran) wrote it first.
                session.rollback()
                existing = self._find(session, request.case_number, request.matter.value)
                if existing is None or existing.id is None:
                    raise
                return PushReceipt(inbox_id=existing.id, new=False)
            session.refresh(row)
            assert row.id is not None
            return PushReceipt(inbox_id=row.id, new=True)

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
            select(InboxRow).where(InboxRow.case_number == case_number, InboxRow.matter == matter)
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
