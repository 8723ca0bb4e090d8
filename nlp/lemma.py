"""A light, deterministic English suffix normaliser used as the pipeline's lemma.

`spacy.blank("en")` has no lemmatizer tables (they live in the heavy
`spacy-lookups-data` package), and the journey matcher only needs the SAME key
for "charge", "charged", "charges" and "charging", on both the phrase side and
the text side. So `light_lemma` maps inflected forms to a shared stem; it is not
meant to be read by people (themes use `singular` instead).
"""

from __future__ import annotations

from functools import lru_cache

_IRREGULAR: dict[str, str] = {
    "bought": "buy",
    "paid": "pay",
    "sold": "sell",
    "sent": "send",
    "told": "tell",
    "said": "say",
    "got": "get",
    "gotten": "get",
    "gave": "give",
    "given": "give",
    "took": "take",
    "taken": "take",
    "made": "make",
    "went": "go",
    "gone": "go",
    "came": "come",
    "left": "leave",
    "lost": "lose",
    "flew": "fly",
    "flown": "fly",
    "hung": "hang",
    "held": "hold",
    "kept": "keep",
    "found": "find",
    "heard": "hear",
    "saw": "see",
    "seen": "see",
    "spoke": "speak",
    "spoken": "speak",
    "broke": "break",
    "broken": "break",
    "froze": "freeze",
    "frozen": "freeze",
    "was": "be",
    "were": "be",
    "is": "be",
    "are": "be",
    "am": "be",
    "been": "be",
    "has": "have",
    "had": "have",
    "did": "do",
    "does": "do",
    "done": "do",
    "men": "man",
    "women": "woman",
    "people": "person",
    "children": "child",
    "canceled": "cancel",
    "cancelled": "cancel",
    "canceling": "cancel",
    "cancelling": "cancel",
    "travelled": "travel",
    "travelling": "travel",
    "labelled": "label",
    "used": "use",
    "uses": "use",
    "using": "use",
    "thanks": "thank",
    "n't": "not",
    "nt": "not",
    "ca": "can",
    "wo": "will",
    "'ll": "will",
    "'m": "be",
    "'re": "be",
    "'ve": "have",
}

# Returned as they are (the suffix rules would mangle them).
_KEEP = frozenset(
    "us news bus gas yes this his its always sometimes 's cancellation cancellations".split()
)

_VOWELS = frozenset("aeiouy")


def _undouble(stem: str) -> str:
    if len(stem) >= 4 and stem[-1] == stem[-2] and stem[-1] not in "lsz" + "aeiou":
        return stem[:-1]
    return stem


def _strip_e(stem: str) -> str:
    if len(stem) >= 4 and stem.endswith("e") and not stem.endswith("ee"):
        return stem[:-1]
    return stem


_CACHE: dict[str, str] = {}
_CACHE_MAX = 50_000


def light_lemma(word: str) -> str:
    """Shared stem for the inflections of `word` (lower-cased), memoised."""
    cached = _CACHE.get(word)
    if cached is None:
        cached = _light_lemma(word)
        if len(_CACHE) < _CACHE_MAX:
            _CACHE[word] = cached
    return cached


def _light_lemma(word: str) -> str:
    """Shared stem for the inflections of `word` (lower-cased): "Delays" -> "delay",
    "charged"/"charges"/"charge" -> "charg", "cancelled" -> "cancel"."""
    w = word.lower().replace("\u2019", "'")
    if w in _KEEP:
        return w
    w = _IRREGULAR.get(w, w)
    if len(w) <= 3 or not w.isalpha():
        return w
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith("ing") and len(w) > 5 and any(c in _VOWELS for c in w[:-3]):
        return _strip_e(_undouble(w[:-3]))
    if w.endswith("ied") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith("eed"):
        return w[:-1] if len(w) > 5 else w
    if w.endswith("ed") and len(w) > 4 and any(c in _VOWELS for c in w[:-2]):
        return _strip_e(_undouble(w[:-2]))
    if w.endswith(("sses", "shes", "ches", "xes", "zes")) and len(w) > 4:
        return _strip_e(w[:-2])
    if w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return _strip_e(w[:-1])
    return _strip_e(w)


_SINGULAR_KEEP = ("ss", "us", "is", "news", "ics", "ous")


@lru_cache(maxsize=100_000)
def singular(word: str) -> str:
    """A readable singular for theme phrases: "delays" -> "delay", "fees" -> "fee"."""
    w = word.lower()
    if len(w) <= 3 or not w.endswith("s") or w.endswith(_SINGULAR_KEEP):
        return w
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith(("sses", "shes", "ches", "xes")):
        return w[:-2]
    return w[:-1]


_SUFFIXES = ("s", "es", "d", "ed", "ing", "er")


@lru_cache(maxsize=20_000)
def inflections(word: str) -> frozenset[str]:
    """Forms of `word` that share its light lemma: "sign" -> {"sign", "signs",
    "signed", "signing"}, plus irregular forms ("pay" -> "paid"). Used to expand
    journey phrases so a LOWER matcher finds every inflection."""
    w = word.lower()
    target = light_lemma(w)
    stems: set[str] = set()
    for base in {w, target}:
        stems.add(base)
        if base.endswith("e"):
            stems.add(base[:-1])
        if base.endswith("y"):
            stems.add(base[:-1] + "i")
        if len(base) >= 3 and base[-1] not in "aeiouwxy" and base[-2] in "aeiou":
            stems.add(base + base[-1])
    stems.add(target + "e")
    candidates = set(stems)
    for stem in stems:
        candidates.update(stem + suffix for suffix in _SUFFIXES)
    candidates.update(form for form, lemma in _IRREGULAR.items() if lemma == target)
    return frozenset(c for c in candidates if light_lemma(c) == target)
