"""`social_export`: Mastodon statuses exported as JSON or NDJSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, field_validator

from connectors.base import (
    AttributeValue,
    FileConnector,
    FileConnectorConfig,
    RawItem,
    RejectedRecord,
    SourceFile,
)
from connectors.errors import RecordError
from connectors.html_text import html_to_text
from connectors.parsing import as_id, excerpt, json_problem, load_json
from connectors.values import NO_HINT, DateReader, Hint, StageHints, as_text


class SocialExportConfig(FileConnectorConfig):
    """Config of a `social_export` source."""

    include_boosts: bool = Field(
        default=False,
        description="Keep boosts (`reblog` not null); they repeat someone else's words, "
        "so they are skipped by default.",
    )
    include_replies: bool = Field(default=True, description="Keep replies (`in_reply_to_id`).")
    stage_by_tag: dict[str, str] = Field(
        default_factory=dict,
        description="Hashtag (without `#`, any case) → journey stage key; the first tag "
        "of a post found here gives its stage hint.",
    )

    @field_validator("stage_by_tag")
    @classmethod
    def _check_tags(cls, value: dict[str, str]) -> dict[str, str]:
        StageHints.normalise(value, strip="#")
        return value


class SocialExportConnector(FileConnector[SocialExportConfig]):
    """Mastodon statuses (a JSON array or NDJSON of API status objects); HTML becomes text.

    External id: the status `id`; author: `account.acct`; attributes `url`,
    `language`, `tags`, `favourites_count`, `reblogs_count`, `replies_count` (and
    `favourites`, as before). Boosts are skipped unless `include_boosts`.
    """

    kind: ClassVar[str] = "social_export"
    channel: ClassVar[str] = "social"
    config_model: ClassVar[type[SocialExportConfig]] = SocialExportConfig
    extensions: ClassVar[tuple[str, ...]] = (".json", ".ndjson", ".jsonl")

    def __init__(self, config: SocialExportConfig, *, base_dir: Path) -> None:
        super().__init__(config, base_dir=base_dir)
        self.tag_hints = StageHints(
            config.stage_by_tag, active=bool(config.stage_by_tag), strip="#"
        )
        self.reader = StatusReader(
            read_date=self.read_date,
            include_boosts=config.include_boosts,
            include_replies=config.include_replies,
            tag_hints=self.tag_hints,
            column_hint=self.column_hint,
        )

    streamed_extensions: ClassVar[frozenset[str]] = frozenset({".ndjson", ".jsonl"})

    def parse_file(self, text: str, source: SourceFile) -> Iterator[RawItem | RejectedRecord]:
        if source.path.suffix.lower() != ".json":
            yield from self.parse_lines(iter(text.split("\n")), source)
            return
        payload = load_json(text, source)
        if not isinstance(payload, list):
            raise RecordError(
                f"expected a JSON array of statuses, got {type(payload).__name__}",
                excerpt=excerpt(text),
                location=source.at(),
            )
        for n, status in enumerate(payload, start=1):
            yield from self._status(status, source.at(f"record {n}"))

    def parse_lines(
        self, lines: Iterator[str], source: SourceFile
    ) -> Iterator[RawItem | RejectedRecord]:
        """NDJSON: one status per line; a line that is not JSON is one reject. Lines
        end at "\n" only: a U+2028 in a status's text is no line end."""
        for n, line in enumerate(lines, start=1):
            line = line.removesuffix("\n")
            if not line.strip():
                continue
            try:
                status = json.loads(line)
            except json.JSONDecodeError as exc:
                yield RejectedRecord(
                    reason=f"invalid JSON line: {exc.msg} at column {exc.colno}",
                    excerpt=excerpt(line),
                    location=source.at(f"line {n}"),
                )
                continue
            except (ValueError, RecursionError) as exc:
                yield RejectedRecord(
                    reason=json_problem(exc), excerpt=excerpt(line), location=source.at(f"line {n}")
                )
                continue
            yield from self._status(status, source.at(f"line {n}"))

    def _status(self, status: Any, where: str) -> Iterator[RawItem | RejectedRecord]:
        yield from self.reader(status, where)


