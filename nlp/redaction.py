"""PII redaction, done in the tokenizer so every later component sees redacted text.

A spaCy component cannot change `doc.text`, so `lp.redacting_tokenizer.v1` wraps
the language's default tokenizer: it first replaces personal data (`nlp.pii`:
e-mail addresses, phone numbers, payment cards, IBANs, national identifiers, street
addresses, person names in the places feedback carries them) by `PLACEHOLDERS`
(`[EMAIL]`, `[PHONE]`, `[CARD]`, `[IBAN]`, `[NATIONAL_ID]`, `[ADDRESS]`, `[NAME]`),
then tokenizes the redacted string. `doc.text` (hence `Enrichment.text` and every
segment offset) is the redacted text, and `doc.user_data["lp_redactions"]` counts
the replacements by kind.

`redact` and `is_personal_reference` need no pipeline: see `nlp.pii`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import SimpleFrozenList, registry

from nlp.pii import KINDS, PLACEHOLDERS, find, is_personal_reference, luhn_valid, redact
from nlp.tokenization import lean_lexemes, speed_up

__all__ = [
    "KINDS",
    "PLACEHOLDERS",
    "REDACTIONS_KEY",
    "TEXT_KEY",
    "RedactingTokenizer",
    "find",
    "is_personal_reference",
    "luhn_valid",
    "redact",
]

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
