"""Queries of the read model for the story: sums over daily rollups, never sentences."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import Date, Table, func, literal_column, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from app.models import ITEM_LEVEL, RollupMetrics
from app.models import table as _table
from app.readmodel import customer_sets
from app.readmodel.attributes import attribute_clauses
from app.readmodel.facts import Fact, ItemRecord
from app.readmodel.rollups import THEME_METRICS, Deltas

METRICS = tuple(RollupMetrics.model_fields)


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


def stage_days(conn: Connection, where: Slice, stage: str) -> dict[date, Counter[str]]:
    """One stage's summed metrics per day."""
    table = _table("stage_daily")
    query = (
        select(table.c.day, *(func.sum(table.c[m]) for m in METRICS))
        .where(table.c.stage == stage, *where.where(table))
        .group_by(table.c.day)
        .order_by(table.c.day)
    )
    return {
        day: Counter(dict(zip(METRICS, (int(s or 0) for s in sums), strict=True)))
        for day, *sums in conn.execute(query)
    }


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
    if where == Slice():  # all time, every source: one row per (stage, customer) kept
        everyone = _table("stage_customers")
        query = select(everyone.c.stage, func.count()).group_by(everyone.c.stage)
        return {stage: int(n) for stage, n in conn.execute(query)}
    return customer_sets.union_sizes(conn, where.where(_table("customer_sets")))


def themes(conn: Connection, where: Slice) -> dict[str, dict[str, Counter[str]]]:
    """Per stage, per theme form: how many voices carry it and how they feel."""
    # all time, every source: the all-time rows, not every day's
    table = _table("stage_themes" if where == Slice() else "stage_daily_themes")
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
    conn: Connection,
    where: Slice,
    *,
    stage: str,
    label: str,
    limit: int,
    attrs: Mapping[str, Sequence[str]] | None = None,
) -> Sequence[Any]:
    """A fixed pseudo-random sample of the voices of one polarity in a stage that
    have a sentence to quote (`quote_key` order: the same on every request)."""
    table = _table("voice_facts")
    day: Any = table.c.day
    if conn.dialect.name == "sqlite":
        # `+day` keeps SQLite's planner off the (stage, day) index: it would read every
        # voice of the stage in the period and sort them, where the quotes index gives
        # the sample in order (measured 58 -> 3 ms for nine samples at 200k items).
        day = literal_column("+voice_facts.day", Date)
    period = Slice(source=where.source, channel=where.channel)
    days = [day >= where.day_from] if where.day_from is not None else []
    if where.day_to is not None:
        days.append(day < where.day_to)
    query = (
        select(
            table.c.item_id, table.c.quote, table.c.quote_score, table.c.channel, table.c.quote_key
        )
        .where(
            table.c.stage == stage,
            table.c.label == label,
            table.c.quote.is_not(None),
            *days,
            *period.where(table),
            *attribute_clauses(table.c.attributes, attrs or {}, conn.dialect.name),
        )
        .order_by(table.c.quote_key)
        .limit(limit)
    )
    return conn.execute(query).all()


__all__ = ["ITEM_LEVEL", "METRICS", "Slice"]


def filtered_deltas(
    conn: Connection, where: Slice, attrs: Mapping[str, Sequence[str]]
) -> tuple[Deltas, dict[tuple[Any, ...], datetime]]:
    """What the voices of the items matching `attrs` in `where` add to each rollup
    row (rollups do not keep attributes), and when each `stage_daily` cell's newest
    voice last changed. Summed through `Deltas`, the very code that writes the
    rollups, so a filtered number is made exactly as an unfiltered one."""
    items, facts = _table("items"), _table("voice_facts")
    deltas = Deltas()
    changed: dict[tuple[Any, ...], datetime] = {}
    clauses = attribute_clauses(items.c.attributes, attrs, conn.dialect.name)
    if where.source is not None:
        clauses.append(items.c.source_id == where.source)
    if where.channel is not None:
        clauses.append(items.c.channel == where.channel)
    if where.day_from is not None:
        clauses.append(items.c.occurred_at >= _midnight(where.day_from))
    if where.day_to is not None:
        clauses.append(items.c.occurred_at < _midnight(where.day_to))
    after = 0
    while True:
        rows = [
            dict(r)
            for r in conn.execute(
                select(items).where(items.c.id > after, *clauses).order_by(items.c.id).limit(2_000)
            ).mappings()
        ]
        if not rows:
            break
        records = {int(r["id"]): ItemRecord.from_row(r) for r in rows}
        updated = {int(r["id"]): r["updated_at"] for r in rows}
        stages: dict[int, list[str]] = defaultdict(list)
        for row in conn.execute(
            select(
                facts.c.item_id, facts.c.stage, facts.c.score, facts.c.label, facts.c.themes
            ).where(facts.c.item_id.in_(list(records)))
        ):
            item = records[int(row.item_id)]
            fact = Fact(item, row.stage, float(row.score), row.label, tuple(row.themes), None, None)
            deltas.fact(fact)
            stages[item.id].append(row.stage)
            cell = (item.day, row.stage, item.channel, item.source_id)
            stamp = updated[item.id]
            if cell not in changed or changed[cell] < stamp:
                changed[cell] = stamp
        for item_id, item in records.items():
            deltas.item(item, stages.get(item_id, []))
        after = int(rows[-1]["id"])
    return deltas, changed


