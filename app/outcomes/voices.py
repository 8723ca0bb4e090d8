"""The read model's negative and positive voices of known customers, as columns in
memory, for said-versus-did: per stage, each customer's first such voice in a
period, and the same per phrase. Sorted once by (stage, customer, day), so a
period's first voices are a mask and a comparison of neighbours, no sort and no
query over a million facts per request.

Kept up to date by reading only the facts added since (`read_versions` tells when
there are some; its `added` counter makes ids follow commit order), and read again
whole after any removal (an edit, an erasure, a rebuild)."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np
from sqlalchemy import select
from sqlalchemy.engine import Connection

from app.models import table
from app.outcomes.ledger import Bools, Ints, day_number
from app.readmodel.facts import shown_form, theme_key
from app.readmodel.versions import FACTS_ADDED, FACTS_REMOVED, read


@dataclass(slots=True)
class Vocabulary:
    names: list[str] = field(default_factory=list)
    codes: dict[str, int] = field(default_factory=dict)

    def code(self, name: str) -> int:
        found = self.codes.get(name)
        if found is None:
            found = self.codes[name] = len(self.names)
            self.names.append(name)
        return found


def _empty() -> Ints:
    return np.zeros(0, dtype=np.int64)


@dataclass(slots=True)
class Voices:
    """Facts sorted by (stage, customer, day); phrase rows by (stage, phrase,
    customer, day), each pointing at its fact (and carrying its fact's stage,
    customer and day, so a request gathers nothing)."""

    stages: Vocabulary = field(default_factory=Vocabulary)
    customers: Vocabulary = field(default_factory=Vocabulary)
    phrases: Vocabulary = field(default_factory=Vocabulary)
    stage: Ints = field(default_factory=_empty)
    customer: Ints = field(default_factory=_empty)
    day: Ints = field(default_factory=_empty)
    negative: Bools = field(default_factory=lambda: np.zeros(0, dtype=bool))
    phrase_fact: Ints = field(default_factory=_empty)
    phrase: Ints = field(default_factory=_empty)
    phrase_stage: Ints = field(default_factory=_empty)
    phrase_customer: Ints = field(default_factory=_empty)
    phrase_day: Ints = field(default_factory=_empty)
    phrase_forms: dict[int, Counter[str]] = field(default_factory=dict)  # code: forms said
    last_id: int = 0
    version: tuple[int, ...] = (0, 0)

    def add(self, rows: list[tuple[int, str, str, object, str, list[str] | None]]) -> None:
        """Take in fact rows (id, stage, customer, day, label, themes): a few (what a
        push or a sync batch adds) are merged into place, many are sorted again."""
        if not rows:
            return
        n = len(rows)
        stage = np.empty(n, dtype=np.int64)
        customer = np.empty(n, dtype=np.int64)
        day = np.empty(n, dtype=np.int64)
        negative = np.empty(n, dtype=bool)
        phrase_fact: list[int] = []
        phrase: list[int] = []
        said: dict[int, Counter[str]] = {}
        for i, (fact_id, stage_key, who, when, label, themes) in enumerate(rows):
            stage[i] = self.stages.code(stage_key)
            customer[i] = self.customers.code(who)
            on = when if isinstance(when, date) else date.fromisoformat(str(when))
            day[i] = day_number(on)
            negative[i] = label == "negative"
            if label == "negative":
                for theme in set(themes or ()):
                    code = self.phrases.code(theme_key(theme))
                    phrase_fact.append(i)
                    phrase.append(code)
                    said.setdefault(code, Counter())[theme] += 1
            self.last_id = max(self.last_id, fact_id)
        # new Counters in a new dict: an older copy may be read by another thread now
        forms = dict(self.phrase_forms)
        for code, counts in said.items():
            forms[code] = counts + forms[code] if code in forms else counts
        self.phrase_forms = forms
        new_facts = (stage, customer, day, negative)
        new_phrases = (np.array(phrase_fact, np.int64), np.array(phrase, np.int64))
        if len(self.stage) and n <= MERGE_AT_MOST:
            self._merge(new_facts, new_phrases)
        else:
            self._sort(new_facts, new_phrases)

    def shown(self, code: int) -> str:
        """A phrase as the story shows it (`app.readmodel.facts.shown_form`), not its key."""
        forms = self.phrase_forms.get(code)
        return shown_form(forms) if forms else self.phrases.names[code]

    def _sort(self, facts: tuple[Ints, Ints, Ints, Bools], phrases: tuple[Ints, Ints]) -> None:
        base = len(self.stage)
        stage = np.concatenate([self.stage, facts[0]])
        customer = np.concatenate([self.customer, facts[1]])
        day = np.concatenate([self.day, facts[2]])
        negative = np.concatenate([self.negative, facts[3]])
        facts_of_phrases = np.concatenate([self.phrase_fact, phrases[0] + base])
        phrase_codes = np.concatenate([self.phrase, phrases[1]])
        order = np.lexsort((day, customer, stage))
        moved_to = np.empty_like(order)
        moved_to[order] = np.arange(len(order))
        self.stage, self.customer = stage[order], customer[order]
        self.day, self.negative = day[order], negative[order]
        facts_of_phrases = moved_to[facts_of_phrases]
        by = np.lexsort(
            (
                self.day[facts_of_phrases],
                self.customer[facts_of_phrases],
                phrase_codes,
                self.stage[facts_of_phrases],
            )
        )
        self.phrase_fact, self.phrase = facts_of_phrases[by], phrase_codes[by]
        self.phrase_stage = self.stage[self.phrase_fact]
        self.phrase_customer = self.customer[self.phrase_fact]
        self.phrase_day = self.day[self.phrase_fact]

    def _merge(self, facts: tuple[Ints, Ints, Ints, Bools], phrases: tuple[Ints, Ints]) -> None:
        """Insert a few facts where a full sort would put them (after equal ones, as
        the stable sort does): copies of the columns instead of a million-row sort."""
        stage, customer, day, negative = facts
        order = np.lexsort((day, customer, stage))
        stage, customer, day, negative = stage[order], customer[order], day[order], negative[order]
        at = _places((self.stage, self.customer, self.day), (stage, customer, day))
        old = len(self.stage)
        old_moved = np.arange(old) + np.searchsorted(at, np.arange(old), side="right")
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        placed = at + np.arange(len(at))  # each new fact's place once all are in
        self.stage = np.insert(self.stage, at, stage)
        self.customer = np.insert(self.customer, at, customer)
        self.day = np.insert(self.day, at, day)
        self.negative = np.insert(self.negative, at, negative)
        fact_of, code = phrases
        if len(fact_of) == 0:
            self.phrase_fact = old_moved[self.phrase_fact]
            return
        sorted_at = rank[fact_of]
        p_stage, p_customer, p_day = stage[sorted_at], customer[sorted_at], day[sorted_at]
        by = np.lexsort((p_day, p_customer, code, p_stage))
        p_stage, p_customer, p_day, code = p_stage[by], p_customer[by], p_day[by], code[by]
        p_fact = placed[sorted_at[by]]
        columns = (self.phrase_stage, self.phrase, self.phrase_customer, self.phrase_day)
        where = _places(columns, (p_stage, code, p_customer, p_day))
        self.phrase_fact = np.insert(old_moved[self.phrase_fact], where, p_fact)
        self.phrase = np.insert(self.phrase, where, code)
        self.phrase_stage = np.insert(self.phrase_stage, where, p_stage)
        self.phrase_customer = np.insert(self.phrase_customer, where, p_customer)
        self.phrase_day = np.insert(self.phrase_day, where, p_day)


MERGE_AT_MOST = 5_000
"""Above this many new facts at once, one sort of everything is cheaper than the
per-row searches of a merge."""


def _places(old: tuple[Ints, ...], new: tuple[Ints, ...]) -> Ints:
    """Where each new row (sorted) goes among old rows sorted by the same columns,
    most significant first: after the old rows equal to it. Each column is sorted
    within a run of equal columns before it, so each is a search in a narrower view."""
    count = len(new[0])
    out = np.empty(count, dtype=np.int64)
    columns = [c.tolist() for c in new]
    for k in range(count):
        lo, hi = 0, len(old[0])
        for column, values in zip(old, columns, strict=True):
            view = column[lo:hi]
            value = values[k]
            lo, hi = (
                lo + int(np.searchsorted(view, value, side="left")),
                lo + int(np.searchsorted(view, value, side="right")),
            )
        out[k] = hi
    return out


def first_per_group(mask: Bools, *keys: Ints) -> Ints:
    """Positions of the first masked row of each run of equal `keys` (rows sorted by
    those keys, then day): each group's earliest row in the mask."""
    chosen = np.flatnonzero(mask)
    if len(chosen) == 0:
        return chosen
    new = np.zeros(len(chosen), dtype=bool)
    new[0] = True
    for k in keys:
        picked = k[chosen]
        new[1:] |= picked[1:] != picked[:-1]
    return chosen[new]


