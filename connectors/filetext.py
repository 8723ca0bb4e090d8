"""A file's bytes as text, in memory bounded by a block, whatever the file's size.

`FileConnector` reads each file in two passes over one open handle:

1. `survey` reads it in `BLOCK_BYTES` blocks and keeps none of them: the sha256 (the
   cursor's name for this version of the file), the size, the codec, and the first
   `SAMPLE_BYTES` (for the NUL heuristic). The codec is the one `decode` would choose
   for the whole file, so an `auto` file whose first non-UTF-8 byte is 100 MB in is
   still cp1252 from its first byte, as when files were decoded whole.
2. `FileText` reads the same handle again from its start, exactly the surveyed size,
   `TEXT_BYTES` at a time, decoding incrementally with "\\n" line ends (`lines()`, or
   `read_all()` for formats parsed whole), and hashes what it reads. `finish()` reads
   on past whatever the parser left and says whether the bytes read are the surveyed
   ones: so the cursor, which names the surveyed sha256, never claims the records of
   another version (a file rewritten in place between or during the passes). A file
   replaced by a rename is no matter: the handle keeps reading the old one; a file
   appended to is read up to its surveyed size.

A byte that does not decode stops the text there with a `RecordError` naming its
offset: the lines before it were delivered, the line it is in is not.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from connectors.errors import RecordError

BLOCK_BYTES = 1 << 20
"""Bytes read at a time by the survey pass (hashing wants big blocks)."""

TEXT_BYTES = 256 << 10
"""Bytes decoded at a time (and read at a time by the second pass): with the text they
decode to, its line-end translation and its lines, the memory a read costs beyond a
batch's records, about 2 MB."""

SAMPLE_BYTES = 64 << 10
"""The leading bytes kept from the survey: what the NUL heuristic judges."""

MAX_LINE_CHARS = 8 << 20
"""The longest line `FileText.lines` delivers: a longer one is no line of a
record-per-line file (a file without line ends?) and would have to sit whole in memory."""

MISDECODED_NUL_SHARE = 10
"""A file one character in this many of which (or more) is NUL was mis-decoded."""

_BOMS = (  # UTF-32 LE first: its mark starts with UTF-16 LE's
    (codecs.BOM_UTF32_LE, "utf-32", "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32", "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig", "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16", "utf-16-be"),
)
"""Each mark, the codec `decode` names for it, and the codec that reads what follows it."""

_NOT_CP1252 = re.compile(
    b"[%s]"
    % re.escape(bytes(b for b in range(256) if bytes([b]).decode("cp1252", "replace") == "\ufffd"))
)
"""The bytes cp1252 has no character for (0x81, 0x8D, 0x8F, 0x90, 0x9D)."""


def decode(data: bytes, encoding: str) -> tuple[str, str]:
    """`(text, codec used)`: text without its BOM. Raises `UnicodeDecodeError`.

    `auto`: a byte-order mark decides (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE); without
    one, strict UTF-8; a file that is not UTF-8 is cp1252 (what Excel writes on
    Western Windows), or latin-1 when cp1252 has no character for one of its bytes
    (latin-1 decodes anything). Any other value is a codec name.

    The whole-bytes form of what `survey` and `FileText` do in blocks (and the
    reference the tests hold them to).
    """
    if encoding != "auto":
        codec = "utf-8-sig" if encoding == "utf-8" else encoding
        return data.decode(codec).removeprefix("\ufeff"), encoding
    for bom, codec, _ in _BOMS:
        if data.startswith(bom):
            return data.decode(codec), codec
    for codec in ("utf-8", "cp1252"):
        try:
            return data.decode(codec), codec
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


@dataclass(frozen=True, slots=True)
class Survey:
    """What the first pass over a file found (see the module docstring)."""

    sha256: str
    size: int
    codec: str | None  # what decodes the bytes after `skip`; None: not settled (`survey`)
    name: str  # the codec as `decode` names it, for messages: utf-8-sig, utf-16, cp1252...
    skip: int  # bytes of byte-order mark the decoder never sees
    strip_mark: bool  # a declared encoding: a leading U+FEFF is dropped too, as `decode` does
    head: bytes  # the first SAMPLE_BYTES bytes

    def sample(self) -> str | None:
        """`head` decoded (mark dropped, line ends untouched), or None where it does not
        decode: the read then stops at that byte, and says so."""
        decoder = codecs.getincrementaldecoder(self.settled_codec())()
        try:
            text = decoder.decode(self.head[self.skip :], len(self.head) == self.size)
        except UnicodeDecodeError:
            return None
        return text.removeprefix("\ufeff") if self.strip_mark else text

    def settled_codec(self) -> str:
        """`codec`, which must be settled: text needs it."""
        if self.codec is None:
            raise ValueError("the file was surveyed with settle=False: survey it again to read it")
        return self.codec

    def misdecoded(self) -> tuple[str, str] | None:
        """`(reason, excerpt)` when the file is no text in its codec: a tenth or more of
        `sample` is NUL (UTF-16/32 read as something else, or a binary file). Stray NULs
        in a text export stay in its records: ingest replaces and counts them."""
        text = self.sample()
        if not text or text.count("\x00") * MISDECODED_NUL_SHARE < len(text):
            return None
        reason = (
            f"file holds NUL characters once decoded as {self.name}: it looks like "
            f"{nul_guess(self.head)}; set `encoding` (e.g. utf-16-le) or re-export it as UTF-8"
        )
        return reason, printable(text[:1000])


