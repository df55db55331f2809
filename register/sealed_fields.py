"""What the register seals and where: five fields of the stored application, and the payee's card number in
the payment ledger (register/sealing.py says how).

Granularity: the sensitive fields inside ``cases.application`` are sealed one by one, not the whole JSON.
The rest of the application (names, relationship, situations, selected matters, materials' digests) stays
readable for staff who consult the register with SQL, for the report and for support work, and sealing only
what PIPL treats as sensitive keeps one unsealing per read instead of decrypting a whole form to find one
field. Names stay in clear on purpose: the register is the government's record and staff identify a case by
the people's names; 身份证号, phone and card numbers are what is sealed. ``payment_ledger.payee_name`` stays in
clear for the same reason; ``payment_ledger.payee_card`` is sealed.

Each value is sealed for its place (``application_place``, ``payee_card_place``): the table, the row's
natural key and the field.
"""

from __future__ import annotations

import copy
from typing import Any

from register.sealing import Sealer

FieldPath = tuple[str, ...]

DECEASED_ID: FieldPath = ("deceased", "id_number")
DECEASED_CARD: FieldPath = ("deceased", "bank_card")
APPLICANT_ID: FieldPath = ("applicant", "id_number")
PHONE: FieldPath = ("applicant", "phone")
APPLICANT_CARD: FieldPath = ("applicant", "bank_account", "card_number")
APPLICATION_FIELDS: tuple[FieldPath, ...] = (DECEASED_ID, DECEASED_CARD, APPLICANT_ID, PHONE, APPLICANT_CARD)


def application_place(case_number: str, path: FieldPath) -> str:
    return f"cases/{case_number}/application.{'.'.join(path)}"


def payee_card_place(reference: str) -> str:
    return f"payment_ledger/{reference}/payee_card"


def stored_value(application: Any, path: FieldPath) -> str | None:
    """The stored (sealed, or legacy clear) string at ``path``; None when absent or not a string."""
    node = application
    for part in path:
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node if isinstance(node, str) and node else None


def _replaced(application: dict[str, Any], path: FieldPath, value: str) -> None:
    node = application
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def sealed_application(application: dict[str, Any], case_number: str, sealer: Sealer) -> dict[str, Any]:
    """The application as the register stores it: each sensitive field sealed."""
    sealed = copy.deepcopy(application)
    for path in APPLICATION_FIELDS:
        stored = stored_value(sealed, path)
        if stored is not None:
            _replaced(sealed, path, sealer.seal(stored, application_place(case_number, path)))
    return sealed


def opened_application(application: dict[str, Any], case_number: str, sealer: Sealer) -> dict[str, Any]:
    """The application with every sensitive field in clear (legacy clear values as they are)."""
    opened = copy.deepcopy(application)
    for path in APPLICATION_FIELDS:
        stored = stored_value(opened, path)
        if stored is not None:
            _replaced(opened, path, sealer.unseal(stored, application_place(case_number, path)))
    return opened


def resealed_application(application: dict[str, Any], case_number: str, sealer: Sealer) -> dict[str, Any] | None:
    """The application with every sensitive field under the active key; None when it already is."""
    resealed = copy.deepcopy(application)
    changed = False
    for path in APPLICATION_FIELDS:
        stored = stored_value(resealed, path)
        if stored is None:
            continue
        new = sealer.resealed(stored, application_place(case_number, path))
        if new is not None:
            _replaced(resealed, path, new)
            changed = True
    return resealed if changed else None


def applicant_id_hash(application: dict[str, Any], case_number: str, sealer: Sealer) -> str | None:
    """The lookup hash of the applicant's identity number (``cases.applicant_id_hash``)."""
    stored = stored_value(application, APPLICANT_ID)
    if stored is None:
        return None
    return sealer.lookup_hash(sealer.unseal(stored, application_place(case_number, APPLICANT_ID)))


def payee_card(stored: str, reference: str, sealer: Sealer) -> str:
    """The payee's card number of a ledger row, in clear (for the bank's payment file)."""
    return sealer.unseal(stored, payee_card_place(reference))
