"""The connector contract: `RawItem`, `RejectedRecord`, `Batch` and `Connector`.

Ingest (in `app/`) stores each batch's items, rejects and cursor in ONE
transaction, so a connector must make every batch's cursor cover exactly the
records yielded up to and including that batch: resuming from it after a crash
neither skips nor (beyond what dedupe absorbs) repeats a record.

`FileConnector` is the shared base of every kind that reads files: it resolves
`path`, hashes and decodes each file, keeps the per-file cursor and cuts batches,
so a kind only turns one decoded file into a stream of `RawItem`s and
`RejectedRecord`s (see `FileConnector.parse_file`).
"""

from __future__ import annotations

import glob
import hashlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from connectors.errors import FatalError, RecordError

logger = logging.getLogger(__name__)

Cursor = dict[str, Any]
"""JSON-serialisable resume point; opaque to everything but its connector."""

AttributeValue = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class RawItem:
    """One piece of customer feedback as the source gave it.

    `occurred_at` is timezone-aware (UTC preferred). `rating` keeps the source's
    own number with its `rating_scale` (e.g. "nps_0_10", "stars_1_5", "csat_1_5").
    `stage_hint` is a journey stage key mapped in the source's config (question,
    call reason, ticket category, front matter) or None. `hint_value` is the
    source's own value that was looked up for a hint (a touchpoint, a call reason,
    a tag), kept so ingest can count the values the config does not map:
    `hint_value` set and `stage_hint` None means "unmapped". `channel` overrides
    the connector's default channel when one source mixes channels.
    """

    external_id: str
    text: str
    occurred_at: datetime
    rating: float | None = None
    rating_scale: str | None = None
    author_ref: str | None = None
    stage_hint: str | None = None
    channel: str | None = None
    attributes: dict[str, AttributeValue] = field(default_factory=dict)
    hint_value: str | None = None


@dataclass(frozen=True, slots=True)
class RejectedRecord:
    """A record the connector could not turn into a `RawItem`: kept in quarantine."""

    reason: str
    excerpt: str
    external_id: str | None = None
    location: str | None = None  # e.g. "survey.csv:row 17"


@dataclass(frozen=True, slots=True)
class Batch:
    items: list[RawItem]
    rejected: list[RejectedRecord]
    cursor: Cursor


class ConnectorConfig(BaseModel):
    """Base for every connector's pydantic `Config`: unknown keys are an error,
    so a typo in sources.yaml fails loudly instead of being ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


ConfigT = TypeVar("ConfigT", bound=ConnectorConfig)


class Connector(ABC, Generic[ConfigT]):
    """One source kind. Subclasses declare `kind`, `channel` and `config_model`,
    and implement `fetch`.

    `base_dir` is where relative paths in the config resolve (the directory of the
    sources file), so a sources.yaml can travel with its data.
    """

    kind: ClassVar[str]
    channel: ClassVar[str]
    config_model: ClassVar[type[ConnectorConfig]]

    def __init__(self, config: ConfigT, *, base_dir: Path) -> None:
        self.config = config
        self.base_dir = base_dir

    @classmethod
    def from_mapping(cls, raw: dict[str, Any], *, base_dir: Path) -> Connector[Any]:
        """Validate raw config (from YAML) and build the connector.

        Raises `connectors.errors.ConfigError` with every bad field named.
        """
        from pydantic import ValidationError

        from connectors.errors import ConfigError

        try:
            config = cls.config_model.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '<config>'}: {err['msg']}"
                for err in exc.errors()
            )
            raise ConfigError(f"invalid config for {cls.kind!r} source: {problems}") from exc
        return cls(config, base_dir=base_dir)  # type: ignore[arg-type]

    @abstractmethod
    def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:
        """Yield batches from where `cursor` (None: the beginning) left off."""


# --------------------------------------------------------------------------- files

_GLOB_CHARS = frozenset("*?[")


class FileConnectorConfig(ConnectorConfig):
    """Config shared by every kind that reads files."""

    path: str = Field(
        description=(
            "A file, a folder (every matching file in it, sorted, recursively; hidden "
            "files skipped) or a glob. Relative paths resolve against the directory "
            "of the sources file."
        ),
        min_length=1,
    )
    batch_size: int = Field(
        default=200,
        ge=1,
        le=10_000,
        description="Records (items + rejects) per batch, i.e. per ingest transaction.",
    )


FileConfigT = TypeVar("FileConfigT", bound=FileConnectorConfig)


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One file being read: where it is, its cursor key and its fingerprint."""

    path: Path
    relpath: str  # cursor key and location prefix: relative to base_dir when inside it
    sha256: str
    modified_at: datetime  # the file's modification time, UTC

    def at(self, where: str | None = None) -> str:
        """A `RejectedRecord.location`: `"calls.csv:row 17"` or just `"calls.csv"`."""
        return f"{self.relpath}:{where}" if where else self.relpath


@dataclass(frozen=True, slots=True)
class _FileState:
    sha256: str
    done: int
    complete: bool


