"""Bulk inserts and updates that stay fast on both databases.

SQLite: ``executemany`` of one prepared statement (cheap in-process calls).
PostgreSQL: one statement per batch whose parameters are arrays, unpacked
server-side with ``unnest``. A 1000-row multi-VALUES statement has 10,000
parameters that the driver must rewrite and send one by one; ten arrays cost
next to nothing, which is what makes ingest several times faster there.
A plain insert (no conflict to skip, nothing returned) of columns holding
numbers, text and times goes through ``COPY`` instead: psycopg formats its rows
in C, where the arrays above are dumped element by element in Python.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, Sequence

from sqlalchemy import Table, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

# What psycopg's COPY writes without help; a JSON column (a dict) goes through unnest instead.
_COPYABLE = (int, float, str, bool, datetime, date, Decimal)


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _arrays(session: Session, table: Table, columns: Sequence[str], rows: Sequence[dict[str, Any]]):
    """Per column: its SQL array type and the column's values, bound as the column would bind them."""
    return _column_arrays(session, table, columns, [[row[name] for row in rows] for name in columns])


def _column_arrays(session: Session, table: Table, columns: Sequence[str], per_column: Sequence[Sequence[Any]]):
    """``_arrays`` from the values of each column (``per_column[i]`` for ``columns[i]``)."""
    dialect = session.get_bind().dialect
    types, params = [], {}
    for i, (name, values) in enumerate(zip(columns, per_column)):
        col_type = table.c[name].type
        types.append(col_type.compile(dialect=dialect) + "[]")
        if isinstance(col_type, TypeDecorator):
            values = [col_type.process_bind_param(v, dialect) for v in values]
        params[f"a{i}"] = list(values)
    unnest = ", ".join(f"CAST(:a{i} AS {t})" for i, t in enumerate(types))
    return unnest, params


def insert(session: Session, table: Table, rows: Sequence[dict[str, Any]], *,
           skip_conflicts_on: str | None = None, returning: str | None = None) -> list[Any]:
    """Insert ``rows`` (dicts with the same keys); returns the ``returning`` column in row order.

    With ``skip_conflicts_on`` (a unique column), rows that already exist are left
    alone and are missing from the returned values.
    """
    if not rows:
        return []
    columns = list(rows[0])
    if _is_postgres(session):
        if not skip_conflicts_on and not returning and _copyable(table, columns):
            _pg_copy(session, table, columns, rows)
            return []
        unnest, params = _arrays(session, table, columns, rows)
        names = ", ".join(f'"{c}"' for c in columns)
        sql = (f'INSERT INTO "{table.name}" ({names}) SELECT {names} FROM unnest({unnest}) '
               f"WITH ORDINALITY AS v({names}, ord) ORDER BY ord")
        if skip_conflicts_on:
            sql += f' ON CONFLICT ("{skip_conflicts_on}") DO NOTHING'
        if returning:
            # PostgreSQL returns rows in the order the SELECT fed them (ORDER BY ord).
            sql += f' RETURNING "{returning}"'
            return list(session.scalars(text(sql), params))
        session.execute(text(sql), params)
        return []
    if not skip_conflicts_on and not returning:
        _sqlite_executemany(session, table, columns, rows)
        return []
    if skip_conflicts_on:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(table).on_conflict_do_nothing(index_elements=[table.c[skip_conflicts_on]])
    else:
        stmt = table.insert()
    if returning:
        stmt = stmt.returning(table.c[returning], sort_by_parameter_order=True)
        return list(session.scalars(stmt, rows))
    session.execute(stmt, rows)
    return []


def _copyable(table: Table, columns: Sequence[str]) -> bool:
    """Whether every column holds a type COPY writes as it is (numbers, text, times)."""
    for name in columns:
        kind = table.c[name].type
        try:  # a TypeDecorator binds its impl's type (UTCDateTime: a naive datetime)
            if (kind.impl if isinstance(kind, TypeDecorator) else kind).python_type not in _COPYABLE:
                return False
        except NotImplementedError:
            return False
    return True


