"""Connector errors, by what the caller can do about them.

    ConnectorError
    ├── ConfigError        bad or missing configuration: fix the sources file; never retried
    ├── FatalError         the source refuses us (401/403, missing file): the run fails, the source is marked failing
    ├── RetriableError     timeouts, 429, 5xx: try again after `delay` seconds
    └── UnknownKindError   no connector registered under that kind; lists the known ones

Per-record problems are not exceptions at this level: the connector turns them
into `RejectedRecord`s so the run goes on and the record lands in quarantine.
"""

from __future__ import annotations


class ConnectorError(Exception):
    """Base of every connector error."""


class ConfigError(ConnectorError):
    pass


class FatalError(ConnectorError):
    pass


class RetriableError(ConnectorError):
    def __init__(self, message: str, *, delay: float = 1.0) -> None:
        super().__init__(message)
        self.delay = delay


class UnknownKindError(ConnectorError):
    pass
