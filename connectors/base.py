"""The connector contract: `RawItem`, `RejectedRecord`, `Batch` and `Connector`.

Ingest (in `app/`) stores each batch's items, rejects and cursor in ONE
transaction, so a connector must make every batch's cursor cover exactly the
records yielded up to and including that batch: resuming from it after a crash
neither skips nor (beyond what dedupe absorbs) repeats a record.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

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
    call reason, ticket category, front matter) or None. `channel` overrides the
    connector's default channel when one source mixes channels.
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


@dataclass(frozen=True, slots=True)
class RejectedRecord:
    """A record the connector could not turn into a `RawItem`: kept in quarantine."""

    reason: str
    excerpt: str
    external_id: str | None = None
    location: str | None = None  # e.g. "survey.csv:row 17"


@dataclass(frozen=True, slots=True)
class Batch:
    items: list[RawItem]
    rejected: list[RejectedRecord]
    cursor: Cursor


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

    def __init__(self, config: ConfigT, *, base_dir: Path) -> None:
        self.config = config
        self.base_dir = base_dir

    @classmethod
    def from_mapping(cls, raw: dict[str, Any], *, base_dir: Path) -> Connector[Any]:
        """Validate raw config (from YAML) and build the connector.

        Raises `connectors.errors.ConfigError` with every bad field named.
        """
        from connectors.errors import ConfigError  # local: errors imports nothing of ours
        from pydantic import ValidationError

        try:
            config = cls.config_model.model_validate(raw)
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
