"""Fake vendor APIs for `FakeServer`, speaking the documented shapes: status codes,
headers, pagination. Each is a callable `FakeRequest -> FakeResponse` holding its
data in plain lists, so a test (or the bench) adds records between runs.

    FakeMastodon   /api/v1/timelines/tag/:tag, /api/v1/accounts/:id/statuses,
                   /api/v1/accounts/lookup, /api/v2/search, /api/v1/notifications
                   (types[]), /api/v1/accounts/verify_credentials; Link header with
                   max_id / min_id; newest first; limit at most 40; Bearer token
    FakeTypeform   /forms/:id and /forms/:id/responses (page_size, since, after
                   token in processing order, sort); Bearer token
    FakeZendesk    /api/v2/incremental/tickets/cursor.json (start_time, cursor,
                   per_page; after_cursor, end_of_stream) and
                   /api/v2/tickets/:id/comments.json?include=users; Basic
                   `email/token:TOKEN`
    FakeFeed       an RSS 2.0 or Atom document with ETag / Last-Modified and 304s
    FakeRest       a generic JSON API paged by link, cursor, page or offset
"""

from __future__ import annotations

import base64
import bisect
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode

from connectors.testing.server import FakeRequest, FakeResponse


def _origin(request: FakeRequest) -> str:
    return f"http://{request.headers.get('host', '127.0.0.1')}"


def _bearer_ok(request: FakeRequest, token: str | None) -> bool:
    return token is None or request.headers.get("authorization") == f"Bearer {token}"


def _order(value: str) -> tuple[int, str]:
    return (len(value), value)


def _sid(status: dict[str, Any]) -> str:
    """A status's id; a broken one (no id, for a quarantine test) sorts by `_pos`."""
    return str(status.get("id") or status.get("_pos") or "0")


# --------------------------------------------------------------------------- Mastodon


def mastodon_status(
    sid: int | str,
    html: str,
    *,
    when: datetime | None = None,
    acct: str = "ana@example.social",
    account_id: str = "7",
    tags: tuple[str, ...] = (),
    reblog: dict[str, Any] | None = None,
    in_reply_to_id: str | None = None,
    favourites: int = 0,
    reblogs: int = 0,
    replies: int = 0,
) -> dict[str, Any]:
    """A status as the API returns it (the fields the connector reads, and a few more)."""
    when = when or datetime(2024, 4, 1, tzinfo=UTC) + timedelta(minutes=int(str(sid)[-6:]))
    return {
        "id": str(sid),
        "created_at": when.isoformat().replace("+00:00", "Z"),
        "in_reply_to_id": in_reply_to_id,
        "in_reply_to_account_id": None,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": "public",
        "language": "en",
        "uri": f"https://example.social/users/u/statuses/{sid}",
        "url": f"https://example.social/@u/{sid}",
        "replies_count": replies,
        "reblogs_count": reblogs,
        "favourites_count": favourites,
        "content": html,
        "reblog": reblog,
        "account": {"id": account_id, "username": acct.split("@")[0], "acct": acct},
        "media_attachments": [],
        "mentions": [],
        "tags": [{"name": t, "url": f"https://example.social/tags/{t}"} for t in tags],
    }


def mastodon_mention(
    nid: int | str, status: dict[str, Any], *, kind: str = "mention"
) -> dict[str, Any]:
    """A notification as `/api/v1/notifications` returns it: its own id (the
    server's sequence, not a snowflake), who acted, and the status."""
    return {
        "id": str(nid),
        "type": kind,
        "created_at": status["created_at"],
        "account": status["account"],
        "status": status,
    }


