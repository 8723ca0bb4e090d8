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

from nlp.pii.addresses import POSTCODE_RE, find_addresses
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
_ID_HINT = re.compile(
    r"\d{6}|\d\d[A-Za-z]\d\d[A-Za-z]\d{3}|[A-Za-z]\d{7}|\d{7}[A-Za-z]|\d\d ?\d\d ?\d\d ?[A-Da-d]\b"
)
# Cue words, looked up in the set of the text's lower-case words (one findall), not
# by one big case-insensitive alternation: that scan cost ~20 us a text.
_WORDS = re.compile(r"[^\W\d_]+")
_NAME_CUES = frozenset(
    """name names spoke speak speaking spoken talked talk talking chatted chatting called
    named agent advisor adviser engineer technician installer operator consultant rep
    representative lady guy man woman gentleman chap girl bloke person driver courier staff
    someone fella boss supervisor manager colleague ask asked thanks thank thx cheers
    regards best sincerely yours love care ta dealt helped served assisted looked handled
    visited passed transferred put escalated shout shoutout kudos props mr mrs ms miss mx
    dr prof herr frau mme mlle monsieur madame sr sra signor signora""".split()
)
_NAME_PHRASES = ("i'm", "i’m", "i am", "im ", "this is", "it's", "it’s")
_ADDRESS_CUES = frozenset(
    """street st road rd avenue ave av lane ln drive dr close cl way court ct crescent cres
    place pl gardens gdns terrace terr ter grove gr square sq mews row walk park parade rise
    hill green view boulevard blvd highway hwy parkway pkwy circle cir trail trl broadway
    esplanade embankment wynd brae vale chase gate yard quay wharf heights meadows approach
    causeway rue bd chemin allée impasse quai route cours passage faubourg calle c avenida
    avda plaza pza paseo camino carrer ronda travesía via viale piazza piazzale corso largo
    vicolo rua praça travessa avinguda passeig straße strasse str weg platz allee gasse""".split()
)
_GERMANIC_ENDS = (
    "straße",
    "strasse",
    "str",
    "weg",
    "platz",
    "gasse",
    "allee",
    "ring",
    "damm",
    "ufer",
    "chaussee",
    "steig",
    "pfad",
    "markt",
    "straat",
    "laan",
    "gracht",
    "plein",
    "kade",
    "singel",
    "dijk",
    "dreef",
    "hof",
    "steeg",
)


def find(text: str) -> list[Found]:
    """Every piece of personal data in `text`, without overlaps, in text order."""
    found: list[Found] = []
    if ("@" in text or "＠" in text) and _EMAIL_HINT.search(text):
        found.extend(find_emails(text))
    low = text.lower()
    words: set[str] | None = None
    if _DIGIT.search(text) is not None:
        if _NUMBER_HINT.search(text) or _ID_HINT.search(text):
            found.extend(find_ibans(text))
            found.extend(find_cards(text))
            found.extend(find_national_ids(text))
            found.extend(find_phones(text))
        words = set(_WORDS.findall(low))
        if (
            not words.isdisjoint(_ADDRESS_CUES)
            or any(w.endswith(_GERMANIC_ENDS) for w in words)
            or POSTCODE_RE.search(text) is not None
        ):
            found.extend(find_addresses(text))
    if words is None:
        words = set(_WORDS.findall(low))
    if (
        not words.isdisjoint(_NAME_CUES)
        or any(p in low for p in _NAME_PHRASES)
        or any(c in text[-48:] for c in "-–—")
    ):
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
