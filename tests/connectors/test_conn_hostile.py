"""Real, messy exports (issue 13): one bad record never loses the rest of its file."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.errors import ConfigError, FatalError
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


def test_csv_row_with_a_stray_quote_is_one_reject(tmp_path: Path) -> None:
    write(
        tmp_path / "s.csv",
        'id,at,text\nr1,2024-01-01,"He said "hi" twice"\nr2,2024-01-02,after\n'
        'r3,2024-01-03,"two\nlines"oops\nr4,2024-01-04,"fine ""quoted"" text"\n',
    )
    batches = run(build("survey_file", SURVEY, tmp_path))
    assert ids(batches) == ["r2:text", "r4:text"]
    assert items(batches)[1].text == 'fine "quoted" text'
    first, second = rejects(batches)
    assert first.location == "s.csv:row 2"
    assert "malformed CSV row" in first.reason
    assert 'must be doubled: ""' in first.reason
    assert first.excerpt == 'r1,2024-01-01,"He said "hi" twice"'
    assert second.location == "s.csv:row 4"
    assert second.excerpt == 'r3,2024-01-03,"two\nlines"oops'


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


# --------------------------------------------------------------------------- item 12

TELECOM = "id,at,text\nr1,21/04/2018 20:09,Line dropped again\nr2,2018-04-05,Fine\n"


def test_day_first_export_is_quarantined_with_a_fix_by_default(tmp_path: Path) -> None:
    write(tmp_path / "s.csv", TELECOM)
    batches = run(build("survey_file", SURVEY, tmp_path))
    assert ids(batches) == ["r2:text"]
    (bad,) = rejects(batches)
    assert bad.reason == (
        "unparseable date '21/04/2018 20:09' (expected ISO 8601; set date_format or dayfirst)"
        " in column 'at'"
    )


@pytest.mark.parametrize(
    "style", [{"date_format": "%d/%m/%Y %H:%M"}, {"dayfirst": True}], ids=["format", "dayfirst"]
)
def test_day_first_dates_with_date_format_or_dayfirst(tmp_path: Path, style: Any) -> None:
    write(tmp_path / "s.csv", TELECOM)
    batches = run(build("survey_file", {**SURVEY, **style}, tmp_path))
    assert rejects(batches) == []
    first, second = items(batches)
    assert first.occurred_at == datetime(2018, 4, 21, 20, 9, tzinfo=UTC)
    assert second.occurred_at == datetime(2018, 4, 5, tzinfo=UTC)  # ISO: not 4 May
    assert first.occurred_at.tzinfo is UTC


def test_timezone_applies_to_times_without_offset(tmp_path: Path) -> None:
    write(
        tmp_path / "s.csv",
        "id,at,text\nr1,21/04/2018 20:09,BST\nr2,21/01/2018 20:09,GMT\n"
        "r3,2018-04-21T20:09:00+02:00,offset wins\nr4,21/04/2018,date alone\n",
    )
    config = {**SURVEY, "dayfirst": True, "timezone": "Europe/London"}
    got = [i.occurred_at for i in items(run(build("survey_file", config, tmp_path)))]
    assert got == [
        datetime(2018, 4, 21, 19, 9, tzinfo=UTC),
        datetime(2018, 1, 21, 20, 9, tzinfo=UTC),
        datetime(2018, 4, 21, 18, 9, tzinfo=UTC),
        datetime(2018, 4, 20, 23, 0, tzinfo=UTC),  # midnight in London
    ]
    assert all(t.tzinfo is UTC for t in got)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("21/04", "incomplete date '21/04': it needs a day, a month and a year"),
        ("21/04/2018 20:09 EST", "unknown time zone 'EST'"),
        ("someday", "unparseable date 'someday' (expected a day-first date or ISO 8601)"),
    ],
)
def test_dayfirst_refuses_what_dateutil_would_guess(
    tmp_path: Path, value: str, reason: str
) -> None:
    write(tmp_path / "s.csv", f"id,at,text\nr1,{value},lost\nr2,2018/04/05,kept\n")
    batches = run(build("survey_file", {**SURVEY, "dayfirst": True}, tmp_path))
    assert [i.occurred_at for i in items(batches)] == [datetime(2018, 4, 5, tzinfo=UTC)]
    (bad,) = rejects(batches)
    assert reason in bad.reason


def test_date_format_mismatch_says_what_was_expected(tmp_path: Path) -> None:
    write(tmp_path / "s.csv", "id,at,text\nr1,2018.04.21,lost\n")
    (bad,) = rejects(run(build("survey_file", {**SURVEY, "date_format": "%d/%m/%Y"}, tmp_path)))
    assert "expected date_format '%d/%m/%Y' or ISO 8601" in bad.reason


def test_every_file_kind_reads_configured_dates(tmp_path: Path) -> None:
    style = {"dayfirst": True, "timezone": "Europe/Paris"}
    write(tmp_path / "calls/a.csv", "call_id,started_at,notes\nc1,21/04/2018 20:09,Slow line\n")
    write(tmp_path / "calls/b.txt", "---\ndate: 21/04/2018 20:09\n---\nCustomer: Slow line\n")
    write(tmp_path / "calls/c.txt", "---\ndate: 2018-04-21 20:09:00\n---\nCustomer: YAML\n")
    write(tmp_path / "notes/a.md", "---\ndate: 21/04/2018 20:09\n---\nA long enough paragraph.\n")
    status = {"id": "1", "created_at": "21/04/2018 20:09", "content": "Slow line"}
    write(tmp_path / "social/a.ndjson", json.dumps(status) + "\n")
    expected = datetime(2018, 4, 21, 18, 9, tzinfo=UTC)
    for kind, folder, count in [
        ("call_notes", "calls", 3),
        ("ethnography", "notes", 1),
        ("social_export", "social", 1),
    ]:
        batches = run(build(kind, {"path": folder, **style}, tmp_path))
        assert rejects(batches) == []
        assert [i.occurred_at for i in items(batches)] == [expected] * count


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        ({"timezone": "../../etc/passwd"}, "unknown time zone"),
        ({"date_format": "dd/mm/yyyy"}, "has no strftime directive"),
        ({"date_format": "%d/%m/%Y", "dayfirst": True}, "set date_format or dayfirst, not both"),
    ],
)
def test_date_settings_are_checked_at_config_load(
    tmp_path: Path, config: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        build("survey_file", {**SURVEY, **config}, tmp_path)


# --------------------------------------------------------------------------- item 15

TOUCHPOINTS = {
    "hint_column": "touchpoint",
    "hint_values": {"Order": "purchase", "Installation": "onboard", "First bill": "billing"},
}


def test_survey_hint_from_a_column_value(tmp_path: Path) -> None:
    write(
        tmp_path / "s.csv",
        "id,at,touchpoint,like,text\n"
        "r1,2024-01-01, order ,,Took ages\n"
        "r2,2024-01-02,FIRST BILL,,Too high\n"
        "r3,2024-01-03,Moving house,,Lost my box\n"
        "r4,2024-01-04,,,No touchpoint\n"
        "r5,2024-01-05,First bill,Nice engineer,Confusing bill\n",
    )
    answers = [{"column": "like", "stage": "onboard"}, {"column": "text"}]
    config = {**SURVEY, **TOUCHPOINTS, "answers": answers}
    got = items(run(build("survey_file", config, tmp_path)))
    assert [(i.external_id, i.stage_hint, i.hint_value) for i in got] == [
        ("r1:text", "purchase", "order"),
        ("r2:text", "billing", "FIRST BILL"),
        ("r3:text", None, "Moving house"),  # unmapped: counted by ingest
        ("r4:text", None, None),  # no value, no lookup
        ("r5:like", "onboard", "First bill"),  # the question's own stage wins
        ("r5:text", "billing", "First bill"),
    ]
    assert [i.attributes["touchpoint"] for i in got] == [
        "order",
        "FIRST BILL",
        "Moving house",
        None,
        "First bill",
        "First bill",
    ]


def test_call_notes_hint_column_in_rows_and_transcripts(tmp_path: Path) -> None:
    write(
        tmp_path / "calls/a.csv",
        "call_id,started_at,reason,touchpoint,notes\n"
        "c1,2024-01-01,Fault,Installation,Engineer never came\n",
    )
    write(
        tmp_path / "calls/b.txt",
        "---\ncall_id: c2\ndate: 2024-01-02\ntouchpoint: order\n---\nCustomer: Where is it?\n",
    )
    write(
        tmp_path / "calls/c.vtt",
        "WEBVTT\n\nNOTE\ncall_id: c3\nTouchpoint: In use\n\n"
        "00:00:01.000 --> 00:00:02.000\n<v Customer>It keeps buffering\n",
    )
    got = items(run(build("call_notes", {"path": "calls", **TOUCHPOINTS}, tmp_path)))
    assert [(i.external_id, i.stage_hint, i.hint_value) for i in got] == [
        ("c1", "onboard", "Installation"),
        ("c2", "purchase", "order"),
        ("c3", None, "In use"),
    ]
    assert got[0].attributes == {"reason": "Fault", "touchpoint": "Installation"}
    assert got[2].attributes["touchpoint"] == "In use"


def test_call_reason_stages_set_the_hint_value(tmp_path: Path) -> None:
    write(
        tmp_path / "c.csv",
        "call_id,started_at,reason,notes\nc1,2024-01-01, billing ,a\nc2,2024-01-01,Other,b\n"
        "c3,2024-01-01,,c\n",
    )
    got = items(
        run(
            build(
                "call_notes", {"path": "c.csv", "reason_stages": {"Billing": "billing"}}, tmp_path
            )
        )
    )
    assert [(i.stage_hint, i.hint_value) for i in got] == [
        ("billing", "billing"),
        (None, "Other"),
        (None, None),
    ]
    plain = items(run(build("call_notes", {"path": "c.csv"}, tmp_path)))
    assert [i.hint_value for i in plain] == [None, None, None]  # no map: no lookup


def test_social_tags_and_hint_value(tmp_path: Path) -> None:
    def status(sid: str, *tags: str) -> str:
        return json.dumps(
            {
                "id": sid,
                "created_at": "2024-01-01T00:00:00Z",
                "content": "words",
                "tags": [{"name": t} for t in tags],
            }
        )

    write(
        tmp_path / "s.ndjson",
        "\n".join([status("1", "news", "Billing"), status("2", "news", "fun"), status("3")]),
    )
    config = {"path": "s.ndjson", "stage_by_tag": {"#billing": "billing"}}
    got = items(run(build("social_export", config, tmp_path)))
    assert [(i.stage_hint, i.hint_value) for i in got] == [
        ("billing", "billing"),
        (None, "news,fun"),
        (None, None),
    ]


def test_ethnography_hint_column_under_its_own_stage(tmp_path: Path) -> None:
    body = "A paragraph long enough to keep.\n"
    write(tmp_path / "a.md", f"---\ndate: 2024-01-01\ntouchpoint: Order\n---\n{body}")
    write(tmp_path / "b.md", f"---\ndate: 2024-01-01\ntouchpoint: Order\nstage: use\n---\n{body}")
    got = items(run(build("ethnography", {"path": ".", **TOUCHPOINTS}, tmp_path)))
    assert [(i.stage_hint, i.hint_value, i.attributes["touchpoint"]) for i in got] == [
        ("purchase", "Order", "Order"),
        ("use", "Order", "Order"),
    ]


@pytest.mark.parametrize(
    ("kind", "config", "message"),
    [
        ("survey_file", {**SURVEY, "hint_values": {"a": "b"}}, "hint_values needs hint_column"),
        (
            "survey_file",
            {**SURVEY, "hint_column": "t", "hint_values": {"Order": "a", " order": "b"}},
            "listed twice",
        ),
        (
            "call_notes",
            {"path": ".", "reason_stages": {"x": "y"}, "hint_column": "t"},
            "not both",
        ),
        ("social_export", {"path": ".", "stage_by_tag": {"#x": "a", "X": "b"}}, "listed twice"),
    ],
)
def test_hint_config_is_checked(
    tmp_path: Path, kind: str, config: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        build(kind, config, tmp_path)


# --------------------------------------------------------------------------- item 14

NO_ID: dict[str, Any] = {
    "path": "s.csv",
    "date_column": "at",
    "score_column": "nps",
    "rating_scale": "nps_0_10",
    "customer_column": "who",
    "attributes": ["plan"],
    "answers": [{"column": "text"}, {"column": "why"}],
}
ROWS = [
    "2024-01-01,9,,pro,Great,",
    "2024-01-01,3,,free,Slow,Too slow",
    "2024-01-01,9,,pro,Great,",  # a second respondent, word for word the same
    "2024-01-02,7,c-1,pro,Fine,",
]


def _export(tmp_path: Path, rows: list[str]) -> None:
    write(tmp_path / "s.csv", "\n".join(["at,nps,who,plan,text,why", *rows]) + "\n")


def test_without_id_column_ids_are_digests_and_identical_rows_stay_two(tmp_path: Path) -> None:
    _export(tmp_path, ROWS)
    got = ids(run(build("survey_file", NO_ID, tmp_path)))
    assert len(got) == 5
    assert len(set(got)) == 5
    great_1, slow, slow_why, great_2, fine = got
    assert great_1.endswith("-1:text")
    assert great_2 == great_1.replace("-1:text", "-2:text")
    assert slow.rsplit(":", 1)[0] == slow_why.rsplit(":", 1)[0]


def test_digest_ids_survive_reordering_and_appended_rows(tmp_path: Path) -> None:
    _export(tmp_path, ROWS)
    first = set(ids(run(build("survey_file", NO_ID, tmp_path))))
    _export(tmp_path, [ROWS[3], ROWS[0], "2024-01-03,5,,pro,New one,", ROWS[2], ROWS[1]])
    second = ids(run(build("survey_file", NO_ID, tmp_path)))
    assert first <= set(second)
    assert len(set(second) - first) == 1  # only the appended row is new


def test_digest_covers_every_mapped_field(tmp_path: Path) -> None:
    base = "2024-01-01,9,c,pro,Great,"
    variants = [
        base,
        "2024-01-02,9,c,pro,Great,",
        "2024-01-01,8,c,pro,Great,",
        "2024-01-01,9,d,pro,Great,",
        "2024-01-01,9,c,free,Great,",
        "2024-01-01,9,c,pro,Great!,",
        "2024-01-01,9,c,pro,Great,x",
    ]
    _export(tmp_path, variants)
    got = [i.split(":")[0] for i in ids(run(build("survey_file", NO_ID, tmp_path)))]
    assert [g.endswith("-1") for g in got] == [True] * 8
    assert len(set(got)) == 7  # one response (two answers) of the last row


def test_transcripts_in_subfolders_do_not_collide(tmp_path: Path) -> None:
    write(tmp_path / "calls/a/call.txt", "Customer: the first one\n")
    write(tmp_path / "calls/b/call.txt", "Customer: the second one\n")
    write(tmp_path / "calls/call.v2.vtt", "WEBVTT\n\n00:00.000 --> 00:01.000\n<v Customer>third\n")
    assert ids(run(build("call_notes", {"path": "calls"}, tmp_path))) == [
        "a/call",
        "b/call",
        "call.v2",
    ]


def test_field_notes_in_subfolders_do_not_collide(tmp_path: Path) -> None:
    note = "---\ndate: 2024-01-01\n---\nA paragraph long enough to keep.\n"
    write(tmp_path / "notes/lyon/visit.md", note)
    write(tmp_path / "notes/paris/visit.md", note)
    write(tmp_path / "notes/visit.md", note)
    assert ids(run(build("ethnography", {"path": "notes"}, tmp_path))) == [
        "lyon/visit#p1",
        "paris/visit#p1",
        "visit#p1",
    ]


def test_unreadable_file_is_one_reject_until_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from connectors import files as base

    write(tmp_path / "calls/a.txt", "Customer: my bill is wrong\n")
    locked = write(tmp_path / "calls/b.txt", "Customer: locked away\n")
    real = base._open_regular

    def refuse(path: Path, flags: int) -> Any:
        if path.name == "b.txt":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, flags)

    monkeypatch.setattr(base, "_open_regular", refuse)
    batches = _calls(tmp_path)
    assert ids(batches) == ["a"]
    (bad,) = rejects(batches)
    assert bad.location == "b.txt"
    assert bad.reason.startswith("cannot read the file: Permission denied")
    assert str(tmp_path) not in repr(batches)
    assert run(build("call_notes", CALLS, tmp_path), batches[-1].cursor) == []  # once
    monkeypatch.setattr(base, "_open_regular", real)
    write(locked, "Customer: readable now\n")
    assert ids(run(build("call_notes", CALLS, tmp_path), batches[-1].cursor)) == ["b"]


def test_unlistable_folder_fails_the_run_without_host_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "calls/a.txt", "Customer: my bill is wrong\n")
    write(tmp_path / "calls/sub/b.txt", "Customer: hidden from us\n")
    real = os.scandir

    def refuse(path: Any = ".") -> Any:
        if str(path).endswith("sub"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", refuse)
    with pytest.raises(FatalError, match="cannot list folder 'sub' of `path: calls`") as info:
        _calls(tmp_path)
    assert str(tmp_path) not in str(info.value)
