"""PIPL's sensitive personal information is sealed at rest in the case register.

A full case runs through the real worker (application, 户口注销, every matter approved, the money confirmed
as paid, the family's messages delivered by the dispatcher) with the register on SQLite and on PostgreSQL.
Then every column of every table is read back as text with SQL, and on SQLite the database files themselves
(main file, WAL and shared memory) as bytes: neither the case's identity numbers, its phone number nor its
card numbers, nor the factories' fixed ones, appear anywhere in clear.

Positive controls, so an empty scan means "sealed" and not "looked in the wrong place": the scan finds the
death certificate number (stored in clear in the same application), the sealer opens the stored application
back to what the family submitted, and the dispatcher reached the family at its phone number.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio.client import Client
from temporalio.worker import Worker

from domain.enums import CaseState
from domain.models import Application
from domain.policy import Policy
from notify.channels import FileChannel, delivered_lines
from notify.dispatcher import Dispatcher, idempotency_key
from register.sealed_fields import opened_application, payee_card
from register.sealing import PREFIX, Sealer
from register.tables import CaseRow, PaymentRow
from runtime.keys import Keys
from tests import factories
from tests.postgres import open_register
from tests.workflows.helpers import application_for, complete_parallel, outbox_rows, start, to_parallel_phase


@pytest.fixture
def engine(register_url: str) -> Iterator[Engine]:
    """The register of this test's worker (tests/conftest.py: deps, worker), on each backend."""
    yield from open_register(register_url)


def sensitive(app: Application) -> dict[str, str]:
    return {
        "deceased id": app.deceased.id_number,
        "deceased card": app.deceased.bank_card,
        "applicant id": app.applicant.id_number,
        "applicant phone": app.applicant.phone,
        "applicant card": app.applicant.bank_account.card_number,
        "factories' deceased id": factories.DECEASED_ID,
        "factories' deceased card": factories.DECEASED_CARD,
        "factories' applicant id": factories.APPLICANT_ID,
        "factories' applicant card": factories.APPLICANT_CARD,
        "factories' phone": factories.APPLICANT_PHONE,
    }


def every_value_as_text(engine: Engine) -> str:
    """Every column of every table the database holds, cast to text by the database itself."""
    inspector = inspect(engine)
    quote = engine.dialect.identifier_preparer.quote
    parts: list[str] = []
    with engine.connect() as connection:
        for table in inspector.get_table_names():
            for column in inspector.get_columns(table):
                values = connection.execute(
                    text(f"SELECT CAST({quote(column['name'])} AS TEXT) FROM {quote(table)}")
                ).scalars()
                parts.extend(value for value in values if value is not None)
    return "\n".join(parts)


def sqlite_files(engine: Engine) -> bytes:
    database = engine.url.database
    assert database is not None
    return b"".join(path.read_bytes() for path in Path(database).parent.glob(Path(database).name + "*"))


async def test_no_identity_phone_or_card_number_is_stored_in_clear(
    client: Client, keys: Keys, task_queue: str, engine: Engine, sealer: Sealer, worker: Worker, tmp_path: Path,
) -> None:
    app = application_for()
    handle = await start(client, keys, task_queue, app)
    await to_parallel_phase(client, handle)
    result = await complete_parallel(client, handle)
    assert result.state == CaseState.COMPLETED
    case_number = handle.id

    sms = tmp_path / "sms.jsonl"
    await Dispatcher(engine, FileChannel(sms), Policy(), keys.query_code_key, sealer=sealer).run_until_idle()
    family = outbox_rows(engine, case_number, "family")
    sent = {line["idempotency_key"]: line["to"] for line in delivered_lines(sms)}
    assert family and {sent[idempotency_key(row)] for row in family} == {app.applicant.phone}

    with Session(engine) as session:
        case = session.get(CaseRow, case_number)
        payments = session.exec(select(PaymentRow).where(PaymentRow.case_number == case_number)).all()
    assert case is not None and payments
    assert opened_application(case.application, case_number, sealer) == app.model_dump(mode="json")
    assert {payee_card(row.payee_card, row.reference, sealer) for row in payments} == {
        app.applicant.bank_account.card_number}

    secrets = sensitive(app)
    everything = every_value_as_text(engine)
    assert app.death_certificate.number in everything and case_number in everything
    assert [what for what, value in secrets.items() if value in everything] == []
    assert everything.count(PREFIX) == 5 + len(payments)

    if engine.dialect.name == "sqlite":
        raw = sqlite_files(engine)
        assert app.death_certificate.number.encode() in raw
        assert [what for what, value in secrets.items() if value.encode() in raw] == []
