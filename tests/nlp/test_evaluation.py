"""Evaluation harness: readers and split rules, metrics, runner (no spaCy needed)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from nlp.enrichment import (
    UNASSIGNED,
    Enrichment,
    EnrichRequest,
    Sentiment,
    SentimentLabel,
    StageDecision,
)
from nlp.evaluation import (
    STAGE_NAME_TO_KEY,
    DatasetError,
    Example,
    classification_report,
    evaluate,
    find_mapping,
    load_stage_mapping,
    read_examples,
    sha_test,
)
from nlp.evaluation.baseline import vader_baseline, vader_label
from nlp.evaluation.datasets import clothing_gold, vader_gold
from nlp.evaluation.runner import resolve_binary
from tests.conftest import DEFAULT_STAGE_KEYS

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "nlp_eval"
MAPPING = load_stage_mapping(FIXTURES / "journey_stage_mapping_proposal.csv")


def ids(examples: Iterable[Example]) -> list[str]:
    return [ex.id for ex in examples]


# --- split rule -----------------------------------------------------------------------


def test_sha_rule_matches_the_readme_formula_on_known_keys() -> None:
    # Values worked out once from int(sha256(key).hexdigest(), 16) % 10 < 3.
    expected = {
        "100000000000000001": False,
        "100000000000000003": True,
        "100000000000000004": True,
        "100000000000000008": True,
        "Battery died in a day.": True,
        "Friendly staff and quick service.": False,
    }
    for key, is_test in expected.items():
        assert sha_test(key) is is_test, key
        assert (int(hashlib.sha256(key.encode()).hexdigest(), 16) % 10 < 3) is is_test


# --- readers --------------------------------------------------------------------------


def test_airline_drops_repeated_ids_then_splits_by_id() -> None:
    folder = FIXTURES / "twitter-us-airline-sentiment"
    everything = read_examples("airline", folder, split="all", mapping=MAPPING)
    # ...002 (conflicting labels) and ...020 (exact duplicate) are dropped entirely.
    assert ids(everything) == [
        "100000000000000001",
        "100000000000000003",
        "100000000000000004",
        "100000000000000008",
        "100000000000000009",
        "100000000000000021",
    ]
    test = read_examples("airline", folder, split="test", mapping=MAPPING)
    tune = read_examples("airline", folder, split="tune", mapping=MAPPING)
    assert ids(tune) == ["100000000000000001"]
    assert sorted(ids(test) + ids(tune)) == sorted(ids(everything))
    by_id = {ex.id: ex for ex in test}
    assert by_id["100000000000000003"] == Example(
        "100000000000000003", "@FakeAir on hold for an hour, nobody answers", "negative", "support"
    )
    assert by_id["100000000000000004"].stage is None  # positive: no reason, no stage
    assert by_id["100000000000000008"].stage is None  # Can't Tell is unmapped
    assert by_id["100000000000000009"].stage == "purchase"
    assert by_id["100000000000000009"].text.endswith("book a seat,\ntwice")  # quoted newline
    assert by_id["100000000000000021"].stage == "onboard"


def test_airline_without_mapping_has_sentiment_only() -> None:
    examples = read_examples("airline", FIXTURES / "twitter-us-airline-sentiment", split="test")
    assert [ex.stage for ex in examples] == [None] * len(examples)
    assert [ex.sentiment for ex in examples] == [
        "negative",
        "positive",
        "negative",
        "negative",
        "negative",
    ]


def test_bitext_splits_by_file_and_maps_intents() -> None:
    folder = FIXTURES / "bitext-customer-service-intent"
    test = read_examples("bitext", folder, split="test", mapping=MAPPING)
    assert [(ex.text, ex.stage) for ex in test] == [
        ("i want to buy the blue kettle", "purchase"),
        ("send me my last invoice please", "billing"),
    ]
    tune = read_examples("bitext", folder, split="tune", mapping=MAPPING)
    assert [ex.stage for ex in tune] == ["renew", "advocate", "purchase"]
    assert tune[1].text == "where can i leave a review, please?"
    assert len(read_examples("bitext", folder, split="all", mapping=MAPPING)) == 5
    assert all(ex.sentiment is None for ex in tune)


def test_banking77_test_and_train_files() -> None:
    folder = FIXTURES / "banking77"
    test = read_examples("banking77", folder, split="test", mapping=MAPPING)
    assert [ex.stage for ex in test] == ["onboard", "billing"]
    tune = read_examples("banking77", folder, split="tune", mapping=MAPPING)
    assert [ex.stage for ex in tune] == ["discover", "support"]


def test_banking77_rejects_a_category_outside_categories_json(tmp_path: Path) -> None:
    (tmp_path / "categories.json").write_text('["card_arrival"]', encoding="utf-8")
    (tmp_path / "test.csv").write_text("text,category\nhi,made_up\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="made_up"):
        read_examples("banking77", tmp_path, split="test", mapping=MAPPING)


def test_unknown_label_in_mapping_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "test.csv").write_text("text,category\nhi,card_linking\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="'card_linking'.*add one"):
        read_examples("banking77", tmp_path, split="test", mapping=MAPPING)


def test_vader_band_and_text_split() -> None:
    folder = FIXTURES / "vader-ground-truth"
    test = read_examples("vader", folder, split="test")
    assert [(ex.id, ex.sentiment) for ex in test] == [
        ("tweets:1", "positive"),
        ("tweets:2", "negative"),
        ("tweets:3", "neutral"),
        ("amazonReviewSnippets:7", "negative"),
    ]
    one_file = read_examples("vader", folder / "tweets_GroundTruth.csv", split="tune")
    assert ids(one_file) == ["tweets:4"]
    assert [vader_gold(m) for m in (0.5, 0.49, -0.49, -0.5)] == [
        "positive",
        "neutral",
        "neutral",
        "negative",
    ]


def test_uci_binary_gold_per_file() -> None:
    folder = FIXTURES / "uci-sentiment-labelled-sentences"
    test = read_examples("uci", folder, split="test")
    assert [(ex.text, ex.sentiment) for ex in test] == [
        ("Battery died in a day.", "negative"),
        ("Works great, highly recommend.", "positive"),
        ("Cold food and rude waiter.", "negative"),
        ("Terrible sound, broke fast.", "negative"),
    ]
    yelp = read_examples("uci", folder / "yelp_labelled.csv", split="tune")
    assert [ex.text for ex in yelp] == ["Worst support ever."]


def test_clothing_stars_and_empty_reviews() -> None:
    folder = FIXTURES / "womens-clothing-reviews"
    everything = read_examples("clothing", folder, split="all")
    assert "clothing:2" not in ids(everything)  # no review text
    assert len(everything) == 7
    test = read_examples("clothing", folder, split="test")
    assert [(ex.id, ex.sentiment) for ex in test] == [
        ("clothing:0", "positive"),
        ("clothing:1", "positive"),
        ("clothing:4", "neutral"),
        ("clothing:5", "negative"),
        ("clothing:6", "negative"),
    ]
    assert [clothing_gold(s) for s in (1, 2, 3, 4, 5)] == [
        "negative",
        "negative",
        "neutral",
        "positive",
        "positive",
    ]


def test_generic_jsonl_defaults_to_all_rows() -> None:
    examples = read_examples("generic", FIXTURES / "generic.jsonl")
    assert examples == [
        Example("g1", "The invoice charged me twice.", "negative", "billing"),
        Example("g2", "Setup took five minutes, lovely.", "positive", "onboard"),
        Example("3", "Just a note with no labels.", None, None),
        Example("5", "No id here, so the line number is the id.", "neutral", None),
    ]
    # No split column: the text rule applies when a split is asked for.
    assert ids(read_examples("generic", FIXTURES / "generic.jsonl", split="test")) == ["g1"]


def test_generic_csv_split_column_wins() -> None:
    path = FIXTURES / "generic.csv"
    assert ids(read_examples("generic", path, split="test")) == ["c1", "c3"]
    assert ids(read_examples("generic", path, split="tune")) == ["c2"]
    assert ids(read_examples("generic", path, limit=2)) == ["c1", "c2"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"id": 1, "text": "ok"}\nnot json\n', r"generic\.jsonl:2: not valid JSON"),
        ('{"id": 1, "text": "  "}\n', r":1: 'text' is missing or empty"),
        ('{"text": "ok", "sentiment": "angry"}\n', r":1: sentiment 'angry' is not one of"),
        ("[1, 2]\n", r":1: expected a JSON object"),
    ],
)
def test_generic_bad_rows_name_the_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "generic.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DatasetError, match=message):
        read_examples("generic", path)


def test_missing_column_and_unknown_dataset_are_clear(tmp_path: Path) -> None:
    path = tmp_path / "Tweets.csv"
    path.write_text("tweet_id,text\n1,hi\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="missing column.*airline_sentiment"):
        read_examples("airline", path, split="all")
    with pytest.raises(DatasetError, match="unknown dataset 'imdb'; known: airline"):
        read_examples("imdb", path)


# --- the mapping ----------------------------------------------------------------------


def test_mapping_turns_stage_names_into_default_journey_keys() -> None:
    assert set(STAGE_NAME_TO_KEY.values()) == set(DEFAULT_STAGE_KEYS)
    assert MAPPING.stage_for("twitter-us-airline-sentiment", "Lost Luggage") == "onboard"
    assert MAPPING.stage_for("twitter-us-airline-sentiment", "Can't Tell") is None
    # Only negativereason rows count for the airline set.
    with pytest.raises(DatasetError):
        MAPPING.stage_for("twitter-us-airline-sentiment", "positive")
    assert find_mapping(FIXTURES / "banking77") == FIXTURES / "journey_stage_mapping_proposal.csv"
    assert find_mapping(FIXTURES / "banking77" / "test.csv") is not None


def test_mapping_rejects_an_unknown_stage_name(tmp_path: Path) -> None:
    path = tmp_path / "mapping.csv"
    path.write_text(
        "dataset,label_field,label,proposed_stage\nbanking77,category,x,loyalty\n",
        encoding="utf-8",
    )
    with pytest.raises(DatasetError, match=r"mapping\.csv:2: proposed_stage 'loyalty'"):
        load_stage_mapping(path)


# --- metrics --------------------------------------------------------------------------


def test_metrics_against_hand_computed_values() -> None:
    gold = ["a", "a", "a", "b", "b", "c"]
    pred = ["a", "a", "b", "b", UNASSIGNED, "a"]
    report = classification_report(gold, pred)
    scores = {s.label: s for s in report.per_class}
    assert scores["a"].precision == pytest.approx(2 / 3)
    assert scores["a"].recall == pytest.approx(2 / 3)
    assert scores["b"].precision == pytest.approx(1 / 2)
    assert scores["b"].f1 == pytest.approx(1 / 2)
    assert (scores["c"].precision, scores["c"].recall, scores["c"].f1) == (0.0, 0.0, 0.0)
    assert (scores["a"].support, scores["a"].predicted) == (3, 3)
    assert report.macro_f1 == pytest.approx((2 / 3 + 1 / 2 + 0) / 3)
    assert report.accuracy == pytest.approx(3 / 6)
    assert report.coverage == pytest.approx(5 / 6)
    assert report.confusion_columns == ("a", "b", "c", UNASSIGNED)
    assert report.confusion == ((2, 1, 0, 0), (0, 1, 0, 1), (1, 0, 0, 0))


def test_metrics_macro_is_over_gold_classes_only() -> None:
    report = classification_report(["x", "y"], ["z", "y"], labels=["y", "x"])
    assert report.labels == ("y", "x")
    assert report.macro_f1 == pytest.approx(0.5)
    assert report.confusion_columns == ("y", "x", "z")
    assert report.confusion == ((1, 0, 0), (0, 0, 1))
    ordered = classification_report(["x"], ["q"], labels=["x"], order=["x", "z", "q"])
    assert ordered.confusion_columns == ("x", "q")
    three = classification_report(["x", "x", "x"], ["q", "z", "a"], order=["z", "q"])
    assert three.confusion_columns == ("x", "z", "q", "a")
    with pytest.raises(ValueError, match="not in labels"):
        classification_report(["x", "q"], ["x", "q"], labels=["x"])
    with pytest.raises(ValueError, match="2 gold labels but 1 predictions"):
        classification_report(["x", "y"], ["x"])


# --- runner ---------------------------------------------------------------------------


class TableEnricher:
    """Answers from a fixed table: text -> (sentiment label, score, stage)."""

    def __init__(self, table: dict[str, tuple[SentimentLabel, float, str]]) -> None:
        self.table = table
        self.seen: list[str] = []

    @property
    def version(self) -> str:
        return "table-1"

    def enrich(self, text: str, *, stage_hint: str | None = None) -> Enrichment:
        self.seen.append(text)
        label, score, stage = self.table[text]
        return Enrichment(
            text=text,
            sentiment=Sentiment(score, label),
            stage=StageDecision(stage, 0.9 if stage != UNASSIGNED else 0.0, "table"),
            segments=(),
        )

    def enrich_many(
        self, requests: Iterable[EnrichRequest], *, batch_size: int = 256
    ) -> Iterator[Enrichment]:
        for request in requests:
            yield self.enrich(request.text, stage_hint=request.stage_hint)


def test_evaluate_scores_both_tasks_and_skips_unlabelled() -> None:
    examples = [
        Example("1", "late again", "negative", "use"),
        Example("2", "on hold forever", "negative", "support"),
        Example("3", "thanks!", "positive", None),
        Example("4", "hello", None, None),
    ]
    enricher = TableEnricher(
        {
            "late again": ("negative", -0.6, "use"),
            "on hold forever": ("neutral", 0.0, UNASSIGNED),
            "thanks!": ("positive", 0.8, UNASSIGNED),
        }
    )
    result = evaluate(
        enricher, examples, dataset="t", split="test", stage_order=("support", "use", "billing")
    )
    assert enricher.seen == ["late again", "on hold forever", "thanks!"]
    assert result.n_examples == 3
    assert result.items_per_second > 0
    assert result.stage_coverage_all == pytest.approx(1 / 3)
    assert result.sentiment is not None
    assert result.sentiment.report.labels == ("negative", "neutral", "positive")
    assert result.sentiment.report.accuracy == pytest.approx(2 / 3)
    assert result.stage is not None
    assert result.stage.report.labels == ("support", "use")  # journey order, gold present
    assert result.stage.report.macro_f1 == pytest.approx(0.5)
    assert result.stage.report.coverage == pytest.approx(1 / 2)


def test_evaluate_binary_gold_resolves_neutral_by_score_sign() -> None:
    examples = [
        Example("1", "meh", "positive", None),
        Example("2", "hmm", "negative", None),
        Example("3", "bad", "negative", None),
    ]
    enricher = TableEnricher(
        {
            "meh": ("neutral", 0.0, UNASSIGNED),
            "hmm": ("neutral", -0.01, UNASSIGNED),
            "bad": ("positive", 0.2, UNASSIGNED),
        }
    )
    result = evaluate(
        enricher, examples, dataset="uci", split="test", task="sentiment", binary_sentiment=True
    )
    assert result.sentiment is not None
    assert result.sentiment.report.labels == ("negative", "positive")
    assert result.sentiment.report.accuracy == pytest.approx(2 / 3)
    assert result.sentiment.strict_accuracy == 0.0
    assert result.stage is None
    assert resolve_binary("negative", 0.9) == "negative"


def test_evaluate_notes_gold_stages_the_journey_cannot_predict() -> None:
    examples = [Example("1", "x", None, "loyalty")]
    enricher = TableEnricher({"x": ("neutral", 0.0, UNASSIGNED)})
    result = evaluate(enricher, examples, dataset="g", split="all", stage_order=("use",))
    assert any("loyalty" in note for note in result.notes)
    assert result.sentiment is None


def test_vader_baseline_labels_with_the_005_band() -> None:
    assert [vader_label(c) for c in (0.05, 0.049, -0.049, -0.05)] == [
        "positive",
        "neutral",
        "neutral",
        "negative",
    ]
    baseline = vader_baseline(["I love this, it is great!", "This is awful and I hate it."])
    assert baseline.labels == ("positive", "negative")
    assert baseline.seconds >= 0
