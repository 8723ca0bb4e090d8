"""Personal-data redaction: recall per kind, false positives, speed against the old regexes.

    python bench/pii.py [--split test|dev|all] [--show N]

Reads `bench/data/pii/` (written by `bench/pii_corpus.py`). A labelled string counts as
caught when its personal-data value no longer appears in the redacted text; a clean
sentence is a false positive when redaction changes it at all. Speed: both redactions
over the same texts (all labelled and clean sentences), best of 3, texts/s and the
ratio. The old redaction (e-mails, phones and Luhn cards by hand-written regexes,
before issue 17) is kept below as the baseline.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Callable  # noqa: E402

from nlp.redaction import KINDS, redact  # noqa: E402

DATA = _HERE / "data" / "pii"

# ---- the old redaction (nlp/redaction.py before issue 17), kept as the baseline ----
_O_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![\w-])"
)
_O_CARD = re.compile(r"(?<![\w#/.,+-])\d(?:[ -]?\d){12,18}(?![\w/-]|[.,]\d)")
_O_PHONE = re.compile(
    r"(?<![\w#/.,+-])(?:\+\d{7,15}|(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,5}\)[ .-]?)?"
    r"\d{1,5}(?:[ .-]\d{1,5}){0,5})(?![\w/]|[.,-]\d)"
)
_O_EMAIL_HINT = re.compile(r"\w@\w")
_O_NUMBER_HINT = re.compile(r"\d(?:[ ().+-]{0,3}\d){6}")
_O_DATE = re.compile(r"^\d{4}[-./]\d{1,2}[-./]\d{1,2}$|^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$")


def _o_luhn(d: str) -> bool:
    t = 0
    for i, ch in enumerate(reversed(d)):
        v = int(ch) * (2 if i % 2 else 1)
        t += v - 9 if v > 9 else v
    return t % 10 == 0


def _o_card(m: str) -> bool:
    d = re.sub(r"[ -]", "", m)
    return 13 <= len(d) <= 19 and _o_luhn(d) and len(set(d)) > 1


def _o_phone(m: str) -> bool:
    d = re.sub(r"\D", "", m)
    s = m.strip()
    if _O_DATE.match(s):
        return False
    if s.startswith("+"):
        return 7 <= len(d) <= 15
    if "(" in s:
        return 9 <= len(d) <= 15
    g = re.split(r"[ .-]", s)
    if len(g) < 2 or not 9 <= len(d) <= 15:
        return False
    return not all(len(x) == 3 for x in g[1:]) or len(g[0]) > 3


def old_redact(text: str) -> tuple[str, dict[str, int]]:
    counts: dict[str, int] = {}
    has_email = "@" in text and _O_EMAIL_HINT.search(text) is not None
    has_number = _O_NUMBER_HINT.search(text) is not None
    if not has_email and not has_number:
        return text, counts

    def sub(kind: str, p: re.Pattern[str], ok: Callable[[str], bool] | None) -> None:
        nonlocal text

        def repl(m: re.Match[str]) -> str:
            if ok is not None and not ok(m.group(0)):
                return m.group(0)
            counts[kind] = counts.get(kind, 0) + 1
            return f"[{kind.upper()}]"

        text = p.sub(repl, text)

    if has_email:
        sub("email", _O_EMAIL, None)
    if has_number:
        sub("card", _O_CARD, _o_card)
        sub("phone", _O_PHONE, _o_phone)
    return text, counts


# ---------------------------------------------------------------------------------


def load(name: str, split: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return [r for r in rows if split == "all" or r["split"] == split]


def score(
    fn: Callable[[str], tuple[str, dict[str, int]]],
    labelled: list[dict[str, str]],
    clean: list[dict[str, str]],
    show: int,
    label: str,
) -> None:
    total: Counter[str] = Counter()
    caught: Counter[str] = Counter()
    misses: list[dict[str, str]] = []
    for row in labelled:
        total[row["kind"]] += 1
        if row["value"] not in fn(row["text"])[0]:
            caught[row["kind"]] += 1
        else:
            misses.append(row)
    fps = [r["text"] for r in clean if fn(r["text"])[0] != r["text"]]
    print(f"\n{label}")
    print(f"  {'kind':<12} {'caught':>7} {'of':>5} {'recall':>7}")
    for kind in KINDS:
        if total[kind]:
            print(
                f"  {kind:<12} {caught[kind]:>7} {total[kind]:>5} {caught[kind] / total[kind]:>7.3f}"
            )
    n = sum(total.values())
    print(f"  {'all':<12} {sum(caught.values()):>7} {n:>5} {sum(caught.values()) / n:>7.3f}")
    print(
        f"  false positives: {len(fps)} of {len(clean)} clean sentences = {len(fps) / len(clean):.2%}"
    )
    for row in misses[:show]:
        print(f"    missed {row['kind']}: {row['value']!r} in {fn(row['text'])[0]!r}")
    for text in fps[:show]:
        print(f"    false positive: {fn(text)[0]!r}")


def speed(fn: Callable[[str], tuple[str, dict[str, int]]], texts: list[str]) -> float:
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        for text in texts:
            fn(text)
        best = min(best, time.perf_counter() - t)
    return len(texts) / best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", default="test", choices=["test", "dev", "all"])
    ap.add_argument("--show", type=int, default=0, help="print up to N misses and false positives")
    args = ap.parse_args()
    labelled = load("labelled.jsonl", args.split)
    clean = load("clean.jsonl", args.split)
    print(f"split {args.split}: {len(labelled)} labelled strings, {len(clean)} clean sentences")
    score(redact, labelled, clean, args.show, "nlp.redaction.redact (issue 17)")
    score(old_redact, labelled, clean, 0, "old regex redaction (baseline)")
    idem = sum(redact(redact(r["text"])[0])[0] != redact(r["text"])[0] for r in labelled + clean)
    print(f"\nidempotence: {idem} texts changed by a second redaction")
    texts = [r["text"] for r in labelled + clean]
    redact(texts[0])  # load metadata, lists
    new, old = speed(redact, texts), speed(old_redact, texts)
    clean_texts = [r["text"] for r in clean]
    new_c, old_c = speed(redact, clean_texts), speed(old_redact, clean_texts)
    print(
        f"speed, all {len(texts)} texts: {new:,.0f} texts/s ({1e6 / new:.1f} us/text) vs old {old:,.0f} texts/s ({1e6 / old:.1f} us/text): {new / old:.2f}x"
    )
    print(
        f"speed, clean sentences only: {new_c:,.0f} texts/s ({1e6 / new_c:.1f} us/text) vs old {old_c:,.0f} ({1e6 / old_c:.1f} us/text): {new_c / old_c:.2f}x"
    )


if __name__ == "__main__":
    main()
