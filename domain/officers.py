"""Who decided: the officer statement a decision carries, and the rules a matter holds it to.

The codec server signs an ``OfficerStatement`` (Issuer.OFFICER) when it encodes a decision for an officer whose
bearer token it verified. The statement binds
- the decision's own content (``decision``: a digest of every field but the statement itself), so it cannot be
  moved to another decision;
- the case and matter the decision names (``case_number``, ``matter``), so it counts on no other matter;
- a ``nonce`` the matter remembers, and ``issued_at``, so it counts once, and only for ``FRESH_FOR``.

Pure: the workflow computes the same digests as the codec server.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime, timedelta

from pydantic import BaseModel

from domain.enums import DecisionKind, Department, Issuer, MatterCode
from domain.models import (
    ApproveInput,
    ExtendDeadlineInput,
    OfficerStatement,
    RejectInput,
    RequestMaterialsInput,
)
from domain.statements import statement_digest

# How long after the codec server signed it a statement still counts (the officer clicks "send" at once).
FRESH_FOR = timedelta(minutes=10)
# Clock skew allowed between the codec server and the Temporal server.
SKEW = timedelta(minutes=2)
STATEMENT_KIND = "officer_statement"
UNVERIFIED = "（未核验身份）"

OfficerDecision = ApproveInput | RejectInput | RequestMaterialsInput | ExtendDeadlineInput

# Tried in this order on a payload whose kind the codec server is not told (each model forbids extra fields).
DECISION_MODELS: tuple[tuple[DecisionKind, type[BaseModel]], ...] = (
    (DecisionKind.EXTEND_DEADLINE, ExtendDeadlineInput),
    (DecisionKind.REJECT, RejectInput),
    (DecisionKind.REQUEST_MATERIALS, RequestMaterialsInput),
    (DecisionKind.APPROVE, ApproveInput),
)
OFFICER_KINDS = frozenset(kind for kind, _ in DECISION_MODELS)


def decision_digest(decision: BaseModel) -> str:
    """The decision's content without its statement (defaults left out, as in domain/statements.py)."""
    fields = decision.model_dump(mode="json", exclude={"officer_statement"}, exclude_defaults=True)
    text = json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def officer_statement_digest(statement: OfficerStatement) -> str:
    """What the codec server signs for ``statement`` (its signature left out)."""
    return statement_digest(Issuer.OFFICER, STATEMENT_KIND, statement.case_number or "",
                            statement.matter.value if statement.matter else None, statement)


def typed_name(decision: OfficerDecision) -> str:
    return decision.supervisor if isinstance(decision, ExtendDeadlineInput) else decision.officer


def with_name(decision: OfficerDecision, name: str) -> OfficerDecision:
    field = "supervisor" if isinstance(decision, ExtendDeadlineInput) else "officer"
    return decision.model_copy(update={field: name})


def statement_problem(
    decision: OfficerDecision,
    kind: DecisionKind,
    *,
    case_number: str,
    matter: MatterCode,
    department: Department,
    now: datetime,
    used_nonces: Sequence[str],
) -> str | None:
    """Why a statement whose signature checked out does not make ``decision`` count here (None: it does)."""
    statement = decision.officer_statement
    assert statement is not None
    if statement.kind != kind:
        return "身份核验凭据不是为本类决定签发的，不予采信"
    if statement.case_number != case_number or statement.matter != matter:
        return "身份核验凭据不是为本事项签发的（决定中须注明本案件编号case_number和事项matter），不予采信"
    if statement.decision != decision_digest(decision):
        return "身份核验凭据与决定内容不符，不予采信"
    if statement.issued_at < now - FRESH_FOR or statement.issued_at > now + SKEW:
        return "身份核验凭据已过期，请重新登录后再办理"
    if statement.nonce in used_nonces:
        return "身份核验凭据已使用过，不能重复使用"
    if kind == DecisionKind.EXTEND_DEADLINE:
        if not statement.supervisor:
            return "延长时限须由督办人办理，办理人没有督办人角色"
    elif department not in statement.departments:
        return "办理人不属于本事项的主管部门，无权作此决定"
    return None
