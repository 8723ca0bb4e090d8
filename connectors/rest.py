"""`rest`: any JSON API, described in config only (after dlt's declarative `rest_api`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from connectors.contract import AttributeValue, Batch, Cursor, RawItem, RejectedRecord
from connectors.errors import RecordError
from connectors.http import (
    CursorPaginator,
    HttpConfig,
    HttpConnector,
    LinkHeaderPaginator,
    OffsetPaginator,
    PageNumberPaginator,
    Paginator,
    Request,
    SinceIdPaginator,
    base_url_field,
    check_base_url,
    dig,
)
from connectors.parsing import as_id, excerpt, parse_score
from connectors.secrets import SecretValue
from connectors.values import DateReader, StageHints, as_text

_DEFAULT_PARAM = {"cursor": "cursor", "page": "page", "offset": "offset", "since_id": "since_id"}


class RestFields(BaseModel):
    """Where each part of an item is in a record (dotted paths: `user.id`, `tags.0`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, description="The record's id (its external id).")
    text: str | list[str] = Field(
        description="The customer's words; several paths are joined by blank lines "
        "(e.g. `[title, body]`)."
    )
    date: str = Field(min_length=1, description="When it was written (ISO 8601 by default).")
    author: str | None = Field(default=None, description="A customer reference.")
    rating: str | None = Field(default=None, description="A score, with `rating_scale`.")
    stage: str | None = Field(
        default=None, description="A value looked up in `stage_values` for a stage hint."
    )
    attributes: dict[str, str] = Field(
        default_factory=dict, description="Attribute name → path, e.g. `{plan: customer.plan}`."
    )


