"""Expressions: the favourites, boosts and replies a voice earned where it was said.

They measure the reach of what customers say (earned media): a complaint boosted
two hundred times is heard by more people than one nobody saw. Connectors keep
the counts as item attributes; the read model sums them per stage and day like
any other figure, so the story, its pages and the stage-daily feed agree.

The attribute names are Mastodon's (what the `mastodon` and `social_export`
connectors write), then the names other platforms' exports use, so a `rest`
source or a CSV of posts counts without a mapping: the first name present wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

EXPRESSIONS: tuple[str, ...] = ("favourites", "boosts", "replies")
"""The read model's expression columns, in this order."""

ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "favourites": (
        "favourites_count",
        "favourites",
        "favorite_count",
        "like_count",
        "likes_count",
        "likes",
    ),
    "boosts": (
        "reblogs_count",
        "boosts",
        "retweet_count",
        "repost_count",
        "reposts",
        "share_count",
        "shares",
    ),
    "replies": ("replies_count", "reply_count", "replies", "comment_count", "comments"),
}
"""Per expression, the item attribute names read for it, first present wins."""

MAX_PER_VOICE = 2_000_000_000
"""A count above this is a broken record, not a post: it counts as this much
(the rollup columns are 64-bit, the sums stay exact)."""

_NAMES = tuple(ATTRIBUTES[name] for name in EXPRESSIONS)


def count_of(value: Any) -> int | None:
    """A whole, non-negative count from an attribute value: an int, an integral
    float, or digits as text (`"1,204"` too, as exports write them); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            return None
        number = int(value)
    elif isinstance(value, str):
        digits = value.strip().replace(",", "").replace("_", "")
        if not digits.isascii() or not digits.isdigit():
            return None
        number = int(digits) if len(digits) <= 12 else MAX_PER_VOICE
    else:
        return None
    return min(number, MAX_PER_VOICE) if number >= 0 else None


def expressions_of(attributes: Mapping[str, Any]) -> list[int]:
    """An item's expressions as a vector over `EXPRESSIONS` (0 where it has none)."""
    out = [0, 0, 0]
    for i, names in enumerate(_NAMES):
        for name in names:
            if name in attributes:
                found = count_of(attributes[name])
                if found is not None:
                    out[i] = found
                    break
    return out
