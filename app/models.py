"""The store: SQLModel tables. Columns mirror `nlp.enrichment` and `connectors.base`.

Raw text is never stored: `Item.text` and `Segment.text` hold the redacted text
the NLP pipeline returned.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from app.db_types import UTCDateTime, utcnow


class Source(SQLModel, table=True):
    """A declared source, its state and its cursor (the cursor moves with the items)."""

    __tablename__ = "sources"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=64)
    channel: str = Field(max_length=32)
    enabled: bool = True
    schedule: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    config: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    cursor: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    status: str = Field(default="never_run", max_length=16)
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    last_run_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class SyncRunBase(SQLModel):
    """What a run says of itself: stored in `sync_runs`, shown by the API."""

    trigger: str = Field(default="manual", max_length=16)
    status: str = Field(default="running", max_length=16)
    started_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    fetched: int = Field(
        default=0, description="records read: inserted + updated + duplicates + rejected"
    )
    inserted: int = 0
    updated: int = Field(
        default=0, description="records already stored whose content changed at the source"
    )
    duplicates: int = 0
    rejected: int = 0
    ignored_hints: int = Field(default=0, description="stage hints naming no stage of the journey")
    unmapped_hints: int = Field(
        default=0, description="hint values (touchpoint, reason, tag) not mapped"
    )
    nul_replaced: int = Field(default=0, description="records whose NUL characters were replaced")
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class SyncRun(SyncRunBase, table=True):
    __tablename__ = "sync_runs"
    __table_args__ = (Index("ix_sync_runs_source_started", "source_id", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    source_id: str = Field(
        sa_column=Column(ForeignKey("sources.id", ondelete="CASCADE"), nullable=False)
    )
    reject_reasons: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    chunks_committed: int | None = Field(
        default=None,
        description="a queued sync's batches committed so far, in order (None: run inline); "
        "workers commit batch n only after n - 1, so the cursor never skips one",
    )


class Item(SQLModel, table=True):
    """One piece of feedback, enriched. The item-level stage is the NLP's overall call;
    the story counts stages from `Segment`s, so a two-stage item counts in both."""

    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("source_id", "external_id", name="uq_items_source_external"),
        Index("ix_items_occurred", "occurred_at", "id"),
        Index("ix_items_stage_occurred", "stage", "occurred_at"),
        Index("ix_items_channel_occurred", "channel", "occurred_at"),
        Index("ix_items_source_content_hash", "source_id", "content_hash"),
        Index("ix_items_author", "author_ref"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source_id: str = Field(
        sa_column=Column(ForeignKey("sources.id", ondelete="CASCADE"), nullable=False)
    )
    external_id: str = Field(max_length=512)
    channel: str = Field(max_length=32)
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    text: str = Field(sa_column=Column(Text, nullable=False))
    rating: float | None = None
    rating_scale: str | None = Field(default=None, max_length=32)
    author_ref: str | None = Field(default=None, max_length=256)
    attributes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    content_hash: str = Field(max_length=64)
    record_hash: str | None = Field(default=None, max_length=64)
    sentiment_score: float
    sentiment_label: str = Field(max_length=16)
    stage: str = Field(max_length=40)
    stage_confidence: float
    stage_method: str = Field(max_length=32)
    stage_evidence: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    stage_hint: str | None = Field(default=None, max_length=40)
    themes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    redactions: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    nlp_version: str = Field(max_length=64)
    ingested_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class Segment(SQLModel, table=True):
    """A sentence of an item with its own stage and sentiment.

    `occurred_at` and `source_id` are copied from the item so the story can filter
    segments by period and source without a join on every row (the segment feed)."""

    __tablename__ = "segments"
    __table_args__ = (Index("ix_segments_item", "item_id", "idx"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(
        sa_column=Column(Integer, ForeignKey("items.id", ondelete="CASCADE"), nullable=False)
    )
    idx: int
    start: int
    end: int
    text: str = Field(sa_column=Column(Text, nullable=False))
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    source_id: str = Field(max_length=64)
    sentiment_score: float
    sentiment_label: str = Field(max_length=16)
    stage: str = Field(max_length=40)
    stage_confidence: float
    stage_method: str = Field(max_length=32)
    stage_evidence: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    themes: list[str] = Field(
        default_factory=list,
        sa_column=Column(JSON, nullable=False, server_default="[]"),
    )


class QuarantineBase(SQLModel):
    """What is kept of a record that could not be ingested, and shown of it."""

    run_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("sync_runs.id", ondelete="SET NULL"), nullable=True),
    )
    external_id: str | None = Field(default=None, max_length=512)
    location: str | None = Field(default=None, max_length=512)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    excerpt: str = Field(sa_column=Column(Text, nullable=False))
    times_seen: int = Field(default=1, description="runs that met this same reject")
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    last_seen_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class QuarantinedRecord(QuarantineBase, table=True):
    """A record that could not be ingested, kept with the reason so nothing is lost.

    Stored once per `(source, location, reason, excerpt)` (`digest`): a file that
    changes is read again, and its bad rows must not pile up once per re-read;
    `times_seen` and `last_seen_at` say they are still there."""

    __tablename__ = "quarantine"
    __table_args__ = (
        Index("ix_quarantine_source_created", "source_id", "created_at"),
        UniqueConstraint("source_id", "digest", name="uq_quarantine_source_digest"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source_id: str = Field(
        sa_column=Column(ForeignKey("sources.id", ondelete="CASCADE"), nullable=False)
    )
    digest: str = Field(max_length=64)


class DuplicateBase(SQLModel):
    external_id: str = Field(max_length=512, description="the record counted as a duplicate")
    matched_item_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("items.id", ondelete="SET NULL"), nullable=True),
        description="the stored item it matched",
    )


class RunDuplicate(DuplicateBase, table=True):
    """A record a run counted as a duplicate, with the stored item it matched: a
    duplicate is a claim ("this was already here"), so it can be checked."""

    __tablename__ = "run_duplicates"
    __table_args__ = (Index("ix_run_duplicates_run", "run_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(
        sa_column=Column(Integer, ForeignKey("sync_runs.id", ondelete="CASCADE"), nullable=False)
    )
    source_id: str = Field(max_length=64)
    rule: str = Field(max_length=16)  # "external_id" | "content"


# --------------------------------------------------------------------------- read model
#
# Everything people read (story, stage pages, feeds, alerts) comes from these tables,
# written in the same transaction as the items they summarise, so one number is the
# same everywhere and nothing scans raw sentences. Sums are kept as integers in
# thousandths (`*_milli`): an edit subtracts exactly what it once added, so the
# incrementally kept rollups equal a rebuild from the items, bit for bit.

ITEM_LEVEL = ""
"""The `stage` of `DailyCustomer` rows that count an item whatever its stages."""


class VoiceFact(SQLModel, table=True):
    """One voice: an item as it speaks of one stage (or `unassigned`)."""

    __tablename__ = "voice_facts"
    __table_args__ = (
        UniqueConstraint("item_id", "stage", name="uq_voice_facts_item_stage"),
        Index(
            "ix_voice_facts_quotes",
            "stage",
            "label",
            "quote_key",
            "day",
            sqlite_where=text("quote IS NOT NULL"),
            postgresql_where=text("quote IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(
        sa_column=Column(Integer, ForeignKey("items.id", ondelete="CASCADE"), nullable=False)
    )
    stage: str = Field(max_length=40)
    day: date = Field(sa_column=Column(Date, nullable=False))
    source_id: str = Field(max_length=64)
    channel: str = Field(max_length=32)
    customer: str | None = Field(default=None, max_length=256)
    label: str = Field(max_length=16)
    score: float
    rating: float | None = None
    rating_scale: str | None = Field(default=None, max_length=32)
    themes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    attributes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    quote: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    quote_score: float | None = None
    quote_key: int = 0  # a hash of (item, stage): a fixed random order to sample quotes in


class RollupMetrics(SQLModel):
    """Additive counts of a set of voices: whole numbers and integer sums."""

    voices: int = 0
    negative: int = 0
    neutral: int = 0
    positive: int = 0
    sentiment_milli: int = 0
    nps_answers: int = 0
    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    csat_answers: int = 0
    csat_satisfied: int = 0
    ces_answers: int = 0
    ces_milli: int = 0
    # Expressions: the favourites, boosts and replies the voices earned where
    # they were said (social posts carry them), summed.
    favourites: int = Field(default=0, sa_type=BigInteger)
    boosts: int = Field(default=0, sa_type=BigInteger)
    replies: int = Field(default=0, sa_type=BigInteger)


class StageDaily(RollupMetrics, table=True):
    """Voices per (day, stage, channel, source). `updated_at`: when a voice last
    came into or left the row, for BI tools that pull only what changed."""

    __tablename__ = "stage_daily"
    __table_args__ = (Index("ix_stage_daily_updated", "updated_at"),)

    day: date = Field(sa_column=Column(Date, primary_key=True))
    stage: str = Field(primary_key=True, max_length=40)
    channel: str = Field(primary_key=True, max_length=32)
    source_id: str = Field(primary_key=True, max_length=64)
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class ItemDaily(RollupMetrics, table=True):
    """Items per (day, channel, source), each once whatever its stages: the story's
    top line. `voices` counts items; `unassigned` those placed in no stage."""

    __tablename__ = "item_daily"

    day: date = Field(sa_column=Column(Date, primary_key=True))
    channel: str = Field(primary_key=True, max_length=32)
    source_id: str = Field(primary_key=True, max_length=64)
    unassigned: int = 0


class StageDailyRating(SQLModel, table=True):
    """Ratings of a stage's voices per scale (any scale, a team's own too)."""

    __tablename__ = "stage_daily_ratings"

    day: date = Field(sa_column=Column(Date, primary_key=True))
    stage: str = Field(primary_key=True, max_length=40)
    channel: str = Field(primary_key=True, max_length=32)
    source_id: str = Field(primary_key=True, max_length=64)
    scale: str = Field(primary_key=True, max_length=32)
    answers: int = 0
    total_milli: int = 0


class StageDailyTheme(SQLModel, table=True):
    """How many of a stage's voices carry a theme, how they feel, how they score."""

    __tablename__ = "stage_daily_themes"
    __table_args__ = (Index("ix_stage_daily_themes_stage_day", "stage", "day"),)

    day: date = Field(sa_column=Column(Date, primary_key=True))
    stage: str = Field(primary_key=True, max_length=40)
    channel: str = Field(primary_key=True, max_length=32)
    source_id: str = Field(primary_key=True, max_length=64)
    theme: str = Field(primary_key=True, max_length=120)
    voices: int = 0
    negative: int = 0
    neutral: int = 0
    positive: int = 0
    sentiment_milli: int = 0
    nps_answers: int = 0
    promoters: int = 0
    detractors: int = 0


