"""Reads scoped like writes: what of a decoded payload a reader of the Web UI sees in clear.

The codec server is told who asks (a verified token, or nobody on the embedded default) but not which
workflow a payload belongs to. So the decision is made from the reader and the payload's own content:

- the departments a payload concerns are the departments of every matter code it names (a case's input
  names the matters of its application; a matter's input, status or signal names its matter; a case's status
  names all its matters) and of every ``department`` field in it;
- an officer of one of those departments sees in clear what their department's decision needs
  (the catalogue's ``reads``); a supervisor sees names; an operator (``SHENHOU_OPERATOR_ROLES``) sees everything;
- everyone else, and every reader of the embedded default without sign-in, sees 身份证号, bank cards and
  phones as ``1502**********0012`` and names as ``王**``, with a note (``NOTE_FIELD``) saying how to see more.

A payload that names no department (a cremation certificate, a free-text summary) is masked for every
officer. Values are found by field name (``id_number``, ``card_number``, ``bank_card``, ``phone``, a person's
``name``, ``account_name``) and, in every other string, by shape: runs of 11 or more digits are masked for
a reader who may not see every field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from domain.catalogue import active_catalogue
from domain.enums import Department, Personal
from domain.identity import mask_name, mask_number

EVERYTHING = frozenset(Personal)
_P = Personal
_PAYING = frozenset({_P.NAMES, _P.DECEASED_ID, _P.APPLICANT_ID, _P.PAYEE_CARD})
_IDENTITIES = frozenset({_P.NAMES, _P.DECEASED_ID})
SUPERVISOR_SEES = frozenset({_P.NAMES})

NOTE_FIELD = "脱敏说明"
NOTE_ANONYMOUS = ("身份证号、银行卡号、手机号和姓名已脱敏。本机未启用登录：部门经办人登录后查看本部门办理所需的信息"
                  "（docs/deploy.md“Staff sign-in”）；仅供单人使用的本机可设 SHENHOU_CODEC_SHOW_PERSONAL_DATA=true"
                  " 后重启 scripts/run 查看全部。")
NOTE_SIGNED_IN = "部分个人信息已按查看人权限脱敏：只有本案所涉部门的经办人可查看其办理所需的信息。"

_DIGITS = re.compile(r"\d{11,}[\dXx]?")
# Fields whose digits are no person's: hashes, signatures and references stay as they are.
_NOT_PERSONAL = frozenset({"sha256", "signature", "digest", "nonce", "decision", "key", "reference",
                           "payment_reference"})


@dataclass(frozen=True)
class Reader:
    """Who reads: ``signed_in`` False is the embedded default's anonymous reader."""

    signed_in: bool
    departments: tuple[Department, ...] = ()
    supervisor: bool = False
    operator: bool = False
    # The embedded default told to show everything (SHENHOU_CODEC_SHOW_PERSONAL_DATA).
    trusted: bool = False


def departments_in(document: Any) -> set[Department]:
    """The departments a decoded payload concerns, from the matter codes and department fields it holds."""
    found: set[Department] = set()

    def walk(value: Any, key: str | None) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, str(k))
        elif isinstance(value, list):
            for item in value:
                walk(item, key)
        elif isinstance(value, str):
            department = _department_of_code(value) if key in ("matter", "code", "matters") else None
            if department is None and key == "department":
                department = _known_department(value)
            if department is not None:
                found.add(department)

    walk(document, None)
    return found


def _known_department(value: str) -> Department | None:
    """The catalogue's department of this code, None for any other string."""
    entry = active_catalogue().department(value)
    return Department(entry.code) if entry is not None else None


def _department_of_code(value: str) -> Department | None:
    entry = active_catalogue().entry(value)
    if entry is not None:
        return Department(entry.department)
    if "." in value:
        # A matter this catalogue does not hold (switched off, or of another county's): its code starts with its
        # department's.
        return _known_department(value.partition(".")[0])
    return None


def needs(department: Department) -> frozenset[Personal]:
    """What ``department``'s officers need: the catalogue's ``reads``; where it names none, the identities, and
    who is paid and where when one of its matters pays the family."""
    catalogue = active_catalogue()
    entry = catalogue.department(department)
    if entry is not None and entry.reads is not None:
        return frozenset(entry.reads)
    pays = any(m.pays_family for m in catalogue.enabled() if m.department == department)
    return _PAYING if pays else _IDENTITIES


def visible(reader: Reader, departments: Iterable[Department]) -> frozenset[Personal]:
    """What ``reader`` sees in clear of a payload concerning ``departments``."""
    if reader.operator or reader.trusted:
        return EVERYTHING
    seen: set[Personal] = set(SUPERVISOR_SEES) if reader.supervisor else set()
    concerned = set(departments)
    for department in reader.departments:
        if department in concerned:
            seen |= needs(department)
    return frozenset(seen)


def scope(document: Any, reader: Reader) -> tuple[Any, bool]:
    """The document as ``reader`` may see it, and whether anything was masked."""
    shown = visible(reader, departments_in(document))
    if shown == EVERYTHING:
        return document, False
    masked = [False]

    def hide(value: str, kind: Personal) -> str:
        if kind in shown or not value:
            return value
        masked[0] = True
        if kind == _P.NAMES:
            return mask_name(value)
        if kind == _P.PHONE:
            return mask_number(value, 3, 4)
        return mask_number(value.replace(" ", ""))

    def loose(value: str) -> str:
        def one(match: re.Match[str]) -> str:
            masked[0] = True
            return mask_number(match.group(0))

        return _DIGITS.sub(one, value)

    def walk(value: Any, key: str | None, parent: str | None, person: bool) -> Any:
        if isinstance(value, dict):
            is_person = "id_number" in value
            return {k: walk(v, str(k), key, is_person) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(item, key, parent, person) for item in value]
        if not isinstance(value, str):
            return value
        kind = _kind(key, parent, person)
        if kind is not None:
            return hide(value, kind)
        return value if key in _NOT_PERSONAL else loose(value)

    result = walk(document, None, None, False)
    if masked[0] and isinstance(result, dict):
        result[NOTE_FIELD] = NOTE_SIGNED_IN if reader.signed_in else NOTE_ANONYMOUS
    return result, masked[0]


def _kind(key: str | None, parent: str | None, person: bool) -> Personal | None:
    if key == "id_number" or key == "deceased_id":
        return _P.APPLICANT_ID if parent == "applicant" else _P.DECEASED_ID
    if key == "bank_card":
        return _P.DECEASED_CARD
    if key in ("card_number", "payee_card"):
        return _P.PAYEE_CARD
    if key in ("phone", "mobile"):
        return _P.PHONE
    if key in ("account_name", "payee_name", "deceased_name", "applicant_name") or (key == "name" and person):
        return _P.NAMES
    return None


def scoped_payload(data: bytes, reader: Reader) -> bytes | None:
    """A ``json/plain`` payload's data as ``reader`` may see it; None when nothing changes."""
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None
    result, masked = scope(document, reader)
    if not masked:
        return None
    return json.dumps(result, ensure_ascii=False, separators=(",", ":")).encode()
