"""The `listening-path` command: serve, demo, sync, db, connectors (and nlp, from the nlp package)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.errors import AppError
from app.ingest.service import SyncResult
from app.jobs import BatchCommitted, Event, Listener
from app.observability.logs import configure_logging, uvicorn_log_config
from app.runtime import Runtime, build_runtime, freeze_long_lived
from app.settings import Settings
from app.sources.config import SourcesFileError
from nlp.cli import cli as nlp_cli

cli = typer.Typer(
    name="listening-path",
    help="Listening Path: every customer voice, one stage-by-stage journey story.",
    no_args_is_help=True,
)
db_cli = typer.Typer(help="Database schema.", no_args_is_help=True)
connectors_cli = typer.Typer(help="Connector kinds.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(connectors_cli, name="connectors")
rollups_cli = typer.Typer(help="The read model's daily rollups.", no_args_is_help=True)
cli.add_typer(rollups_cli, name="rollups")
bi_cli = typer.Typer(help="Read-only access for BI tools (PostgreSQL).", no_args_is_help=True)
cli.add_typer(bi_cli, name="bi")
alerts_cli = typer.Typer(help="The early warning.", no_args_is_help=True)
cli.add_typer(alerts_cli, name="alerts")
keys_cli = typer.Typer(help="API keys (read, ingest, admin).", no_args_is_help=True)
cli.add_typer(keys_cli, name="keys")
outcomes_cli = typer.Typer(help="Customer outcomes (what customers did).", no_args_is_help=True)
cli.add_typer(outcomes_cli, name="outcomes")

# The NLP commands (evaluate, annotate, train) live with the NLP package.
cli.add_typer(nlp_cli, name="nlp", help="Evaluate, annotate and train the NLP pipeline.")

console = Console()
err_console = Console(stderr=True)

HostOpt = Annotated[
    str | None, typer.Option(help="interface to bind (default LP_HOST or 127.0.0.1)")
]
PortOpt = Annotated[int | None, typer.Option(help="port (default LP_PORT or 8000)")]


def _settings(**overrides: object) -> Settings:
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
    except ValueError as exc:
        err_console.print(f"[red]configuration error:[/red] {exc}")
        raise typer.Exit(2) from exc


def _runtime(settings: Settings) -> Runtime:
    try:
        return build_runtime(settings)
    except (SourcesFileError, ValueError) as exc:
        err_console.print(f"[red]cannot start:[/red] {exc}")
        raise typer.Exit(2) from exc


def _sync_all(runtime: Runtime, source_ids: list[str]) -> bool:
    """Sync each source with a progress bar, then print the commonest reject reasons
    of every run that rejected something; False when any run failed."""
    ok = True
    reasons: list[SyncResult] = []
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        for source_id in source_ids:
            task = progress.add_task(source_id, total=None, status="starting")

            def on_batch(event: Event, task: TaskID = task) -> None:
                if isinstance(event, BatchCommitted) and event.sync is not None:
                    p = event.sync
                    progress.update(
                        task,
                        status=f"{p.fetched} read, {p.inserted} new, {p.duplicates} dup, "
                        f"{p.rejected} rejected",
                    )

            try:
                result = runtime.jobs.sync(source_id, trigger="cli", listener=on_batch)
            except AppError as exc:
                progress.update(task, status=f"[red]{exc.message}", total=1, completed=1)
                ok = False
                continue
            status = (
                f"{result.fetched} read, {result.inserted} new, {result.updated} updated, "
                f"{result.duplicates} dup, {result.rejected} rejected"
            )
            if result.error:
                status += f" [red]FAILED: {escape(result.error)}"
                ok = False
            progress.update(task, status=status, total=1, completed=1)
            if result.reject_reasons:
                reasons.append(result)
    for result in reasons:
        console.print(f"[bold]{result.source_id}[/bold]: top reject reasons (run {result.run_id})")
        for reason in result.reject_reasons[:5]:
            console.print(f"  {reason.count:>7,}  {escape(reason.reason)}")
    return ok


def _print_story(runtime: Runtime) -> None:
    from app.story.service import build_story

    with Session(runtime.engine) as session:
        story = build_story(session, journey=runtime.journey, date_from=None, date_to=None)
    title = f"The journey story: {story.voices} voices, {story.customers or 0} customers"
    for label, metric in (("NPS", story.nps), ("CSAT", story.csat)):
        if metric is not None and metric.score is not None:
            title += f", {label} {metric.score} ({metric.answers} answers)"
    if story.ces is not None and story.ces.mean is not None:
        title += f", CES {story.ces.mean} ({story.ces.answers} answers)"
    table = Table(title=title)
    for column in (
        "stage",
        "voices",
        "customers",
        "negative",
        "neutral",
        "positive",
        "NPS",
        "top themes",
    ):
        table.add_column(
            column, justify="right" if column not in ("stage", "top themes") else "left"
        )
    for stage in story.stages:
        table.add_row(
            stage.name,
            str(stage.voices),
            str(stage.customers or 0),
            str(stage.sentiment.negative),
            str(stage.sentiment.neutral),
            str(stage.sentiment.positive),
            f"{stage.nps.score:+d} ({stage.nps.answers})"
            if stage.nps is not None and stage.nps.score is not None
            else "",
            ", ".join(p.phrase for p in stage.top_phrases[:3]),
        )
    table.add_row("(no stage)", str(story.unassigned), "", "", "", "", "")
    console.print(table)


def _quiet_errors() -> None:
    """Logged errors without SQL or host paths (app.security.logs), as `serve` has."""
    from app.security import logs

    logs.install()


def _serve(runtime: Runtime, host: str, port: int) -> None:
    import uvicorn

    from app.main import create_app
    from app.security import logs
    from app.security.exposure import ExposureError, check_exposure

    configure_logging(runtime.settings)
    logs.install()
    try:
        check_exposure(runtime.settings, runtime.engine, host)
    except ExposureError as exc:
        runtime.close()
        err_console.print(f"[red]cannot start:[/red] {exc}")
        raise typer.Exit(2) from exc
    freeze_long_lived()
    app = create_app(runtime=runtime)
    docs = f"  (API docs: http://{host}:{port}/docs)" if runtime.settings.docs_open else ""
    console.print(f"Listening Path on http://{host}:{port}{docs}")
    console.print(
        "Admin routes (sources, syncs, keys) need a key: "
        "listening-path keys create NAME --scope admin"
    )
    try:
        log_config = uvicorn_log_config(runtime.settings)
        uvicorn.run(app, host=host, port=port, log_level="info", log_config=log_config)
    finally:
        runtime.close()


@cli.command()
def serve(host: HostOpt = None, port: PortOpt = None) -> None:
    """Run the API with the scheduler syncing every enabled source.

    With LP_SOURCES_FILE unset it serves the bundled sample sources."""
    settings = _settings(host=host, port=port)
    _serve(_runtime(settings), settings.host, settings.port)


def _import_sample_outcomes(runtime: Runtime) -> None:
    """The sample company's outcomes (who left, who grew), so the said-versus-did
    figures show at once; importing again adds nothing."""
    from app.outcomes.service import import_file
    from app.settings import sample_outcomes_file

    path = sample_outcomes_file()
    if path.is_file():
        result = import_file(runtime.engine, path, runtime.policy)
        console.print(
            f"outcomes: {result.inserted:,} new events from {path.name} "
            f"({result.duplicates:,} already there)"
        )


@cli.command()
def demo(host: HostOpt = None, port: PortOpt = None) -> None:
    """Load the bundled sample company, print its story, then serve it."""
    settings = _settings(host=host, port=port)
    settings = settings.model_copy(update={"sources_file": None})
    runtime = _runtime(settings)
    _sync_all(runtime, list(runtime.sources))
    _import_sample_outcomes(runtime)
    _print_story(runtime)
    _serve(runtime, settings.host, settings.port)


@cli.command()
def sync(
    source: Annotated[
        str | None, typer.Argument(help="a source id; all enabled when omitted")
    ] = None,
    queued: Annotated[
        bool,
        typer.Option(
            "--queued",
            help="put the syncs on the queue for the workers (LP_QUEUE=procrastinate) "
            "instead of running them here",
        ),
    ] = False,
) -> None:
    """Sync one source (or every enabled one) now, with a progress bar."""
    runtime = _runtime(_settings())
    try:
        if source is not None and source not in runtime.sources:
            known = ", ".join(sorted(runtime.sources)) or "none"
            err_console.print(f"[red]no declared source {source!r}[/red] (declared: {known})")
            raise typer.Exit(2)
        ids = [source] if source else [s.id for s in runtime.sources.values() if s.enabled]
        if queued:
            _queue_syncs(runtime, ids)
            return
        ok = _sync_all(runtime, ids)
    finally:
        runtime.close()
    if not ok:
        raise typer.Exit(1)


def _queue_syncs(runtime: Runtime, ids: list[str]) -> None:
    _need_queue(runtime)
    assert runtime.queue is not None
    for source_id in ids:
        job = runtime.queue.sync(source_id, trigger="manual")
        state = f"queued as job {job}" if job is not None else "already queued"
        console.print(f"{source_id}: {state}")


@cli.command()
def worker(
    concurrency: Annotated[
        int, typer.Option(min=1, max=64, help="worker processes (each enriches on one core)")
    ] = 1,
    metrics_port: Annotated[
        int | None,
        typer.Option(help="serve Prometheus metrics on this port (worker i on PORT + i)"),
    ] = None,
) -> None:
    """Run queued jobs (syncs, their batches, rebuilds, re-enrichment) until stopped.

    Needs LP_QUEUE=procrastinate and a PostgreSQL DATABASE_URL, like the service."""
    from app.queue.worker import run_workers

    settings = _settings(scheduler_enabled=False)
    if settings.queue != "procrastinate":
        err_console.print(
            "[red]cannot start:[/red] a worker runs queued jobs: set LP_QUEUE=procrastinate "
            "and a PostgreSQL DATABASE_URL, for the service and its workers alike"
        )
        raise typer.Exit(2)
    configure_logging(settings)
    _quiet_errors()
    console.print(f"worker: {concurrency} process(es) on the queue")
    raise typer.Exit(run_workers(settings, concurrency=concurrency, metrics_port=metrics_port))


@cli.command()
def scheduler() -> None:
    """Run only the scheduler and the early warning (no API): the one replica that
    wins the leader lock schedules; another started beside it waits as a standby."""
    import signal
    import threading

    settings = _settings(scheduler_enabled=True)
    configure_logging(settings)
    _quiet_errors()
    runtime = _runtime(settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    freeze_long_lived()
    try:
        runtime.start_scheduler()
        mode = "queues syncs for the workers" if runtime.queue is not None else "runs syncs here"
        console.print(f"scheduler started ({mode}); standing for leader")
        stop.wait()
    finally:
        runtime.close()


DIGEST_PERIODS = {"week": "7d", "month": "30d", "quarter": "90d"}


@cli.command()
def digest(
    out: Annotated[str, typer.Option("--out", help="the file to write ('-' for standard output)")],
    period: Annotated[
        str, typer.Option(help="week, month or quarter: the last 7, 30 or 90 days")
    ] = "week",
    fmt: Annotated[str, typer.Option("--format", help="html (self-contained) or md")] = "html",
    base_url: Annotated[
        str | None,
        typer.Option(help="the service's address, to link each stage to its page"),
    ] = None,
) -> None:
    """Write the one-page journey story (the `/` page's numbers, with the change against
    the period before) as a self-contained HTML file, or Markdown for chat tools.

    The period ends at the latest day with data (today if that is later): a digest of
    days nothing was heard on would say nothing, and the file says which day it is."""
    from app.db import make_engine, upgrade_database
    from app.web.periods import PageQuery, anchor_day, preset_range
    from app.web.render import journey_html, journey_markdown, period_words
    from app.web.service import build_journey_view
    from nlp.journey import load_journey

    if period not in DIGEST_PERIODS:
        err_console.print(f"[red]--period must be one of {', '.join(DIGEST_PERIODS)}[/red]")
        raise typer.Exit(2)
    if fmt not in ("html", "md"):
        err_console.print("[red]--format must be html or md[/red]")
        raise typer.Exit(2)
    settings = _settings(scheduler_enabled=False)
    engine = make_engine(settings.database_url)
    try:
        upgrade_database(engine)
        journey = load_journey(settings.resolved_journey_file())
        with Session(engine) as session:
            anchor = anchor_day(session)
            query = PageQuery(*preset_range(DIGEST_PERIODS[period], anchor))
            view = build_journey_view(
                session,
                journey=journey,
                query=query,
                anchor=anchor,
                driver_min_answers=settings.driver_min_answers,
            )
    finally:
        engine.dispose()
    base = (base_url or "").rstrip("/")
    text = (
        journey_html(view, standalone=True, base_url=base)
        if fmt == "html"
        else journey_markdown(view, base_url=base)
    )
    if out == "-":
        typer.echo(text, nl=False)
        return
    with open(out, "w", encoding="utf-8") as handle:
        handle.write(text)
    err_console.print(
        f"wrote {out}: the journey story {period_words(query.api_from, query.api_to)} "
        f"({view.story.voices:,} voices; data up to {anchor.isoformat()})"
    )


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema to the newest version (also done on every start)."""
    from app.db import make_engine, upgrade_database

    settings = _settings()
    engine = make_engine(settings.database_url)
    try:
        upgrade_database(engine)
    finally:
        engine.dispose()
    console.print(f"database at head: {engine.url.render_as_string(hide_password=True)}")


