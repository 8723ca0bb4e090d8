"""Helpers shared by the file kinds: scores and ids, rows (CSV/JSON), front matter, text
(times, text values and stage hints are in `connectors.values`).

Nothing here knows a kind; each function raises `RecordError` (or `ValueError`
for a single value) with a message that says what is wrong and where.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import yaml

from connectors.base import AttributeValue, RejectedRecord, SourceFile
from connectors.errors import RecordError
from connectors.values import as_text

EXCERPT_CHARS = 500


def excerpt(value: object, limit: int = EXCERPT_CHARS) -> str:
    """A short, readable rendering of a bad record for quarantine."""
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------- values


NO_SCORE = frozenset({"n/a", "na", "#n/a", "-", "--", "null", "none", "not answered", "skipped"})
"""What survey tools write for a score the respondent did not give."""


def parse_score(value: object) -> float | None:
    """A numeric score, or None when empty or marked as not given ("N/A", "-").
    Raises `ValueError` if not a finite number."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str) and value.strip().casefold() in NO_SCORE:
        return None
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    if number is None or not math.isfinite(number):
        shown = value.strip() if isinstance(value, str) else value
        raise ValueError(
            f"non-numeric score {excerpt(shown, 60) if not isinstance(shown, str) else repr(shown)}"
        )
    return number


def as_id(value: object) -> str | None:
    """An identifier (string or integer); None when missing, empty or of another type."""
    if isinstance(value, float) and not value.is_integer():
        return None
    return as_text(value)


def attribute_value(value: object) -> AttributeValue:
    """A value as an item attribute: scalars stay, lists are comma-joined, dates ISO."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ",".join(str(attribute_value(v)) for v in value if v is not None)
    return excerpt(value)


# --------------------------------------------------------------------------- rows


@dataclass(frozen=True, slots=True)
class Row:
    data: dict[str, Any]
    location: str
    excerpt: str


def read_rows(
    text: str, source: SourceFile, *, required_columns: Sequence[str], list_key: str
) -> Iterator[Row | RejectedRecord]:
    """Rows of a CSV (with header) or JSON file (an array of objects, or
    `{list_key: [...]}`), chosen by the file's extension.

    A CSV header lacking a `required_columns` entry, invalid JSON or a broken
    CSV raise `RecordError` (the rest of the file is unreadable); a JSON element
    that is not an object, or a CSV row with more cells than the header, is
    yielded as a `RejectedRecord`.
    """
    if source.path.suffix.lower() == ".csv":
        yield from read_csv_rows(
            io.StringIO(text, newline=""), source, required_columns=required_columns
        )
    else:
        yield from _json_rows(text, source, list_key)


# The csv module refuses a field over 131,072 characters by default and then cannot
# find the next row, so one long answer would lose the rest of the file. `_RowLines`
# bounds a row (MAX_ROW_CHARS) before the csv module would: lift the module's limit
# once, for good (it is process-wide; a fixed value avoids threads racing over it).
_CSV_FIELD_LIMIT = 2**31 - 1

MAX_ROW_CHARS = 8 << 20
"""The longest CSV row read: a longer one is a quote never closed (the reader would
take the rest of the file as one cell, in memory), so the rest of the file is one reject."""


def read_csv_rows(
    lines: Iterable[str], source: SourceFile, *, required_columns: Sequence[str]
) -> Iterator[Row | RejectedRecord]:
    """Rows of a CSV file with a header, from its lines (each with its line end, as a
    file opened with `newline=""` gives them), in memory bounded by a row.

    Errors as `read_rows`; a `RecordError` raised by `lines` (a byte that does not
    decode) goes through, after the rows before it.
    """
    if csv.field_size_limit() < _CSV_FIELD_LIMIT:
        csv.field_size_limit(_CSV_FIELD_LIMIT)
    taken = _RowLines(lines, source)
    reader = csv.reader(taken, strict=True)
    row_no = 1
    try:
        header = next(reader, None)
        if header is None:
            return
        columns = [c.strip() for c in header]
        missing = [c for c in required_columns if c not in columns]
        if missing:
            raise RecordError(
                f"column(s) {', '.join(map(repr, missing))} not in the CSV header "
                f"(found: {', '.join(map(repr, columns))}); fix the source config or the file",
                excerpt=excerpt(",".join(header)),
                location=source.at("row 1"),
            )
        while True:
            taken.next_row(row_no + 1)
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                if "unexpected end of data" in str(exc):
                    raise  # a quoted field never closed: the rest of the file is in it
                # a bad quote in one row: the reader starts again at the next line
                row_no += 1
                yield RejectedRecord(
                    reason=f"malformed CSV row: {exc} (a quote inside a quoted cell must "
                    'be doubled: "")',
                    excerpt=excerpt(taken.row_text()),
                    location=source.at(f"row {row_no}"),
                )
                continue
            row_no += 1
            if not any(c.strip() for c in cells):
                continue
            raw = excerpt(",".join(cells))
            if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns) :]):
                yield RejectedRecord(
                    reason=f"row has {len(cells)} cells but the header has {len(columns)}",
                    excerpt=raw,
                    location=source.at(f"row {row_no}"),
                )
                continue
            data = dict(zip(columns, cells, strict=False))
            yield Row(data=data, location=source.at(f"row {row_no}"), excerpt=raw)
    except csv.Error as exc:
        raise RecordError(
            f"malformed CSV at line {reader.line_num}: {exc} (truncated file?)",
            location=source.at(f"row {row_no + 1}"),
        ) from exc


class _RowLines:
    """The lines a CSV reader takes, counted per row: the start of the row being read
    is kept for an excerpt, and a row over `MAX_ROW_CHARS` stops the file."""

    def __init__(self, lines: Iterable[str], source: SourceFile) -> None:
        self._lines = iter(lines)
        self._source = source
        self._row = 1
        self._first_line = 1
        self._line = 0  # lines taken so far
        self._chars = 0  # of the row being read
        self._kept: list[str] = []
        self._kept_chars = 0

    def __iter__(self) -> _RowLines:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self._line += 1
        self._chars += len(line)
        if self._chars > MAX_ROW_CHARS:
            raise RecordError(
                f"CSV row {self._row} (from line {self._first_line}) runs over "
                f"{MAX_ROW_CHARS:,} characters: a quote never closed? The rest of the file "
                "is not read",
                excerpt=excerpt(self.row_text()),
                location=self._source.at(f"row {self._row}"),
            )
        if self._kept_chars <= EXCERPT_CHARS + 1:  # enough to cut an excerpt from
            self._kept.append(line)
            self._kept_chars += len(line)
        return line

    def next_row(self, row: int) -> None:
        """The reader is about to read row `row` (1 = the header)."""
        self._row, self._first_line = row, self._line + 1
        self._chars, self._kept, self._kept_chars = 0, [], 0

    def row_text(self) -> str:
        """The start of the row read since `next_row`, its lines joined by "\n"."""
        return "".join(self._kept).removesuffix("\n")


def _json_rows(text: str, source: SourceFile, list_key: str) -> Iterator[Row | RejectedRecord]:
    payload = load_json(text, source)
    if isinstance(payload, dict) and isinstance(payload.get(list_key), list):
        payload = payload[list_key]
    if not isinstance(payload, list):
        raise RecordError(
            f'expected a JSON array of objects or {{"{list_key}": [...]}}, '
            f"got {type(payload).__name__}",
            excerpt=excerpt(text),
            location=source.at(),
        )
    for n, element in enumerate(payload, start=1):
        where = source.at(f"record {n}")
        if not isinstance(element, dict):
            yield RejectedRecord(
                reason=f"record is not a JSON object ({type(element).__name__})",
                excerpt=excerpt(element),
                location=where,
            )
            continue
        yield Row(data=element, location=where, excerpt=excerpt(element))


def load_json(text: str, source: SourceFile) -> Any:
    """Parse a whole JSON file, or raise `RecordError` saying where it breaks."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise RecordError(
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg} "
            "(truncated or not JSON?)",
            excerpt=excerpt(text[max(0, exc.pos - 200) : exc.pos + 100]),
            location=source.at(f"line {exc.lineno}"),
        ) from exc
    except (ValueError, RecursionError) as exc:
        raise RecordError(json_problem(exc), excerpt=excerpt(text), location=source.at()) from exc


