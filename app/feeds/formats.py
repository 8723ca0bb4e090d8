"""Streaming writers: rows in, bytes out, a chunk at a time (a million rows never
sit in memory). One column contract drives all three formats.

- CSV: UTF-8 with a BOM-free header row, ISO 8601 dates, `\\r\\n` line ends as
  RFC 4180 says; opens as is in Excel and Power BI.
- NDJSON: one JSON object per line, same names and values.
- Parquet (pyarrow): typed columns, one row group per chunk.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq

Format = Literal["csv", "ndjson", "parquet"]
MEDIA_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "ndjson": "application/x-ndjson",
    "parquet": "application/vnd.apache.parquet",
}
ACCEPTED: dict[str, Format] = {
    "text/csv": "csv",
    "application/x-ndjson": "ndjson",
    "application/ndjson": "ndjson",
    "application/jsonl": "ndjson",
    "application/vnd.apache.parquet": "parquet",
    "application/x-parquet": "parquet",
}
ROWS_PER_CHUNK = 5_000

ColumnType = Literal["str", "int", "float", "date", "datetime", "json"]
_ARROW: dict[str, pa.DataType] = {
    "str": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "date": pa.date32(),
    "datetime": pa.timestamp("us", tz="UTC"),
    "json": pa.string(),
}


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: ColumnType
    doc: str


def format_from_accept(accept: str | None) -> Format | None:
    """The first format the `Accept` header names (quality values are not weighed)."""
    for part in (accept or "").split(","):
        media = part.split(";")[0].strip().lower()
        if media in ACCEPTED:
            return ACCEPTED[media]
    return None


def _json_value(value: Any, kind: ColumnType) -> Any:
    if kind == "json" and isinstance(value, str):
        return json.loads(value)
    if isinstance(value, datetime | date):
        return value.isoformat().replace("+00:00", "Z")
    return value


def stream(
    rows: Iterable[Sequence[Any]], columns: Sequence[Column], fmt: Format
) -> Iterator[bytes]:
    if fmt == "csv":
        yield from _csv(rows, columns)
    elif fmt == "ndjson":
        yield from _ndjson(rows, columns)
    else:
        yield from _parquet(rows, columns)


def _chunks(rows: Iterable[Sequence[Any]]) -> Iterator[list[Sequence[Any]]]:
    chunk: list[Sequence[Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= ROWS_PER_CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _moment(value: Any) -> Any:
    return value.isoformat().replace("+00:00", "Z") if isinstance(value, datetime | date) else value


def _json_text(value: Any) -> Any:
    """JSON columns arrive as their stored text (`RawJson`) or as values."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _is_text(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _csv(rows: Iterable[Sequence[Any]], columns: Sequence[Column]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # writes None as an empty cell
    writer.writerow([c.name for c in columns])
    # Only dates and JSON need converting; a per-cell dispatch cost more than the rest.
    convert = [
        (i, _moment if c.type in ("date", "datetime") else _json_text)
        for i, c in enumerate(columns)
        if c.type in ("date", "datetime", "json")
    ]
    for chunk in _chunks(rows):
        # Columns that arrive as text already (ISO times and JSON from the database)
        # are written as they are.
        todo = [(i, fn) for i, fn in convert if any(not _is_text(row[i]) for row in chunk)]
        if todo:
            out: list[Sequence[Any]] = []
            for row in chunk:
                cells = list(row)
                for i, fn in todo:
                    cells[i] = fn(cells[i])
                out.append(cells)
        else:
            out = chunk
        writer.writerows(out)
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
    rest = buffer.getvalue()
    if rest:
        yield rest.encode("utf-8")


def _ndjson(rows: Iterable[Sequence[Any]], columns: Sequence[Column]) -> Iterator[bytes]:
    names = [c.name for c in columns]
    kinds = [c.type for c in columns]
    for chunk in _chunks(rows):
        lines = [
            json.dumps(
                {n: _json_value(v, k) for n, v, k in zip(names, row, kinds, strict=True)},
                ensure_ascii=False,
                separators=(",", ":"),
            )
            for row in chunk
        ]
        yield ("\n".join(lines) + "\n").encode("utf-8")


class _Sink(io.RawIOBase):
    """A write-only file that hands what was written to the response in pieces."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out = b"".join(self.parts)
        self.parts.clear()
        return out


def _parquet(rows: Iterable[Sequence[Any]], columns: Sequence[Column]) -> Iterator[bytes]:
    schema = pa.schema([pa.field(c.name, _ARROW[c.type]) for c in columns])
    sink = _Sink()
    writer = pq.ParquetWriter(sink, schema)
    try:
        for chunk in _chunks(rows):
            arrays = []
            for i, column in enumerate(columns):
                values = [row[i] for row in chunk]
                if column.type == "json":
                    values = [_json_text(v) for v in values]
                if column.type in ("date", "datetime") and any(isinstance(v, str) for v in values):
                    # ISO text from the database (app.feeds.repository.iso_text)
                    arrays.append(pa.array(values, type=pa.string()).cast(_ARROW[column.type]))
                    continue
                arrays.append(pa.array(values, type=_ARROW[column.type]))
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            piece = sink.take()
            if piece:
                yield piece
    finally:
        writer.close()
    yield sink.take()
