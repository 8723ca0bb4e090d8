"""`nlp train`: sampling, dev split, label checks, and a real (tiny) spaCy training run."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from nlp.cli import cli
from nlp.evaluation import Example, read_examples
from nlp.journey import load_journey
from nlp.training.blend import few_label_weight
from nlp.training.textcat import (
    TEXTCAT_PIPES,
    TrainingError,
    _split_dev,
    predict_textcat,
    sample_per_class,
    train_textcat,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "nlp_eval"


def examples_of(stages: str) -> list[Example]:
    return [Example(str(i), f"text {i}", None, stage) for i, stage in enumerate(stages)]


def test_sample_per_class_caps_each_class_and_keeps_file_order() -> None:
    examples = examples_of("aaaaabbbc") + [Example("x", "no label", None, None)]
    sample = sample_per_class(examples, "stage", 2, seed=0)
    counts = {label: [ex.stage for ex in sample].count(label) for label in "abc"}
    assert counts == {"a": 2, "b": 2, "c": 1}
    assert [int(ex.id) for ex in sample] == sorted(int(ex.id) for ex in sample)
    assert sample == sample_per_class(examples, "stage", 2, seed=0)
    other_seeds = {
        tuple(ex.id for ex in sample_per_class(examples, "stage", 2, seed=s)) for s in range(6)
    }
    assert len(other_seeds) > 1


def test_dev_split_is_stratified_or_skipped_for_small_classes() -> None:
    big = [(f"t{i}", "a" if i % 2 else "b") for i in range(200)]
    train, dev, held_out = _split_dev(big, 0.1, seed=0)
    assert held_out
    assert len(dev) == 20
    assert sorted(train + dev) == sorted(big)
    assert {label for _, label in dev} == {"a", "b"}
    small = big[:40]
    assert _split_dev(small, 0.1, seed=0) == (small, small, False)


def test_labels_are_checked_before_training(tmp_path: Path) -> None:
    journey = load_journey()
    with pytest.raises(TrainingError, match="at least two stage classes"):
        train_textcat(examples_of("aa"), task="stage", out_dir=tmp_path, journey=journey)
    bad = [Example("1", "x", None, "billing"), Example("2", "y", None, "loyalty")]
    with pytest.raises(TrainingError, match=r"\['loyalty'\] are not among"):
        train_textcat(bad, task="stage", out_dir=tmp_path, journey=journey)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dataset", "banking77", "--split", "test"], "tune split only"),
        (["--split", "test"], "refusing to train on the test split"),
        (["--ngram-size", "7"], "--ngram-size must be 1, 2, 3, 4 or auto"),
        (["--architecture", "lstm"], "--architecture must be bow or ensemble"),
    ],
)
def test_train_refuses_test_rows(tmp_path: Path, args: list[str], message: str) -> None:
    data = FIXTURES / ("banking77" if "banking77" in args else "train_stage.jsonl")
    result = CliRunner().invoke(
        cli,
        ["train", "--data", str(data), "--out", str(tmp_path / "m"), "--task", "stage", *args],
    )
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "m").exists()


def test_train_saves_a_pipeline_build_enricher_loads(tmp_path: Path) -> None:
    from nlp.pipeline import build_enricher

    out = tmp_path / "model"
    result = CliRunner().invoke(
        cli,
        [
            "train",
            "--data",
            str(FIXTURES / "train_stage.jsonl"),
            "--out",
            str(out),
            "--task",
            "stage",
            "--epochs",
            "10",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "lp_textcat_stage: 3 classes (onboard, support, billing)" in result.output
    journey = load_journey()
    n_journey = sum(
        len(stage.examples) + len(stage.phrases)
        for stage in journey.stages
        if stage.key in ("onboard", "support", "billing")
    )
    assert f"{12 + n_journey} train ({n_journey} from the journey) / 12 dev rows" in result.output
    assert "dev = train" in result.output
    assert "n-grams up to 1" in result.output  # auto, but no dev rows to choose with

    enricher = build_enricher(load_journey(), model_dir=out)
    pipe_names = enricher.nlp.pipe_names
    assert TEXTCAT_PIPES["stage"] in pipe_names
    assert pipe_names.index("lp_textcat_stage") < pipe_names.index("lp_sentiment")
    meta = enricher.nlp.meta["listening_path"]["textcat"]["lp_textcat_stage"]
    assert meta["labels"] == ["onboard", "support", "billing"]
    assert meta["trained_on"] == "generic:train_stage.jsonl:all"
    # 4 labels a class, no dev rows: the rules keep most of the say.
    assert meta["per_class_min"] == 4
    assert meta["blend_from"] == "labels"
    assert meta["blend_weight"] == pytest.approx(few_label_weight(4), abs=1e-4)
    assert enricher.enrich("Setup of the account failed.").text

    texts = [ex.text for ex in read_examples("generic", FIXTURES / "train_stage.jsonl")]
    predicted = [label for label, _ in predict_textcat(out, "stage", texts)]
    gold = ["billing"] * 4 + ["onboard"] * 4 + ["support"] * 4
    assert sum(p == g for p, g in zip(predicted, gold, strict=True)) >= 10


def test_blend_weight_is_fitted_on_dev_rows() -> None:
    """A model that always says billing loses to the rules on dev rows the rules get
    right, so the fitted weight keeps it out of the way where the rules have evidence."""
    from spacy.language import Language
    from spacy.tokens import Doc

    from nlp.pipeline import build_nlp
    from nlp.training.textcat import fit_blend_weight

    class AlwaysBilling:
        def __call__(self, doc: Doc) -> Doc:
            doc.cats.update({"billing": 0.9, "use": 0.1})
            return doc

    @Language.factory("stub_always_billing")
    def make(nlp: Language, name: str) -> AlwaysBilling:
        return AlwaysBilling()

    journey = load_journey()
    language = build_nlp(journey)
    language.add_pipe("stub_always_billing", name="lp_textcat_stage", before="lp_sentiment")
    language.meta["listening_path"] = {"textcat": {"lp_textcat_stage": {}}}
    dev = [
        ("The app keeps crashing and it crashed again.", "use"),
        ("The app crashes every time I open it.", "use"),
        ("I was charged twice on my invoice.", "billing"),
    ]
    weight, scores = fit_blend_weight(language, journey, "stage", "lp_textcat_stage", dev)
    assert scores["1.0"] < scores[f"{weight:.1f}"] == 1.0
    assert weight < 1.0


def test_ensemble_architecture_trains_and_loads(tmp_path: Path) -> None:
    """The bag of words + CNN ensemble needs no tok2vec pipe or word vectors: the saved
    pipeline loads and its classifier gives a probability per class."""
    from nlp.pipeline import build_enricher

    examples = list(read_examples("generic", FIXTURES / "train_stage.jsonl"))
    out = tmp_path / "ensemble"
    report = train_textcat(
        examples,
        task="stage",
        out_dir=out,
        journey=load_journey(),
        epochs=2,
        architecture="ensemble",
        use_journey=False,
    )
    enricher = build_enricher(load_journey(), model_dir=out)
    meta = enricher.nlp.meta["listening_path"]["textcat"]["lp_textcat_stage"]
    assert meta["architecture"] == "ensemble"
    assert report.blend_from == "labels"
    doc = enricher.nlp("Where is my invoice?")
    assert set(doc.cats) == {"onboard", "support", "billing"}
    assert sum(doc.cats.values()) == pytest.approx(1.0, abs=1e-4)
