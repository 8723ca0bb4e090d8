"""The `alerts:` section of the sources file: thresholds and where alerts go.

    alerts:
      thresholds: {z: 4.0, min_extra: 12}      # any of detectors.Thresholds
      digest_from: 3                            # this many at once: one digest message
      webhooks:
        - name: cx-slack
          url_env: SLACK_WEBHOOK_URL            # the URL is a secret: from the environment
          format: slack                         # or cloudevents (CloudEvents 1.0, structured JSON)
          stages: [billing, support]            # optional: only these stages
          detectors: [negative_surge, nps_drop] # optional: only these detectors

A webhook's URL comes from an environment variable (`url_env`) or, for a local
receiver, `url`; it is never stored in the database nor shown by the API.
"""

from __future__ import annotations

import os
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from app.alerts.detectors import Thresholds
from connectors.network import parse_networks

DETECTORS = ("negative_surge", "phrase_surge", "nps_drop", "quiet", "revenue_at_risk")
Detector = Literal["negative_surge", "phrase_surge", "nps_drop", "quiet", "revenue_at_risk"]


class WebhookSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    url: SecretStr | None = None
    url_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    format: Literal["slack", "cloudevents"] = "slack"
    stages: list[str] | None = None
    detectors: list[Detector] | None = None
    timeout_seconds: float = Field(10.0, gt=0, le=120)
    max_attempts: int = Field(8, ge=1, le=50)
    allow_networks: list[str] = Field(
        default_factory=list,
        description="private networks this receiver may be in (CIDRs or addresses); "
        "loopback, private and link-local addresses are refused otherwise (SSRF guard)",
    )

    @field_validator("allow_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        parse_networks(value)
        return value

    @model_validator(mode="after")
    def _one_url(self) -> WebhookSpec:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give exactly one of 'url' or 'url_env'")
        return self

    def resolved_url(self) -> str | None:
        """The URL, or None when its environment variable is not set."""
        if self.url is not None:
            return self.url.get_secret_value()
        assert self.url_env is not None
        return os.environ.get(self.url_env) or None

    def wants(self, stage: str, detector: str) -> bool:
        return (self.stages is None or stage in self.stages) and (
            self.detectors is None or detector in self.detectors
        )


class AlertsSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    thresholds: Thresholds = Thresholds()
    lookback_days: int = Field(3, ge=1, le=60, description="latest days judged after a sync")
    digest_from: int = Field(3, ge=2, description="alerts at once that go out as one digest")
    touchpoint_attributes: list[str] = Field(
        default_factory=list,
        description="item attributes naming a touchpoint survey (e.g. Touchpoint): the NPS "
        "of each of their values is judged for a drop, as a stage's is",
    )
    webhooks: list[WebhookSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> AlertsSpec:
        names = [w.name for w in self.webhooks]
        if len(names) != len(set(names)):
            raise ValueError("webhook names must be unique")
        return self
