"""Connecting to the register and creating its schema.

Schema changes are additive: a new table, or a new nullable column (or one with a default). ``create_schema``
creates what is missing and adds missing columns (and their indexes) to existing tables, so a register
written by an earlier release keeps its rows. On PostgreSQL an advisory lock lets several workers start at once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel, create_engine

from register import tables  # registers the tables on SQLModel.metadata

# Any constant shared by every shenhou process: the advisory lock that serialises schema creation.
_SCHEMA_LOCK = 0x5348454E484F55
# The families' portal's own PostgreSQL login (deploy/postgres-init.sh creates it): it reads the cases and
# matters (an applicant's own cases, the duplicate check, handling times for predictions) and records
# consents, 好差评 ratings and 退订 replies; it can change nothing else. Granted at every schema creation, when
# the role exists.
PORTAL_ROLE = "shenhou_portal"
PORTAL_GRANTS = (
    "GRANT USAGE ON SCHEMA public TO shenhou_portal",
    "GRANT SELECT ON cases, matters TO shenhou_portal",
    "GRANT SELECT, INSERT ON consents TO shenhou_portal",
    "GRANT USAGE ON SEQUENCE consents_id_seq TO shenhou_portal",
    # The families' 好差评 ratings (portal/ratings.py): given once, read back to show 已评价; never changed.
    "GRANT SELECT, INSERT ON ratings TO shenhou_portal",
    "GRANT USAGE ON SEQUENCE ratings_id_seq TO shenhou_portal",
    # 退订 replies the SMS gateway posts (register/opt_outs.py): a number's keyed hash, added once.
    "GRANT SELECT, INSERT ON sms_opt_outs TO shenhou_portal",
)


def make_engine(url: str) -> Engine:
    sqlite = url.startswith("sqlite")
    connect_args: dict[str, Any] = {}
    if sqlite:
        # Activities run in worker threads; SQLite's per-thread check does not apply to pooled use.
        connect_args = {"check_same_thread": False, "timeout": 30}
    # A server connection can go stale (a database restart, a proxy's idle timeout); a SQLite file cannot,
    # and pinging it cost a statement per register write.
    engine = create_engine(url, connect_args=connect_args, pool_pre_ping=not sqlite)
    if sqlite:

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.close()

    return engine


def insert_for(dialect: str) -> Any:
    """The dialect's ``insert``, the one that knows ``ON CONFLICT`` (the register is SQLite or PostgreSQL)."""
    return sqlite_insert if dialect == "sqlite" else postgresql_insert


def create_schema(engine: Engine) -> None:
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
        SQLModel.metadata.create_all(connection)
        added = _add_missing_columns(connection)
        if ("matters", "manual_handling") in added:
            _fill_manual_handling(connection)
        if connection.dialect.name == "postgresql" and connection.execute(
                text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": PORTAL_ROLE}).first():
            for grant in PORTAL_GRANTS:
                connection.execute(text(grant))


def _add_missing_columns(connection: Connection) -> set[tuple[str, str]]:
    inspector = inspect(connection)
    preparer = connection.dialect.identifier_preparer
    added: set[tuple[str, str]] = set()
    for table in SQLModel.metadata.sorted_tables:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            added.add((table.name, column.name))
            kind = column.type.compile(dialect=connection.dialect)
            default = ""
            if column.default is not None and getattr(column.default, "is_scalar", False):
                default = f" DEFAULT {_literal(getattr(column.default, 'arg', None))}"
            connection.execute(text(
                f"ALTER TABLE {preparer.quote(table.name)} ADD COLUMN {preparer.quote(column.name)} {kind}{default}"
            ))
        for index in table.indexes:
            index.create(connection, checkfirst=True)
    return added


def _fill_manual_handling(connection: Connection) -> None:
    """Open matters written before the column existed: the flag from the view each row already holds, so the
    supervisor's listing from the register misses none of them."""
    matters = tables.MatterRow.__table__  # type: ignore[attr-defined]
    flagged = [row.id for row in connection.execute(
        select(matters.c.id, matters.c.view).where(matters.c.closed_at.is_(None)))
        if isinstance(row.view, dict) and row.view.get("manual_handling")]
    if flagged:
        connection.execute(update(matters).where(matters.c.id.in_(flagged)).values(manual_handling=True))


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"
