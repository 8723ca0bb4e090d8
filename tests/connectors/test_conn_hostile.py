"""Real, messy exports (issue 13): one bad record never loses the rest of its file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.connectors.kit import build, ids, items, rejects, run, write

SURVEY: dict[str, Any] = {
    "path": "s.csv",
    "id_column": "id",
    "date_column": "at",
    "answers": [{"column": "text"}],
}
OVERFLOWING = ["9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+01:00"]


# --------------------------------------------------------------------------- item 3


def test_huge_csv_cell_is_read_and_the_next_row_too(tmp_path: Path) -> None:
    huge = "x" * 200_000
    write(tmp_path / "s.csv", f'id,at,text\nr1,2024-01-01,"{huge}"\nr2,2024-01-02,after\n')
    batches = run(build("survey_file", SURVEY, tmp_path))
    assert ids(batches) == ["r1:text", "r2:text"]
    assert len(items(batches)[0].text) == 200_000
    assert rejects(batches) == []


@pytest.mark.parametrize("stamp", OVERFLOWING)
def test_survey_date_overflowing_utc_is_one_reject(tmp_path: Path, stamp: str) -> None:
    write(tmp_path / "s.csv", f"id,at,text\nr1,{stamp},lost\nr2,2024-01-02,after\n")
    batches = run(build("survey_file", SURVEY, tmp_path))
    assert ids(batches) == ["r2:text"]
    (bad,) = rejects(batches)
    assert f"date {stamp!r} is out of range once converted to UTC" in bad.reason
    assert bad.location == "s.csv:row 2"


@pytest.mark.parametrize("stamp", OVERFLOWING)
def test_call_row_date_overflowing_utc_is_one_reject(tmp_path: Path, stamp: str) -> None:
    write(
        tmp_path / "c.csv",
        f"call_id,started_at,notes\nc1,{stamp},lost\nc2,2024-01-02,after\n",
    )
    batches = run(build("call_notes", {"path": "c.csv"}, tmp_path))
    assert ids(batches) == ["c2"]
    (bad,) = rejects(batches)
    assert "out of range once converted to UTC" in bad.reason


@pytest.mark.parametrize("stamp", OVERFLOWING)
@pytest.mark.parametrize("quoted", [True, False])  # a string, or a YAML timestamp
def test_front_matter_date_overflowing_utc_rejects_only_that_file(
    tmp_path: Path, stamp: str, quoted: bool
) -> None:
    value = f'"{stamp}"' if quoted else stamp
    write(tmp_path / "calls/a.txt", f"---\ndate: {value}\n---\nCustomer: lost\n")
    write(tmp_path / "calls/b.txt", "---\ndate: 2024-01-02\n---\nCustomer: kept\n")
    write(tmp_path / "notes/a.md", f"---\ndate: {value}\n---\nA paragraph long enough to keep.\n")
    write(tmp_path / "notes/b.md", "---\ndate: 2024-01-02\n---\nA paragraph long enough too.\n")
    calls = run(build("call_notes", {"path": "calls"}, tmp_path))
    notes = run(build("ethnography", {"path": "notes"}, tmp_path))
    assert ids(calls) == ["b"]
    assert ids(notes) == ["b#p1"]
    for batches in (calls, notes):
        (bad,) = rejects(batches)
        assert "out of range once converted to UTC" in bad.reason
        assert (bad.location or "").endswith("a.txt" if batches is calls else "a.md")


def test_yaml_impossible_date_is_a_clear_reject(tmp_path: Path) -> None:
    write(tmp_path / "a.md", "---\ndate: 2024-02-30\n---\nA paragraph long enough to keep.\n")
    write(tmp_path / "b.md", "---\ndate: 2024-02-28\n---\nA paragraph long enough to keep.\n")
    batches = run(build("ethnography", {"path": "."}, tmp_path))
    assert ids(batches) == ["b#p1"]
    (bad,) = rejects(batches)
    assert "invalid value in YAML front matter: day is out of range for month" in bad.reason


@pytest.mark.parametrize("stamp", OVERFLOWING)
def test_social_created_at_overflowing_utc_is_one_reject(tmp_path: Path, stamp: str) -> None:
    lines = [
        json.dumps({"id": "1", "created_at": stamp, "content": "<p>lost</p>"}),
        json.dumps({"id": "2", "created_at": "2024-01-02T00:00:00Z", "content": "<p>kept</p>"}),
    ]
    write(tmp_path / "s.ndjson", "\n".join(lines) + "\n")
    batches = run(build("social_export", {"path": "s.ndjson"}, tmp_path))
    assert ids(batches) == ["2"]
    (bad,) = rejects(batches)
    assert "out of range once converted to UTC" in bad.reason
    assert bad.location == "s.ndjson:line 1"


@pytest.mark.parametrize("line", ['{"id": ' + "9" * 5000 + "}", "[" * 100_000])
def test_ndjson_line_json_refuses_is_one_reject(tmp_path: Path, line: str) -> None:
    good = json.dumps({"id": "2", "created_at": "2024-01-02T00:00:00Z", "content": "kept"})
    write(tmp_path / "s.ndjson", f"{line}\n{good}\n")
    batches = run(build("social_export", {"path": "s.ndjson"}, tmp_path))
    assert ids(batches) == ["2"]
    (bad,) = rejects(batches)
    assert bad.location == "s.ndjson:line 1"
    assert "JSON" in bad.reason