class DailyCustomer(SQLModel, table=True):
    """Which known customers spoke, per (day, stage, channel, source): distinct
    customers for any period and filter are an exact count over these rows."""

    __tablename__ = "daily_customers"
    __table_args__ = (Index("ix_daily_customers_stage_day", "stage", "day", "customer"),)

    day: date = Field(sa_column=Column(Date, primary_key=True))
    stage: str = Field(primary_key=True, max_length=40)  # ITEM_LEVEL: any stage
    channel: str = Field(primary_key=True, max_length=32)
    source_id: str = Field(primary_key=True, max_length=64)
    customer: str = Field(primary_key=True, max_length=256)
    voices: int = 0


class StageTheme(SQLModel, table=True):
    """All-time theme counts per stage (every day, channel and source): the all-time
    story reads a few hundred rows instead of grouping every day's theme rows."""

    __tablename__ = "stage_themes"

    stage: str = Field(primary_key=True, max_length=40)
    theme: str = Field(primary_key=True, max_length=120)
    voices: int = 0
    negative: int = 0
    neutral: int = 0
    positive: int = 0
    sentiment_milli: int = 0
    nps_answers: int = 0
    promoters: int = 0
    detractors: int = 0


class StageCustomer(SQLModel, table=True):
    """Which known customers ever spoke of a stage (`ITEM_LEVEL`: of anything): the
    all-time distinct count is a count of rows, with no scan of the daily rows."""

    __tablename__ = "stage_customers"

    stage: str = Field(primary_key=True, max_length=40)
    customer: str = Field(primary_key=True, max_length=256)
    voices: int = 0