def _bar_listener(progress: Progress, task: TaskID) -> Listener:
    def listener(event: Event) -> None:
        if isinstance(event, BatchCommitted):
            status = f"{event.done:,} items"
            progress.update(task, completed=event.done, total=event.total, status=status)

    return listener


QueuedOpt = Annotated[
    bool,
    typer.Option("--queued", help="put it on the queue for the workers (LP_QUEUE=procrastinate)"),
]


def _need_queue(runtime: Runtime) -> None:
    if runtime.queue is None:
        runtime.close()
        err_console.print(
            "[red]--queued needs the queue:[/red] set LP_QUEUE=procrastinate (PostgreSQL) "
            "and run `listening-path worker`"
        )
        raise typer.Exit(2)


@rollups_cli.command("rebuild")
def rollups_rebuild(queued: QueuedOpt = False) -> None:
    """Rebuild the read model (voice facts, daily rollups) from the stored items."""
    runtime = _runtime(_settings(scheduler_enabled=False))
    if queued:
        _need_queue(runtime)
        assert runtime.queue is not None
        console.print(f"rebuild queued as job {runtime.queue.rebuild()}")
        runtime.close()
        return
    try:
        with _bar() as progress:
            task = progress.add_task("rebuild", total=None, status="")
            items = runtime.jobs.rebuild(listener=_bar_listener(progress, task))
    finally:
        runtime.close()
    console.print(f"read model rebuilt from {items:,} items")


