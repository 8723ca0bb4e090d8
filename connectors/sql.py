"""`sql`: rows a read-only SQL query returns from a warehouse, on the schedule.

For what customers did (`produces: outcomes`, the default: joins, churn, value
from the CRM or billing warehouse) or for feedback kept in a table
(`produces: feedback`). The query runs in a read-only transaction (PostgreSQL:
`SET TRANSACTION READ ONLY`; SQLite: the file opened read-only), and must be one
SELECT (or WITH ... SELECT). With `cursor_column` it is read incrementally, in
order of that column, `batch_size` rows a batch, each batch's cursor the last
value read; without, each run reads it all (outcomes are deduped on import).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from connectors.contract import Batch, Connector, ConnectorConfig, Cursor, RawItem, RejectedRecord
from connectors.errors import ConfigError, FatalError, RetriableError
from connectors.parsing import excerpt
from connectors.secrets import read_secret
from connectors.values import DEFAULT_DATES

_SELECT = re.compile(r"^\s*(?:with\b.*?\)\s*)?select\b", re.IGNORECASE | re.DOTALL)
_WRITES = re.compile(
    r"\b(?:insert|update|delete|merge|drop|alter|create|truncate|grant|revoke|copy|call|"
    r"do|vacuum|attach|pragma)\b",
    re.IGNORECASE,
)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
OUTCOME_FIELDS = (
    "customer",
    "event",
    "occurred_at",
    "value_change",
    "value",
    "currency",
    "profit",
    "event_id",
)
FEEDBACK_FIELDS = ("id", "text", "date", "author", "rating")


class SqlConfig(ConnectorConfig):
    url_env: str | None = Field(
        default=None,
        description="Environment variable holding the warehouse URL (it carries the "
        "password): e.g. `postgresql+psycopg://reader:...@warehouse/crm`.",
    )
    url_file: str | None = Field(default=None, description="Or: a file holding the URL.")
    query: str = Field(
        min_length=8,
        max_length=20_000,
        description="One SELECT (or WITH ... SELECT); run read-only.",
    )
    produces: Literal["outcomes", "feedback"] = Field(
        default="outcomes", description="What the rows are: outcome events, or feedback."
    )
    columns: dict[str, str] = Field(
        default_factory=dict,
        description="Our field -> the query's column, where the names differ. Outcomes: "
        + ", ".join(OUTCOME_FIELDS)
        + "; feedback: "
        + ", ".join(FEEDBACK_FIELDS)
        + ". Other columns become attributes.",
    )
    cursor_column: str | None = Field(
        default=None,
        description="Read incrementally in order of this column (an id or an updated-at).",
    )
    rating_scale: str | None = Field(default=None, description="Feedback: the ratings' scale.")
    batch_size: int = Field(
        default=1000, ge=1, le=50_000, description="Rows a batch (with `cursor_column`)."
    )
    timeout_seconds: float = Field(
        default=60, gt=0, le=3600, description="The query's statement timeout."
    )

    @field_validator("query")
    @classmethod
    def _read_only(cls, value: str) -> str:
        body = value.strip().rstrip(";")
        if ";" in body:
            raise ValueError("one statement only (no ';' inside the query)")
        if not _SELECT.match(body) or _WRITES.search(body):
            raise ValueError("the query must be one read-only SELECT (or WITH ... SELECT)")
        return body

    @field_validator("cursor_column")
    @classmethod
    def _column(cls, value: str | None) -> str | None:
        if value is not None and not _NAME.match(value):
            raise ValueError(f"{value!r} is not a column name (letters, digits, _)")
        return value


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


class SqlConnector(Connector[SqlConfig]):
    """Rows of a read-only query; see the module's docstring."""

    kind: ClassVar[str] = "sql"
    channel: ClassVar[str] = "survey"
    config_model: ClassVar[type[SqlConfig]] = SqlConfig
    capabilities: ClassVar[frozenset[str]] = frozenset({"secrets"})

    def __init__(self, config: SqlConfig, *, base_dir: Path) -> None:
        super().__init__(config, base_dir=base_dir)

    def _engine(self) -> Engine:
        secret = read_secret(
            env=self.config.url_env,
            file=self.config.url_file,
            base_dir=self.base_dir,
            what=f"{self.kind} source",
        )
        if secret is None:
            raise ConfigError(f"{self.kind}: set url_env (or url_file) to the warehouse URL")
        try:
            url: URL = make_url(secret.get_secret_value())
        except ArgumentError:
            raise ConfigError(f"{self.kind}: the warehouse URL is not a database URL") from None
        if url.get_backend_name() == "sqlite":
            database = url.database or ""
            return create_engine(
                f"sqlite:///file:{database}?mode=ro&uri=true",
                connect_args={"timeout": self.config.timeout_seconds},
            )
        if url.get_backend_name() == "postgresql":
            if url.drivername == "postgresql":
                url = url.set(drivername="postgresql+psycopg")
            given = url.query.get("options")
            options = " ".join(
                [
                    *([given] if isinstance(given, str) else list(given or ())),
                    "-c default_transaction_read_only=on",
                    f"-c statement_timeout={int(self.config.timeout_seconds * 1000)}",
                ]
            )
            return create_engine(
                url.difference_update_query(["options"]),
                connect_args={"options": options, "connect_timeout": 10},
                hide_parameters=True,
            )
        raise ConfigError(f"{self.kind}: warehouses are PostgreSQL or SQLite here")

    def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:
        cfg = self.config
        engine = self._engine()
        last = (cursor or {}).get("after")
        try:
            with engine.connect() as conn:
                if engine.dialect.name == "postgresql":
                    conn.execute(text("SET TRANSACTION READ ONLY"))
                while True:
                    if cfg.cursor_column is not None:
                        column = cfg.cursor_column
                        where = f"WHERE q.{column} > :after" if last is not None else ""
                        statement = text(
                            f"SELECT * FROM ({cfg.query}) AS q {where} "
                            f"ORDER BY q.{column} LIMIT :limit"
                        )
                        params: dict[str, Any] = {"limit": cfg.batch_size}
                        if last is not None:
                            params["after"] = last
                        rows = [dict(r._mapping) for r in conn.execute(statement, params)]
                    else:
                        rows = [dict(r._mapping) for r in conn.execute(text(cfg.query))]
                    if not rows:
                        return
                    if cfg.cursor_column is not None:
                        if cfg.cursor_column not in rows[-1]:
                            raise FatalError(
                                f"{self.kind}: the query has no column {cfg.cursor_column!r}"
                            )
                        last = _plain(rows[-1][cfg.cursor_column])
                    yield self._batch(rows, {"after": last} if cfg.cursor_column else {})
                    if cfg.cursor_column is None or len(rows) < cfg.batch_size:
                        return
        except SQLAlchemyError as exc:
            kind = type(getattr(exc, "orig", None) or exc).__name__
            if "OperationalError" in type(exc).__name__:
                raise RetriableError(
                    f"{self.kind}: the warehouse is not reachable ({kind})"
                ) from None
            raise FatalError(f"{self.kind}: the query failed ({kind})") from None
        finally:
            engine.dispose()

    def _batch(self, rows: list[dict[str, Any]], cursor: Cursor) -> Batch:
        names = self.config.columns
        if self.config.produces == "outcomes":
            fields = {f: names.get(f, f) for f in OUTCOME_FIELDS}
            taken = set(fields.values())
            outcomes = []
            for row in rows:
                record = {f: _plain(row.get(column)) for f, column in fields.items()}
                record.update({k: _plain(v) for k, v in row.items() if k not in taken})
                outcomes.append(record)
            return Batch(items=[], rejected=[], cursor=cursor, outcomes=outcomes)
        items: list[RawItem] = []
        rejected: list[RejectedRecord] = []
        fields = {f: names.get(f, f) for f in FEEDBACK_FIELDS}
        taken = set(fields.values())
        for n, row in enumerate(rows, start=1):
            try:
                items.append(self._item(row, fields, taken))
            except ValueError as exc:
                rejected.append(
                    RejectedRecord(
                        reason=str(exc), excerpt=excerpt(_plain_row(row)), location=f"row {n}"
                    )
                )
        return Batch(items=items, rejected=rejected, cursor=cursor)

    def _item(self, row: Mapping[str, Any], fields: Mapping[str, str], taken: set[str]) -> RawItem:
        external = row.get(fields["id"])
        words = row.get(fields["text"])
        if external is None or str(external).strip() == "":
            raise ValueError("the row has no id")
        if not isinstance(words, str) or not words.strip():
            raise ValueError("the row has no text")
        rating = row.get(fields["rating"])
        author = row.get(fields["author"])
        return RawItem(
            external_id=str(external),
            text=words,
            occurred_at=DEFAULT_DATES(row.get(fields["date"])),
            rating=float(rating) if rating is not None else None,
            rating_scale=self.config.rating_scale if rating is not None else None,
            author_ref=str(author) if author is not None else None,
            attributes={
                k: v if isinstance(v, str | int | float | bool) or v is None else str(v)
                for k, v in ((k, _plain(v)) for k, v in row.items() if k not in taken)
            },
        )


def _plain_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _plain(v) for k, v in row.items()}
