"""One `Settings` object for the whole service, read from the environment.

Every variable has the `LP_` prefix except `DATABASE_URL`, which keeps the name
every PaaS and container platform already uses.
"""

from __future__ import annotations

from datetime import date
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.ingest.policy import DEFAULT_OCCURRED_AFTER

DEFAULT_DATABASE_URL = "sqlite:///./listening_path.db"


def sample_sources_file() -> Path:
    """The bundled sample sources, shipped inside the package so an installed wheel has them."""
    return Path(str(resources.files("app") / "sample_data" / "sources.yaml"))


def sample_outcomes_file() -> Path:
    """The sample company's outcome events (joins, churn, value), for `demo`."""
    return Path(str(resources.files("app") / "sample_data" / "outcomes" / "outcomes-2026.csv"))


def sample_journey_file() -> Path:
    """The sample company's journey (the default plus its own names as never-themes)."""
    return Path(str(resources.files("app") / "sample_data" / "journey.yaml"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LP_", env_file=".env", extra="ignore")

    environment: Literal["development", "production", "test"] = "development"
    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        validation_alias=AliasChoices("DATABASE_URL", "LP_DATABASE_URL"),
    )
    sources_file: Path | None = Field(
        default=None,
        description="sources.yaml to load; unset means the bundled sample sources",
    )
    journey_file: Path | None = Field(
        default=None,
        description="journey YAML; unset means the industry-neutral default "
        "(the sample company's journey while the sample sources are in use)",
    )
    nlp_model_dir: Path | None = None
    stage_threshold: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="unset means the pipeline's own default, the one its evaluation measures",
    )
    scheduler_enabled: bool = True
    queue: Literal["inline", "procrastinate"] = Field(
        default="inline",
        description="where syncs, rebuilds and re-enrichment run: `inline` in the process that "
        "starts them (one machine, SQLite or PostgreSQL), or `procrastinate`: jobs on a "
        "PostgreSQL-backed queue that `listening-path worker` processes run, the scheduler "
        "only enqueuing",
    )
    db_connections: int = Field(
        default=20,
        ge=2,
        le=1_000,
        description="PostgreSQL connections one process may hold; the API serves at most as "
        "many requests at once (more wait their turn, never for a connection)",
    )
    backfill_in_flight: int = Field(
        default=8,
        ge=1,
        le=1_000,
        description="queued syncs: batches read ahead of the last committed one, waiting "
        "for a worker (bounds the queue, not the file size)",
    )
    worker_heartbeat_seconds: float = Field(
        default=10.0,
        gt=0,
        le=600,
        description="how often a worker tells the queue it is alive; a worker silent for "
        "three beats is presumed dead and its jobs run again elsewhere",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    public_url: str | None = Field(
        default=None,
        description="where readers reach the service (e.g. https://cx.example.com): alert "
        "messages link to its stage pages; unset means http://HOST:PORT",
    )
    page_size_max: int = Field(default=500, ge=1, le=10_000)
    answer_stale_seconds: float = Field(
        default=0.0,
        ge=0,
        le=300,
        description="0: a story, stage or page answer holds every write committed before "
        "the request. Above 0, a kept answer serves newer writes for up to this many "
        "seconds before it is made again (said in its Age header): for services under a "
        "constant stream of pushes, where each write would otherwise remake it",
    )
    driver_min_answers: int = Field(
        default=20,
        ge=1,
        le=100_000,
        description="NPS drivers need at least this many NPS answers behind a figure",
    )
    occurred_after: date = Field(
        default=DEFAULT_OCCURRED_AFTER,
        description="records dated before this day are rejected (an export's null date)",
    )
    future_tolerance_days: float = Field(
        default=1.0,
        ge=0,
        le=3650,
        description="records dated more than this many days ahead of now are rejected",
    )
    docs_enabled: bool | None = Field(
        default=None,
        description="serve /docs, /redoc and /openapi.json; unset: on, except in production",
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description="origins allowed to call the API from a browser (CORS); none by default. "
        "Credentials are never sent cross-site: keys travel in headers only",
    )
    read_open: bool = Field(
        default=False,
        description="read routes (story, items, feeds, pages) need no key even once keys "
        "exist: for a service behind a proxy that authenticates its readers",
    )
    pseudonym_key: SecretStr | None = Field(
        default=None,
        description="secret for the keyed pseudonyms (HMAC-SHA256) that replace customer "
        "references which are personal data (an e-mail, a phone number); unset: a key kept "
        "in the database, made on first use",
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="json: every log line one JSON object (time, level, logger, message and "
        "the record's extra fields, such as a sync's counters), for a log store to index",
    )
    metrics_enabled: bool = Field(
        default=True,
        description="serve GET /metrics (Prometheus text format) without a key, like /health: "
        "counts and durations by source id and route template, no customer data",
    )
    retention_days: int | None = Field(
        default=None,
        ge=1,
        le=36_500,
        description="delete items older than this many days, daily (with their read-model "
        "rows); unset keeps everything",
    )

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError(
                "DATABASE_URL must be a SQLite (sqlite:///path.db) or PostgreSQL "
                "(postgresql+psycopg://user@host/db) URL"
            )
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            # SQLAlchemy would pick psycopg2, which we do not ship; psycopg 3 is the driver.
            value = "postgresql+psycopg://" + value.split("://", 1)[1]
        return value

    @model_validator(mode="after")
    def _queue_needs_postgres(self) -> Settings:
        if self.queue == "procrastinate" and not self.database_url.startswith("postgresql"):
            raise ValueError(
                "LP_QUEUE=procrastinate keeps its jobs in PostgreSQL: set DATABASE_URL="
                "postgresql+psycopg://USER@HOST/DB, or LP_QUEUE=inline for SQLite"
            )
        return self

    @model_validator(mode="after")
    def _production_is_explicit(self) -> Settings:
        if self.environment != "production":
            return self
        if self.database_url.startswith("sqlite"):
            raise ValueError(
                "LP_ENVIRONMENT=production needs PostgreSQL: set DATABASE_URL="
                "postgresql+psycopg://USER@HOST/DB (SQLite is the embedded store for one "
                "machine in development)"
            )
        if (
            self.sources_file is None
            or self.sources_file.resolve() == sample_sources_file().resolve()
        ):
            raise ValueError(
                "LP_ENVIRONMENT=production will not serve the bundled sample company: set "
                "LP_SOURCES_FILE to your sources.yaml (docs/sources.md)"
            )
        if self.pseudonym_key is None:
            raise ValueError(
                "LP_ENVIRONMENT=production needs LP_PSEUDONYM_KEY (a long random secret, e.g. "
                "from: python -c 'import secrets; print(secrets.token_urlsafe(32))'): customer "
                "e-mails and phone numbers are stored as keyed pseudonyms"
            )
        return self

    @property
    def docs_open(self) -> bool:
        if self.docs_enabled is None:
            return self.environment != "production"
        return self.docs_enabled

    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    def resolved_sources_file(self) -> Path:
        return self.sources_file or sample_sources_file()

    def resolved_journey_file(self) -> Path | None:
        """The journey to load; None means the shipped default. The bundled sample
        sources come with the sample company's journey, unless one is set."""
        if self.journey_file is not None:
            return self.journey_file
        return sample_journey_file() if self.sources_file is None else None
