"""Making spaCy's English tokenizer cheaper on text it has not seen before.

spaCy caches how it split each whitespace-separated chunk, so a chunk seen before
costs a hash lookup. A new chunk pays for the affix regexes and, for each new
word, the lexeme attributes. Measured on airline tune tweets (fresh vocabulary):
the suffix search alone was ~25 us per tweet (spaCy's suffix pattern is one big
alternation anchored at `$`, which Python's `re` tries at every position), and
the 23 lexical attribute getters ~35 us, about as much as bare VADER per tweet.

- `AffixPrefilter`: wraps a prefix / suffix search and answers "no match" at
  once when the chunk's first (prefix) or last (suffix) character cannot start /
  end any alternative of the pattern, else runs the pattern itself. What can
  match is read from the pattern with the stdlib's own parser (`re._parser`), so
  the answers are exactly the pattern's; any construct the reader does not know
  turns the filter off for that pattern.
- `CHUNK_CACHE_SIZE`: spaCy stops caching chunks once its cache holds
  `max_cache_size` of them (10,000 by default) and from then on tokenizes every new
  chunk from scratch, forever. A service reading customer text meets more distinct
  chunks than that within hours (the tune + test texts of the eval sets: ~51k), so
  the default cap left ~3/4 of the tokenizer's time on text it had seen before
  (steady state on the test texts: 40 -> 11.5 us per text with the cap raised).
- `LEAN_LEXEME_ATTRS`: the lexical attributes the pipeline reads (LOWER for the
  phrase matcher, NORM); `is_alpha`, `like_num`, `shape` ... are not computed for
  new words, so no Listening Path component reads them (they use `str` methods).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from spacy.attrs import LOWER, NORM

LEAN_LEXEME_ATTRS: tuple[int, ...] = (LOWER, NORM)

CHUNK_CACHE_SIZE = 200_000
"""How many whitespace-separated chunks the tokenizer caches (spaCy's default: 10,000).
Each entry is a few lexeme pointers plus spaCy's bookkeeping, ~0.2 kB (measured: the
tune + test texts of the eval sets grow RSS by 55.6 MB instead of 47.6 MB with the
default cap), so at most ~40 MB, beside a vocab that keeps every word it meets anyway."""

_DIGIT_RE = re.compile(r"[0-9]")

Search = Callable[[str], "re.Match[str] | None"]


class _Unknown(Exception):
    """A pattern construct the reader does not handle: no filter for that pattern."""


def _ascii_chars(items: Any, *, first: bool) -> set[str]:
    """ASCII characters that the first (or last) consumed character of `items` can be;
    non-ASCII ones are dropped (the filter always defers to the pattern for them)."""
    from re import _parser  # type: ignore[attr-defined]

    seq = list(items)
    order = seq if first else list(reversed(seq))
    for op, av in order:
        if op is _parser.AT or op in (_parser.ASSERT, _parser.ASSERT_NOT):
            continue  # zero-width
        if op is _parser.LITERAL:
            return {chr(av)} if av < 128 else set()
        if op is _parser.IN:
            out: set[str] = set()
            for member_op, member in av:
                if member_op is _parser.LITERAL:
                    if member < 128:
                        out.add(chr(member))
                elif member_op is _parser.RANGE:
                    lo, hi = member
                    out.update(chr(c) for c in range(lo, min(hi, 127) + 1))
                else:  # NEGATE, CATEGORY: cannot enumerate
                    raise _Unknown(str(member_op))
            return out
        if op is _parser.BRANCH:
            union: set[str] = set()
            for alternative in av[1]:
                union |= _ascii_chars(alternative, first=first)
            return union
        if op in (_parser.MAX_REPEAT, _parser.MIN_REPEAT):
            lo, _hi, sub = av
            if lo < 1:
                raise _Unknown("optional repeat")
            return _ascii_chars(sub, first=first)
        if op is _parser.SUBPATTERN:
            return _ascii_chars(av[-1], first=first)
        raise _Unknown(str(op))
    raise _Unknown("empty alternative")


class AffixPrefilter:
    """A drop-in for a tokenizer's `prefix_search` (`at_end=False`) or `suffix_search`
    (`at_end=True`) that skips the regex when it cannot match."""

    def __init__(self, pattern: re.Pattern[str], *, at_end: bool) -> None:
        self.pattern: str = pattern.pattern  # spaCy saves `search.__self__.pattern`
        self._search: Search = pattern.search
        self.at_end = at_end
        self.active = False
        self._chars: frozenset[str] = frozenset()
        self._digit_chars: frozenset[str] = frozenset()
        self._literals: tuple[str, ...] = ()
        try:
            self._read(pattern)
            self.active = True
        except Exception:  # an optional optimisation: never fatal
            self.active = False

    def _read(self, pattern: re.Pattern[str]) -> None:
        from re import _parser  # type: ignore[attr-defined]

        if pattern.flags & (re.IGNORECASE | re.MULTILINE | re.VERBOSE):
            raise _Unknown("flags")
        parsed = list(_parser.parse(pattern.pattern, pattern.flags).data)
        anchor = _parser.AT_END if self.at_end else _parser.AT_BEGINNING
        alternatives: list[list[Any]] = [parsed]
        if len(parsed) == 1 and parsed[0][0] is _parser.BRANCH:
            alternatives = [list(b) for b in parsed[0][1][1]]
        elif (
            len(parsed) == 2
            and parsed[0] == (_parser.AT, anchor)
            and parsed[1][0] is _parser.BRANCH
            and not self.at_end
        ):  # the parser factors a shared leading `^` out of the alternatives
            alternatives = [[parsed[0], *b] for b in parsed[1][1][1]]
        chars: set[str] = set()
        digit_chars: set[str] = set()
        literals: list[str] = []
        digit_behind = [(_parser.IN, [(_parser.RANGE, (48, 57))])]
        for alt in alternatives:
            at = alt[-1] if self.at_end else alt[0]
            if at != (_parser.AT, anchor):
                raise _Unknown("unanchored alternative")
            body = alt[:-1] if self.at_end else alt[1:]
            consuming = [
                (op, av) for op, av in body if op not in (_parser.ASSERT, _parser.ASSERT_NOT)
            ]
            if len(consuming) > 1 and all(op is _parser.LITERAL for op, _ in consuming):
                literals.append("".join(chr(av) for _, av in consuming))
                continue
            needs_digit = (
                self.at_end
                and body
                and body[0][0] is _parser.ASSERT
                and body[0][1][0] == -1
                and list(body[0][1][1]) == digit_behind
            )
            found = _ascii_chars(body, first=not self.at_end)
            (digit_chars if needs_digit else chars).update(found)
        chars.add("\n")  # `$` also matches before a final newline
        self._chars = frozenset(chars)
        self._digit_chars = frozenset(digit_chars)
        self._literals = tuple(literals)

    def search(self, string: str) -> re.Match[str] | None:
        if self.active and string:
            c = string[-1] if self.at_end else string[0]
            if (
                c < "\x80"
                and c not in self._chars
                and not (c in self._digit_chars and _DIGIT_RE.search(string))
                and not (
                    self._literals
                    and (
                        string.endswith(self._literals)
                        if self.at_end
                        else string.startswith(self._literals)
                    )
                )
            ):
                return None
        return self._search(string)


def _requires(items: Any, char: int) -> bool:
    """True when every match of `items` consumes the literal character `char`
    (conservative: False when unsure)."""
    from re import _parser  # type: ignore[attr-defined]

    for op, av in items:
        if op is _parser.LITERAL and av == char:
            return True
        if op is _parser.SUBPATTERN and _requires(av[-1], char):
            return True
        if op is _parser.BRANCH and all(_requires(alt, char) for alt in av[1]):
            return True
        if op in (_parser.MAX_REPEAT, _parser.MIN_REPEAT) and av[0] >= 1 and _requires(av[2], char):
            return True
    return False


class InfixPrefilter:
    """A drop-in for `infix_finditer`: an ASCII letters-and-digits chunk gets no
    matches at once when no alternative of the pattern can start with a letter or
    digit (read as in `AffixPrefilter`); anything else runs the pattern."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern: str = pattern.pattern
        self._finditer = pattern.finditer
        self.active = False
        if pattern.flags & (re.IGNORECASE | re.VERBOSE):
            return
        try:
            firsts = self._first_chars(pattern)
        except Exception:  # an optional optimisation: never fatal
            return
        self.active = not any(c.isalnum() for c in firsts)

    @staticmethod
    def _first_chars(pattern: re.Pattern[str]) -> set[str]:
        from re import _parser  # type: ignore[attr-defined]

        parsed = list(_parser.parse(pattern.pattern, pattern.flags).data)
        alternatives: list[Any] = [parsed]
        if len(parsed) == 1 and parsed[0][0] is _parser.BRANCH:
            alternatives = list(parsed[0][1][1])
        firsts: set[str] = set()
        for alt in alternatives:
            firsts |= _ascii_chars(alt, first=True)
        return firsts

    def finditer(self, string: str) -> Iterator[re.Match[str]]:
        if self.active and string.isascii() and string.isalnum():
            return iter(())
        return self._finditer(string)


