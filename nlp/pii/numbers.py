"""Payment cards, IBANs and national identifiers: shapes found by regex, each checked by
its own check digits (`python-stdnum`), so a random reference rarely passes.

- card: 13-19 digits (single spaces or dashes between), Luhn-valid, first digit 2-6
  (the issuer ranges of Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay,
  Maestro), not one digit repeated, and not right after "order", "tracking", ...;
- IBAN: two letters, two check digits and 10-30 letters or digits, with or without
  spaces; valid per `stdnum.iban` (country length, BBAN format, mod-97);
- national identifier, by shape, each validated by stdnum (or the published rules):
  UK National Insurance number (`AB 12 34 56 C`), US SSN (`123-45-6789`), Spanish
  DNI/NIE, Italian codice fiscale, French NIR, Swedish personnummer, Danish CPR,
  Finnish HETU, Irish PPS, Indian Aadhaar (grouped) and PAN; identifiers that are bare
  digit runs (SSN, Dutch BSN, German Steuer-IdNr, Polish PESEL, Aadhaar, NIR) only
  right after their own name ("SSN", "BSN", "Steuer-ID", ...).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from stdnum import iban
from stdnum.de import idnr
from stdnum.dk import cpr
from stdnum.es import dni, nie
from stdnum.fi import hetu
from stdnum.fr import nir
from stdnum.ie import pps
from stdnum.in_ import aadhaar, pan
from stdnum.it import codicefiscale
from stdnum.nl import bsn
from stdnum.pl import pesel
from stdnum.se import personnummer
from stdnum.us import ssn

from nlp.pii.context import says_reference
from nlp.pii.spans import Found


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum every payment card number satisfies."""
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


CARD_RE = re.compile(r"(?<![\w#/.,+-])\d(?:[ -]?\d){12,18}(?![\w/-]|[.,]\d)")
_CARD_WORD = re.compile(r"(?:card|visa|mastercard|amex|debit|credit)\b[^\n.]{0,20}$", re.I)


def is_card(raw: str) -> bool:
    digits = raw.replace(" ", "").replace("-", "")
    return (
        13 <= len(digits) <= 19
        and digits[0] in "23456"
        and len(set(digits)) > 1
        and luhn_valid(digits)
    )


def find_cards(text: str) -> Iterator[Found]:
    for m in CARD_RE.finditer(text):
        if not is_card(m.group(0)):
            continue
        head = text[max(0, m.start() - 30) : m.start()]
        if says_reference(text, m.start()) and not _CARD_WORD.search(head):
            continue
        yield Found(m.start(), m.end(), "card")


IBAN_RE = re.compile(r"(?<![\w])[A-Za-z]{2}\d{2}(?:[ -]?[A-Za-z0-9]){10,32}(?![A-Za-z0-9])")


def _iban_ok(raw: str) -> bool:
    compact = raw.replace(" ", "").replace("-", "").upper()
    return compact[:2].isalpha() and bool(iban.is_valid(compact))


def find_ibans(text: str) -> Iterator[Found]:
    for m in IBAN_RE.finditer(text):
        raw = m.group(0)
        # The regex may run on into the next word or number: try each end where a
        # group ends, longest first.
        ends = [len(raw)] + [i for i in range(len(raw) - 1, 14, -1) if raw[i] in " -"]
        for end in ends:
            if _iban_ok(raw[:end]):
                yield Found(m.start(), m.start() + end, "iban")
                break


_NINO_BAD_PREFIX = frozenset({"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"})


def nino_valid(raw: str) -> bool:
    """UK National Insurance number rules (HMRC): no D, F, I, Q, U, V in the prefix,
    no O second, a few prefixes never issued, suffix A-D."""
    value = re.sub(r"\s", "", raw).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{6}[A-D]", value):
        return False
    first, second = value[0], value[1]
    return first not in "DFIQUV" and second not in "DFIQUVO" and value[:2] not in _NINO_BAD_PREFIX


def _stdnum(module: object) -> Callable[[str], bool]:
    check: Callable[[str], bool] = getattr(module, "is_valid")  # noqa: B009

    def ok(raw: str) -> bool:
        return bool(check(raw))

    return ok


