"""`shenhou keys rotate`: every sealed value of the register moves to the active key, clear rows from before
sealing get sealed, and afterwards the old key can go (for the register) with everything still readable.

Rows are written by the worker's own code (RegisterActivities, LedgerPaymentGateway) under key k1; on SQLite
and on PostgreSQL."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner, Result

from activities.calendar import WorkingDayCalendar
from activities.payments import LedgerPaymentGateway, new_payment_reference
from activities.register import RegisterActivities
from domain.enums import CaseState, MatterCode
from domain.models import Application, CaseRecord, PaymentInstruction, RegisterBatch
from domain.policy import Policy
from register.engine import create_schema, make_engine
from register.lookups import cases_of_applicant
from register.rotation import Rotation, rotate
from register.sealed_fields import APPLICATION_FIELDS, opened_application, payee_card, stored_value
from register.sealing import Sealer, key_id_of
from register.tables import CaseRow, PaymentRow
from runtime.keys import Keys
from runtime.settings import get_settings
from starter.cli import app
from tests.factories import APPLICANT_ID, make_id_number
from tests.postgres import open_register
from tests.starter.report_cli import _restore_logging
from tests.workflows.helpers import application

__all__ = ["_restore_logging"]

CASE_KEY = secrets.token_bytes(32)
K1 = secrets.token_bytes(32)
K2 = secrets.token_bytes(32)
RECEIVED = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
PENSION = MatterCode.ENTERPRISE_RETIREE_DEATH_BENEFIT
MEDICAL = MatterCode.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT


def sealer(active: str, **ring: bytes) -> Sealer:
    return Sealer.from_keys(Keys(case_id_key=CASE_KEY, codec_keys=ring, active_key_id=active))


UNDER_K1 = {"k1": K1}
BOTH = {"k1": K1, "k2": K2}


@pytest.fixture
def engine(register_url: str) -> Iterator[Engine]:
    yield from open_register(register_url)


def write_case(engine: Engine, s: Sealer, number: str, app: Application, minutes: int = 0) -> None:
    register = RegisterActivities(engine, Policy(), WorkingDayCalendar(), s)
    register.record(RegisterBatch(case_number=number, case=CaseRecord(
        case_number=number, application=app, state=CaseState.RECEIVED,
        received_at=RECEIVED + timedelta(minutes=minutes))))


def write_payment(engine: Engine, s: Sealer, number: str, app: Application, matter: MatterCode) -> None:
    LedgerPaymentGateway(engine, s).instruct(PaymentInstruction(
        case_number=number, matter=matter, amount=Decimal("1000.00"), payee=app.applicant.bank_account,
        at=RECEIVED))


def write_legacy_case(engine: Engine, number: str, app: Application) -> None:
    """A case and its payment as a release before sealing wrote them: every number in clear, no hash."""
    with Session(engine) as session:
        session.add(CaseRow(case_number=number, channel="window", state=CaseState.RECEIVED.value,
                            application=app.model_dump(mode="json"), received_at=RECEIVED, updated_at=RECEIVED))
        reference = new_payment_reference()
        session.add(PaymentRow(case_number=number, matter=PENSION.value, reference=reference,
                               gross_fen=100000, offset_fen=0, amount_fen=100000,
                               payee_bank=app.applicant.bank_account.bank_name,
                               payee_name=app.applicant.bank_account.account_name,
                               payee_card=app.applicant.bank_account.card_number, instructed_at=RECEIVED))
        session.commit()


def fill(engine: Engine) -> dict[str, Application]:
    """Four cases under k1 (two paid twice), and one from before sealing."""
    k1 = sealer("k1", **UNDER_K1)
    apps: dict[str, Application] = {}
    for index in range(4):
        number = f"SH-AAAAAAAAAAA{'BCDE'[index]}"
        apps[number] = application()
        write_case(engine, k1, number, apps[number], minutes=index)
        if index < 2:
            for matter in (PENSION, MEDICAL):
                write_payment(engine, k1, number, apps[number], matter)
    apps["SH-LEGACYCASE22"] = application()
    write_legacy_case(engine, "SH-LEGACYCASE22", apps["SH-LEGACYCASE22"])
    return apps


def stored_key_ids(engine: Engine) -> set[str | None]:
    """The key id of every sealed field as the database holds it (None: clear)."""
    with Session(engine) as session:
        cases = session.exec(select(CaseRow)).all()
        cards = session.exec(select(PaymentRow.payee_card)).all()
    found = {key_id_of(stored_value(case.application, path) or "") for case in cases for path in APPLICATION_FIELDS}
    return found | {key_id_of(card) for card in cards}


def assert_everything_reads(engine: Engine, s: Sealer, apps: dict[str, Application]) -> None:
    with Session(engine) as session:
        for number, app in apps.items():
            case = session.get(CaseRow, number)
            assert case is not None
            assert opened_application(case.application, number, s) == app.model_dump(mode="json")
        for row in session.exec(select(PaymentRow)).all():
            card = apps[row.case_number].applicant.bank_account.card_number
            assert payee_card(row.payee_card, row.reference, s) == card


def test_rotation_moves_every_value_to_the_new_key_and_the_old_key_can_go(engine: Engine) -> None:
    apps = fill(engine)
    assert stored_key_ids(engine) == {"k1", None}

    done = rotate(engine, sealer("k2", **BOTH), batch_size=2)
    assert (done.cases.examined, done.cases.resealed, done.cases.from_clear, done.cases.current) == (5, 5, 1, 0)
    assert (done.payments.examined, done.payments.resealed, done.payments.from_clear) == (5, 5, 1)
    assert stored_key_ids(engine) == {"k2"}

    only_k2 = sealer("k2", k2=K2)
    assert_everything_reads(engine, only_k2, apps)
    # The case from before sealing now has its lookup hash too.
    legacy = apps["SH-LEGACYCASE22"].applicant.id_number
    assert "SH-LEGACYCASE22" in cases_of_applicant(engine, only_k2, legacy)

    again = rotate(engine, only_k2)
    assert (again.cases.resealed, again.cases.current, again.payments.resealed, again.payments.current) == (0, 5, 0, 5)


def test_an_interrupted_rotation_carries_on_where_it_stopped(engine: Engine) -> None:
    apps = fill(engine)

    class Interrupted(Exception):
        pass

    def stop_after_first_batch(_: Rotation) -> None:
        raise Interrupted

    with pytest.raises(Interrupted):
        rotate(engine, sealer("k2", **BOTH), batch_size=2, on_batch=stop_after_first_batch)
    assert stored_key_ids(engine) == {"k1", "k2", None}

    done = rotate(engine, sealer("k2", **BOTH), batch_size=2)
    assert (done.cases.resealed, done.cases.current) == (3, 2)
    assert done.payments.resealed == 5
    assert stored_key_ids(engine) == {"k2"}
    assert_everything_reads(engine, sealer("k2", k2=K2), apps)


def test_a_row_no_configured_key_opens_is_left_alone_and_counted(engine: Engine) -> None:
    apps = fill(engine)
    lost = sealer("k0", k0=secrets.token_bytes(32))
    write_case(engine, lost, "SH-LOSTKEY22222", application())

    done = rotate(engine, sealer("k2", **BOTH))
    assert done.cases.unreadable == 1 and done.cases.resealed == 5
    with Session(engine) as session:
        case = session.get(CaseRow, "SH-LOSTKEY22222")
        assert case is not None and key_id_of(stored_value(case.application, APPLICATION_FIELDS[0]) or "") == "k0"
    assert_everything_reads(engine, sealer("k2", k2=K2), apps)


def test_the_window_finds_an_applicants_cases_by_identity_number(engine: Engine) -> None:
    s = sealer("k1", **UNDER_K1)
    other_applicant = make_id_number(datetime(1980, 1, 2).date(), 357)
    write_case(engine, s, "SH-FIRSTCASE222", application(), minutes=0)
    write_case(engine, s, "SH-SECONDCASE22", application(), minutes=30)
    write_case(engine, s, "SH-SOMEONEELSE2", application(applicant__id_number=other_applicant), minutes=10)

    assert cases_of_applicant(engine, s, APPLICANT_ID) == ["SH-SECONDCASE22", "SH-FIRSTCASE222"]
    assert cases_of_applicant(engine, sealer("k2", **BOTH), APPLICANT_ID.lower()) == [
        "SH-SECONDCASE22", "SH-FIRSTCASE222"]
    assert cases_of_applicant(engine, s, other_applicant) == ["SH-SOMEONEELSE2"]
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT applicant_id_hash FROM cases")).scalars().all()
    assert all(value and APPLICANT_ID not in value for value in stored)


def test_a_register_from_before_sealing_gets_the_lookup_column(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = make_engine(url)
    with old.begin() as connection:
        connection.execute(text(
            "CREATE TABLE cases (case_number VARCHAR(32) PRIMARY KEY, channel VARCHAR NOT NULL, state VARCHAR NOT NULL,"
            " application JSON NOT NULL, received_at DATETIME NOT NULL, updated_at DATETIME NOT NULL,"
            " closed_at DATETIME, previous_case VARCHAR(32))"))
    old.dispose()
    engine = make_engine(url)
    try:
        create_schema(engine)
        app = application()
        write_legacy_case(engine, "SH-LEGACYCASE22", app)
        s = sealer("k1", **UNDER_K1)
        rotate(engine, s)
        assert cases_of_applicant(engine, s, app.applicant.id_number) == ["SH-LEGACYCASE22"]
        with engine.connect() as connection:
            indexes = connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'")).scalars().all()
        assert any("applicant_id_hash" in name for name in indexes)
    finally:
        engine.dispose()


# --- the command --------------------------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@pytest.fixture
def cli_keys(register_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    values = {
        "SHENHOU_DATABASE_URL": register_url,
        "SHENHOU_DATA_DIR": str(tmp_path / "data"),
        "SHENHOU_CASE_ID_KEY": _b64(CASE_KEY),
        "SHENHOU_CODEC_KEYS": f"k1:{_b64(K1)},k2:{_b64(K2)}",
        "SHENHOU_CODEC_ACTIVE_KEY_ID": "k2",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def shenhou(*args: str) -> Result:
    get_settings.cache_clear()
    return CliRunner().invoke(app, list(args))


def test_shenhou_keys_rotate_tells_what_it_did_and_can_run_again(engine: Engine, cli_keys: None) -> None:
    apps = fill(engine)

    first = shenhou("keys", "rotate", "--batch-size", "2")
    assert first.exit_code == 0, first.output
    assert "当前密钥编号：k2" in first.stdout
    assert "案件：共检查5件，重新加密5件（其中原为明文1件），已是当前密钥0件" in first.stdout
    assert "支付记录：共检查5条，重新加密5条（其中原为明文1条），已是当前密钥0条" in first.stdout
    assert stored_key_ids(engine) == {"k2"}
    assert_everything_reads(engine, sealer("k2", k2=K2), apps)

    second = shenhou("keys", "rotate")
    assert second.exit_code == 0, second.output
    assert "案件：共检查5件，重新加密0件（其中原为明文0件），已是当前密钥5件" in second.stdout


def test_shenhou_keys_rotate_reports_values_it_cannot_open(engine: Engine, cli_keys: None) -> None:
    fill(engine)
    write_case(engine, sealer("k0", k0=secrets.token_bytes(32)), "SH-LOSTKEY22222", application())
    result = shenhou("keys", "rotate", "--json")
    assert result.exit_code == 3
    assert '"unreadable": 1' in result.stdout and '"resealed": 5' in result.stdout
    plain = shenhou("keys", "rotate")
    assert plain.exit_code == 3 and "无法解密：案件1件、支付记录0条，未作改动" in plain.output


def test_without_a_register_nothing_is_created(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHENHOU_DATABASE_URL", raising=False)
    monkeypatch.setenv("SHENHOU_DATA_DIR", str(tmp_path))
    result = shenhou("keys", "rotate")
    get_settings.cache_clear()
    assert result.exit_code == 1 and "未找到案件登记库" in result.output
    assert not (tmp_path / "register.db").exists()



def test_the_number_a_funeral_home_recorded_moves_to_the_new_key(engine: Engine) -> None:
    from register.contacts import family_phone, record_invitation

    phone = "13912345678"
    assert record_invitation(engine, "SH-CONTACT1", phone, "固阳县殡仪馆", "邀请", sealer("k1", **UNDER_K1), RECEIVED)
    assert not record_invitation(engine, "SH-CONTACT1", "13800000000", "固阳县殡仪馆", "邀请",
                                 sealer("k1", **UNDER_K1), RECEIVED)
    done = rotate(engine, sealer("k2", **BOTH))
    assert (done.contacts.examined, done.contacts.resealed, done.unreadable) == (1, 1, 0)
    with Session(engine) as session:
        assert family_phone(session, "SH-CONTACT1", sealer("k2", k2=K2)) == phone
