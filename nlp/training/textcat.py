"""Train a spaCy text classifier on a team's own labels (`listening-path nlp train`).

spaCy's own training loop does the work (`spacy.cli.train.train` on a config made by
`spacy init config` for `textcat`, efficiency preset: a bag-of-words model, fast on
CPU). The tokenizer is the pipeline's own (read from `nlp.pipeline`), so the model
sees the same tokens at training and at run time.

What lands in `--out` (the directory `build_enricher(..., model_dir=DIR)` loads):
a complete pipeline, `spacy.load`-able, = the default pipeline for the journey (or the
`--base` model, so a stage and a sentiment model can be stacked) plus one `textcat`
pipe named `lp_textcat_stage` (labels: the journey's stage keys) or
`lp_textcat_sentiment` (labels: negative / neutral / positive), placed before
`lp_sentiment`, exclusive classes, `doc.cats` = class probabilities.
`meta.json["listening_path"]["textcat"][pipe]` records task, labels and what it was
trained on, and `blend_weight`: how far the pipeline trusts the model against the
rules (`nlp/training/blend.py` blends the two). With a held-out dev set the weight is fitted
on it through the full pipeline (so the saved model is the last epoch's, not the one
that scored best on those rows); without one (few labels) it follows from the labels
per class. A stage model also learns from the journey's example sentences and phrases
of the stages it is given labels for (`use_journey`). `predict_textcat` here reads
the classifier alone, for the learning curve.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from nlp.errors import TrainingError as TrainingError  # re-exported: its old home
from nlp.evaluation.datasets import SENTIMENT_LABELS, Example
from nlp.journey import Journey
from nlp.training.blend import META_KEY, few_label_weight

TrainTask = Literal["stage", "sentiment"]
Architecture = Literal["bow", "ensemble"]
ARCHITECTURES: tuple[Architecture, ...] = ("bow", "ensemble")
TEXTCAT_PIPES: dict[str, str] = {"stage": "lp_textcat_stage", "sentiment": "lp_textcat_sentiment"}
MIN_ROWS_FOR_DEV = 50
"""A held-out dev set (`dev_share` of each class) is only taken when every class has
this many rows; with fewer (K-shot training) the dev set is the training set itself
and the loop simply runs `epochs` epochs, keeping the last model."""


@dataclass(frozen=True, slots=True)
class TrainReport:
    out_dir: Path
    pipe: str
    task: TrainTask
    labels: tuple[str, ...]
    n_train: int
    """Training rows, journey rows included."""
    n_dev: int
    held_out_dev: bool
    n_journey: int
    """Rows taken from the journey's own examples and phrases (stage task)."""
    ngram_size: int
    dev_macro_f1: float | None
    blend_weight: float
    """The model's weight against the rules in the pipeline (`nlp.training.blend`)."""
    blend_from: str
    """'dev' (fitted on the held-out dev rows) or 'labels' (from the labels per class)."""
    seconds: float


def gold_of(example: Example, task: TrainTask) -> str | None:
    return example.stage if task == "stage" else example.sentiment


def sample_per_class(
    examples: Sequence[Example], task: TrainTask, k: int, *, seed: int = 0
) -> list[Example]:
    """Up to `k` labelled examples per class, drawn with `seed`, in file order."""
    rng = random.Random(seed)
    by_class: dict[str, list[int]] = {}
    for index, example in enumerate(examples):
        label = gold_of(example, task)
        if label is not None:
            by_class.setdefault(label, []).append(index)
    chosen: set[int] = set()
    for indexes in by_class.values():
        chosen.update(rng.sample(indexes, min(k, len(indexes))))
    return [examples[i] for i in sorted(chosen)]


def _labels(examples: Sequence[Example], task: TrainTask, journey: Journey) -> tuple[str, ...]:
    present = Counter(str(gold_of(ex, task)) for ex in examples if gold_of(ex, task) is not None)
    if len(present) < 2:
        raise TrainingError(
            f"need labelled examples of at least two {task} classes, found {dict(present)}"
        )
    known = journey.keys if task == "stage" else SENTIMENT_LABELS
    unknown = sorted(set(present) - set(known))
    if unknown:
        raise TrainingError(
            f"{task} labels {unknown} are not among {list(known)}"
            + (" (the journey's stage keys; pass --journey)" if task == "stage" else "")
        )
    return tuple(label for label in known if label in present)


