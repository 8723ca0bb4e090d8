"""Personal data never reaches the store: the one place every record passes on
its way in (a sync, a push, a reject). Text is redacted by the NLP pipeline as
it is enriched; here the rest is: customer references that are personal data
become keyed pseudonyms, and attribute values, reject reasons and excerpts are
redacted with the same rules (`nlp.redaction.redact`, no pipeline needed)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from app.customers.pseudonyms import Pseudonyms
from connectors.base import AttributeValue, RawItem, RejectedRecord
from nlp.redaction import redact


def redact_text(value: str) -> str:
    # One word with no digit and no "@" ("fibre", "North West" is two) holds no
    # personal data the rules can find (a name needs its context): skip the scan.
    if " " not in value and "@" not in value and not any(c.isdigit() for c in value):
        return value
    return redact(value)[0]


def redact_attributes(values: Mapping[str, AttributeValue]) -> dict[str, AttributeValue]:
    return {k: redact_text(v) if isinstance(v, str) else v for k, v in values.items()}


def private_item(item: RawItem, pseudonyms: Pseudonyms | None) -> RawItem:
    author = pseudonyms.stored(item.author_ref) if pseudonyms is not None else item.author_ref
    attributes = redact_attributes(item.attributes) if item.attributes else item.attributes
    if author == item.author_ref and attributes == item.attributes:
        return item
    return replace(item, author_ref=author, attributes=attributes)


def private_reject(reject: RejectedRecord) -> RejectedRecord:
    return replace(reject, reason=redact_text(reject.reason), excerpt=redact_text(reject.excerpt))
