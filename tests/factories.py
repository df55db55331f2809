"""Test data builders: valid identity numbers, bank cards and complete application forms.

Every person and number here is fake. Identity numbers carry the region prefix 150222 (固阳县) and a
correct GB 11643 check digit; bank cards pass the Luhn check.

    form = valid_form()                                  # a complete, valid window application
    form = valid_form(channel="online")                  # replace a top-level value
    form = valid_form(deceased__work_injury=True)        # "__" reaches into nested sections
    form = valid_form(applicant__phone=REMOVE)           # drop a field
    form = unique_form(7)                                # a distinct deceased (and case number) per seed
"""

from __future__ import annotations

import copy
from datetime import date, timedelta
from typing import Any, Final

from domain.catalogue import active_catalogue
from domain.identity import id_check_digit, luhn_check_digit

GUYANG_REGION: Final = "150222"
# The fixed "today" of the tests built on these forms.
TODAY: Final = date(2026, 11, 20)
DEATH_DATE: Final = TODAY - timedelta(days=4)

DECEASED_BIRTH: Final = date(1948, 3, 12)
APPLICANT_BIRTH: Final = date(1975, 9, 30)

MATERIAL_KINDS: Final = (
    "registration_form", "death_certificate", "deceased_id_card", "deceased_household_register",
    "deceased_bank_card", "applicant_id_card", "applicant_household_register", "applicant_bank_card",
)

# A marker for ``valid_form``: remove this key instead of setting it.
REMOVE: Final = object()


def make_id_number(birth: date, seq: int = 123) -> str:
    """An 18-character 居民身份证号 of 固阳县 with a valid check digit (seq: 0..999)."""
    first17 = f"{GUYANG_REGION}{birth:%Y%m%d}{seq % 1000:03d}"
    return first17 + id_check_digit(first17)


def make_card_number(prefix: str = "622202", length: int = 19, seq: int = 0) -> str:
    """A bank card number of ``length`` digits starting with ``prefix`` that passes Luhn."""
    body_length = length - 1 - len(prefix)
    if body_length < 0:
        raise ValueError("prefix too long for the card length")
    digits = str(abs(seq)).zfill(body_length)[-body_length:] if body_length else ""
    body = prefix + digits
    return body + luhn_check_digit(body)


DECEASED_ID: Final = make_id_number(DECEASED_BIRTH, 123)
APPLICANT_ID: Final = make_id_number(APPLICANT_BIRTH, 246)
DECEASED_CARD: Final = make_card_number("622202", 19, 1)
APPLICANT_CARD: Final = make_card_number("621700", 19, 2)
APPLICANT_PHONE: Final = "13904721234"
DECEASED_NAME: Final = "王建国"
APPLICANT_NAME: Final = "王丽华"


def _base_form() -> dict[str, Any]:
    return {
        "channel": "window",
        "deceased": {
            "name": DECEASED_NAME,
            "id_number": DECEASED_ID,
            "household_county": "固阳县",
            "insured_area": "中心城区",
            "death_date": DEATH_DATE.isoformat(),
            "death_circumstance": "medical",
            "work_injury": False,
            "cremation_county": "固阳县",
            "bank_card": DECEASED_CARD,
        },
        "death_certificate": {
            "number": "N150222202611160042",
            "issuer_type": "medical_institution",
            "issuer_name": "固阳县医院",
        },
        "applicant": {
            "name": APPLICANT_NAME,
            "id_number": APPLICANT_ID,
            "relationship": "child",
            "phone": APPLICANT_PHONE,
            "bank_account": {
                "bank_name": "中国建设银行固阳支行",
                "account_name": APPLICANT_NAME,
                "card_number": APPLICANT_CARD,
            },
        },
        # enterprise retiree + every boolean: 7 matters with 户口注销.
        "situations": {
            "pension_status": "enterprise_retiree",
            "employee_medical_insurance": True,
            "social_assistance": True,
            "housing_provident_fund": True,
            "disability_subsidy": True,
            "preferential_care": True,
        },
        # Everything the 7 matters need (base materials and both bank cards).
        "materials": [
            {"kind": kind, "sha256": letter * 64, "size": 90_000 + index * 1_000}
            for index, (kind, letter) in enumerate(zip(MATERIAL_KINDS, "abcdef01", strict=True))
        ],
    }


def valid_form(**overrides: Any) -> dict[str, Any]:
    """A complete, valid raw form (window channel); ``a__b=value`` sets form["a"]["b"]."""
    form = _base_form()
    for key, value in overrides.items():
        *parents, last = key.split("__")
        target = form
        for part in parents:
            target = target.setdefault(part, {})
        if value is REMOVE:
            target.pop(last, None)
        else:
            target[last] = copy.deepcopy(value)
    if isinstance(overrides.get("matters"), list) and not any(key.startswith("situations") for key in overrides):
        _without_unchosen_terminations(form)
    return form


def _without_unchosen_terminations(form: dict[str, Any]) -> None:
    """Intake runs every termination the situations select, chosen or not: a form that lists its matters says
    no to the benefits whose terminations it leaves out."""
    chosen, catalogue = set(form["matters"]), active_catalogue()
    for entry in catalogue.matters:
        question = catalogue.question(entry.selected_by.question) if entry.selected_by else None
        if entry.stop is not None and question is not None and question.kind == "bool" and entry.code not in chosen:
            form["situations"][question.code] = False


def unique_form(seed: int, **overrides: Any) -> dict[str, Any]:
    """A valid form whose deceased has an identity number (and card) of its own for each seed.

    Distinct for 0 <= seed < 10_000_000; the deceased is born between 1940 and 1967.
    """
    birth = date(1940, 1, 1) + timedelta(days=seed % 10_000)
    deceased_id = make_id_number(birth, (seed // 10_000) % 1000)
    return valid_form(
        deceased__id_number=deceased_id,
        deceased__bank_card=make_card_number("622848", 19, seed),
        **overrides,
    )