def journey_rows(journey: Journey, labels: Sequence[str]) -> list[tuple[str, str]]:
    """The journey's example sentences and phrases, as (text, stage) rows, for the
    stages among `labels`: few-shot training starts from the journey's own words.
    (Measured on halves of tune rows only: airline, K = 20 per stage, mean of 3 draws,
    macro-F1 0.38 without, 0.41 with the examples, 0.45 with examples and phrases;
    banking77, all rows: 0.892 without, 0.885 with, so it matters for few labels.)"""
    rows: list[tuple[str, str]] = []
    for stage in journey.stages:
        if stage.key in labels:
            rows += [(text, stage.key) for text in (*stage.examples, *stage.phrases)]
    return rows


def _split_dev(
    pairs: list[tuple[str, str]], dev_share: float, seed: int
) -> tuple[list[tuple[str, str]], list[tuple[str, str]], bool]:
    """Stratified hold-out of `dev_share` of each class, or (pairs, pairs, False)."""
    by_class: dict[str, list[tuple[str, str]]] = {}
    for pair in pairs:
        by_class.setdefault(pair[1], []).append(pair)
    rng = random.Random(seed)
    train: list[tuple[str, str]] = []
    dev: list[tuple[str, str]] = []
    for rows in by_class.values():
        shuffled = rows[:]
        rng.shuffle(shuffled)
        n_dev = round(len(shuffled) * dev_share)
        if dev_share <= 0 or n_dev < 1 or len(shuffled) < MIN_ROWS_FOR_DEV:
            return pairs, pairs, False
        dev += shuffled[:n_dev]
        train += shuffled[n_dev:]
    return train, dev, True


def _ensemble_model(ngram_size: int) -> dict[str, Any]:
    """spaCy's TextCatEnsemble: the bag of words plus a small CNN over hashed word
    features (norm, prefix, suffix, shape), inline so the pipe needs no tok2vec pipe
    and no word vectors; width and depth kept small for CPU training. Measured on
    halves of the airline tune split (sentiment, 4,951 rows, 10 epochs): the
    classifier alone 0.643 macro-F1 vs 0.713 for the bag of words, blended with the
    rules 0.680 vs 0.737, in 1,057 s vs about 60 s of training; so `bow` stays the
    default and this is there for a team that measures it pays on its own data."""
    return {
        "@architectures": "spacy.TextCatEnsemble.v2",
        "nO": None,
        "tok2vec": {
            "@architectures": "spacy.Tok2Vec.v2",
            "embed": {
                "@architectures": "spacy.MultiHashEmbed.v2",
                "width": 96,
                "attrs": ["NORM", "PREFIX", "SUFFIX", "SHAPE"],
                "rows": [5000, 1000, 2500, 2500],
                "include_static_vectors": False,
            },
            "encode": {
                "@architectures": "spacy.MaxoutWindowEncoder.v2",
                "width": 96,
                "depth": 4,
                "window_size": 1,
                "maxout_pieces": 3,
            },
        },
        "linear_model": {
            "@architectures": "spacy.TextCatBOW.v3",
            "exclusive_classes": True,
            "ngram_size": ngram_size,
            "no_output_layer": False,
            "length": 262144,
            "nO": None,
        },
    }


def textcat_config(
    *,
    epochs: int,
    seed: int,
    eval_frequency: int,
    ngram_size: int = 1,
    architecture: Architecture = "bow",
) -> Any:  # thinc Config
    """`spacy init config` for textcat (efficiency: bag of words) with our tokenizer.

    `ngram_size` 1 vs 2, measured on halves of tune rows only (macro-F1): airline
    sentiment 0.725 vs 0.697, airline stage (all rows) 0.594 vs 0.576, airline stage
    (20 a class) 0.438 vs 0.450, banking77 stage 0.885 vs 0.904. About even, so by
    default `train_textcat` tries both and keeps the better on its own dev rows."""
    from spacy.cli.init_config import init_config

    from nlp.pipeline import pipeline_config

    config = init_config(lang="en", pipeline=["textcat"], optimize="efficiency")
    # The pipeline's own tokenizer, whatever version it is at.
    config["nlp"]["tokenizer"] = dict(pipeline_config()["nlp"]["tokenizer"])
    config["components"]["textcat"]["model"]["ngram_size"] = ngram_size
    if architecture == "ensemble":
        config["components"]["textcat"]["model"] = _ensemble_model(ngram_size)
    config["system"]["seed"] = seed
    training = config["training"]
    training["max_epochs"] = epochs
    training["max_steps"] = 0
    training["patience"] = 0
    training["eval_frequency"] = eval_frequency
    config["training"]["logger"] = {"@loggers": "spacy.ConsoleLogger.v1", "progress_bar": False}
    return config