@dataclass
class FakeMastodon:
    """Statuses kept oldest first; every list endpoint answers newest first.
    `notifications` (oldest first) are those of the token's owner, the account
    `token_owner`; reading them needs a token."""

    statuses: list[dict[str, Any]] = field(default_factory=list)
    token: str | None = None  # when set, every request needs `Authorization: Bearer <token>`
    accounts: dict[str, str] = field(default_factory=lambda: {"ana@example.social": "7"})
    search_needs_token: bool = True
    notifications: list[dict[str, Any]] = field(default_factory=list)
    token_owner: str = "7"
    _tagged: tuple[Any, list[dict[str, Any]], list[tuple[int, str]]] = field(
        default=(None, [], []), repr=False
    )

    def __call__(self, request: FakeRequest) -> FakeResponse:
        if not _bearer_ok(request, self.token) or (
            request.path == "/api/v2/search" and self.search_needs_token and self.token is None
        ):
            return FakeResponse.json({"error": "The access token is invalid"}, status=401)
        parts = request.path.strip("/").split("/")
        if parts[:4] == ["api", "v1", "timelines", "tag"] and len(parts) == 5:
            tag = parts[4].lower()
            key = (tag, len(self.statuses), id(self.statuses[-1]) if self.statuses else 0)
            if self._tagged[0] != key:  # statuses are only appended: cache per tag and size
                chosen = [s for s in self.statuses if tag in {t["name"].lower() for t in s["tags"]}]
                self._tagged = (key, chosen, [_order(_sid(s)) for s in chosen])
            return self._page(request, self._tagged[1], self._tagged[2])
        if parts == ["api", "v1", "accounts", "lookup"]:
            acct = (request.arg("acct") or "").lstrip("@")
            if acct not in self.accounts:
                return FakeResponse.json({"error": "Record not found"}, status=404)
            return FakeResponse.json({"id": self.accounts[acct], "acct": acct})
        if parts[:3] == ["api", "v1", "accounts"] and len(parts) == 5 and parts[4] == "statuses":
            chosen = [s for s in self.statuses if s["account"]["id"] == parts[3]]
            return self._page(request, chosen)
        if parts == ["api", "v2", "search"]:
            return self._search(request)
        if parts in (
            ["api", "v1", "notifications"],
            ["api", "v1", "accounts", "verify_credentials"],
        ):
            if self.token is None or "authorization" not in request.headers:
                return FakeResponse.json({"error": "The access token is invalid"}, status=401)
            if parts[-1] == "verify_credentials":
                acct = next((a for a, i in self.accounts.items() if i == self.token_owner), "x")
                return FakeResponse.json({"id": self.token_owner, "acct": acct.split("@")[0]})
            wanted = request.query.get("types[]")
            chosen = [n for n in self.notifications if not wanted or n["type"] in wanted]
            return self._page(request, chosen)
        return FakeResponse.json({"error": "Record not found"}, status=404)

    def _limit(self, request: FakeRequest) -> int:
        return max(1, min(request.int_arg("limit", 20), 40))

    def _page(
        self,
        request: FakeRequest,
        chosen: list[dict[str, Any]],
        orders: list[tuple[int, str]] | None = None,
    ) -> FakeResponse:
        limit = self._limit(request)
        min_id, since_id, max_id = (request.arg(k) for k in ("min_id", "since_id", "max_id"))
        if max_id:
            chosen = [s for s in chosen if _order(_sid(s)) < _order(max_id)]
        if min_id:  # the statuses immediately newer than min_id (kept in id order)
            if orders is None or max_id:
                orders = [_order(_sid(s)) for s in chosen]
            start = bisect.bisect_right(orders, _order(min_id))
            page = chosen[start : start + limit]
        else:
            if since_id:
                chosen = [s for s in chosen if _order(_sid(s)) > _order(since_id)]
            page = chosen[-limit:]
        page = list(reversed(page))
        headers: dict[str, str] = {}
        if page:
            base = f"{_origin(request)}{request.path}"
            newer = urlencode({"limit": limit, "min_id": _sid(page[0])})
            older = urlencode({"limit": limit, "max_id": _sid(page[-1])})
            headers["Link"] = f'<{base}?{older}>; rel="next", <{base}?{newer}>; rel="prev"'
        return FakeResponse.json(page, headers=headers)

    def _search(self, request: FakeRequest) -> FakeResponse:
        if request.arg("type") not in (None, "statuses"):
            return FakeResponse.json({"accounts": [], "statuses": [], "hashtags": []})
        words = (request.arg("q") or "").lower()
        chosen = [s for s in reversed(self.statuses) if words in s["content"].lower()]
        min_id = request.arg("min_id")
        if min_id:
            chosen = [s for s in chosen if _order(_sid(s)) > _order(min_id)]
        offset = request.int_arg("offset", 0)
        page = chosen[offset : offset + self._limit(request)]
        return FakeResponse.json({"accounts": [], "statuses": page, "hashtags": []})