_B = r"(?<![\w-])"
_E = r"(?![\w-]|[.,]\d)"
# (pattern, validator): shapes distinctive enough to stand alone.
_SHAPED: tuple[tuple[re.Pattern[str], Callable[[str], bool]], ...] = (
    (re.compile(rf"{_B}[A-Za-z]{{2}} ?\d{{2}} ?\d{{2}} ?\d{{2}} ?[A-Da-d]{_E}"), nino_valid),
    (re.compile(rf"{_B}\d{{3}}([- ])\d{{2}}\1\d{{4}}{_E}"), _stdnum(ssn)),
    (re.compile(rf"{_B}\d{{8}} ?-?[A-Za-z]{_E}"), _stdnum(dni)),
    (re.compile(rf"{_B}[XYZxyz] ?-?\d{{7}} ?-?[A-Za-z]{_E}"), _stdnum(nie)),
    (
        re.compile(rf"{_B}[A-Za-z]{{6}}\d{{2}}[A-Za-z]\d{{2}}[A-Za-z]\d{{3}}[A-Za-z]{_E}"),
        _stdnum(codicefiscale),
    ),
    (
        re.compile(
            rf"{_B}[12] ?\d{{2}} ?\d{{2}} ?(?:\d{{2}}|2[AB]) ?\d{{3}} ?\d{{3}} ?\d{{2}}{_E}"
        ),
        _stdnum(nir),
    ),
    (re.compile(rf"{_B}(?:\d{{2}})?\d{{6}}[-+]\d{{4}}{_E}"), _stdnum(personnummer)),
    (re.compile(rf"{_B}\d{{6}}-\d{{4}}{_E}"), _stdnum(cpr)),
    (re.compile(rf"{_B}\d{{6}}[-+A]\d{{3}}[0-9A-Ya-y]{_E}"), _stdnum(hetu)),
    (re.compile(rf"{_B}\d{{7}}[A-Wa-w][A-IWa-iw]?{_E}"), _stdnum(pps)),
    (re.compile(rf"{_B}[2-9]\d{{3}}[ -]\d{{4}}[ -]\d{{4}}{_E}"), _stdnum(aadhaar)),
    (re.compile(rf"{_B}[A-Z]{{3}}[ABCFGHLJPT][A-Z]\d{{4}}[A-Z]{_E}"), _stdnum(pan)),
)
# Bare digit runs: only after the identifier's own name.
_NAMED = re.compile(
    r"(?P<name>\bssn|social security(?: number| no\.?)?|\bbsn|burgerservicenummer|"
    r"sofi(?:-?nummer)?|steuer-?id(?:entifikationsnummer)?|steuerliche identifikationsnummer|"
    r"\bidnr|tax id|\btin|pesel|aadhaa?r(?: number| no\.?)?|\bnir|num[ée]ro de s[ée]curit[ée] sociale|"
    r"national insurance(?: number| no\.?)?|\bni number|\bnino|personnummer|\bcpr|hetu|pps(?: number| no\.?)?|"
    r"national id(?:entity)?(?: number| no\.?)?|id number|passport(?: number| no\.?)?)"
    r"\s*(?:is|was|number|no\.?|nr\.?)?\s*[:#=?.-]?\s*(?:it is|it's|is)?\s*[:=]?\s*"
    r"(?P<value>[A-Za-z0-9](?:[ -]?[A-Za-z0-9]){5,17})(?![\w-])",
    re.IGNORECASE,
)
_NAMED_CHECKS: tuple[Callable[[str], bool], ...] = (
    _stdnum(ssn),
    _stdnum(bsn),
    _stdnum(idnr),
    _stdnum(pesel),
    _stdnum(aadhaar),
    _stdnum(nir),
    nino_valid,
    _stdnum(personnummer),
    _stdnum(cpr),
    _stdnum(hetu),
    _stdnum(pps),
    _stdnum(dni),
    _stdnum(nie),
)
_PASSPORT = re.compile(r"[A-Za-z0-9]{6,9}")


def find_national_ids(text: str) -> Iterator[Found]:
    for pattern, ok in _SHAPED:
        for m in pattern.finditer(text):
            if ok(m.group(0)):
                yield Found(m.start(), m.end(), "national_id")
    for m in _NAMED.finditer(text):
        raw = m.group("value")
        name = m.group("name").lower()
        # The value may run on into the next words: try each end where a group ends.
        ends = [len(raw)] + [i for i in range(len(raw) - 1, 5, -1) if raw[i] == " "]
        for end in ends:
            value = raw[:end]
            if any(ok(value) for ok in _NAMED_CHECKS) or (
                "passport" in name
                and _PASSPORT.fullmatch(value)
                and any(c.isdigit() for c in value)
            ):
                yield Found(m.start("value"), m.start("value") + end, "national_id")
                break
