"""Phone numbers: candidates found by one regex, judged by `phonenumbers`.

A candidate is a run of digit groups (spaces, dots, dashes, a slash, "(0)" or a
parenthesised area code between them) holding 7-15 digits. It is a phone number when:

- it starts with "+" or "00": the country code is given; `phonenumbers` must find it a
  possible number (right length for the country; fictional ranges such as UK
  07700 900xxx are possible though not "valid");
- it starts with one "0" (a national trunk prefix): valid in one of the default regions
  that dial with it (GB, DE, FR, NL, IE, IT, ES, AU, AT, BE, CH, IN), or possible there
  and written in groups of a phone number's length (10+ digits, or after "call",
  "mobile", ...);
- otherwise (US/Canada, India, Spain, Italy mobiles are dialled with no 0): valid in
  one of US, IN, ES, IT.

Dates and a number right after "order", "invoice", "ticket", "account"... are never
phones. A run of several numbers ("0161 496 0000 / 0161 496 0001") that fails as a
whole is cut before each group that starts a new number ("+", or "0" after 9+ digits),
each piece judged as above, else the longest runs of whole groups that pass, left to
right (`phonenumbers.PhoneNumberMatcher` was tried for this: it cut
"0161 496 0000 0161 496 0001" into "0161", "0000" and one number).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException

from nlp.pii.context import says_phone, says_reference
from nlp.pii.spans import Found

TRUNK_REGIONS: tuple[str, ...] = (
    "GB", "DE", "FR", "NL", "IE", "IT", "AU", "AT", "BE", "CH", "IN", "NZ",
)  # fmt: skip
NO_TRUNK_REGIONS: tuple[str, ...] = ("US", "IN", "ES", "IT")
DEFAULT_REGIONS: tuple[str, ...] = tuple(dict.fromkeys(TRUNK_REGIONS + NO_TRUNK_REGIONS))

_SEP = r"(?:[ .\u00a0-]|\s?/\s?|\s?\(0\)\s?|\s[-–]\s)"
PHONE_CANDIDATE_RE = re.compile(
    r"(?<![\w+#/.,:$£€¥-])"
    r"(?:\+|\b00)?\s?"
    r"(?:\(\s?\+?\d{1,5}\s?\)\s?[.-]?\s?)?"
    rf"\d+(?:{_SEP}\d+|\s?\(\d{{1,5}}\)\s?\d+)*"
    r"(?![\w]|[.,:/-]\d|\s?[%])"
)
_DATE_RE = re.compile(
    r"^(?:\d{4}[-./ ]\d{1,2}[-./ ]\d{1,2}|\d{1,2}[-./ ]\d{1,2}[-./ ]\d{2,4}"
    r"|(?:19|20)\d\d\s?[-–/]\s?(?:19|20)?\d\d)$"
)
_GROUP_RE = re.compile(r"\+?\(?\d+\)?")
_THOUSANDS_RE = re.compile(r"^\d{1,3}(?:[ .,]\d{3})+$")
_NANP_SHAPE = re.compile(r"^(?:\+?1[ .-]?)?(?:\(\d{3}\)\s?|\d{3}[ .-])\d{3}[ .-]\d{4}$")


def _digits(raw: str) -> str:
    return "".join(ch for ch in raw if ch.isdigit())


@lru_cache(maxsize=4096)
def _parse(raw: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(raw, region)
    except NumberParseException:
        return None


def _valid(raw: str, regions: tuple[str, ...]) -> bool:
    for region in regions:
        number = _parse(raw, region)
        if number is not None and phonenumbers.is_valid_number(number):
            return True
    return False


def _possible(raw: str, regions: tuple[str, ...]) -> bool:
    for region in regions:
        number = _parse(raw, region)
        if number is not None and phonenumbers.is_possible_number(number):
            return True
    return False


def is_phone(raw: str, *, phone_context: bool = False) -> bool:
    """Whether `raw` (a candidate, no surrounding text) is a phone number."""
    raw = raw.strip()
    digits = _digits(raw)
    if not 7 <= len(digits) <= 15 or len(set(digits)) < 3:
        return False
    if raw.startswith("+") or raw.startswith("00"):
        intl = "+" + digits[2:] if raw.startswith("00") else raw
        number = _parse(intl, None)
        return number is not None and phonenumbers.is_possible_number(number)
    if _DATE_RE.match(raw) or (_THOUSANDS_RE.match(raw) and not phone_context):
        return False
    grouped = any(not ch.isdigit() for ch in raw)
    if digits.startswith("0"):
        if _valid(raw, TRUNK_REGIONS):
            return True
        return (len(digits) >= 10 and grouped or phone_context) and _possible(
            raw, TRUNK_REGIONS[:3]
        )
    if _NANP_SHAPE.match(raw) and _possible(raw, ("US",)):
        return True
    return _valid(raw, NO_TRUNK_REGIONS)


def find_phones(text: str) -> Iterator[Found]:
    for m in PHONE_CANDIDATE_RE.finditer(text):
        raw = m.group(0)
        lead = len(raw) - len(raw.lstrip())
        start, end = m.start() + lead, m.end()
        raw = raw.strip()
        ndigits = sum(ch.isdigit() for ch in raw)
        if ndigits < 7:
            continue
        intl = raw.startswith(("+", "00"))
        if not intl and says_reference(text, start):
            continue
        context = says_phone(text, start)
        if ndigits <= 15 and is_phone(raw, phone_context=context):
            yield Found(start, end, "phone")
        elif ndigits > 9 and any(not ch.isdigit() for ch in raw):
            yield from _split(raw, start, context)


def _split(raw: str, offset: int, context: bool) -> Iterator[Found]:
    """Several numbers in one run of digit groups."""
    groups = [(m.start(), m.end()) for m in _GROUP_RE.finditer(raw)]
    pieces: list[list[tuple[int, int]]] = [[]]
    held = 0
    for s, e in groups:
        text = raw[s:e].lstrip("(")
        if pieces[-1] and (text.startswith("+") or text.startswith("0") and held >= 9):
            pieces.append([])
            held = 0
        pieces[-1].append((s, e))
        held += sum(ch.isdigit() for ch in text)
    for piece in pieces:
        part = raw[piece[0][0] : piece[-1][1]]
        if 7 <= sum(ch.isdigit() for ch in part) <= 15 and is_phone(part, phone_context=context):
            yield Found(offset + piece[0][0], offset + piece[-1][1], "phone")
        else:
            yield from _longest_runs(raw, piece, offset, context)


def _longest_runs(
    raw: str, groups: list[tuple[int, int]], offset: int, context: bool
) -> Iterator[Found]:
    i = 0
    while i < len(groups):
        for j in range(len(groups), i, -1):
            part = raw[groups[i][0] : groups[j - 1][1]]
            if 7 <= sum(ch.isdigit() for ch in part) <= 15 and is_phone(
                part, phone_context=context
            ):
                yield Found(offset + groups[i][0], offset + groups[j - 1][1], "phone")
                i = j
                break
        else:
            i += 1