def survey(handle: BinaryIO, encoding: str, *, settle: bool = True) -> Survey:
    """The first pass over `handle` (at its start): see the module docstring.

    `settle=False` is for a file that is probably unchanged, of which only the sha256
    is wanted: an `auto` file without a byte-order mark is then not checked for UTF-8
    (most of this pass's cost), and its `codec` is None; survey it again to read it.
    """
    digest = hashlib.sha256()
    block = handle.read(max(BLOCK_BYTES, SAMPLE_BYTES))
    head = block[:SAMPLE_BYTES]
    plan = _declared(head, encoding)
    check = plan is None and settle
    utf8 = codecs.getincrementaldecoder("utf-8")() if check else None
    cp1252 = check
    size = 0
    while block:
        digest.update(block)
        size += len(block)
        if utf8 is not None:
            view = memoryview(block)
            try:
                for at in range(0, len(block), TEXT_BYTES):  # not a whole block's text at once
                    utf8.decode(view[at : at + TEXT_BYTES])
            except UnicodeDecodeError:
                utf8 = None
        if cp1252 and _NOT_CP1252.search(block):
            cp1252 = False
        del block  # before the next read, not after: one block in memory at a time
        block = handle.read(BLOCK_BYTES)
    if plan is None and not settle:
        return Survey(digest.hexdigest(), size, None, encoding, 0, False, head)
    if plan is None:
        if utf8 is not None:
            try:
                utf8.decode(b"", True)
            except UnicodeDecodeError:  # cut in a character at the very end
                utf8 = None
        codec = "utf-8" if utf8 is not None else "cp1252" if cp1252 else "latin-1"
        plan = (codec, codec, 0, False)
    codec, name, skip, strip_mark = plan
    return Survey(digest.hexdigest(), size, codec, name, skip, strip_mark, head)


def _declared(head: bytes, encoding: str) -> tuple[str, str, int, bool] | None:
    """`(codec, name, skip, strip_mark)` as `decode` would read a file starting with
    `head`; None for `auto` without a byte-order mark (the whole file decides)."""
    if encoding in ("utf-8", "utf-8-sig"):
        mark = len(codecs.BOM_UTF8) if head.startswith(codecs.BOM_UTF8) else 0
        return "utf-8", encoding, mark, True
    if encoding != "auto":
        return encoding, encoding, 0, True
    for bom, name, codec in _BOMS:
        if head.startswith(bom):
            return codec, name, len(bom), False
    return None


