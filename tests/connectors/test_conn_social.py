"""social_export: Mastodon statuses, HTML to text, boosts and replies."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.html_text import html_to_text
from tests.connectors.kit import build, ids, items, rejects, run, write

FIXTURE = Path(__file__).parents[1] / "fixtures" / "connectors" / "mastodon_statuses.json"
FIRST, BOOST, REPLY, MEDIA, TAGGED = (f"11100000000000000{n}" for n in range(1, 6))


def fetch(tmp_path: Path, **config: Any) -> list[Any]:
    shutil.copy(FIXTURE, tmp_path / "statuses.json")
    return run(build("social_export", {"path": "statuses.json", **config}, tmp_path))


def test_statuses_become_items_with_author_and_attributes(tmp_path: Path) -> None:
    batches = fetch(tmp_path)
    assert ids(batches) == [FIRST, REPLY, TAGGED]  # boost skipped, media-only post has no words
    first = items(batches)[0]
    assert first.text == (
        "Tried to pay my bill & the page froze again.\nSecond time this week!\n\n"
        "Screenshot: https://example.com/shots/froze-again.png #Billing cc @acme"
    )
    assert first.author_ref == "ana@example.social"
    assert first.occurred_at == datetime(2024, 4, 2, 9, 15, 30, tzinfo=UTC)
    assert first.attributes == {
        "url": "https://example.social/@ana/111000000000000001",
        "language": "en",
        "tags": "billing",
        "favourites": 4,
        "favourites_count": 4,
        "reblogs_count": 1,
        "replies_count": None,
    }
    assert first.channel is None
    assert rejects(batches) == []


def test_replies_kept_by_default_and_marked(tmp_path: Path) -> None:
    reply = items(fetch(tmp_path))[1]
    assert reply.text == "@ana Même chose pour moi, l'appli plante au paiement."
    assert reply.attributes["in_reply_to_id"] == FIRST
    assert reply.attributes["tags"] is None
    assert reply.occurred_at == datetime(2024, 4, 2, 9, 30, tzinfo=UTC)


def test_replies_can_be_dropped(tmp_path: Path) -> None:
    assert ids(fetch(tmp_path, include_replies=False)) == [FIRST, TAGGED]


def test_boosts_included_on_request_with_the_original_words(tmp_path: Path) -> None:
    batches = fetch(tmp_path, include_boosts=True)
    assert ids(batches) == [FIRST, BOOST, REPLY, TAGGED]
    boost = items(batches)[1]
    assert boost.text == "Tried to pay my bill & the page froze again."
    assert boost.author_ref == "ana@example.social"
    assert boost.attributes["boosted_by"] == "bo"
    assert boost.attributes["boost_of"] == FIRST


def test_stage_by_tag_is_case_and_hash_insensitive(tmp_path: Path) -> None:
    batches = fetch(tmp_path, stage_by_tag={"#BILLING": "billing", "onboarding": "onboard"})
    hints = {i.external_id: i.stage_hint for i in items(batches)}
    assert hints == {FIRST: "billing", REPLY: None, TAGGED: "onboard"}
    assert items(batches)[2].attributes["tags"] == "happy,onboarding"


def _line(**status: Any) -> str:
    base = {"id": "1", "created_at": "2024-04-01T00:00:00Z", "content": "<p>hi there</p>"}
    return json.dumps({**base, **status})


def test_ndjson_bad_lines_are_rejected_and_the_rest_come_through(tmp_path: Path) -> None:
    lines = [
        _line(id="1"),
        '{"id": "2", "content": "<p>cut',
        "",
        _line(id=None),
        _line(id="4", created_at="yesterday"),
        _line(id="5", content=["not", "html"]),
        "[1, 2]",
        _line(id=6),
    ]
    write(tmp_path / "s.ndjson", "\n".join(lines))
    batches = run(build("social_export", {"path": "s.ndjson"}, tmp_path))
    assert ids(batches) == ["1", "6"]
    got = [(r.location, r.reason) for r in rejects(batches)]
    assert got[0][0] == "s.ndjson:line 2"
    assert got[0][1].startswith("invalid JSON line")
    assert got[1] == ("s.ndjson:line 4", "missing status `id`")
    assert got[2][0] == "s.ndjson:line 5"
    assert "unparseable date 'yesterday'" in got[2][1]
    assert rejects(batches)[2].external_id == "4"
    assert got[3] == ("s.ndjson:line 6", "`content` is not a string (list)")
    assert got[4] == ("s.ndjson:line 7", "status is not a JSON object (list)")


def test_json_file_must_be_an_array(tmp_path: Path) -> None:
    write(tmp_path / "s.json", _line())
    batches = run(build("social_export", {"path": "s.json"}, tmp_path))
    assert items(batches) == []
    (bad,) = rejects(batches)
    assert "expected a JSON array of statuses" in bad.reason


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>One</p><p>Two</p>", "One\n\nTwo"),
        ("line one<br>line two<br/>three", "line one\nline two\nthree"),
        ("Fish &amp; chips &lt;3 &#x1F600; caf&eacute;", "Fish & chips <3 😀 café"),
        ('<a href="https://x.example/a">the <b>link</b> text</a>', "the link text"),
        ("<p>  lots   of\n\n spaces </p>", "lots of spaces"),
        ("<p>Hi</p><script>alert(1)</script><style>p{}</style>", "Hi"),
        ("<ul><li>first</li><li>second</li></ul>", "first\nsecond"),
        (
            "<p>Intro</p>\n<ul>\n  <li>first</li>\n  <li>second</li>\n</ul>",
            "Intro\n\nfirst\nsecond",
        ),
        ("plain text, no tags", "plain text, no tags"),
        ("", ""),
    ],
)
def test_html_to_text(html: str, text: str) -> None:
    assert html_to_text(html) == text
