"""Themes: the key phrases of an item, without a parser.

`lp_themes` cuts each segment into runs of content words (no stop words,
punctuation, numbers, @handles, #tags, URLs or redaction placeholders), trims
generic evaluative words at the edges ("great", "bad", "really", ...) so
"really bad customer service" gives "customer service", and keeps runs of one to
`max_words` words, lower-cased, last word singularised ("late flights" ->
"late flight"). Single words must be at least `min_chars` letters. Output is
in order of first appearance, without duplicates, at most `max_themes`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from spacy.lang.en.stop_words import STOP_WORDS
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import SimpleFrozenList, ensure_path

from nlp.docview import doc_view, run_batched
from nlp.journey import resolve_journey
from nlp.lemma import singular
from nlp.sentiment import vader_lexicon

# Words that carry tone or glue, not topic: never a theme on their own nor at an edge.
_FILLER = frozenset(
    """
    thanks thank thx ty please pls plz hi hello hey guys guy lol omg yes yeah ok okay
    today tomorrow yesterday tonight now still just really actually literally maybe
    im ive dont cant wont didnt doesnt isnt wasnt youre thats theres u ur r amp via
    got get gets getting go going gone went want wanted need needed know think let
    stuff etc able sure fine
    """.split()
)
# Words that head a phrase well ("hold time", "delivery day", "customer service") but
# say nothing alone: every text here is a customer's, and "customer" opens call notes.
_WEAK_ALONE = frozenset(
    """
    lot lots thing things way time times day days week weeks month months year years
    hour hours minute minutes min mins hr hrs
    morning mornings afternoon afternoons evening evenings night nights weekend weekends
    monday tuesday wednesday thursday friday saturday sunday
    january february march april june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec
    customer customers
    """.split()
)
# Verbs and vague words that read badly alone ("told", "tried", "look"); a word
# ending in -ed or -ing is also dropped when it stands alone, unless it is one of
# the nouns below ("booking", "billing").
_NOT_ALONE = _WEAK_ALONE | frozenset(
    """
    try tell told say said send sent look find found come came leave left follow think
    thought wear wore know knew make made take took give gave put keep kept seem feel
    felt use want like love hate usually right little long person people thing way lot
    check change update help miss sit fly board book work bought run hear mean fall
    possible correct modify locate swap get
    """.split()
)
_ING_NOUNS = frozenset(
    """
    booking shipping billing pricing packaging parking seating clothing sizing lining
    setting settings training housing heating wiring wedding morning evening meeting
    building rating ceiling charging lighting marketing banking
    """.split()
)
_STOP = (frozenset(STOP_WORDS) | _FILLER) - _WEAK_ALONE
# Irregular past forms: trimmed at a run's end like "-ed" words ("engineer came" ->
# "engineer"); only forms that are never the noun a phrase ends on.
_PAST_FORMS = frozenset(
    """
    told said sent found came left thought wore knew made took gave kept felt bought
    ran heard fell went got paid
    """.split()
)
# Words that say how often or how wrongly something was done: before a participle
# they are its modifier, not a topic of their own ("double charged" is the theme,
# "double" alone is not), so the participle is kept as the phrase's head.
_PARTICIPLE_MODIFIERS = frozenset(
    """
    double triple wrongly incorrectly mistakenly falsely repeatedly
    """.split()
)


class ThemeExtractor:
    """spaCy component: `doc._.lp.themes` (tuple of key phrases)."""

    def __init__(
        self,
        name: str,
        *,
        max_themes: int,
        max_words: int,
        min_chars: int,
        journey_path: str = "",
        journey_ref: str = "",
    ) -> None:
        self.name = name
        self.max_themes = max_themes
        self.max_words = max_words
        self.min_chars = min_chars
        lexicon = vader_lexicon()
        self._evaluative = frozenset(w for w, v in lexicon.items() if abs(v) >= 1.0)
        self._content: dict[str, bool] = {}  # word -> may be part of a theme (memo)
        self._phrases: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._never: frozenset[str] = frozenset()
        # The journey's never_themes, from the config (see JourneyStageMatcher).
        journey, self._configured = resolve_journey(ref=journey_ref, path=journey_path)
        self.set_never(journey.never_themes)

    def set_never(self, words: Iterable[str]) -> None:
        """Words the journey says are never a theme (a company's own names): they
        break a run like a stop word, so "fernhill broadband" gives "broadband"."""
        self._never = frozenset(word.lower() for word in words)
        self._content.clear()
        self._phrases.clear()

    def _alone_ok(self, word: str) -> bool:
        if len(word) < self.min_chars or word in _NOT_ALONE:
            return False
        if word.endswith(("ed", "ly")) or (word.endswith("ing") and word not in _ING_NOUNS):
            return False
        return True

    def _run_phrases(self, run: list[str]) -> tuple[str, ...]:
        """The phrases one run of content words gives (memoised by `themes`: short runs
        such as "flight" or "customer service" come back all the time)."""
        found: list[str] = []
        words = list(run)
        while words and words[0] in self._evaluative:
            words.pop(0)
        while words and (
            words[-1] in self._evaluative or words[-1].endswith("ed") or words[-1] in _PAST_FORMS
        ):
            if (
                len(words) > 1
                and words[-2] in _PARTICIPLE_MODIFIERS
                and words[-1] not in self._evaluative
            ):
                break  # "double charged": the participle heads the phrase
            words.pop()
        while words and words[0].endswith("ly") and words[0] not in _PARTICIPLE_MODIFIERS:
            words.pop(0)
        for start in range(0, len(words), self.max_words):
            chunk = words[start : start + self.max_words]
            chunk[-1] = singular(chunk[-1])
            if len(chunk) == 1 and not self._alone_ok(chunk[0]):
                continue
            if all(word in _WEAK_ALONE for word in chunk):
                continue  # "tuesday evening", "two weeks": when, not what
            found.append(" ".join(chunk))
        return tuple(found)

    def themes(self, doc: Doc) -> tuple[str, ...]:
        """Key phrases of `doc`, in order of first appearance."""
        return self.extract(doc)[0]

    def extract(self, doc: Doc) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
        """Key phrases of `doc` (at most `max_themes`, in order of first appearance),
        and for each segment the ones its own words give: a theme belongs to the
        sentences that say it, so "setup was easy but the invoice was wrong" puts
        "setup" in onboarding and "invoice" in billing."""
        view = doc_view(doc)
        lower = view.lower
        content = self._content
        runs: list[tuple[str, ...]] = []  # the runs of content words, in order
        run_segment: list[int] = []  # the segment each run lies in
        for segment_index, (start, end) in enumerate(view.segments):
            run: list[str] = []
            for i in range(start, end):
                word = lower[i]
                ok = content.get(word)
                if ok is None:
                    ok = (
                        word.isalpha()
                        and word not in _STOP
                        and len(word) > 1
                        and word not in self._never
                    )
                    if len(content) < 200_000:
                        content[word] = ok
                if ok and (i == 0 or lower[i - 1] not in ("@", "#")):
                    run.append(word)
                elif run:
                    runs.append(tuple(run))
                    run_segment.append(segment_index)
                    run = []
            if run:
                runs.append(tuple(run))
                run_segment.append(segment_index)
        return self.phrases(len(view.segments), runs, run_segment)

    def content_ok(self, word: str) -> bool:
        """May this lower-cased word be part of a theme (`extract` inlines it, memoised)?"""
        return word.isalpha() and word not in _STOP and len(word) > 1 and word not in self._never

    def phrases(
        self, n_segments: int, runs: list[tuple[str, ...]], run_segment: list[int]
    ) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
        """`extract`'s answer from the runs of content words (in order) and the
        segment each lies in; shared with the fused pass (`nlp.fused`)."""
        out: list[str] = []
        seen: set[str] = set()
        known = self._phrases
        said: list[tuple[int, str]] = []
        for key, segment_index in zip(runs, run_segment, strict=True):
            phrases = known.get(key)
            if phrases is None:
                phrases = self._run_phrases(list(key))
                if len(known) < 100_000:
                    known[key] = phrases
            for phrase in phrases:
                said.append((segment_index, phrase))
                if phrase not in seen:
                    seen.add(phrase)
                    out.append(phrase)
        kept = tuple(out[: self.max_themes])
        per_segment: list[list[str]] = [[] for _ in range(n_segments)]
        if said:
            allowed = set(kept)
            for segment_index, phrase in said:
                bucket = per_segment[segment_index]
                if phrase in allowed and phrase not in bucket:
                    bucket.append(phrase)
        return kept, [tuple(b) for b in per_segment]

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 256) -> Iterator[Doc]:
        """`nlp.pipe` runs this component batch by batch (`nlp.docview.run_batched`)."""
        return run_batched(self, stream, batch_size)

    def __call__(self, doc: Doc) -> Doc:
        view = doc_view(doc)
        view.themes, view.segment_themes = self.extract(doc)
        return doc

    # -- serialisation: the never_themes a saved pipeline was built with --------------
    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = SimpleFrozenList()) -> None:  # noqa: ARG002
        target = ensure_path(path)
        target.mkdir(parents=True, exist_ok=True)
        (target / "never_themes.json").write_text(json.dumps(sorted(self._never)), "utf-8")

    def from_disk(
        self,
        path: str | Path,
        *,
        exclude: Iterable[str] = SimpleFrozenList(),  # noqa: ARG002
    ) -> ThemeExtractor:
        source = ensure_path(path) / "never_themes.json"
        if not self._configured and source.exists():  # the config's journey wins
            self.set_never(json.loads(source.read_text("utf-8")))
        return self


@Language.factory(
    "lp_themes",
    default_config={
        "max_themes": 8,
        "max_words": 3,
        "min_chars": 4,
        "journey_path": "",
        "journey_ref": "",
    },
    requires=["doc._.lp_segments"],
    assigns=["doc._.lp", "doc._.lp_themes"],
)
def make_themes(
    nlp: Language,  # noqa: ARG001  (spaCy passes it to every factory)
    name: str,
    max_themes: int,
    max_words: int,
    min_chars: int,
    journey_path: str,
    journey_ref: str,
) -> ThemeExtractor:
    return ThemeExtractor(
        name,
        max_themes=max_themes,
        max_words=max_words,
        min_chars=min_chars,
        journey_path=journey_path,
        journey_ref=journey_ref,
    )
