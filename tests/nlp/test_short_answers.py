"""Short survey answers: non-answers and typed scores are neutral, faint praise and
faint complaint lean neutral, strong short answers keep their polarity."""

from __future__ import annotations

import pytest

from nlp.pipeline import PipelineEnricher
from nlp.short_answers import short_answer_kind


def _lower(enricher: PipelineEnricher, text: str) -> list[str]:
    return [t.lower_ for t in enricher.nlp.make_doc(text)]


@pytest.mark.parametrize(
    "text",
    ["N/A", "nothing", "Nothing.", "no comment", "-", "ok", "Can't think of anything", "idk"],
)
def test_a_non_answer_is_neutral_and_scores_zero(enricher: PipelineEnricher, text: str) -> None:
    assert short_answer_kind(_lower(enricher, text)) == "non_answer"
    result = enricher.enrich(text)
    assert result.sentiment.label == "neutral"
    assert result.sentiment.score == 0.0


@pytest.mark.parametrize("text", ["9", "8/10", "10 out of 10", "4 stars", "I gave 8", "7.5"])
def test_a_score_typed_as_text_is_neutral(enricher: PipelineEnricher, text: str) -> None:
    assert short_answer_kind(_lower(enricher, text)) == "score"
    assert enricher.enrich(text).sentiment.label == "neutral"


@pytest.mark.parametrize(
    "text", ["happy enough", "fine for now", "All fine", "a bit noisy at night", "could be faster"]
)
def test_faint_praise_and_complaint_lean_neutral(enricher: PipelineEnricher, text: str) -> None:
    assert short_answer_kind(_lower(enricher, text)) == "faint"
    assert enricher.enrich(text).sentiment.label == "neutral"


def test_faint_damps_but_keeps_the_sign(enricher: PipelineEnricher) -> None:
    faint = enricher.enrich("happy enough").sentiment.score
    plain = enricher.enrich("happy").sentiment.score
    assert 0 < faint < plain


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Really happy so far!", "positive"),  # an intensifier or "!" is not faint
        ("Couldn't be happier", "positive"),
        ("Top notch", "positive"),
        ("rubbish", "negative"),
        ("Charged twice!", "negative"),
        ("Nothing works", "negative"),  # a short complaint, not a non-answer
    ],
)
def test_strong_short_answers_keep_their_polarity(
    enricher: PipelineEnricher, text: str, label: str
) -> None:
    assert enricher.enrich(text).sentiment.label == label


def test_long_texts_are_not_short_answers(enricher: PipelineEnricher) -> None:
    text = "It was fine I guess, but the engineer came late and the router was broken"
    assert short_answer_kind(_lower(enricher, text)) == ""
    assert enricher.enrich(text).sentiment.label == "negative"


def test_the_project_short_answer_set_is_well_formed() -> None:
    import csv
    from pathlib import Path

    path = Path(__file__).parents[1] / "fixtures" / "short_answers" / "short_answers.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) >= 200
    assert {r["sentiment"] for r in rows} == {"negative", "neutral", "positive"}
    assert all(len(r["text"].split()) <= 10 for r in rows)
    assert len({r["text"].lower() for r in rows}) == len(rows)
