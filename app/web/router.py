"""The leadership pages: `/` (the journey), `/stages/{key}` and `/alerts`, as HTML.

They take the API's query parameters and answer from the same story service; an
unusable parameter is a 4xx HTML page with the API's message (never a 500), an
unknown stage a 404 naming the journey's stages.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute

from app.alerts import service as alerts_service
from app.deps import JourneyDep, SessionDep, SettingsDep
from app.errors import AppError, NotFoundError
from app.readmodel.answers import Answers, age_headers, of_the_story
from app.readmodel.shared import Codec
from app.sources.service import list_sources
from app.web.alerts import SEVERITY
from app.web.periods import PageQuery, Redirect, anchor_day, read_query
from app.web.render import alerts_html, error_html, href, journey_html, stage_html
from app.web.service import build_journey_view, build_stage_view


class HtmlErrorRoute(APIRoute):
    """A route whose errors (from its dependencies too) are HTML pages, not JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def html_errors(request: Request) -> Response:
            try:
                return await handler(request)
            except AppError as exc:
                return HTMLResponse(error_html(exc.status_code, exc.message), exc.status_code)
            except RequestValidationError as exc:
                message = "; ".join(str(err.get("msg", "invalid")) for err in exc.errors())
                return HTMLResponse(error_html(422, message), 422)

        return html_errors


router = APIRouter(tags=["pages"], route_class=HtmlErrorRoute, include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def journey_page(
    request: Request, session: SessionDep, journey: JourneyDep, settings: SettingsDep
) -> Response:
    def render(query: PageQuery, anchor: date) -> str:
        view = build_journey_view(
            session,
            journey=journey,
            query=query,
            anchor=anchor,
            driver_min_answers=settings.driver_min_answers,
        )
        return journey_html(view)

    return _page(request, session, journey, settings, render)


@router.get("/stages/{key}", response_class=HTMLResponse)
def stage_page(
    request: Request, key: str, session: SessionDep, journey: JourneyDep, settings: SettingsDep
) -> Response:
    if journey.get(key) is None:
        raise NotFoundError(
            f"no stage {key[:40]!r}; the journey's stages are: {', '.join(journey.keys)}"
        )

    def render(query: PageQuery, anchor: date) -> str:
        view = build_stage_view(
            session,
            journey=journey,
            key=key,
            query=query,
            anchor=anchor,
            driver_min_answers=settings.driver_min_answers,
        )
        return stage_html(view)

    return _page(request, session, journey, settings, render)


@dataclass(frozen=True, slots=True)
class Page:
    """A page as kept: its HTML, or where its address redirects to."""

    html: str = ""
    location: str | None = None

    def encode(self) -> bytes:
        return json.dumps({"html": self.html, "location": self.location}).encode("utf-8")

    @classmethod
    def decode(cls, body: bytes) -> Page:
        kept = json.loads(body)
        return cls(html=kept["html"], location=kept["location"])

    def response(self, headers: dict[str, str]) -> Response:
        if self.location is not None:
            return RedirectResponse(self.location, status_code=302)
        return HTMLResponse(self.html, headers=headers)


PAGES: Answers[Page] = Answers(kept=64)
PAGE_CODEC: Codec[Page] = Codec(encode=Page.encode, decode=Page.decode)


def _page(
    request: Request,
    session: SessionDep,
    journey: JourneyDep,
    settings: SettingsDep,
    render: Callable[[PageQuery, date], str],
) -> Response:
    """The page of the request's checked parameters and anchor day (a redirect when
    its address is not the canonical one), made once per state of the story's inputs
    (`app.readmodel.answers`) and of the sources its menus list and its parameters
    are checked against. A page whose parameters are refused raises; nothing is kept."""

    def make() -> Page:
        anchor = anchor_day(session)
        asked = read_query(session, request.query_params.multi_items(), anchor=anchor)
        if isinstance(asked, Redirect):
            return Page(location=href(request.url.path, asked.query))
        return Page(html=render(asked, anchor))

    sources = tuple((s.id, s.name, s.channel) for s in list_sources(session))
    question = (
        request.url.path,
        tuple(request.query_params.multi_items()),
        journey,
        settings.driver_min_answers,
        sources,
    )
    kept = of_the_story(
        PAGES,
        session.connection(),
        question,
        make,
        stale_for=settings.answer_stale_seconds,
        codec=PAGE_CODEC,
    )
    return kept.value.response(age_headers(kept))


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(session: SessionDep) -> Response:
    """Open and acknowledged alerts, then the recently resolved ones."""
    groups = [
        ("Open", alerts_service.list_alerts(session, status="open")),
        ("Acknowledged", alerts_service.list_alerts(session, status="acknowledged")),
        ("Recently resolved", alerts_service.list_alerts(session, status="resolved", limit=20)),
    ]
    return HTMLResponse(alerts_html(groups, SEVERITY))
