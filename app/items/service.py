"""Item queries: filters, keyset pagination, drill-down to segments."""

from __future__ import annotations

import base64
import binascii
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from app.errors import BadRequestError, NotFoundError
from app.items.filters import ItemFilters, item_clauses
from app.items.schemas import (
    ItemDetail,
    ItemPage,
    ItemPublic,
    SegmentPublic,
    SentimentOut,
    StageCall,
)
from app.models import Item, Segment
from app.params import MAX_ID, utc_or_none
from nlp.enrichment import UNASSIGNED


def encode_cursor(item: Item) -> str:
    raw = json.dumps([item.occurred_at.isoformat(), item.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


BAD_CURSOR = "cursor is not one this API issued; pass the `next_cursor` of a previous page"


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        occurred, item_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        moment = datetime.fromisoformat(occurred)
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequestError(BAD_CURSOR) from exc
    # Only what encode_cursor writes: an integer id (not 5.0, true or "5"), an aware
    # moment that has a UTC equivalent.
    if type(item_id) is not int or not 0 < item_id <= MAX_ID:
        raise BadRequestError(BAD_CURSOR)
    if moment.tzinfo is None or utc_or_none(moment) is None:
        raise BadRequestError(BAD_CURSOR)
    return moment, item_id


def list_items(
    session: Session, *, filters: ItemFilters, limit: int, cursor: str | None
) -> ItemPage:
    dialect = session.get_bind().dialect.name
    query = select(Item).where(*item_clauses(filters, dialect))
    if cursor is not None:
        occurred, last_id = decode_cursor(cursor)
        query = query.where(
            or_(
                col(Item.occurred_at) < occurred,
                and_(col(Item.occurred_at) == occurred, col(Item.id) < last_id),
            )
        )
    query = query.order_by(col(Item.occurred_at).desc(), col(Item.id).desc()).limit(limit + 1)
    rows = list(session.exec(query).all())
    has_more = len(rows) > limit
    rows = rows[:limit]
    stages = _stages_of(session, [row.id for row in rows if row.id is not None])
    return ItemPage(
        items=[_public(row, stages.get(row.id or 0, [])) for row in rows],
        next_cursor=encode_cursor(rows[-1]) if has_more and rows else None,
    )


def get_item(session: Session, *, item_id: int) -> ItemDetail:
    item = session.get(Item, item_id)
    if item is None:
        raise NotFoundError(f"no item with id {item_id}")
    segments = session.exec(
        select(Segment).where(Segment.item_id == item_id).order_by(col(Segment.idx))
    ).all()
    public = _public(item, _distinct_stages(seg.stage for seg in segments))
    return ItemDetail(
        **public.model_dump(),
        segments=[
            SegmentPublic(
                index=seg.idx,
                start=seg.start,
                end=seg.end,
                text=seg.text,
                sentiment=_sentiment(seg),
                stage=_stage_call(seg),
            )
            for seg in segments
        ],
    )


def _sentiment(row: Item | Segment) -> SentimentOut:
    return SentimentOut(score=row.sentiment_score, label=row.sentiment_label)


def _stage_call(row: Item | Segment) -> StageCall:
    """Items and segments carry the same stage columns: one reading of them."""
    return StageCall(
        stage=row.stage,
        confidence=row.stage_confidence,
        method=row.stage_method,
        evidence=list(row.stage_evidence),
    )


def _distinct_stages(stages: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for stage in stages:
        if stage not in seen:
            seen.append(stage)
    return seen


def _stages_of(session: Session, item_ids: Sequence[int]) -> dict[int, list[str]]:
    if not item_ids:
        return {}
    found: dict[int, list[str]] = defaultdict(list)
    rows = session.exec(
        select(Segment.item_id, Segment.stage)
        .where(col(Segment.item_id).in_(item_ids))
        .order_by(col(Segment.item_id), col(Segment.idx))
    ).all()
    for item_id, stage in rows:
        found[item_id].append(stage)
    return {item_id: _distinct_stages(stages) for item_id, stages in found.items()}


def _public(item: Item, stages: list[str]) -> ItemPublic:
    assert item.id is not None
    return ItemPublic(
        id=item.id,
        source=item.source_id,
        external_id=item.external_id,
        channel=item.channel,
        occurred_at=item.occurred_at,
        text=item.text,
        rating=item.rating,
        rating_scale=item.rating_scale,
        customer=item.author_ref,
        attributes=item.attributes,
        sentiment=_sentiment(item),
        stage=_stage_call(item),
        stages=[s for s in _distinct_stages([item.stage, *stages]) if s != UNASSIGNED]
        or [UNASSIGNED],
        themes=list(item.themes),
        nlp_version=item.nlp_version,
    )
