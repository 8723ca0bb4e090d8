"""What the detectors read: each stage's daily numbers and phrase counts from the
rollups (summed over channels and sources), never sentences."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, case, func, select
from sqlalchemy.engine import Connection

from app.alerts.detectors import Day
from app.models import table as _t


def latest_day(conn: Connection) -> date | None:
    daily = _t("stage_daily")
    value = conn.execute(select(func.max(daily.c.day))).scalar()
    return value if value is None or isinstance(value, date) else date.fromisoformat(str(value))


def stage_series(conn: Connection, start: date, stop: date) -> dict[str, dict[date, Day]]:
    """Per stage, per day in [start, stop]: voices, negatives and NPS counts."""
    daily = _t("stage_daily")
    c = daily.c
    rows = conn.execute(
        select(
            c.stage,
            c.day,
            func.sum(c.voices),
            func.sum(c.negative),
            func.sum(c.nps_answers),
            func.sum(c.promoters),
            func.sum(c.detractors),
        )
        .where(c.day >= start, c.day <= stop)
        .group_by(c.stage, c.day)
    )
    out: dict[str, dict[date, Day]] = defaultdict(dict)
    for stage, day, voices, negative, answers, promoters, detractors in rows:
        out[stage][day] = Day(
            int(voices), int(negative), int(answers), int(promoters), int(detractors)
        )
    return out


def phrase_series(
    conn: Connection, stage: str, start: date, stop: date, *, days: set[date]
) -> dict[str, dict[date, int]]:
    """Per phrase said on one of `days` in the stage: voices saying it per day."""
    themes = _t("stage_daily_themes")
    c = themes.c
    said = select(c.theme).where(c.stage == stage, c.day.in_(sorted(days))).distinct()
    rows = conn.execute(
        select(c.theme, c.day, func.sum(c.voices))
        .where(c.stage == stage, c.day >= start, c.day <= stop, c.theme.in_(said))
        .group_by(c.theme, c.day)
    )
    out: dict[str, dict[date, int]] = defaultdict(dict)
    for theme, day, voices in rows:
        out[theme][day] = int(voices)
    return out


def top_phrases(conn: Connection, stage: str, day: date, limit: int = 5) -> list[dict[str, object]]:
    themes = _t("stage_daily_themes")
    c = themes.c
    rows = conn.execute(
        select(c.theme, func.sum(c.voices).label("voices"), func.sum(c.negative))
        .where(c.stage == stage, c.day == day)
        .group_by(c.theme)
        .order_by(func.sum(c.voices).desc(), c.theme)
        .limit(limit)
    )
    return [
        {"phrase": theme, "count": int(voices), "negative": int(negative)}
        for theme, voices, negative in rows
    ]


def touchpoint_series(
    conn: Connection, attribute: str, start: date, stop: date
) -> dict[str, dict[date, Day]]:
    """Per value of a touchpoint attribute, per day: the items' NPS counts (each item
    once, whatever its stages)."""
    from app.feeds.repository import iso_day
    from app.readmodel.attributes import attribute_text

    items = _t("items")
    c = items.c
    dialect = conn.dialect.name
    value = attribute_text(c.attributes, attribute, dialect)
    day = iso_day(c.occurred_at, dialect)
    nps = c.rating_scale == "nps_0_10"
    rows = conn.execute(
        select(
            value,
            day,
            func.count(),
            func.sum(case((nps, 1), else_=0)),
            func.sum(case((and_(nps, c.rating >= 9), 1), else_=0)),
            func.sum(case((and_(nps, c.rating <= 6), 1), else_=0)),
        )
        .where(
            c.occurred_at >= _midnight(start),
            c.occurred_at < _midnight(stop + timedelta(days=1)),
            value.is_not(None),
        )
        .group_by(value, day)
    )
    out: dict[str, dict[date, Day]] = defaultdict(dict)
    for name, when, voices, answers, promoters, detractors in rows:
        out[str(name)][date.fromisoformat(str(when))] = Day(
            int(voices), 0, int(answers or 0), int(promoters or 0), int(detractors or 0)
        )
    return out


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)
