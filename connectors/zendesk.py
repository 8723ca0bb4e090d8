"""`zendesk`: support tickets, live from Zendesk's incremental ticket export."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, ClassVar, Self

from pydantic import Field, SecretStr, field_validator, model_validator

from connectors.contract import AttributeValue, Batch, Cursor, RawItem, RejectedRecord
from connectors.errors import ConfigError, PaginationLoopError, RecordError
from connectors.html_text import html_to_text
from connectors.http import (
    CursorPaginator,
    HttpConfig,
    HttpConnector,
    HttpSession,
    Request,
    check_base_url,
)
from connectors.parsing import as_id, excerpt
from connectors.secrets import TokenConfig
from connectors.values import DEFAULT_DATES, NO_HINT, StageHints, as_text

SATISFACTION = {"good": 5.0, "bad": 1.0}
"""Zendesk's two-point CSAT on `csat_1_5`: good counts as satisfied (5), bad as not (1)."""


class ZendeskConfig(HttpConfig, TokenConfig):
    """Config of a `zendesk` source: `subdomain` or `base_url`, `email`, a token."""

    subdomain: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9][a-z0-9-]*$",
        description="The account's subdomain: `acme` for `https://acme.zendesk.com`.",
    )
    base_url: str | None = Field(
        default=None,
        description="Or: the account's full address (a host-mapped domain, a sandbox).",
    )
    email: str = Field(
        min_length=3,
        pattern=r"^[^@\s]+@[^@\s]+$",
        description="The agent's email the API token belongs to (sent as `email/token`).",
    )
    start_date: date | None = Field(
        default=None,
        description="First sync: tickets changed from this day (UTC) on; default: all of them.",
    )
    include_comments: bool = Field(
        default=True,
        description="Also read each ticket's public comments written by end users (one "
        "request per ticket); agent replies and internal notes are never read.",
    )
    tag_stages: dict[str, str] = Field(
        default_factory=dict,
        description="Ticket tag (any case) → journey stage key; the first mapped tag "
        "gives the stage hint.",
    )
    form_stages: dict[str, str] = Field(
        default_factory=dict,
        description="Ticket form id (or name as configured) → journey stage key; "
        "wins over `tag_stages`.",
    )
    page_size: int = Field(
        default=100, ge=1, le=1000, description="Tickets per export request (`per_page`)."
    )

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else check_base_url(cls, value)

    @field_validator("tag_stages", "form_stages")
    @classmethod
    def _stages(cls, value: dict[str, str]) -> dict[str, str]:
        StageHints.normalise(value)
        return value

    @model_validator(mode="after")
    def _one_address(self) -> Self:
        if (self.subdomain is None) == (self.base_url is None):
            raise ValueError("set subdomain or base_url (exactly one)")
        return self

    @property
    def root(self) -> str:
        return self.base_url or f"https://{self.subdomain}.zendesk.com"


