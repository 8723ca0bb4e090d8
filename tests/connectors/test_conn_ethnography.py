"""ethnography: Markdown/TXT notes with front matter, split by paragraph."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.connectors.kit import build, ids, items, rejects, run, write

FIXTURES = Path(__file__).parents[1] / "fixtures" / "connectors"


def fetch(tmp_path: Path, path: str = ".", **config: Any) -> list[Any]:
    return run(build("ethnography", {"path": path, **config}, tmp_path))


def test_field_note_is_split_into_clean_paragraphs(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "field_note.md", tmp_path / "note.md")
    batches = fetch(tmp_path)
    assert [i.text for i in items(batches)] == [
        "She walked twice around the phone display before asking for help; the price tags "
        "did not say which plans were included.",
        '"I just want to know what I pay each month, not a brochure."',
        "Queue of six people at the single open till\n"
        "She almost left, then a staff member opened a second till.",
        "Afterwards she said the contract summary was clear once someone explained it.",
    ]
    assert ids(batches) == [f"lyon-store-0611#p{n}" for n in range(1, 5)]
    first = items(batches)[0]
    assert first.author_ref == "P07"
    assert first.stage_hint == "purchase"
    assert first.occurred_at == datetime(2024, 6, 11, 14, 30, tzinfo=UTC)
    assert first.attributes == {
        "site": "Lyon Part-Dieu",
        "researcher": "M. Okafor",
        "method": "shadowing",
    }
    assert rejects(batches) == []


def test_min_chars_and_default_id(tmp_path: Path) -> None:
    write(
        tmp_path / "visit.txt",
        "---\ndate: 2024-06-01\n---\nOk.\n\nA paragraph long enough to keep.\n",
    )
    batches = fetch(tmp_path)
    assert [(i.external_id, i.text) for i in items(batches)] == [
        ("visit#p1", "A paragraph long enough to keep.")
    ]
    assert items(batches)[0].author_ref is None
    assert items(batches)[0].occurred_at == datetime(2024, 6, 1, tzinfo=UTC)
    assert [i.external_id for i in items(fetch(tmp_path, min_chars=0))] == ["visit#p1", "visit#p2"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("Just words, no front matter at all here.\n", "no YAML front matter"),
        ("---\nparticipant: P1\n---\nWords enough for a paragraph.\n", "missing date"),
        ("---\ndate: soon\n---\nWords enough for a paragraph.\n", "unparseable date 'soon'"),
        ("---\ndate: [2024\n---\nWords enough for a paragraph.\n", "invalid YAML front matter"),
        ("---\n- a list\n---\nWords enough for a paragraph.\n", "front matter is not a mapping"),
    ],
)
def test_bad_file_is_rejected_whole(tmp_path: Path, content: str, reason: str) -> None:
    write(tmp_path / "a-bad.md", content)
    write(tmp_path / "b-good.md", "---\ndate: 2024-06-01\n---\nA paragraph long enough to keep.\n")
    batches = fetch(tmp_path)
    assert ids(batches) == ["b-good#p1"]
    (bad,) = rejects(batches)
    assert reason in bad.reason
    assert bad.location == "a-bad.md"
    assert bad.excerpt


def test_front_matter_list_and_date_attributes(tmp_path: Path) -> None:
    write(
        tmp_path / "n.markdown",
        "---\ndate: 2024-06-01\ntags: [store, queue]\nvisited: 2024-05-30\n---\n"
        "A paragraph long enough to keep.\n",
    )
    (item,) = items(fetch(tmp_path))
    assert item.attributes == {"tags": "store,queue", "visited": "2024-05-30"}


def test_windows_line_ends(tmp_path: Path) -> None:
    text = "---\ndate: 2024-06-01\n---\nFirst paragraph, long enough.\n\nSecond one, long enough.\n"
    write(tmp_path / "n.md", text.replace("\n", "\r\n").encode())
    assert [i.text for i in items(fetch(tmp_path))] == [
        "First paragraph, long enough.",
        "Second one, long enough.",
    ]
