"""What the feeds read: rollup rows and stored items, streamed in keyset order."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, Text, case, func, select, type_coerce
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement

from app.feeds.formats import Column
from app.items.filters import ItemFilters, item_clauses
from app.models import RollupMetrics
from app.models import table as _t
from app.readmodel import customer_sets
from app.readmodel.rollups import COLUMNS, CUSTOMERS, RATINGS, STAGE_DAILY
from app.scales import Scales
from app.story.repository import Slice, filtered_deltas

CHUNK = 5_000


@dataclass(frozen=True, slots=True)
class FeedFilters:
    day_from: date | None = None  # stage-daily: whole days
    day_to: date | None = None
    moment_from: datetime | None = None  # items: the bounds as given
    moment_to: datetime | None = None
    source: str | None = None
    channel: str | None = None
    stage: str | None = None
    updated_since: datetime | None = None
    attrs: Mapping[str, Sequence[str]] = field(default_factory=dict)  # attr.NAME=VALUE


# ----------------------------------------------------------------- stage-daily

_COUNTS = tuple(RollupMetrics.model_fields)


def stage_daily_columns(scales: Scales) -> list[Column]:
    columns = [
        Column("day", "date", "UTC day"),
        Column("stage", "str", "journey stage key, or `unassigned`"),
        Column("channel", "str", "survey, social, call, ethnography, ..."),
        Column("source", "str", "source id"),
        Column("voices", "int", "items that speak of the stage that day"),
        Column("customers", "int", "distinct known customers among them (not additive over days)"),
        Column("negative", "int", "voices whose sentiment in the stage is negative"),
        Column("neutral", "int", "... neutral"),
        Column("positive", "int", "... positive"),
        Column("sentiment_sum", "float", "sum of the voices' sentiment (mean = sum / voices)"),
        Column("nps_answers", "int", "voices with an nps_0_10 score"),
        Column("promoters", "int", "scores 9-10"),
        Column("passives", "int", "scores 7-8"),
        Column("detractors", "int", "scores 0-6"),
        Column("csat_answers", "int", "voices with a csat_1_5 score"),
        Column("csat_satisfied", "int", "scores 4-5"),
        Column("ces_answers", "int", "voices with a ces_1_7 score"),
        Column("ces_sum", "float", "sum of those scores"),
        Column("favourites", "int", "favourites the voices earned where they were said"),
        Column("boosts", "int", "boosts (reblogs, reposts, shares) they earned"),
        Column("replies", "int", "replies they drew"),
    ]
    for name in scales.names():
        columns.append(Column(f"{name}_answers", "int", f"voices with a {name} score"))
        columns.append(Column(f"{name}_sum", "float", f"sum of the {name} scores"))
    columns.append(Column("updated_at", "datetime", "when a voice last came into or left the row"))
    return columns


def _where(table: Table, f: FeedFilters, *, updated: bool = True) -> list[ColumnElement[bool]]:
    """The story's slice of a rollup table (one definition: the same rows the story
    sums), plus the feed's own stage and `updated_since` filters."""
    clauses = Slice(f.day_from, f.day_to, f.source, f.channel).where(table)
    if f.stage is not None:
        clauses.append(table.c.stage == f.stage)
    if updated and f.updated_since is not None and "updated_at" in table.c:
        clauses.append(table.c.updated_at >= f.updated_since)
    return clauses


def stage_daily_rows(engine: Engine, f: FeedFilters, scales: Scales) -> Iterator[list[Any]]:
    if f.attrs:
        yield from _filtered_stage_daily(engine, f, scales)
        return
    daily, ratings = _t("stage_daily"), _t("stage_daily_ratings")
    key = (daily.c.day, daily.c.stage, daily.c.channel, daily.c.source_id)
    names = scales.names()
    with engine.connect() as conn:
        distinct = customer_sets.cell_sizes(conn, _where(_t("customer_sets"), f, updated=False))
        rated: dict[tuple[Any, ...], dict[str, tuple[int, int]]] = defaultdict(dict)
        for day, stage, channel, source, scale, answers, total in conn.execute(
            select(
                ratings.c.day,
                ratings.c.stage,
                ratings.c.channel,
                ratings.c.source_id,
                ratings.c.scale,
                ratings.c.answers,
                ratings.c.total_milli,
            ).where(*_where(ratings, f, updated=False))
        ):
            rated[(day, stage, channel, source)][scale] = (int(answers), int(total))
        query = select(*key, *(daily.c[c] for c in _COUNTS), daily.c.updated_at).where(
            *_where(daily, f)
        )
        for row in conn.execute(query.order_by(*key)):
            cell = tuple(row[:4])
            counts = dict(zip(_COUNTS, row[4:-1], strict=True))
            yield [
                *cell,
                *_figures(counts, distinct.get(cell, 0)),
                *_per_scale(rated.get(cell, {}), names),
                row[-1],
            ]


