"""Filtering on item attributes (`attr.touchpoint=First bill`) in SQL, on both stores.

Attributes are a JSON object per item (and copied to each voice fact). A value is
compared as text, so `attr.tenure_months=12` matches the number 12 too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import String, cast, func, or_
from sqlalchemy.sql.elements import ColumnElement


def attribute_text(column: Any, name: str, dialect: str) -> ColumnElement[str]:
    """`column` is the JSON column (a table column or a model attribute)."""
    if dialect == "postgresql":
        text: ColumnElement[str] = column.op("->>")(name)
        return text
    path = '$."' + name.replace('"', '\\"') + '"'
    return cast(func.json_extract(column, path), String)


def attribute_clauses(
    column: Any, attrs: Mapping[str, Sequence[str]], dialect: str
) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    for name, values in attrs.items():
        text = attribute_text(column, name, dialect)
        clauses.append(or_(*(text == value for value in values)))
    return clauses
