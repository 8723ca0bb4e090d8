"""The file machinery: `FileConnector`, the shared base of every kind that reads files.

It resolves `path` (a file, a folder or a glob; nothing outside its root), hashes
and decodes each file, keeps the per-file cursor and cuts batches, so a kind only
turns one decoded file into a stream of `RawItem`s and `RejectedRecord`s (see
`FileConnector.parse_file`).

A drop folder needs nothing more: the per-file cursor already picks up new files
and re-reads changed ones on every scheduled run (`watch: true` says so in the
config and changes nothing else; see `FileConnectorConfig.watch`).
"""

from __future__ import annotations

import codecs
import fnmatch
import logging
import os
import stat
from abc import abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, ClassVar, Self, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from connectors.contract import (
    AttributeValue,
    Batch,
    Connector,
    ConnectorConfig,
    Cursor,
    RawItem,
    RejectedRecord,
)
from connectors.errors import FatalError, RecordError
from connectors.filetext import FileText, Survey, survey
from connectors.values import NO_HINT, DateReader, Hint, StageHints

logger = logging.getLogger(__name__)

_GLOB_CHARS = frozenset("*?[")


class FileConnectorConfig(ConnectorConfig):
    """Config shared by every kind that reads files."""

    path: str = Field(
        description=(
            "A file, a folder (every matching file in it, sorted, recursively; hidden "
            "files skipped) or a glob. Relative paths resolve against the directory "
            "of the sources file. Only files under the path's root (the folder, the "
            "file's own folder, or the glob's fixed leading folder) are read."
        ),
        min_length=1,
    )
    batch_size: int = Field(
        default=200,
        ge=1,
        le=10_000,
        description="Records (items + rejects) per batch, i.e. per ingest transaction.",
    )
    encoding: str = Field(
        default="auto",
        description="`auto` (default): a byte-order mark decides (UTF-8, UTF-16 LE/BE, "
        "UTF-32), else UTF-8, else (not UTF-8) cp1252 as Excel writes on Western Windows, "
        "or latin-1 where cp1252 has no character; or a codec name such as `utf-16`, "
        "`cp1252`, `latin-1`, `shift_jis`.",
    )
    max_whole_file_mb: int = Field(
        default=64,
        ge=1,
        le=4096,
        description="Largest file (MB) of a format parsed in one piece (a JSON array, a "
        "transcript, a Markdown note): a larger one is one reject saying so, instead of a "
        "file held whole in memory. Formats read record by record (CSV, NDJSON/JSONL) are "
        "read in bounded memory whatever their size.",
    )
    date_format: str | None = Field(
        default=None,
        description="strptime pattern of the source's dates, e.g. `%d/%m/%Y %H:%M`; tried "
        "first, ISO 8601 is still accepted.",
    )
    dayfirst: bool = Field(
        default=False,
        description="Read dates that are not ISO 8601 as day-first (`21/04/2018 20:09`, "
        "`5 Apr 2018`) with python-dateutil; ISO 8601 is tried first.",
    )
    timezone: str = Field(
        default="UTC",
        description="IANA time zone (e.g. `Europe/London`) of times without an offset, "
        "and of dates alone (midnight there); times are stored in UTC.",
    )
    hint_column: str | None = Field(
        default=None,
        min_length=1,
        description="Field whose value gives a stage hint through `hint_values` (a CSV "
        "column or JSON key, a front-matter or NOTE key, a status key); its value is "
        "also kept as an item attribute of that name.",
    )
    hint_values: dict[str, str] = Field(
        default_factory=dict,
        description="Value of `hint_column` (any case, trimmed) → journey stage key, e.g. "
        '`{"First bill": billing}`; an unmapped value gives no hint but is counted.',
    )
    follow_symlinks: bool = Field(
        default=False,
        description="Read files (and folders) that are symbolic links, as long as their "
        "target lies under the path's root too; by default symlinks are skipped (and logged).",
    )
    watch: bool = Field(
        default=False,
        description="A drop folder that another job copies exports into: every scheduled "
        "run reads new files and re-reads changed ones (as any file source does), and "
        "leaves a file modified less than `settle_seconds` ago for the next run, so a file "
        "still being copied in is never read half-written.",
    )
    settle_seconds: float = Field(
        default=10.0,
        ge=0,
        le=3600,
        description="With `watch`: how long (seconds) a file must be left unmodified "
        "before it is read.",
    )

    @field_validator("encoding")
    @classmethod
    def _known_codec(cls, value: str) -> str:
        name = value.strip().lower()
        if name == "auto":
            return name
        try:
            b"a".decode(name, "ignore")  # refuses bytes-to-bytes codecs (base64, zlib) too
        except LookupError:
            raise ValueError(
                f"unknown text encoding {value!r}; use auto, or a codec name such as "
                "utf-8, utf-16, cp1252, latin-1"
            ) from None
        return codecs.lookup(name).name

    @field_validator("date_format")
    @classmethod
    def _a_pattern(cls, value: str | None) -> str | None:
        if value is not None and "%" not in value:
            raise ValueError(
                f"date_format {value!r} has no strftime directive; write it like %d/%m/%Y %H:%M"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as UTC, "
                "Europe/London or America/New_York"
            ) from None
        return value

    @model_validator(mode="after")
    def _one_date_style(self) -> Self:
        if self.date_format is not None and self.dayfirst:
            raise ValueError("set date_format or dayfirst, not both")
        return self

    @field_validator("hint_values")
    @classmethod
    def _hint_values(cls, value: dict[str, str]) -> dict[str, str]:
        StageHints.normalise(value)
        return value

    @model_validator(mode="after")
    def _hint_values_need_a_column(self) -> Self:
        if self.hint_values and self.hint_column is None:
            raise ValueError("hint_values needs hint_column: the field whose value is looked up")
        return self

    def date_reader(self) -> DateReader:
        """The reader of this source's dates (`connectors.values.DateReader`)."""
        return DateReader(self.date_format, self.dayfirst, ZoneInfo(self.timezone))


