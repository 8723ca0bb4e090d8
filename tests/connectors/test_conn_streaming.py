"""Files of any size (issue 19): row-per-record formats are read in bounded memory, and
reading them in blocks changes nothing a person could see (records, rejects, cursors)."""

from __future__ import annotations

import codecs
import json
import os
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from connectors import files as base
from connectors import filetext
from connectors.base import RawItem, RejectedRecord, SourceFile, decode
from connectors.errors import RecordError
from connectors.filetext import FileText, Survey, survey
from connectors.survey_file import SurveyFileConnector
from tests.connectors.kit import build, ids, items, rejects, run, write

SURVEY: dict[str, Any] = {
    "path": "s.csv",
    "id_column": "id",
    "date_column": "at",
    "answers": [{"column": "text"}],
}


def csv_rows(n: int, *, start: int = 1, newline: str = "\n") -> str:
    return "".join(f"r{i},2024-01-01,answer {i}{newline}" for i in range(start, start + n))


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of 7 bytes: every boundary case (a CRLF, a character, a mark cut in two)
    happens in a small file."""
    monkeypatch.setattr(filetext, "BLOCK_BYTES", 7)
    monkeypatch.setattr(filetext, "TEXT_BYTES", 7)
    monkeypatch.setattr(filetext, "SAMPLE_BYTES", 7)


# --------------------------------------------------------------------------- memory


def write_export(path: Path, megabytes: int) -> int:
    """A survey export shaped like a real one (CRLF, accents, quoted multi-line
    answers), written row by row; returns its number of answers."""
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("id,at,text,plan\r\n")
        while out.tell() < megabytes * 1_000_000:
            rows += 1
            text = f"Réponse {rows}: the invoice was wrong, €{rows % 97} — " + "x" * 1500
            if rows % 10 == 0:
                text += '\r\nsecond line, "quoted"'
            out.write(f'r{rows},2024-01-01T10:00:00,"{text.replace(chr(34), chr(34) * 2)}",pro\r\n')
    return rows


def test_a_large_csv_is_read_in_memory_bounded_by_the_batch(tmp_path: Path) -> None:
    csv_path = tmp_path / "s.csv"
    rows = write_export(csv_path, 40)
    size = csv_path.stat().st_size
    connector = build("survey_file", {**SURVEY, "batch_size": 50}, tmp_path)
    got = 0
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        for batch in connector.fetch(None):  # as ingest does: one batch at a time
            got += len(batch.items)
            assert batch.rejected == []
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert got == rows
    assert peak - before < size / 8, f"peak {peak - before:,} bytes for a {size:,}-byte file"


# --------------------------------------------------------------------------- the same records


CASES = [
    b"id,at,text\nr1,2024-01-01,one\nr2,2024-01-02,two\n",
    b'id,at,text\r\nr1,2024-01-01,"line one\r\nline two"\r\nr2,2024-01-02,"a\rb"\r\n',
    b'id,at,text\rr1,2024-01-01,"lone\rCR"\rr2,2024-01-02,x',  # old Mac line ends, no last one
    "id,at,text\r\nr1,2024-01-01,Café crème – €5\r\nr2,2024-01-02,“quoted”\r\n".encode(),
    "\ufeffid,at,text\r\nr1,2024-01-01,ça va\r\n".encode(),
    "id,at,text\r\nr1,2024-01-01,Caf\u00e9 \u2013 \u20ac5\r\n".encode("cp1252"),
    codecs.BOM_UTF16_LE + "id,at,text\r\nr1,2024-01-01,\u00e7a \u20ac\r\n".encode("utf-16-le"),
    b'id,at,text\nr1,2024-01-01,"He said "hi" twice"\nr2,2024-01-02,after\n',
    b'id,at,text\nr1,2024-01-01,"never closed\nr2,2024-01-02,lost\n',
    b"id,at\nr1,2024-01-01\n",  # a required column missing
    b"",
]


def whole_file(data: bytes, tmp_path: Path, **config: Any) -> list[Any]:
    """What the connector gave before files were streamed: decode the bytes whole,
    CRLF/CR to LF, one `parse_file`."""
    write(tmp_path / "s.csv", data)
    connector = build("survey_file", {**SURVEY, **config}, tmp_path)
    assert isinstance(connector, SurveyFileConnector)
    (found,) = connector.resolve_files()
    source = SourceFile(found.path, found.relpath, "sha", datetime.now(UTC))
    text, _ = decode(data, connector.config.encoding)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    try:
        return list(connector.parse_file(text, source))
    except RecordError as exc:
        return [RejectedRecord(exc.reason, exc.excerpt, exc.external_id, exc.location or "s.csv")]


@pytest.mark.usefixtures("small_blocks")
@pytest.mark.parametrize("data", CASES)
def test_streamed_csv_gives_what_the_whole_file_gave(tmp_path: Path, data: bytes) -> None:
    expected = whole_file(data, tmp_path)
    batches = run(build("survey_file", SURVEY, tmp_path))
    assert items(batches) == [r for r in expected if isinstance(r, RawItem)]
    assert rejects(batches) == [r for r in expected if isinstance(r, RejectedRecord)]


@pytest.mark.usefixtures("small_blocks")
def test_crlf_inside_a_quoted_cell_is_one_line_end(tmp_path: Path) -> None:
    write(
        tmp_path / "s.csv",
        b'id,at,text\r\nr1,2024-01-01,"first line\r\n\r\nthird, after a blank"\r\nr2,2024-01-02,b\r\n',
    )
    got = items(run(build("survey_file", SURVEY, tmp_path)))
    assert [i.text for i in got] == ["first line\n\nthird, after a blank", "b"]


# --------------------------------------------------------------------------- decoding


def test_a_byte_that_does_not_decode_mid_file_keeps_the_rows_before_it(tmp_path: Path) -> None:
    head = "id,at,text\n" + csv_rows(300)
    broken = head.encode() + b"r301,2024-01-01,bad \xff here\n" + csv_rows(5, start=302).encode()
    write(tmp_path / "s.csv", broken)
    batches = run(build("survey_file", {**SURVEY, "encoding": "utf-8", "batch_size": 50}, tmp_path))
    assert ids(batches) == [f"r{i}:text" for i in range(1, 301)]  # not r301, nothing after
    (bad,) = rejects(batches)
    at = len(head.encode()) + len(b"r301,2024-01-01,bad ")
    assert bad.location == f"s.csv:byte {at}"
    assert bad.reason.startswith(f"file is not valid UTF-8 (invalid start byte at byte {at}); ")
    assert "bad \\xff here" in bad.excerpt
    assert batches[-1].cursor["files"]["s.csv"]["complete"] is True
    assert batches[-1].cursor["files"]["s.csv"]["done"] == 301
    assert (
        run(build("survey_file", {**SURVEY, "encoding": "utf-8"}, tmp_path), batches[-1].cursor)
        == []
    )


def test_a_file_parsed_whole_that_does_not_decode_is_one_reject_as_before(tmp_path: Path) -> None:
    rows = [{"id": f"r{i}", "at": "2024-01-01", "text": "ok"} for i in range(3)]
    write(tmp_path / "s.json", json.dumps(rows).encode() + b"\xff")
    batches = run(build("survey_file", {**SURVEY, "path": "s.json", "encoding": "utf-8"}, tmp_path))
    assert ids(batches) == []
    (bad,) = rejects(batches)
    assert bad.location.startswith("s.json:byte ")


def test_auto_encoding_looks_at_the_whole_file_not_its_first_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An Excel export whose first accented name comes after the first block is cp1252
    from its first byte, as when files were decoded whole (not a reject mid-file)."""
    monkeypatch.setattr(filetext, "BLOCK_BYTES", 1024)
    monkeypatch.setattr(filetext, "TEXT_BYTES", 1024)
    data = (
        "id,at,text\r\n" + csv_rows(200, newline="\r\n") + "r999,2024-01-01,Caf\u00e9 \u20ac5\r\n"
    ).encode("cp1252")
    write(tmp_path / "s.csv", data)
    batches = run(build("survey_file", SURVEY, tmp_path))
    assert rejects(batches) == []
    assert items(batches)[-1].text == "Caf\u00e9 \u20ac5"
    assert len(items(batches)) == 201


