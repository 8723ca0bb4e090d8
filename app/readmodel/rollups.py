"""Daily rollups as additive deltas: what a set of voices adds to (or, for an edited
or re-enriched item, takes from) each rollup row, applied in one upsert per table.

Sums are integers in thousandths, so adding a voice and later taking it away
leaves exactly nothing behind, and rollups kept incrementally equal a rebuild.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Table, and_, delete, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from app.db_types import utcnow
from app.models import ITEM_LEVEL
from app.readmodel.facts import Fact, ItemRecord
from app.scales import BUILTIN_SCALES
from nlp.enrichment import UNASSIGNED

STAGE_DAILY = "stage_daily"
ITEM_DAILY = "item_daily"
RATINGS = "stage_daily_ratings"
THEMES = "stage_daily_themes"
CUSTOMERS = "daily_customers"
ALL_TIME_CUSTOMERS = "stage_customers"

KEYS: dict[str, tuple[str, ...]] = {
    STAGE_DAILY: ("day", "stage", "channel", "source_id"),
    ITEM_DAILY: ("day", "channel", "source_id"),
    RATINGS: ("day", "stage", "channel", "source_id", "scale"),
    THEMES: ("day", "stage", "channel", "source_id", "theme"),
    CUSTOMERS: ("day", "stage", "channel", "source_id", "customer"),
    ALL_TIME_CUSTOMERS: ("stage", "customer"),
}
MAX_THEME_CHARS = 120


def milli(value: float) -> int:
    return round(value * 1000)


def _countable(rating: float | None, scale: str | None) -> bool:
    """Only a score on its scale counts (ingest refuses the others; rows stored
    before it did must not break the sums)."""
    if rating is None or not scale or not math.isfinite(rating):
        return False
    builtin = BUILTIN_SCALES.get(scale)
    if builtin is not None:
        return builtin.problem(rating) is None
    return abs(rating) <= 1e12


def nps_class(rating: float) -> str:
    """Promoters answer 9-10, passives 7-8, detractors 0-6."""
    return "promoters" if rating >= 9 else "passives" if rating >= 7 else "detractors"


def _metrics(label: str, score: float, rating: float | None, scale: str | None) -> Counter[str]:
    counts: Counter[str] = Counter({"voices": 1, label: 1, "sentiment_milli": milli(score)})
    if _countable(rating, scale):
        assert rating is not None
        if scale == "nps_0_10":
            counts["nps_answers"] += 1
            counts[nps_class(rating)] += 1
        elif scale == "csat_1_5":
            counts["csat_answers"] += 1
            counts["csat_satisfied"] += rating >= 4
        elif scale == "ces_1_7":
            counts["ces_answers"] += 1
            counts["ces_milli"] += milli(rating)
    return counts


class Deltas:
    """What a batch adds to and takes from each rollup table, by row key."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[tuple[Any, ...], Counter[str]]] = {
            table: defaultdict(Counter) for table in KEYS
        }

    def _add(self, table: str, key: tuple[Any, ...], counts: Counter[str], sign: int) -> None:
        target = self.rows[table][key]
        for column, value in counts.items():
            target[column] += sign * value

    def fact(self, fact: Fact, sign: int = 1) -> None:
        item = fact.item
        cell = (fact.day, fact.stage, item.channel, item.source_id)
        metrics = _metrics(fact.label, fact.score, item.rating, item.rating_scale)
        self._add(STAGE_DAILY, cell, metrics, sign)
        if _countable(item.rating, item.rating_scale):
            assert item.rating is not None
            assert item.rating_scale is not None
            self._add(
                RATINGS,
                (*cell, item.rating_scale),
                Counter(answers=1, total_milli=milli(item.rating)),
                sign,
            )
        theme_counts = Counter(
            {
                key: metrics[key]
                for key in (
                    "voices",
                    "negative",
                    "neutral",
                    "positive",
                    "sentiment_milli",
                    "nps_answers",
                    "promoters",
                    "detractors",
                )
            }
        )
        for theme in dict.fromkeys(t[:MAX_THEME_CHARS] for t in fact.themes):
            self._add(THEMES, (*cell, theme), theme_counts, sign)
        if item.customer:
            self._add(CUSTOMERS, (*cell, item.customer), Counter(voices=1), sign)
            self._add(ALL_TIME_CUSTOMERS, (fact.stage, item.customer), Counter(voices=1), sign)

    def item(self, item: ItemRecord, stages: Iterable[str], sign: int = 1) -> None:
        """The item once, whatever its stages (`stages`: those of its facts)."""
        cell = (item.day, item.channel, item.source_id)
        metrics = _metrics(item.label, item.score, item.rating, item.rating_scale)
        if not any(stage != UNASSIGNED for stage in stages):
            metrics["unassigned"] = 1
        self._add(ITEM_DAILY, cell, metrics, sign)
        if item.customer:
            self._add(
                CUSTOMERS,
                (item.day, ITEM_LEVEL, item.channel, item.source_id, item.customer),
                Counter(voices=1),
                sign,
            )
            self._add(ALL_TIME_CUSTOMERS, (ITEM_LEVEL, item.customer), Counter(voices=1), sign)

    def apply(self, conn: Connection) -> None:
        """One upsert per table (add the deltas to what is there), then drop the rows
        no voice is left in, so a rollup holds exactly the rows a rebuild would."""
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        for name, rows in self.rows.items():
            keys = KEYS[name]
            changed = {k: c for k, c in rows.items() if any(c.values())}
            if not changed:
                continue
            table: Table = SQLModel.metadata.tables[name]
            columns = [
                c.name for c in table.columns if c.name not in keys and c.name != "updated_at"
            ]
            stamp = {"updated_at": utcnow()} if "updated_at" in table.c else {}
            values = [
                {**dict(zip(keys, key, strict=True)), **{c: counts[c] for c in columns}, **stamp}
                for key, counts in changed.items()
            ]
            # One statement, many parameter sets: compiled once and cached, where a
            # multi-row VALUES clause is compiled anew for every batch (measured: the
            # compile cost more than the NLP).
            statement = dialect.insert(table)
            statement = statement.on_conflict_do_update(
                index_elements=list(keys),
                set_={
                    **{c: table.c[c] + statement.excluded[c] for c in columns},
                    **{c: statement.excluded[c] for c in stamp},
                },
            )
            execute_many(conn, statement, values)
            emptied = [
                key for key, counts in changed.items() if any(v < 0 for v in counts.values())
            ]
            if emptied:
                _drop_empty(conn, table, keys, emptied)


