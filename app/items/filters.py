"""Which items: one definition of the item filters, for the items API and the feeds.

A stage filter means "the item speaks of this stage": it has a voice there in the
read model, so `/items?stage=billing` lists exactly the voices the story counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Table, and_, exists, func
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import SQLModel

from app.readmodel.attributes import attribute_clauses


@dataclass(frozen=True, slots=True)
class ItemFilters:
    stage: str | None = None
    channel: str | None = None
    source: str | None = None
    sentiment: str | None = None
    date_from: datetime | None = None  # occurred at or after
    date_to: datetime | None = None  # occurred before
    contains: str | None = None
    customer: str | None = None
    attrs: Mapping[str, Sequence[str]] = field(default_factory=dict)
    rating_min: float | None = None
    rating_max: float | None = None
    rating_scale: str | None = None
    updated_since: datetime | None = None


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def item_clauses(f: ItemFilters, dialect: str) -> list[ColumnElement[bool]]:
    items: Table = SQLModel.metadata.tables["items"]
    c = items.c
    clauses: list[ColumnElement[bool]] = []
    if f.stage is not None:
        facts = SQLModel.metadata.tables["voice_facts"]
        clauses.append(exists().where(and_(facts.c.item_id == c.id, facts.c.stage == f.stage)))
    for column, value in (
        (c.channel, f.channel),
        (c.source_id, f.source),
        (c.sentiment_label, f.sentiment),
        (c.author_ref, f.customer),
        (c.rating_scale, f.rating_scale),
    ):
        if value is not None:
            clauses.append(column == value)
    if f.date_from is not None:
        clauses.append(c.occurred_at >= f.date_from)
    if f.date_to is not None:
        clauses.append(c.occurred_at < f.date_to)
    if f.updated_since is not None:
        clauses.append(c.updated_at >= f.updated_since)
    if f.rating_min is not None:
        clauses.append(c.rating >= f.rating_min)
    if f.rating_max is not None:
        clauses.append(c.rating <= f.rating_max)
    if f.attrs:
        clauses.extend(attribute_clauses(c.attributes, f.attrs, dialect))
    if f.contains:
        pattern = f"%{_escape_like(f.contains.lower())}%"
        clauses.append(func.lower(c.text).like(pattern, escape="\\"))
    return clauses
