"""What the service refuses to start with, by where it listens and what it is."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.security.keys import any_active_key, is_loopback_host
from app.settings import Settings


class ExposureError(ValueError):
    """Starting like this would put the data on a network unprotected; says how to fix it."""


def check_exposure(settings: Settings, engine: Engine, host: str) -> None:
    with Session(engine) as session:
        keyed = any_active_key(session)
    if keyed:
        return
    make = "make one with: listening-path keys create NAME --scope admin"
    if settings.environment == "production":
        raise ExposureError(f"LP_ENVIRONMENT=production needs at least one API key; {make}")
    if not is_loopback_host(host):
        raise ExposureError(
            f"refusing to listen on {host} with no API key: anyone on the network could read "
            f"the feedback; {make} (or listen on 127.0.0.1)"
        )