@dataclass(frozen=True)
class StatusReader:
    """A Mastodon status (an API `Status` object) to a `RawItem`, the same for an
    export (`social_export`) and the live API (`mastodon`).

    Boosts (`reblog` set) are skipped unless `include_boosts` (then the boosted
    words, with `boosted_by` / `boost_of`); replies are kept unless
    `include_replies` is off (`in_reply_to_id` kept). HTML becomes text; a
    media-only post says nothing and is skipped. Amplification is kept as
    attributes `favourites_count`, `reblogs_count`, `replies_count` (of the words'
    status) plus `favourites` (the export's name from before).
    """

    read_date: DateReader
    include_boosts: bool
    include_replies: bool
    tag_hints: StageHints
    column_hint: Callable[[dict[str, Any]], tuple[Hint, dict[str, AttributeValue]]] | None = None

    def __call__(self, status: Any, where: str) -> Iterator[RawItem | RejectedRecord]:
        if not isinstance(status, dict):
            yield RejectedRecord(
                reason=f"status is not a JSON object ({type(status).__name__})",
                excerpt=excerpt(status),
                location=where,
            )
            return
        status_id = as_id(status.get("id"))
        boosted = status.get("reblog")
        if boosted is not None and not self.include_boosts:
            return
        if status.get("in_reply_to_id") is not None and not self.include_replies:
            return

        def reject(reason: str) -> RejectedRecord:
            return RejectedRecord(
                reason=reason, excerpt=excerpt(status), external_id=status_id, location=where
            )

        if status_id is None:
            yield reject("missing status `id`")
            return
        try:
            occurred_at = self.read_date(status.get("created_at"))
        except ValueError as exc:
            yield reject(f"{exc} in `created_at`")
            return
        attributes: dict[str, AttributeValue] = {}
        words = status
        if boosted is not None:
            if not isinstance(boosted, dict):
                yield reject("`reblog` is not a status object")
                return
            words = boosted
            attributes["boosted_by"] = _acct(status)
            attributes["boost_of"] = as_id(boosted.get("id"))
        content = words.get("content")
        if content is None:
            content = ""
        if not isinstance(content, str):
            yield reject(f"`content` is not a string ({type(content).__name__})")
            return
        text = html_to_text(content)
        if not text:
            return  # a media-only post: nothing was said
        tags = _tags(words)
        reply_to = as_id(status.get("in_reply_to_id"))
        if reply_to is not None:
            attributes["in_reply_to_id"] = reply_to
        attributes.update(
            url=as_text(words.get("url")),
            language=as_text(words.get("language")),
            tags=",".join(tags) or None,
            favourites=_count(words.get("favourites_count")),
            favourites_count=_count(words.get("favourites_count")),
            reblogs_count=_count(words.get("reblogs_count")),
            replies_count=_count(words.get("replies_count")),
        )
        hint, hint_attribute = self.column_hint(status) if self.column_hint else (NO_HINT, {})
        if hint.stage is None:  # `hint_column` first, then the first mapped tag
            tag_hint = self.tag_hints.first(tags)
            if tag_hint.stage is not None or hint.value is None:
                hint = tag_hint
        attributes.update(hint_attribute)
        yield RawItem(
            external_id=status_id,
            text=text,
            occurred_at=occurred_at,
            author_ref=_acct(words),
            stage_hint=hint.stage,
            hint_value=hint.value,
            attributes=attributes,
        )


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _acct(status: dict[str, Any]) -> str | None:
    account = status.get("account")
    return as_text(account.get("acct")) if isinstance(account, dict) else None


def _tags(status: dict[str, Any]) -> list[str]:
    raw = status.get("tags")
    if not isinstance(raw, list):
        return []
    names = (as_text(t.get("name")) if isinstance(t, dict) else as_text(t) for t in raw)
    return [n.lstrip("#").lower() for n in names if n]
