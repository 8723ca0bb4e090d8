"""`mastodon`: statuses pulled live from a Mastodon server's public REST API."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, ClassVar, Self

from pydantic import Field, SecretStr, field_validator, model_validator

from connectors.contract import Batch, Cursor, RawItem, RejectedRecord
from connectors.errors import FatalError, RecordError
from connectors.http import (
    HttpConfig,
    HttpConnector,
    HttpSession,
    Page,
    Paginator,
    Request,
    SinceIdPaginator,
    base_url_field,
    check_base_url,
    id_order,
)
from connectors.parsing import as_id, excerpt
from connectors.secrets import TokenConfig, read_secret
from connectors.social_export import StatusReader
from connectors.values import DEFAULT_DATES, StageHints

MASTODON_MAX_LIMIT = 40


class MastodonConfig(HttpConfig, TokenConfig):
    """Config of a `mastodon` source: one of `hashtag`, `account` or `search`."""

    base_url: str = base_url_field("The server, e.g. `https://mastodon.social`.")
    hashtag: str | None = Field(
        default=None,
        min_length=1,
        description="Read the public timeline of this hashtag (without `#`): "
        "`/api/v1/timelines/tag/:hashtag`.",
    )
    account: str | None = Field(
        default=None,
        min_length=1,
        description="Or: read this account's statuses, by id (`109...`) or address "
        "(`acme@mastodon.social`, looked up once per run): `/api/v1/accounts/:id/statuses`.",
    )
    search: str | None = Field(
        default=None,
        min_length=1,
        description="Or: read the statuses a full-text search finds: `/api/v2/search` "
        "(most servers want a token for it).",
    )
    mentions: bool | None = Field(
        default=None,
        description="Account: also read the posts that mention it, where customers speak "
        "to the account (`/api/v1/notifications?types[]=mention`). Only the account's own "
        "token can read them (scope read:notifications), so the default is on when a "
        "token is set and off without one.",
    )
    local_only: bool = Field(
        default=False, description="Hashtag: only the server's own statuses (`local=true`)."
    )
    since: date | None = Field(
        default=None,
        description="First sync: statuses from this day (UTC) on; without it the first "
        "sync reads the whole timeline back to its oldest status.",
    )
    include_boosts: bool = Field(
        default=False,
        description="Keep boosts (an account's timeline has them): they repeat someone "
        "else's words, so they are skipped by default.",
    )
    include_replies: bool = Field(default=True, description="Keep replies (`in_reply_to_id`).")
    stage_by_tag: dict[str, str] = Field(
        default_factory=dict,
        description="Hashtag (without `#`, any case) → journey stage key; the first tag "
        "of a post found here gives its stage hint.",
    )
    page_size: int = Field(
        default=MASTODON_MAX_LIMIT,
        ge=1,
        le=MASTODON_MAX_LIMIT,
        description="Statuses per request (`limit`, at most 40); one page is one batch.",
    )

    _url = field_validator("base_url")(check_base_url)

    @field_validator("hashtag")
    @classmethod
    def _hashtag(cls, value: str | None) -> str | None:
        if value is None:
            return None
        tag = value.strip().lstrip("#")
        if not tag or not all(c.isalnum() or c == "_" for c in tag):
            raise ValueError(f"{value!r} is not a hashtag (letters, digits and _)")
        return tag

    @field_validator("stage_by_tag")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        StageHints.normalise(value, strip="#")
        return value

    @model_validator(mode="after")
    def _one_stream(self) -> Self:
        chosen = [k for k in ("hashtag", "account", "search") if getattr(self, k) is not None]
        if len(chosen) != 1:
            raise ValueError(
                "set exactly one of hashtag, account or search"
                + (f" (got {', '.join(chosen)})" if chosen else "")
            )
        if self.mentions and self.account is None:
            raise ValueError("mentions are an account's: set account, or drop mentions")
        if self.mentions and self.token_env is None and self.token_file is None:
            raise ValueError(
                "mentions need the account's own access token (scope read:notifications): "
                "set token_env or token_file"
            )
        return self

    @property
    def reads_mentions(self) -> bool:
        if self.account is None:
            return False
        if self.mentions is None:
            return self.token_env is not None or self.token_file is not None
        return self.mentions


def snowflake_at(day: date) -> str:
    """The smallest Mastodon id of a status created at midnight UTC of `day`
    (ids are milliseconds since the epoch shifted left 16 bits)."""
    moment = datetime.combine(day, time.min, tzinfo=UTC)
    return str(int(moment.timestamp() * 1000) << 16)


def _status_id(status: Any) -> str | None:
    return as_id(status.get("id")) if isinstance(status, dict) else None


class _SearchSweep(Paginator):
    """`/api/v2/search` pages by offset, newest first, above a fixed `min_id`.

    One sweep reads every result newer than `min_id` (offset 0, 40, ...); its
    newest id becomes the next sweep's `min_id`. State mid-sweep:
    `{"min_id": X, "sweep": {"offset": n, "top": newest id so far}}`; statuses
    arriving during a sweep shift results down (repeats, for dedupe), never up.
    """

    def __init__(self, first: Request, *, limit: int, start_id: str | None) -> None:
        self._first = first
        self._limit = limit
        self._min_id = start_id
        self._offset = 0
        self._top: str | None = None
        self._sweeping = False

    def start(self, state: Mapping[str, Any] | None) -> Request:
        if state:
            if isinstance(state.get("min_id"), str):
                self._min_id = state["min_id"]
            sweep = state.get("sweep")
            if isinstance(sweep, dict) and isinstance(sweep.get("offset"), int):
                self._offset, self._sweeping = sweep["offset"], True
                self._top = sweep.get("top") if isinstance(sweep.get("top"), str) else None
        return self._request()

    def _request(self) -> Request:
        return self._first.with_params(offset=self._offset or None, min_id=self._min_id)

    def advance(self, page: Page) -> Request | None:
        ids = [i for i in map(_status_id, page.records) if i is not None]
        for sid in ids:
            if self._top is None or id_order(sid) > id_order(self._top):
                self._top = sid
        self._offset += len(page.records)
        self._sweeping = True
        if len(page.records) < self._limit:
            if self._top is not None:
                self._min_id = self._top
            self._offset, self._top, self._sweeping = 0, None, False
            return None
        return self._request()

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"min_id": self._min_id}
        if self._sweeping:
            state["sweep"] = {"offset": self._offset, "top": self._top}
        return state


class MastodonConnector(HttpConnector[MastodonConfig]):
    """Mastodon statuses from a server's API: a hashtag, an account, or a search.

    Walks forward with `min_id` (the statuses immediately newer than the cursor,
    following the `Link` header's `prev` relation), so every batch's cursor is the
    newest status id read and a crash loses nothing. A search sweeps by offset
    above the cursor. An account's mentions come from its notifications, walked
    forward the same way after its statuses; the cursor then holds both streams
    (`{"statuses": ..., "mentions": ...}`). HTML becomes text, boosts are skipped unless
    `include_boosts`, replies kept unless `include_replies: false`, as
    `social_export` does; attributes `url`, `language`, `tags`,
    `favourites_count`, `reblogs_count`, `replies_count`. External id: the status
    `id`; author: `account.acct`.
    """

    kind: ClassVar[str] = "mastodon"
    channel: ClassVar[str] = "social"
    config_model: ClassVar[type[MastodonConfig]] = MastodonConfig
    capabilities: ClassVar[frozenset[str]] = frozenset({"http", "secrets"})

    def __init__(self, config: MastodonConfig, *, base_dir: Path) -> None:
        super().__init__(config, base_dir=base_dir)
        self.reader = StatusReader(
            read_date=DEFAULT_DATES,
            include_boosts=config.include_boosts,
            include_replies=config.include_replies,
            tag_hints=StageHints(config.stage_by_tag, active=bool(config.stage_by_tag), strip="#"),
        )
        self.refused_hint = (
            f"check the token in {config.token_env} (it needs the read:statuses scope)"
            if config.token_env
            else "the server wants an access token for this: set token_env"
        )

    def base_url(self) -> str:
        return self.config.base_url

    def auth_headers(self) -> dict[str, SecretStr]:
        token = read_secret(
            env=self.config.token_env,
            file=self.config.token_file,
            base_dir=self.base_dir,
            what=f"{self.kind} source",
        )
        return (
            {}
            if token is None
            else {"Authorization": SecretStr(f"Bearer {token.get_secret_value()}")}
        )

    def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:
        cfg = self.config
        start_id = snowflake_at(cfg.since) if cfg.since else None
        with self.session() as http:
            paginator: Paginator
            if cfg.search is not None:
                first = Request.of(
                    f"{cfg.base_url}/api/v2/search",
                    {"q": cfg.search, "type": "statuses", "limit": cfg.page_size},
                )
                paginator = _SearchSweep(first, limit=cfg.page_size, start_id=start_id)
                records = _search_statuses
            elif cfg.hashtag is not None:
                paginator = self._forward(
                    f"/api/v1/timelines/tag/{cfg.hashtag}",
                    {"local": "true" if cfg.local_only else None},
                    start_id,
                )
                records = _statuses
            else:
                yield from self._account(http, _load(cursor), start_id)
                return
            yield from self.fetch_pages(
                http,
                paginator,
                _load(cursor),
                records=records,
                parse=self.reader,
                cursor=lambda state: state,
            )

    def _forward(self, path: str, params: dict[str, object], start_id: str | None) -> Paginator:
        return SinceIdPaginator(
            Request.of(f"{self.config.base_url}{path}", {"limit": self.config.page_size, **params}),
            param="min_id",
            id_of=_status_id,
            start_id=start_id,
            follow_rel="prev",
        )

    def _account(
        self, http: HttpSession, state: dict[str, Any] | None, start_id: str | None
    ) -> Iterator[Batch]:
        """The account's statuses, then (when read) the posts that mention it."""
        cfg = self.config
        account_id = self._account_id(http)
        statuses = self._forward(
            f"/api/v1/accounts/{account_id}/statuses",
            {
                "exclude_reblogs": None if cfg.include_boosts else "true",
                "exclude_replies": None if cfg.include_replies else "true",
            },
            start_id,
        )
        if not cfg.reads_mentions:
            yield from self.fetch_pages(
                http, statuses, state, records=_statuses, parse=self.reader, cursor=lambda s: s
            )
            return
        own, heard = _streams(state)
        yield from self.fetch_pages(
            http,
            statuses,
            own,
            records=_statuses,
            parse=self.reader,
            cursor=lambda s: {"statuses": s, "mentions": heard},
        )
        read = statuses.state()
        self._check_token_owner(http, account_id)
        # Notification ids are the server's own sequence, not time: `since` cannot
        # be turned into one, so a first sync reads them all and keeps the recent.
        mentions = self._forward("/api/v1/notifications", {"types[]": "mention"}, None)
        yield from self.fetch_pages(
            http,
            mentions,
            heard,
            records=_statuses,
            parse=self._mention,
            cursor=lambda s: {"statuses": read, "mentions": s},
        )

    def _check_token_owner(self, http: HttpSession, account_id: str) -> None:
        _, body = http.get(Request.of(f"{self.config.base_url}/api/v1/accounts/verify_credentials"))
        owner = as_id(body.get("id")) if isinstance(body, dict) else None
        if owner != account_id:
            who = body.get("acct") if isinstance(body, dict) else None
            raise FatalError(
                f"{self.kind}: the token belongs to {('@' + str(who)) if who else 'another account'}"
                f", not to {self.config.account}: only the account's own token reads its "
                "mentions (use that token, or set mentions: false)"
            )

    def _mention(self, notification: Any, where: str) -> Iterator[RawItem | RejectedRecord]:
        if not isinstance(notification, dict):
            raise RecordError("a notification is not a JSON object", excerpt=excerpt(notification))
        if notification.get("type") != "mention":
            return  # a server that ignores `types[]` sends follows and favourites too
        status = notification.get("status")
        if not isinstance(status, dict):
            raise RecordError(
                "a mention notification without its status",
                excerpt=excerpt(notification),
                external_id=as_id(notification.get("id")),
            )
        since = self.config.since
        for out in self.reader(status, where):
            if isinstance(out, RawItem) and since and out.occurred_at.date() < since:
                continue
            yield out

    def _account_id(self, http: HttpSession) -> str:
        account = self.config.account or ""
        if account.isdigit():
            return account
        acct = account.lstrip("@")
        _, body = http.get(
            Request.of(f"{self.config.base_url}/api/v1/accounts/lookup", {"acct": acct})
        )
        found = as_id(body.get("id")) if isinstance(body, dict) else None
        if found is None:
            raise FatalError(
                f"{self.kind}: account {account!r} was not found on {self.config.base_url}"
            )
        return found


def _load(cursor: Cursor | None) -> dict[str, Any] | None:
    """Our cursor: `{"since": id}` (timelines), `{"min_id": id, "sweep": ...}` (search),
    or `{"statuses": ..., "mentions": ...}` (an account with its mentions)."""
    return dict(cursor) if isinstance(cursor, dict) else None


def _streams(state: dict[str, Any] | None) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """An account's two cursors; one written before mentions were read is its statuses'."""
    if not state:
        return None, None
    if "statuses" in state or "mentions" in state:
        own, heard = state.get("statuses"), state.get("mentions")
        return (
            own if isinstance(own, dict) else None,
            heard if isinstance(heard, dict) else None,
        )
    return state, None


def _statuses(body: Any) -> list[Any]:
    if not isinstance(body, list):
        raise RecordError(
            f"expected a JSON array of statuses, got {type(body).__name__}", excerpt=excerpt(body)
        )
    return list(reversed(body))  # newest first: read them in the order they were written


def _search_statuses(body: Any) -> list[Any]:
    statuses = body.get("statuses") if isinstance(body, dict) else None
    if not isinstance(statuses, list):
        raise RecordError("expected a search result with a `statuses` array", excerpt=excerpt(body))
    return list(reversed(statuses))