def _train_once(
    work: Path,
    train_pairs: Sequence[tuple[str, str]],
    dev_pairs: Sequence[tuple[str, str]],
    labels: Sequence[str],
    *,
    epochs: int,
    seed: int,
    ngram_size: int,
    best: bool,
    quiet: bool,
    architecture: Architecture = "bow",
) -> tuple[Any, float | None]:
    """One run of spaCy's training loop; (the trained textcat pipeline, dev macro-F)."""
    import contextlib
    import io

    import spacy
    from spacy.cli.train import train
    from spacy.tokens import DocBin

    work.mkdir(parents=True, exist_ok=True)
    config = textcat_config(
        epochs=epochs,
        seed=seed,
        eval_frequency=max(20, len(train_pairs) // 50),
        ngram_size=ngram_size,
        architecture=architecture,
    )
    tokenizer_nlp = spacy.util.load_model_from_config(config, auto_fill=True)
    for name, rows in (("train", train_pairs), ("dev", dev_pairs)):
        bin_ = DocBin()
        for text, label in rows:
            doc = tokenizer_nlp.make_doc(text)
            doc.cats = {other: float(other == label) for other in labels}
            bin_.add(doc)
        bin_.to_disk(work / f"{name}.spacy")
    config_path = work / "config.cfg"
    config.to_disk(config_path)
    overrides = {"paths.train": str(work / "train.spacy"), "paths.dev": str(work / "dev.spacy")}
    if quiet:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            train(config_path, work / "trained", overrides=overrides)
    else:
        train(config_path, work / "trained", overrides=overrides)
    trained = spacy.load(work / "trained" / ("model-best" if best else "model-last"))
    score = trained.meta.get("performance", {}).get("cats_macro_f")
    return trained, float(score) if isinstance(score, int | float) else None


BLEND_GRID = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def fit_blend_weight(
    language: Any,
    journey: Journey,
    task: TrainTask,
    pipe: str,
    dev_pairs: Sequence[tuple[str, str]],
) -> tuple[float, dict[str, float]]:
    """The model's blend weight against the rules (`nlp.training.blend`) that scores best on
    the held-out dev rows, through the full pipeline; (weight, dev macro-F1 per weight).
    On a tie the larger weight wins (the team's own labels over generic rules)."""
    from nlp.enrichment import EnrichRequest
    from nlp.evaluation.metrics import classification_report
    from nlp.pipeline import PipelineEnricher

    info = language.meta[META_KEY]["textcat"][pipe]
    gold = [label for _, label in dev_pairs]
    present = sorted(set(gold))
    requests = [EnrichRequest(text=text) for text, _ in dev_pairs]
    scores: dict[str, float] = {}
    for weight in BLEND_GRID:
        info["blend_weight"] = weight
        enricher = PipelineEnricher(language, journey)
        predicted = [
            e.stage.stage if task == "stage" else e.sentiment.label
            for e in enricher.enrich_many(requests)
        ]
        scores[f"{weight:.1f}"] = round(
            classification_report(gold, predicted, labels=present).macro_f1, 4
        )
    best = max(BLEND_GRID, key=lambda w: (scores[f"{w:.1f}"], w))
    return best, scores


def _fit_embedding_classifier(
    component: Any,
    train_pairs: Sequence[tuple[str, str]],
    dev_pairs: Sequence[tuple[str, str]],
    labels: Sequence[str],
) -> dict[str, Any]:
    """Fit the embedding pipe (`nlp.training.embeddings`) on `train_pairs` (texts as the pipe
    sees them at run time, the redacting tokenizer's); with held-out `dev_pairs`, the
    `FIT_SETTINGS` entry that scores best on them alone, else `FEW_LABEL_FIT`. Returns
    what `meta.json` records of it."""
    from nlp.evaluation.metrics import classification_report
    from nlp.training.embeddings import FEW_LABEL_FIT, FIT_SETTINGS

    x = component.encode([text for text, _ in train_pairs])
    gold = [label for _, label in train_pairs]
    info: dict[str, Any] = {"encoder": component.encoder, "mix": component.mix}
    setting = FEW_LABEL_FIT
    if dev_pairs:
        x_dev = component.encode([text for text, _ in dev_pairs])
        dev_gold = [label for _, label in dev_pairs]
        present = sorted(set(dev_gold))
        scores: dict[str, float] = {}
        for candidate in FIT_SETTINGS:
            component.fit_vectors(x, gold, labels, candidate)
            probs = component.predict_vectors(x_dev)
            predicted = [labels[i] for i in probs.argmax(1)]
            scores[str(list(candidate))] = round(
                classification_report(dev_gold, predicted, labels=present).macro_f1, 4
            )
        # Best on the dev rows; on a tie the earlier (more penalised) setting.
        setting = max(FIT_SETTINGS, key=lambda c: (scores[str(list(c))], -FIT_SETTINGS.index(c)))
        info["fit_dev_scores"] = scores
    component.fit_vectors(x, gold, labels, setting)
    info["fit"] = list(setting)
    return info


def train_textcat(
    examples: Sequence[Example],
    *,
    task: TrainTask,
    out_dir: Path,
    journey: Journey,
    base_model: Path | None = None,
    epochs: int = 10,
    dev_share: float = 0.1,
    seed: int = 0,
    trained_on: str = "",
    use_journey: bool = True,
    ngram_size: int | None = None,
    architecture: Architecture = "bow",
    embeddings: str | None = None,
    quiet: bool = True,
) -> TrainReport:
    """Train a `textcat` on the labelled `examples` and save the full pipeline to
    `out_dir` (see the module docstring for what it holds). `ngram_size=None` trains
    with 1 and 2 and keeps the better on the held-out dev rows (1 without a dev set).
    `embeddings` (an encoder name, `nlp.training.embeddings.MINILM`; needs the `embeddings`
    install extra) also fits a classifier on sentence embeddings of the same rows and
    adds it as a pipe after the textcat, before the blend weight is fitted."""
    import spacy

    import nlp.factories  # noqa: F401  (registers the pipeline's tokenizer and pipes)
    from nlp.pipeline import build_nlp
    from nlp.training.embeddings import (
        EMBEDDING_PIPES,
        TASK_MIX,
        EmbeddingClassifier,
        EmbeddingsUnavailable,
        check_encoder,
    )

    if epochs < 1:
        raise TrainingError("epochs must be at least 1")
    if embeddings is not None:
        try:
            check_encoder(embeddings)  # before minutes of training, not after
        except EmbeddingsUnavailable as exc:
            raise TrainingError(str(exc)) from None
    labels = _labels(examples, task, journey)
    pairs = [(ex.text, str(gold_of(ex, task))) for ex in examples if gold_of(ex, task)]
    train_pairs, dev_pairs, held_out = _split_dev(pairs, dev_share, seed)
    extra = journey_rows(journey, labels) if use_journey and task == "stage" else []
    own_pairs = train_pairs  # the team's rows (the embedding model was measured on these)
    train_pairs = train_pairs + extra
    pipe = TEXTCAT_PIPES[task]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="lp-train-") as tmp:
        work = Path(tmp)
        sizes = [ngram_size] if ngram_size is not None else ([1, 2] if held_out else [1])
        candidates: list[tuple[float, int, Any]] = []
        for size in sizes:
            trained, dev_score = _train_once(
                work / f"ngram{size}",
                train_pairs,
                dev_pairs,
                labels,
                epochs=epochs,
                seed=seed,
                ngram_size=size,
                best=False,  # the dev rows must stay unseen for the blend weight
                quiet=quiet,
                architecture=architecture,
            )
            candidates.append((dev_score if dev_score is not None else -1.0, size, trained))
        # Highest dev score wins; on a tie the smaller (faster) n-gram size.
        best_score, chosen_size, trained = max(candidates, key=lambda c: (c[0], -c[1]))
        dev_score = best_score if best_score >= 0 else None
        base = spacy.load(base_model) if base_model is not None else build_nlp(journey)
        if pipe in base.pipe_names:
            base.remove_pipe(pipe)
        before = "lp_sentiment" if "lp_sentiment" in base.pipe_names else None
        base.add_pipe("textcat", name=pipe, source=trained, before=before)
        emb_pipe = EMBEDDING_PIPES[task]
        emb_info: dict[str, Any] = {}
        emb_component: EmbeddingClassifier | None = None
        if emb_pipe in base.pipe_names:  # one from the --base model would mix into the new one
            base.remove_pipe(emb_pipe)
        if embeddings is not None:
            component = base.add_pipe(
                "lp_embedding_classifier",
                name=emb_pipe,
                after=pipe,
                config={"encoder": embeddings, "mix": TASK_MIX[task]},
            )
            if not isinstance(component, EmbeddingClassifier):
                raise TypeError(f"pipe {emb_pipe!r} is not an EmbeddingClassifier")
            emb_component = component
            # Each text encoded once: the dev rows go through the pipeline once a weight.
            component.remember(True)
            emb_info = _fit_embedding_classifier(
                component,
                [(base.make_doc(text).text, label) for text, label in own_pairs],
                [(base.make_doc(text).text, label) for text, label in dev_pairs]
                if held_out
                else [],
                labels,
            )
        per_class = Counter(label for _, label in pairs)
        per_class_min = min(per_class[label] for label in labels)
        info = base.meta.setdefault(META_KEY, {}).setdefault("textcat", {})
        info[pipe] = {
            "task": task,
            "labels": list(labels),
            "n_train": len(train_pairs),
            "n_dev": len(dev_pairs),
            "held_out_dev": held_out,
            "journey_rows": len(extra),
            "trained_on": trained_on,
            "epochs": epochs,
            "ngram_size": chosen_size,
            "architecture": architecture,
            "embeddings": emb_info if embeddings is not None else None,
            "ngram_dev_scores": {str(size): score for score, size, _ in candidates},
            "seed": seed,
            "per_class_min": per_class_min,
        }
        if held_out:
            weight, weight_scores = fit_blend_weight(base, journey, task, pipe, dev_pairs)
            info[pipe]["blend_dev_scores"] = weight_scores
            blend_from = "dev"
        else:
            weight, blend_from = few_label_weight(per_class_min), "labels"
        if emb_component is not None:
            emb_component.remember(False)
        info[pipe]["blend_weight"] = round(weight, 4)
        info[pipe]["blend_from"] = blend_from
        out_dir.mkdir(parents=True, exist_ok=True)
        base.to_disk(out_dir)
    return TrainReport(
        out_dir=out_dir,
        pipe=pipe,
        task=task,
        labels=labels,
        n_train=len(train_pairs),
        n_dev=len(dev_pairs),
        held_out_dev=held_out,
        n_journey=len(extra),
        ngram_size=chosen_size,
        dev_macro_f1=dev_score,
        blend_weight=round(weight, 4),
        blend_from=blend_from,
        seconds=time.perf_counter() - start,
    )


def predict_textcat(
    model_dir: Path, task: TrainTask, texts: Sequence[str], *, batch_size: int = 256
) -> list[tuple[str, float]]:
    """(label, probability) of the trained classifier alone, per text (the other pipes
    are not run): what the learning curve measures."""
    import spacy

    import nlp.factories  # noqa: F401

    pipe = TEXTCAT_PIPES[task]
    language = spacy.load(model_dir)
    if pipe not in language.pipe_names:
        raise TrainingError(f"{model_dir} has no {pipe!r} pipe (pipes: {language.pipe_names})")
    others = [name for name in language.pipe_names if name != pipe]
    out: list[tuple[str, float]] = []
    with language.select_pipes(disable=others):
        for doc in language.pipe(texts, batch_size=batch_size):
            label, prob = max(doc.cats.items(), key=lambda item: item[1])
            out.append((label, float(prob)))
    return out
