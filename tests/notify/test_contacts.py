"""The family's phone is read from the register in one place only (register/contacts.py)."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from register.contacts import family_phone, masked_phone
from tests.factories import APPLICANT_PHONE
from tests.notify.conftest import CASE, seed_case

ROOT = Path(__file__).resolve().parents[2]
# Reading the phone out of a stored application, in any spelling.
READS_PHONE = re.compile(r"""\[\s*["']phone["']\s*\]|\.get\(\s*["']phone["']|\.applicant\.phone\b""")


def test_the_family_phone_comes_from_the_register(engine: Engine) -> None:
    seed_case(engine, ())
    with Session(engine) as session:
        assert family_phone(session, CASE) == APPLICANT_PHONE
        assert family_phone(session, "SH-ZZZZZZZZZZZZ") is None
    assert masked_phone(APPLICANT_PHONE) == "139****1234"


def test_nothing_else_reads_the_phone() -> None:
    readers = [
        path.relative_to(ROOT).as_posix()
        for folder in ("domain", "workflows", "activities", "starter", "runtime", "register", "portal", "notify")
        for path in (ROOT / folder).rglob("*.py")
        if READS_PHONE.search(path.read_text(encoding="utf-8"))
    ]
    readers += ["worker.py"] if READS_PHONE.search((ROOT / "worker.py").read_text(encoding="utf-8")) else []
    assert readers == ["register/contacts.py"]
