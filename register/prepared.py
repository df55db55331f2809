"""The register's hot writes, run on the driver's cursor inside SQLAlchemy's transaction.

A worker writes the register a dozen times per case, each time from an activity thread while the workflows
hold the interpreter's lock most of the time. Through ``Connection.execute`` every statement also paid
SQLAlchemy's per-execution machinery (the compiled cache look-up, the execution context, the result
object), about a fifth of the register's CPU in the worker. Here a statement is compiled once per dialect
and set of columns; its values go through the column types' own bind processors (dates, JSON, booleans
exactly as SQLAlchemy writes them) and the statement runs on the transaction's DBAPI cursor.

What comes back is the driver's raw row: use it for ids and for whether a value is NULL, never for typed
values (a date read back from SQLite is text). Statements other than these writes and key look-ups go
through ``Connection.execute`` as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.elements import ClauseElement


@dataclass(frozen=True)
class _Prepared:
    statement: ClauseElement  # held, so the id it is cached under stays its own
    sql: str
    order: tuple[str, ...] | None  # bind names in order, for drivers with positional parameters
    processors: tuple[tuple[str, Callable[[Any], Any]], ...]
    defaults: tuple[tuple[str, Any], ...]  # columns an INSERT fills from their scalar default
    construct: Callable[[Mapping[str, Any]], dict[str, Any]]

    def parameters(self, values: Mapping[str, Any]) -> Any:
        if self.defaults:
            values = {**dict(self.defaults), **values}
        bound = self.construct(values)
        for name, process in self.processors:
            value = bound.get(name)
            if value is not None:
                bound[name] = process(value)
        if self.order is None:
            return bound
        return [bound[name] for name in self.order]


_PREPARED: dict[tuple[int, str, frozenset[str]], _Prepared] = {}


def _prepare(statement: ClauseElement, dialect: Dialect, keys: Iterable[str]) -> _Prepared:
    compiled: Any = statement.compile(dialect=dialect, column_keys=sorted(keys))
    defaults: list[tuple[str, Any]] = []
    for column in (*compiled.insert_prefetch, *compiled.update_prefetch):
        default = column.default if column in compiled.insert_prefetch else column.onupdate
        if default is None or not default.is_scalar:
            raise ValueError(f"column {column.key}: only a scalar default can be filled in before the statement")
        defaults.append((column.key, default.arg))
    processors = []
    for name, bind in compiled.binds.items():
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            processors.append((name, process))
    return _Prepared(
        statement=statement,
        sql=compiled.string,
        order=tuple(compiled.positiontup) if compiled.positional else None,
        processors=tuple(processors),
        defaults=tuple(defaults),
        construct=compiled.construct_params,
    )


def execute(connection: Connection, statement: ClauseElement, values: Mapping[str, Any]) -> Any:
    """Run ``statement`` with ``values`` in the connection's transaction; the DBAPI cursor it ran on."""
    dialect = connection.dialect
    key = (id(statement), dialect.name, frozenset(values))
    prepared = _PREPARED.get(key)
    if prepared is None:
        # Statements are module constants (or cached per dialect), so their ids are stable and few.
        prepared = _PREPARED.setdefault(key, _prepare(statement, dialect, values))
    parameters = prepared.parameters(values)
    cursor = connection.connection.cursor()
    try:
        cursor.execute(prepared.sql, parameters)
    except dialect.loaded_dbapi.Error as err:
        # As Connection.execute raises it (an IntegrityError for a unique key met, ...), so callers and
        # retries see one kind of error whichever path wrote.
        raise DBAPIError.instance(prepared.sql, parameters, err, dialect.loaded_dbapi.Error,
                                  hide_parameters=True, dialect=dialect) from err
    return cursor


def first(connection: Connection, statement: ClauseElement, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """The first row the statement returns, as the driver gives it (None: no row)."""
    cursor = execute(connection, statement, values)
    row = cursor.fetchone()
    cursor.close()
    return tuple(row) if row is not None else None


def changed(connection: Connection, statement: ClauseElement, values: Mapping[str, Any]) -> int:
    """Rows the statement inserted or changed (an INSERT that met its unique key and did nothing: 0)."""
    cursor = execute(connection, statement, values)
    count = int(cursor.rowcount)
    cursor.close()
    return count