ENCODED = [
    ("auto", "a\r\nCafé – €5\r\nçà\n".encode()),
    ("auto", "a\r\nCafé – €5\r\n".encode("cp1252")),
    ("auto", b"\x81 Caf\xe9\r\n"),
    ("auto", "\ufeff\ufeffdouble mark\r\n".encode()),
    ("auto", codecs.BOM_UTF16_BE + "x\r\ny\u20ac\n".encode("utf-16-be")),
    ("auto", codecs.BOM_UTF32_LE + "x\ry\n".encode("utf-32-le")),
    ("auto", codecs.BOM_UTF16_LE + "odd".encode("utf-16-le") + b"\x00"),  # cut at the end
    ("utf-8", "\ufeff\ufeffdouble mark\r\n".encode()),
    ("utf-8", b"ok\r\nline\xe2\x82 cut\n"),
    ("utf-8", codecs.BOM_UTF8 + b"ok\r\xff"),  # offsets count the mark now
    ("utf-8", "cut at the end \u20ac".encode()[:-1]),
    ("utf-8-sig", "\ufeffmark".encode()),
    ("utf-16", "\ufeffboth\r\n".encode("utf-16")),
    ("utf-16", "x\r\n".encode("utf-16") + b"\x00\xd8\x41\x00"),  # a lone surrogate
    ("utf-16-le", "\ufeffx\r\n".encode("utf-16-le")),
    ("shift_jis", "日本語\r\nテキスト\n".encode("shift_jis")),
    ("shift_jis", "日本語\r\n".encode("shift_jis") + b"\xff\xff" + "後".encode("shift_jis")),
    ("cp1252", b"a\x81b"),
]


