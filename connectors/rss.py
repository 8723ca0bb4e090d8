"""`rss`: entries of an RSS 2.0 or Atom feed (review feeds, forums, blogs), via feedparser."""

from __future__ import annotations

import calendar
import hashlib
import re
import xml.sax
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import feedparser
from pydantic import Field, field_validator

from connectors.contract import AttributeValue, Batch, Cursor, RawItem, RejectedRecord
from connectors.errors import RecordError
from connectors.html_text import html_to_text
from connectors.http import HttpConfig, HttpConnector, Request, base_url_field, check_base_url
from connectors.parsing import excerpt
from connectors.values import as_text

_STARS = re.compile(r"([★]{1,5})([☆]*)")
_OUT_OF = re.compile(r"\b([1-5](?:\.5)?)\s*(?:/|out of)\s*5\b", re.IGNORECASE)
RATING_KEYS = ("im_rating", "rating", "review_rating", "gd_rating", "stars")


class RssConfig(HttpConfig):
    """Config of an `rss` source."""

    url: str = base_url_field("The feed's URL (RSS 2.0 or Atom).")
    rating_field: str | None = Field(
        default=None,
        min_length=1,
        description="Entry field holding a star rating as feedparser names it (`im:rating` "
        "is `im_rating`); by default `im_rating`, `rating`, `review_rating` are tried, "
        "then stars (★★★★☆) or `4/5` in the title.",
    )
    rating_scale: str = Field(
        default="stars_1_5", min_length=1, description="Scale of the ratings found."
    )
    stage: str | None = Field(
        default=None,
        description="A journey stage key every entry hints at (e.g. `use` for app-store "
        "reviews); none by default.",
    )
    page_size: int = Field(
        default=100,
        ge=1,
        le=1000,
        description="Entries per batch (ingest transaction), unless `batch_size` is set.",
    )

    _url = field_validator("url")(check_base_url)


