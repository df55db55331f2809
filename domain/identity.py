"""Checks on identity numbers, bank cards, phones, and masking for display."""

from __future__ import annotations

import re
from datetime import date

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"\A[0-9]{17}[0-9X]\Z")
_MOBILE_RE = re.compile(r"\A1[3-9][0-9]{9}\Z")
_CARD_RE = re.compile(r"\A[0-9]{12,19}\Z")


def id_check_digit(first17: str) -> str:
    total = sum(int(ch) * w for ch, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def id_number_valid(value: str) -> bool:
    """GB 11643-1999: 17 digits, then a check digit (0-9 or X), with a real birth date."""
    value = value.upper()
    if not _ID_RE.match(value):
        return False
    if id_birth_date(value) is None:
        return False
    return id_check_digit(value[:17]) == value[17]


def id_birth_date(value: str) -> date | None:
    try:
        return date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return None


def luhn_check_digit(body: str) -> str:
    """The digit that makes ``body`` + digit pass the Luhn check."""
    total = 0
    for index, ch in enumerate(reversed(body)):
        digit = int(ch)
        if index % 2 == 0:  # doubled: these sit at odd positions once the check digit is appended
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def passbook_valid(number: str) -> bool:
    """A passbook's (存折/一折通) account number: 8–30 digits; banks give it no check digit."""
    return number.isascii() and number.isdigit() and 8 <= len(number) <= 30


def luhn_valid(number: str) -> bool:
    if not _CARD_RE.match(number):
        return False
    total = 0
    for index, ch in enumerate(reversed(number)):
        digit = int(ch)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def mobile_valid(value: str) -> bool:
    return bool(_MOBILE_RE.match(value))


def mobile_number(value: str) -> str | None:
    """The 11 digits of a mainland mobile number as people write it ("+86 139-0000-1111"); None if it is none."""
    number = "".join(ch for ch in value if ch not in " -").removeprefix("+86")
    return number if mobile_valid(number) else None


def mask_name(name: str) -> str:
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def mask_number(value: str, keep_head: int = 4, keep_tail: int = 4) -> str:
    if len(value) <= keep_head + keep_tail:
        return "*" * len(value)
    return value[:keep_head] + "*" * (len(value) - keep_head - keep_tail) + value[-keep_tail:]
