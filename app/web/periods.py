"""What a page was asked for: the API's query parameters (`from`, `to`, `source`,
`channel`, `attr.NAME`), the period presets of the picker, and the day they end on.

A page asked without `from` and `to` is sent (302) to the default preset with both
written out, so the address bar always holds a link that shows the same view later.
`from=` and `to=` given empty mean an open bound, as in the API (`from=&to=` is all
time). The picker's presets end on the *anchor day*: the latest day with data, or
today when that is earlier (a store fed by exports, like the sample company, ends
before today; "the last 7 days" of nothing would tell a reader nothing, and the page
says which day the data ends on).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

from sqlmodel import Session

from app.errors import BadRequestError
from app.items.filters import ItemFilters
from app.items.service import list_items
from app.params import (
    MAX_ATTR_FILTERS,
    check_channel,
    check_source,
    parse_attrs,
    parse_range,
)

DEFAULT_PRESET = "30d"
PRESET_DAYS = {"7d": 7, "30d": 30, "90d": 90}
PRESET_LABELS = {
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "90d": "Last 90 days",
    "quarter": "Quarter to date",
    "all": "All time",
}


def today() -> date:
    return datetime.now(UTC).date()


def latest_day(session: Session) -> date | None:
    """The UTC day of the newest stored item (the items service, newest first)."""
    page = list_items(session, filters=ItemFilters(), limit=1, cursor=None)
    if not page.items:
        return None
    return utc_day(page.items[0].occurred_at)


def utc_day(moment: datetime) -> date:
    """The UTC day of a stored moment (SQLite hands UTC moments back naive)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).date()


def anchor_day(session: Session) -> date:
    """The day presets end on: the latest day with data, never after today."""
    latest = latest_day(session)
    now = today()
    return now if latest is None or latest > now else latest


def preset_range(preset: str, anchor: date) -> tuple[str, str]:
    """`from` and `to` (inclusive days, as the API takes them) of a preset."""
    if preset in PRESET_DAYS:
        start = anchor - timedelta(days=PRESET_DAYS[preset] - 1)
    elif preset == "quarter":
        start = date(anchor.year, 3 * ((anchor.month - 1) // 3) + 1, 1)
    elif preset == "all":
        return "", ""
    else:
        known = ", ".join(PRESET_LABELS)
        raise BadRequestError(f"unknown period {preset!r}; the periods are: {known}")
    return start.isoformat(), anchor.isoformat()


@dataclass(frozen=True, slots=True)
class PageQuery:
    """The parameters of one view, checked as the API checks them."""

    asked_from: str | None
    asked_to: str | None
    source: str | None = None
    channel: str | None = None
    attrs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def start(self) -> datetime | None:
        return parse_range(self.asked_from or None, self.asked_to or None)[0]

    @property
    def stop(self) -> datetime | None:
        return parse_range(self.asked_from or None, self.asked_to or None)[1]

    @property
    def closed(self) -> bool:
        """Both bounds given: the period has a previous one to compare with."""
        return bool(self.asked_from) and bool(self.asked_to)

    @property
    def api_from(self) -> str | None:
        return self.asked_from or None

    @property
    def api_to(self) -> str | None:
        return self.asked_to or None

    def params(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = [
            ("from", self.asked_from or ""),
            ("to", self.asked_to or ""),
        ]
        if self.source:
            out.append(("source", self.source))
        if self.channel:
            out.append(("channel", self.channel))
        for name, values in self.attrs.items():
            out.extend((f"attr.{name}", value) for value in values)
        return out

    def query_string(self) -> str:
        return urlencode(self.params())

    def with_period(self, date_from: str, date_to: str) -> PageQuery:
        return replace(self, asked_from=date_from, asked_to=date_to)

    def without_attr(self, name: str, value: str) -> PageQuery:
        attrs = {
            n: tuple(v for v in values if (n, v) != (name, value))
            for n, values in self.attrs.items()
        }
        return replace(self, attrs={n: v for n, v in attrs.items() if v})

    def api_query_string(self) -> str:
        """The same view's parameters for the JSON API (open bounds left out)."""
        return urlencode([(k, v) for k, v in self.params() if v != ""])


@dataclass(frozen=True, slots=True)
class Redirect:
    """The canonical address of what was asked (form fields folded into API names)."""

    query: PageQuery


def read_query(
    session: Session, params: Sequence[tuple[str, str]], *, anchor: date
) -> PageQuery | Redirect:
    """Parse and check a page's parameters; a `Redirect` when the address is not the
    canonical one (no period yet, an empty filter from the form, the form's `attr`
    box), an `AppError` (4xx) when a value is unusable."""
    given = dict(params)
    canonical = True
    source = given.get("source") or None
    channel = given.get("channel") or None
    if ("source" in given and not source) or ("channel" in given and not channel):
        canonical = False  # the form's "all sources" / "all channels"
    attrs = {name: list(values) for name, values in parse_attrs(params).items()}
    if "attr" in given:
        canonical = False
        box = given["attr"].strip()
        if box:
            name, eq, value = box.partition("=")
            if not eq or not name.strip() or not value.strip():
                raise BadRequestError(
                    f"an attribute filter is NAME=VALUE (e.g. Touchpoint=First bill); got {box!r}"
                )
            extra = parse_attrs([(f"attr.{name.strip()}", value.strip())])
            for n, values in extra.items():
                attrs.setdefault(n, []).extend(v for v in values if v not in attrs.get(n, []))
    asked_from, asked_to = given.get("from"), given.get("to")
    if "period" in given:  # a preset chosen by name: written out as from/to
        asked_from, asked_to = preset_range(given["period"], anchor)
        canonical = False
    elif asked_from is None and asked_to is None:
        asked_from, asked_to = preset_range(DEFAULT_PRESET, anchor)
        canonical = False
    query = PageQuery(
        asked_from=asked_from if asked_from is not None else "",
        asked_to=asked_to if asked_to is not None else "",
        source=source,
        channel=channel,
        attrs={n: tuple(v) for n, v in attrs.items()},
    )
    parse_range(query.api_from, query.api_to)
    if len(query.attrs) > MAX_ATTR_FILTERS:
        raise BadRequestError(f"at most {MAX_ATTR_FILTERS} attribute filters at once")
    check_source(session, source)
    check_channel(session, channel)
    return query if canonical else Redirect(query)


@dataclass(frozen=True, slots=True)
class Preset:
    key: str
    label: str
    date_from: str
    date_to: str
    active: bool


def presets(query: PageQuery, anchor: date) -> list[Preset]:
    out = []
    for key, label in PRESET_LABELS.items():
        start, stop = preset_range(key, anchor)
        active = (query.asked_from or "", query.asked_to or "") == (start, stop)
        out.append(Preset(key, label, start, stop, active))
    return out
