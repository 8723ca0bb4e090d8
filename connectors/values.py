"""Values every file kind reads the same way: times (`DateReader`), text (`as_text`)
and stage hints (`StageHints`).

Pure functions of their input, importing nothing else of `connectors`, so the
file base (`connectors.base`) builds a source's readers from its config.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo

from dateutil import parser as dateutil_parser

# --------------------------------------------------------------------------- times


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


# --------------------------------------------------------------------------- text


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


# --------------------------------------------------------------------------- hints


@dataclass(frozen=True, slots=True)
class Hint:
    """A stage hint looked up: the stage key (None: unmapped) and the source's own value
    (None: no lookup was made). Becomes `RawItem.stage_hint` and `RawItem.hint_value`."""

    stage: str | None = None
    value: str | None = None


NO_HINT = Hint()


class StageHints:
    """A source's values (a touchpoint, a call reason, a hashtag) → journey stage keys.

    Values match case-insensitively and trimmed (and without the `strip` characters
    at either end, e.g. `#` for tags). A lookup is made only when the map is
    `active` (configured) and the value is not empty; an unmapped value gives a
    `Hint` with no stage but with the value, so ingest can count it.
    """

    def __init__(self, mapping: dict[str, str], *, active: bool, strip: str = "") -> None:
        self._strip = strip
        self._map = {self.key(value): stage for value, stage in mapping.items()}
        self.active = active

    def key(self, value: str) -> str:
        return value.strip().strip(self._strip).strip().casefold()

    def lookup(self, value: object) -> Hint:
        """The hint for one value (a text or a number; anything else is no value)."""
        text = as_text(value)
        if not self.active or text is None:
            return NO_HINT
        return Hint(self._map.get(self.key(text)), text)

    def first(self, values: Sequence[str]) -> Hint:
        """The first of several values that is mapped (tags); none: all of them, joined."""
        if not self.active or not values:
            return NO_HINT
        for value in values:
            stage = self._map.get(self.key(value))
            if stage is not None:
                return Hint(stage, value)
        return Hint(None, ",".join(values))

    @staticmethod
    def normalise(mapping: dict[str, str], *, strip: str = "") -> dict[str, str]:
        """Validate a configured map: a value listed twice (in any case) is an error."""
        out: dict[str, str] = {}
        for value, stage in mapping.items():
            key = value.strip().strip(strip).strip().casefold()
            if not key:
                raise ValueError("an empty value cannot map to a stage")
            if key in out and out[key] != stage:
                raise ValueError(
                    f"{value!r} is listed twice (values match in any case) with different stages"
                )
            out[key] = stage
        return out
