"""Log records fit for a shared log store: a database exception's traceback
carries its SQL (and, without `hide_parameters`, customers' words); an OS error
carries host paths. The filter keeps the message and the exception's kind and
public text, and drops the rest."""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError

from app.security.errors import public_error, public_text


class SafeRecords(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, SQLAlchemyError | OSError):
            record.msg = f"{record.getMessage()}: {type(exc).__name__}: {public_error(exc)}"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        elif isinstance(record.msg, str) and not record.args:
            record.msg = public_text(record.msg) if "[SQL:" in record.msg else record.msg
        return True


def install() -> None:
    """On every handler of the root logger (set up by the CLI before serving)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, SafeRecords) for f in handler.filters):
            handler.addFilter(SafeRecords())