class FactReader:
    """The same sums as the rollup queries above, for voices filtered on item
    attributes (`filtered_deltas`)."""

    def __init__(self, conn: Connection, where: Slice, attrs: Mapping[str, Sequence[str]]) -> None:
        deltas, _ = filtered_deltas(conn, where, attrs)
        self._rows = {table: deltas.counters(table) for table in deltas.rows}

    def stage_metrics(self) -> dict[str, dict[str, Counter[str]]]:
        out: dict[str, dict[str, Counter[str]]] = defaultdict(dict)
        for (_, stage, channel, _), counts in self._rows["stage_daily"].items():
            out[stage].setdefault(channel, Counter()).update(counts)
        return out

    def item_metrics(self) -> dict[str, Counter[str]]:
        out: dict[str, Counter[str]] = {}
        for (_, channel, _), counts in self._rows["item_daily"].items():
            out.setdefault(channel, Counter()).update(counts)
        return out

    def ratings(self) -> dict[str, dict[str, tuple[int, int]]]:
        out: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
        for (_, stage, _, _, scale), counts in self._rows["stage_daily_ratings"].items():
            answers, total = out[stage].get(scale, (0, 0))
            out[stage][scale] = (answers + counts["answers"], total + counts["total_milli"])
        return out

    def stage_days(self, stage: str) -> dict[date, Counter[str]]:
        out: dict[date, Counter[str]] = {}
        for (day, key, _, _), counts in self._rows["stage_daily"].items():
            if key == stage:
                out.setdefault(day, Counter()).update(counts)
        return dict(sorted(out.items()))

    def customers(self) -> dict[str, int]:
        seen: dict[str, set[str]] = defaultdict(set)
        for _, stage, _, _, customer in self._rows["daily_customers"]:
            seen[stage].add(customer)
        return {stage: len(names) for stage, names in seen.items()}

    def themes(self) -> dict[str, dict[str, Counter[str]]]:
        out: dict[str, dict[str, Counter[str]]] = defaultdict(dict)
        for (_, stage, _, _, theme), counts in self._rows["stage_daily_themes"].items():
            out[stage].setdefault(theme, Counter()).update({k: counts[k] for k in THEME_METRICS})
        return out


class RollupReader:
    """The story's numbers from the daily rollups (no attribute filter)."""

    def __init__(self, conn: Connection, where: Slice) -> None:
        self.conn, self.where = conn, where

    def stage_metrics(self) -> dict[str, dict[str, Counter[str]]]:
        return stage_metrics(self.conn, self.where)

    def item_metrics(self) -> dict[str, Counter[str]]:
        return item_metrics(self.conn, self.where)

    def ratings(self) -> dict[str, dict[str, tuple[int, int]]]:
        return ratings(self.conn, self.where)

    def customers(self) -> dict[str, int]:
        return customers(self.conn, self.where)

    def stage_days(self, stage: str) -> dict[date, Counter[str]]:
        return stage_days(self.conn, self.where, stage)

    def themes(self) -> dict[str, dict[str, Counter[str]]]:
        return themes(self.conn, self.where)


def reader(
    conn: Connection, where: Slice, attrs: Mapping[str, Sequence[str]] | None
) -> RollupReader | FactReader:
    return FactReader(conn, where, attrs) if attrs else RollupReader(conn, where)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)