# --------------------------------------------------------------------------- Typeform


def typeform_form(form_id: str = "u6nXL7") -> dict[str, Any]:
    """A form definition: two open questions, an NPS, a rating, an opinion scale, a choice."""
    return {
        "id": form_id,
        "title": "How are we doing?",
        "fields": [
            {"id": "f_nps", "ref": "nps", "title": "How likely are you to recommend us?",
             "type": "nps", "properties": {}},
            {"id": "f_why", "ref": "why", "title": "What is the main reason for your score?",
             "type": "long_text", "properties": {}},
            {"id": "f_setup", "ref": "setup", "title": "How was setting up your account?",
             "type": "short_text", "properties": {}},
            {"id": "f_stars", "ref": "stars", "title": "Rate our support",
             "type": "rating", "properties": {"steps": 5, "shape": "star"}},
            {"id": "f_effort", "ref": "effort", "title": "How easy was it?",
             "type": "opinion_scale", "properties": {"steps": 7, "start_at_one": True}},
            {"id": "f_topic", "ref": "topic", "title": "What is it about?",
             "type": "multiple_choice", "properties": {"choices": [{"label": "Billing"}]}},
        ],
        "hidden": ["customer_id", "plan"],
    }  # fmt: skip


def typeform_response(
    token: str,
    *,
    submitted_at: datetime,
    why: str | None = None,
    setup: str | None = None,
    nps: int | None = None,
    stars: int | None = None,
    effort: int | None = None,
    hidden: dict[str, str] | None = None,
) -> dict[str, Any]:
    answers: list[dict[str, Any]] = []
    if nps is not None:
        answers.append({"field": {"id": "f_nps", "type": "nps", "ref": "nps"},
                        "type": "number", "number": nps})  # fmt: skip
    if why is not None:
        answers.append({"field": {"id": "f_why", "type": "long_text", "ref": "why"},
                        "type": "text", "text": why})  # fmt: skip
    if setup is not None:
        answers.append({"field": {"id": "f_setup", "type": "short_text", "ref": "setup"},
                        "type": "text", "text": setup})  # fmt: skip
    if stars is not None:
        answers.append({"field": {"id": "f_stars", "type": "rating", "ref": "stars"},
                        "type": "number", "number": stars})  # fmt: skip
    if effort is not None:
        answers.append({"field": {"id": "f_effort", "type": "opinion_scale", "ref": "effort"},
                        "type": "number", "number": effort})  # fmt: skip
    answers.append({"field": {"id": "f_topic", "type": "multiple_choice", "ref": "topic"},
                    "type": "choice", "choice": {"label": "Billing"}})  # fmt: skip
    stamp = submitted_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "landing_id": token,
        "token": token,
        "response_id": token,
        "response_type": "completed",
        "landed_at": stamp,
        "submitted_at": stamp,
        "metadata": {"platform": "other", "referer": "https://example.com/survey"},
        "hidden": hidden or {},
        "calculated": {"score": 0},
        "answers": answers,
    }


