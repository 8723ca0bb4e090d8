"""`GET /metrics`: the Prometheus text format of this process (and the queue).

Open without a key, like `/health`: it says how much and how fast (counts and
durations by source id and route template), never what a customer said, and a
scraper then needs no API key to keep and rotate. `LP_METRICS_ENABLED=false`
removes it (and the request timing) where even that is not to be on the port.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.observability.metrics import exposition
from app.runtime import Runtime

router = APIRouter(tags=["health"])


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Sync on purpose: the queue's depth is a blocking query, run in the threadpool."""
    rt: Runtime = request.app.state.runtime
    body, media_type = exposition(rt.engine, accept=request.headers.get("accept", ""))
    return Response(body, media_type=media_type)
