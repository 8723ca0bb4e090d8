"""call_notes: note rows and transcripts (customer turns only)."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.errors import ConfigError
from tests.connectors.kit import build, ids, items, rejects, run, write

FIXTURES = Path(__file__).parents[1] / "fixtures" / "connectors"


def fetch(tmp_path: Path, path: str, **config: Any) -> list[Any]:
    return run(build("call_notes", {"path": path, **config}, tmp_path))


def test_csv_rows_with_default_fields_and_reason_stages(tmp_path: Path) -> None:
    write(
        tmp_path / "calls.csv",
        "call_id,started_at,customer_id,reason,notes,agent_team\n"
        "c1,2024-05-01T09:00:00Z,cust-1,  BILLING ,Charged twice,tier-1\n"
        "c2,2024-05-01T10:00:00,,Other,Asked about stores,tier-2\n"
        "c3,2024-05-01T11:00:00,cust-3,billing,,tier-1\n",
    )
    batches = fetch(
        tmp_path, "calls.csv", reason_stages={"Billing": "billing"}, attributes=["agent_team"]
    )
    assert ids(batches) == ["c1", "c2"]  # c3 has no notes: nothing was heard
    c1, c2 = items(batches)
    assert c1.text == "Charged twice"
    assert c1.author_ref == "cust-1"
    assert c1.stage_hint == "billing"
    assert c1.attributes == {"agent_team": "tier-1", "reason": "BILLING"}
    assert c1.occurred_at == datetime(2024, 5, 1, 9, tzinfo=UTC)
    assert c2.author_ref is None
    assert c2.stage_hint is None
    assert rejects(batches) == []


def test_custom_field_names_and_json_rows(tmp_path: Path) -> None:
    rows = {"calls": [{"id": 7, "at": "2024-05-01", "summary": "Wants to upgrade", "who": "u7"}]}
    write(tmp_path / "calls.json", json.dumps(rows))
    batches = fetch(
        tmp_path,
        "calls.json",
        id_field="id",
        date_field="at",
        text_field="summary",
        customer_field="who",
        reason_field=None,
    )
    (item,) = items(batches)
    assert (item.external_id, item.text, item.author_ref) == ("7", "Wants to upgrade", "u7")
    assert item.attributes == {}


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (",2024-05-01,c,Billing,no id", "missing call id (field 'call_id')"),
        (
            "c9,tomorrow,c,Billing,bad date",
            "unparseable date 'tomorrow' (expected ISO 8601; set date_format or dayfirst) in field",
        ),
    ],
)
def test_bad_rows_are_rejected(tmp_path: Path, row: str, reason: str) -> None:
    write(
        tmp_path / "calls.csv",
        f"call_id,started_at,customer_id,reason,notes\n{row}\nc1,2024-05-01,c,x,fine\n",
    )
    batches = fetch(tmp_path, "calls.csv")
    assert ids(batches) == ["c1"]
    (bad,) = rejects(batches)
    assert reason in bad.reason
    assert bad.location == "calls.csv:row 2"


def test_vtt_keeps_only_customer_turns_with_note_metadata(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "call_transcript.vtt", tmp_path / "t.vtt")
    batches = fetch(tmp_path, "t.vtt", reason_stages={"billing dispute": "billing"})
    (item,) = items(batches)
    assert item.external_id == "CALL-7731"
    assert item.text == (
        "Hi, I was charged twice for March and I'd like a refund. "
        "It's the second time & I'm annoyed.\nThanks, that would help."
    )
    assert "Sam" not in item.text
    assert item.occurred_at == datetime(2024, 5, 14, 14, 2, tzinfo=UTC)
    assert item.author_ref == "cust-0042"
    assert item.stage_hint == "billing"
    assert item.attributes == {"queue": "tier-1", "reason": "Billing dispute"}


def test_txt_transcript_with_front_matter_and_labelled_caller(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "call_transcript.txt", tmp_path / "t.txt")
    (item,) = items(fetch(tmp_path, "t.txt"))
    assert item.external_id == "CALL-7732"
    assert item.text == (
        "The new router will not connect, I followed the guide twice.\nThe orange one."
    )
    assert item.occurred_at == datetime(2024, 5, 15, tzinfo=UTC)
    assert item.author_ref == "cust-0107"
    assert item.attributes == {"reason": "setup"}


def test_transcript_without_metadata_uses_file_name_and_mtime(tmp_path: Path) -> None:
    path = write(tmp_path / "call-0099.txt", "agent: hello\nCUSTOMER: my bill is wrong\n")
    stamp = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp()
    os.utime(path, (stamp, stamp))
    (item,) = items(fetch(tmp_path, "call-0099.txt"))
    assert item.external_id == "call-0099"
    assert item.occurred_at == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert item.text == "my bill is wrong"


def test_vtt_with_speaker_prefixes(tmp_path: Path) -> None:
    write(
        tmp_path / "t.vtt",
        "WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\nAgent: Hello\n\n"
        "2\n00:00:02.000 --> 00:00:03.000\nCaller: I cannot log in\n",
    )
    (item,) = items(fetch(tmp_path, "t.vtt"))
    assert item.external_id == "t"
    assert item.text == "I cannot log in"


def test_custom_customer_speakers(tmp_path: Path) -> None:
    write(tmp_path / "t.txt", "Rep: Hi\nClient: The parcel never came\nCustomer: ignored\n")
    (item,) = items(fetch(tmp_path, "t.txt", customer_speakers=["Client"]))
    assert item.text == "The parcel never came"


def test_transcript_without_customer_turns_is_rejected(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "Agent: Hello?\nAgent: Anyone there?\n")
    write(tmp_path / "b.txt", "Customer: Hello, my order is late\n")
    batches = fetch(tmp_path, ".")
    assert ids(batches) == ["b"]
    (bad,) = rejects(batches)
    assert "no customer turns" in bad.reason
    assert "speakers found: Agent" in bad.reason
    assert bad.external_id == "a"
    assert bad.location == "a.txt"


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("t.vtt", "00:00:01.000 --> 00:00:02.000\nCustomer: hi\n", "not a WebVTT file"),
        ("t.txt", "---\ndate: last tuesday\n---\nCustomer: hi\n", "unparseable date"),
        ("t.txt", "---\ndate: [unclosed\n---\nCustomer: hi\n", "invalid YAML front matter"),
    ],
)
def test_broken_transcripts_are_rejected(
    tmp_path: Path, name: str, content: str, reason: str
) -> None:
    write(tmp_path / name, content)
    batches = fetch(tmp_path, name)
    assert items(batches) == []
    (bad,) = rejects(batches)
    assert reason in bad.reason


def test_customer_speakers_must_not_be_empty(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="customer_speakers"):
        build("call_notes", {"path": ".", "customer_speakers": []}, tmp_path)