def _pg_copy(session: Session, table: Table, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
    """``COPY table (columns) FROM STDIN`` in the session's transaction, each value bound as its
    column binds it.

    A database error comes out as SQLAlchemy's (``IntegrityError``, ``OperationalError``, ...),
    as from any other statement, and the time is counted where the engine's cursor events count
    a statement's (the request's database time).
    """
    dialect = session.get_bind().dialect
    conn = session.connection()
    plan = [(c, t.process_bind_param if isinstance(t, TypeDecorator) else None)
            for c, t in ((c, table.c[c].type) for c in columns)]
    names = ", ".join(f'"{c}"' for c in columns)
    sql = f'COPY "{table.name}" ({names}) FROM STDIN'
    context = SimpleNamespace()
    conn.dispatch.before_cursor_execute(conn, None, sql, None, context, False)
    try:
        with conn.connection.driver_connection.cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row([row[c] if bind is None else bind(row[c], dialect) for c, bind in plan])
    except dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(sql, None, exc, dialect.loaded_dbapi.Error, dialect=dialect) from exc
    finally:
        conn.dispatch.after_cursor_execute(conn, None, sql, None, context, False)


def _sqlite_executemany(session: Session, table: Table, columns: Sequence[str],
                        rows: Sequence[dict[str, Any]]) -> None:
    """One driver-level executemany of plain tuples, each value bound as its column binds it.

    Skips SQLAlchemy's per-row parameter assembly, which costs more than SQLite's own work.
    """
    dialect = session.get_bind().dialect
    procs = [table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
    names = ", ".join(f'"{c}"' for c in columns)
    sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({", ".join("?" * len(columns))})'
    if any(procs):
        data = [tuple(row[c] if p is None else p(row[c]) for c, p in zip(columns, procs)) for row in rows]
    else:
        data = [tuple(row[c] for c in columns) for row in rows]
    session.connection().exec_driver_sql(sql, data)


def update_by_key(session: Session, table: Table, key: str, rows: Sequence[dict[str, Any]]) -> None:
    """Set every other key of each row on the table row whose ``key`` column matches."""
    if not rows:
        return
    columns = [c for c in rows[0] if c != key]
    if _is_postgres(session):
        unnest, params = _arrays(session, table, [key] + columns, rows)
        names = ", ".join(f'"{c}"' for c in [key] + columns)
        sets = ", ".join(f'"{c}" = v."{c}"' for c in columns)
        session.execute(text(f'UPDATE "{table.name}" AS t SET {sets} FROM unnest({unnest}) AS v({names}) '
                             f'WHERE t."{key}" = v."{key}"'), params)
        return
    from sqlalchemy import bindparam

    stmt = table.update().where(table.c[key] == bindparam("_key")).values(
        {c: bindparam(c) for c in columns})
    session.execute(stmt, [{"_key": r[key], **{c: r[c] for c in columns}} for r in rows])


def add_upsert(session: Session, table: Table, keys: Sequence[str], fields: Sequence[str],
               rows: Sequence[Sequence[Any]]) -> None:
    """Insert ``rows`` (tuples of the ``keys`` then the ``fields`` columns), adding ``fields`` to
    those of a row already stored under the same keys: ``ON CONFLICT (keys) DO UPDATE SET
    f = f + excluded.f``.

    The increments are atomic, so concurrent writers never overwrite each other. One statement
    over arrays on PostgreSQL, one driver-level executemany of plain tuples on SQLite.
    """
    if not rows:
        return
    columns = [*keys, *fields]
    names = ", ".join(f'"{c}"' for c in columns)
    conflict = ", ".join(f'"{k}"' for k in keys)
    sets = ", ".join(f'"{f}" = "{table.name}"."{f}" + excluded."{f}"' for f in fields)
    if _is_postgres(session):
        unnest, params = _column_arrays(session, table, columns, list(zip(*rows)))
        session.execute(text(f'INSERT INTO "{table.name}" ({names}) SELECT {names} FROM unnest({unnest}) '
                             f"AS v({names}) ON CONFLICT ({conflict}) DO UPDATE SET {sets}"), params)
        return
    dialect = session.get_bind().dialect
    procs = [table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
    rows = [tuple(row) for row in rows]
    for i, proc in enumerate(procs):
        if proc is not None:
            # Bound once per distinct value: a batch's rows share a few days.
            bound = {value: proc(value) for value in {row[i] for row in rows}}
            rows = [row[:i] + (bound[row[i]],) + row[i + 1:] for row in rows]
    session.connection().exec_driver_sql(
        f'INSERT INTO "{table.name}" ({names}) VALUES ({", ".join("?" * len(columns))}) '
        f"ON CONFLICT ({conflict}) DO UPDATE SET {sets}", rows)