_CACHE: dict[str, Voices] = {}
_LOCK = threading.RLock()
CHUNK = 50_000


def voices(conn: Connection) -> Voices:
    """The voices stored now (the caller must not change what it gets: more are read
    into a new object, sharing the vocabularies, which only grow)."""
    key = conn.engine.url.render_as_string(hide_password=True)
    version = read(conn, FACTS_ADDED, FACTS_REMOVED)
    with _LOCK:  # one reader at a time: the vocabularies are shared
        known = _CACHE.get(key)
        if known is not None and known.version == version:
            return known
        if known is None or known.version[1] != version[1]:
            fresh = Voices()
        else:
            fresh = replace(known)  # the same arrays: `add` makes new ones
        fresh.add(_facts_after(conn, fresh.last_id))
        fresh.version = version
        _CACHE[key] = fresh
        return fresh


def _facts_after(
    conn: Connection, after: int
) -> list[tuple[int, str, str, object, str, list[str] | None]]:
    facts = table("voice_facts")
    rows: list[tuple[int, str, str, object, str, list[str] | None]] = []
    while True:
        chunk = [
            (int(i), str(stage), str(customer), day, str(label), themes)
            for i, stage, customer, day, label, themes in conn.execute(
                select(
                    facts.c.id,
                    facts.c.stage,
                    facts.c.customer,
                    facts.c.day,
                    facts.c.label,
                    facts.c.themes,
                )
                .where(
                    facts.c.id > after,
                    facts.c.customer.is_not(None),
                    facts.c.label.in_(("negative", "positive")),
                )
                .order_by(facts.c.id)
                .limit(CHUNK)
            )
        ]
        rows.extend(chunk)
        if len(chunk) < CHUNK:
            return rows
        after = chunk[-1][0]
