"""`ethnography`: field and interview notes in Markdown/TXT with YAML front matter."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from pydantic import Field

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
    as_id,
    attribute_value,
    excerpt,
    split_front_matter,
    tidy,
)
from connectors.values import as_text

_RESERVED = frozenset({"participant", "date", "stage", "id"})


class EthnographyConfig(FileConnectorConfig):
    """Config of an `ethnography` source."""

    min_chars: int = Field(
        default=20, ge=0, description="Paragraphs shorter than this (after clean-up) are skipped."
    )


class EthnographyConnector(FileConnector[EthnographyConfig]):
    """Field and interview notes (Markdown/TXT with YAML front matter), one item per paragraph.

    Front matter: `date` (required), `participant` (author), `stage` (hint for the
    whole file), `id` (default: its path under the root without extension); other keys become
    attributes. External id: `"{file id}#p{n}"`, n counting kept paragraphs from 1.
    """

    kind: ClassVar[str] = "ethnography"
    channel: ClassVar[str] = "ethnography"
    config_model: ClassVar[type[EthnographyConfig]] = EthnographyConfig
    extensions: ClassVar[tuple[str, ...]] = (".md", ".markdown", ".txt")

    def parse_file(self, text: str, source: SourceFile) -> Iterator[RawItem | RejectedRecord]:
        meta, body = split_front_matter(text, source)
        if meta is None:
            raise RecordError(
                "no YAML front matter: the file must start with a `---` line, then at "
                "least `date: YYYY-MM-DD`, then a closing `---` line",
                excerpt=excerpt(text),
            )
        file_id = as_id(meta.get("id")) or source.default_id
        try:
            occurred_at = self.read_date(meta.get("date"))
        except ValueError as exc:
            raise RecordError(
                f"{exc} in front matter `date` (required)",
                excerpt=excerpt(text),
                external_id=file_id,
            ) from None
        participant = as_text(meta.get("participant"))
        hint, _ = self.column_hint(meta)  # the key stays an attribute like any other
        stage = as_text(meta.get("stage")) or hint.stage  # the file's own `stage` wins
        attributes: dict[str, AttributeValue] = {
            key: attribute_value(value) for key, value in meta.items() if key not in _RESERVED
        }
        n = 0
        for paragraph in markdown_paragraphs(body):
            if len(paragraph) < self.config.min_chars:
                continue
            n += 1
            yield RawItem(
                external_id=f"{file_id}#p{n}",
                text=paragraph,
                occurred_at=occurred_at,
                author_ref=participant,
                stage_hint=stage,
                hint_value=hint.value,
                attributes=dict(attributes),
            )


_HEADING = re.compile(r"^\s{0,3}#{1,6}(\s|$)")
_UNDERLINE = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_QUOTE = re.compile(r"^\s*(>\s?)+")
_LIST = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
_FENCE = re.compile(r"^\s*(```|~~~)")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_EMPHASIS = (
    re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"),
    re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])"),
    re.compile(r"(?<!\w)_(?=\S)(.+?)(?<=\S)_(?!\w)"),
    re.compile(r"(~~)(?=\S)(.+?)(?<=\S)\1"),
    re.compile(r"`([^`]+)`"),
)


def _inline(line: str) -> str:
    line = _IMAGE.sub("", line)
    line = _LINK.sub(r"\1", line)
    for pattern in _EMPHASIS:
        line = pattern.sub(lambda m: m.group(m.lastindex or 0), line)
    return line


def markdown_paragraphs(body: str) -> Iterator[str]:
    """Plain-text paragraphs of a Markdown body.

    Paragraphs are separated by blank lines. Heading lines (ATX `#` and setext)
    and horizontal rules are dropped; code fences lose their fence lines;
    blockquote and list markers, emphasis, links (their text stays) and images
    are stripped. List items stay on their own lines; other lines are joined.
    """
    body = _COMMENT.sub("", body)
    for block in re.split(r"\n[ \t]*\n", body):
        lines = block.split("\n")
        kept: list[str] = []
        for i, raw in enumerate(lines):
            following = lines[i + 1] if i + 1 < len(lines) else ""
            if _HEADING.match(raw) or _FENCE.match(raw) or _RULE.match(raw):
                continue
            if _UNDERLINE.match(raw) or (raw.strip() and _UNDERLINE.match(following)):
                continue  # a setext heading and its underline
            line = _QUOTE.sub("", raw)
            is_item = bool(_LIST.match(line))
            line = _inline(_LIST.sub("", line)).strip()
            if not line:
                continue
            if kept and not is_item:
                kept[-1] = f"{kept[-1]} {line}"
            else:
                kept.append(line)
        text = tidy("\n".join(kept))
        if text:
            yield text