@cli.command()
def reenrich(
    source: Annotated[str | None, typer.Option("--source", help="only this source's items")] = None,
    queued: QueuedOpt = False,
) -> None:
    """Re-run the NLP over stored items of another pipeline version (a journey edit
    changes it): segments and read model replaced, batch by batch, resumable."""
    runtime = _runtime(_settings(scheduler_enabled=False))
    if queued:
        _need_queue(runtime)
        assert runtime.queue is not None
        console.print(f"re-enrichment queued as job {runtime.queue.reenrich(source)}")
        runtime.close()
        return
    try:
        with _bar() as progress:
            task = progress.add_task("re-enrich", total=None, status="")
            done = runtime.jobs.reenrich(source_id=source, listener=_bar_listener(progress, task))
    finally:
        runtime.close()
    console.print(f"{done:,} items re-enriched with {runtime.enricher.version}")


@alerts_cli.command("check")
def alerts_check(
    until: Annotated[
        str | None,
        typer.Option(help="judge the days up to this one (default: the latest with data)"),
    ] = None,
) -> None:
    """Judge the latest days now and send the messages due (the service does this
    after every sync; this is for a cron job or a first look)."""
    import httpx

    from app.alerts import delivery, service

    runtime = _runtime(_settings(scheduler_enabled=False))
    try:
        day = date.fromisoformat(until) if until else None
        result = service.evaluate(
            runtime.engine,
            runtime.journey,
            runtime.alerts,
            until=day,
            base_url=runtime.settings.base_url(),
        )
        with httpx.Client() as client:
            sent = delivery.send_due(runtime.engine, runtime.alerts, client=client)
    except ValueError as exc:
        err_console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    finally:
        runtime.close()
    judged = ", ".join(d.isoformat() for d in result.judged) or "no data yet"
    console.print(
        f"judged {judged}: {len(result.fired)} fired, {len(result.resolved)} resolved, {sent} messages sent"
    )
    for alert in result.fired:
        console.print(
            f"  [bold]{alert.stage}[/bold] {alert.detector}: {escape(alert.measure)} {alert.value:g} (normal about {alert.baseline:g}) on {alert.fired_day}"
        )