FileConfigT = TypeVar("FileConfigT", bound=FileConnectorConfig)


_MB = 1_000_000

CHANGED_WHILE_READ = "changed-while-read"
"""The cursor's sha256 of a file whose bytes changed while it was read: it matches no
file, so the next run reads that file again from its start."""


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One file being read: where it is, its cursor key and its fingerprint."""

    path: Path
    relpath: str  # cursor key and location prefix: relative to the source's root, POSIX
    sha256: str
    modified_at: datetime  # the file's modification time, UTC

    def at(self, where: str | None = None) -> str:
        """A `RejectedRecord.location`: `"calls.csv:row 17"` or just `"calls.csv"`."""
        return f"{self.relpath}:{where}" if where else self.relpath

    @property
    def default_id(self) -> str:
        """The file's id when its content names none: its path relative to the source's
        root without the suffix (`"a/call"` for `a/call.txt`; the stem at the root)."""
        return PurePosixPath(self.relpath).with_suffix("").as_posix()


@dataclass(frozen=True, slots=True)
class FoundFile:
    """A file `path` names: where it is, and its path relative to the source's root."""

    path: Path
    relpath: str
    legacy_key: str  # its cursor key before keys were relative to the root


@dataclass(frozen=True, slots=True)
class _FileState:
    sha256: str
    done: int
    complete: bool


