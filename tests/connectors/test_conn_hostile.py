"""Real, messy exports (issue 13): one bad record never loses the rest of its file."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from connectors.errors import FatalError
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
        assert bad.location == ("a.txt" if batches is calls else "a.md")


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


# --------------------------------------------------------------------------- item 11

CALLS = {"path": "calls"}


def _calls(tmp_path: Path, **config: Any) -> list[Any]:
    return run(build("call_notes", {**CALLS, **config}, tmp_path))


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A file outside the source folder, e.g. /etc/passwd."""
    return write(tmp_path / "outside/passwd.txt", "Customer: root:x:0:0:root:/root:/bin/bash\n")


def test_symlink_out_of_the_folder_is_skipped_and_logged(
    tmp_path: Path, secret: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write(tmp_path / "calls/a.txt", "Customer: my bill is wrong\n")
    (tmp_path / "calls").joinpath("passwd.txt").symlink_to(secret)
    (tmp_path / "calls").joinpath("etc").symlink_to(secret.parent, target_is_directory=True)
    for follow in (False, True):
        caplog.clear()
        batches = _calls(tmp_path, follow_symlinks=follow)
        assert ids(batches) == ["a"]
        assert rejects(batches) == []
        assert "root:x" not in repr(batches)
        assert list(batches[-1].cursor["files"]) == ["a.txt"]
        assert "skipped symbolic link passwd.txt" in caplog.text
        assert "skipped symbolic link etc" in caplog.text
        assert str(tmp_path) not in caplog.text


def test_follow_symlinks_reads_links_inside_the_root(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write(tmp_path / "calls/real/a.txt", "Customer: my bill is wrong\n")
    (tmp_path / "calls/alias.txt").symlink_to(tmp_path / "calls/real/a.txt")
    (tmp_path / "calls/real/loop").symlink_to(tmp_path / "calls", target_is_directory=True)
    assert list(_calls(tmp_path)[-1].cursor["files"]) == ["real/a.txt"]
    caplog.clear()
    followed = _calls(tmp_path, follow_symlinks=True)
    assert list(followed[-1].cursor["files"]) == ["alias.txt", "real/a.txt"]
    assert "skipped symbolic link real/loop: its folder is read already" in caplog.text


def test_symlinked_file_named_by_path_is_fatal_unless_followed(
    tmp_path: Path, secret: Path
) -> None:
    write(tmp_path / "calls/a.txt", "Customer: my bill is wrong\n")
    (tmp_path / "calls/b.txt").symlink_to(tmp_path / "calls/a.txt")
    (tmp_path / "calls/c.txt").symlink_to(secret)
    with pytest.raises(FatalError, match="symbolic link.*follow_symlinks: true") as info:
        _calls(tmp_path, path="calls/b.txt")
    assert str(tmp_path) not in str(info.value)
    assert ids(_calls(tmp_path, path="calls/b.txt", follow_symlinks=True)) == ["b"]
    with pytest.raises(FatalError, match="outside its folder"):
        _calls(tmp_path, path="calls/c.txt", follow_symlinks=True)


def test_glob_skips_symlinks_too(tmp_path: Path, secret: Path) -> None:
    write(tmp_path / "calls/a.txt", "Customer: my bill is wrong\n")
    (tmp_path / "calls/passwd.txt").symlink_to(secret)
    assert ids(_calls(tmp_path, path="calls/*.txt")) == ["a"]
    assert ids(_calls(tmp_path, path="calls/*.txt", follow_symlinks=True)) == ["a"]


def test_fifo_is_not_read(tmp_path: Path) -> None:
    write(tmp_path / "calls/a.txt", "Customer: my bill is wrong\n")
    os.mkfifo(tmp_path / "calls/pipe.txt")
    assert ids(_calls(tmp_path)) == ["a"]
