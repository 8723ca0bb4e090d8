"""The shared file handling of FileConnector: paths, cursor, batches, decoding."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, ClassVar

import pytest

from connectors.base import (
    Batch,
    FileConnector,
    FileConnectorConfig,
    RawItem,
    RejectedRecord,
    SourceFile,
)
from connectors.errors import ConfigError, FatalError, RecordError
from connectors.parsing import parse_score
from connectors.values import parse_timestamp
from tests.connectors.kit import ids, rejects, run, write


class LinesConnector(FileConnector[FileConnectorConfig]):
    """Test kind: one item per non-empty line; `BAD` is a reject, `STOP` ends the file
    with a RecordError, `BOOM` is a parser bug."""

    kind: ClassVar[str] = "lines"
    channel: ClassVar[str] = "test"
    config_model: ClassVar[type[FileConnectorConfig]] = FileConnectorConfig
    extensions: ClassVar[tuple[str, ...]] = (".txt", ".log")
    parsed: ClassVar[list[str]] = []

    def parse_file(self, text: str, source: SourceFile) -> Iterator[RawItem | RejectedRecord]:
        self.parsed.append(source.relpath)
        for n, line in enumerate(text.splitlines(), start=1):
            if not line:
                continue
            if line == "BAD":
                yield RejectedRecord(reason="bad line", excerpt=line, location=source.at(f"{n}"))
            elif line == "STOP":
                raise RecordError("cannot go on", excerpt=line)
            elif line == "BOOM":
                raise RuntimeError("parser bug")
            elif line == "WHERE":
                raise OSError(f"cannot open {source.path.parent / 'x.tmp'} or {source.path}")
            else:
                yield RawItem(
                    external_id=f"{source.relpath}:{line}",
                    text=line,
                    occurred_at=datetime(2024, 1, 1, tzinfo=UTC),
                )


@pytest.fixture(autouse=True)
def _reset_spy() -> None:
    LinesConnector.parsed = []


def lines(base: Path, path: str = ".", batch_size: int = 200, **config: Any) -> LinesConnector:
    raw = {"path": path, "batch_size": batch_size, **config}
    conn = LinesConnector.from_mapping(raw, base_dir=base)
    assert isinstance(conn, LinesConnector)
    return conn


def local_ids(batches: list[Batch]) -> list[str]:
    return [i.split(":", 1)[1] for i in ids(batches)]


# --------------------------------------------------------------------------- paths


def test_folder_is_recursive_sorted_filtered_and_skips_hidden(tmp_path: Path) -> None:
    write(tmp_path / "b.txt", "b1\n")
    write(tmp_path / "a/z.log", "az\n")
    write(tmp_path / "a/y.TXT", "ay\n")
    write(tmp_path / "notes.csv", "not read\n")
    write(tmp_path / ".hidden.txt", "hidden\n")
    write(tmp_path / ".git/x.txt", "hidden\n")
    assert ids(run(lines(tmp_path))) == ["a/y.TXT:ay", "a/z.log:az", "b.txt:b1"]


def test_glob_relative_to_base_dir_keys_relative_to_its_folder(tmp_path: Path) -> None:
    write(tmp_path / "in/2024/jan.txt", "j\n")
    write(tmp_path / "in/2024/feb.txt", "f\n")
    write(tmp_path / "in/2024/sub/mar.txt", "m\n")
    write(tmp_path / "in/2023/dec.txt", "d\n")
    write(tmp_path / "in/2024/readme.md", "r\n")
    write(tmp_path / "in/2022/.hidden.txt", "h\n")
    assert ids(run(lines(tmp_path, "in/2024/*"))) == ["feb.txt:f", "jan.txt:j"]
    assert ids(run(lines(tmp_path, "in/**/*.txt"))) == [
        "2023/dec.txt:d",
        "2024/feb.txt:f",
        "2024/jan.txt:j",
        "2024/sub/mar.txt:m",
    ]
    assert ids(run(lines(tmp_path, "in/20[0-9]3/*.txt"))) == ["2023/dec.txt:d"]


def test_glob_with_missing_folder_is_fatal(tmp_path: Path) -> None:
    with pytest.raises(FatalError, match=r"glob `path: nope/\*.txt` does not exist") as info:
        run(lines(tmp_path, "nope/*.txt"))
    assert str(tmp_path) not in str(info.value)


def test_glob_matching_nothing_yields_nothing(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    assert run(lines(tmp_path, "in/*.txt")) == []


def test_missing_file_is_fatal_quoting_the_configured_path(tmp_path: Path) -> None:
    with pytest.raises(FatalError, match=r"`path: \.\./gone.txt` does not exist") as info:
        run(lines(tmp_path / "sub", "../gone.txt"))
    assert str(tmp_path) not in str(info.value)


def test_single_file_of_another_type_is_fatal(tmp_path: Path) -> None:
    write(tmp_path / "data.csv", "x\n")
    with pytest.raises(FatalError, match=r"\.txt/\.log"):
        run(lines(tmp_path, "data.csv"))


def test_absolute_path_outside_base_dir_keys_cursor_by_file_name(tmp_path: Path) -> None:
    target = write(tmp_path / "elsewhere/x.txt", "one\n")
    (tmp_path / "base").mkdir()
    batches = run(lines(tmp_path / "base", str(target)))
    assert list(batches[-1].cursor["files"]) == ["x.txt"]
    assert ids(batches) == ["x.txt:one"]


def test_cursor_keyed_from_the_sources_folder_still_resumes(tmp_path: Path) -> None:
    write(tmp_path / "data/a.txt", "1\n2\n")
    write(tmp_path / "data/b.txt", "3\n")
    old = run(lines(tmp_path, "data"))[-1].cursor
    legacy = {"files": {f"data/{k}": v for k, v in old["files"].items()}}
    write(tmp_path / "data/c.txt", "4\n")
    LinesConnector.parsed = []
    batches = run(lines(tmp_path, "data"), legacy)
    assert local_ids(batches) == ["4"]
    assert LinesConnector.parsed == ["c.txt"]
    assert list(batches[-1].cursor["files"]) == ["a.txt", "b.txt", "c.txt"]


# --------------------------------------------------------------------------- cursor


def test_cursor_format(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "1\n2\n3\n")
    batches = run(lines(tmp_path, batch_size=2))
    assert [b.cursor["files"]["a.txt"]["done"] for b in batches] == [2, 3]
    assert [b.cursor["files"]["a.txt"]["complete"] for b in batches] == [False, True]
    sha = batches[0].cursor["files"]["a.txt"]["sha256"]
    assert len(sha) == 64
    assert int(sha, 16) >= 0


def test_unchanged_complete_file_is_not_parsed_again(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "1\n2\n")
    write(tmp_path / "b.txt", "3\n")
    final = run(lines(tmp_path))[-1].cursor
    LinesConnector.parsed = []
    assert run(lines(tmp_path), final) == []
    assert LinesConnector.parsed == []


def test_new_file_alone_is_read(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "1\n")
    final = run(lines(tmp_path))[-1].cursor
    write(tmp_path / "b.txt", "2\n")
    LinesConnector.parsed = []
    assert local_ids(run(lines(tmp_path), final)) == ["2"]
    assert LinesConnector.parsed == ["b.txt"]


def test_changed_file_is_read_again_from_its_start(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "1\n2\n")
    final = run(lines(tmp_path))[-1].cursor
    write(tmp_path / "a.txt", "1\n2\n3\n")
    again = run(lines(tmp_path), final)
    assert local_ids(again) == ["1", "2", "3"]
    assert again[-1].cursor["files"]["a.txt"]["done"] == 3


def test_crash_mid_file_resumes_after_the_last_batch(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "1\n2\n3\n4\n5\n")
    stream = lines(tmp_path, batch_size=2).fetch(None)
    first = next(stream)
    assert local_ids([first]) == ["1", "2"]
    assert local_ids(run(lines(tmp_path, batch_size=2), first.cursor)) == ["3", "4", "5"]


def test_batches_span_files_and_cursor_covers_exactly_what_was_yielded(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "1\n2\n3\n")
    write(tmp_path / "b.txt", "4\n5\n")
    batches = run(lines(tmp_path, batch_size=2))
    assert [local_ids([b]) for b in batches] == [["1", "2"], ["3", "4"], ["5"]]
    middle = batches[1].cursor["files"]
    assert middle["a.txt"]["complete"] is True
    assert middle["b.txt"] == {"sha256": middle["b.txt"]["sha256"], "done": 1, "complete": False}


def test_empty_files_are_remembered_by_a_final_cursor_only_batch(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "1\n")
    write(tmp_path / "b.txt", "")
    batches = run(lines(tmp_path, batch_size=1))
    assert [len(b.items) for b in batches] == [1, 0]
    assert batches[-1].cursor["files"]["b.txt"]["complete"] is True
    assert run(lines(tmp_path, batch_size=1), batches[-1].cursor) == []


def test_deleted_files_leave_the_cursor(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "1\n")
    write(tmp_path / "b.txt", "2\n")
    final = run(lines(tmp_path))[-1].cursor
    (tmp_path / "a.txt").unlink()
    batches = run(lines(tmp_path), final)
    assert [(b.items, b.rejected) for b in batches] == [([], [])]
    assert list(batches[0].cursor["files"]) == ["b.txt"]
    assert run(lines(tmp_path), batches[0].cursor) == []


@pytest.mark.parametrize(
    "cursor",
    [
        {},
        {"files": []},
        {"files": {"a.txt": "nonsense"}},
        {"files": {"a.txt": {"sha256": 3, "done": 1}}},
        {"files": {"a.txt": {"sha256": "x", "done": -1}}},
    ],
)
def test_unreadable_cursor_entries_mean_read_again(tmp_path: Path, cursor: dict[str, Any]) -> None:
    write(tmp_path / "a.txt", "1\n2\n")
    assert local_ids(run(lines(tmp_path), cursor)) == ["1", "2"]


def test_cursor_is_a_fresh_copy_per_batch(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "1\n2\n3\n")
    batches = run(lines(tmp_path, batch_size=1))
    assert [b.cursor["files"]["a.txt"]["done"] for b in batches] == [1, 2, 3]
    assert json.dumps(batches[0].cursor) != json.dumps(batches[-1].cursor)


# --------------------------------------------------------------------------- records


def test_rejects_count_as_records_and_the_run_goes_on(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "1\nBAD\n2\n")
    batches = run(lines(tmp_path, batch_size=2))
    assert [(len(b.items), len(b.rejected)) for b in batches] == [(1, 1), (1, 0)]
    assert rejects(batches)[0].location == "a.txt:2"


def test_record_error_ends_the_file_with_a_reject(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "1\nSTOP\n2\n")
    write(tmp_path / "b.txt", "3\n")
    batches = run(lines(tmp_path))
    assert local_ids(batches) == ["1", "3"]
    (bad,) = rejects(batches)
    assert (bad.reason, bad.excerpt, bad.location) == ("cannot go on", "STOP", "a.txt")


def test_parser_bug_is_quarantined_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write(tmp_path / "a.txt", "1\nBOOM\n2\n")
    write(tmp_path / "b.txt", "3\n")
    batches = run(lines(tmp_path))
    assert local_ids(batches) == ["1", "3"]
    (bad,) = rejects(batches)
    assert bad.reason == "could not read the rest of the file: RuntimeError: parser bug"
    assert "unexpected error while reading a.txt" in caplog.text


def test_parser_error_text_holds_no_host_path(tmp_path: Path) -> None:
    write(tmp_path / "in/sub/a.txt", "WHERE\n")
    (bad,) = rejects(run(lines(tmp_path, "in")))
    assert (
        bad.reason
        == "could not read the rest of the file: OSError: cannot open sub/x.tmp or sub/a.txt"
    )


def test_file_not_in_the_configured_encoding_is_one_reject(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", b"ok line\n\xff\xfe broken \x81\n")
    write(tmp_path / "b.txt", "fine\n")
    batches = run(lines(tmp_path, encoding="utf-8"))
    assert local_ids(batches) == ["fine"]
    (bad,) = rejects(batches)
    assert bad.reason.startswith("file is not valid UTF-8 (invalid start byte at byte 8)")
    assert bad.location == "a.txt:byte 8"
    assert "ok line" in bad.excerpt
    assert "\\xff" in bad.excerpt
    assert batches[-1].cursor["files"]["a.txt"]["complete"] is True


def test_bom_is_stripped(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "\ufefffirst\n".encode())
    assert local_ids(run(lines(tmp_path))) == ["first"]
    assert local_ids(run(lines(tmp_path, encoding="UTF8"))) == ["first"]


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_auto_encoding_follows_the_byte_order_mark(tmp_path: Path, codec: str) -> None:
    data = "Caf\u00e9 cr\u00e8me \u2013 \u20ac5\r\n\u00e7a va\n".encode(codec)
    if codec in ("utf-16-le", "utf-16-be"):  # these codecs write no mark: add it
        data = "\ufeff".encode(codec) + data
    write(tmp_path / "a.txt", data)
    batches = run(lines(tmp_path))
    assert local_ids(batches) == ["Caf\u00e9 cr\u00e8me \u2013 \u20ac5", "\u00e7a va"]
    assert rejects(batches) == []


def test_auto_encoding_reads_excel_cp1252_then_latin1(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "Caf\u00e9 \u2013 \u20ac5 \u2019\n".encode("cp1252"))
    write(tmp_path / "b.txt", b"\x81 Caf\xe9\n")  # 0x81: no cp1252 character
    assert local_ids(run(lines(tmp_path))) == ["Caf\u00e9 \u2013 \u20ac5 \u2019", "\x81 Caf\u00e9"]


def test_utf16_without_mark_is_one_reject_without_nul(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "hello there\nsecond line\n".encode("utf-16-le"))
    write(tmp_path / "b.txt", "fine\n")
    batches = run(lines(tmp_path))
    assert local_ids(batches) == ["fine"]
    (bad,) = rejects(batches)
    assert "NUL" in bad.reason
    assert "UTF-16 LE without a byte-order mark" in bad.reason
    assert "set `encoding`" in bad.reason
    assert "\x00" not in bad.excerpt
    assert "hello there" in bad.excerpt
    assert bad.location == "a.txt"
    told = run(lines(tmp_path, "a.txt", encoding="utf-16-le"))
    assert local_ids(told) == ["hello there", "second line"]


def test_stray_nuls_stay_in_their_records_for_ingest_to_replace(tmp_path: Path) -> None:
    """A few NULs (even many in a short file) are a text export's damage, not a sign
    of another encoding: every line is read, and the NULs reach ingest, which
    replaces and counts them."""
    text = "".join(f"line {n}\n" for n in range(5))
    write(tmp_path / "a.txt", text.replace("line 2\n", "li\x00ne 2\x00\n"))
    got = local_ids(run(lines(tmp_path)))
    assert got == ["line 0", "line 1", "li\x00ne 2\x00", "line 3", "line 4"]


@pytest.mark.parametrize("encoding", ["klingon", "base64", ""])
def test_unknown_encoding_is_a_config_error(tmp_path: Path, encoding: str) -> None:
    with pytest.raises(ConfigError, match="unknown text encoding"):
        lines(tmp_path, encoding=encoding)


# --------------------------------------------------------------------------- values


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-05", datetime(2024, 3, 5, tzinfo=UTC)),
        ("2024-03-05T10:11:12", datetime(2024, 3, 5, 10, 11, 12, tzinfo=UTC)),
        ("2024-03-05 10:11", datetime(2024, 3, 5, 10, 11, tzinfo=UTC)),
        ("2024-03-05T10:11:12Z", datetime(2024, 3, 5, 10, 11, 12, tzinfo=UTC)),
        ("2024-03-05T10:11:12.5-05:00", datetime(2024, 3, 5, 15, 11, 12, 500000, tzinfo=UTC)),
        (" 2024-03-05T00:30:00+01:00 ", datetime(2024, 3, 4, 23, 30, tzinfo=UTC)),
        (date(2024, 3, 5), datetime(2024, 3, 5, tzinfo=UTC)),
        (
            datetime(2024, 3, 5, 1, tzinfo=timezone(timedelta(hours=1))),
            datetime(2024, 3, 5, tzinfo=UTC),
        ),
    ],
)
def test_parse_timestamp_gives_aware_utc(value: object, expected: datetime) -> None:
    parsed = parse_timestamp(value)
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "missing date"),
        ("  ", "missing date"),
        ("05/03/2024", "unparseable date '05/03/2024'"),
        (1709596800, "unparseable date 1709596800"),
    ],
)
def test_parse_timestamp_errors(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_timestamp(value)


@pytest.mark.parametrize(
    ("value", "expected"), [("7", 7.0), (" 4.5 ", 4.5), (3, 3.0), ("", None), (None, None)]
)
def test_parse_score(value: object, expected: float | None) -> None:
    assert parse_score(value) == expected


@pytest.mark.parametrize("value", ["seven", "inf", True, [1], "1,5"])
def test_parse_score_rejects_non_numbers(value: object) -> None:
    with pytest.raises(ValueError, match="non-numeric score"):
        parse_score(value)