@bi_cli.command("grant")
def bi_grant(
    role: Annotated[str, typer.Argument(help="the role to create or update, e.g. powerbi")],
    password_env: Annotated[
        str | None,
        typer.Option(help="environment variable holding the role's password"),
    ] = None,
) -> None:
    """PostgreSQL: a read-only role for BI tools (SELECT on lp_stage_daily, lp_items,
    lp_segments only)."""
    import os

    from app.db import make_engine, upgrade_database
    from app.feeds.roles import RoleError, grant_bi_role

    password = os.environ.get(password_env) if password_env else None
    if password_env and not password:
        err_console.print(f"[red]{password_env} is not set[/red]")
        raise typer.Exit(2)
    engine = make_engine(_settings().database_url)
    try:
        upgrade_database(engine)
        schema = grant_bi_role(engine, role, password=password)
    except RoleError as exc:
        err_console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    finally:
        engine.dispose()
    console.print(f"role {role} may read {schema}.lp_stage_daily, lp_items and lp_segments")


def _bar() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=console,
    )


@connectors_cli.command("list")
def connectors_list(
    as_json: Annotated[
        bool, typer.Option("--json", help="print the config schemas as JSON")
    ] = False,
) -> None:
    """Every connector kind with its channel and config schema."""
    from connectors.registry import describe

    kinds = describe()
    if as_json:
        typer.echo(json.dumps(kinds, indent=2, default=str))
        return
    table = Table(title="Connector kinds")
    table.add_column("kind")
    table.add_column("channel")
    table.add_column("config keys (* required)")
    table.add_column("about")
    for info in kinds:
        schema = info.get("config_schema", {})
        required = set(schema.get("required", []))
        keys = ", ".join(f"{k}{'*' if k in required else ''}" for k in schema.get("properties", {}))
        table.add_row(str(info["kind"]), str(info["channel"]), keys, str(info.get("summary", "")))
    console.print(table)


