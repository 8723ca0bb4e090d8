"""The OpenAPI document, made exact where FastAPI's own is loose: the dates every
period parameter takes, the journey's stage keys (configuration, so known only at
run time), and the feeds' real media types. A client generated from it, or a
fuzzer, sends what the service accepts."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.feeds.formats import MEDIA_TYPES
from nlp.enrichment import UNASSIGNED

DATE_PARAMS = frozenset({"from", "to", "updated_since"})
_MOMENT = {
    "anyOf": [
        {"type": "string", "format": "date"},
        {"type": "string", "format": "date-time"},
    ]
}


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            runtime = getattr(app.state, "runtime", None)
            stages = list(runtime.journey.keys) if runtime is not None else None
            page_max = runtime.settings.page_size_max if runtime is not None else None
            refine(spec, stages, page_max)
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def refine(spec: dict[str, Any], stages: list[str] | None, page_max: int | None) -> None:
    for path, operations in spec.get("paths", {}).items():
        for operation in operations.values():
            for param in operation.get("parameters", []):
                name, where = param.get("name"), param.get("in")
                _no_nul(param.get("schema", {}))
                if where == "path" and "anyOf" in param.get("schema", {}):
                    # a path segment is never null (`/items.{fmt}` shares its function
                    # with `/items?fmt=`)
                    options = [o for o in param["schema"]["anyOf"] if o.get("type") != "null"]
                    param["schema"] = options[0] if len(options) == 1 else {"anyOf": options}
                if where == "query" and name == "limit" and path == "/api/v1/items" and page_max:
                    param["schema"]["maximum"] = page_max
                if where == "query" and name in DATE_PARAMS:
                    param["schema"] = {"anyOf": [*_MOMENT["anyOf"], {"type": "null"}]}
                elif stages is not None and where == "query" and name == "stage":
                    param["schema"] = {
                        "anyOf": [
                            {"type": "string", "enum": [*stages, UNASSIGNED]},
                            {"type": "null"},
                        ]
                    }
                elif stages is not None and path == "/api/v1/stages/{key}" and name == "key":
                    param["schema"] = {"type": "string", "enum": stages}
            if path.startswith("/api/v1/feeds/"):
                ok = operation.setdefault("responses", {}).setdefault("200", {})
                ok["content"] = {
                    media.split(";")[0]: {"schema": {"type": "string", "format": "binary"}}
                    for media in MEDIA_TYPES.values()
                }


def _no_nul(schema: dict[str, Any]) -> None:
    """A string parameter never holds NUL (refused with a 400: PostgreSQL cannot store it)."""
    for option in schema.get("anyOf", [schema]):
        if option.get("type") == "string" and "enum" not in option and "format" not in option:
            option.setdefault("pattern", "^[^\\x00]*$")
