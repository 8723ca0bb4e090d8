"""Helpers shared by the file kinds: timestamps, rows (CSV/JSON), front matter, text.

Nothing here knows a kind; each function raises `RecordError` (or `ValueError`
for a single value) with a message that says what is wrong and where.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from typing import Any

import yaml
from dateutil import parser as dateutil_parser

from connectors.base import AttributeValue, RejectedRecord, SourceFile
from connectors.errors import RecordError

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


@dataclass(frozen=True, slots=True)
class DateReader:
    """How a source writes its times, and the reader of them: any value to aware UTC.

    Text is tried as ISO 8601, then (with `date_format`, tried before ISO) as that
    strptime pattern, or (with `dayfirst`) by python-dateutil reading day-first
    dates (`21/04/2018 20:09`, `5 Apr 2018`); dateutil is never asked first, since
    with `dayfirst` it reads `2018-04-05` as 4 May. A YAML date or datetime is taken
    as is. A time without offset (and a date alone, at midnight) is in `zone`; an
    offset is converted. Raises `ValueError` with a message that quotes the value
    and says how to fix it.
    """

    date_format: str | None = None
    dayfirst: bool = False
    zone: tzinfo = UTC

    def __call__(self, value: object) -> datetime:
        if isinstance(value, datetime):
            parsed = value
        elif isinstance(value, date):
            parsed = datetime.combine(value, time(0, 0))
        elif isinstance(value, str) and value.strip():
            parsed = self._text(value.strip())
        elif value is None or isinstance(value, str):
            raise ValueError("missing date")
        else:
            raise ValueError(f"unparseable date {value!r} ({self._expected()})")
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=self.zone)
        return to_utc(parsed, value)

    def _text(self, raw: str) -> datetime:
        if self.date_format is not None:
            try:
                return datetime.strptime(raw, self.date_format)  # noqa: DTZ007 (zone added after)
            except ValueError:
                pass
        try:
            return datetime.fromisoformat(raw)
        except ValueError:
            pass
        if self.dayfirst:
            return _dayfirst(raw, self._expected())
        raise ValueError(f"unparseable date {raw!r} ({self._expected()})")

    def _expected(self) -> str:
        if self.date_format is not None:
            return f"expected date_format {self.date_format!r} or ISO 8601"
        if self.dayfirst:
            return "expected a day-first date or ISO 8601"
        return "expected ISO 8601; set date_format or dayfirst"


_YEAR_FIRST = re.compile(r"\d{4}\D")
_DEFAULTS = (datetime(2000, 1, 1), datetime(2001, 2, 2))  # noqa: DTZ001 (fill-ins only)


def _dayfirst(raw: str, expected: str) -> datetime:
    """A day-first date read by dateutil; refused when it lacks a year, month or day
    (dateutil would fill them in from today) or names a zone it cannot know."""
    dayfirst = _YEAR_FIRST.match(raw) is None  # 2018/04/05 is still 5 April
    try:
        first, second = (
            dateutil_parser.parse(
                raw, dayfirst=dayfirst, yearfirst=not dayfirst, default=d, tzinfos=_zone_named
            )
            for d in _DEFAULTS
        )
    except _UnknownZone as exc:
        raise ValueError(
            f"unparseable date {raw!r} (unknown time zone {exc.name!r}; write an offset "
            "such as +01:00, or set timezone)"
        ) from None
    except (ValueError, OverflowError):
        raise ValueError(f"unparseable date {raw!r} ({expected})") from None
    if first.date() != second.date():
        raise ValueError(f"incomplete date {raw!r}: it needs a day, a month and a year")
    return first


class _UnknownZone(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _zone_named(name: str | None, offset: int | None) -> tzinfo | None:
    """dateutil's `tzinfos`: an offset as given, UTC by name, any other name refused
    (dateutil would warn and drop it, silently shifting the time)."""
    if offset is not None:
        return timezone(timedelta(seconds=offset))
    if name is None or name.upper() in {"UTC", "GMT", "UT", "Z"}:
        return None if name is None else UTC
    raise _UnknownZone(name)


DEFAULT_DATES = DateReader()


def parse_timestamp(value: object) -> datetime:
    """ISO 8601 (or a YAML date/datetime) to an aware UTC datetime: `DateReader()`.

    A date alone is midnight UTC; a naive time is taken as UTC; an offset is
    converted to UTC. Raises `ValueError` with a message quoting the value.
    """
    return DEFAULT_DATES(value)


def to_utc(moment: datetime, value: object) -> datetime:
    """An aware datetime in UTC; `ValueError` (quoting `value`) when UTC cannot hold it
    (`9999-12-31T23:00:00-05:00` is in year 10000 in UTC)."""
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        shown = value.strip() if isinstance(value, str) else str(value)
        raise ValueError(
            f"date {shown!r} is out of range once converted to UTC (years 1 to 9999)"
        ) from None


def parse_score(value: object) -> float | None:
    """A numeric score, or None when empty. Raises `ValueError` if not a finite number."""
    if value is None or (isinstance(value, str) and not value.strip()):
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


def as_text(value: object) -> str | None:
    """A field as stripped text; None when missing or empty. Numbers become text."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    return None


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
        yield from _csv_rows(text, source, required_columns)
    else:
        yield from _json_rows(text, source, list_key)


# The csv module refuses a field over 131,072 characters by default and then cannot
# find the next row, so one long answer would lose the rest of the file. The whole file
# is in memory already, so the limit protects nothing here: raise it once, for good
# (the limit is process-wide; a fixed value avoids threads racing over it).
_CSV_FIELD_LIMIT = 2**31 - 1


def _csv_rows(
    text: str, source: SourceFile, required_columns: Sequence[str]
) -> Iterator[Row | RejectedRecord]:
    if csv.field_size_limit() < _CSV_FIELD_LIMIT:
        csv.field_size_limit(_CSV_FIELD_LIMIT)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
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
        for cells in reader:
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