class FileConnector(Connector[FileConfigT]):
    """Base of every file-reading kind.

    Cursor format (opaque to ingest)::

        {"files": {"<relpath>": {"sha256": "<hex>", "done": <n>, "complete": <bool>}}}

    `relpath` is relative to the source's root (see `resolve_files`). `done`
    counts the records (items and rejects) of that file delivered so far;
    `complete` says the file was read to its end. On the next fetch an unchanged
    complete file is skipped, an unchanged incomplete one resumes after record
    `done`, and a changed one (new sha256) is read again from its start (ingest's
    dedupe absorbs the records already stored). Every batch's cursor covers
    exactly the records yielded up to and including that batch. A file whose bytes
    changed while it was read ends with the sha256 `CHANGED_WHILE_READ`, so the next
    run reads it from its start. Entries of files no longer matched by `path` are
    dropped. When the last files read yield nothing (empty files) or entries were
    dropped, one final batch with no records carries the new cursor; a fetch with
    nothing new yields no batch at all.

    Nothing a connector returns holds a host path: locations and cursor keys are
    relative to the root, and error messages quote `path` as configured.

    Memory: a file is never held whole unless its format is parsed whole. Every
    file is read twice through one handle (`connectors.filetext`): once for its
    sha256 and codec, once as text. Files with a suffix in `streamed_extensions`
    reach `parse_lines` line by line, so a 200 MB CSV costs a block and a batch;
    any other file reaches `parse_file` whole, and only up to `max_whole_file_mb`.
    """

    capabilities: ClassVar[frozenset[str]] = frozenset({"files"})
    extensions: ClassVar[tuple[str, ...]]
    """Lower-case file suffixes (with the dot) this kind reads."""
    streamed_extensions: ClassVar[frozenset[str]] = frozenset()
    """The suffixes (among `extensions`) whose files go to `parse_lines`, line by line;
    the others are read whole and go to `parse_file`."""

    def __init__(self, config: FileConfigT, *, base_dir: Path) -> None:
        super().__init__(config, base_dir=base_dir)
        self.read_date = config.date_reader()
        """Every date of this source goes through this (`date_format`, `dayfirst`,
        `timezone`): `ValueError` with a reason for a bad one."""
        self.column_hints = StageHints(config.hint_values, active=config.hint_column is not None)

    def column_hint(self, record: Mapping[str, Any]) -> tuple[Hint, dict[str, AttributeValue]]:
        """The `hint_column` hint of one record (row, front matter, status), and the
        attribute that keeps its value (`{}` without `hint_column`)."""
        column = self.config.hint_column
        if column is None:
            return NO_HINT, {}
        hint = self.column_hints.lookup(record.get(column))
        return hint, {column: hint.value}

    @abstractmethod
    def parse_file(self, text: str, source: SourceFile) -> Iterator[RawItem | RejectedRecord]:
        """Turn one decoded file into records, in a deterministic order.

        Yield a `RejectedRecord` for a bad record and go on. Raise `RecordError`
        when the rest of the file cannot be read (invalid JSON, broken CSV): it
        becomes the file's last record. The base never calls this for a file that
        cannot decode (see `connectors.filetext`) or that decodes to many NUL characters, and
        `text` has its BOM removed and "\n" line ends; a stray NUL character stays (ingest
        replaces and counts it). A file over `max_whole_file_mb` never reaches it.
        """

    def parse_lines(
        self, lines: Iterator[str], source: SourceFile
    ) -> Iterator[RawItem | RejectedRecord]:
        """`parse_file` for a file with a suffix in `streamed_extensions`, which may be of
        any size: its text as lines, each ending with "\n" (the last one may not).

        The same rules as `parse_file`, and one more: where the file stops decoding
        (or a line is absurdly long) `lines` raises `RecordError`; let it through,
        like your own, so the records before it are kept and it ends the file.
        """
        raise NotImplementedError(
            f"{type(self).__name__} lists {sorted(self.streamed_extensions)} in "
            "streamed_extensions but does not implement parse_lines"
        )

    # -- path resolution ---------------------------------------------------------

    def resolve_files(self) -> list[FoundFile]:
        """The files `path` names, filtered by `extensions`, in a stable order.

        The root is the folder `path` names, a file's own folder, or a glob's fixed
        leading folder. Only regular files whose real path lies under the root are
        read; symlinks are skipped (with a logged warning) unless `follow_symlinks`,
        and even then one whose target lies outside the root is skipped.
        """
        raw = self.config.path
        raw_path = Path(raw).expanduser()
        base = raw_path if raw_path.is_absolute() else self.base_dir / raw_path
        if any(ch in raw for ch in _GLOB_CHARS):
            parts = raw_path.parts
            cut = next(i for i, part in enumerate(parts) if any(c in part for c in _GLOB_CHARS))
            anchor = Path(*parts[:cut]) if cut else Path()
            root = anchor if anchor.is_absolute() else self.base_dir / anchor
            if not root.is_dir():
                raise FatalError(
                    f"{self.kind}: the folder of glob `path: {raw}` does not exist {_RELATIVE_NOTE}"
                )
            return self._walk(root, parts[cut:])
        if base.is_dir():
            return self._walk(base, None)
        if base.is_file():
            root = base.parent
            if base.is_symlink() and not self._link_inside(base, root.resolve(), base.name):
                raise FatalError(
                    f"{self.kind}: `path: {raw}` is a symbolic link"
                    + (
                        " to a file outside its folder; point `path` at the file itself"
                        if self.config.follow_symlinks
                        else "; point `path` at the file itself, or set `follow_symlinks: true`"
                    )
                )
            if not self._wanted(base.name):
                raise FatalError(
                    f"{self.kind}: `path: {raw}` is not a {self._extensions_text()} "
                    "file; point `path` at one of those, or at a folder of them"
                )
            return [self._found(base, root, base.name)]
        raise FatalError(f"{self.kind}: `path: {raw}` does not exist {_RELATIVE_NOTE}")

    def _walk(self, root: Path, pattern: tuple[str, ...] | None) -> list[FoundFile]:
        """Wanted files under `root` (matching `pattern`, glob parts relative to it).

        A folder that cannot be listed fails the run (`FatalError`): skipping it
        would drop its files from the cursor as if they were deleted.
        """
        real_root = root.resolve()
        follow = self.config.follow_symlinks
        seen: set[Path] = set()
        found: list[FoundFile] = []

        def unlistable(exc: OSError) -> None:
            try:
                where = Path(exc.filename).relative_to(root).as_posix()
            except (TypeError, ValueError):
                where = "?"
            raise FatalError(
                f"{self.kind}: cannot list folder {where!r} of `path: {self.config.path}`: "
                f"{exc.strerror}"
            )

        for dirpath, dirnames, filenames in os.walk(root, onerror=unlistable, followlinks=follow):
            here = Path(dirpath)
            seen.add(here.resolve())
            rel_dir = here.relative_to(root).parts
            deeper = pattern is None or "**" in pattern or len(rel_dir) + 1 < len(pattern)
            keep: list[str] = []
            for name in sorted(dirnames):
                sub = here / name
                if name.startswith(".") or not deeper:
                    continue
                if sub.is_symlink():
                    if not self._link_inside(sub, real_root, "/".join((*rel_dir, name))):
                        continue
                    real = sub.resolve()
                    if real in seen:
                        logger.warning(
                            "%s: skipped symbolic link %s: its folder is read already (a loop?)",
                            self.kind,
                            "/".join((*rel_dir, name)),
                        )
                        continue
                    seen.add(real)
                keep.append(name)
            dirnames[:] = keep
            for name in filenames:
                rel = (*rel_dir, name)
                if name.startswith(".") or not self._wanted(name):
                    continue
                if pattern is not None and not _glob_match(pattern, rel):
                    continue
                path = here / name
                if path.is_symlink() and not self._link_inside(path, real_root, "/".join(rel)):
                    continue
                if path.is_file():  # not a fifo, socket, device or dangling link
                    found.append(self._found(path, root, "/".join(rel)))
        return sorted(found, key=lambda f: f.relpath)

    def _link_inside(self, link: Path, real_root: Path, shown: str) -> bool:
        """May we read through symlink `link` (`shown`: relative to the root)? Logs why not."""
        if not self.config.follow_symlinks:
            logger.warning(
                "%s: skipped symbolic link %s (set follow_symlinks: true to read links "
                "that stay inside the source folder)",
                self.kind,
                shown,
            )
            return False
        if not link.resolve().is_relative_to(real_root):
            logger.warning(
                "%s: skipped symbolic link %s: it points outside the source folder",
                self.kind,
                shown,
            )
            return False
        return True

    def _found(self, path: Path, root: Path, relpath: str) -> FoundFile:
        legacy = (root / relpath).resolve()
        try:
            legacy_key = legacy.relative_to(self.base_dir.resolve()).as_posix()
        except ValueError:
            legacy_key = legacy.as_posix()
        return FoundFile(path=path, relpath=relpath, legacy_key=legacy_key)

    def _wanted(self, name: str) -> bool:
        return PurePosixPath(name).suffix.lower() in self.extensions

    def _extensions_text(self) -> str:
        return "/".join(self.extensions)

    # -- fetching ----------------------------------------------------------------

    def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:
        states = _load_cursor(cursor)
        size = self.config.batch_size
        items: list[RawItem] = []
        rejected: list[RejectedRecord] = []
        files = self.resolve_files()
        for found in files:  # a cursor from before keys were relative to the root
            if found.relpath not in states and found.legacy_key in states:
                states[found.relpath] = states.pop(found.legacy_key)
        present = {found.relpath for found in files}
        gone = [relpath for relpath in states if relpath not in present]
        for relpath in gone:  # forget files no longer there, so the cursor stays small
            del states[relpath]
        dirty = bool(gone)
        settled_before = datetime.now(UTC).timestamp() - self.config.settle_seconds
        for found in files:
            if self.config.watch and _modified_after(found.path, settled_before):
                logger.info(
                    "%s: %s is still changing; it is read on a later run", self.kind, found.relpath
                )
                continue  # its cursor entry (if any) stays as it was
            prev = states.get(found.relpath)
            source, opened = self._open(found, settle=prev is None or not prev.complete)
            try:
                if prev is not None and prev.sha256 == source.sha256 and prev.complete:
                    continue
                if isinstance(opened, _OpenFile) and opened.survey.codec is None:
                    opened.handle.close()  # it changed after all: survey it whole, to read it
                    source, opened = self._open(found)
                skip = prev.done if prev is not None and prev.sha256 == source.sha256 else 0
                done = skip
                for record, last in _mark_last(self._records(opened, source), skip):
                    if isinstance(record, RawItem):
                        items.append(record)
                    else:
                        rejected.append(record)
                    done += 1
                    states[source.relpath] = _state(source, opened, done, last)
                    dirty = True
                    if len(items) + len(rejected) >= size:
                        yield Batch(items, rejected, _dump_cursor(states))
                        items, rejected, dirty = [], [], False
                end = _state(source, opened, done, True)
                if states.get(source.relpath) != end:  # nothing (more) in it: read to its end
                    states[source.relpath] = end
                    dirty = True
            finally:
                if isinstance(opened, _OpenFile):
                    opened.handle.close()
        if dirty:
            yield Batch(items, rejected, _dump_cursor(states))

    def _open(
        self, found: FoundFile, *, settle: bool = True
    ) -> tuple[SourceFile, _OpenFile | OSError]:
        """The file, surveyed (`connectors.filetext.survey`; `settle=False`: only its
        sha256 may be wanted) and open for its second read, or why it cannot be read:
        then its `sha256` is a marker of its size and time, so it is reported once, and
        read when it changes."""
        path = found.path
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)  # a fifo swapped in never blocks
        if not self.config.follow_symlinks:  # nor can a symlink swapped in since listing
            flags |= getattr(os, "O_NOFOLLOW", 0)
        opened: _OpenFile | OSError
        info: os.stat_result | None
        try:
            handle, info = _open_regular(path, flags)
            try:
                opened = _OpenFile(handle, survey(handle, self.config.encoding, settle=settle))
            except BaseException:
                handle.close()
                raise
            digest = opened.survey.sha256
        except OSError as exc:
            opened = exc
            try:
                info = os.stat(path, follow_symlinks=False)
                digest = f"unreadable:{info.st_size}:{info.st_mtime_ns}"
            except OSError:
                info, digest = None, "unreadable"
        mtime = info.st_mtime if info is not None else 0.0
        source = SourceFile(
            path=path,
            relpath=found.relpath,
            sha256=digest,
            modified_at=datetime.fromtimestamp(mtime, tz=UTC),
        )
        return source, opened

    def _scrub(self, text: str, source: SourceFile) -> str:
        """An exception's text without host paths: the file's folders and the base dir."""
        root = source.path.parents[len(PurePosixPath(source.relpath).parts) - 1]
        return _no_host_paths(text, [root, self.base_dir])

    def _records(
        self, opened: _OpenFile | OSError, source: SourceFile
    ) -> Iterator[RawItem | RejectedRecord]:
        """Decode and parse one file; no exception from the parser escapes. Once the
        records end, `opened.intact` says whether they are the surveyed file's."""
        if isinstance(opened, OSError):
            yield RejectedRecord(
                reason=f"cannot read the file: {opened.strerror or opened} (check that the "
                "service may read it; it is read again once it changes)",
                excerpt="",
                location=source.at(),
            )
            return
        surveyed = opened.survey
        suffix = PurePosixPath(source.relpath).suffix.lower()
        streamed = suffix in self.streamed_extensions
        limit = self.config.max_whole_file_mb
        if not streamed and surveyed.size > limit * _MB:
            yield RejectedRecord(
                reason=self._too_large(suffix, surveyed.size), excerpt="", location=source.at()
            )
            return
        misdecoded = surveyed.misdecoded()
        if misdecoded is not None:
            reason, excerpt = misdecoded
            yield RejectedRecord(reason=reason, excerpt=excerpt, location=source.at())
            return
        text = FileText(opened.handle, surveyed, source.at)
        try:
            if streamed:
                yield from self.parse_lines(text.lines(), source)
            else:
                yield from self.parse_file(text.read_all(), source)
        except RecordError as exc:
            yield RejectedRecord(
                reason=exc.reason,
                excerpt=exc.excerpt,
                external_id=exc.external_id,
                location=exc.location or source.at(),
            )
        except Exception as exc:  # a parser bug must not stop the run: quarantine the rest
            logger.exception("%s: unexpected error while reading %s", self.kind, source.relpath)
            yield RejectedRecord(
                reason=self._scrub(
                    f"could not read the rest of the file: {type(exc).__name__}: {exc}", source
                ),
                excerpt="",
                location=source.at(),
            )
        opened.intact = text.finish()
        if not opened.intact:
            logger.warning(
                "%s: %s changed while it was read; it is read again from its start on the next run",
                self.kind,
                source.relpath,
            )

    def _too_large(self, suffix: str, size: int) -> str:
        """Why a file parsed in one piece is not read at all."""
        limit = self.config.max_whole_file_mb
        others = [ext for ext in self.extensions if ext in self.streamed_extensions]
        fixes = f"split it, export it as {'/'.join(others)}" if others else "split it"
        return (
            f"file is {size / _MB:,.1f} MB, over `max_whole_file_mb` ({limit:,} MB): "
            f"{self.kind} parses a {suffix} file in one piece, in memory; {fixes}, or raise "
            "`max_whole_file_mb`"
        )


