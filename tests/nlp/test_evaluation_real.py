"""The harness end to end with real enrichers: the bench on the fixture eval folder,
and `annotate` through the shipped pipeline (spaCy blank English, nothing downloaded)."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest
from typer.testing import CliRunner

from nlp.cli import cli

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "nlp_eval"


def load_bench(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location("nlp_eval_bench", ROOT / "bench" / "nlp_eval.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look it up
    spec.loader.exec_module(module)
    return module


def test_bench_on_vader_reproduces_the_baseline_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "table.md"
    bench = load_bench(monkeypatch)
    assert bench.main(["--eval-dir", str(FIXTURES), "--enricher", "vader", "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert re.search(r"Commit `[0-9a-f]{12}", text)
    rows = [line for line in text.splitlines() if line.startswith("| airline tweets | 5 | 3-class")]
    assert len(rows) == 1
    cells = [cell.strip() for cell in rows[0].split("|")]
    assert cells[4] == cells[5]  # pipeline column == VADER column for the VADER enricher
    assert "| UCI Yelp | 2 | accuracy |" in text
    assert "| banking77 (7 stages) | 2 |" in text


def test_annotate_with_the_shipped_pipeline(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    lines = [
        {"id": 1, "text": "Setup was easy but the invoice was wrong. Mail me at a@b.example."},
        {"id": 2, "text": "Thanks!", "stage_hint": "advocate"},
    ]
    source.write_text("".join(json.dumps(line) + "\n" for line in lines), "utf-8")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(cli, ["annotate", "--in", str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [r["id"] for r in records] == [1, 2]
    assert "a@b.example" not in out.read_text("utf-8")  # redacted before it is written
    for record in records:
        assert record["sentiment"] in ("negative", "neutral", "positive")
        assert -1.0 <= record["sentiment_score"] <= 1.0
        for segment in record["segments"]:
            assert record["text"][segment["start"] : segment["end"]] == segment["text"]
    assert len(records[0]["segments"]) >= 2
    assert records[1]["stage"] == "advocate"


@pytest.mark.parametrize("dataset", ["airline", "bitext"])
def test_evaluate_with_the_shipped_pipeline(dataset: str) -> None:
    folder = {"airline": "twitter-us-airline-sentiment", "bitext": "bitext-customer-service-intent"}
    result = CliRunner().invoke(
        cli,
        ["evaluate", "--dataset", dataset, "--path", str(FIXTURES / folder[dataset]), "--json"],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["n_examples"] > 0
    assert data["items_per_second"] > 0
    assert 0.0 <= data["stage"]["report"]["macro_f1"] <= 1.0


def test_evaluate_with_a_bad_model_dir_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "evaluate",
            "--dataset",
            "uci",
            "--path",
            str(FIXTURES / "uci-sentiment-labelled-sentences"),
            "--model",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 2
    assert "is not a saved pipeline" in result.output
