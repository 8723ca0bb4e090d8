"""Error text fit to leave the service: in `last_error`, a run's error, an API
answer. A database error's text carries its SQL and bound values (customer
references, their words); an OS error carries host paths. What is kept is the
kind of failure and the sentence a person needs; the server log has the rest."""

from __future__ import annotations

import re

from sqlalchemy.exc import DBAPIError, SQLAlchemyError

MAX_CHARS = 500
# An absolute path (POSIX, home, or a Windows drive), kept as its last part only.
_PATH = re.compile(r"(?<![\w.:/])(?:~|[A-Za-z]:)?(?:[/\\][^\s'\"/\\:,;()\[\]]+){2,}[/\\]?")
_SQL = re.compile(r"\[SQL:.*", re.DOTALL)


def scrub_paths(text: str) -> str:
    return _PATH.sub(lambda m: ".../" + re.split(r"[/\\]", m.group(0).rstrip("/\\"))[-1], text)


def public_error(exc: BaseException) -> str:
    """What may be said of `exc` outside the server log."""
    if isinstance(exc, DBAPIError):
        original = type(exc.orig).__name__ if exc.orig is not None else "DBAPIError"
        return f"database error ({original}); the server log has the details"
    if isinstance(exc, SQLAlchemyError):
        return f"database error ({type(exc).__name__}); the server log has the details"
    if isinstance(exc, OSError) and exc.strerror:
        return f"{type(exc).__name__}: {exc.strerror}"
    lines = str(exc).strip().splitlines()
    return public_text(lines[0] if lines else type(exc).__name__)


def public_text(text: str) -> str:
    """A message from our own code or a connector, with any SQL and host path cut."""
    return scrub_paths(_SQL.sub("", text)).strip()[:MAX_CHARS]
