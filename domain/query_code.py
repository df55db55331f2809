"""The family's query code (查询码): a keyed hash of the case number, so it needs no storage.

Told to the family with the case number (the window's printout, the online receipt, the 受理 SMS); the
progress page opens only with both. Eight digits: 10^8 possibilities, and the portal limits wrong tries
per case number and per client address, so guessing is hopeless while a phone keypad types it quickly.
"""

from __future__ import annotations

import hashlib
import hmac

CODE_DIGITS = 8


def query_code(case_number: str, key: bytes) -> str:
    digest = hmac.new(key, b"shenhou-query-code\x00" + case_number.strip().upper().encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 10**CODE_DIGITS:0{CODE_DIGITS}d}"


def code_matches(case_number: str, code: str, key: bytes) -> bool:
    """Constant-time comparison, whatever was typed (spaces are ignored)."""
    typed = "".join(code.split())
    return hmac.compare_digest(query_code(case_number, key).encode(), typed.encode())
