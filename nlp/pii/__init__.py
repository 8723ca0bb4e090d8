"""Personal data in free text: find it, replace it, say what kind it was.

`redact(text)` needs no spaCy pipeline: ingest calls it on any string (customer
references, attribute values, quarantine reasons); the pipeline's tokenizer
(`nlp.redaction`) calls it on every item's text. Each kind has its module:
`emails`, `phones` (phonenumbers), `numbers` (cards, IBANs, national identifiers:
python-stdnum), `addresses`, `names`. Cheap pre-checks come first: a text with no
"@", no run of 6+ digits, no digit and no name cue costs a few regex scans.

Overlaps: the kind ranked first in `KINDS` wins, then the longer span. Redaction is
idempotent: the placeholders hold no digit, "@" or capitalised word, and `redact`
runs its passes until nothing more is found (a second pass finds nothing in practice).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from nlp.pii.addresses import find_addresses
from nlp.pii.emails import EMAIL_RE, find_emails
from nlp.pii.names import find_names
from nlp.pii.numbers import find_cards, find_ibans, find_national_ids, luhn_valid
from nlp.pii.phones import find_phones, is_phone
from nlp.pii.spans import Found

KINDS: tuple[str, ...] = ("email", "iban", "card", "national_id", "phone", "address", "name")
"""Every kind of personal data redacted, in order of precedence when two overlap."""
PLACEHOLDERS: dict[str, str] = {kind: f"[{kind.upper()}]" for kind in KINDS}
"""kind -> the text that replaces it: [EMAIL] [IBAN] [CARD] [NATIONAL_ID] [PHONE]
[ADDRESS] [NAME]."""
_RANK = {kind: i for i, kind in enumerate(KINDS)}

_EMAIL_HINT = re.compile(r"\w[@＠]\w")
_NUMBER_HINT = re.compile(r"\d(?:[ ().+/-]{0,3}\d){5}")
_ID_HINT = re.compile(r"\d{6}|[A-Za-z]\d{7}|\d{7}[A-Za-z]|\d\d ?\d\d ?\d\d ?[A-Da-d]\b")
_NAME_HINT = re.compile(
    r"name|spok|speak|talk|chat|call|agent|advis|engineer|technic|ask|thank|thx|cheers|"
    r"regards|best|sincerely|yours|love|take care|\bta\b|dealt|deal|help|serv|assist|"
    r"look|handl|visit|pass|transfer|put through|escalat|shout|kudos|props|i'm|i’m|i am|\bim\b|"
    r"this is|it's|it’s|\b(?:mr|mrs|ms|miss|mx|dr|prof|herr|frau|mme|mlle|monsieur|madame|"
    r"sr|sra|signora?)\b|[-–—]\s*[A-ZÀ-Þ]\S*\s*\S*\s*$|"
    r"lady|guy|man\b|woman|gentleman|chap|girl|bloke|person|rep\b|operator|consultant|"
    r"manager|colleague|driver|courier|staff|someone|fella|boss|supervisor",
    re.IGNORECASE,
)


def find(text: str) -> list[Found]:
    """Every piece of personal data in `text`, without overlaps, in text order."""
    found: list[Found] = []
    if "@" in text or "＠" in text:
        if _EMAIL_HINT.search(text):
            found.extend(find_emails(text))
    has_digit = any(ch.isdigit() for ch in text) if len(text) < 64 else _DIGIT.search(text)
    if has_digit:
        if _NUMBER_HINT.search(text) or _ID_HINT.search(text):
            found.extend(find_ibans(text))
            found.extend(find_cards(text))
            found.extend(find_national_ids(text))
            found.extend(find_phones(text))
        found.extend(find_addresses(text))
    if _NAME_HINT.search(text):
        found.extend(find_names(text))
    return _resolve(found)


_DIGIT = re.compile(r"\d")


def _resolve(found: Iterable[Found]) -> list[Found]:
    kept: list[Found] = []
    for f in sorted(set(found), key=lambda f: (_RANK[f.kind], f.start - f.end, f.start)):
        if f.end > f.start and all(f.end <= k.start or k.end <= f.start for k in kept):
            kept.append(f)
    kept.sort()
    return kept


def redact(text: str) -> tuple[str, dict[str, int]]:
    """`text` with personal data replaced by `PLACEHOLDERS`, and the count by kind."""
    counts: dict[str, int] = {}
    for _ in range(4):
        found = find(text)
        if not found:
            break
        parts: list[str] = []
        last = 0
        for f in found:
            parts.append(text[last : f.start])
            parts.append(PLACEHOLDERS[f.kind])
            counts[f.kind] = counts.get(f.kind, 0) + 1
            last = f.end
        parts.append(text[last:])
        text = "".join(parts)
    return text, counts


_REFERENCE_PHONE = re.compile(r"^\+?[\d\s().\-/]{7,24}$")


def is_personal_reference(value: str) -> str | None:
    """The kind when the whole of `value` is an e-mail address or a phone number
    ("jane@example.com", "+44 7700 900123", "07700900123"), else None. For customer
    ids: such a reference is personal data and must be pseudonymised, while "FH-142938"
    or "cust_0042" is not."""
    value = value.strip()
    if not value or len(value) > 254:
        return None
    m = EMAIL_RE.fullmatch(value)
    if m is not None:
        return "email"
    if _REFERENCE_PHONE.match(value) and is_phone(value, phone_context=True):
        return "phone"
    return None


__all__ = [
    "KINDS",
    "PLACEHOLDERS",
    "Found",
    "find",
    "is_personal_reference",
    "luhn_valid",
    "redact",
]
