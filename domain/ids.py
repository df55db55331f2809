"""Workflow ids derived from business ids: the only place they are built or parsed.

The case number is a keyed hash of the deceased's identity number, so one deceased always maps to
one case (the engine refuses a second start) while the id itself reveals nothing personal.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from domain.enums import MatterCode

CASE_PREFIX = "SH"
# A later application for the same deceased, after an earlier case ended with nothing for the family,
# is numbered on: SH-XXXXXXXXXXXX-2, -3, ...
MAX_ATTEMPT = 9
_CASE_RE = re.compile(r"^SH-[A-Z2-7]{12}(-[2-9])?$")


def case_number_for(deceased_id_number: str, key: bytes, attempt: int = 1) -> str:
    digest = hmac.new(key, deceased_id_number.strip().upper().encode(), hashlib.sha256).digest()
    return numbered(f"{CASE_PREFIX}-{base64.b32encode(digest).decode()[:12]}", attempt)


def numbered(first_case_number: str, attempt: int) -> str:
    if not 1 <= attempt <= MAX_ATTEMPT:
        raise ValueError(f"attempt {attempt} out of range 1-{MAX_ATTEMPT}")
    return first_case_number if attempt == 1 else f"{first_case_number}-{attempt}"


def is_case_number(value: str) -> bool:
    return bool(_CASE_RE.match(value))


def case_workflow_id(case_number: str) -> str:
    return case_number


def matter_workflow_id(case_number: str, matter: MatterCode | str) -> str:
    return f"{case_number}.{MatterCode(matter).value}"


def split_matter_workflow_id(workflow_id: str) -> tuple[str, MatterCode]:
    case_number, _, code = workflow_id.partition(".")
    return case_number, MatterCode(code)
