"""`survey_file`: survey exports (CSV or JSON), one item per non-empty open answer."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from connectors.base import (
    AttributeValue,
    FileConnector,
    FileConnectorConfig,
    RawItem,
    RejectedRecord,
    SourceFile,
)
from connectors.parsing import (
    Row,
    as_id,
    attribute_value,
    parse_score,
    read_csv_rows,
    read_rows,
)
from connectors.values import as_text


class SurveyAnswer(BaseModel):
    """One open-ended question of the survey."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str = Field(min_length=1, description="Column (or JSON key) holding the answer.")
    question: str | None = Field(
        default=None,
        description="The question text, kept as attribute `question` (default: the column).",
    )
    stage: str | None = Field(
        default=None, description="Journey stage key this question is about (a stage hint)."
    )


class SurveyFileConfig(FileConnectorConfig):
    """Config of a `survey_file` source."""

    id_column: str | None = Field(
        default=None,
        min_length=1,
        description="Column holding the response id. Without one, a response's id is a "
        "digest of its mapped fields (date, customer, score, answers, hint column, "
        "attributes) plus its occurrence number among identical rows of the file.",
    )
    date_column: str = Field(
        min_length=1,
        description="Column holding the submission time: ISO 8601 unless `date_format` or "
        "`dayfirst` say otherwise (a date alone = midnight, a naive time = `timezone`).",
    )
    score_column: str | None = Field(
        default=None,
        description="Optional numeric score column, kept as the rating of every item "
        "of the response.",
    )
    rating_scale: str | None = Field(
        default=None,
        description="Scale of the score, e.g. `nps_0_10`, `csat_1_5`, `stars_1_5` "
        "(required when `score_column` is set).",
    )
    customer_column: str | None = Field(
        default=None, description="Optional column holding a customer reference."
    )
    answers: list[SurveyAnswer] = Field(
        min_length=1,
        description="The open-ended columns: `{column, question, stage}` each.",
    )
    attributes: list[str] = Field(
        default_factory=list,
        description="Extra columns kept as item attributes (e.g. `plan`, `region`).",
    )

    @model_validator(mode="after")
    def _scale_with_score(self) -> Self:
        if self.score_column and not self.rating_scale:
            raise ValueError("rating_scale is required when score_column is set")
        columns = [a.column for a in self.answers]
        if len(set(columns)) != len(columns):
            raise ValueError("answers: each column may appear only once")
        return self


class SurveyFileConnector(FileConnector[SurveyFileConfig]):
    """Survey exports (CSV with header, or JSON): one item per non-empty open-ended answer.

    External id: `"{response id}:{answer column}"`; without `id_column` the response
    id is `"{digest}-{n}"`: 16 hex digits of the SHA-256 of the row's mapped fields,
    and n the row's number among the file's rows with that digest (1 for the first),
    so a re-export with rows added or reordered maps to the same ids, and two
    respondents who gave identical answers stay two responses. A row with a missing
    id, an unparseable date or a non-numeric score is rejected whole, with the reason.
    """

    kind: ClassVar[str] = "survey_file"
    channel: ClassVar[str] = "survey"
    config_model: ClassVar[type[SurveyFileConfig]] = SurveyFileConfig
    extensions: ClassVar[tuple[str, ...]] = (".csv", ".json")

    streamed_extensions: ClassVar[frozenset[str]] = frozenset({".csv"})

    def parse_file(self, text: str, source: SourceFile) -> Iterator[RawItem | RejectedRecord]:
        rows = read_rows(text, source, required_columns=self._required(), list_key="responses")
        yield from self._responses(rows)

    def parse_lines(
        self, lines: Iterator[str], source: SourceFile
    ) -> Iterator[RawItem | RejectedRecord]:
        yield from self._responses(read_csv_rows(lines, source, required_columns=self._required()))

    def _required(self) -> list[str]:
        cfg = self.config
        required = [cfg.date_column, *(a.column for a in cfg.answers)]
        if cfg.id_column:
            required.insert(0, cfg.id_column)
        if cfg.score_column:
            required.append(cfg.score_column)
        return required

    def _responses(
        self, rows: Iterable[Row | RejectedRecord]
    ) -> Iterator[RawItem | RejectedRecord]:
        copies: Counter[str] = Counter()  # rows per digest so far: identical rows stay apart
        for row in rows:
            if isinstance(row, RejectedRecord):
                yield row
            else:
                yield from self._row(row, copies)

    def _row(self, row: Row, copies: Counter[str]) -> Iterator[RawItem | RejectedRecord]:
        cfg = self.config
        data = row.data
        response_id: str | None = None
        if cfg.id_column:
            response_id = as_id(data.get(cfg.id_column))
            if response_id is None:
                yield self._reject(row, None, f"missing response id (column {cfg.id_column!r})")
                return
        try:
            occurred_at = self.read_date(data.get(cfg.date_column))
        except ValueError as exc:
            yield self._reject(row, response_id, f"{exc} in column {cfg.date_column!r}")
            return
        rating: float | None = None
        if cfg.score_column:
            try:
                rating = parse_score(data.get(cfg.score_column))
            except ValueError as exc:
                yield self._reject(row, response_id, f"{exc} in column {cfg.score_column!r}")
                return
        customer = as_text(data.get(cfg.customer_column)) if cfg.customer_column else None
        hint, hint_attribute = self.column_hint(data)
        extra: dict[str, AttributeValue] = {
            **hint_attribute,
            **{name: attribute_value(data[name]) for name in cfg.attributes if name in data},
        }
        answers = {a.column: as_text(data.get(a.column)) for a in cfg.answers}
        if response_id is None:
            fields = [occurred_at.isoformat(), customer, rating, answers, hint.value, extra]
            digest = hashlib.sha256(
                json.dumps(fields, ensure_ascii=False, sort_keys=True, default=str).encode()
            ).hexdigest()[:16]
            copies[digest] += 1
            response_id = f"{digest}-{copies[digest]}"
        for answer in cfg.answers:
            text = answers[answer.column]
            if text is None:
                continue
            yield RawItem(
                external_id=f"{response_id}:{answer.column}",
                text=text,
                occurred_at=occurred_at,
                rating=rating,
                rating_scale=cfg.rating_scale if rating is not None else None,
                author_ref=customer,
                stage_hint=answer.stage or hint.stage,  # the question's own stage wins
                hint_value=hint.value,
                attributes={**extra, "question": answer.question or answer.column},
            )

    @staticmethod
    def _reject(row: Row, external_id: str | None, reason: str) -> RejectedRecord:
        return RejectedRecord(
            reason=reason, excerpt=row.excerpt, external_id=external_id, location=row.location
        )
