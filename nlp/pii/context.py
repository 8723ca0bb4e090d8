"""Words right before a number that say what it is: an order number is not a phone."""

from __future__ import annotations

import re

# The last words before a number that make it a reference, not personal data.
_REFERENCE_BEFORE = re.compile(
    r"(?:order|orders|ref|refs|reference|invoice|inv|tracking|track|parcel|consignment|"
    r"shipment|account|acct|a/c|customer|cust|client|id|ticket|case|incident|serial|s/n|"
    r"model|sku|part|item|product|booking|confirmation|transaction|txn|payment|receipt|"
    r"policy|membership|member|claim|voucher|coupon|promo|code|pin|imei|mac|batch|lot|"
    r"version|build|release|job|work order|wo|po|purchase order|quote|contract|meter|mpan|"
    r"mprn|router|device|serial number|licen[cs]e|registration|reg|flight|train|bus|route|"
    r"room|gate|seat|platform|#)"
    r"(?:\s*(?:no\.?|nr\.?|number|num|id|ref|code|#))?\s*(?:is|was|:|#|=|-)?\s*(?:#\s*)?$",
    re.IGNORECASE,
)
# ...unless the words say it is a number to ring ("phone number", "mobile no."), or
# say "number" as people say it of their phone: "my number is", "the number on my
# account is" (a determiner right before "number": "order number" is not one).
_PHONE_BEFORE = re.compile(
    r"(?:(?:phone|telephone|tel|mobile|mob|cell|cellphone|landline|whatsapp|fax|contact|"
    r"call|ring|text|sms|reach|dial|handy|telefon|téléphone|portable|móvil|cellulare)\b"
    r"|\b(?:my|the|your|our|his|her|their|this|new|same)\s+number\b(?!\s+of\b))"
    r"[^\n.;]{0,24}$",
    re.IGNORECASE,
)


def before(text: str, start: int, width: int = 40) -> str:
    return text[max(0, start - width) : start]


def says_reference(text: str, start: int) -> bool:
    """True when the words right before `start` name an order, account, ticket..."""
    head = before(text, start)
    return _REFERENCE_BEFORE.search(head) is not None and not says_phone(text, start)


def says_phone(text: str, start: int) -> bool:
    head = before(text, start)
    if _PHONE_BEFORE.search(head) is None:
        return False
    # "call about order 123": the reference word is nearer than the phone word.
    tail = head[-16:]
    return not re.search(
        r"(?:order|ref|invoice|ticket|case|account)\w*\s*(?:no\.?|number|#)?\s*[:#]?\s*$",
        tail,
        re.IGNORECASE,
    )