class FileConnector(Connector[FileConfigT]):
    """Base of every file-reading kind.

    Cursor format (opaque to ingest)::

        {"files": {"<relpath>": {"sha256": "<hex>", "done": <n>, "complete": <bool>}}}

    `done` counts the records (items and rejects) of that file delivered so far;
    `complete` says the file was read to its end. On the next fetch an unchanged
    complete file is skipped, an unchanged incomplete one resumes after record
    `done`, and a changed one (new sha256) is read again from its start (ingest's
    dedupe absorbs the records already stored). Every batch's cursor covers
    exactly the records yielded up to and including that batch. Entries of files
    no longer matched by `path` are dropped. When the last files read yield
    nothing (empty files) or entries were dropped, one final batch with no records
    carries the new cursor; a fetch with nothing new yields no batch at all.
    """

    extensions: ClassVar[tuple[str, ...]]
    """Lower-case file suffixes (with the dot) this kind reads."""

    @abstractmethod
    def parse_file(self, text: str, source: SourceFile) -> Iterator[RawItem | RejectedRecord]:
        """Turn one decoded file into records, in a deterministic order.

        Yield a `RejectedRecord` for a bad record and go on. Raise `RecordError`
        when the rest of the file cannot be read (invalid JSON, broken CSV): it
        becomes the file's last record. The base never calls this for a file that
        is not valid UTF-8, and `text` has its BOM removed and "\n" line ends.
        """

    # -- path resolution ---------------------------------------------------------

    def resolve_files(self) -> list[Path]:
        """The files `path` names, filtered by `extensions`, in a stable order."""
        raw = self.config.path
        target = Path(raw).expanduser()
        if not target.is_absolute():
            target = self.base_dir / target
        if any(ch in raw for ch in _GLOB_CHARS):
            return self._resolve_glob(target)
        if target.is_dir():
            return self._resolve_folder(target)
        if target.is_file():
            if not self._wanted(target):
                raise FatalError(
                    f"{self.kind}: {target.resolve()} is not a {self._extensions_text()} "
                    "file; point `path` at one of those, or at a folder of them"
                )
            return [target]
        raise FatalError(
            f"{self.kind}: path {target.resolve()} does not exist "
            f"(`path: {raw}` resolved against {self.base_dir.resolve()})"
        )

    def _resolve_folder(self, root: Path) -> list[Path]:
        found = [
            p
            for p in root.rglob("*")
            if p.is_file()
            and self._wanted(p)
            and not any(part.startswith(".") for part in p.relative_to(root).parts)
        ]
        return sorted(found, key=lambda p: p.relative_to(root).as_posix())

    def _resolve_glob(self, pattern: Path) -> list[Path]:
        fixed: list[str] = []
        for part in pattern.parts:
            if any(ch in part for ch in _GLOB_CHARS):
                break
            fixed.append(part)
        anchor = Path(*fixed) if fixed else Path(".")
        if not anchor.is_dir():
            raise FatalError(
                f"{self.kind}: folder {anchor.resolve()} of glob `{self.config.path}` "
                "does not exist"
            )
        matches = {Path(m) for m in glob.glob(str(pattern), recursive=True)}
        return sorted(
            (p for p in matches if p.is_file() and self._wanted(p)), key=lambda p: p.as_posix()
        )

    def _wanted(self, path: Path) -> bool:
        return path.suffix.lower() in self.extensions

    def _extensions_text(self) -> str:
        return "/".join(self.extensions)

    def _relpath(self, path: Path) -> str:
        resolved = path.resolve()
        try:
            return resolved.relative_to(self.base_dir.resolve()).as_posix()
        except ValueError:
            return resolved.as_posix()

    # -- fetching ----------------------------------------------------------------

    def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:
        states = _load_cursor(cursor)
        size = self.config.batch_size
        items: list[RawItem] = []
        rejected: list[RejectedRecord] = []
        files = self.resolve_files()
        present = {self._relpath(path) for path in files}
        gone = [relpath for relpath in states if relpath not in present]
        for relpath in gone:  # forget files no longer there, so the cursor stays small
            del states[relpath]
        dirty = bool(gone)
        for path in files:
            source, data = self._open(path)
            prev = states.get(source.relpath)
            if prev is not None and prev.sha256 == source.sha256 and prev.complete:
                continue
            skip = prev.done if prev is not None and prev.sha256 == source.sha256 else 0
            done = skip
            for record, last in _mark_last(self._records(data, source), skip):
                if isinstance(record, RawItem):
                    items.append(record)
                else:
                    rejected.append(record)
                done += 1
                states[source.relpath] = _FileState(source.sha256, done, last)
                dirty = True
                if len(items) + len(rejected) >= size:
                    yield Batch(items, rejected, _dump_cursor(states))
                    items, rejected, dirty = [], [], False
            current = states.get(source.relpath)
            if current is None or current.sha256 != source.sha256 or not current.complete:
                # nothing (more) in this file: remember it as read
                states[source.relpath] = _FileState(source.sha256, done, True)
                dirty = True
        if dirty:
            yield Batch(items, rejected, _dump_cursor(states))

    def _open(self, path: Path) -> tuple[SourceFile, bytes]:
        try:
            data = path.read_bytes()
            modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
        except OSError as exc:
            raise FatalError(f"{self.kind}: cannot read {path.resolve()}: {exc.strerror}") from exc
        source = SourceFile(
            path=path,
            relpath=self._relpath(path),
            sha256=hashlib.sha256(data).hexdigest(),
            modified_at=modified,
        )
        return source, data

    def _records(self, data: bytes, source: SourceFile) -> Iterator[RawItem | RejectedRecord]:
        """Decode and parse one file; no exception from the parser escapes."""
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            yield RejectedRecord(
                reason=(
                    f"file is not valid UTF-8 ({exc.reason} at byte {exc.start}); "
                    "re-export it as UTF-8"
                ),
                excerpt=data[max(0, exc.start - 60) : exc.start + 60].decode(
                    "utf-8", errors="backslashreplace"
                ),
                location=source.at(f"byte {exc.start}"),
            )
            return
        text = text.replace("\r\n", "\n").replace("\r", "\n")  # parsers see "\n" only
        try:
            yield from self.parse_file(text, source)
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
                reason=f"could not read the rest of the file: {type(exc).__name__}: {exc}",
                excerpt="",
                location=source.at(),
            )


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
