"""Connector errors, by what the caller can do about them.

    ConnectorError
    ├── ConfigError        bad or missing configuration: fix the sources file; never retried
    ├── FatalError         the source refuses us (401/403, missing file): the run fails,
    │   │                  the source is marked failing
    │   ├── PaginationLoopError  the API handed back the page (token) it just gave:
    │   │                  stopped instead of looping; the batches before it are kept
    │   └── NetworkRefusedError  the URL's host resolves to (or the connection went
    │                      to) a loopback, private, link-local... address the source
    │                      does not allow (the SSRF guard, `connectors.network`)
    ├── RetriableError     timeouts, 429, 5xx: try again after `delay` seconds
    ├── BatchTooLargeError a pushed batch holds more records than the source accepts
    ├── UnknownKindError   no connector registered under that kind; lists the known ones
    └── PluginError        an installed connector plugin failed to load; names the plugin

    RecordError            (not a ConnectorError) raised *inside* a connector while it
                           reads one record; the connector base turns it into a
                           `RejectedRecord`, so it never escapes `Connector.fetch`

Per-record problems are not exceptions at the caller's level: the connector turns
them into `RejectedRecord`s so the run goes on and the record lands in quarantine.
"""

from __future__ import annotations


class ConnectorError(Exception):
    """Base of every connector error."""


class ConfigError(ConnectorError):
    """The source's config is invalid; the message names every bad field."""


class FatalError(ConnectorError):
    """The source cannot be read at all (missing path, refused credentials)."""


class PaginationLoopError(FatalError):
    """The next page asked for is the one just read (same URL and token): a server or
    pagination-config bug. The run stops; the batches already yielded are kept."""


class NetworkRefusedError(FatalError):
    """The host resolves to an address no connector may reach unless its source
    allows that network (`allow_networks`); never retried."""


class RetriableError(ConnectorError):
    """A transient failure: try the run again after `delay` seconds.

    Raised when retries inside the run ran out (or a `Retry-After` is longer than
    the connector waits in-run); `delay` is the wait the server asked for, or the
    next backoff step, so a scheduler can put the next attempt there.
    """

    def __init__(self, message: str, *, delay: float = 1.0) -> None:
        super().__init__(message)
        self.delay = delay


class BatchTooLargeError(ConnectorError):
    """A pushed batch holds more records than the source's `max_records`."""


class UnknownKindError(ConnectorError):
    """No connector is registered under the requested kind."""


class PluginError(ConnectorError):
    """A connector plugin (entry point `listening_path.connectors`) is broken."""


class RecordError(Exception):
    """One record (or the rest of one file) cannot become a `RawItem`.

    Raised by a connector's parser; the base class turns it into a
    `RejectedRecord` carrying `reason`, `excerpt`, `external_id` and `location`.
    """

    def __init__(
        self,
        reason: str,
        *,
        excerpt: str = "",
        external_id: str | None = None,
        location: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.excerpt = excerpt
        self.external_id = external_id
        self.location = location