def main() -> None:
    cli()


def _keys_engine() -> Engine:
    from app.db import make_engine, upgrade_database

    engine = make_engine(_settings().database_url)
    upgrade_database(engine)
    return engine


@keys_cli.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="who or what uses it, e.g. 'powerbi' or 'ana'")],
    scope: Annotated[
        list[str] | None,
        typer.Option(help="read, ingest or admin; repeat for several (default: read)"),
    ] = None,
) -> None:
    """Make an API key. Its secret is printed once, alone on standard output (so
    `KEY=$(listening-path keys create ci --scope admin)` works): it is kept only as a hash."""
    from app.security import audit, keys

    scope = scope or ["read"]
    engine = _keys_engine()
    try:
        with Session(engine) as session:
            try:
                key, secret = keys.create_key(
                    session, name=name, scopes=scope, created_by=audit.CLI
                )
            except AppError as exc:
                err_console.print(f"[red]{exc.message}[/red]")
                raise typer.Exit(2) from exc
            # read before the audit commits: the key's row is not loaded again after it
            said = f"key {key.id} '{key.name}' with scopes {', '.join(key.scopes)}:"
            audit.record(
                session,
                actor=audit.CLI,
                action="key.create",
                target=f"{key.name} ({key.prefix})",
                detail={"scopes": key.scopes},
            )
    finally:
        engine.dispose()
    err_console.print(said)
    typer.echo(secret)
    err_console.print("Shown once; send it as 'Authorization: Bearer KEY' or 'X-API-Key: KEY'.")