class ZendeskConnector(HttpConnector[ZendeskConfig]):
    """Zendesk tickets: subject and description, and end users' public comments.

    Tickets come from the cursor-based incremental export
    (`/api/v2/incremental/tickets/cursor.json`: `start_time` once, then the
    `after_cursor`, kept as the cursor after each page); a ticket changed later
    comes again and updates its items. Items: `"{ticket id}"` (subject +
    description, when the requester wrote it), `"{ticket id}:c{comment id}"` (each
    later public comment by an end user: never agent replies, never internal
    notes), `"{ticket id}:satisfaction"` (the satisfaction comment). Author: the
    requester's id. Stage hint: `form_stages` by form id, else the first tag in
    `tag_stages`. The satisfaction rating (good/bad) is the ticket item's rating on
    `csat_1_5` (good = 5, bad = 1) and attribute `satisfaction`. Deleted tickets
    are skipped.
    """

    kind: ClassVar[str] = "zendesk"
    channel: ClassVar[str] = "ticket"
    config_model: ClassVar[type[ZendeskConfig]] = ZendeskConfig
    capabilities: ClassVar[frozenset[str]] = frozenset({"http", "secrets"})

    def __init__(self, config: ZendeskConfig, *, base_dir: Path) -> None:
        super().__init__(config, base_dir=base_dir)
        self.tags = StageHints(config.tag_stages, active=bool(config.tag_stages))
        self.forms = StageHints(config.form_stages, active=bool(config.form_stages))
        self.refused_hint = (
            f"check the API token in {config.token_env or config.token_file} and that "
            f"it belongs to {config.email} (Admin Center > Apps and integrations > Zendesk API)"
        )

    def base_url(self) -> str:
        return self.config.root

    def auth_headers(self) -> dict[str, SecretStr]:
        token = self.config.read_token(self.base_dir, f"{self.kind} source")
        if token is None:
            raise ConfigError(f"{self.kind}: set token_env (or token_file) to the API token")
        self.scrub.add(token)
        pair = f"{self.config.email}/token:{token.get_secret_value()}".encode()
        return {"Authorization": SecretStr("Basic " + base64.b64encode(pair).decode())}

    def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:
        cfg = self.config
        start = (
            int(datetime.combine(cfg.start_date, time.min, tzinfo=UTC).timestamp())
            if cfg.start_date
            else 0
        )
        first = Request.of(
            f"{cfg.root}/api/v2/incremental/tickets/cursor.json",
            {"start_time": start, "per_page": cfg.page_size},
        )
        paginator = _ExportCursor(first, param="cursor", next_path="after_cursor",
                                  done_path="end_of_stream")  # fmt: skip
        with self.session() as http:

            def parse(ticket: Any, where: str) -> Iterator[RawItem | RejectedRecord]:
                return self._ticket(http, ticket, where)

            yield from self.fetch_pages(
                http,
                paginator,
                cursor if isinstance(cursor, dict) else None,
                records=_tickets,
                parse=parse,
                cursor=lambda state: state,
            )

    def _ticket(
        self, http: HttpSession, ticket: Any, where: str
    ) -> Iterator[RawItem | RejectedRecord]:
        del where
        if not isinstance(ticket, dict):
            raise RecordError(f"ticket is not a JSON object ({type(ticket).__name__})")
        tid = as_id(ticket.get("id"))
        if tid is None:
            raise RecordError("missing ticket `id`")
        if ticket.get("status") == "deleted":
            return
        try:
            created = DEFAULT_DATES(ticket.get("created_at"))
        except ValueError as exc:
            raise RecordError(f"{exc} in `created_at`", external_id=tid) from None
        requester = as_id(ticket.get("requester_id"))
        tags = [t for t in (as_text(x) for x in ticket.get("tags") or []) if t]
        form = as_id(ticket.get("ticket_form_id"))
        hint = self.forms.lookup(form) if form else NO_HINT
        if hint.stage is None:
            tag_hint = self.tags.first(tags)
            if tag_hint.stage is not None or hint.value is None:
                hint = tag_hint
        via = _obj(ticket.get("via"))
        rating_raw = ticket.get("satisfaction_rating")
        satisfaction = as_text(rating_raw.get("score")) if isinstance(rating_raw, dict) else None
        attributes: dict[str, AttributeValue] = {
            "status": as_text(ticket.get("status")),
            "tags": ",".join(tags) or None,
            "ticket_form_id": form,
            "via": as_text(via.get("channel")) if via else None,
            "satisfaction": satisfaction if satisfaction in SATISFACTION else None,
        }
        comments = self._comments(http, tid) if self.config.include_comments else None
        opening = comments[0] if comments else None
        written_by_requester = comments is None or (
            opening is not None
            and opening.get("public") is True
            and (as_id(opening.get("author_id")) == requester or opening.get("_role") == "end-user")
        )
        rating = SATISFACTION.get(satisfaction or "")
        subject = as_text(ticket.get("subject")) or ""
        description = as_text(ticket.get("description")) or ""
        text = "\n\n".join(p for p in (subject, description) if p)
        if written_by_requester and text:
            yield RawItem(
                external_id=tid,
                text=text,
                occurred_at=created,
                rating=rating,
                rating_scale="csat_1_5" if rating is not None else None,
                attributes=attributes,
                author_ref=requester,
                stage_hint=hint.stage,
                hint_value=hint.value,
            )
        for comment in (comments or [])[1:]:
            if comment.get("public") is not True or comment.get("_role") != "end-user":
                continue  # agent replies and internal notes are never read
            cid = as_id(comment.get("id"))
            body = as_text(comment.get("plain_body")) or as_text(comment.get("body"))
            if cid is None or not body:
                continue
            try:
                when = DEFAULT_DATES(comment.get("created_at"))
            except ValueError:
                when = created
            yield RawItem(
                external_id=f"{tid}:c{cid}",
                text=html_to_text(body) if "<" in body else body,
                occurred_at=when,
                attributes={**attributes, "satisfaction": None, "comment_of": tid},
                author_ref=requester,
                stage_hint=hint.stage,
                hint_value=hint.value,
            )
        said = as_text(rating_raw.get("comment")) if isinstance(rating_raw, dict) else None
        if said and satisfaction in SATISFACTION:
            try:
                when = DEFAULT_DATES(ticket.get("updated_at"))
            except ValueError:
                when = created
            yield RawItem(
                external_id=f"{tid}:satisfaction",
                text=said,
                occurred_at=when,
                attributes={**attributes, "satisfaction_of": tid},
                author_ref=requester,
                stage_hint=hint.stage,
                hint_value=hint.value,
            )

    def _comments(self, http: HttpSession, tid: str) -> list[dict[str, Any]]:
        """A ticket's comments, oldest first, each with its author's `_role`."""
        request: Request | None = Request.of(
            f"{self.config.root}/api/v2/tickets/{tid}/comments.json", {"include": "users"}
        )
        out: list[dict[str, Any]] = []
        asked: set[Request] = set()
        while request is not None:
            if request in asked:
                raise PaginationLoopError(
                    f"{self.kind}: the comments of ticket {tid} page back to {request.shown}"
                )
            asked.add(request)
            response, body, listed = http.get_records(request, _comment_list, ok_statuses=(404,))
            if response.status_code == 404:
                return out  # the ticket went away since the export listed it
            roles = {
                as_id(u.get("id")): as_text(u.get("role"))
                for u in body.get("users") or []
                if isinstance(u, dict)
            }
            for comment in listed:
                if isinstance(comment, dict):
                    role = roles.get(as_id(comment.get("author_id")))
                    out.append({**comment, "_role": role})
            nxt = body.get("next_page")
            links, meta = _obj(body.get("links")), _obj(body.get("meta"))
            if not nxt and links and meta.get("has_more"):
                nxt = links.get("next")
            request = Request.of(str(nxt)) if isinstance(nxt, str) and nxt else None
        return out


class _ExportCursor(CursorPaginator):
    """The export's first request carries `start_time`; later ones only `cursor`."""

    def _request(self) -> Request:
        if self._token is None:
            return self._first
        return self._first.with_params(start_time=None, cursor=self._token)


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _comment_list(body: Any) -> list[Any]:
    """A comments page's list; an answer without one is broken (retried, not read as
    "no comments": that would drop the ticket's own words)."""
    found = body.get("comments") if isinstance(body, dict) else None
    if not isinstance(found, list):
        raise RecordError("expected a comments page with a `comments` array", excerpt=excerpt(body))
    return found


def _tickets(body: Any) -> list[Any]:
    found = body.get("tickets") if isinstance(body, dict) else None
    if not isinstance(found, list):
        raise RecordError("expected an export page with a `tickets` array", excerpt=excerpt(body))
    return found