class CustomerId(SQLModel, table=True):
    """A dense number per known customer: what the customer sets hold."""

    __tablename__ = "customer_ids"

    id: int | None = Field(default=None, primary_key=True)
    customer: str = Field(max_length=256, unique=True)


class CustomerSet(SQLModel, table=True):
    """The customers of one `daily_customers` cell as a compressed bitmap (roaring)
    of their `CustomerId`s: the exact distinct customers of any period is the size of
    the union of its days' sets, read without scanning a row per customer and day.
    Kept in step with `daily_customers` (a member while its voices are above 0)."""

    __tablename__ = "customer_sets"

    day: date = Field(sa_column=Column(Date, primary_key=True))
    stage: str = Field(primary_key=True, max_length=40)  # ITEM_LEVEL: any stage
    channel: str = Field(primary_key=True, max_length=32)
    source_id: str = Field(primary_key=True, max_length=64)
    members: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


# --------------------------------------------------------------------------- alerts


class Alert(SQLModel, table=True):
    """One episode of a measure beyond its normal range: fired once, updated while it
    lasts, resolved when the measure is back in range for some days. `key` names
    what fired (detector, stage, phrase); at most one unresolved alert per key."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_status_fired", "status", "fired_day"),
        Index("ix_alerts_key_status", "key", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200)
    detector: str = Field(max_length=32)
    stage: str = Field(max_length=40)
    phrase: str | None = Field(default=None, max_length=120)
    status: str = Field(default="open", max_length=16)  # open | acknowledged | resolved
    measure: str = Field(max_length=200)
    value: float
    baseline: float
    low: float
    high: float | None = None  # None: no upper bound (a quiet stage)
    fired_day: date = Field(sa_column=Column(Date, nullable=False))
    last_day: date = Field(sa_column=Column(Date, nullable=False))  # last day out of range
    phrases: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    quotes: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    fired_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    acknowledged_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True)
    )
    resolved_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class AlertDelivery(SQLModel, table=True):
    """One message to one webhook (an alert, or a digest of several): the delivery
    log, and the queue the delivery worker retries from."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (Index("ix_alert_deliveries_status_next", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    webhook: str = Field(max_length=64)
    format: str = Field(max_length=16)
    alert_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=16)  # pending | sent | failed
    attempts: int = 0
    next_attempt_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    response_status: int | None = None
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


