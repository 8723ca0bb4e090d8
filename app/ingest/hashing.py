"""Content hashes for dedupe across re-exports and sources.

Two records are the same voice when the same person (or the same anonymous
source) said the same words on the same day: a re-exported survey file with new
ids, a post that arrives through two feeds. The hash covers normalised text,
author and day; it is computed on the raw text so a duplicate costs no NLP.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import UTC

from connectors.base import RawItem

_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return _SPACE.sub(" ", text).strip()


def content_hash(item: RawItem) -> str:
    day = item.occurred_at.astimezone(UTC).date().isoformat()
    payload = "\x1f".join((normalise(item.text), item.author_ref or "", day))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
