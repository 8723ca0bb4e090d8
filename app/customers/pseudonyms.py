"""Keyed pseudonyms for customer references that are personal data.

An e-mail address or a phone number in the customer column is stored as
`p_` + HMAC-SHA256(key, normalised value): the same person gets the same
pseudonym on every record and every source (joins and distinct counts work), the
raw value is never stored, and without the key nobody can go back. The key comes
from `LP_PSEUDONYM_KEY`; in development, when unset, one is made and kept in the
database on first use (production refuses to start without its own).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.models import StoredSecret
from nlp.redaction import is_personal_reference

PREFIX = "p_"
_KEY_NAME = "pseudonym_key"


def normalise(ref: str, kind: str) -> str:
    value = ref.strip()
    if kind == "email":
        return value.lower()
    digits = re.sub(r"\D", "", value)
    return ("+" if value.startswith("+") else "") + digits


class Pseudonyms:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def of(self, ref: str) -> str:
        kind = is_personal_reference(ref)
        value = normalise(ref, kind) if kind else ref
        return PREFIX + hmac.new(self._key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:32]

    def stored(self, ref: str | None) -> str | None:
        """What the store keeps for a reference: its pseudonym if it is personal data."""
        if ref is None or is_personal_reference(ref) is None:
            return ref
        return self.of(ref)

    def refs(self, ref: str) -> list[str]:
        """Every stored form a reference may have (as given, and its pseudonym)."""
        return [ref, self.of(ref)] if is_personal_reference(ref) else [ref]


def load_pseudonyms(engine: Engine, configured: str | None) -> Pseudonyms:
    if configured:
        return Pseudonyms(configured.encode("utf-8"))
    with Session(engine) as session:
        stored = session.get(StoredSecret, _KEY_NAME)
        if stored is None:
            session.add(StoredSecret(name=_KEY_NAME, value=secrets.token_urlsafe(32)))
            try:
                session.commit()
            except IntegrityError:  # another replica made it first: use theirs
                session.rollback()
            stored = session.get(StoredSecret, _KEY_NAME)
            assert stored is not None
        return Pseudonyms(stored.value.encode("utf-8"))
