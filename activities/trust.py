"""Checks workflows cannot make themselves: a statement's signature against the worker's trust anchors (the keys
live here, outside every history), and a matter's outcome as the engine holds it (the case's run that follows a
continue-as-new did not start its matters, so it asks the engine rather than believing a signal)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import structlog
from temporalio import activity
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import SearchAttributeKey
from temporalio.service import RPCError, RPCStatusCode

from domain.enums import Issuer, MatterState
from domain.ids import matter_workflow_id
from domain.models import (
    MatterOutcomeRequest,
    MatterResult,
    MatterStanding,
    OfficerCheck,
    OfficerVerdict,
    StatementCheck,
    StatementVerdict,
)
from domain.search_attributes import MATTER_STATE as MATTER_STATE_NAME
from runtime.signing import TrustAnchors

log = structlog.get_logger()

# Each call is short: the case waits on this check inside one workflow task.
RPC_TIMEOUT = timedelta(seconds=5)
RESULT_WAIT = timedelta(seconds=2)
MATTER_STATE = SearchAttributeKey.for_keyword(MATTER_STATE_NAME)


class TrustActivities:
    def __init__(self, anchors: TrustAnchors, *, require_verified_officers: bool = False) -> None:
        self._anchors = anchors
        self._require_officers = require_verified_officers

    # The checks below take microseconds and wait on nothing: they run on the worker's event loop, not in a
    # thread of the activity executor (each hand-over to a thread and back cost more CPU than the check).
    @activity.defn
    async def verify_statement(self, check: StatementCheck) -> StatementVerdict:
        refused = self._anchors.verify(check.issuer, check.digest, check.signature)
        if refused:
            # The digest only: what the statement says stays in the (encrypted) history.
            log.warning("statement_refused", issuer=check.issuer.value, digest=check.digest[:16])
        return StatementVerdict(refused=refused)

    @activity.defn
    async def verify_officer(self, check: OfficerCheck) -> OfficerVerdict:
        """An officer's decision: the codec server's signature over its statement, and whether this installation
        takes decisions without one (the embedded default, marked unverified)."""
        required = self._require_officers
        if check.digest is None:
            if required:
                log.warning("officer_statement_missing")
                return OfficerVerdict(required=True, refused="未附经核验的办理人身份，请登录后在系统中办理")
            return OfficerVerdict(required=False)
        refused = self._anchors.verify(Issuer.OFFICER, check.digest, check.signature)
        if refused:
            log.warning("statement_refused", issuer=Issuer.OFFICER.value, digest=check.digest[:16])
        return OfficerVerdict(required=required, refused=refused)


class MatterOutcomeActivities:
    def __init__(self, client: Client | None) -> None:
        self._client = client

    @activity.defn
    async def matter_standing(self, request: MatterOutcomeRequest) -> MatterStanding:
        """The matter as the engine holds it: its result once completed, else the state its own search attribute
        shows. Only the server is asked (no query a worker must answer), so a stopping worker never waits here."""
        if self._client is None:
            raise RuntimeError("this worker was built without a Temporal client for matter outcomes")
        handle = self._client.get_workflow_handle(
            matter_workflow_id(request.case_number, request.matter), result_type=MatterResult)
        try:
            description = await handle.describe(rpc_timeout=RPC_TIMEOUT)
            if description.status == WorkflowExecutionStatus.RUNNING:
                shown = description.typed_search_attributes.get(MATTER_STATE)
                running = MatterStanding(state=MatterState(shown) if shown in _STATES else None)
                if not request.ended:
                    return running
                # A matter reports its end just before its run completes: give it a moment to do so.
                try:
                    result: MatterResult = await asyncio.wait_for(handle.result(), RESULT_WAIT.total_seconds())
                except TimeoutError:
                    return running
                return MatterStanding(state=result.state, result=result)
            if description.status == WorkflowExecutionStatus.COMPLETED:
                result = await handle.result(rpc_timeout=RPC_TIMEOUT)
                return MatterStanding(state=result.state, result=result)
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return MatterStanding()
            raise
        # Terminated or failed by an operator: not an outcome the case can settle on by itself.
        log.warning("matter_not_running", case=request.case_number, matter=request.matter.value,
                    status=description.status.name if description.status else None)
        return MatterStanding()


_STATES = {state.value for state in MatterState}
