"""The codec server's word on who decided: from a verified token's claims to a signed ``OfficerStatement``.

The identity provider's claims are mapped by configuration: ``SHENHOU_OFFICER_NAME_CLAIM`` (display name),
``SHENHOU_OFFICER_ROLES_CLAIM`` (a list or space-separated string of group/role values),
``SHENHOU_OFFICER_DEPARTMENT_MAP`` (``value:department,...``; a value equal to a department code counts as
that department) and ``SHENHOU_OFFICER_SUPERVISOR_ROLES`` (values that carry the supervisor role).

``sign_decision`` adds a statement to a decision payload the Web UI (or the CLI) is encoding; the matter
checks it (domain/officers.py). Only the codec server holds the officer signing key.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from domain.catalogue import active_catalogue
from domain.enums import DecisionKind, Department
from domain.models import OfficerStatement
from domain.officers import DECISION_MODELS, decision_digest, officer_statement_digest
from runtime.settings import Settings
from runtime.signing import StatementSigner

STATEMENT_FIELD = "officer_statement"


@dataclass(frozen=True)
class Officer:
    subject: str
    name: str
    departments: tuple[Department, ...]
    supervisor: bool


@dataclass(frozen=True)
class ClaimMapping:
    name_claim: str = "name"
    roles_claim: str = "groups"
    departments: dict[str, Department] = field(default_factory=dict)
    supervisor_roles: frozenset[str] = frozenset({"supervisor"})

    @classmethod
    def from_settings(cls, settings: Settings) -> ClaimMapping:
        departments: dict[str, Department] = {}
        for item in filter(None, (part.strip() for part in settings.officer_department_map.split(","))):
            value, sep, code = item.rpartition(":")
            if not sep or not value:
                raise ValueError("SHENHOU_OFFICER_DEPARTMENT_MAP must look like 'group:nhsa,group2:hpf'")
            try:
                departments[value] = Department(code.strip())
            except ValueError:
                raise ValueError(f"SHENHOU_OFFICER_DEPARTMENT_MAP: unknown department code {code!r}") from None
        roles = frozenset(r.strip() for r in settings.officer_supervisor_roles.split(",") if r.strip())
        return cls(settings.officer_name_claim, settings.officer_roles_claim, departments, roles)

    def officer(self, claims: dict[str, Any]) -> Officer:
        subject = str(claims.get("sub") or "")
        name = claims.get(self.name_claim) or claims.get("preferred_username") or subject
        raw = claims.get(self.roles_claim) or []
        values = raw.split() if isinstance(raw, str) else [str(v) for v in raw] if isinstance(raw, list) else []
        departments: list[Department] = []
        for value in values:
            department = self.departments.get(value) or _catalogue_role(value)
            if department is not None and department not in departments:
                departments.append(department)
        return Officer(subject=subject, name=str(name)[:50], departments=tuple(departments),
                       supervisor=any(value in self.supervisor_roles for value in values))


def _catalogue_role(value: str) -> Department | None:
    """The department whose officers the catalogue names by this role, or whose code it is."""
    catalogue = active_catalogue()
    department = catalogue.officer_roles().get(value)
    if department is None and catalogue.department(value) is not None:
        department = Department(value)
    return department


def decision_kind(document: object) -> tuple[DecisionKind, BaseModel] | None:
    """Which officer decision a JSON document is (each model forbids the others' fields), or None."""
    if not isinstance(document, dict) or not ({"officer", "supervisor"} & document.keys()):
        return None
    body = {key: value for key, value in document.items() if key != STATEMENT_FIELD}
    for kind, model in DECISION_MODELS:
        try:
            return kind, model.model_validate(body)
        except ValidationError:
            continue
    return None


def statement_for(signer: StatementSigner, officer: Officer, kind: DecisionKind, decision: BaseModel,
                  now: datetime | None = None) -> OfficerStatement:
    statement = OfficerStatement(
        subject=officer.subject, name=officer.name, departments=officer.departments, supervisor=officer.supervisor,
        kind=kind, case_number=getattr(decision, "case_number", None), matter=getattr(decision, "matter", None),
        decision=decision_digest(decision), nonce=secrets.token_hex(16), issued_at=now or datetime.now(UTC),
    )
    signature = signer.sign_digest(officer_statement_digest(statement))
    return statement.model_copy(update={"signature": signature})


def sign_decision(signer: StatementSigner, officer: Officer, data: bytes) -> bytes | None:
    """A decision payload's JSON with the officer's statement added (replacing any it carried); None when
    ``data`` is no officer decision (left as it is)."""
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None
    found = decision_kind(document)
    if found is None:
        return None
    kind, decision = found
    statement = statement_for(signer, officer, kind, decision)
    document = {**document, STATEMENT_FIELD: statement.model_dump(mode="json", exclude_none=True)}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
