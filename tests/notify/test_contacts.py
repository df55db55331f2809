"""The family's phone is read from the register in one place only (register/contacts.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from register.contacts import family_phone, masked_phone
from register.sealing import Sealer, UnsealError
from tests.factories import APPLICANT_PHONE
from tests.notify.conftest import CASE, seed_case

ROOT = Path(__file__).resolve().parents[2]
# Reading the phone out of a stored application, in any spelling.
READS_PHONE = re.compile(r"""\[\s*["']phone["']\s*\]|\.get\(\s*["']phone["']|\.applicant\.phone\b""")


def test_the_family_phone_comes_from_the_register(engine: Engine, sealer: Sealer) -> None:
    seed_case(engine, (), sealer=sealer)
    with Session(engine) as session:
        assert family_phone(session, CASE, sealer) == APPLICANT_PHONE
        assert family_phone(session, "SH-ZZZZZZZZZZZZ", sealer) is None
    assert masked_phone(APPLICANT_PHONE) == "139****1234"


def test_a_phone_stored_before_sealing_still_reads(engine: Engine, sealer: Sealer) -> None:
    seed_case(engine, ())
    with Session(engine) as session:
        assert family_phone(session, CASE, sealer) == APPLICANT_PHONE


def test_a_sealed_phone_does_not_open_without_its_key(engine: Engine, sealer: Sealer) -> None:
    seed_case(engine, (), sealer=sealer)
    with Session(engine) as session, pytest.raises(UnsealError) as raised:
        family_phone(session, CASE, Sealer.ephemeral())
    assert APPLICANT_PHONE not in str(raised.value)


def test_nothing_else_reads_the_phone() -> None:
    readers = [
        path.relative_to(ROOT).as_posix()
        for folder in ("domain", "workflows", "activities", "client", "starter", "runtime", "register", "portal",
                       "notify")
        for path in (ROOT / folder).rglob("*.py")
        if READS_PHONE.search(path.read_text(encoding="utf-8"))
    ]
    readers += ["worker.py"] if READS_PHONE.search((ROOT / "worker.py").read_text(encoding="utf-8")) else []
    assert readers == ["register/contacts.py"]