class RestPagination(BaseModel):
    """How the API pages: `link`, `cursor`, `page`, `offset`, `since_id` or `none`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    style: Literal["link", "cursor", "page", "offset", "since_id", "none"] = Field(
        description="`link`: a `Link: <...>; rel=next` header; `cursor`: a next token in "
        "the body (`next_path`) sent back as `param`; `page`: `?page=N`; `offset`: "
        "`?offset=N`; `since_id`: `?since_id=<newest id read>` (oldest first); `none`."
    )
    param: str | None = Field(
        default=None,
        description="The query parameter carrying the token, page, offset or id "
        "(default: cursor, page, offset, since_id).",
    )
    next_path: str | None = Field(
        default=None, description="`cursor`: path of the next token in the body."
    )
    done_path: str | None = Field(
        default=None,
        description="`cursor`: path of a flag that says the stream ended (a token may "
        "still be given, and is where the next run starts).",
    )
    size_param: str | None = Field(
        default=None, description="Query parameter carrying the page size (e.g. `per_page`)."
    )
    start_at: int = Field(default=1, ge=0, description="`page`: the first page's number.")
    total_pages_path: str | None = Field(
        default=None, description="`page`: path of the page count in the body (optional)."
    )

    @model_validator(mode="after")
    def _cursor_needs_a_path(self) -> Self:
        if self.style == "cursor" and not self.next_path:
            raise ValueError("pagination style cursor needs next_path (where the token is)")
        return self


class RestConfig(HttpConfig):
    """Config of a `rest` source."""

    url: str = base_url_field(
        "The endpoint listing the records, e.g. `https://api.acme.com/v1/reviews`."
    )
    params: dict[str, str | int | bool] = Field(
        default_factory=dict, description="Extra query parameters sent with every request."
    )
    headers: dict[str, str | SecretValue] = Field(
        default_factory=dict,
        description="Request headers: a plain value, or `{env: NAME, prefix: 'Bearer '}` "
        "(or `{file: ...}`) for a secret, read when the run starts.",
    )
    records_path: str = Field(
        default="",
        description="Dotted path of the record list in the body (`data.reviews`); empty: "
        "the body is the list.",
    )
    fields: RestFields = Field(description="Where id, text, date, author, rating are.")
    pagination: RestPagination = Field(
        default_factory=lambda: RestPagination(style="none"),
        description="How the API pages (see its fields).",
    )
    rating_scale: str | None = Field(
        default=None, description="Scale of `fields.rating` (required with it), e.g. `stars_1_5`."
    )
    stage_values: dict[str, str] = Field(
        default_factory=dict,
        description="Value at `fields.stage` (any case) → journey stage key.",
    )
    date_format: str | None = Field(
        default=None, description="strptime pattern of the dates when they are not ISO 8601."
    )
    timezone: str = Field(default="UTC", description="IANA zone of dates without an offset.")
    channel: str | None = Field(
        default=None, description="Channel of the items (default: `rest`'s own, `review`)."
    )

    _url = field_validator("url")(check_base_url)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as UTC") from None
        return value

    @field_validator("stage_values")
    @classmethod
    def _stages(cls, value: dict[str, str]) -> dict[str, str]:
        StageHints.normalise(value)
        return value

    @model_validator(mode="after")
    def _scale_with_rating(self) -> Self:
        if self.fields.rating and not self.rating_scale:
            raise ValueError("rating_scale is required when fields.rating is set")
        if self.stage_values and not self.fields.stage:
            raise ValueError("stage_values needs fields.stage: the value that is looked up")
        return self


class RestConnector(HttpConnector[RestConfig]):
    """Any JSON API that lists records, described in config: URL, headers (secrets from
    the environment), where the records are, which field is which, how it pages.

    External id: the record's `fields.id`. Each pagination style keeps a cursor
    that covers exactly the records read: a `cursor` token, a page number or link
    with the count read on it, an offset, or the newest id (`since_id`).
    """

    kind: ClassVar[str] = "rest"
    channel: ClassVar[str] = "review"
    config_model: ClassVar[type[RestConfig]] = RestConfig
    capabilities: ClassVar[frozenset[str]] = frozenset({"http", "secrets"})

    def __init__(self, config: RestConfig, *, base_dir: Path) -> None:
        super().__init__(config, base_dir=base_dir)
        self.read_date = DateReader(config.date_format, False, ZoneInfo(config.timezone))
        self.stages = StageHints(config.stage_values, active=bool(config.stage_values))
        self.refused_hint = "check the headers (and the secrets they read) in the source config"

    def base_url(self) -> str:
        return self.config.url

    def plain_headers(self) -> dict[str, str]:
        plain = {k: v for k, v in self.config.headers.items() if isinstance(v, str)}
        return {"Accept": "application/json", **plain}

    def auth_headers(self) -> dict[str, SecretStr]:
        return {
            name: value.read(self.base_dir, f"{self.kind} source header {name}")
            for name, value in self.config.headers.items()
            if isinstance(value, SecretValue)
        }

    def paginator(self) -> Paginator:
        cfg = self.config
        pag = cfg.pagination
        params: dict[str, object] = dict(cfg.params)
        if pag.size_param:
            params[pag.size_param] = cfg.page_size
        first = Request.of(cfg.url, params)
        param = pag.param or _DEFAULT_PARAM.get(pag.style, "")
        if pag.style == "link":
            return LinkHeaderPaginator(first)
        if pag.style == "cursor":
            assert pag.next_path is not None
            return CursorPaginator(
                first, param=param, next_path=pag.next_path, done_path=pag.done_path
            )
        if pag.style == "page":
            return PageNumberPaginator(
                first, param=param, start_at=pag.start_at, page_size=cfg.page_size,
                total_pages_path=pag.total_pages_path,
            )  # fmt: skip
        if pag.style == "offset":
            return OffsetPaginator(first, param=param, page_size=cfg.page_size)
        if pag.style == "since_id":
            return SinceIdPaginator(
                first, param=param, id_of=lambda r: as_id(dig(r, cfg.fields.id))
            )
        return _OnePage(first)

    def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:
        with self.session() as http:
            yield from self.fetch_pages(
                http,
                self.paginator(),
                cursor if isinstance(cursor, dict) else None,
                records=self._records,
                parse=self._record,
                cursor=lambda state: state,
            )

    def _records(self, body: Any) -> list[Any]:
        found = dig(body, self.config.records_path)
        if not isinstance(found, list):
            raise RecordError(
                f"no record list at records_path {self.config.records_path!r} "
                f"(found {type(found).__name__})",
                excerpt=excerpt(body),
            )
        return found

    def _record(self, record: Any, where: str) -> Iterator[RawItem | RejectedRecord]:
        del where
        f = self.config.fields
        rid = as_id(dig(record, f.id))
        if rid is None:
            raise RecordError(f"missing record id (fields.id: {f.id})")
        paths = [f.text] if isinstance(f.text, str) else f.text
        text = "\n\n".join(t for t in (as_text(dig(record, p)) for p in paths) if t)
        if not text:
            return
        try:
            occurred_at = self.read_date(dig(record, f.date))
        except ValueError as exc:
            raise RecordError(f"{exc} in fields.date ({f.date})", external_id=rid) from None
        rating: float | None = None
        if f.rating:
            try:
                rating = parse_score(dig(record, f.rating))
            except ValueError as exc:
                raise RecordError(f"{exc} in fields.rating ({f.rating})", external_id=rid) from None
        hint = self.stages.lookup(dig(record, f.stage)) if f.stage else self.stages.lookup(None)
        attributes: dict[str, AttributeValue] = {}
        for name, path in f.attributes.items():
            value = dig(record, path)
            attributes[name] = (
                value if isinstance(value, str | int | float | bool) else as_text(value)
            )
        yield RawItem(
            external_id=rid,
            text=text,
            occurred_at=occurred_at,
            rating=rating,
            rating_scale=self.config.rating_scale if rating is not None else None,
            author_ref=as_text(dig(record, f.author)) if f.author else None,
            stage_hint=hint.stage,
            hint_value=hint.value,
            channel=self.config.channel,
            attributes=attributes,
        )


class _OnePage(Paginator):
    """No pagination: one request; the cursor counts the records read of it."""

    def __init__(self, first: Request) -> None:
        self._first = first
        self._skip = 0

    def start(self, state: Any) -> Request:
        if isinstance(state, dict) and isinstance(state.get("skip"), int):
            self._skip = state["skip"]
        return self._first

    def skip(self) -> int:
        return self._skip

    def advance(self, page: Any) -> Request | None:
        self._skip = max(self._skip, len(page.records))
        return None

    def state(self) -> dict[str, Any]:
        return {"skip": self._skip}