def _digest(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


class RssConnector(HttpConnector[RssConfig]):
    """Entries of an RSS 2.0 or Atom feed; a star rating where the feed carries one.

    Conditional GET (`If-None-Match` / `If-Modified-Since` from the last complete
    read): an unchanged feed costs one 304 and yields nothing. External id: the
    entry's id (`guid`), else its link; an entry with neither, or without a date,
    is quarantined. Text: the title, then the summary or content as text. The
    cursor keeps a short digest of each entry of the last document, so a re-read
    yields only new and edited entries, and a crash mid-feed resumes after the
    entries stored.
    """

    kind: ClassVar[str] = "rss"
    channel: ClassVar[str] = "review"
    config_model: ClassVar[type[RssConfig]] = RssConfig

    def __init__(self, config: RssConfig, *, base_dir: Path) -> None:
        super().__init__(config, base_dir=base_dir)
        self.refused_hint = "the feed is not public; this kind reads public feeds only"

    def base_url(self) -> str:
        return self.config.url

    def plain_headers(self) -> dict[str, str]:
        return {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9"}

    def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:
        state = cursor if isinstance(cursor, dict) else {}
        seen_raw = state.get("seen")
        seen: dict[str, str] = (
            {str(k): str(v) for k, v in seen_raw.items()} if isinstance(seen_raw, dict) else {}
        )
        conditional: dict[str, str] = {}
        if isinstance(state.get("etag"), str):
            conditional["If-None-Match"] = state["etag"]
        if isinstance(state.get("last_modified"), str):
            conditional["If-Modified-Since"] = state["last_modified"]
        with self.session() as http:
            response, _, entries = http.get_records(
                Request.of(self.config.url),
                _entries,
                json_body=False,
                headers=conditional,
                ok_statuses=(304,),
            )
            if response.status_code == 304:
                return
            old = {k: state.get(k) for k in ("etag", "last_modified")}
            done = dict(seen)  # what this read has delivered, on top of the earlier reads
            now_seen: dict[str, str] = {}
            items: list[RawItem] = []
            rejected: list[RejectedRecord] = []
            dirty = False
            for n, entry in enumerate(entries, start=1):
                key, digest = _key(entry), _digest(_content(entry))
                now_seen[key] = digest
                if seen.get(key) == digest:
                    continue
                where = f"entry {n}"
                for out in self.safely(self._entry, entry, where):
                    if isinstance(out, RawItem):
                        items.append(out)
                    else:
                        rejected.append(out)
                done[key] = digest
                dirty = True
                if len(items) + len(rejected) >= (self.config.batch_size or self.config.page_size):
                    yield Batch(items, rejected, {**old, "seen": dict(done)})
                    items, rejected = [], []
            final: Cursor = {
                "etag": response.headers.get("etag"),
                "last_modified": response.headers.get("last-modified"),
                "seen": now_seen,
            }
            if dirty or items or rejected or final != state:
                yield Batch(items, rejected, final)

    def _entry(self, entry: Any, where: str) -> Iterator[RawItem | RejectedRecord]:
        external_id = as_text(entry.get("id")) or as_text(entry.get("link"))
        if external_id is None:
            raise RecordError(
                "entry has neither an id (guid) nor a link", excerpt=excerpt(_content(entry))
            )
        stamp = entry.get("published_parsed") or entry.get("updated_parsed")
        if stamp is None:
            raise RecordError(
                "entry has no published or updated date",
                excerpt=excerpt(_content(entry)),
                external_id=external_id,
            )
        occurred_at = datetime.fromtimestamp(calendar.timegm(stamp), tz=UTC)
        title = html_to_text(as_text(entry.get("title")) or "")
        body = _body(entry)
        text = (
            title
            if not body
            else body
            if not title or body.startswith(title)
            else f"{title}\n\n{body}"
        )
        if not text:
            return
        rating = self._rating(entry, title)
        attributes: dict[str, AttributeValue] = {
            "link": as_text(entry.get("link")),
            "title": title or None,
        }
        yield RawItem(
            external_id=external_id,
            text=text,
            occurred_at=occurred_at,
            rating=rating,
            rating_scale=self.config.rating_scale if rating is not None else None,
            author_ref=as_text(entry.get("author")),
            stage_hint=self.config.stage,
            attributes=attributes,
        )
        del where

    def _rating(self, entry: Any, title: str) -> float | None:
        keys = (self.config.rating_field,) if self.config.rating_field else RATING_KEYS
        for key in keys:
            raw = as_text(entry.get(key))
            if raw is not None:
                try:
                    return float(raw)
                except ValueError:
                    raise RecordError(
                        f"rating {raw!r} in `{key}` is not a number",
                        excerpt=excerpt(_content(entry)),
                        external_id=as_text(entry.get("id")),
                    ) from None
        if self.config.rating_field:
            return None
        stars = _STARS.search(title)
        if stars:
            return float(len(stars.group(1)))
        out_of = _OUT_OF.search(title)
        return float(out_of.group(1)) if out_of else None


def _entries(body: Any) -> list[Any]:
    """The entries of a feed document; a document cut short is a `RecordError` (retried)."""
    parsed = feedparser.parse(body or b"")
    if parsed.get("bozo") and isinstance(parsed.get("bozo_exception"), xml.sax.SAXException):
        raise RecordError(
            f"the feed is not well-formed XML ({parsed['bozo_exception']}); cut short?"
        )
    if not parsed.get("version") and not parsed.get("entries"):
        raise RecordError("the answer is not an RSS or Atom feed")
    return list(parsed.get("entries", []))


def _key(entry: Any) -> str:
    return (
        as_text(entry.get("id"))
        or as_text(entry.get("link"))
        or "sha256:" + _digest(_content(entry))
    )


def _body(entry: Any) -> str:
    contents = entry.get("content") or []
    for content in contents:
        value = as_text(content.get("value")) if isinstance(content, dict) else None
        if value:
            return html_to_text(value)
    return html_to_text(as_text(entry.get("summary")) or "")


def _content(entry: Any) -> dict[str, Any]:
    """What an entry says, for its digest and excerpts."""
    return {
        "title": entry.get("title"),
        "summary": entry.get("summary"),
        "content": [c.get("value") for c in entry.get("content") or [] if isinstance(c, dict)],
        "rating": [entry.get(k) for k in RATING_KEYS],
        "published": entry.get("published") or entry.get("updated"),
    }