def _figures(counts: Mapping[str, int], customers: int) -> list[Any]:
    """A stage-daily row's figures from its rollup sums, in the feed's column order."""
    return [
        counts["voices"],
        customers,
        counts["negative"],
        counts["neutral"],
        counts["positive"],
        counts["sentiment_milli"] / 1000,
        counts["nps_answers"],
        counts["promoters"],
        counts["passives"],
        counts["detractors"],
        counts["csat_answers"],
        counts["csat_satisfied"],
        counts["ces_answers"],
        counts["ces_milli"] / 1000,
        counts["favourites"],
        counts["boosts"],
        counts["replies"],
    ]


def _per_scale(rated: Mapping[str, tuple[int, int]], names: Sequence[str]) -> list[Any]:
    out: list[Any] = []
    for name in names:
        answers, total = rated.get(name, (0, 0))
        out.extend((answers, total / 1000))
    return out


def _filtered_stage_daily(engine: Engine, f: FeedFilters, scales: Scales) -> Iterator[list[Any]]:
    """The rows for voices filtered on item attributes, made from their facts by the
    code that makes the rollups (`filtered_deltas`): the story with the same filter
    sums to the same numbers."""
    with engine.connect() as conn:
        deltas, changed = filtered_deltas(
            conn, Slice(f.day_from, f.day_to, f.source, f.channel), f.attrs
        )
    distinct: Counter[tuple[Any, ...]] = Counter(key[:4] for key in deltas.rows[CUSTOMERS])
    rated: dict[tuple[Any, ...], dict[str, tuple[int, int]]] = defaultdict(dict)
    for key, (answers, total) in deltas.rows[RATINGS].items():
        rated[key[:4]][key[4]] = (answers, total)
    names = scales.names()
    for cell in sorted(deltas.rows[STAGE_DAILY]):
        day, stage = cell[0], cell[1]
        if f.stage is not None and stage != f.stage:
            continue
        stamp = changed.get(cell)
        if f.updated_since is not None and (stamp is None or stamp < f.updated_since):
            continue
        counts = dict(zip(COLUMNS[STAGE_DAILY], deltas.rows[STAGE_DAILY][cell], strict=True))
        yield [
            day,
            *cell[1:],
            *_figures(counts, distinct.get(cell, 0)),
            *_per_scale(rated.get(cell, {}), names),
            stamp,
        ]


# ----------------------------------------------------------------- items and segments

ITEM_COLUMNS = [
    Column("id", "int", "item id (stable)"),
    Column("source", "str", "source id"),
    Column("external_id", "str", "the source's own id of the record"),
    Column("channel", "str", "channel"),
    Column("occurred_at", "datetime", "when the customer said it (UTC)"),
    Column("day", "date", "its UTC day"),
    Column("customer", "str", "customer reference, empty when unknown"),
    Column("rating", "float", "the score the source gave, empty when none"),
    Column("rating_scale", "str", "its scale (nps_0_10, csat_1_5, ...)"),
    Column("sentiment_score", "float", "item sentiment in [-1, 1]"),
    Column("sentiment_label", "str", "negative / neutral / positive"),
    Column("stage", "str", "the item's overall stage, or `unassigned`"),
    Column("stage_confidence", "float", "confidence of that call"),
    Column("stages", "json", "every stage the item speaks of (JSON list)"),
    Column("themes", "json", "key phrases (JSON list)"),
    Column("attributes", "json", "the source's attributes (JSON object)"),
    Column("text", "str", "the redacted text"),
    Column("nlp_version", "str", "pipeline version that read it"),
    Column("ingested_at", "datetime", "first stored"),
    Column("updated_at", "datetime", "last changed (an edit at the source, a re-enrichment)"),
]

SEGMENT_COLUMNS = [
    Column("id", "int", "segment id"),
    Column("item_id", "int", "its item"),
    Column("idx", "int", "position in the item, from 0"),
    Column("source", "str", "source id"),
    Column("channel", "str", "channel"),
    Column("occurred_at", "datetime", "when (UTC)"),
    Column("day", "date", "UTC day"),
    Column("customer", "str", "customer reference"),
    Column("text", "str", "the sentence (redacted)"),
    Column("sentiment_score", "float", "sentence sentiment in [-1, 1]"),
    Column("sentiment_label", "str", "negative / neutral / positive"),
    Column("stage", "str", "the sentence's stage, or `unassigned`"),
    Column("stage_confidence", "float", "confidence"),
    Column("stage_method", "str", "what decided it: phrase, pattern, hint, ..."),
    Column("updated_at", "datetime", "when its item last changed"),
]


