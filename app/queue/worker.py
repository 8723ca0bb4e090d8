"""`listening-path worker`: processes that run the queue's jobs.

Enrichment is CPU-bound Python (spaCy, VADER) and holds the GIL, so parallelism
comes from processes: `--concurrency N` runs N worker processes under one
supervisor, which starts a process again when it dies. Each process has one slot
for a sync's reader (or a rebuild) and one for batches. The slots are apart
because a reader waits for its batches: readers allowed into every slot (more
syncs queued at once than slots) would wait for ever on batches no slot is left
to run. One batch slot, not two: batches are stored one at a time, in order, and a
second batch enriching in the same process shares its GIL with the one storing,
which holds every other worker up (measured, 2 workers on 2 cores: 1,123 items/s
with two batch slots each, 1,486 with one; bench/backfill.py).

A worker beats every `LP_WORKER_HEARTBEAT_SECONDS` in the queue's table. A job
whose worker missed three beats (killed, its machine gone) is put back on the
queue by any live worker, and runs again: every job is safe to run twice.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import procrastinate
from sqlalchemy.engine import Engine

from app.queue.connection import worker_app
from app.queue.tasks import BATCHES, MAINTENANCE, SYNCS
from app.security.errors import public_error
from app.settings import Settings

log = logging.getLogger(__name__)

READER_SLOTS = 1  # syncs' readers, rebuilds, re-enrichments
BATCH_SLOTS = 1
QUEUE_WORKERS = 2  # per process, each a procrastinate worker: the readers', the batches'
MISSED_BEATS = 3
RESTART_PAUSE_SECONDS = 2.0
MAX_RECONNECT_PAUSE_SECONDS = 15.0


def run_workers(
    settings: Settings,
    *,
    concurrency: int,
    metrics_port: int | None = None,
    on_ready: Callable[[], None] | None = None,
) -> int:
    """Run `concurrency` worker processes until SIGTERM or SIGINT; returns the exit code."""
    if concurrency == 1:
        return work(settings, metrics_port=metrics_port, on_ready=on_ready)
    return _supervise(concurrency, metrics_port)


def work(
    settings: Settings,
    *,
    metrics_port: int | None = None,
    on_ready: Callable[[], None] | None = None,
) -> int:
    """One worker process: build the runtime (the NLP loads once), then run jobs."""
    from app.runtime import build_runtime, freeze_long_lived

    if settings.queue != "procrastinate":
        raise SystemExit(
            "a worker runs queued jobs: set LP_QUEUE=procrastinate (and a PostgreSQL "
            "DATABASE_URL) for the service and its workers"
        )
    runtime = build_runtime(settings)
    freeze_long_lived()
    try:
        if metrics_port is not None:
            _serve_metrics(metrics_port, runtime.engine)
        if on_ready is not None:
            on_ready()
        pause = 1.0
        while True:
            app = worker_app(runtime.engine, pool_size=READER_SLOTS + BATCH_SLOTS + 3)
            try:
                asyncio.run(run_jobs(app, runtime, settings.worker_heartbeat_seconds))
            except Exception as exc:  # the database went away: reconnect, never die of it
                log.warning(
                    "worker lost the queue (%s): connecting again in %.0f s",
                    public_error(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                    pause,
                )
                time.sleep(pause)
                pause = min(pause * 2, MAX_RECONNECT_PAUSE_SECONDS)
            else:
                return 0  # stopped (SIGTERM, SIGINT): its jobs finished first
    finally:
        runtime.close()


def _serve_metrics(port: int, engine: Engine) -> None:
    from app.observability.metrics import serve_metrics

    serve_metrics(port, engine=engine)  # with the queue's depth


async def run_jobs(
    app: procrastinate.App, runtime: Any, beat: float, *, install_signal_handlers: bool = True
) -> None:
    """Run jobs until SIGTERM/SIGINT or cancellation (running jobs finish first);
    raises what stopped it otherwise (the database lost, say)."""
    name = f"{socket.gethostname()}:{os.getpid()}"
    options: dict[str, Any] = {
        "additional_context": {"runtime": runtime},
        "update_heartbeat_interval": beat,
        "stalled_worker_timeout": beat * MISSED_BEATS,
        "delete_jobs": "successful",
        "install_signal_handlers": False,  # one handler below stops both
        "shutdown_graceful_timeout": beat * MISSED_BEATS * 10,
    }
    async with app.open_async():
        recovery = asyncio.create_task(_rerun_lost_jobs(app, beat), name="lost jobs")
        workers = [
            asyncio.create_task(
                app.run_worker_async(
                    queues=[SYNCS, MAINTENANCE],
                    name=f"{name}:read",
                    concurrency=READER_SLOTS,
                    **options,
                ),
                name="readers",
            ),
            asyncio.create_task(
                app.run_worker_async(
                    queues=[BATCHES], name=f"{name}:batch", concurrency=BATCH_SLOTS, **options
                ),
                name="batches",
            ),
        ]

        def stop() -> None:
            for worker in workers:
                worker.cancel()  # procrastinate's graceful stop: running jobs finish

        loop = asyncio.get_running_loop()
        signals = (signal.SIGTERM, signal.SIGINT) if install_signal_handlers else ()
        for signum in signals:
            loop.add_signal_handler(signum, stop)
        try:
            await asyncio.wait(workers, return_when=asyncio.FIRST_COMPLETED)
            stop()  # one stopped (failed, or stopped by a signal): the other too
            results = await asyncio.gather(*workers, return_exceptions=True)
            for result in results:
                if isinstance(result, Exception):
                    raise result
        except asyncio.CancelledError:
            stop()
            await asyncio.gather(*workers, return_exceptions=True)
            raise
        finally:
            for signum in signals:
                loop.remove_signal_handler(signum)
            recovery.cancel()


async def _rerun_lost_jobs(app: procrastinate.App, beat: float) -> None:
    """Put back on the queue the jobs of workers that stopped beating."""
    while True:
        await asyncio.sleep(beat)
        try:
            stalled = await app.job_manager.get_stalled_jobs(
                seconds_since_heartbeat=beat * MISSED_BEATS
            )
            for job in stalled:
                log.warning(
                    "job %s (%s) was running on a worker that stopped: running it again",
                    job.id,
                    job.task_name,
                )
                try:
                    await app.job_manager.retry_job(job)
                except Exception:  # another worker put it back first
                    log.debug("job %s already put back", job.id)
            await app.job_manager.prune_stalled_workers(beat * MISSED_BEATS)
        except Exception as exc:  # the database may be away: try on the next beat
            log.warning("could not look for lost jobs: %s", exc)


def _child(index: int, metrics_port: int | None) -> None:
    from app.observability.logs import configure_logging
    from app.security import logs

    settings = Settings()
    configure_logging(settings)  # a spawned process starts with no logging set up
    logs.install()
    port = None if metrics_port is None else metrics_port + index
    raise SystemExit(work(settings, metrics_port=port))


def _supervise(concurrency: int, metrics_port: int | None) -> int:
    """Keep `concurrency` worker processes running; stop them on SIGTERM/SIGINT."""
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no forked pools
    stopping = threading.Event()

    def stop(signum: int, _frame: object) -> None:
        log.info("stopping %d workers (signal %d)", concurrency, signum)
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def start(index: int) -> multiprocessing.process.BaseProcess:
        process = context.Process(
            target=_child, args=(index, metrics_port), name=f"lp-worker-{index}"
        )
        process.start()
        return process

    processes = {index: start(index) for index in range(concurrency)}
    while not stopping.wait(1.0):
        for index, process in processes.items():
            if not process.is_alive() and not stopping.is_set():
                log.warning(
                    "worker %d (pid %s) exited with %s: starting it again",
                    index,
                    process.pid,
                    process.exitcode,
                )
                stopping.wait(RESTART_PAUSE_SECONDS)
                processes[index] = start(index)
    for process in processes.values():
        if process.is_alive() and process.pid is not None:
            os.kill(process.pid, signal.SIGTERM)  # each finishes its jobs, then exits
    for process in processes.values():
        process.join(timeout=60)
        if process.is_alive():
            process.kill()
    return 0
