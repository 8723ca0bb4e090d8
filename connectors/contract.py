"""The connector contract: what a connector is, and what it yields.

    RawItem          one piece of customer feedback as the source gave it
    RejectedRecord   a record that could not become a RawItem (kept in quarantine)
    Batch            items + rejects + the cursor that covers them
    ConnectorConfig  base of every kind's pydantic `Config` (unknown keys refused)
    Connector        a kind: `kind`, `channel`, `config_model`, `capabilities`, and
                     one method, `fetch(cursor) -> Iterator[Batch]`

Ingest (in `app/`) stores each batch's items, rejects and cursor in ONE
transaction, so a connector must make every batch's cursor cover exactly the
records yielded up to and including that batch: resuming from it after a crash
neither skips nor (beyond what dedupe absorbs) repeats a record.

The machinery a kind builds on lives beside this module: `connectors.files`
(every kind that reads files), `connectors.http` (every kind that pages through
an HTTP API) and `connectors.push` (records posted to the service).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict

Cursor = dict[str, Any]
"""JSON-serialisable resume point; opaque to everything but its connector."""

AttributeValue = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class RawItem:
    """One piece of customer feedback as the source gave it.

    `occurred_at` is timezone-aware (UTC preferred). `rating` keeps the source's
    own number with its `rating_scale` (e.g. "nps_0_10", "stars_1_5", "csat_1_5").
    `stage_hint` is a journey stage key mapped in the source's config (question,
    call reason, ticket category, front matter) or None. `hint_value` is the
    source's own value that was looked up for a hint (a touchpoint, a call reason,
    a tag), kept so ingest can count the values the config does not map:
    `hint_value` set and `stage_hint` None means "unmapped". `channel` overrides
    the connector's default channel when one source mixes channels.
    """

    external_id: str
    text: str
    occurred_at: datetime
    rating: float | None = None
    rating_scale: str | None = None
    author_ref: str | None = None
    stage_hint: str | None = None
    channel: str | None = None
    attributes: dict[str, AttributeValue] = field(default_factory=dict)
    hint_value: str | None = None


@dataclass(frozen=True, slots=True)
class RejectedRecord:
    """A record the connector could not turn into a `RawItem`: kept in quarantine."""

    reason: str
    excerpt: str
    external_id: str | None = None
    location: str | None = None  # e.g. "survey.csv:row 17"


@dataclass(frozen=True, slots=True)
class Batch:
    """What one step of a fetch brings, and where to resume after it. `outcomes`:
    what customers did (rows with `customer`, `event`, `occurred_at`, ...), for
    kinds that read them (`sql`); ingest imports them before the cursor moves."""

    items: list[RawItem]
    rejected: list[RejectedRecord]
    cursor: Cursor
    outcomes: list[dict[str, Any]] = field(default_factory=list)


class ConnectorConfig(BaseModel):
    """Base for every connector's pydantic `Config`: unknown keys are an error,
    so a typo in sources.yaml fails loudly instead of being ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


ConfigT = TypeVar("ConfigT", bound=ConnectorConfig)


class Connector(ABC, Generic[ConfigT]):
    """One source kind. Subclasses declare `kind`, `channel` and `config_model`,
    and implement `fetch`.

    `base_dir` is where relative paths in the config resolve (the directory of the
    sources file), so a sources.yaml can travel with its data.
    """

    kind: ClassVar[str]
    channel: ClassVar[str]
    config_model: ClassVar[type[ConnectorConfig]]
    capabilities: ClassVar[frozenset[str]] = frozenset()
    """What the kind does, so `connectors.testing` picks its tests: `files` (reads
    files under `path`), `http` (pages through an HTTP API, `connectors.http`),
    `push` (records posted to the service, `connectors.push`), `secrets` (reads a
    secret from the environment or a file)."""

    def __init__(self, config: ConfigT, *, base_dir: Path) -> None:
        self.config = config
        self.base_dir = base_dir

    @classmethod
    def from_mapping(cls, raw: dict[str, Any], *, base_dir: Path) -> Connector[Any]:
        """Validate raw config (from YAML) and build the connector.

        Raises `connectors.errors.ConfigError` with every bad field named.
        """
        from pydantic import ValidationError

        from connectors.errors import ConfigError

        try:
            config = cls.config_model.model_validate(raw, context={"base_dir": base_dir})
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '<config>'}: {err['msg']}"
                for err in exc.errors()
            )
            raise ConfigError(f"invalid config for {cls.kind!r} source: {problems}") from exc
        return cls(config, base_dir=base_dir)  # type: ignore[arg-type]

    @abstractmethod
    def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:
        """Yield batches from where `cursor` (None: the beginning) left off."""

    def close(self) -> None:
        """Release what the connector holds between fetches (none by default; an HTTP
        connector closes its client at the end of each fetch already)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