@dataclass
class FakeTypeform:
    """Responses kept in processing order (= submission order here)."""

    form: dict[str, Any] = field(default_factory=typeform_form)
    responses: list[dict[str, Any]] = field(default_factory=list)
    token: str | None = None

    def __call__(self, request: FakeRequest) -> FakeResponse:
        if not _bearer_ok(request, self.token):
            return FakeResponse.json(
                {"code": "AUTHENTICATION_FAILED", "description": "Authentication credentials "
                 "not found on the Request Headers"}, status=401)  # fmt: skip
        parts = request.path.strip("/").split("/")
        if len(parts) < 2 or parts[0] != "forms" or parts[1] != self.form["id"]:
            return FakeResponse.json({"code": "FORM_NOT_FOUND"}, status=404)
        if len(parts) == 2:
            return FakeResponse.json(self.form)
        if parts[2:] != ["responses"]:
            return FakeResponse.json({"code": "NOT_FOUND"}, status=404)
        size = max(1, min(request.int_arg("page_size", 25), 1000))
        chosen = list(self.responses)
        since = request.arg("since")
        if since:
            chosen = [r for r in chosen if r["submitted_at"] >= since.rstrip("Z") + "Z"]
        after = request.arg("after")
        if after:
            if request.arg("sort"):
                return FakeResponse.json(
                    {"code": "VALIDATION_ERROR",
                     "description": "after cannot be combined with sort"}, status=400)  # fmt: skip
            tokens = [r.get("token") for r in self.responses]
            if after not in tokens:
                return FakeResponse.json({"code": "VALIDATION_ERROR"}, status=400)
            later = {id(r) for r in self.responses[tokens.index(after) + 1 :]}
            chosen = [r for r in chosen if id(r) in later]
        elif request.arg("sort") != "submitted_at,asc":
            chosen = sorted(chosen, key=lambda r: r["submitted_at"], reverse=True)
        page = chosen[:size]
        return FakeResponse.json(
            {"total_items": len(chosen), "page_count": -(-len(chosen) // size), "items": page}
        )


# --------------------------------------------------------------------------- Zendesk


def zendesk_ticket(
    tid: int,
    subject: str,
    description: str,
    *,
    requester_id: int = 501,
    tags: tuple[str, ...] = (),
    form_id: int | None = None,
    satisfaction: str = "unoffered",
    satisfaction_comment: str | None = None,
    when: datetime | None = None,
    status: str = "open",
) -> dict[str, Any]:
    when = when or datetime(2024, 5, 1, tzinfo=UTC) + timedelta(hours=tid)
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    rating: dict[str, Any] = {"score": satisfaction}
    if satisfaction_comment is not None:
        rating.update(id=9000 + tid, comment=satisfaction_comment)
    return {
        "id": tid,
        "url": f"https://acme.zendesk.com/api/v2/tickets/{tid}.json",
        "subject": subject,
        "description": description,
        "requester_id": requester_id,
        "submitter_id": requester_id,
        "assignee_id": 9,
        "status": status,
        "tags": list(tags),
        "ticket_form_id": form_id,
        "via": {"channel": "web"},
        "created_at": stamp,
        "updated_at": stamp,
        "generated_timestamp": int(when.timestamp()),
        "satisfaction_rating": rating,
    }


def zendesk_comment(
    cid: int, author_id: int, body: str, *, public: bool = True, when: datetime | None = None
) -> dict[str, Any]:
    when = when or datetime(2024, 5, 2, tzinfo=UTC) + timedelta(minutes=cid)
    return {
        "id": cid,
        "type": "Comment",
        "author_id": author_id,
        "body": body,
        "html_body": f"<p>{body}</p>",
        "plain_body": body,
        "public": public,
        "created_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


@dataclass
class FakeZendesk:
    """Tickets in export order; comments per ticket; users with their roles."""

    tickets: list[dict[str, Any]] = field(default_factory=list)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    roles: dict[int, str] = field(default_factory=lambda: {501: "end-user", 9: "agent"})
    email: str = "cx@acme.example"
    token: str | None = None
    comments_page_size: int = 100

    def _auth_ok(self, request: FakeRequest) -> bool:
        if self.token is None:
            return True
        pair = f"{self.email}/token:{self.token}".encode()
        return request.headers.get("authorization") == "Basic " + base64.b64encode(pair).decode()

    def __call__(self, request: FakeRequest) -> FakeResponse:
        if not self._auth_ok(request):
            return FakeResponse.json({"error": "Couldn't authenticate you"}, status=401)
        parts = request.path.strip("/").split("/")
        if parts == ["api", "v2", "incremental", "tickets", "cursor.json"]:
            return self._export(request)
        if parts[:3] == ["api", "v2", "tickets"] and parts[4:] == ["comments.json"]:
            return self._comments(request, int(parts[3]))
        return FakeResponse.json({"error": "InvalidEndpoint"}, status=404)

    def _export(self, request: FakeRequest) -> FakeResponse:
        size = max(1, min(request.int_arg("per_page", 1000), 1000))
        cursor = request.arg("cursor")
        if cursor:
            start = int(base64.b64decode(cursor.encode()).decode().split(":")[1])
        elif request.arg("start_time") is not None:
            since = request.int_arg("start_time", 0)
            start = next(
                (i for i, t in enumerate(self.tickets) if t["generated_timestamp"] >= since),
                len(self.tickets),
            )
        else:
            return FakeResponse.json(
                {"error": "InvalidPaginationParameter",
                 "description": "start_time or cursor is required"}, status=400)  # fmt: skip
        page = self.tickets[start : start + size]
        end = start + len(page)
        after = base64.b64encode(f"pos:{end}".encode()).decode()
        url = f"{_origin(request)}{request.path}?{urlencode({'cursor': after})}"
        return FakeResponse.json(
            {
                "tickets": page,
                "after_cursor": after,
                "after_url": url,
                "before_cursor": None,
                "before_url": None,
                "end_of_stream": end >= len(self.tickets),
            }
        )

    def _comments(self, request: FakeRequest, ticket_id: int) -> FakeResponse:
        if not any(t.get("id") == ticket_id for t in self.tickets):
            return FakeResponse.json({"error": "RecordNotFound"}, status=404)
        every = self.comments.get(ticket_id, [])
        page_no = request.int_arg("page", 1)
        size = self.comments_page_size
        page = every[(page_no - 1) * size : page_no * size]
        more = page_no * size < len(every)
        base = f"{_origin(request)}{request.path}"
        users = [
            {"id": uid, "role": self.roles.get(uid, "end-user"), "name": f"User {uid}"}
            for uid in sorted({c["author_id"] for c in page})
        ]
        return FakeResponse.json(
            {
                "comments": page,
                "users": users,
                "next_page": f"{base}?{urlencode({'include': 'users', 'page': page_no + 1})}"
                if more
                else None,
                "previous_page": None,
                "count": len(every),
            }
        )


# --------------------------------------------------------------------------- feeds


@dataclass
class FeedEntry:
    id: str | None
    title: str
    text: str
    when: datetime
    link: str | None = None
    rating: int | None = None  # an app-store review feed's `im:rating`
    author: str | None = None


@dataclass
class FakeFeed:
    """One feed document, RSS 2.0 or Atom (`atom=True`), with a validator pair."""

    entries: list[FeedEntry] = field(default_factory=list)
    atom: bool = False
    conditional: bool = True  # honour If-None-Match / If-Modified-Since with 304
    changed_at: datetime = field(default_factory=lambda: datetime(2024, 6, 1, tzinfo=UTC))

    def document(self) -> str:
        return _atom(self.entries) if self.atom else _rss(self.entries)

    def __call__(self, request: FakeRequest) -> FakeResponse:
        if request.path != "/feed":
            return FakeResponse(404, "not found")
        body = self.document()
        etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:16] + '"'
        modified = format_datetime(self.changed_at, usegmt=True)
        headers = {
            "Content-Type": "application/atom+xml" if self.atom else "application/rss+xml",
            "ETag": etag,
            "Last-Modified": modified,
        }
        if self.conditional and request.headers.get("if-none-match") == etag:
            return FakeResponse(304, b"", headers)
        return FakeResponse(200, body, headers)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _rss(entries: list[FeedEntry]) -> str:
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rss version="2.0"><channel><title>Acme reviews</title>'
        "<link>https://reviews.example/acme</link><description>Reviews</description>",
    ]
    for e in entries:
        out.append("<item>")
        out.append(f"<title>{_esc(e.title)}</title>")
        if e.id is not None:
            out.append(f'<guid isPermaLink="false">{_esc(e.id)}</guid>')
        if e.link is not None:
            out.append(f"<link>{_esc(e.link)}</link>")
        out.append(f"<description>{_esc(e.text)}</description>")
        out.append(f"<pubDate>{format_datetime(e.when, usegmt=True)}</pubDate>")
        if e.author:
            out.append(f"<author>{_esc(e.author)}</author>")
        out.append("</item>")
    out.append("</channel></rss>")
    return "\n".join(out)


def _atom(entries: list[FeedEntry]) -> str:
    """An Atom feed shaped like an app store's customer-review feed (`im:rating`)."""
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom" '
        'xmlns:im="http://itunes.apple.com/rss" xml:lang="en">',
        "<id>https://apps.example/rss/customerreviews/id=1</id><title>Acme reviews</title>",
        "<updated>2024-06-01T00:00:00Z</updated>",
    ]
    for e in entries:
        out.append("<entry>")
        if e.id is not None:
            out.append(f"<id>{_esc(e.id)}</id>")
        out.append(f"<title>{_esc(e.title)}</title>")
        out.append(f'<content type="text">{_esc(e.text)}</content>')
        out.append(f"<updated>{e.when.strftime('%Y-%m-%dT%H:%M:%SZ')}</updated>")
        if e.link is not None:
            out.append(f'<link rel="alternate" href="{_esc(e.link)}"/>')
        if e.rating is not None:
            out.append(f"<im:rating>{e.rating}</im:rating>")
        if e.author:
            out.append(f"<author><name>{_esc(e.author)}</name></author>")
        out.append("</entry>")
    out.append("</feed>")
    return "\n".join(out)