class UrlPrefilter:
    """A drop-in for `url_match` when every match of the pattern needs a "." (read
    from the pattern): a chunk without one is not a URL."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern: str = pattern.pattern
        self._match = pattern.match
        self.active = False
        try:
            from re import _parser  # type: ignore[attr-defined]

            if not pattern.flags & (re.IGNORECASE | re.VERBOSE):
                self.active = _requires(_parser.parse(pattern.pattern, pattern.flags).data, 46)
        except Exception:  # an optional optimisation: never fatal
            self.active = False

    def match(self, string: str) -> re.Match[str] | None:
        if self.active and "." not in string:
            return None
        return self._match(string)


def speed_up(tokenizer: Any) -> None:
    """Give a spaCy `Tokenizer` prefiltered affix, infix and URL regexes (same answers)
    and a chunk cache of `CHUNK_CACHE_SIZE` (same tokens: the cache only remembers
    how a chunk was split)."""
    if getattr(tokenizer, "max_cache_size", CHUNK_CACHE_SIZE) < CHUNK_CACHE_SIZE:
        tokenizer.max_cache_size = CHUNK_CACHE_SIZE
    for attr, at_end in (("prefix_search", False), ("suffix_search", True)):
        search = getattr(tokenizer, attr)
        pattern = getattr(search, "__self__", None)
        if isinstance(pattern, re.Pattern):
            fast = AffixPrefilter(pattern, at_end=at_end)
            if fast.active:
                setattr(tokenizer, attr, fast.search)
    pattern = getattr(tokenizer.infix_finditer, "__self__", None)
    if isinstance(pattern, re.Pattern):
        infix = InfixPrefilter(pattern)
        if infix.active:
            tokenizer.infix_finditer = infix.finditer
    pattern = getattr(tokenizer.url_match, "__self__", None)
    if isinstance(pattern, re.Pattern):
        url = UrlPrefilter(pattern)
        if url.active:
            tokenizer.url_match = url.match


def lean_lexemes(vocab: Any) -> None:
    """Compute only `LEAN_LEXEME_ATTRS` for words the vocab has not seen yet."""
    getters = dict(vocab.lex_attr_getters or {})
    vocab.lex_attr_getters = {k: v for k, v in getters.items() if k in LEAN_LEXEME_ATTRS}