def json_problem(exc: ValueError | RecursionError) -> str:
    """The reason for JSON that `json.loads` refuses without a `JSONDecodeError`:
    an integer over 4,300 digits (ValueError) or nesting too deep (RecursionError)."""
    if isinstance(exc, RecursionError):
        return "JSON nested too deeply to read"
    return f"JSON value cannot be read: {exc}"


# --------------------------------------------------------------------------- text

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S | re.M)


def split_front_matter(text: str, source: SourceFile) -> tuple[dict[str, Any] | None, str]:
    """`(front matter, body)`; front matter is None when the file has none.

    Raises `RecordError` when the block is present but is not a YAML mapping.
    """
    match = _FRONT_MATTER.match(text)
    if match is None:
        return None, text
    block = match.group(1)
    try:
        meta = yaml.safe_load(block)
    except yaml.YAMLError as exc:
        raise RecordError(
            f"invalid YAML front matter: {str(exc).splitlines()[0]}",
            excerpt=excerpt(block),
            location=source.at(),
        ) from exc
    except (ValueError, OverflowError, RecursionError) as exc:
        # PyYAML builds dates and numbers with the stdlib: `date: 2024-02-30` raises
        # ValueError, not YAMLError
        raise RecordError(
            f"invalid value in YAML front matter: {exc or type(exc).__name__} "
            "(quote it to keep it as text)",
            excerpt=excerpt(block),
            location=source.at(),
        ) from exc
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise RecordError(
            "front matter is not a mapping of `key: value` lines",
            excerpt=excerpt(block),
            location=source.at(),
        )
    return {str(k): v for k, v in meta.items()}, text[match.end() :]


_SPACES = re.compile(r"[ \t\f\v\u00a0]+")


def tidy(text: str) -> str:
    """Collapse runs of spaces, trim each line, and keep at most one blank line."""
    lines = [_SPACES.sub(" ", line).strip() for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        if not line and (not out or not out[-1]):
            continue
        out.append(line)
    return "\n".join(out).strip()
