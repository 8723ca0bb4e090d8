"""The FastAPI application. Heavy things (engine, pipeline, scheduler) are built in
the lifespan, never at import, so importing this module is cheap and side-effect free."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.alerts.router import router as alerts_router
from app.errors import AppError, BadRequestError
from app.feeds.router import router as feeds_router
from app.items.router import router as items_router
from app.journey.router import router as journey_router
from app.runtime import Runtime, build_runtime
from app.settings import Settings
from app.sources.router import router as sources_router
from app.story.router import router as story_router
from app.web.router import router as pages_router

API_DESCRIPTION = """
One company, one listening path: every customer voice from surveys, social posts,
calls and field research, read by one NLP pipeline and told stage by stage.
Errors are JSON `{"detail": "..."}` with a 4xx status that says what to fix.
"""


def create_app(
    settings: Settings | None = None,
    *,
    runtime: Runtime | None = None,
    start_scheduler: bool | None = None,
) -> FastAPI:
    """Build the app. Tests pass a ready `runtime`; the CLI passes settings."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = runtime is None
        rt = runtime or build_runtime(settings or Settings())
        scheduling = rt.settings.scheduler_enabled if start_scheduler is None else start_scheduler
        if scheduling and rt.leadership is None:
            rt.start_scheduler()
        app.state.runtime = rt
        try:
            yield
        finally:
            if own:
                rt.close()
            elif scheduling:
                rt.stop_background()

    app = FastAPI(
        dependencies=[Depends(refuse_nul_bytes)],
        title="Listening Path",
        version="0.1.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
    )

    @app.exception_handler(AppError)
    async def app_error(_: Request, exc: AppError) -> JSONResponse:
        return JSONResponse(status_code=exc.status_code, content={"detail": exc.message})

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors():
            where = ".".join(
                str(p) for p in err.get("loc", ()) if p not in ("query", "path", "body")
            )
            problems.append(f"{where or 'request'}: {err.get('msg', 'invalid')}")
        return JSONResponse(
            status_code=422, content={"detail": "; ".join(problems), "errors": jsonable(exc)}
        )

    @app.exception_handler(DataError)
    async def data_error(_: Request, exc: DataError) -> JSONResponse:
        # Last line of defence: a value the database cannot hold is the caller's input.
        return JSONResponse(
            status_code=400,
            content={"detail": f"a parameter is out of range: {str(exc.orig).splitlines()[0]}"},
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(status_code=exc.status_code, content={"detail": exc.detail})

    @app.get("/health", tags=["health"], summary="Liveness and database reachability")
    def health(request: Request) -> JSONResponse:
        rt: Runtime = request.app.state.runtime
        try:
            with rt.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # report, never 500: the healthcheck must say why
            return JSONResponse(
                status_code=503, content={"status": "unavailable", "database": str(exc)[:200]}
            )
        return JSONResponse(
            content={
                "status": "ok",
                "database": rt.engine.dialect.name,
                "nlp_version": rt.enricher.version,
                # running: this replica leads and schedules; standby: another does
                "scheduler": "running"
                if rt.scheduler is not None
                else "standby"
                if rt.leadership is not None
                else "off",
            }
        )

    app.include_router(journey_router)
    app.include_router(story_router)
    app.include_router(feeds_router)
    app.include_router(items_router)
    app.include_router(sources_router)
    app.include_router(alerts_router)
    app.include_router(pages_router)
    return app


def refuse_nul_bytes(request: Request) -> None:
    """A NUL byte is never meaningful in a path or query, and PostgreSQL refuses it in
    text: say so with a 400 instead of letting the database fail the request."""
    if "\x00" in request.url.path or "%00" in request.url.query or "\x00" in request.url.query:
        raise BadRequestError("NUL bytes are not allowed in the path or query string")


def jsonable(exc: RequestValidationError) -> list[dict[str, object]]:
    return [
        {
            "loc": list(err.get("loc", ())),
            "msg": str(err.get("msg", "")),
            "type": str(err.get("type", "")),
        }
        for err in exc.errors()
    ]