def _drop_empty(
    conn: Connection, table: Table, keys: tuple[str, ...], touched: list[tuple[Any, ...]]
) -> None:
    count_column = "answers" if "answers" in table.c else "voices"
    for start in range(0, len(touched), 200):
        chunk = touched[start : start + 200]
        match = or_(
            *(and_(*(table.c[k] == v for k, v in zip(keys, key, strict=True))) for key in chunk)
        )
        conn.execute(delete(table).where(match, table.c[count_column] <= 0))


def execute_many(conn: Connection, statement: Any, rows: list[dict[str, Any]]) -> None:
    """Run one compiled statement over many rows straight through the driver: the
    read model writes several rows per item, and SQLAlchemy's per-row parameter
    processing cost more than the database (these columns need no type processing:
    integers, strings, dates)."""
    if not rows:
        return
    compiled = statement.compile(dialect=conn.dialect, column_keys=list(rows[0]))
    if conn.dialect.name == "sqlite":
        # As SQLAlchemy's SQLite types store them: dates ISO, datetimes naive UTC text.
        rows = [{k: _sqlite_value(v) for k, v in row.items()} for row in rows]
    if compiled.positional:
        order = compiled.positiontup or []
        conn.exec_driver_sql(compiled.string, [tuple(row[k] for k in order) for row in rows])
    else:
        conn.exec_driver_sql(compiled.string, rows)


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value
