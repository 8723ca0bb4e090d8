"""survey_file: CSV and JSON survey exports."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.errors import ConfigError
from tests.connectors.kit import build, ids, items, rejects, run, write

CONFIG: dict[str, Any] = {
    "path": "survey.csv",
    "id_column": "id",
    "date_column": "submitted",
    "score_column": "nps",
    "rating_scale": "nps_0_10",
    "customer_column": "customer",
    "answers": [
        {"column": "like", "question": "What did you like?", "stage": "onboard"},
        {"column": "improve"},
    ],
    "attributes": ["plan", "region"],
}
HEADER = "id,submitted,nps,customer,plan,region,like,improve"


def fetch_csv(tmp_path: Path, *rows: str, **overrides: Any) -> list[Any]:
    write(tmp_path / "survey.csv", "\n".join([HEADER, *rows]) + "\n")
    return run(build("survey_file", {**CONFIG, **overrides}, tmp_path))


def test_one_item_per_non_empty_answer(tmp_path: Path) -> None:
    batches = fetch_csv(
        tmp_path,
        'r1,2024-03-05,9,cust-1,pro,EU,"Easy setup, really",Cheaper please',
        "r2,2024-03-06T10:30:00+02:00,,cust-2,free,US,  ,",
        "r3,2024-03-07T08:00:00,4,,free,US,,Invoices are confusing",
    )
    got = items(batches)
    assert [i.external_id for i in got] == ["r1:like", "r1:improve", "r3:improve"]
    first, second, third = got
    assert first.text == "Easy setup, really"
    assert first.rating == 9.0
    assert first.rating_scale == "nps_0_10"
    assert first.author_ref == "cust-1"
    assert first.stage_hint == "onboard"
    assert first.attributes == {"question": "What did you like?", "plan": "pro", "region": "EU"}
    assert second.stage_hint is None
    assert second.attributes["question"] == "improve"  # defaults to the column
    assert first.occurred_at == datetime(2024, 3, 5, tzinfo=UTC)  # date alone: midnight UTC
    assert third.occurred_at == datetime(2024, 3, 7, 8, tzinfo=UTC)  # naive: UTC
    assert third.author_ref is None
    assert rejects(batches) == []


def test_empty_score_gives_no_rating_and_no_scale(tmp_path: Path) -> None:
    batches = fetch_csv(tmp_path, "r1,2024-03-05,,c,pro,EU,Nice,")
    (item,) = items(batches)
    assert item.rating is None
    assert item.rating_scale is None


@pytest.mark.parametrize("marker", ["N/A", "n/a", "-", "#N/A", "Not answered"])
def test_a_score_marked_not_given_keeps_the_answer(tmp_path: Path, marker: str) -> None:
    batches = fetch_csv(tmp_path, f"r1,2024-03-05,{marker},c,pro,EU,Nice,")
    (item,) = items(batches)
    assert item.rating is None
    assert rejects(batches) == []


def test_offset_is_converted_to_utc(tmp_path: Path) -> None:
    batches = fetch_csv(tmp_path, "r1,2024-03-06T10:30:00+02:00,7,c,pro,EU,Nice,")
    (item,) = items(batches)
    assert item.occurred_at == datetime(2024, 3, 6, 8, 30, tzinfo=UTC)
    assert item.occurred_at.tzinfo is UTC


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (",2024-03-05,9,c,pro,EU,Lost,", "missing response id (column 'id')"),
        ("r9,05/03/2024,9,c,pro,EU,Lost,", "unparseable date '05/03/2024'"),
        ("r9,,9,c,pro,EU,Lost,", "missing date in column 'submitted'"),
        ("r9,2024-03-05,nine,c,pro,EU,Lost,", "non-numeric score 'nine' in column 'nps'"),
        ("r9,2024-03-05,nan,c,pro,EU,Lost,", "non-numeric score 'nan'"),
        ("r9,2024-03-05,9,c,pro,EU,Lost,,extra", "row has 9 cells but the header has 8"),
    ],
)
def test_bad_row_is_one_reject_and_the_run_goes_on(tmp_path: Path, row: str, reason: str) -> None:
    batches = fetch_csv(
        tmp_path,
        "r1,2024-03-05,9,c,pro,EU,Good,Also good",
        row,
        "r2,2024-03-05,8,c,pro,EU,Fine,",
    )
    assert ids(batches) == ["r1:like", "r1:improve", "r2:like"]
    (bad,) = rejects(batches)
    assert reason in bad.reason
    assert bad.location == "survey.csv:row 3"
    assert "Lost" in bad.excerpt


def test_header_without_a_configured_column_rejects_the_file(tmp_path: Path) -> None:
    write(tmp_path / "survey.csv", "id,submitted,nps,like\nr1,2024-03-05,9,Good\n")
    batches = run(build("survey_file", CONFIG, tmp_path))
    assert items(batches) == []
    (bad,) = rejects(batches)
    assert "'improve'" in bad.reason
    assert "not in the CSV header" in bad.reason


def test_truncated_csv_keeps_rows_before_the_break(tmp_path: Path) -> None:
    write(
        tmp_path / "survey.csv",
        HEADER + '\nr1,2024-03-05,9,c,pro,EU,Good,\nr2,2024-03-05,9,c,pro,EU,"Cut in the mi',
    )
    batches = run(build("survey_file", CONFIG, tmp_path))
    assert ids(batches) == ["r1:like"]
    (bad,) = rejects(batches)
    assert "malformed CSV" in bad.reason


def test_bom_is_tolerated(tmp_path: Path) -> None:
    write(
        tmp_path / "survey.csv", ("\ufeff" + HEADER + "\nr1,2024-03-05,9,c,p,EU,Good,\n").encode()
    )
    assert ids(run(build("survey_file", CONFIG, tmp_path))) == ["r1:like"]


def test_undecodable_file_is_rejected_not_raised(tmp_path: Path) -> None:
    write(
        tmp_path / "data/a.csv",
        (HEADER + "\nr1,2024-03-05,9,c,p,EU,Caf\xe9 bad,\n").encode("latin-1"),
    )
    write(tmp_path / "data/b.csv", HEADER + "\nr2,2024-03-05,9,c,p,EU,Good,\n")
    config = {**CONFIG, "path": "data", "encoding": "utf-8"}
    batches = run(build("survey_file", config, tmp_path))
    assert ids(batches) == ["r2:like"]
    (bad,) = rejects(batches)
    assert "not valid UTF-8" in bad.reason
    assert bad.location is not None
    assert bad.location.startswith("a.csv:byte ")
    assert "Caf" in bad.excerpt


@pytest.mark.parametrize("codec", ["cp1252", "utf-16"])
def test_excel_exports_are_read_by_default(tmp_path: Path, codec: str) -> None:
    row = "r1,2024-03-05,9,c,p,EU,Caf\u00e9 \u2013 \u20ac5 too dear,\r\n"
    write(tmp_path / "survey.csv", (HEADER + "\r\n" + row).encode(codec))
    batches = run(build("survey_file", CONFIG, tmp_path))
    assert [i.text for i in items(batches)] == ["Caf\u00e9 \u2013 \u20ac5 too dear"]
    assert rejects(batches) == []


@pytest.mark.parametrize("wrapped", [True, False])
def test_json_array_or_responses_object(tmp_path: Path, wrapped: bool) -> None:
    rows = [
        {"id": 17, "submitted": "2024-03-05T09:00:00Z", "nps": 10, "like": "All of it"},
        {"id": "r2", "submitted": "2024-03-05", "nps": "oops", "like": "x"},
        "not an object",
    ]
    write(tmp_path / "s.json", json.dumps({"responses": rows} if wrapped else rows))
    batches = run(build("survey_file", {**CONFIG, "path": "s.json"}, tmp_path))
    (item,) = items(batches)
    assert item.external_id == "17:like"
    assert item.rating == 10.0
    assert item.author_ref is None
    assert [r.location for r in rejects(batches)] == ["s.json:record 2", "s.json:record 3"]
    assert "non-numeric score 'oops'" in rejects(batches)[0].reason
    assert rejects(batches)[0].external_id == "r2"


def test_truncated_json_is_one_reject(tmp_path: Path) -> None:
    write(tmp_path / "s.json", '[{"id": "r1", "submitted": "2024-03-05", "like": "Go')
    batches = run(build("survey_file", {**CONFIG, "path": "s.json"}, tmp_path))
    assert items(batches) == []
    (bad,) = rejects(batches)
    assert bad.reason.startswith("invalid JSON at line 1")


def test_rating_scale_required_with_score_column(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="rating_scale is required"):
        build("survey_file", {**CONFIG, "rating_scale": None}, tmp_path)


def test_answers_must_not_be_empty(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="answers"):
        build("survey_file", {**CONFIG, "answers": []}, tmp_path)


def test_answer_entries_reject_unknown_keys(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"answers\.0\.stag"):
        build("survey_file", {**CONFIG, "answers": [{"column": "like", "stag": "x"}]}, tmp_path)