# --------------------------------------------------------------------------- access


class ApiKey(SQLModel, table=True):
    """An API key: only its SHA-256 is kept (the secret is shown once, at creation),
    with the scopes it grants. Revoked keys stay, so the audit log names them."""

    __tablename__ = "api_keys"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    prefix: str = Field(max_length=16)  # the secret's first characters, to tell keys apart
    secret_hash: str = Field(max_length=64, unique=True)
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    created_by: str = Field(default="cli", max_length=120)
    last_used_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True)
    )
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class AuditEntry(SQLModel, table=True):
    """Who did what, when: admin actions through the API or the CLI, and what the
    leader replica does on its own (scheduled syncs, retention, alerts)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    actor: str = Field(max_length=120)  # "key:NAME (PREFIX)", "cli", "leader"
    action: str = Field(max_length=64)
    target: str | None = Field(default=None, max_length=200)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class StoredSecret(SQLModel, table=True):
    """Secrets the service makes for itself when none is configured (the customer
    pseudonym key in development). Production configures its own."""

    __tablename__ = "lp_secrets"

    name: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=200)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class ReadVersion(SQLModel, table=True):
    """A counter per kind of change to a read-model table, bumped in the writing
    transaction, so an in-memory copy of the table (the said-versus-did columns)
    knows without counting rows whether it must read more (`added`) or again
    (`removed`). Bumping `added` before inserting also makes the inserting
    transactions take their ids in commit order, so reading on past the largest
    id seen never skips a row committed late."""

    __tablename__ = "read_versions"

    name: str = Field(primary_key=True, max_length=64)
    version: int = Field(sa_column=Column(BigInteger, nullable=False))


class KeptAnswer(SQLModel, table=True):
    """A story, stage or page answer as one replica made it, for the others: on
    PostgreSQL the replicas make each answer once per state of the data between
    them, not once each (`app.readmodel.shared`). A cache: losing it loses nothing."""

    __tablename__ = "kept_answers"

    key: str = Field(primary_key=True, max_length=64)  # SHA-256 of the question
    state: str = Field(max_length=400)  # the change counters it was made for
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    made_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


# --------------------------------------------------------------------------- outcomes


class OutcomeEvent(SQLModel, table=True):
    """What a customer did: joined, left, expanded, contracted, reactivated, or a
    periodic `value` statement (with profit). `event_key` dedupes: the event id when
    given, else customer + event + day. `customer` is stored as feedback stores it
    (a keyed pseudonym when it is personal data), so the two join."""

    __tablename__ = "outcome_events"
    __table_args__ = (
        Index("ix_outcome_events_customer", "customer", "occurred_at"),
        Index("ix_outcome_events_event_day", "event", "day"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_key: str = Field(max_length=400, unique=True)
    customer: str = Field(max_length=256)
    event: str = Field(max_length=16)
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    day: date = Field(sa_column=Column(Date, nullable=False))
    value_change: float | None = None
    value: float | None = None
    currency: str | None = Field(default=None, max_length=3)
    profit: float | None = None
    attributes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    origin: str = Field(max_length=120)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class OutcomeReject(SQLModel, table=True):
    """An outcome record that could not be imported, with the reason (redacted)."""

    __tablename__ = "outcome_rejects"

    id: int | None = Field(default=None, primary_key=True)
    origin: str = Field(max_length=120)
    location: str = Field(max_length=200)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    excerpt: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


def table(name: str) -> Table:
    """A table of the store by name, for Core statements (every model is defined above)."""
    return SQLModel.metadata.tables[name]
