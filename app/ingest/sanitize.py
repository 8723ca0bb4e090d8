"""Text the store keeps never contains NUL.

PostgreSQL refuses `\\x00` in text and JSON ("cannot contain NUL"), so one such
character in a text, an author, an attribute or a reject's excerpt failed the
whole batch on every run and the cursor never moved. SQLite accepts it, which
made the two stores disagree. Every string of a record is cleaned before ingest
looks at it, on both databases, and the run counts the records it cleaned.
"""

from __future__ import annotations

from dataclasses import replace

from connectors.base import AttributeValue, RawItem, RejectedRecord

NUL = "\x00"
REPLACEMENT = "\ufffd"  # what a reader sees where the NUL was: something was there


def clean(value: str) -> str:
    return value.replace(NUL, REPLACEMENT) if NUL in value else value


def clean_opt(value: str | None) -> str | None:
    return None if value is None else clean(value)


def _has_nul(value: object) -> bool:
    return isinstance(value, str) and NUL in value


def clean_item(item: RawItem) -> tuple[RawItem, bool]:
    """The item without NULs, and whether anything was replaced."""
    attrs = item.attributes
    dirty = any(
        _has_nul(v)
        for v in (
            item.text,
            item.external_id,
            item.author_ref,
            item.rating_scale,
            item.stage_hint,
            item.channel,
            item.hint_value,
        )
    ) or any(_has_nul(k) or _has_nul(v) for k, v in attrs.items())
    if not dirty:
        return item, False
    cleaned: dict[str, AttributeValue] = {
        clean(k): clean(v) if isinstance(v, str) else v for k, v in attrs.items()
    }
    return (
        replace(
            item,
            text=clean(item.text),
            external_id=clean(item.external_id),
            author_ref=clean_opt(item.author_ref),
            rating_scale=clean_opt(item.rating_scale),
            stage_hint=clean_opt(item.stage_hint),
            channel=clean_opt(item.channel),
            hint_value=clean_opt(item.hint_value),
            attributes=cleaned,
        ),
        True,
    )


def clean_reject(record: RejectedRecord) -> tuple[RejectedRecord, bool]:
    fields = (record.reason, record.excerpt, record.external_id, record.location)
    if not any(_has_nul(v) for v in fields):
        return record, False
    return (
        replace(
            record,
            reason=clean(record.reason),
            excerpt=clean(record.excerpt),
            external_id=clean_opt(record.external_id),
            location=clean_opt(record.location),
        ),
        True,
    )
