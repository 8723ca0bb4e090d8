"""`nlp evaluate` and `nlp annotate` through typer's CliRunner, with a fake enricher."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import nlp.cli
from nlp.cli import cli
from nlp.enrichment import (
    UNASSIGNED,
    Enrichment,
    EnrichRequest,
    SegmentEnrichment,
    Sentiment,
    StageDecision,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "nlp_eval"

STAGE_WORDS = {"invoice": "billing", "hold": "support", "setup": "onboard", "book": "purchase"}


def _sentiment(text: str) -> Sentiment:
    lowered = text.lower()
    if any(word in lowered for word in ("thanks", "love", "easy", "great")):
        return Sentiment(0.7, "positive")
    if any(word in lowered for word in ("wrong", "hold", "ugh", "never")):
        return Sentiment(-0.6, "negative")
    return Sentiment(0.0, "neutral")


def _stage(text: str, hint: str | None) -> StageDecision:
    for word, stage in STAGE_WORDS.items():
        if word in text.lower():
            return StageDecision(stage, 0.8, "phrase", (word,))
    if hint:
        return StageDecision(hint, 1.0, "hint")
    return StageDecision(UNASSIGNED, 0.0, "none")


class KeywordEnricher:
    """Splits on '. ', one keyword rule per sentence; 'EXPLODE' makes it raise."""

    @property
    def version(self) -> str:
        return "keyword-test"

    def enrich(self, text: str, *, stage_hint: str | None = None) -> Enrichment:
        if "EXPLODE" in text:
            raise RuntimeError("boom")
        segments = []
        start = 0
        for index, part in enumerate(re.split(r"(?<=\.) ", text)):
            start = text.index(part, start)
            segments.append(
                SegmentEnrichment(
                    index,
                    start,
                    start + len(part),
                    part,
                    _sentiment(part),
                    _stage(part, stage_hint),
                )
            )
            start += len(part)
        return Enrichment(
            text=text,
            sentiment=_sentiment(text),
            stage=_stage(text, stage_hint),
            segments=tuple(segments),
        )

    def enrich_many(
        self, requests: Iterable[EnrichRequest], *, batch_size: int = 256
    ) -> Iterator[Enrichment]:
        for request in requests:
            yield self.enrich(request.text, stage_hint=request.stage_hint)


@pytest.fixture(autouse=True)
def fake_pipeline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nlp.cli, "make_enricher", lambda *args, **kwargs: KeywordEnricher())


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_annotate_round_trip_keeps_order_and_reports_bad_lines(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(
        cli, ["annotate", "--in", str(FIXTURES / "annotate_in.jsonl"), "--out", str(out)]
    )
    assert result.exit_code == 1, result.output
    records = read_jsonl(out)
    assert [r["id"] for r in records] == ["a1", 2, None, "a4", "a5"]
    assert "line 3: not valid JSON" in records[2]["error"]
    assert records[3] == {"id": "a4", "error": "line 5: 'text' must be a non-empty string"}
    assert "line 3" in result.output
    assert "line 5" in result.output
    assert "5 lines written" in result.output
    assert "2 with errors" in result.output

    first = records[0]
    assert set(first) == {
        "id",
        "text",
        "sentiment",
        "sentiment_score",
        "stage",
        "stage_confidence",
        "stage_evidence",
        "segments",
    }
    assert (first["stage"], first["stage_evidence"]) == ("billing", ["invoice"])
    source = "The invoice was wrong. Support fixed it quickly, thanks!"
    assert [(s["stage"], s["sentiment"]) for s in first["segments"]] == [
        ("billing", "negative"),
        (UNASSIGNED, "positive"),
    ]
    for segment in first["segments"]:
        assert source[segment["start"] : segment["end"]] == segment["text"]
        assert set(segment) == {
            "text",
            "start",
            "end",
            "sentiment",
            "sentiment_score",
            "stage",
            "stage_confidence",
        }
    assert records[1]["stage"] == "onboard"
    assert records[4]["sentiment"] == "positive"


def test_annotate_passes_the_stage_hint(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "h", "text": "No keywords.", "stage_hint": "renew"}\n', "utf-8")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(cli, ["annotate", "--in", str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert read_jsonl(out)[0]["stage"] == "renew"


def test_annotate_survives_an_item_the_pipeline_fails_on(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    lines = [{"id": i, "text": f"Setup number {i}."} for i in range(5)]
    lines[2]["text"] = "EXPLODE here"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines), "utf-8")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(
        cli, ["annotate", "--in", str(source), "--out", str(out), "--batch-size", "2"]
    )
    assert result.exit_code == 1
    records = read_jsonl(out)
    assert [r["id"] for r in records] == [0, 1, 2, 3, 4]
    assert records[2]["error"].startswith("line 3: enrichment failed")
    assert [r.get("stage") for r in records if r["id"] != 2] == ["onboard"] * 4


def test_annotate_refuses_to_overwrite_its_input(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": 1, "text": "hi"}\n', "utf-8")
    result = CliRunner().invoke(cli, ["annotate", "--in", str(source), "--out", str(source)])
    assert result.exit_code == 2
    assert "--out must differ from --in" in result.output
    assert source.read_text("utf-8") == '{"id": 1, "text": "hi"}\n'


def test_evaluate_airline_json(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "evaluate",
            "--dataset",
            "airline",
            "--path",
            str(FIXTURES / "twitter-us-airline-sentiment"),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    # Test split: 5 tweets; the mapping next to the fixtures gives 3 of them a stage.
    assert (data["split"], data["n_examples"]) == ("test", 5)
    stage = data["stage"]["report"]
    assert stage["labels"] == ["purchase", "onboard", "support"]  # journey order
    # purchase ("book") and support ("hold") found, onboard (lost bag) unassigned.
    assert stage["macro_f1"] == pytest.approx(2 / 3)
    assert stage["coverage"] == pytest.approx(2 / 3)
    sentiment = data["sentiment"]["report"]
    assert sentiment["n"] == 5
    # Gold neg, pos, neg, neg, neg; predicted neg (hold), pos (thanks), neg (ugh),
    # neutral (book a seat), neg (never): 4 of 5 right.
    assert sentiment["accuracy"] == pytest.approx(4 / 5)


def test_evaluate_prints_tables(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "evaluate",
            "--dataset",
            "uci",
            "--path",
            str(FIXTURES / "uci-sentiment-labelled-sentences"),
            "--task",
            "sentiment",
        ],
    )
    assert result.exit_code == 0, result.output
    for expected in ("uci (test split)", "macro-F1", "accuracy (neutral wrong)", "confusion"):
        assert expected in result.stdout


def test_evaluate_generic_with_limit() -> None:
    result = CliRunner().invoke(
        cli,
        [
            "evaluate",
            "--dataset",
            "generic",
            "--path",
            str(FIXTURES / "generic.jsonl"),
            "--limit",
            "2",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["split"], data["n_examples"]) == ("all", 2)
    assert data["stage"]["report"]["per_class"][0]["label"] == "onboard"


def test_evaluate_bad_path_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["evaluate", "--dataset", "bitext", "--path", str(tmp_path / "nope")]
    )
    assert result.exit_code == 2
    assert "does not exist" in result.output
    empty = tmp_path / "bitext"
    empty.mkdir()
    result = CliRunner().invoke(
        cli,
        ["evaluate", "--dataset", "bitext", "--path", str(empty), "--task", "stage"],
    )
    assert result.exit_code == 2
    assert "pass --mapping" in result.output