@pytest.mark.parametrize("block", [1, 2, 3, 5, 1 << 20])
@pytest.mark.parametrize(("encoding", "data"), ENCODED)
def test_block_decoding_matches_decoding_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int, encoding: str, data: bytes
) -> None:
    """`FileText` gives `decode`'s text (line ends made "\\n"), or stops at the byte
    where `decode` fails, with the text before it."""
    monkeypatch.setattr(filetext, "BLOCK_BYTES", block)
    monkeypatch.setattr(filetext, "TEXT_BYTES", max(1, block // 2))
    path = write(tmp_path / "a.txt", data)
    with path.open("rb") as handle:
        surveyed = survey(handle, encoding)
        text = FileText(handle, surveyed, lambda where: where)
        got, stopped = "", None
        try:
            for piece in text.texts():
                got += piece
        except RecordError as exc:
            stopped = exc.location
        assert text.finish()
    try:
        expected, name = decode(data, encoding)
    except UnicodeDecodeError as exc:
        start = exc.start + (3 if encoding == "utf-8" and data.startswith(codecs.BOM_UTF8) else 0)
        assert stopped == f"byte {start}"
        good, _ = decode(data[:start], encoding)
        assert got == good.replace("\r\n", "\n").replace("\r", "\n")
        return
    assert stopped is None
    assert got == expected.replace("\r\n", "\n").replace("\r", "\n")
    assert surveyed.name == name


# --------------------------------------------------------------------------- NULs


def test_nuls_are_judged_on_the_first_64_kib(tmp_path: Path) -> None:
    """A UTF-16 file without a mark is told from its start, whatever its size; a text
    export whose NULs come later passes them to ingest (which replaces and counts them)."""
    big = "id,at,text\n" + csv_rows(4000)
    write(tmp_path / "u16/s.csv", big.encode("utf-16-le"))
    (bad,) = rejects(run(build("survey_file", {**SURVEY, "path": "u16/s.csv"}, tmp_path)))
    assert "UTF-16 LE without a byte-order mark" in bad.reason
    assert len(big) > filetext.SAMPLE_BYTES
    late = big + "r9999,2024-01-01,late " + "\x00" * 20_000 + "\n"  # a fifth of the file
    write(tmp_path / "late/s.csv", late)
    got = items(run(build("survey_file", {**SURVEY, "path": "late/s.csv"}, tmp_path)))
    assert got[-1].text.count("\x00") == 20_000


# --------------------------------------------------------------------------- cursors


def test_a_streamed_file_resumes_after_the_last_batch(tmp_path: Path) -> None:
    write(tmp_path / "s.csv", "id,at,text\n" + csv_rows(7))
    config = {**SURVEY, "batch_size": 3}
    first = next(build("survey_file", config, tmp_path).fetch(None))
    assert ids([first]) == ["r1:text", "r2:text", "r3:text"]
    assert first.cursor["files"]["s.csv"]["done"] == 3
    rest = run(build("survey_file", config, tmp_path), first.cursor)
    assert ids(rest) == [f"r{i}:text" for i in range(4, 8)]
    assert rest[-1].cursor["files"]["s.csv"]["complete"] is True


def test_a_file_changed_between_runs_is_read_from_its_start(tmp_path: Path) -> None:
    write(tmp_path / "s.csv", "id,at,text\n" + csv_rows(5))
    config = {**SURVEY, "batch_size": 2}
    first = next(build("survey_file", config, tmp_path).fetch(None))
    write(tmp_path / "s.csv", "id,at,text\n" + csv_rows(6))
    again = run(build("survey_file", config, tmp_path), first.cursor)
    assert ids(again) == [f"r{i}:text" for i in range(1, 7)]
    assert again[-1].cursor["files"]["s.csv"]["sha256"] != first.cursor["files"]["s.csv"]["sha256"]


def test_an_unchanged_file_is_only_hashed_and_a_changed_one_surveyed_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A complete file is surveyed without the UTF-8 check of `auto` (its sha256 is
    all a skip needs); if it changed after all, it is surveyed again, whole, to read it."""
    real = base.survey
    calls: list[tuple[bool, str | None]] = []

    def spy(handle: BinaryIO, encoding: str, *, settle: bool = True) -> Survey:
        found = real(handle, encoding, settle=settle)
        calls.append((settle, found.codec))
        return found

    monkeypatch.setattr(base, "survey", spy)
    write(tmp_path / "s.csv", "id,at,text\n" + csv_rows(3))
    final = run(build("survey_file", SURVEY, tmp_path))[-1].cursor
    assert calls == [(True, "utf-8")]
    calls.clear()
    assert run(build("survey_file", SURVEY, tmp_path), final) == []
    assert calls == [(False, None)]
    calls.clear()
    write(
        tmp_path / "s.csv",
        ("id,at,text\n" + csv_rows(3) + "r4,2024-01-01,Caf\u00e9\n").encode("cp1252"),
    )
    again = run(build("survey_file", SURVEY, tmp_path), final)
    assert calls == [(False, None), (True, "cp1252")]
    assert [i.text for i in items(again)][-1] == "Caf\u00e9"
    assert again[-1].cursor["files"]["s.csv"]["complete"] is True


def after_survey(monkeypatch: pytest.MonkeyPatch, change: Callable[[], None]) -> None:
    """Run `change()` once, right after the first file's survey pass, before it is read
    as text."""
    real = base.survey
    pending = [change]

    def surveyed_then_changed(handle: BinaryIO, encoding: str, *, settle: bool = True) -> Survey:
        found = real(handle, encoding, settle=settle)
        while pending:
            pending.pop()()
        return found

    monkeypatch.setattr(base, "survey", surveyed_then_changed)


def test_a_file_rewritten_while_it_is_read_is_read_again_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path / "s.csv", "id,at,text\n" + csv_rows(3))

    def rewrite_in_place() -> None:
        with path.open("r+b") as out:  # the same file (inode) the connector has open
            out.write(b"id,at,text\nq1,2024-01-01,other\n")

    after_survey(monkeypatch, rewrite_in_place)
    batches = run(build("survey_file", SURVEY, tmp_path))
    entry = batches[-1].cursor["files"]["s.csv"]
    assert entry == {
        "sha256": base.CHANGED_WHILE_READ,
        "done": len(ids(batches)) + len(rejects(batches)),
        "complete": False,
    }
    assert "s.csv changed while it was read" in caplog.text
    again = run(build("survey_file", SURVEY, tmp_path), batches[-1].cursor)
    assert ids(again)[0] == "q1:text"  # read from its start, as it is now
    assert again[-1].cursor["files"]["s.csv"]["complete"] is True


def test_a_file_replaced_while_it_is_read_is_read_as_surveyed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new export renamed over the old one: the open handle still reads the old one,
    whose sha256 the cursor names; the next run reads the new one."""
    path = write(tmp_path / "s.csv", "id,at,text\n" + csv_rows(3))

    def replace() -> None:
        write(tmp_path / "new.tmp", "id,at,text\n" + csv_rows(4, start=10))
        os.replace(tmp_path / "new.tmp", path)

    after_survey(monkeypatch, replace)
    batches = run(build("survey_file", SURVEY, tmp_path))
    assert ids(batches) == ["r1:text", "r2:text", "r3:text"]
    entry = batches[-1].cursor["files"]["s.csv"]
    assert entry["complete"] is True
    assert len(entry["sha256"]) == 64
    later = run(build("survey_file", SURVEY, tmp_path), batches[-1].cursor)
    assert ids(later) == [f"r{i}:text" for i in range(10, 14)]


def test_a_file_appended_to_while_it_is_read_is_read_up_to_its_surveyed_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "s.csv", "id,at,text\n" + csv_rows(2))

    def append() -> None:
        with path.open("a") as out:
            out.write(csv_rows(1, start=3))

    after_survey(monkeypatch, append)
    batches = run(build("survey_file", SURVEY, tmp_path))
    assert ids(batches) == ["r1:text", "r2:text"]
    assert batches[-1].cursor["files"]["s.csv"]["complete"] is True
    later = run(build("survey_file", SURVEY, tmp_path), batches[-1].cursor)
    assert ids(later) == ["r1:text", "r2:text", "r3:text"]  # a new version: from its start


# --------------------------------------------------------------------------- limits


def test_a_file_parsed_whole_over_the_limit_is_one_reject(tmp_path: Path) -> None:
    rows = [{"id": f"r{i}", "at": "2024-01-01", "text": "x" * 500} for i in range(2500)]
    write(tmp_path / "in/big.json", json.dumps(rows))
    write(tmp_path / "in/big.csv", "id,at,text\n" + csv_rows(45_000))  # 1.3 MB: streamed
    config = {**SURVEY, "path": "in", "max_whole_file_mb": 1}
    batches = run(build("survey_file", config, tmp_path))
    assert len(ids(batches)) == 45_000
    (bad,) = rejects(batches)
    assert bad.location == "big.json"
    assert bad.reason.startswith("file is 1.4 MB, over `max_whole_file_mb` (1 MB): survey_file ")
    assert "split it, export it as .csv, or raise `max_whole_file_mb`" in bad.reason
    assert run(build("survey_file", config, tmp_path), batches[-1].cursor) == []


def test_a_quote_never_closed_in_a_huge_csv_stops_at_the_row_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from connectors import parsing

    monkeypatch.setattr(parsing, "MAX_ROW_CHARS", 10_000)
    write(
        tmp_path / "s.csv",
        'id,at,text\nr1,2024-01-01,fine\nr2,2024-01-02,"never closed\n' + csv_rows(2000, start=3),
    )
    batches = run(build("survey_file", SURVEY, tmp_path))
    assert ids(batches) == ["r1:text"]
    (bad,) = rejects(batches)
    assert bad.location == "s.csv:row 3"
    assert bad.reason.startswith(
        "CSV row 3 (from line 3) runs over 10,000 characters: a quote never closed?"
    )
    assert bad.excerpt.startswith('r2,2024-01-02,"never closed\nr3,')


def status(sid: str, text: str) -> str:
    return json.dumps(
        {"id": sid, "created_at": "2024-04-01T08:00:00Z", "content": text}, ensure_ascii=False
    )


def test_ndjson_lines_end_at_line_feeds_only(tmp_path: Path) -> None:
    """A status whose text holds U+2028 (JSON allows it raw) is one line, not two rejects."""
    write(tmp_path / "a.ndjson", status("1", "one\u2028two") + "\n" + status("2", "three") + "\n")
    batches = run(build("social_export", {"path": "."}, tmp_path))
    assert ids(batches) == ["1", "2"]
    assert rejects(batches) == []


def test_an_ndjson_line_over_the_limit_ends_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(filetext, "MAX_LINE_CHARS", 5000)
    monkeypatch.setattr(filetext, "TEXT_BYTES", 1024)
    write(
        tmp_path / "a.ndjson", status("1", "fine") + "\n" + "[" * 20_000 + "\n" + status("3", "x")
    )
    batches = run(build("social_export", {"path": "."}, tmp_path))
    assert ids(batches) == ["1"]
    (bad,) = rejects(batches)
    assert bad.location == "a.ndjson:line 2"
    assert bad.reason.startswith("line 2 is longer than 5,000 characters")


# --------------------------------------------------------------------------- the hook


def test_a_kind_streams_only_the_suffixes_it_names(tmp_path: Path) -> None:
    """`parse_lines` gets lines with their "\\n"; everything else goes to `parse_file`."""
    seen: list[tuple[str, list[str]]] = []

    class Both(SurveyFileConnector):
        def parse_lines(
            self, lines: Iterator[str], source: SourceFile
        ) -> Iterator[RawItem | RejectedRecord]:
            seen.append(("lines", list(lines)))
            return iter(())

        def parse_file(self, text: str, source: SourceFile) -> Iterator[RawItem | RejectedRecord]:
            seen.append(("file", [text]))
            return iter(())

    write(tmp_path / "a.csv", "h\r\nx\ry\n\nlast")
    write(tmp_path / "b.json", "[]\r\n")
    run(Both.from_mapping({**SURVEY, "path": "."}, base_dir=tmp_path))
    assert seen == [("lines", ["h\n", "x\n", "y\n", "\n", "last"]), ("file", ["[]\n"])]
