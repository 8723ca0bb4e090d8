"""A read-only PostgreSQL role for BI tools: SELECT on the `lp_*` views, nothing else."""

from __future__ import annotations

import re

from sqlalchemy import text
from sqlalchemy.engine import Engine

BI_VIEWS = ("lp_stage_daily", "lp_items", "lp_segments")
_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class RoleError(ValueError):
    """The role cannot be made here; the message says why and what to do."""


def grant_bi_role(engine: Engine, role: str, *, password: str | None) -> str:
    """Create (or update) `role` with LOGIN and read access to the BI views only;
    returns the schema the views live in."""
    if engine.dialect.name != "postgresql":
        raise RoleError(
            "BI roles and views are PostgreSQL's; on SQLite, point the BI tool at the "
            "feeds (/api/v1/feeds/stage-daily.csv, ...)"
        )
    if not _ROLE.match(role):
        raise RoleError(f"role {role!r}: lower-case letters, digits and '_', at most 63")
    with engine.begin() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        exists = conn.execute(
            text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}
        ).first()
        verb = "ALTER" if exists else "CREATE"
        if password:
            # Bound parameters are not allowed in role DDL; quote_literal does it safely.
            literal = conn.execute(text("SELECT quote_literal(:p)"), {"p": password}).scalar_one()
            conn.execute(text(f"{verb} ROLE {role} LOGIN PASSWORD {literal}"))
        else:
            conn.execute(text(f"{verb} ROLE {role} LOGIN"))
        conn.execute(text(f'GRANT USAGE ON SCHEMA "{schema}" TO {role}'))
        for view in BI_VIEWS:
            conn.execute(text(f'GRANT SELECT ON "{schema}".{view} TO {role}'))
    return str(schema)