@dataclass(slots=True)
class _OpenFile:
    """A file after its survey, open for the second read."""

    handle: BinaryIO
    survey: Survey
    intact: bool = True  # the bytes the second read parsed were the surveyed ones


def _state(source: SourceFile, opened: _OpenFile | OSError, done: int, last: bool) -> _FileState:
    """A file's cursor entry after `done` records; `last`: the records ended."""
    if last and isinstance(opened, _OpenFile) and not opened.intact:
        return _FileState(CHANGED_WHILE_READ, done, False)
    return _FileState(source.sha256, done, last)


def _modified_after(path: Path, moment: float) -> bool:
    """Was `path` modified after `moment` (a POSIX time)? A file that vanished: no."""
    try:
        return os.stat(path).st_mtime > moment
    except OSError:
        return False


def _open_regular(path: Path, flags: int) -> tuple[BinaryIO, os.stat_result]:
    """A regular file open for reading (`OSError` for anything else), and its stat."""
    handle = os.fdopen(os.open(path, flags), "rb")
    try:
        info = os.fstat(handle.fileno())
    except OSError:
        handle.close()
        raise
    if not stat.S_ISREG(info.st_mode):
        handle.close()
        raise OSError(0, "not a regular file")
    return handle, info


_RELATIVE_NOTE = "(a relative path is read from the folder of the sources file)"


