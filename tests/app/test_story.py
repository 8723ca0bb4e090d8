from __future__ import annotations

from dataclasses import asdict

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.ingest.service import run_sync
from app.story.domain import Story
from app.story.service import build_story
from nlp.enrichment import Enricher
from nlp.journey import Journey
from tests.app.helpers import ListConnector, add_source, raw


def ingest(engine: Engine, enricher: Enricher, journey: Journey, *items: object) -> None:
    add_source(engine)
    result = run_sync(
        engine,
        source_id="src",
        connector=ListConnector([(list(items), [])]),  # type: ignore[list-item]
        enricher=enricher,
        journey=journey,
    )
    assert result.status == "succeeded"


def stage(story: Story, key: str) -> dict[str, object]:
    return next(asdict(s) for s in story.stages if s.key == key)


def test_two_stage_item_counts_once_in_each(
    engine: Engine, enricher: Enricher, journey: Journey
) -> None:
    ingest(
        engine,
        enricher,
        journey,
        raw(1, text="Setup was easy and quick. But the invoice was wrong and I was charged twice."),
    )
    with Session(engine) as session:
        story = build_story(session, journey=journey, date_from=None, date_to=None)
    onboard, billing = stage(story, "onboard"), stage(story, "billing")
    assert onboard["voices"] == billing["voices"] == 1
    assert onboard["sentiment"]["positive"] == 1  # type: ignore[index]
    assert billing["sentiment"]["negative"] == 1  # type: ignore[index]
    assert story.voices == 1
    assert sum(s.voices for s in story.stages) == 2


def test_hint_places_an_item_without_evidence(
    engine: Engine, enricher: Enricher, journey: Journey
) -> None:
    ingest(
        engine, enricher, journey, raw(1, text="Lovely people, thank you.", stage_hint="support")
    )
    with Session(engine) as session:
        story = build_story(session, journey=journey, date_from=None, date_to=None)
    assert stage(story, "support")["voices"] == 1
    assert story.unassigned == 0


def test_no_evidence_is_unassigned_not_forced(
    engine: Engine, enricher: Enricher, journey: Journey
) -> None:
    ingest(
        engine,
        enricher,
        journey,
        raw(1, text="Hello there."),
        raw(2, text="The invoice was wrong."),
    )
    with Session(engine) as session:
        story = build_story(session, journey=journey, date_from=None, date_to=None)
    assert story.voices == 2
    assert story.unassigned == 1
    assert sum(s.voices for s in story.stages) == 1


def test_customers_are_distinct_people(
    engine: Engine, enricher: Enricher, journey: Journey
) -> None:
    items = [raw(n, text=f"My invoice number {n} was wrong.") for n in (7, 14, 21, 3)]
    ingest(engine, enricher, journey, *items)  # raw() gives author c-{n % 7}: c-0 three times, c-3
    with Session(engine) as session:
        story = build_story(session, journey=journey, date_from=None, date_to=None)
    billing = stage(story, "billing")
    assert billing["voices"] == 4
    assert billing["customers"] == 2


def test_story_labels_are_the_pipelines_labels(
    engine: Engine, enricher: Enricher, journey: Journey
) -> None:
    texts = [
        "The invoice was wrong.",
        "My invoice arrived today.",
        "The invoice is clear and fair, thank you!",
        "I was charged twice and the refund never came.",
    ]
    ingest(engine, enricher, journey, *(raw(n, text=t) for n, t in enumerate(texts)))
    expected = {"negative": 0, "neutral": 0, "positive": 0}
    for text in texts:
        enrichment = enricher.enrich(text)
        if {seg.stage.stage for seg in enrichment.segments} == {"billing"}:
            expected[enrichment.sentiment.label] += 1
    assert sum(expected.values()) >= 3
    with Session(engine) as session:
        story = build_story(session, journey=journey, date_from=None, date_to=None)
    assert stage(story, "billing")["sentiment"] == {
        **expected,
        "mean": pytest.approx(
            stage(story, "billing")["sentiment"]["mean"]  # type: ignore[index]
        ),
    }


def test_top_phrases_carry_the_sentiment_of_the_voices_that_repeat_them(
    engine: Engine, enricher: Enricher, journey: Journey
) -> None:
    texts = [
        "The invoice was wrong again.",
        "This invoice was wrong, I was charged twice.",
        "The invoice is fine, nothing to add.",
        "Good invoice, clear and simple, thank you!",
        "Paid by direct debit as usual.",
    ]
    ingest(engine, enricher, journey, *(raw(n, text=t) for n, t in enumerate(texts)))
    expected = {"negative": 0, "neutral": 0, "positive": 0}
    for text in texts:
        enrichment = enricher.enrich(text)
        if "invoice" in enrichment.themes and enrichment.stage.stage == "billing":
            expected[enrichment.sentiment.label] += 1
    assert expected["negative"]
    assert expected["neutral"] or expected["positive"]
    with Session(engine) as session:
        story = build_story(session, journey=journey, date_from=None, date_to=None)
    phrases = {p["phrase"]: p for p in stage(story, "billing")["top_phrases"]}  # type: ignore[attr-defined]
    invoice = phrases["invoice"]
    assert invoice["count"] == sum(expected.values())
    mix = invoice["sentiment"]
    assert {k: mix[k] for k in expected} == expected
    assert -1.0 <= mix["mean"] <= 1.0


def test_top_phrases_merge_inflections_of_one_theme(
    engine: Engine, enricher: Enricher, journey: Journey
) -> None:
    """ "double charged" and "double charge" are one theme to a reader: one entry,
    each voice once, in the form most voices used."""
    texts = [
        "I was double charged this month.",
        "Double charged again on my bill.",
        "Another double charge on the invoice.",
        "I was double charged, then saw a double charge on the next bill too.",
    ]
    themes = [set(enricher.enrich(t).themes) for t in texts]
    assert "double charged" in themes[0]  # the premise: two forms of one theme
    assert "double charge" in themes[2]
    ingest(engine, enricher, journey, *(raw(n, text=t) for n, t in enumerate(texts)))
    with Session(engine) as session:
        story = build_story(session, journey=journey, date_from=None, date_to=None)
    phrases = {p["phrase"]: p for p in stage(story, "billing")["top_phrases"]}  # type: ignore[attr-defined]
    assert "double charge" not in phrases
    assert phrases["double charged"]["count"] == len(texts)
