"""Alert messages to webhooks: Slack incoming-webhook JSON or CloudEvents 1.0
(structured JSON), queued in the database and sent by a worker thread, so ingest
and the API never wait on a receiver.

At most one message per alert and webhook: messages are queued once, when the
alert fires (an alert that is still open is updated, not announced again). When
`digest_from` alerts or more fire in one evaluation, each webhook gets one digest
instead. A failed send is retried with exponential backoff and jitter (a 429's
`Retry-After` is honoured) up to the webhook's `max_attempts`; every attempt is in
the delivery log (`GET /api/v1/alerts/deliveries`).
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.alerts.config import AlertsSpec, WebhookSpec
from app.db_types import utcnow
from app.models import Alert, AlertDelivery
from app.security.errors import public_text
from connectors.errors import NetworkRefusedError, RetriableError
from connectors.network import check_url

log = logging.getLogger(__name__)

BASE_DELAY_S = 5.0
MAX_DELAY_S = 3600.0
EVENT_SOURCE = "/listening-path/alerts"


def page_path(alert: Alert) -> str:
    """The page for the days an alert covers: its stage's, or for a touchpoint the
    journey page filtered on it."""
    period = f"from={alert.fired_day}&to={alert.last_day}"
    if not alert.stage:
        name, _, value = (alert.phrase or "").partition("=")
        return f"/?{period}&" + urlencode({f"attr.{name}": value})
    return f"/stages/{alert.stage}?{period}"


def stage_link(base_url: str, alert: Alert) -> str:
    return f"{base_url}{page_path(alert)}"


def _line(alert: Alert) -> str:
    high = "" if alert.high is None else f" (normal up to {alert.high:g})"
    if alert.detector == "quiet":
        high = f" (normal at least {alert.low:g})"
    if alert.detector == "revenue_at_risk":
        return (
            f"{alert.stage}: {alert.measure}: {alert.value:,.0f} a year on {alert.fired_day} "
            f"(alerting above {alert.baseline:,.0f})"
        )
    return (
        f"{alert.stage}: {alert.measure} {alert.value:g} on {alert.fired_day}, "
        f"expected about {alert.baseline:g}{high}"
    )


def _facts(alert: Alert, base_url: str) -> dict[str, Any]:
    return {
        "id": alert.id,
        "detector": alert.detector,
        "stage": alert.stage,
        "phrase": alert.phrase,
        "measure": alert.measure,
        "value": alert.value,
        "baseline": alert.baseline,
        "low": alert.low,
        "high": alert.high,
        "day": alert.fired_day.isoformat(),
        "top_phrases": alert.phrases,
        "quotes": alert.quotes,
        "link": stage_link(base_url, alert),
    }


def slack_payload(alerts: Sequence[Alert], base_url: str) -> dict[str, Any]:
    """Slack's incoming-webhook body: `text` (the fallback) and mrkdwn blocks."""
    if len(alerts) == 1:
        alert = alerts[0]
        title = f":rotating_light: Listening Path: {_line(alert)}"
        lines = [f"*{title}*"]
        if alert.phrases:
            said = ", ".join(f"{p['phrase']} ({p['count']})" for p in alert.phrases[:3])
            lines.append(f"Most said: {said}")
        lines.extend(f"> {q['text']}" for q in alert.quotes[:3])
        lines.append(f"<{stage_link(base_url, alert)}|Open the stage page>")
        text = title
    else:
        text = f":rotating_light: Listening Path: {len(alerts)} alerts"
        lines = [f"*{text}*"]
        lines.extend(f"- <{stage_link(base_url, a)}|{_line(a)}>" for a in alerts)
    return {
        "text": text,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}}],
    }


def cloudevent(alerts: Sequence[Alert], base_url: str, event_id: str) -> dict[str, Any]:
    """A CloudEvents 1.0 event in structured JSON mode."""
    single = len(alerts) == 1
    return {
        "specversion": "1.0",
        "type": "com.listeningpath.alert.fired" if single else "com.listeningpath.alert.digest",
        "source": EVENT_SOURCE,
        "id": event_id,
        "time": utcnow().isoformat().replace("+00:00", "Z"),
        "subject": alerts[0].stage if single else "digest",
        "datacontenttype": "application/json",
        "data": _facts(alerts[0], base_url)
        if single
        else {"alerts": [_facts(a, base_url) for a in alerts]},
    }


