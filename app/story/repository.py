"""Queries of the read model for the story: sums over daily rollups, never sentences."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import SQLModel

from app.models import ITEM_LEVEL, RollupMetrics

METRICS = tuple(RollupMetrics.model_fields)


def _table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


@dataclass(frozen=True, slots=True)
class Slice:
    """Which voices: whole UTC days [day_from, day_to), a source, a channel."""

    day_from: date | None = None
    day_to: date | None = None
    source: str | None = None
    channel: str | None = None

    def where(self, table: Table) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = []
        if self.day_from is not None:
            clauses.append(table.c.day >= self.day_from)
        if self.day_to is not None:
            clauses.append(table.c.day < self.day_to)
        if self.source is not None:
            clauses.append(table.c.source_id == self.source)
        if self.channel is not None:
            clauses.append(table.c.channel == self.channel)
        return clauses


def stage_metrics(conn: Connection, where: Slice) -> dict[str, dict[str, Counter[str]]]:
    """Per stage, per channel: the summed rollup metrics."""
    table = _table("stage_daily")
    query = (
        select(table.c.stage, table.c.channel, *(func.sum(table.c[m]) for m in METRICS))
        .where(*where.where(table))
        .group_by(table.c.stage, table.c.channel)
    )
    out: dict[str, dict[str, Counter[str]]] = defaultdict(dict)
    for stage, channel, *sums in conn.execute(query):
        out[stage][channel] = Counter(dict(zip(METRICS, (int(s or 0) for s in sums), strict=True)))
    return out


def item_metrics(conn: Connection, where: Slice) -> dict[str, Counter[str]]:
    """Per channel: items once each, with `unassigned`."""
    table = _table("item_daily")
    columns = (*METRICS, "unassigned")
    query = (
        select(table.c.channel, *(func.sum(table.c[m]) for m in columns))
        .where(*where.where(table))
        .group_by(table.c.channel)
    )
    return {
        channel: Counter(dict(zip(columns, (int(s or 0) for s in sums), strict=True)))
        for channel, *sums in conn.execute(query)
    }


def ratings(conn: Connection, where: Slice) -> dict[str, dict[str, tuple[int, int]]]:
    """Per stage, per scale: (answers, total in thousandths)."""
    table = _table("stage_daily_ratings")
    query = (
        select(
            table.c.stage, table.c.scale, func.sum(table.c.answers), func.sum(table.c.total_milli)
        )
        .where(*where.where(table))
        .group_by(table.c.stage, table.c.scale)
    )
    out: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    for stage, scale, answers, total in conn.execute(query):
        out[stage][scale] = (int(answers or 0), int(total or 0))
    return out


def customers(conn: Connection, where: Slice) -> dict[str, int]:
    """Exact distinct known customers per stage (`ITEM_LEVEL`: whatever the stage)."""
    table = _table("daily_customers")
    query = (
        select(table.c.stage, func.count(func.distinct(table.c.customer)))
        .where(*where.where(table))
        .group_by(table.c.stage)
    )
    return {stage: int(n) for stage, n in conn.execute(query)}


THEME_METRICS = ("voices", "negative", "neutral", "positive", "sentiment_milli")


def themes(conn: Connection, where: Slice) -> dict[str, dict[str, Counter[str]]]:
    """Per stage, per theme form: how many voices carry it and how they feel."""
    table = _table("stage_daily_themes")
    query = (
        select(table.c.stage, table.c.theme, *(func.sum(table.c[m]) for m in THEME_METRICS))
        .where(*where.where(table))
        .group_by(table.c.stage, table.c.theme)
    )
    out: dict[str, dict[str, Counter[str]]] = defaultdict(dict)
    for stage, theme, *sums in conn.execute(query):
        out[stage][theme] = Counter(
            dict(zip(THEME_METRICS, (int(s or 0) for s in sums), strict=True))
        )
    return out


def quote_candidates(
    conn: Connection, where: Slice, *, stage: str, label: str, limit: int
) -> Sequence[Any]:
    """A fixed pseudo-random sample of the voices of one polarity in a stage that
    have a sentence to quote (`quote_key` order: the same on every request)."""
    table = _table("voice_facts")
    query = (
        select(
            table.c.item_id, table.c.quote, table.c.quote_score, table.c.channel, table.c.quote_key
        )
        .where(
            table.c.stage == stage,
            table.c.label == label,
            table.c.quote.is_not(None),
            *where.where(table),
        )
        .order_by(table.c.quote_key)
        .limit(limit)
    )
    return conn.execute(query).all()


__all__ = ["ITEM_LEVEL", "METRICS", "Slice"]
