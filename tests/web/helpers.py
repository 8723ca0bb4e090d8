"""Reading numbers back off a page: every figure a page shows carries `data-k`."""

from __future__ import annotations

import re
from collections import defaultdict
from html.parser import HTMLParser
from typing import Any

VOID = {"br", "img", "input", "link", "meta", "hr", "rect", "line"}


class _Figures(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, str | None]] = []
        self.texts: dict[str, list[str]] = defaultdict(list)
        self.labels: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "svg":
            self.labels.append(found)
        if tag in VOID:
            return
        self.stack.append((tag, found.get("data-k")))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            open_tag, _ = self.stack.pop()
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        for _, key in self.stack:
            if key is not None:
                self.texts[key].append(data)


def figures(html: str) -> dict[str, str]:
    """`data-k` -> the element's text, as shown."""
    parser = _Figures()
    parser.feed(html)
    return {key: "".join(parts).strip() for key, parts in parser.texts.items()}


def svg_labels(html: str) -> list[str]:
    parser = _Figures()
    parser.feed(html)
    return [str(a.get("aria-label")) for a in parser.labels]


def number(text: str) -> int | None:
    """A shown whole number back as an int: "1,234", "+5", "-79" ("–" is unknown)."""
    text = text.strip().replace(",", "").replace("−", "-").rstrip("%")
    return None if text in ("–", "") else int(text)


def stage_figures(story: dict[str, Any]) -> dict[str, int | None]:
    """What the journey page must show, from the API's story JSON (compare=previous)."""
    want: dict[str, int | None] = {
        "story.voices": story["voices"],
        "story.customers": story["customers"],
        "story.unassigned": story["unassigned"],
    }
    if story.get("nps"):
        want["story.nps"] = story["nps"]["score"]
        want["story.nps.answers"] = story["nps"]["answers"]
    if story.get("compare"):
        want["story.voices.change"] = story["compare"]["voices"]["change"]
        want["story.customers.change"] = story["compare"]["customers"]["change"]
    for stage in story["stages"]:
        key = stage["key"]
        want[f"{key}.voices"] = stage["voices"]
        want[f"{key}.customers"] = stage["customers"]
        if stage.get("nps"):
            want[f"{key}.nps"] = stage["nps"]["score"]
            want[f"{key}.nps.answers"] = stage["nps"]["answers"]
        if stage.get("compare"):
            want[f"{key}.voices.change"] = stage["compare"]["voices"]["change"]
            want[f"{key}.customers.change"] = stage["compare"]["customers"]["change"]
            if stage.get("nps") and stage["compare"]["nps_score"]["change"] is not None:
                want[f"{key}.nps.change"] = stage["compare"]["nps_score"]["change"]
    return want


def page_figures(page: dict[str, Any]) -> dict[str, int | None]:
    """What a stage page must show, from the API's stage JSON (compare=previous)."""
    want: dict[str, int | None] = {
        "voices": page["voices"],
        "customers": page["customers"],
        "negative": page["sentiment"]["negative"],
        "neutral": page["sentiment"]["neutral"],
        "positive": page["sentiment"]["positive"],
    }
    if page.get("nps"):
        for name in ("answers", "promoters", "detractors"):
            want[f"nps.{name}"] = page["nps"][name]
        want["nps"] = page["nps"]["score"]
    if page.get("csat"):
        want["csat"] = page["csat"]["score"]
        want["csat.answers"] = page["csat"]["answers"]
    if page.get("compare"):
        for name in ("voices", "customers", "negative", "neutral", "positive"):
            want[f"{name}.change"] = page["compare"][name]["change"]
        if page.get("nps"):
            want["nps.change"] = page["compare"]["nps_score"]["change"]
    for i, phrase in enumerate(page["top_phrases"]):
        want[f"phrase.{i}.count"] = phrase["count"]
    for i, driver in enumerate(page["drivers"]):
        want[f"driver.{i}.nps"] = driver["nps"]
    for channel, voices in page["channels"].items():
        want[f"channel.{channel}"] = voices
    return want


def shown(found: dict[str, str], want: dict[str, int | None]) -> dict[str, int | None]:
    """The page's numbers for the keys the API gives (missing ones as a marker string)."""
    return {key: number(found[key]) if key in found else -(10**9) for key in want}


WEEKS = re.compile(r"last 12 weeks: ([\d, ]+); of them negative: ([\d, ]+)")


def spark_numbers(label: str) -> tuple[list[int], list[int]]:
    match = WEEKS.search(label)
    assert match, label
    return (
        [int(x) for x in match.group(1).split(",")],
        [int(x) for x in match.group(2).split(",")],
    )
