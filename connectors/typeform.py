"""`typeform`: responses of one form, live from Typeform's Responses API."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, SecretStr, field_validator

from connectors.contract import AttributeValue, Batch, Cursor, RawItem, RejectedRecord
from connectors.errors import ConfigError, FatalError, RecordError
from connectors.http import CursorPaginator, HttpConfig, HttpConnector, Page, Request
from connectors.http import check_base_url as _check_url
from connectors.parsing import as_id, excerpt
from connectors.secrets import TokenConfig
from connectors.values import DEFAULT_DATES, NO_HINT, Hint, StageHints, as_text

OPEN_TYPES = frozenset({"long_text", "short_text"})
SCORE_TYPES = ("nps", "rating", "opinion_scale")


class TypeformConfig(HttpConfig, TokenConfig):
    """Config of a `typeform` source."""

    form_id: str = Field(
        min_length=1,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The form's id, from its URL (`https://acme.typeform.com/to/u6nXL7`: `u6nXL7`).",
    )
    base_url: str = Field(
        default="https://api.typeform.com",
        description="The API root: `https://api.typeform.com` (default), or an EU "
        "account's `https://api.eu.typeform.com`.",
    )
    since: date | None = Field(
        default=None, description="First sync: responses submitted from this day (UTC) on."
    )
    score_field: str | None = Field(
        default=None,
        description="Ref or id of the question whose number is every item's rating; by "
        "default the first NPS question, else the first rating, else the first opinion scale.",
    )
    field_scales: dict[str, str] = Field(
        default_factory=dict,
        description="Question ref or id → rating scale name, overriding the default "
        "(`nps` → `nps_0_10`; a 5-step rating → `stars_1_5`, other ratings "
        "`rating_1_<steps>`; an opinion scale `opinion_<from>_<to>`, e.g. `opinion_1_7`: "
        "declare such scales under `scales:`, or map them here to `ces_1_7`, `csat_1_5`).",
    )
    question_stages: dict[str, str] = Field(
        default_factory=dict,
        description="Question ref, id or title (any case) → journey stage key: the stage "
        "hint of that question's answers.",
    )
    customer_field: str | None = Field(
        default=None,
        description="Hidden field holding a customer reference (e.g. `customer_id`), "
        "kept as the items' author.",
    )
    page_size: int = Field(
        default=200, ge=1, le=1000, description="Responses per request (`page_size`, at most 1000)."
    )

    _url = field_validator("base_url")(_check_url)

    @field_validator("question_stages")
    @classmethod
    def _stages(cls, value: dict[str, str]) -> dict[str, str]:
        StageHints.normalise(value)
        return value


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    ref: str | None
    title: str
    type: str
    scale: str | None  # score questions: the rating scale of their numbers


class TypeformConnector(HttpConnector[TypeformConfig]):
    """Typeform responses: one item per answered open question (long or short text).

    Reads the form's definition (question titles, types and scales) once per run,
    then `GET /forms/:form_id/responses` with a bearer token: the first page sorted
    by submission time, then page after page with `after=<last response token>`
    (the cursor: exactly the responses read). External id:
    `"{response_id}:{question ref}"`. The response's score (`score_field`, or the
    first NPS / rating / opinion-scale answer) is every item's rating with its
    scale; other scores and hidden fields are kept as attributes, the question's
    title as attribute `question` and, through `question_stages`, as stage hint.
    """

    kind: ClassVar[str] = "typeform"
    channel: ClassVar[str] = "survey"
    config_model: ClassVar[type[TypeformConfig]] = TypeformConfig
    capabilities: ClassVar[frozenset[str]] = frozenset({"http", "secrets"})

    def __init__(self, config: TypeformConfig, *, base_dir: Path) -> None:
        super().__init__(config, base_dir=base_dir)
        self.stages = StageHints(config.question_stages, active=bool(config.question_stages))
        self.refused_hint = (
            f"check the personal access token in {config.token_env or config.token_file} "
            "(it needs the responses:read and forms:read scopes)"
        )
        self.questions: dict[str, Question] = {}

    def base_url(self) -> str:
        return self.config.base_url

    def auth_headers(self) -> dict[str, SecretStr]:
        token = self.config.read_token(self.base_dir, f"{self.kind} source")
        if token is None:
            raise ConfigError(
                f"{self.kind}: the Responses API needs a token: set token_env (or token_file)"
            )
        return {"Authorization": SecretStr(f"Bearer {token.get_secret_value()}")}

    def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:
        cfg = self.config
        form_url = f"{cfg.base_url}/forms/{cfg.form_id}"
        with self.session() as http:
            _, form = http.get(Request.of(form_url))
            self.questions = self._questions(form)
            first = Request.of(
                f"{form_url}/responses",
                {
                    "page_size": cfg.page_size,
                    "sort": "submitted_at,asc",
                    "since": f"{cfg.since.isoformat()}T00:00:00" if cfg.since else None,
                },
            )
            after_first = Request.of(f"{form_url}/responses", {"page_size": cfg.page_size})
            paginator = _AfterToken(first, after_first)
            yield from self.fetch_pages(
                http,
                paginator,
                cursor if isinstance(cursor, dict) else None,
                records=_items,
                parse=self._response,
                cursor=lambda state: state,
            )

    def _questions(self, form: Any) -> dict[str, Question]:
        fields = form.get("fields") if isinstance(form, dict) else None
        if not isinstance(fields, list):
            raise FatalError(f"{self.kind}: the form definition has no `fields` list")
        out: dict[str, Question] = {}
        for raw in _flatten(fields):
            qid = as_id(raw.get("id"))
            if qid is None:
                continue
            ref = as_id(raw.get("ref"))
            kind = as_text(raw.get("type")) or ""
            props = _obj(raw.get("properties"))
            override = self.config.field_scales.get(ref or "") or self.config.field_scales.get(qid)
            question = Question(
                qid, ref, as_text(raw.get("title")) or ref or qid, kind,
                override or _default_scale(kind, props),
            )  # fmt: skip
            out[qid] = question
        return out

    def _response(self, response: Any, where: str) -> Iterator[RawItem | RejectedRecord]:
        if not isinstance(response, dict):
            raise RecordError(f"response is not a JSON object ({type(response).__name__})")
        response_id = as_id(response.get("response_id")) or as_id(response.get("token"))
        if response_id is None:
            raise RecordError("missing response id (`response_id` / `token`)")
        try:
            occurred_at = DEFAULT_DATES(response.get("submitted_at") or response.get("landed_at"))
        except ValueError as exc:
            raise RecordError(f"{exc} in `submitted_at`", external_id=response_id) from None
        hidden = _obj(response.get("hidden"))
        attributes: dict[str, AttributeValue] = {
            str(k): as_text(v) for k, v in hidden.items() if k not in ("question",)
        }
        answers = response.get("answers") or []
        if not isinstance(answers, list):
            raise RecordError("`answers` is not a list", external_id=response_id)
        score: tuple[float, str] | None = None
        score_rank = len(SCORE_TYPES)
        texts: list[tuple[Question, str]] = []
        for answer in answers:
            if not isinstance(answer, dict):
                continue
            field = _obj(answer.get("field"))
            qid = as_id(field.get("id"))
            question = self.questions.get(qid or "") or Question(
                qid or "?", as_id(field.get("ref")), as_id(field.get("ref")) or qid or "?",
                as_text(field.get("type")) or "", None,
            )  # fmt: skip
            name = question.ref or question.id
            if answer.get("type") == "text" and question.type in OPEN_TYPES | {""}:
                text = as_text(answer.get("text"))
                if text:
                    texts.append((question, text))
            elif answer.get("type") == "number" and question.type in SCORE_TYPES:
                number = answer.get("number")
                if not isinstance(number, int | float) or isinstance(number, bool):
                    continue
                attributes[f"score.{name}"] = number
                chosen = self.config.score_field
                if chosen is not None:
                    if chosen in (question.ref, question.id):
                        score = (float(number), question.scale or "")
                elif SCORE_TYPES.index(question.type) < score_rank:
                    score_rank = SCORE_TYPES.index(question.type)
                    score = (float(number), question.scale or "")
            elif answer.get("type") == "choice" and isinstance(answer.get("choice"), dict):
                attributes[f"choice.{name}"] = as_text(answer["choice"].get("label"))
        customer = (
            as_text(hidden.get(self.config.customer_field)) if self.config.customer_field else None
        )
        for question, text in texts:
            hint = self._hint(question)
            yield RawItem(
                external_id=f"{response_id}:{question.ref or question.id}",
                text=text,
                occurred_at=occurred_at,
                rating=score[0] if score else None,
                rating_scale=(score[1] or None) if score else None,
                author_ref=customer,
                stage_hint=hint.stage,
                hint_value=hint.value,
                attributes={**attributes, "question": question.title},
            )
        del where

    def _hint(self, question: Question) -> Hint:
        """`question_stages` looked up by ref, id, then title; unmapped: the title."""
        if not self.stages.active:
            return NO_HINT
        for key in (question.ref, question.id, question.title):
            found = self.stages.lookup(key)
            if found.stage is not None:
                return found
        return Hint(None, question.title)


class _AfterToken(CursorPaginator):
    """Typeform's `after=<token>`: the responses processed after that one. The next
    token is the last response's `token`; an empty page ends the stream. The first
    request (no token yet) is sorted by submission time instead (`after` refuses `sort`)."""

    def __init__(self, first: Request, after_first: Request) -> None:
        super().__init__(after_first, param="after", next_path="items.-1.token")
        self._very_first = first

    def _request(self) -> Request:
        return self._very_first if self._token is None else super()._request()

    def next_token(self, page: Page) -> str | None:
        """The last response of the page that has a token (a broken one may not)."""
        for response in reversed(page.records):
            token = as_id(response.get("token")) if isinstance(response, dict) else None
            if token is not None:
                return token
        return None


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _items(body: Any) -> list[Any]:
    found = body.get("items") if isinstance(body, dict) else None
    if not isinstance(found, list):
        raise RecordError("expected a responses page with an `items` array", excerpt=excerpt(body))
    return found


def _flatten(fields: list[Any]) -> Iterator[dict[str, Any]]:
    """Questions, with those inside groups (`properties.fields`)."""
    for raw in fields:
        if not isinstance(raw, dict):
            continue
        yield raw
        props = raw.get("properties")
        if isinstance(props, dict) and isinstance(props.get("fields"), list):
            yield from _flatten(props["fields"])


def _default_scale(kind: str, props: dict[str, Any]) -> str | None:
    steps = props.get("steps")
    steps = steps if isinstance(steps, int) and not isinstance(steps, bool) else None
    if kind == "nps":
        return "nps_0_10"
    if kind == "rating":
        steps = steps or 5
        return "stars_1_5" if steps == 5 else f"rating_1_{steps}"
    if kind == "opinion_scale":
        steps = steps or 11
        start = 1 if props.get("start_at_one") else 0
        return f"opinion_{start}_{start + steps - 1}"
    return None