def _glob_match(pattern: tuple[str, ...], parts: tuple[str, ...]) -> bool:
    """Does a relative path (its parts) match glob parts (`**` = zero or more folders)?"""
    if not pattern:
        return not parts
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_glob_match(rest, parts[i:]) for i in range(len(parts) + 1))
    return bool(parts) and fnmatch.fnmatchcase(parts[0], head) and _glob_match(rest, parts[1:])


def _no_host_paths(text: str, folders: Iterable[Path]) -> str:
    """`text` with each of `folders` (and its real path) cut out of it."""
    for folder in folders:
        for shown in {str(folder.resolve()), str(folder)}:
            if len(shown) > 1:
                text = text.replace(shown + os.sep, "").replace(shown, ".")
    return text


def _mark_last(
    records: Iterable[RawItem | RejectedRecord], skip: int
) -> Iterator[tuple[RawItem | RejectedRecord, bool]]:
    """Drop the first `skip` records; pair each other one with "is it the last?"."""
    it = iter(records)
    for _ in range(skip):
        if next(it, None) is None:
            return
    pending = next(it, None)
    while pending is not None:
        following = next(it, None)
        yield pending, following is None
        pending = following


def _load_cursor(cursor: Cursor | None) -> dict[str, _FileState]:
    """Read our own cursor; an entry we cannot read just means "read that file again"."""
    states: dict[str, _FileState] = {}
    files = (cursor or {}).get("files")
    if not isinstance(files, dict):
        return states
    for relpath, entry in files.items():
        if not isinstance(entry, dict):
            continue
        sha, done, complete = entry.get("sha256"), entry.get("done"), entry.get("complete")
        if isinstance(sha, str) and isinstance(done, int) and done >= 0:
            states[str(relpath)] = _FileState(sha, done, complete is True)
    return states


def _dump_cursor(states: dict[str, _FileState]) -> Cursor:
    return {
        "files": {
            relpath: {"sha256": st.sha256, "done": st.done, "complete": st.complete}
            for relpath, st in sorted(states.items())
        }
    }