# --------------------------------------------------------------------------- REST


@dataclass
class FakeRest:
    """`GET /v1/reviews` paged one of four ways; records under `data.reviews`."""

    records: list[dict[str, Any]] = field(default_factory=list)
    style: str = "cursor"  # link | cursor | page | offset
    api_key: str | None = None  # when set, `X-Api-Key` must carry it
    default_size: int = 50

    def __call__(self, request: FakeRequest) -> FakeResponse:
        if self.api_key is not None and request.headers.get("x-api-key") != self.api_key:
            return FakeResponse.json({"message": "invalid api key"}, status=403)
        if request.path != "/v1/reviews":
            return FakeResponse.json({"message": "not found"}, status=404)
        size = max(1, min(request.int_arg("per_page", self.default_size), 100))

        def pick(start: int) -> list[dict[str, Any]]:
            return self.records[start : start + size]

        base = f"{_origin(request)}{request.path}"
        headers: dict[str, str] = {}
        meta: dict[str, Any] = {}
        if self.style == "offset":
            page = pick(request.int_arg("offset", 0))
        elif self.style == "page":
            page = pick((request.int_arg("page", 1) - 1) * size)
            meta["total_pages"] = max(1, -(-len(self.records) // size))
        elif self.style == "link":
            start = (request.int_arg("page", 1) - 1) * size
            page = pick(start)
            if start + size < len(self.records):
                nxt = urlencode({"page": request.int_arg("page", 1) + 1, "per_page": size})
                headers["Link"] = f'<{base}?{nxt}>; rel="next"'
        else:
            token = request.arg("cursor")
            start = int(token[1:]) if token and token.startswith("c") else 0
            page = pick(start)
            end = start + len(page)
            meta["next_cursor"] = f"c{end}" if end < len(self.records) else None
        return FakeResponse.json({"data": {"reviews": page}, "meta": meta}, headers=headers)
