"""Bulk writes straight through the database driver.

Ingest writes about a dozen rows per item (the item, its sentences, its voice
facts, rollup upserts). SQLAlchemy's per-row parameter processing, and on SQLite
its row-at-a-time `INSERT ... RETURNING`, cost more than the NLP (bench/ingest.py),
so these rows go through one compiled statement and the driver's `executemany`,
with the few conversions the column types would have made done here, once per
column rather than once per value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Table, insert, select, tuple_
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection

from app.db_types import UTCDateTime


def execute_rows(
    conn: Connection,
    statement: Any,
    names: Sequence[str],
    rows: list[tuple[Any, ...]],
    *,
    dated: Sequence[int] | None = None,
) -> None:
    """Run one statement over many rows, each holding the values of `names` in order.

    Values must already be what the driver takes: on SQLite, dates and datetimes are
    turned into the text SQLAlchemy's types store (ISO dates, naive UTC datetimes), at
    the positions `dated` (by default, those holding a date in the first row)."""
    if not rows:
        return
    compiled = statement.compile(dialect=conn.dialect, column_keys=list(names))
    if conn.dialect.name == "sqlite":
        if dated is None:
            dated = [i for i, v in enumerate(rows[0]) if isinstance(v, date)]
        if dated:
            seen: dict[Any, Any] = {None: None}  # rows share days and stamps
            rows = [_sqlite_dates(row, dated, seen) for row in rows]
    if compiled.positional:
        at = {name: i for i, name in enumerate(names)}
        order = [at[name] for name in compiled.positiontup or []]
        if order != list(range(len(names))):
            rows = [tuple(row[i] for i in order) for row in rows]
        conn.exec_driver_sql(compiled.string, rows)
    else:
        conn.exec_driver_sql(compiled.string, [dict(zip(names, row, strict=True)) for row in rows])


def upsert_rows(
    conn: Connection,
    table: Table,
    names: Sequence[str],
    rows: list[tuple[Any, ...]],
    *,
    keys: Sequence[str],
    add: Sequence[str] = (),
    replace: Sequence[str] = (),
) -> None:
    """Insert rows holding the values of `names`; a row whose `keys` are stored
    already adds its `add` columns to the stored ones and sets its `replace` ones
    (neither: the stored row stays). The rows' keys must be distinct.

    On PostgreSQL the rows go as one array per column through `unnest`: one
    statement, one round trip, where `executemany` sends and checks every row
    (measured: the rollup upserts were a third of a stored batch's time)."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        statement = sqlite.insert(table)
        statement = (
            statement.on_conflict_do_update(
                index_elements=list(keys),
                set_={
                    **{c: table.c[c] + statement.excluded[c] for c in add},
                    **{c: statement.excluded[c] for c in replace},
                },
            )
            if add or replace
            else statement.on_conflict_do_nothing(index_elements=list(keys))
        )
        execute_rows(conn, statement, names, rows)
        return
    dialect = conn.dialect
    arrays = ", ".join(f"%s::{table.c[name].type.compile(dialect=dialect)}[]" for name in names)
    columns = ", ".join(f'"{name}"' for name in names)
    sets = [f'"{c}" = "{table.name}"."{c}" + excluded."{c}"' for c in add]
    sets += [f'"{c}" = excluded."{c}"' for c in replace]
    conflict = f"DO UPDATE SET {', '.join(sets)}" if sets else "DO NOTHING"
    on = ", ".join(f'"{k}"' for k in keys)
    sql = (
        f'INSERT INTO "{table.name}" ({columns}) SELECT * FROM unnest({arrays}) '
        f"ON CONFLICT ({on}) {conflict}"
    )
    values = [list(column) for column in zip(*rows, strict=True)]
    for i, name in enumerate(names):
        if isinstance(table.c[name].type, UTCDateTime):
            values[i] = [_utc(v) for v in values[i]]
    conn.exec_driver_sql(sql, tuple(values))


def insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert rows (all with the same keys) into `table`: JSON columns are encoded
    here, aware datetimes checked as `UTCDateTime` would."""
    if not rows:
        return
    names = list(rows[0])
    json_at = [i for i, name in enumerate(names) if isinstance(table.c[name].type, JSON)]
    utc_at = [i for i, name in enumerate(names) if isinstance(table.c[name].type, UTCDateTime)]
    dated = [
        i
        for i, name in enumerate(names)
        if isinstance(table.c[name].type, (Date, DateTime, UTCDateTime))
    ]
    values: list[tuple[Any, ...]] = []
    for row in rows:
        value = [row[name] for name in names]
        for i in json_at:
            value[i] = json_text(value[i])
        for i in utc_at:
            value[i] = _utc(value[i])
        values.append(tuple(value))
    if conn.dialect.name == "postgresql":
        _copy_rows(conn, table, names, values)
        return
    execute_rows(conn, insert(table), names, values, dated=dated)


def _copy_rows(
    conn: Connection, table: Table, names: Sequence[str], values: list[tuple[Any, ...]]
) -> None:
    """PostgreSQL: plain inserts as one COPY, in the transaction of `conn`. psycopg's
    executemany sends and checks every row (measured: 40% of a batch's store time)."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    columns = ", ".join(f'"{name}"' for name in names)
    with cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
        for value in values:
            copy.write_row(value)


def insert_returning_ids(
    conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], *, key: Sequence[str]
) -> list[int]:
    """`insert_rows`, then the new rows' ids in the order of `rows`, found by `key`
    (the columns of a unique constraint every row fills)."""
    insert_rows(conn, table, rows)
    ids: dict[tuple[Any, ...], int] = {}
    keys = [tuple(row[k] for k in key) for row in rows]
    columns = [table.c[k] for k in key]
    leading = {k[0] for k in keys}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        if len(key) == 2 and len(leading) == 1:
            # One source's batch: `source = x AND id IN (...)` is one index range
            # scan; a row-value IN list is planned as an OR of 500 scans, which
            # PostgreSQL took over a second per batch at a million items.
            where = (columns[0] == chunk[0][0]) & columns[1].in_([k[1] for k in chunk])
        else:
            where = tuple_(*columns).in_(chunk)
        for found in conn.execute(select(table.c.id, *columns).where(where)):
            ids[tuple(found[1:])] = int(found[0])
    return [ids[k] for k in keys]


class JsonText(str):
    """A JSON value encoded already (`encode_json`): `insert_rows` writes it as it is."""


def encode_json(table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Encode the JSON columns of rows bound for `insert_rows`, in place: work taken
    out of a transaction that holds others up (a queued batch's, before its turn)."""
    if not rows:
        return
    names = [name for name in rows[0] if isinstance(table.c[name].type, JSON)]
    for row in rows:
        for name in names:
            value = row[name]
            if value is not None and not isinstance(value, JsonText):
                row[name] = JsonText(json_text(value))


def json_text(value: Any) -> str | None:
    if value is None or isinstance(value, JsonText):
        return value
    if not value and isinstance(value, (list, dict, tuple)):
        return "[]" if not isinstance(value, dict) else "{}"
    return json.dumps(value, ensure_ascii=False, default=str)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: every stored datetime must be aware")
    return value.astimezone(UTC)


def _sqlite_dates(
    row: tuple[Any, ...], dated: Sequence[int], seen: dict[Any, Any]
) -> tuple[Any, ...]:
    values = list(row)
    for i in dated:
        value = values[i]
        text = seen.get(value)
        if text is None:
            text = seen[value] = _sqlite_value(value)
        values[i] = text
    return tuple(values)


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value
