"""Daily rollups as additive deltas: what a set of voices adds to (or, for an edited
or re-enriched item, takes from) each rollup row, applied in one upsert per table.

Sums are integers in thousandths, so adding a voice and later taking it away
leaves exactly nothing behind, and rollups kept incrementally equal a rebuild.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Table, and_, delete, or_
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from app.bulk import upsert_rows
from app.db_types import utcnow
from app.models import ITEM_LEVEL
from app.readmodel import customer_sets
from app.readmodel.expressions import EXPRESSIONS, expressions_of
from app.readmodel.facts import Fact, ItemRecord
from app.readmodel.versions import ROLLUPS_CHANGED, bump
from app.scales import countable
from nlp.enrichment import UNASSIGNED

STAGE_DAILY = "stage_daily"
ITEM_DAILY = "item_daily"
RATINGS = "stage_daily_ratings"
THEMES = "stage_daily_themes"
CUSTOMERS = "daily_customers"
ALL_TIME_CUSTOMERS = "stage_customers"
ALL_TIME_THEMES = "stage_themes"

KEYS: dict[str, tuple[str, ...]] = {
    STAGE_DAILY: ("day", "stage", "channel", "source_id"),
    ITEM_DAILY: ("day", "channel", "source_id"),
    RATINGS: ("day", "stage", "channel", "source_id", "scale"),
    THEMES: ("day", "stage", "channel", "source_id", "theme"),
    CUSTOMERS: ("day", "stage", "channel", "source_id", "customer"),
    ALL_TIME_CUSTOMERS: ("stage", "customer"),
    ALL_TIME_THEMES: ("stage", "theme"),
}
MAX_THEME_CHARS = 120


def milli(value: float) -> int:
    return round(value * 1000)


def nps_class(rating: float) -> str:
    """Promoters answer 9-10, passives 7-8, detractors 0-6."""
    return "promoters" if rating >= 9 else "passives" if rating >= 7 else "detractors"


METRICS: tuple[str, ...] = (
    "voices",
    "negative",
    "neutral",
    "positive",
    "sentiment_milli",
    "nps_answers",
    "promoters",
    "passives",
    "detractors",
    "csat_answers",
    "csat_satisfied",
    "ces_answers",
    "ces_milli",
    *EXPRESSIONS,
)
"""The value columns of `stage_daily`, in the order a delta vector holds them."""

THEME_METRICS: tuple[str, ...] = (
    "voices",
    "negative",
    "neutral",
    "positive",
    "sentiment_milli",
    "nps_answers",
    "promoters",
    "detractors",
)
"""The value columns of the theme rollups (daily and all-time)."""

COLUMNS: dict[str, tuple[str, ...]] = {
    STAGE_DAILY: METRICS,
    ITEM_DAILY: (*METRICS, "unassigned"),
    RATINGS: ("answers", "total_milli"),
    THEMES: THEME_METRICS,
    CUSTOMERS: ("voices",),
    ALL_TIME_CUSTOMERS: ("voices",),
    ALL_TIME_THEMES: THEME_METRICS,
}
_AT = {name: i for i, name in enumerate(METRICS)}
_THEME_PICK = tuple(_AT[name] for name in COLUMNS[THEMES])
_ONE = (1,)
_LABELS = frozenset({"negative", "neutral", "positive"})


_EXPRESSED = len(METRICS) - len(EXPRESSIONS)


def _metrics(item: ItemRecord, label: str, score: float) -> list[int]:
    """A voice as a vector over `METRICS` (`label` and `score`: in its stage)."""
    rating, scale = item.rating, item.rating_scale
    vector = [0] * len(METRICS)
    vector[0] = 1
    if label in _LABELS:
        vector[_AT[label]] = 1
    vector[4] = milli(score)
    if countable(rating, scale):
        assert rating is not None
        if scale == "nps_0_10":
            vector[5] = 1
            vector[_AT[nps_class(rating)]] = 1
        elif scale == "csat_1_5":
            vector[9] = 1
            vector[10] = int(rating >= 4)
        elif scale == "ces_1_7":
            vector[11] = 1
            vector[12] = milli(rating)
    if item.attributes:
        vector[_EXPRESSED:] = expressions_of(item.attributes)
    return vector


class Deltas:
    """What a batch adds to and takes from each rollup table, by row key: one
    integer vector per row, over the table's `COLUMNS` (a Counter per row cost
    more than the database writes)."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[tuple[Any, ...], list[int]]] = {table: {} for table in KEYS}

    def _add(self, table: str, key: tuple[Any, ...], vector: Sequence[int], sign: int) -> None:
        rows = self.rows[table]
        target = rows.get(key)
        if target is None:
            rows[key] = list(vector) if sign == 1 else [-v for v in vector]
        elif sign == 1:
            rows[key] = [a + b for a, b in zip(target, vector, strict=True)]
        else:
            rows[key] = [a - b for a, b in zip(target, vector, strict=True)]

    def counters(self, table: str) -> dict[tuple[Any, ...], Counter[str]]:
        """The rows of one table as named counts (for readers that sum them)."""
        names = COLUMNS[table]
        return {
            key: Counter(dict(zip(names, vector, strict=True)))
            for key, vector in self.rows[table].items()
        }

    def fact(self, fact: Fact, sign: int = 1) -> None:
        item = fact.item
        cell = (fact.day, fact.stage, item.channel, item.source_id)
        metrics = _metrics(item, fact.label, fact.score)
        self._add(STAGE_DAILY, cell, metrics, sign)
        if countable(item.rating, item.rating_scale):
            assert item.rating is not None
            assert item.rating_scale is not None
            self._add(RATINGS, (*cell, item.rating_scale), (1, milli(item.rating)), sign)
        if fact.themes:
            theme_vector = [metrics[i] for i in _THEME_PICK]
            for theme in dict.fromkeys(t[:MAX_THEME_CHARS] for t in fact.themes):
                self._add(THEMES, (*cell, theme), theme_vector, sign)
                self._add(ALL_TIME_THEMES, (fact.stage, theme), theme_vector, sign)
        if item.customer:
            self._add(CUSTOMERS, (*cell, item.customer), _ONE, sign)
            self._add(ALL_TIME_CUSTOMERS, (fact.stage, item.customer), _ONE, sign)

    def item(self, item: ItemRecord, stages: Iterable[str], sign: int = 1) -> None:
        """The item once, whatever its stages (`stages`: those of its facts)."""
        cell = (item.day, item.channel, item.source_id)
        metrics = _metrics(item, item.label, item.score)
        metrics.append(int(not any(stage != UNASSIGNED for stage in stages)))
        self._add(ITEM_DAILY, cell, metrics, sign)
        if item.customer:
            self._add(
                CUSTOMERS,
                (item.day, ITEM_LEVEL, item.channel, item.source_id, item.customer),
                _ONE,
                sign,
            )
            self._add(ALL_TIME_CUSTOMERS, (ITEM_LEVEL, item.customer), _ONE, sign)

    def apply(self, conn: Connection) -> None:
        """One upsert per table (add the deltas to what is there), then drop the rows
        no voice is left in, so a rollup holds exactly the rows a rebuild would."""
        now = utcnow()
        if any(any(v) for rows in self.rows.values() for v in rows.values()):
            bump(conn, ROLLUPS_CHANGED)  # answers kept in memory (the story's) are stale
        for name, rows in self.rows.items():
            changed = {k: v for k, v in rows.items() if any(v)}
            if not changed:
                continue
            keys, columns = KEYS[name], COLUMNS[name]
            table: Table = SQLModel.metadata.tables[name]
            stamped = "updated_at" in table.c
            stamp = (now,) if stamped else ()
            upsert_rows(
                conn,
                table,
                [*keys, *columns, *(["updated_at"] if stamped else [])],
                [(*key, *vector, *stamp) for key, vector in changed.items()],
                keys=keys,
                add=columns,
                replace=["updated_at"] if stamped else [],
            )
            # A row is left empty only where its count went down (column 0 counts
            # voices or answers; a sentiment sum below zero empties nothing).
            emptied = [key for key, vector in changed.items() if vector[0] < 0]
            dropped = _drop_empty(conn, table, keys, emptied) if emptied else []
            if name == CUSTOMERS:
                joined = [key for key, vector in changed.items() if vector[0] > 0]
                customer_sets.update(conn, joined, dropped)


def _drop_empty(
    conn: Connection, table: Table, keys: tuple[str, ...], touched: list[tuple[Any, ...]]
) -> list[tuple[Any, ...]]:
    """Delete the touched rows no voice is left in; returns their keys."""
    count_column = "answers" if "answers" in table.c else "voices"
    dropped: list[tuple[Any, ...]] = []
    for start in range(0, len(touched), 200):
        chunk = touched[start : start + 200]
        match = or_(
            *(and_(*(table.c[k] == v for k, v in zip(keys, key, strict=True))) for key in chunk)
        )
        found = conn.execute(
            delete(table)
            .where(match, table.c[count_column] <= 0)
            .returning(*(table.c[k] for k in keys))
        )
        dropped.extend(tuple(row) for row in found)
    return dropped