@keys_cli.command("list")
def keys_list() -> None:
    """The keys: id, name, prefix, scopes, last use; never their secrets."""
    from app.security import keys

    engine = _keys_engine()
    try:
        with Session(engine) as session:
            found = keys.list_keys(session)
    finally:
        engine.dispose()
    table = Table("id", "name", "prefix", "scopes", "created", "last used", "revoked")
    for key in found:
        table.add_row(
            str(key.id),
            key.name,
            key.prefix,
            ", ".join(key.scopes),
            key.created_at.strftime("%Y-%m-%d %H:%M"),
            key.last_used_at.strftime("%Y-%m-%d %H:%M") if key.last_used_at else "",
            key.revoked_at.strftime("%Y-%m-%d %H:%M") if key.revoked_at else "",
        )
    console.print(table)


@keys_cli.command("revoke")
def keys_revoke(
    key_ref: Annotated[str, typer.Argument(help="the key's id or prefix (lp_...)")],
) -> None:
    """Revoke a key: requests with it get 401 from now on."""
    from app.security import audit, keys

    engine = _keys_engine()
    try:
        with Session(engine) as session:
            try:
                key = keys.revoke_key(session, key_ref)
            except AppError as exc:
                err_console.print(f"[red]{exc.message}[/red]")
                raise typer.Exit(2) from exc
            audit.record(
                session, actor=audit.CLI, action="key.revoke", target=f"{key.name} ({key.prefix})"
            )
    finally:
        engine.dispose()
    console.print(f"revoked key {key.id} '{key.name}' ({key.prefix})")


@outcomes_cli.command("import")
def outcomes_import(
    path: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="a .csv or .parquet file")
    ],
) -> None:
    """Import outcome events: customer, event, occurred_at, value_change, value,
    currency, profit, event_id, and any segment columns. Importing again adds nothing."""
    from app.outcomes.service import import_file

    runtime = _runtime(_settings())
    try:
        try:
            result = import_file(runtime.engine, path, runtime.policy)
        except ValueError as exc:
            err_console.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from exc
    finally:
        runtime.close()
    console.print(
        f"{path.name}: {result.read:,} read, {result.inserted:,} new, "
        f"{result.duplicates:,} duplicates, {result.rejected:,} rejected"
    )
    for reason, count in result.reasons.most_common(5):
        console.print(f"  {count:,} x {escape(reason)}")
