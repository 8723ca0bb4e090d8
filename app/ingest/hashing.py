"""Digests ingest decides with: is this voice already stored, did this record change,
is this reject already in quarantine.

- `content_hash`: normalised text, author and day. Two records are the same voice
  only when a *known* author said the same words on the same day in the same
  source (a re-export with new ids, a post that arrives twice); it is never used
  to merge records whose author is unknown, since "Good service" from five
  anonymous respondents is five voices.
- `record_hash`: every field of the record as the source gave it. A record whose
  `(source, external_id)` is stored but whose record hash differs was edited at
  the source, and the stored item is updated in place.
- `quarantine_digest`: a reject is stored once per (source, location, reason,
  excerpt), however often its file is read again.

All are computed on the raw record, so a duplicate costs no NLP.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from datetime import UTC

from connectors.base import RawItem

_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return _SPACE.sub(" ", text).strip()


def _sha(payload: str) -> str:
    return hashlib.sha256(payload.encode("utf-8", errors="surrogatepass")).hexdigest()


def content_hash(item: RawItem) -> str:
    day = item.occurred_at.astimezone(UTC).date().isoformat()
    return _sha("\x1f".join((normalise(item.text), item.author_ref or "", day)))


def record_hash(item: RawItem) -> str:
    fields = [
        item.text,
        item.occurred_at.astimezone(UTC).isoformat(),
        item.rating,
        item.rating_scale,
        item.author_ref,
        item.stage_hint,
        item.channel,
        sorted(item.attributes.items()),
    ]
    return _sha(json.dumps(fields, ensure_ascii=False, default=str))


def quarantine_digest(source_id: str, location: str | None, reason: str, excerpt: str) -> str:
    """Keep in step with the frozen copy in migration 7c1d2e9a4b10."""
    return _sha("\x1f".join((source_id, location or "", reason, excerpt)))
