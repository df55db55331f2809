"""What a signed statement covers: the exact bytes an issuer signs and a workflow checks.

A statement binds its issuer, its kind, the case (and matter) it is for, and every field of the input except
the signature itself. So a signature copied from one payload (every reader of the Web UI can see them) proves
nothing for another case, matter, payment reference or account. Pure: workflows compute the same bytes.
"""

from __future__ import annotations

import hashlib
import json

from pydantic import BaseModel

from domain.enums import Issuer

VERSION = 1


def statement_bytes(issuer: Issuer, kind: str, case_number: str, matter: str | None, body: BaseModel) -> bytes:
    # Defaults are left out on both sides, so a field added later with a default keeps old signatures valid.
    # The signature itself is never signed.
    fields = body.model_dump(mode="json", exclude={"signature"}, exclude_defaults=True)
    document = {"v": VERSION, "issuer": issuer.value, "kind": kind, "case": case_number, "matter": matter,
                "body": fields}
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def statement_digest(issuer: Issuer, kind: str, case_number: str, matter: str | None, body: BaseModel) -> str:
    """What is signed: a digest of the statement, so the check travels without the personal data it covers."""
    return hashlib.sha256(statement_bytes(issuer, kind, case_number, matter, body)).hexdigest()
