"""Where log lines go and what shape they take: one handler on the root logger,
text for a terminal, or one JSON object a line (`LP_LOG_FORMAT=json`) for a log
store that indexes fields.

A JSON line has `time` (UTC, ISO 8601), `level`, `logger` and `message`, then
every field the call gave in `extra`: the scheduler's line per sync carries the
run's counters that way, so "rejected > 0" is a query rather than a regex over
the message. Exceptions come as `exc_info`, after `app.security.logs` has cut
what may not leave the server. The formatter is python-json-logger's: escaping,
odd values (datetimes, exceptions, dataclasses) and the record attributes that are
not `extra` are its business, kept up by others.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from app.settings import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
ACCESS_FIELDS = ("client", "method", "path", "http_version", "status")
"""uvicorn's access line as fields: the arguments of its `%s - "%s %s HTTP/%s" %d`."""
NOT_FIELDS = (*RESERVED_ATTRS, "color_message")
"""Record attributes that are no `extra`: the logging module's, and the copy of the
message with terminal colours that uvicorn adds to its own lines."""


class JsonLines(JsonFormatter):
    def __init__(self) -> None:
        super().__init__(
            ["levelname", "name", "message"],
            rename_fields={"levelname": "level", "name": "logger"},
            reserved_attrs=NOT_FIELDS,
        )

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        log_data["time"] = datetime.fromtimestamp(record.created, tz=UTC).isoformat(
            timespec="milliseconds"
        )
        super().add_fields(log_data, record, message_dict)
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
            log_data.update(zip(ACCESS_FIELDS, args, strict=True))


class _RootHandler(logging.StreamHandler[TextIO]):
    """The handler `configure_logging` installs, so that a second call replaces it."""


def configure_logging(settings: Settings, *, stream: TextIO | None = None) -> logging.Handler:
    """Send INFO and above to `stream` (stderr) in the configured format; returns
    the handler. Replaces a handler an earlier call installed; leaves others."""
    handler = _RootHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(
        JsonLines() if settings.log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _RootHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # procrastinate logs every job with its arguments (a queued batch is its records)
    logging.getLogger("procrastinate").setLevel(logging.WARNING)
    if settings.log_format == "json":
        # uvicorn's own config (a text `serve`, or a server started with another
        # log level, earlier in this process) leaves its loggers with their own
        # handlers and level, not propagating: bring them to the root's.
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
            logger = logging.getLogger(name)
            logger.handlers.clear()
            logger.setLevel(logging.NOTSET)
            logger.propagate = True
            logger.disabled = False
    return handler


def uvicorn_log_config(settings: Settings) -> dict[str, Any] | None:
    """uvicorn's `log_config`: its own handlers and colours for text; for JSON none
    (None), so its error and access loggers propagate to the root handler and
    come out as JSON lines like everything else."""
    if settings.log_format == "json":
        return None
    from uvicorn.config import LOGGING_CONFIG

    return LOGGING_CONFIG
