"""Reading `sources.yaml`: which sources exist, their schedule and connector config.

The file is the source of truth for declarations; the database keeps each
source's state (cursor, status, runs). Connector config is validated here, at
load time, so a typo fails the start-up with the source and field named rather
than the first sync an hour later.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from apscheduler.triggers.cron import CronTrigger
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from app.alerts.config import AlertsSpec
from app.scales import Scales, ScaleSpec
from connectors.errors import ConnectorError
from connectors.registry import get_connector_class


class SourcesFileError(ValueError):
    """sources.yaml cannot be used; the message names the source and the field."""


class Schedule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    every_minutes: float | None = Field(default=None, gt=0, le=60 * 24 * 31)
    cron: str | None = None

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                CronTrigger.from_crontab(value)
            except ValueError as exc:
                raise ValueError(f"not a valid crontab expression: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _one_of(self) -> Schedule:
        if (self.every_minutes is None) == (self.cron is None):
            raise ValueError("give exactly one of 'every_minutes' or 'cron'")
        return self


class SourceSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")
    name: str = Field(min_length=1, max_length=200)
    kind: str
    enabled: bool = True
    schedule: Schedule = Schedule(every_minutes=60)
    config: dict[str, Any] = Field(default_factory=dict)


class SourcesFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sources: list[SourceSpec] = Field(default_factory=list)
    scales: dict[str, ScaleSpec] = Field(
        default_factory=dict,
        description="a team's own rating scales, by name: `{min, max, whole_numbers}`",
    )
    alerts: AlertsSpec = AlertsSpec()

    @model_validator(mode="after")
    def _unique_ids(self) -> SourcesFile:
        seen: set[str] = set()
        for spec in self.sources:
            if spec.id in seen:
                raise ValueError(f"source id {spec.id!r} is declared twice")
            seen.add(spec.id)
        return self


@dataclass(frozen=True, slots=True)
class DeclaredSources:
    """A validated sources file: its sources, the rating scales in force, and the
    directory that relative paths in connector configs resolve against."""

    sources: list[SourceSpec]
    scales: Scales
    base_dir: Path
    alerts: AlertsSpec = AlertsSpec()


def load_sources_file(path: Path) -> DeclaredSources:
    """Parse and validate a sources file."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise SourcesFileError(f"cannot read sources file {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise SourcesFileError(f"{path} is not valid YAML: {exc}") from exc
    try:
        parsed = SourcesFile.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise SourcesFileError(f"{path}: {problems}") from exc
    base_dir = path.resolve().parent
    try:
        scales = Scales(parsed.scales)
    except ValueError as exc:
        raise SourcesFileError(f"{path}: scales: {exc}") from exc
    for spec in parsed.sources:
        try:
            get_connector_class(spec.kind).from_mapping(spec.config, base_dir=base_dir)
        except ConnectorError as exc:
            raise SourcesFileError(f"{path}: source {spec.id!r}: {exc}") from exc
        scale = spec.config.get("rating_scale")
        if isinstance(scale, str) and scales.get(scale) is None:
            known = ", ".join(scales.names())
            raise SourcesFileError(
                f"{path}: source {spec.id!r}: unknown rating_scale {scale!r} (known: {known}); "
                "declare your own under `scales:` at the top of the file"
            )
    return DeclaredSources(
        sources=list(parsed.sources), scales=scales, base_dir=base_dir, alerts=parsed.alerts
    )
