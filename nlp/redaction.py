"""PII redaction, done in the tokenizer so every later component sees redacted text.

A spaCy component cannot change `doc.text`, so `lp.redacting_tokenizer.v1` wraps
the language's default tokenizer: it first replaces e-mail addresses, phone
numbers and Luhn-valid payment card numbers with `[EMAIL]`, `[PHONE]` and
`[CARD]`, then tokenizes the redacted string. `doc.text` (hence
`Enrichment.text` and every segment offset) is the redacted text, and
`doc.user_data["lp_redactions"]` counts the replacements by kind.

False positives are kept down on purpose: a digit run is a card only if it has
13-19 digits AND passes the Luhn check; a phone number needs a leading `+` or
a parenthesised area code, or digit groups split by spaces, dots or dashes with
9-15 digits in all (so dates like 2024-01-15, years, prices and plain order
numbers such as #123456789 are left alone).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import SimpleFrozenList, registry

from nlp.tokenization import lean_lexemes, speed_up

PLACEHOLDERS: dict[str, str] = {"email": "[EMAIL]", "phone": "[PHONE]", "card": "[CARD]"}

_EMAIL_RE = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![\w-])"
)
# 13-19 digits, optionally grouped by single spaces or dashes.
_CARD_RE = re.compile(r"(?<![\w#/.,+-])\d(?:[ -]?\d){12,18}(?![\w/-]|[.,]\d)")
# +CC / (area) / grouped digits. Validated further in `_is_phone`.
_PHONE_RE = re.compile(
    r"(?<![\w#/.,+-])"
    r"(?:\+\d{7,15}|"
    r"(?:\+\d{1,3}[ .-]?)?"
    r"(?:\(\d{1,5}\)[ .-]?)?"
    r"\d{1,5}(?:[ .-]\d{1,5}){0,5})"
    r"(?![\w/]|[.,-]\d)"
)
# Cheap pre-checks (one C-level search each) so most texts skip the full passes:
# an e-mail needs a word character right before "@"; a phone or card number
# needs at least 7 digits in one run of digits and separators.
_EMAIL_HINT_RE = re.compile(r"\w@\w")
_NUMBER_HINT_RE = re.compile(r"\d(?:[ ().+-]{0,3}\d){6}")
_DATE_LIKE_RE = re.compile(r"^\d{4}[-./]\d{1,2}[-./]\d{1,2}$|^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$")


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


def _is_card(match: str) -> bool:
    digits = re.sub(r"[ -]", "", match)
    return 13 <= len(digits) <= 19 and luhn_valid(digits) and len(set(digits)) > 1


def _is_phone(match: str) -> bool:
    digits = re.sub(r"\D", "", match)
    stripped = match.strip()
    if _DATE_LIKE_RE.match(stripped):
        return False
    if stripped.startswith("+"):
        return 7 <= len(digits) <= 15
    if "(" in stripped:
        return 9 <= len(digits) <= 15
    groups = re.split(r"[ .-]", stripped)
    if len(groups) < 2 or not 9 <= len(digits) <= 15:
        return False
    # "1 000 000" / "10.000.000": thousands groups are amounts, not numbers to dial.
    return not all(len(g) == 3 for g in groups[1:]) or len(groups[0]) > 3


def redact(text: str) -> tuple[str, dict[str, int]]:
    """Return `text` with e-mails, card numbers and phone numbers replaced, and counts."""
    counts: dict[str, int] = {}
    # `in` first: a C substring scan costs ~1/50 of the regex, and half the texts
    # (all but tweets) have no "@" at all.
    has_email = "@" in text and _EMAIL_HINT_RE.search(text) is not None
    has_number = _NUMBER_HINT_RE.search(text) is not None
    if not has_email and not has_number:
        return text, counts

    def sub(kind: str, pattern: re.Pattern[str], ok: Callable[[str], bool] | None) -> None:
        nonlocal text

        def repl(m: re.Match[str]) -> str:
            if ok is not None and not ok(m.group(0)):
                return m.group(0)
            counts[kind] = counts.get(kind, 0) + 1
            return PLACEHOLDERS[kind]

        text = pattern.sub(repl, text)

    if has_email:
        sub("email", _EMAIL_RE, None)
    if has_number:
        sub("card", _CARD_RE, _is_card)
        sub("phone", _PHONE_RE, _is_phone)
    return text, counts


REDACTIONS_KEY = "lp_redactions"
"""`doc.user_data` key: counts of redactions by kind."""
TEXT_KEY = "lp_text"
"""`doc.user_data` key: the redacted text (equal to `doc.text`, without re-joining tokens)."""


class RedactingTokenizer:
    """Redacts PII, then hands the redacted text to the wrapped tokenizer.

    `fast=True` (`lp.redacting_tokenizer.v2`) gives the wrapped tokenizer
    prefiltered affix searches (same splits) and computes only the lexical
    attributes the pipeline reads (`nlp.tokenization`)."""

    def __init__(self, tokenizer: Any, *, fast: bool = False) -> None:
        self.tokenizer = tokenizer
        self.fast = fast
        for placeholder in PLACEHOLDERS.values():
            self.tokenizer.add_special_case(placeholder, [{"ORTH": placeholder}])
        if fast:
            speed_up(self.tokenizer)
            lean_lexemes(self.tokenizer.vocab)

    def __call__(self, text: str) -> Doc:
        redacted, counts = redact(text)
        doc: Doc = self.tokenizer(redacted)
        # Plain user_data keys, not `doc._` extensions: read once by `nlp.docview`.
        doc.user_data[REDACTIONS_KEY] = counts
        doc.user_data[TEXT_KEY] = redacted
        return doc

    def pipe(self, texts: Iterable[str], batch_size: int = 1000) -> Iterator[Doc]:  # noqa: ARG002
        for text in texts:
            yield self(text)

    # Serialisation delegates to the wrapped tokenizer so `nlp.to_disk` works.
    def to_bytes(self, *, exclude: Iterable[str] = SimpleFrozenList()) -> bytes:
        data: bytes = self.tokenizer.to_bytes(exclude=exclude)
        return data

    def from_bytes(
        self, bytes_data: bytes, *, exclude: Iterable[str] = SimpleFrozenList()
    ) -> RedactingTokenizer:
        self.tokenizer.from_bytes(bytes_data, exclude=exclude)
        if self.fast:
            speed_up(self.tokenizer)
        return self

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = SimpleFrozenList()) -> None:
        self.tokenizer.to_disk(path, exclude=exclude)

    def from_disk(
        self, path: str | Path, *, exclude: Iterable[str] = SimpleFrozenList()
    ) -> RedactingTokenizer:
        self.tokenizer.from_disk(path, exclude=exclude)
        if self.fast:
            speed_up(self.tokenizer)
        return self


def create_redacting_tokenizer() -> Callable[[Language], RedactingTokenizer]:
    """Registered tokenizer factory: `[nlp.tokenizer] @tokenizers = "lp.redacting_tokenizer.v1"`."""

    def make(nlp: Language) -> RedactingTokenizer:
        default = registry.tokenizers.get("spacy.Tokenizer.v1")()(nlp)
        return RedactingTokenizer(default)

    return make


def create_fast_redacting_tokenizer() -> Callable[[Language], RedactingTokenizer]:
    """`lp.redacting_tokenizer.v2`: v1 with the same token splits and redactions, faster
    on unseen text (prefiltered affix regexes, lean lexical attributes; see
    `nlp.tokenization`). Lexeme flags such as `token.is_alpha` are not computed for
    new words: components use `str` methods."""

    def make(nlp: Language) -> RedactingTokenizer:
        default = registry.tokenizers.get("spacy.Tokenizer.v1")()(nlp)
        return RedactingTokenizer(default, fast=True)

    return make


registry.tokenizers.register("lp.redacting_tokenizer.v1", func=create_redacting_tokenizer)
registry.tokenizers.register("lp.redacting_tokenizer.v2", func=create_fast_redacting_tokenizer)
