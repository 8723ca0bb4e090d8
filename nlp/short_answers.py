"""Short survey answers read as a person reads them.

An open survey question gets answers of one to eight words that the sentence rules
misread: "Nothing." and "no comment" are not complaints (a bare negation is one in a
longer text), "8/10" or "10 out of 10" is a score typed where the comment goes, and
"fine I guess", "happy enough", "a bit slow sometimes" are faint praise or faint
complaint, nearer neutral than the words alone say. `short_answer_kind` tells these
apart from the token list `lp_sentiment` already has; the component then multiplies
the answer's raw score by 0 (a non-answer or a score) or by its `faint_factor`.

What counts as faint: a hedge ("enough", "so far", "I guess", "a bit", "mostly",
"could be") or a lukewarm word ("ok", "fine", "decent", "average") with no
intensifier and no "!" ("Really happy so far!" is praise). Measured on the project's
own short-answer set (`tests/fixtures/short_answers/`, tune rows only) and the
public tune splits, see `nlp/README.md`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from nlp.thresholds import SHORT_ANSWER_WORDS

ShortKind = Literal["non_answer", "score", "faint", ""]


NON_ANSWERS = frozenset(
    {
        "n/a",
        "n a",
        "na",
        "none",
        "nothing",
        "nothing really",
        "nothing to add",
        "nothing really to add",
        "nothing else",
        "nothing to say",
        "nothing at this time",
        "nothing at the moment",
        "nothing comes to mind",
        "nothing springs to mind",
        "no comment",
        "no comments",
        "no feedback",
        "no answer",
        "not applicable",
        "not sure",
        "unsure",
        "no idea",
        "idk",
        "dunno",
        "don't know",
        "do n't know",
        "dont know",
        "do not know",
        "pass",
        "skip",
        "nope",
        "no",
        "nil",
        "nah",
        "same",
        "same as before",
        "same as last time",
        "as above",
        "see above",
        "ok",
        "okay",
        "k",
        "x",
    }
)
"""Whole answers (lower case, punctuation dropped) that say nothing about the company."""

_NON_ANSWER_RE = re.compile(
    r"^(honestly |really |sorry |um |erm )?(i )?(ca n't|can't|cant|cannot|can not) think of "
    r"(anything|any|one|a thing)( else| really)?$"
)

_NUMBER = r"(\d{1,2}([.,]\d)?|zero|one|two|three|four|five|six|seven|eight|nine|ten)"
_SCORE_RE = re.compile(
    rf"^((my )?score:? |i gave (it |you )?|i'?d give (it |you )?|an? )?{_NUMBER}"
    rf"(\s*(/|out of)\s*(10|5|ten|five|100)|\s*stars?|\s*points?)?$"
)
"""A score typed as the answer: "9", "8/10", "10 out of 10", "4 stars", "I gave 8"."""

_FAINT_WORDS = frozenset(
    {
        "ok",
        "okay",
        "fine",
        "alright",
        "decent",
        "average",
        "so-so",
        "meh",
        "acceptable",
        "adequate",
        "reasonable",
        "fair",
        "mostly",
        "somewhat",
        "slightly",
        "fairly",
        "enough",
        "suppose",
        "guess",
        "seems",
        "bit",
        "little",
    }
)
_FAINT_PHRASES = (
    "so far",
    "for now",
    "could be",
    "not bad",
    "not too bad",
    "not the best",
    "not quite",
    "nothing special",
    "can't complain",
    "ca n't complain",
    "cannot complain",
    "no real complaints",
    "room for improvement",
    "kind of",
    "sort of",
    "does the job",
    "does what it says",
)
_INTENSE = frozenset(
    {"really", "very", "super", "extremely", "absolutely", "totally", "incredibly", "!"}
)


_NOT_WORD = "".join(chr(c) for c in range(33, 127) if not chr(c).isalnum()) + " \t\n\r\u2026"
"""Punctuation and spaces: a token made only of these is not a word."""


def _words(lower: Sequence[str]) -> list[str]:
    return [w for w in lower if w.strip(_NOT_WORD)]


_FAINT_PHRASE_RE = re.compile(
    r"(?:^| )(?:" + "|".join(map(re.escape, _FAINT_PHRASES)) + r")(?: |$)"
)


def short_answer_kind(lower: Sequence[str], *, max_words: int = SHORT_ANSWER_WORDS) -> ShortKind:
    """What kind of short answer the lower-cased tokens of a whole text are: a
    `non_answer` ("N/A", "nothing", "-"), a `score` ("8/10"), `faint` praise or
    complaint ("fine I guess", "a bit slow"), or "" (not short, or a plain answer)."""
    words = _words(lower)
    if len(words) > max_words:
        return ""
    if not words:
        return "non_answer"  # "-", "?", "...": punctuation only
    content = " ".join(words)
    if content in NON_ANSWERS or ("think" in content and _NON_ANSWER_RE.match(content)):
        return "non_answer"
    if len(words) <= 5:
        typed = " ".join(w for w in lower if not (len(w) == 1 and w in ".!?,;:-"))
        if _SCORE_RE.match(typed):
            return "score"
    joined = " ".join(lower)
    if _FAINT_WORDS.isdisjoint(words) and not _FAINT_PHRASE_RE.search(joined):
        return ""
    # an intensifier or "!" makes a hedged answer strong ("Really happy so far!")
    if not _INTENSE.isdisjoint(lower) or "!" in joined:
        return ""
    return "faint"


__all__ = ["NON_ANSWERS", "SHORT_ANSWER_WORDS", "ShortKind", "short_answer_kind"]