def queue(session: Session, spec: AlertsSpec, fired: Sequence[Alert], base_url: str = "") -> int:
    """Queue the messages for newly fired alerts (in the caller's transaction)."""
    queued = 0
    for hook in spec.webhooks:
        mine = [a for a in fired if hook.wants(a.stage, a.detector)]
        if not mine:
            continue
        groups = [mine] if len(mine) >= spec.digest_from else [[a] for a in mine]
        for group in groups:
            event_id = str(uuid.uuid4())
            payload = (
                slack_payload(group, base_url)
                if hook.format == "slack"
                else cloudevent(group, base_url, event_id)
            )
            session.add(
                AlertDelivery(
                    webhook=hook.name,
                    format=hook.format,
                    alert_ids=[int(a.id) for a in group if a.id is not None],
                    payload=payload,
                )
            )
            queued += 1
    return queued


def _backoff(attempts: int, retry_after: float | None = None) -> float:
    if retry_after is not None:
        return min(max(retry_after, 0.0), MAX_DELAY_S)
    delay: float = min(BASE_DELAY_S * 2.0 ** (attempts - 1), MAX_DELAY_S)
    return delay * (0.5 + random.random() / 2)  # noqa: S311 (jitter, not a secret)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def send_due(
    engine: Engine,
    spec: AlertsSpec,
    *,
    client: httpx.Client,
    now: Callable[[], datetime] = utcnow,
    limit: int = 50,
) -> int:
    """Send the messages whose time has come; returns how many were sent."""
    hooks: dict[str, WebhookSpec] = {h.name: h for h in spec.webhooks}
    sent = 0
    with Session(engine) as session:
        due = session.exec(
            select(AlertDelivery)
            .where(AlertDelivery.status == "pending", col(AlertDelivery.next_attempt_at) <= now())
            .order_by(col(AlertDelivery.id))
            .limit(limit)
        ).all()
        for message in due:
            hook = hooks.get(message.webhook)
            message.attempts += 1
            if hook is None:
                message.status, message.last_error = "failed", "webhook no longer configured"
                session.add(message)
                continue
            url = hook.resolved_url()
            retry_after: float | None = None
            if url is None:
                message.last_error = f"environment variable {hook.url_env} is not set"
            else:
                content_type = (
                    "application/cloudevents+json"
                    if message.format == "cloudevents"
                    else "application/json"
                )
                try:
                    # Refused before anything is sent when the receiver's address is
                    # loopback, private or link-local and not allowed (SSRF guard).
                    check_url(url, allow=hook.allow_networks, kind=f"webhook {hook.name}")
                    response = client.post(
                        url,
                        json=message.payload,
                        headers={"Content-Type": content_type},
                        timeout=hook.timeout_seconds,
                    )
                    message.response_status = response.status_code
                    if response.is_success:
                        message.status, message.sent_at, message.last_error = "sent", now(), None
                        sent += 1
                    else:
                        message.last_error = f"receiver answered {response.status_code}"
                        if response.status_code == 429:
                            retry_after = _retry_after(response)
                except NetworkRefusedError as exc:
                    message.status, message.last_error = "failed", public_text(str(exc))
                except (httpx.HTTPError, RetriableError) as exc:
                    # The URL may hold a token: the error names its kind, not the address.
                    message.last_error = f"could not reach the receiver ({type(exc).__name__})"
            if message.status == "pending":
                if message.attempts >= hook.max_attempts:
                    message.status = "failed"
                else:
                    delay = _backoff(message.attempts, retry_after)
                    message.next_attempt_at = now() + timedelta(seconds=delay)
            session.add(message)
        session.commit()
    return sent


def deliveries(session: Session, *, limit: int = 100) -> list[AlertDelivery]:
    query = select(AlertDelivery).order_by(col(AlertDelivery.id).desc()).limit(limit)
    return list(session.exec(query).all())