class FileText:
    """The second pass: the surveyed file's text, read once, incrementally.

    Use one of `lines()` and `read_all()`, then `finish()`. `at` turns a place in
    the file (`"byte 8"`, `"line 3"`) into a `RejectedRecord` location.
    """

    def __init__(self, handle: BinaryIO, surveyed: Survey, at: Callable[[str], str]) -> None:
        self._handle = handle
        self._survey = surveyed
        self._at = at
        self._digest = hashlib.sha256()
        self._left = surveyed.size
        self._offset = 0  # of the next byte read
        handle.seek(0)

    def lines(self) -> Iterator[str]:
        """The text line by line, each with its "\\n" (the last may have none).

        Raises `RecordError` for a line over `MAX_LINE_CHARS` (after the lines
        before it), and where the text stops decoding.
        """
        parts: list[str] = []  # the line being read, when it spans blocks
        held = 0
        n = 0
        for text in self.texts():
            pieces = text.split("\n")
            if len(pieces) == 1:
                parts.append(text)
                held += len(text)
                if held > MAX_LINE_CHARS:
                    raise RecordError(
                        f"line {n + 1} is longer than {MAX_LINE_CHARS:,} characters: the "
                        "rest of the file is not read (is it a file of one record per line?)",
                        location=self._at(f"line {n + 1}"),
                    )
                continue
            if parts:
                pieces[0] = "".join(parts) + pieces[0]
            rest = pieces.pop()
            parts, held = ([rest], len(rest)) if rest else ([], 0)
            n += len(pieces)
            for line in pieces:
                yield line + "\n"
            del text, pieces  # before the next block is decoded
        if parts:
            yield "".join(parts)

    def read_all(self) -> str:
        """The whole text (for formats parsed in one piece; the caller caps the size)."""
        return "".join(self.texts())

    def texts(self) -> Iterator[str]:
        """The text in pieces of about a block: no mark, "\\n" line ends. Raises
        `RecordError` where it stops decoding, after the text before that byte."""
        surveyed = self._survey
        decoder = io.IncrementalNewlineDecoder(
            codecs.getincrementaldecoder(surveyed.settled_codec())(), translate=True
        )
        skip, strip_mark = surveyed.skip, surveyed.strip_mark
        tail = b""  # the bytes before the block, for an excerpt
        while block := self._read():
            start = self._offset - len(block)  # of the block in the file
            cut = min(skip, len(block))  # the byte-order mark, which no decoder sees
            text, failure = _decode(decoder, block[cut:], start + cut)
            skip -= cut
            if strip_mark and text:
                text, strip_mark = text.removeprefix("\ufeff"), False
            if text:
                yield text
            if failure is not None:
                raise self._stopped(failure, tail + block, start - len(tail))
            tail = block[-60:]
            del block, text  # before the next block is read
        # the end: a character cut short there does not decode, a last CR is a line end
        text, failure = _decode(decoder, b"", self._offset, final=True)
        if strip_mark and text:
            text = text.removeprefix("\ufeff")
        if text:
            yield text
        if failure is not None:
            raise self._stopped(failure, tail, self._offset - len(tail))

    def finish(self) -> bool:
        """Read (and hash) what the parser left; are the bytes read the surveyed ones?"""
        try:
            while self._read():
                pass
        except OSError:
            return False
        return self._digest.hexdigest() == self._survey.sha256

    def _read(self) -> bytes:
        if self._left <= 0:
            return b""
        block = self._handle.read(min(TEXT_BYTES, self._left))
        self._left = self._left - len(block) if block else 0
        self._offset += len(block)
        self._digest.update(block)
        return block

    def _stopped(self, failure: _Failure, window: bytes, window_at: int) -> RecordError:
        """The `RecordError` for a byte that does not decode; `window` holds the bytes
        around it (from file offset `window_at`)."""
        at, name = failure.offset, self._survey.name
        if name.replace("_", "-").startswith("utf-8"):
            name = "UTF-8"
        around = window[max(0, at - 60 - window_at) : max(0, at + 60 - window_at)]
        return RecordError(
            f"file is not valid {name} ({failure.reason} at byte {at}); "
            "set `encoding` to the file's encoding (e.g. cp1252, utf-16) or re-export it as "
            "UTF-8",
            excerpt=printable(around.decode("utf-8", errors="backslashreplace")),
            location=self._at(f"byte {at}"),
        )


@dataclass(frozen=True, slots=True)
class _Failure:
    offset: int  # in the file
    reason: str  # the codec's: "invalid start byte"


def _decode(
    decoder: io.IncrementalNewlineDecoder, data: bytes, start: int, *, final: bool = False
) -> tuple[str, _Failure | None]:
    """Decode `data` (from file offset `start`): its text, or the text before the first
    byte that does not decode and where that byte is."""
    state = decoder.getstate()
    try:
        return decoder.decode(data, final), None
    except UnicodeDecodeError as exc:
        held = len(state[0])  # bytes of a character begun in the block before
        failure = _Failure(start - held + exc.start, exc.reason)
        good = data[: max(0, exc.start - held)]
    decoder.setstate(state)
    text = ""
    try:  # the text before the bad byte, and a CR just before it as a line end
        text = decoder.decode(good)
        text += decoder.decode(b"", True)
    except UnicodeDecodeError:
        pass
    return text, failure


def nul_guess(data: bytes) -> str:
    """What a file with NUL bytes probably is, from where its NULs fall."""
    head = data[:4096]
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if odd > 3 * even and odd >= len(head) // 4:
        return "UTF-16 LE without a byte-order mark"
    if even > 3 * odd and even >= len(head) // 4:
        return "UTF-16 BE without a byte-order mark"
    return "UTF-16/32 without a byte-order mark, or not a text file"


def printable(text: str) -> str:
    """An excerpt of a mis-decoded file: no NUL characters, at most 500 characters."""
    text = text.replace("\x00", "")
    return text if len(text) <= 500 else text[:499] + "…"
