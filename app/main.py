"""The FastAPI application. Heavy things (engine, pipeline, scheduler) are built in
the lifespan, never at import, so importing this module is cheap and side-effect free."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    InterfaceError,
    InternalError,
    OperationalError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.alerts.router import router as alerts_router
from app.customers.router import router as customers_router
from app.errors import AppError
from app.feeds.router import router as feeds_router
from app.items.router import router as items_router
from app.journey.router import router as journey_router
from app.observability.middleware import RequestMetrics
from app.observability.router import router as metrics_router
from app.openapi import install as install_openapi
from app.outcomes.pages import warm
from app.outcomes.router import router as outcomes_router
from app.runtime import Runtime, build_runtime
from app.security.access import ReadAccess
from app.security.errors import public_error
from app.security.requests import ERROR_RESPONSES, known_query, refuse_nul_bytes
from app.security.router import router as security_router
from app.settings import Settings
from app.sources.router import router as sources_router
from app.story.router import router as story_router
from app.web.router import router as pages_router

log = logging.getLogger(__name__)

_STORE_STATES = {  # PostgreSQL's SQLSTATEs for a store that takes no writes
    "25006": "it is read-only (a standby, or default_transaction_read_only)",
    "53100": "its disk is full",
    "57P03": "it is starting up or shutting down",
}

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
        # Requests run in a thread each (sync routes): never more at once than the
        # process has database connections, so a burst queues for a thread instead
        # of every thread holding up the pool (`LP_DB_CONNECTIONS`).
        to_thread.current_default_thread_limiter().total_tokens = rt.settings.db_connections
        scheduling = rt.settings.scheduler_enabled if start_scheduler is None else start_scheduler
        if scheduling and rt.leadership is None:
            rt.start_scheduler()
        app.state.runtime = rt
        await to_thread.run_sync(warm, rt.engine)  # before listening: see `warm`
        try:
            yield
        finally:
            if own:
                rt.close()
            elif scheduling:
                rt.stop_background()

    known = runtime.settings if runtime is not None else settings or Settings()
    docs = known.docs_open
    app = FastAPI(
        dependencies=[Depends(refuse_nul_bytes), Depends(known_query)],
        responses=ERROR_RESPONSES,
        title="Listening Path",
        version="0.1.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    if known.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=known.cors_origins,
            allow_credentials=False,  # keys are headers; a browser never sends one by itself
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type"],
        )

    @app.exception_handler(AppError)
    async def app_error(_: Request, exc: AppError) -> JSONResponse:
        return JSONResponse(
            status_code=exc.status_code, content={"detail": exc.message}, headers=exc.headers
        )

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

    @app.exception_handler(PoolTimeout)
    async def database_busy(_: Request, exc: PoolTimeout) -> JSONResponse:
        log.warning("no free database connection: %s", exc)
        return JSONResponse(
            status_code=503,
            content={"detail": "the service is busy (no free database connection): try again"},
            headers={"Retry-After": "2"},
        )

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(InternalError)  # e.g. a read-only database (a standby, a lock)
    async def database_unavailable(_: Request, exc: DBAPIError) -> JSONResponse:
        # The database went away (a restart, a failover, a full disk): say so and
        # when to try again, never a traceback. The pool reconnects on its own.
        reason = _STORE_STATES.get(
            str(getattr(exc.orig, "sqlstate", "")), public_error(exc).splitlines()[0][:300]
        )
        log.warning("database unavailable: %s (%s)", reason, public_error(exc))
        return JSONResponse(
            status_code=503,
            content={"detail": f"the database is unavailable, try again shortly: {reason}"},
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        # The exception's headers too: a 405 must say what is allowed (`Allow`).
        return JSONResponse(
            status_code=exc.status_code, content={"detail": exc.detail}, headers=exc.headers
        )

    @app.get("/health", tags=["health"], summary="Liveness and database reachability")
    def health(request: Request) -> JSONResponse:
        rt: Runtime = request.app.state.runtime
        try:
            with rt.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # report, never 500: the healthcheck must say why
            return JSONResponse(
                status_code=503,
                content={"status": "unavailable", "database": public_error(exc)},
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

    if known.metrics_enabled:
        app.add_middleware(RequestMetrics)
        app.include_router(metrics_router)  # open like /health: app/observability/router.py
    install_openapi(app)
    read = [ReadAccess]
    app.include_router(journey_router, dependencies=read)
    app.include_router(story_router, dependencies=read)
    app.include_router(feeds_router, dependencies=read)
    app.include_router(items_router, dependencies=read)
    app.include_router(sources_router)  # admin, and ingest for the push route: per route
    app.include_router(alerts_router)  # read, and admin to acknowledge: per route
    app.include_router(security_router)  # admin
    app.include_router(customers_router)  # admin
    app.include_router(outcomes_router)  # read, and ingest to post: per route
    app.include_router(pages_router, dependencies=read)
    return app


def jsonable(exc: RequestValidationError) -> list[dict[str, object]]:
    return [
        {
            "loc": list(err.get("loc", ())),
            "msg": str(err.get("msg", "")),
            "type": str(err.get("type", "")),
        }
        for err in exc.errors()
    ]
