"""The thread that judges new data and sends alert messages, beside the scheduler.

It wakes when a sync finishes (a `JobFinished` event) to judge the latest days,
and every `poll_seconds` to send messages whose retry time has come. Nothing it
does runs in the sync's thread or a request's: a slow or dead receiver delays
only its own messages.
"""

from __future__ import annotations

import logging
import threading

import httpx
from sqlalchemy.engine import Engine

from app.alerts import delivery, service
from app.alerts.config import AlertsSpec
from app.jobs import Event, Events, JobFinished
from app.security import audit
from nlp.journey import Journey

log = logging.getLogger(__name__)


class AlertWorker:
    def __init__(
        self,
        engine: Engine,
        journey: Journey,
        spec: AlertsSpec,
        events: Events,
        *,
        base_url: str,
        poll_seconds: float = 5.0,
    ) -> None:
        self._engine, self._journey, self._spec = engine, journey, spec
        self._base_url = base_url
        self._poll = poll_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._judge = threading.Event()
        self._unsubscribe = events.subscribe(self._on_event)
        self._thread = threading.Thread(target=self._loop, name="alerts", daemon=True)
        self.evaluations = 0

    def _on_event(self, event: Event) -> None:
        if isinstance(event, JobFinished) and event.job in ("sync", "push", "reenrich", "rebuild"):
            self._judge.set()
            self._wake.set()

    def start(self) -> None:
        self._judge.set()  # judge once at start: data may have arrived while it was down
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._unsubscribe()
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        with httpx.Client(follow_redirects=False) as client:
            while not self._stop.is_set():
                try:
                    if self._judge.is_set():
                        self._judge.clear()
                        if self._spec.enabled:
                            judged = service.evaluate(
                                self._engine, self._journey, self._spec, base_url=self._base_url
                            )
                            if judged.fired:  # the leader's own action: in the audit log
                                audit.record_in(
                                    self._engine,
                                    actor=audit.LEADER,
                                    action="alerts.fired",
                                    detail={"alerts": [a.id for a in judged.fired]},
                                )
                        self.evaluations += 1
                    delivery.send_due(self._engine, self._spec, client=client)
                except Exception:  # never let one bad evaluation stop the early warning
                    log.exception("alert evaluation or delivery failed")
                self._wake.wait(self._poll)
                self._wake.clear()
