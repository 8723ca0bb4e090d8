"""Person names where feedback carries them: found by the words around them, not by a
model.

Contexts (case-insensitive), each followed by one to three capitalised words:

- introductions: "my name is", "my name's", "name:", "call me"; and, weaker, "I'm",
  "I am", "this is", "it's" (the first word must be a known given name,
  `nlp/data/first_names.txt`, so "I'm Very Happy" stays);
- the person who served: "spoke to / talked with / chatted to", "agent / advisor /
  engineer / lady ... called / named", "ask for", "thanks to", "dealt with / helped by
  / served by"; a title ("Mr", "Mrs", "Ms", "Dr", "Frau", "Mme", ...);
- sign-offs: "Thanks, John Smith", "Regards,\\nMary Jones", "Cheers – Tom", "- Tom"
  at the end of a text or a line; "thanks John for ..." mid-sentence only with a
  known given name.

A capitalised word is not a name when it is a common word (English stop words,
VADER's lexicon, the words of service and the journey's stages: "Support",
"Billing", "Team", "Monday"...), unless it is a known given name. "my name is" also
takes a known given name in lower case ("my name is john smith").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from importlib import resources

from nlp.pii.spans import Found

_COMMON_EXTRA = """
a an the i me my we our you your he she they it this that these those who what which
and or but so if then than as at by for from in into of on to with about after before
support team customer customers service services billing bill sales accounts account
manager management agent agents advisor adviser engineer engineers technician tech
technical helpdesk desk department dept reception store shop branch office head staff
company business operations complaints complaint care contact centre center
discover discovery purchase purchasing onboard onboarding use usage renew renewal
renewals cancel cancellation advocate advocacy install installation setup delivery
monday tuesday wednesday thursday friday saturday sunday january february march april
may june july august september october november december today yesterday tomorrow
everyone everybody anyone someone somebody nobody all both each
mr mrs ms miss dr sir madam
hi hello hey dear thanks thank cheers regards best kind warm yours sincerely
please sorry again very really so much lot lots guys folks team
english french german spanish italian dutch british american irish indian
london manchester leeds berlin paris madrid rome dublin amsterdam york
chat phone email live web online app website router broadband fibre wifi internet
ok okay yes no not nothing none great good bad fine
""".split()
_TITLE = r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Herr|Frau|Mme|Mlle|Monsieur|Madame|Sr|Sra|Signor|Signora)"
_STRONG = re.compile(
    r"\b(?:my name is|my name's|my names|name is|name's|name:|call me|"
    r"(?:spoke|speak|speaking|spoken|talked|talk|talking|chatted|chatting|dealt|dealing)"
    r"\s+(?:to|with)|"
    r"(?:agent|advisor|adviser|rep|representative|engineer|technician|installer|operator|"
    r"consultant|manager|colleague|lady|guy|man|woman|gentleman|chap|girl|bloke|person|"
    r"driver|courier|member of staff|staff member|someone|fella|boss|supervisor)"
    r"\s+(?:called|named|by the name of)|"
    r"ask(?:ed)? for|thanks to|thank you to|shout ?out to|kudos to|props to|"
    r"helped by|served by|assisted by|looked after by|handled by|visited by|"
    r"(?:passed|transferred|put through|escalated) to)\s+",
    re.IGNORECASE,
)
_WEAK = re.compile(r"\b(?:i'm|i’m|i am|im|this is|it's|it’s|thanks|thank you|thx|cheers)\s+", re.I)
_TITLE_RE = re.compile(rf"\b{_TITLE}\.?\s+(?=[A-ZÀ-Þ])")
_SIGNOFF = re.compile(
    r"(?:^|(?<=[\n.!?])|(?<=[.!?)]\s)|(?<=\s\s))\s*"
    r"(?:many thanks|thanks again|thanks so much|thanks|thank you|thx|ta|cheers|regards|"
    r"kind regards|best regards|warm regards|warmest regards|best wishes|all the best|"
    r"best|sincerely|yours sincerely|yours faithfully|yours truly|yours|love|take care)"
    r"\s*[,!.:]?\s*(?:[-–—]+\s*)?(?:\n\s*)?(?=\S)",
    re.IGNORECASE,
)
_DASH_SIGNOFF = re.compile(r"(?:^|\s)[-–—]{1,2}\s*(?=[A-ZÀ-Þ][^\s]*\s*(?:\S+\s*)?$)")
_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['’-](?=[^\W\d_]))*")
_PARTICLES = frozenset(
    "van von de da di del der den du le la dos das bin al ben ter ten mac st".split()
)


@cache
def given_names() -> frozenset[str]:
    text = (resources.files("nlp") / "data" / "first_names.txt").read_text(encoding="utf-8")
    return frozenset(
        w for line in text.splitlines() if not line.startswith("#") for w in line.split()
    )


@cache
def common_words() -> frozenset[str]:
    words = set(_COMMON_EXTRA)
    lexicon = resources.files("vaderSentiment") / "vader_lexicon.txt"
    for line in lexicon.read_text(encoding="utf-8").splitlines():
        word = line.split("\t", 1)[0]
        if word.isalpha():
            words.add(word.lower())
    return frozenset(words - given_names())


def _is_cap(word: str) -> bool:
    return word[0].isupper() and (len(word) == 1 or not word.isupper() or len(word) <= 3)


def _take_name(text: str, pos: int, *, need_given: bool, lowercase_ok: bool = False) -> int:
    """End of a name of 1-3 words starting at `pos`, or `pos` when there is none."""
    end = pos
    words = 0
    i = pos
    common = common_words()
    given = given_names()
    while words < 3:
        m = _WORD.match(text, i)
        if m is None:
            break
        word = m.group(0)
        low = word.lower()
        if words > 0 and low in _PARTICLES and not word[0].isupper():
            # "Ludwig van Beethoven": a particle joins two capitalised words.
            nxt = _WORD.match(text, m.end() + 1) if text[m.end() : m.end() + 1] == " " else None
            if nxt is not None and _is_cap(nxt.group(0)):
                i = m.end() + 1
                continue
            break
        first = words == 0
        if _is_cap(word):
            if low in common and low not in given:
                break
            if first and need_given and low not in given:
                break
        elif not lowercase_ok or (low not in given and (first or low in common)):
            break
        words += 1
        end = m.end()
        if text[end : end + 1] != " ":
            break
        i = end + 1
    return end


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while end > start and text[end - 1] in "'’-":
        end -= 1
    if text[end - 2 : end] in ("'s", "’s"):
        end -= 2
    return start, end


_STRONG_LC = re.compile(_STRONG.pattern)
_WEAK_LC = re.compile(_WEAK.pattern)
_SIGNOFF_LC = re.compile(_SIGNOFF.pattern)


def find_names(text: str) -> Iterator[Found]:
    # The cues scanned on the lower-cased text with case-sensitive twins: a
    # case-insensitive Unicode scan costs several times more. (Where lowering changes
    # the length, as for "İ", the case-insensitive patterns are used.)
    low = text.lower()
    same = len(low) == len(text)
    strong, weak, signoff = (
        (_STRONG_LC, _WEAK_LC, _SIGNOFF_LC) if same else (_STRONG, _WEAK, _SIGNOFF)
    )
    hay = low if same else text
    for m in strong.finditer(hay):
        low = m.group(0).lower()
        lower_ok = "name" in low
        end = _take_name(text, m.end(), need_given=False, lowercase_ok=lower_ok)
        if end > m.end():
            yield Found(*_trim(text, m.end(), end), "name")
    for m in weak.finditer(hay):
        end = _take_name(text, m.end(), need_given=True)
        if end > m.end():
            rest = text[end : end + 12]
            lead = m.group(0).lower()
            # "thanks John for...", "I'm Priya Shah and...": the weak contexts.
            if lead.startswith(("thank", "thx", "cheers")) and not re.match(
                r"\s*(?:[,!.)]|for\b|so\b|very\b|again\b|$)", rest
            ):
                continue
            yield Found(*_trim(text, m.end(), end), "name")
    for m in _TITLE_RE.finditer(text):
        end = _take_name(text, m.end(), need_given=False)
        if end > m.end():
            yield Found(*_trim(text, m.start(), end), "name")
    for m in signoff.finditer(hay):
        end = _take_name(text, m.end(), need_given=False)
        if end > m.end() and re.match(r"\s*[.!]?\s*(?:\n|$)", text[end:]):
            yield Found(*_trim(text, m.end(), end), "name")
    for m in _DASH_SIGNOFF.finditer(text):
        end = _take_name(text, m.end(), need_given=False)
        if end > m.end() and re.match(r"\s*[.!]?\s*$", text[end:]):
            yield Found(*_trim(text, m.end(), end), "name")
