"""`call_notes`: call-centre notes (CSV/JSON rows) and transcripts (.txt/.vtt)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Self

from pydantic import Field, field_validator, model_validator

from connectors.base import (
    AttributeValue,
    FileConnector,
    FileConnectorConfig,
    RawItem,
    RejectedRecord,
    SourceFile,
)
from connectors.errors import RecordError
from connectors.parsing import (
    Row,
    as_id,
    attribute_value,
    excerpt,
    read_csv_rows,
    read_rows,
    split_front_matter,
)
from connectors.values import StageHints, as_text

_ROW_SUFFIXES = frozenset({".csv", ".json"})
_META_KEYS = ("call_id", "date", "customer", "reason")


class CallNotesConfig(FileConnectorConfig):
    """Config of a `call_notes` source."""

    id_field: str = Field(default="call_id", min_length=1, description="Row field: call id.")
    date_field: str = Field(
        default="started_at",
        min_length=1,
        description="Row field: call time (see `date_format`, `dayfirst`, `timezone`).",
    )
    text_field: str = Field(
        default="notes",
        min_length=1,
        description="Row field: the notes (rows with none are skipped).",
    )
    customer_field: str | None = Field(
        default="customer_id", description="Row field: customer reference (null: none)."
    )
    reason_field: str | None = Field(
        default="reason",
        description="Row field: call reason, kept as attribute `reason` (null: none).",
    )
    reason_stages: dict[str, str] = Field(
        default_factory=dict,
        description="Call reason (any case, trimmed) → journey stage key, the stage hint; "
        "the same as `hint_column` on the reason with `hint_values` (set one of them).",
    )
    customer_speakers: list[str] = Field(
        default_factory=lambda: ["customer", "caller"],
        min_length=1,
        description="Transcript speaker labels that are the customer (case-insensitive; "
        "`Customer 2` or `Caller (Ana)` match too). Only their turns are kept.",
    )
    attributes: list[str] = Field(
        default_factory=list, description="Extra row fields kept as item attributes."
    )

    @field_validator("reason_stages")
    @classmethod
    def _check_reasons(cls, value: dict[str, str]) -> dict[str, str]:
        StageHints.normalise(value)
        return value

    @model_validator(mode="after")
    def _one_hint_map(self) -> Self:
        if self.reason_stages and self.hint_column is not None:
            raise ValueError(
                "set reason_stages (hints from the call reason) or hint_column with "
                "hint_values, not both"
            )
        return self

    @field_validator("customer_speakers")
    @classmethod
    def _lower_speakers(cls, value: list[str]) -> list[str]:
        return [s.strip().lower() for s in value if s.strip()]


@dataclass(slots=True)
class _Turn:
    speaker: str
    words: list[str]


class CallNotesConnector(FileConnector[CallNotesConfig]):
    """Call-centre notes (CSV/JSON rows) and transcripts (.txt/.vtt), one item per call.

    Transcripts keep only the customer's turns; a transcript without any is
    rejected. Call reasons map to stage hints through `reason_stages`.
    """

    kind: ClassVar[str] = "call_notes"
    channel: ClassVar[str] = "call"
    config_model: ClassVar[type[CallNotesConfig]] = CallNotesConfig
    extensions: ClassVar[tuple[str, ...]] = (".csv", ".json", ".txt", ".vtt")

    def __init__(self, config: CallNotesConfig, *, base_dir: Path) -> None:
        super().__init__(config, base_dir=base_dir)
        self.reason_hints = StageHints(config.reason_stages, active=bool(config.reason_stages))

    streamed_extensions: ClassVar[frozenset[str]] = frozenset({".csv"})

    def parse_file(self, text: str, source: SourceFile) -> Iterator[RawItem | RejectedRecord]:
        suffix = source.path.suffix.lower()
        if suffix in _ROW_SUFFIXES:
            required = self._required()
            yield from self._calls(
                read_rows(text, source, required_columns=required, list_key="calls")
            )
            return
        if suffix == ".vtt":
            meta, turns = _read_vtt(text, source)
        else:
            front, body = split_front_matter(text, source)
            meta, turns = front or {}, _read_txt(body)
        yield self._transcript(meta, turns, source, text)

    def parse_lines(
        self, lines: Iterator[str], source: SourceFile
    ) -> Iterator[RawItem | RejectedRecord]:
        yield from self._calls(read_csv_rows(lines, source, required_columns=self._required()))

    # -- rows --------------------------------------------------------------------

    def _required(self) -> list[str]:
        cfg = self.config
        return [cfg.id_field, cfg.date_field, cfg.text_field]

    def _calls(self, rows: Iterable[Row | RejectedRecord]) -> Iterator[RawItem | RejectedRecord]:
        for row in rows:
            record = row if isinstance(row, RejectedRecord) else self._row(row)
            if record is not None:
                yield record

    def _row(self, row: Row) -> RawItem | RejectedRecord | None:
        """One call, a reject, or None for a call without notes (nothing was heard)."""
        cfg = self.config
        data = row.data
        call_id = as_id(data.get(cfg.id_field))
        if call_id is None:
            return RejectedRecord(
                reason=f"missing call id (field {cfg.id_field!r})",
                excerpt=row.excerpt,
                location=row.location,
            )
        try:
            occurred_at = self.read_date(data.get(cfg.date_field))
        except ValueError as exc:
            return RejectedRecord(
                reason=f"{exc} in field {cfg.date_field!r}",
                excerpt=row.excerpt,
                external_id=call_id,
                location=row.location,
            )
        notes = as_text(data.get(cfg.text_field))
        if notes is None:
            return None
        reason = as_text(data.get(cfg.reason_field)) if cfg.reason_field else None
        extra = {name: attribute_value(data[name]) for name in cfg.attributes if name in data}
        customer = as_text(data.get(cfg.customer_field)) if cfg.customer_field else None
        return self._item(call_id, notes, occurred_at, customer, reason, extra, data)

    # -- transcripts -------------------------------------------------------------

    def _transcript(
        self, meta: dict[str, Any], turns: list[_Turn], source: SourceFile, raw: str
    ) -> RawItem | RejectedRecord:
        call_id = as_id(meta.get("call_id")) or source.default_id
        if meta.get("date") is None:
            occurred_at = source.modified_at
        else:
            try:
                occurred_at = self.read_date(meta["date"])
            except ValueError as exc:
                raise RecordError(
                    f"{exc} in transcript metadata `date`",
                    excerpt=excerpt(raw),
                    external_id=call_id,
                ) from None
        said = [" ".join(t.words) for t in turns if self._is_customer(t.speaker)]
        said = [s for s in said if s]
        if not said:
            speakers = sorted({t.speaker for t in turns})
            found = ", ".join(speakers) if speakers else "none"
            return RejectedRecord(
                reason=f"transcript has no customer turns (speakers found: {found}; "
                f"customer_speakers: {', '.join(self.config.customer_speakers)})",
                excerpt=excerpt(raw),
                external_id=call_id,
                location=source.at(),
            )
        extra = {
            str(k): attribute_value(v)
            for k, v in meta.items()
            if k not in _META_KEYS and not isinstance(v, dict)
        }
        column = self.config.hint_column
        if column is not None and column not in meta:  # NOTE keys are read lower-case
            meta = {**meta, column: meta.get(column.lower())}
        return self._item(
            call_id,
            "\n".join(said),
            occurred_at,
            as_text(meta.get("customer")),
            as_text(meta.get("reason")),
            extra,
            meta,
        )

    def _is_customer(self, speaker: str) -> bool:
        label = speaker.strip().lower()
        return any(
            label == s or (label.startswith(s) and not label[len(s)].isalnum())
            for s in self.config.customer_speakers
        )

    def _item(
        self,
        call_id: str,
        text: str,
        occurred_at: datetime,
        customer: str | None,
        reason: str | None,
        extra: dict[str, AttributeValue],
        record: Mapping[str, Any],
    ) -> RawItem:
        """One call; its hint from `hint_column` of `record` (row or metadata), or else
        from the reason through `reason_stages`."""
        attributes: dict[str, AttributeValue] = {**extra}
        if reason is not None:
            attributes["reason"] = reason
        if self.config.hint_column is not None:
            hint, hint_attribute = self.column_hint(record)
            attributes.update(hint_attribute)
        else:
            hint = self.reason_hints.lookup(reason)
        return RawItem(
            external_id=call_id,
            text=text,
            occurred_at=occurred_at,
            author_ref=customer,
            stage_hint=hint.stage,
            hint_value=hint.value,
            attributes=attributes,
        )


_SPEAKER_LINE = re.compile(r"^\s*([A-Za-z][\w .'()-]{0,39}?)\s*:\s*(.*)$")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?\s+([^>]+)>")
_TAG = re.compile(r"<[^>]*>")
_META_LINE = re.compile(r"^\s*([A-Za-z_][\w-]*)\s*:\s*(.*?)\s*$")


def _add(turns: list[_Turn], speaker: str | None, words: str) -> None:
    words = words.strip()
    if speaker is None:
        if turns and words:
            turns[-1].words.append(words)
        return  # words before anyone spoke: a preamble, not a turn
    if turns and turns[-1].speaker == speaker:
        if words:
            turns[-1].words.append(words)
    else:
        turns.append(_Turn(speaker, [words] if words else []))


def _read_txt(body: str) -> list[_Turn]:
    """`Speaker: words` lines; a line without a speaker continues the turn before."""
    turns: list[_Turn] = []
    for line in body.splitlines():
        match = _SPEAKER_LINE.match(line)
        if match:
            _add(turns, match.group(1).strip(), match.group(2))
        else:
            _add(turns, None, line)
    return turns


def _read_vtt(text: str, source: SourceFile) -> tuple[dict[str, Any], list[_Turn]]:
    """WebVTT cues with `<v Speaker>` tags or `Speaker:` prefixes, plus NOTE metadata."""
    lines = text.splitlines()
    if not lines or not lines[0].startswith("WEBVTT"):
        raise RecordError(
            "not a WebVTT file (its first line must be `WEBVTT`)",
            excerpt=excerpt(text),
            location=source.at("line 1"),
        )
    meta: dict[str, Any] = {}
    turns: list[_Turn] = []
    blocks = re.split(r"\n[ \t]*\n", "\n".join(lines[1:]))
    for block in blocks:
        block_lines = [ln for ln in block.split("\n") if ln.strip()]
        if not block_lines:
            continue
        head = block_lines[0]
        if head.startswith("NOTE"):
            for meta_line in [head[4:], *block_lines[1:]]:
                found = _META_LINE.match(meta_line)
                if found:
                    meta[found.group(1).lower()] = found.group(2)
            continue
        timing = next((i for i, ln in enumerate(block_lines) if "-->" in ln), None)
        if timing is None:
            continue  # STYLE, REGION or stray text: not a cue
        for payload in block_lines[timing + 1 :]:
            voice = _VOICE.search(payload)
            words = html.unescape(_TAG.sub("", payload)).strip()
            if voice:
                _add(turns, voice.group(1).strip(), words)
                continue
            prefixed = _SPEAKER_LINE.match(words)
            if prefixed:
                _add(turns, prefixed.group(1).strip(), prefixed.group(2))
            else:
                _add(turns, None, words)
    return meta, turns
