"""Guards on every API request, so a mistake is a 400 that says what to fix: no
NUL bytes, no parameter the route does not know (a misspelt filter silently
ignored lets a user believe the filter worked), no value longer than any
parameter needs. And the error shapes the OpenAPI documents for every route."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from app.errors import BadRequestError
from app.params import ATTR_PREFIX, attr_filters

MAX_QUERY_VALUE = 1000
"""No query parameter takes more characters (a search `q` or a cursor needs far fewer)."""


class ErrorBody(BaseModel):
    detail: str = Field(description="what was wrong, and what to do about it")


class ValidationProblem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorBody(BaseModel):
    detail: str = Field(description="every problem, one after another")
    errors: list[ValidationProblem]


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "a parameter is unusable, unknown or too long"},
    401: {"model": ErrorBody, "description": "no API key, or an unknown or revoked one"},
    403: {"model": ErrorBody, "description": "the key lacks the scope this route needs"},
    404: {"model": ErrorBody, "description": "no such thing"},
    422: {"model": ValidationErrorBody, "description": "the request does not have the right shape"},
}


def refuse_nul_bytes(request: Request) -> None:
    """A NUL byte is never meaningful in a path or query, and PostgreSQL refuses it in
    text: say so with a 400 instead of letting the database fail the request."""
    if "\x00" in request.url.path or "%00" in request.url.query or "\x00" in request.url.query:
        raise BadRequestError("NUL bytes are not allowed in the path or query string")


_ACCEPTED: dict[int, tuple[frozenset[str], bool]] = {}


def _accepted(route: APIRoute) -> tuple[frozenset[str], bool]:
    """The query parameter names a route declares, and whether it takes attr.NAME
    (worked out once per route)."""
    found = _ACCEPTED.get(id(route))
    if found is None:
        found = _ACCEPTED[id(route)] = _declared(route)
    return found


def _declared(route: APIRoute) -> tuple[frozenset[str], bool]:
    names: set[str] = set()
    attrs = False
    pending: list[Dependant] = [route.dependant]
    while pending:
        dependant = pending.pop()
        names.update(field.alias for field in dependant.query_params)
        attrs = attrs or dependant.call is attr_filters
        pending.extend(dependant.dependencies)
    return frozenset(names), attrs


def known_query(request: Request) -> None:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not route.include_in_schema:
        return  # the pages read their own parameters (app.web.periods)
    names, attrs = _accepted(route)
    unknown = sorted(
        {
            key
            for key in request.query_params
            if key not in names and not (attrs and key.startswith(ATTR_PREFIX))
        }
    )
    if unknown:
        takes = ", ".join(sorted(names)) or "no query parameters"
        if attrs:
            takes += ", and attr.NAME filters"
        raise BadRequestError(
            f"unknown query parameter{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(repr(k[:40]) for k in unknown[:5])}; this route takes: {takes}"
        )
    for key, value in request.query_params.multi_items():
        if len(value) > MAX_QUERY_VALUE:
            raise BadRequestError(
                f"'{key[:40]}' is {len(value)} characters long; no parameter takes more "
                f"than {MAX_QUERY_VALUE}"
            )