def _item_where(f: FeedFilters, dialect: str) -> list[ColumnElement[bool]]:
    return item_clauses(
        ItemFilters(
            stage=f.stage,
            channel=f.channel,
            source=f.source,
            date_from=f.moment_from,
            date_to=f.moment_to,
            attrs=f.attrs,
            updated_since=f.updated_since,
        ),
        dialect,
    )


def iso_text(column: Any, dialect: str) -> ColumnElement[str]:
    """A stored UTC datetime as ISO 8601 text made by the database, exactly as
    `datetime.isoformat()` writes it (microseconds only when there are any, `Z`):
    parsing a million datetimes into objects only to print them again cost more
    than the rest of the feed."""
    if dialect == "sqlite":  # stored as 'YYYY-MM-DD HH:MM:SS.ffffff'
        raw = type_coerce(column, Text)
        seconds = func.substr(raw, 1, 10) + "T" + func.substr(raw, 12, 8)
        return case(
            (func.substr(raw, 21) == "000000", seconds + "Z"),
            (func.length(raw) <= 19, seconds + "Z"),
            else_=seconds + "." + func.substr(raw, 21) + "Z",
        )
    utc = func.timezone("UTC", column)
    return case(
        (
            func.date_trunc("second", column) == column,
            func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        ),
        else_=func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    )


def iso_day(column: Any, dialect: str) -> ColumnElement[str]:
    if dialect == "sqlite":
        return func.substr(type_coerce(column, Text), 1, 10)
    return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")


def item_rows(engine: Engine, f: FeedFilters) -> Iterator[Sequence[Any]]:
    """Every matching item, in id order, a chunk per short read (no long transaction).
    Only the contract's columns are read: the JSON columns nobody asked for (evidence,
    redactions) would cost more to decode than the rest of the row. Dates come as
    ISO text (`iso_text`); JSON columns as their stored text."""
    items, facts = _t("items"), _t("voice_facts")
    dialect = engine.dialect.name
    columns = [
        items.c.id,
        items.c.source_id,
        items.c.external_id,
        items.c.channel,
        iso_text(items.c.occurred_at, dialect),
        iso_day(items.c.occurred_at, dialect),
        items.c.author_ref,
        items.c.rating,
        items.c.rating_scale,
        items.c.sentiment_score,
        items.c.sentiment_label,
        items.c.stage,
        items.c.stage_confidence,
        type_coerce(items.c.themes, Text),  # the stored JSON text: no decode, no re-encode
        type_coerce(items.c.attributes, Text),
        items.c.text,
        items.c.nlp_version,
        iso_text(items.c.ingested_at, dialect),
        iso_text(items.c.updated_at, dialect),
    ]
    said: dict[tuple[str, ...], str] = {}  # the few stage combinations, as JSON text
    after = 0
    while True:
        with engine.connect() as conn:
            rows = conn.execute(
                select(*columns)
                .where(items.c.id > after, *_item_where(f, dialect))
                .order_by(items.c.id)
                .limit(CHUNK)
            ).all()
            if not rows:
                return
            first, last = rows[0][0], rows[-1][0]
            stages: dict[int, list[str]] = defaultdict(list)
            for item_id, stage in conn.execute(
                select(facts.c.item_id, facts.c.stage)
                .where(facts.c.item_id >= first, facts.c.item_id <= last)
                .order_by(facts.c.item_id, facts.c.id)
            ).all():
                stages[item_id].append(stage)
        for r in rows:
            key = tuple(stages.get(r[0], ()))
            text = said.get(key)
            if text is None:
                text = said[key] = json.dumps(list(key), ensure_ascii=False, separators=(",", ":"))
            yield (*r[:13], text, r[13] or "[]", r[14] or "{}", *r[15:])
        after = int(last)


def segment_rows(engine: Engine, f: FeedFilters) -> Iterator[Sequence[Any]]:
    items, segments = _t("items"), _t("segments")
    dialect = engine.dialect.name
    after = 0
    item_filter = _item_where(f, dialect)
    while True:
        with engine.connect() as conn:
            query = (
                select(
                    segments.c.id,
                    segments.c.item_id,
                    segments.c.idx,
                    items.c.source_id,
                    items.c.channel,
                    iso_text(items.c.occurred_at, dialect),
                    iso_day(items.c.occurred_at, dialect),
                    items.c.author_ref,
                    segments.c.text,
                    segments.c.sentiment_score,
                    segments.c.sentiment_label,
                    segments.c.stage,
                    segments.c.stage_confidence,
                    segments.c.stage_method,
                    iso_text(items.c.updated_at, dialect),
                )
                .join(items, items.c.id == segments.c.item_id)
                .where(segments.c.id > after, *item_filter)
                .order_by(segments.c.id)
                .limit(CHUNK)
            )
            if f.stage is not None:
                query = query.where(segments.c.stage == f.stage)
            rows = conn.execute(query).all()
        if not rows:
            return
        yield from rows
        after = int(rows[-1][0])
