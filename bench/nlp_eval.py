"""The NLP evaluation table in one command, as Markdown for the README.

    .venv/bin/python bench/nlp_eval.py [--eval-dir ../shared/eval] [--out FILE]

Runs the default pipeline over the test split of every set in the eval folder (splits
exactly as its README defines; nothing is tuned on them), scores sentiment and journey
stage, and in the same run scores bare vaderSentiment (compound +-0.05) on the same
texts, for the sentiment baseline and for the speed ratio. Prints the Markdown and,
with --out, writes it to a file; the header names the git commit measured.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import gc
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # running as `python bench/nlp_eval.py`
    sys.path.insert(0, str(REPO))

from nlp.enrichment import Enricher, EnrichRequest  # noqa: E402
from nlp.evaluation.baseline import VaderEnricher, vader_baseline  # noqa: E402
from nlp.evaluation.datasets import (  # noqa: E402
    DATASETS,
    MAPPING_FILE_NAME,
    VADER_NEUTRAL_BAND,
    Example,
    StageMapping,
    load_stage_mapping,
    read_examples,
)
from nlp.evaluation.metrics import classification_report  # noqa: E402
from nlp.evaluation.runner import EvalResult, evaluate, score_sentiment  # noqa: E402
from nlp.journey import load_journey  # noqa: E402

if TYPE_CHECKING:
    from nlp.training.textcat import TrainTask


@dataclass(frozen=True)
class Source:
    """One file or folder of the eval set, scored on its test split."""

    label: str
    dataset: str
    relative: str
    """Under the eval folder (an absolute path is used as it is)."""
    sentiment_target: float | None = None
    stage_target: float | None = None
    timed: bool = True
    """Counted in the speed rows (the project's own small sets are not, so the speed
    rows time the same texts as before they were added)."""


SHORT_ANSWERS = REPO / "tests" / "fixtures" / "short_answers" / "short_answers.csv"

SOURCES = (
    Source("airline tweets", "airline", "twitter-us-airline-sentiment", 0.70, 0.60),
    Source("VADER ground truth: tweets", "vader", "vader-ground-truth/tweets_GroundTruth.csv"),
    Source(
        "VADER ground truth: Amazon snippets",
        "vader",
        "vader-ground-truth/amazonReviewSnippets_GroundTruth.csv",
        0.65,
    ),
    Source("UCI Amazon", "uci", "uci-sentiment-labelled-sentences/amazon_cells_labelled.csv", 0.85),
    Source("UCI Yelp", "uci", "uci-sentiment-labelled-sentences/yelp_labelled.csv", 0.85),
    Source("clothing reviews", "clothing", "womens-clothing-reviews", 0.60),
    Source("Bitext (8 stages)", "bitext", "bitext-customer-service-intent", None, 0.70),
    Source("banking77 (7 stages)", "banking77", "banking77", None, 0.50),
    Source(
        "short survey answers (the project's own, tests/fixtures/short_answers)",
        "generic",
        str(SHORT_ANSWERS),
        timed=False,
    ),
)
"""Targets are issue 20's (test splits, never tuned on)."""
TIMED = tuple(source for source in SOURCES if source.timed)

SPEED_TARGET = 0.5


@dataclass(frozen=True)
class Measured:
    source: Source
    result: EvalResult
    vader_macro_f1: float | None
    vader_accuracy: float | None
    vader_seconds: float


def git_commit() -> str:
    def run(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True, check=False
        ).stdout.strip()

    commit = run("rev-parse", "--short=12", "HEAD") or "unknown"
    status = run("status", "--porcelain", "--", "nlp", "bench").splitlines()
    dirty = [line.split(maxsplit=1)[-1] for line in status if line.strip()]
    if not dirty:
        return commit
    shown = ", ".join(dirty[:4]) + (f" and {len(dirty) - 4} more" if len(dirty) > 4 else "")
    return f"{commit}` + uncommitted `{shown}"


def build(args: argparse.Namespace) -> Enricher:
    if args.enricher == "vader":
        return VaderEnricher()
    from nlp.cli import make_enricher

    return make_enricher(args.journey, args.model, args.stage_threshold)


def measure(
    enricher: Enricher,
    source: Source,
    eval_dir: Path,
    mapping: StageMapping,
    stage_order: Sequence[str],
    limit: int | None,
) -> Measured:
    spec = DATASETS[source.dataset]
    examples = read_examples(
        source.dataset, eval_dir / source.relative, split="test", mapping=mapping, limit=limit
    )
    # a team's own file (generic) may hold one kind of label only
    has_sentiment = spec.has_sentiment and any(ex.sentiment is not None for ex in examples)
    has_stage = spec.has_stage and any(ex.stage is not None for ex in examples)
    result = evaluate(
        enricher,
        examples,
        dataset=source.dataset,
        split="test",
        task="both" if has_sentiment and has_stage else ("sentiment" if has_sentiment else "stage"),
        binary_sentiment=spec.binary_sentiment,
        stage_order=stage_order,
    )
    used = [ex for ex in examples if ex.sentiment is not None or ex.stage is not None]
    baseline = vader_baseline([ex.text for ex in used])
    macro = accuracy = None
    labelled = [
        (str(ex.sentiment), label, score)
        for ex, label, score in zip(used, baseline.labels, baseline.scores, strict=True)
        if ex.sentiment is not None
    ]
    if labelled:
        gold, labels, scores = zip(*labelled, strict=True)
        scored = score_sentiment(gold, labels, scores, binary=spec.binary_sentiment)
        macro, accuracy = scored.report.macro_f1, scored.report.accuracy
    return Measured(source, result, macro, accuracy, baseline.seconds)


@dataclass(frozen=True)
class Steady:
    """Speed once the pipeline's caches hold what a running service has seen."""

    texts: int
    warm_texts: int
    pipeline_per_s: float
    vader_per_s: float
    ratio: float
    ratios: tuple[float, ...]
    reference_ratio: float | None = None
    """With --steady-reference: the same measure for the separate components
    (`PipelineEnricher(fused=False)`), timed on parts alternating with the fused ones."""
    reference_ratios: tuple[float, ...] = ()


def steady_speed(args: argparse.Namespace, eval_dir: Path, rounds: int = 3) -> Steady:
    """A running service has seen lots of text, but not the text it enriches next.

    In a fresh process (this script with `--steady-child`), so no cache holds a test
    text from the cold pass: enrich every tune-split text of the sets first (off the
    clock, results dropped), then time the test texts in `rounds` disjoint parts, each
    part once through VADER and once through the pipeline, in CPU time of that process
    (the machine is shared). Every timed text is new to the pipeline, as in a service;
    timing the same texts again would read them from warm caches and flatter the
    pipeline (an earlier version of this row did: 0.51x where unseen text gives ~0.4x).
    The median part's ratio is reported."""
    import json

    if args.steady_reference:
        rounds = max(rounds, 8)
    command = [sys.executable, str(Path(__file__).resolve()), "--steady-child", str(rounds)]
    if args.steady_reference:
        command.append("--steady-reference")
    command += ["--eval-dir", str(eval_dir)]
    for flag, value in (
        ("--journey", args.journey),
        ("--model", args.model),
        ("--stage-threshold", args.stage_threshold),
        ("--limit", args.limit),
    ):
        if value is not None:
            command += [flag, str(value)]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    data = json.loads(out.strip().splitlines()[-1])
    rows = [(float(v), float(p)) for v, p in data["rows"]]
    reference = sorted((float(v) / float(p) for v, p in data.get("reference", [])), key=float)
    rows.sort(key=lambda vp: vp[0] / vp[1])
    texts = int(data["texts"])
    vader_s = sum(v for v, _ in rows)
    pipe_s = sum(p for _, p in rows)
    median_vader, median_pipe = rows[len(rows) // 2]
    return Steady(
        texts=texts,
        warm_texts=int(data["warm"]),
        pipeline_per_s=int(data["timed"]) / pipe_s,
        vader_per_s=int(data["timed"]) / vader_s,
        ratio=median_vader / median_pipe,
        ratios=tuple(v / p for v, p in rows),
        reference_ratio=reference[len(reference) // 2] if reference else None,
        reference_ratios=tuple(reference),
    )


def steady_child(args: argparse.Namespace, eval_dir: Path, rounds: int) -> int:
    """The measurement `steady_speed` starts in its own process; prints one JSON line."""
    import json

    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    enricher = build(args)
    separate: Enricher | None = None
    if args.steady_reference:
        from nlp.pipeline import PipelineEnricher

        assert isinstance(enricher, PipelineEnricher)
        # the same spaCy pipeline (and its memos), run as the separate components
        separate = PipelineEnricher(enricher.nlp, enricher.journey, fused=False)
    gc.freeze()  # as app.runtime does once the pipeline is built
    warm = 0
    for source in TIMED:
        tune = read_examples(
            source.dataset, eval_dir / source.relative, split="tune", limit=args.limit
        )
        for _ in enricher.enrich_many(EnrichRequest(text=ex.text) for ex in tune):
            warm += 1
    test = [
        ex.text
        for source in TIMED
        for ex in read_examples(
            source.dataset, eval_dir / source.relative, split="test", limit=args.limit
        )
    ]
    analyzer = SentimentIntensityAnalyzer()
    rows: list[tuple[float, float]] = []
    reference: list[tuple[float, float]] = []
    # With a reference, parts alternate between the two paths (each text timed once).
    parts = rounds * 2 if separate is not None else rounds
    timed = 0
    for part in range(parts):
        texts = test[part::parts]
        which = separate if separate is not None and part % 2 else enricher
        start = time.process_time()
        for text in texts:
            analyzer.polarity_scores(text)
        vader_s = time.process_time() - start
        start = time.process_time()
        for _ in which.enrich_many(EnrichRequest(text=text) for text in texts):
            pass
        row = (vader_s, time.process_time() - start)
        if which is enricher:
            rows.append(row)
            timed += len(texts)
        else:
            reference.append(row)
    print(
        json.dumps(
            {"texts": len(test), "timed": timed, "warm": warm, "rows": rows, "reference": reference}
        )
    )
    return 0


def fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def verdict(value: float | None, target: float | None) -> str:
    if value is None or target is None:
        return "—"
    return "met" if value >= target else "**missed**"


def markdown(
    measured: Sequence[Measured], *, version: str, eval_dir: Path, steady: Steady | None = None
) -> str:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "## NLP evaluation",
        "",
        f"Commit `{git_commit()}`, pipeline `{version}`, measured {now} on "
        f"{os.cpu_count()} CPU(s), Python {platform.python_version()}.",
        f"Data: test splits of `{eval_dir}` exactly as its README defines (never tuned on);",
        "baseline: bare vaderSentiment compound ±0.05 on the same texts in the same run.",
        "",
        "### Sentiment",
        "",
        "| set | texts | measure | pipeline | VADER | target | |",
        "|---|---:|---|---:|---:|---:|---|",
    ]
    for m in measured:
        sentiment = m.result.sentiment
        if sentiment is None:
            continue
        binary = DATASETS[m.source.dataset].binary_sentiment
        measure_name = "accuracy" if binary else "3-class macro-F1"
        value = sentiment.report.accuracy if binary else sentiment.report.macro_f1
        vader = m.vader_accuracy if binary else m.vader_macro_f1
        target = m.source.sentiment_target
        lines.append(
            f"| {m.source.label} | {sentiment.report.n:,} | {measure_name} | {fmt(value)} | "
            f"{fmt(vader)} | {fmt(target)} | {verdict(value, target)} |"
        )
    lines += [
        "",
        "### Journey stage (default journey, no training on these sets)",
        "",
        "| set | texts | macro-F1 | accuracy | coverage | target | | per-stage F1 |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for m in measured:
        stage = m.result.stage
        if stage is None:
            continue
        report = stage.report
        target = m.source.stage_target
        per_stage = ", ".join(f"{s.label} {s.f1:.2f}" for s in report.per_class)
        lines.append(
            f"| {m.source.label} | {report.n:,} | {fmt(report.macro_f1)} | "
            f"{fmt(report.accuracy)} | {fmt(report.coverage)} | {fmt(target)} | "
            f"{verdict(report.macro_f1, target)} | {per_stage} |"
        )
    timed = [m for m in measured if m.source.timed]
    pipe_s = sum(m.result.seconds for m in timed)
    vader_s = sum(m.vader_seconds for m in timed)
    texts = sum(m.result.n_examples for m in timed)
    ratio = vader_s / pipe_s if pipe_s > 0 else 0.0
    airline = next((m for m in measured if m.source.dataset == "airline"), None)
    lines += [
        "",
        "### Speed (enrichment only, same texts, same run)",
        "",
        "| texts | n | pipeline texts/s | VADER texts/s | ratio | target | |",
        "|---|---:|---:|---:|---:|---:|---|",
        f"| cold, first pass (wall clock): all sets above | {texts:,} | {texts / pipe_s if pipe_s else 0:,.0f} | "
        f"{texts / vader_s if vader_s else 0:,.0f} | {ratio:.2f}x | "
        f"{SPEED_TARGET:.1f}x | {verdict(ratio, SPEED_TARGET)} |",
    ]
    if airline is not None and airline.result.seconds > 0 and airline.vader_seconds > 0:
        n = airline.result.n_examples
        a_ratio = airline.vader_seconds / airline.result.seconds
        lines.append(
            f"| cold, first pass (wall clock): airline tweets | {n:,} | "
            f"{n / airline.result.seconds:,.0f} | "
            f"{n / airline.vader_seconds:,.0f} | {a_ratio:.2f}x | {SPEED_TARGET:.1f}x | "
            f"{verdict(a_ratio, SPEED_TARGET)} |"
        )
    if steady is not None:
        spread = ", ".join(f"{r:.2f}" for r in sorted(steady.ratios))
        lines.append(
            f"| steady state (CPU time; {len(steady.ratios)} parts, median of {spread}): "
            f"all sets above, unseen, after {steady.warm_texts:,} tune-split texts | {steady.texts:,} | "
            f"{steady.pipeline_per_s:,.0f} | {steady.vader_per_s:,.0f} | {steady.ratio:.2f}x | "
            f"{SPEED_TARGET:.1f}x | {verdict(steady.ratio, SPEED_TARGET)} |"
        )
        if steady.reference_ratio is not None:
            spread = ", ".join(f"{r:.2f}" for r in steady.reference_ratios)
            lines.append(
                f"| steady state, separate components (reference; parts alternating with "
                f"the fused ones, median of {spread}) | {steady.texts:,} | — | — | "
                f"{steady.reference_ratio:.2f}x | {SPEED_TARGET:.1f}x | "
                f"{verdict(steady.reference_ratio, SPEED_TARGET)} |"
            )
    lines += [
        "",
        "Speed: the cold rows time a first pass over texts the pipeline has not seen (its",
        "word and chunk caches fill during the clock); the steady-state row, in a fresh",
        "process, first runs the tune splits through (as a service that has been running)",
        "and then times the test texts, each seen once, in three parts. As in the service,",
        "`gc.freeze()` runs once the pipeline is built.",
        "",
        "Notes: UCI gold is binary, so a predicted neutral counts as positive when its score",
        "is >= 0 (the rule the issue's VADER baseline used). VADER ground truth: mean human",
        f"rating >= {VADER_NEUTRAL_BAND} positive, <= -{VADER_NEUTRAL_BAND} negative, else neutral.",
        "Clothing: review text only, 4-5 stars positive, 3 neutral, 1-2 negative. Stage gold:",
        "dataset labels through `journey_stage_mapping_proposal.csv`; airline stage is the",
        "negative tweets whose reason maps to a stage (Can't Tell excluded); macro-F1 is over",
        "the stages present in the gold, and `unassigned` counts as wrong. The issue's",
        "banking77 target (>= 0.93) is for a model trained on its train split, not this row.",
        "Short survey answers: the project's own set of 240 answers of 1-8 words (written for",
        "it, plus the sample company's short answers), its test rows by the same text rule;",
        "the short-answer rules were tuned on its other rows. Not in the speed rows.",
    ]
    notes = sorted({note for m in measured for note in m.result.notes})
    lines += [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class CurvePoint:
    label: str
    k: str
    n_train: int
    textcat_f1: float
    pipeline_f1: float | None
    rules_f1: float | None
    weight: float
    seconds: float


def pipeline_f1(
    enricher: Enricher,
    *,
    test: Sequence[Example],
    dataset: str,
    task: TrainTask,
    stage_order: Sequence[str],
) -> float | None:
    """Macro-F1 of the full pipeline's item calls on the test rows, for one task."""
    result = evaluate(
        enricher,
        test,
        dataset=dataset,
        split="test",
        task="stage" if task == "stage" else "sentiment",
        stage_order=stage_order,
    )
    scored = result.stage if task == "stage" else result.sentiment
    return scored.report.macro_f1 if scored is not None else None


def learning_curve(
    eval_dir: Path, mapping: StageMapping, args: argparse.Namespace, work: Path
) -> list[CurvePoint]:
    """Models trained with `nlp train` (spaCy textcat) on tune splits only, scored on the
    test splits: the classifier alone, and the full pipeline loaded with the model."""
    from statistics import mean

    from nlp.training.textcat import (
        predict_textcat,
        sample_per_class,
        train_textcat,
    )

    journey = load_journey(args.journey)
    airline = eval_dir / "twitter-us-airline-sentiment"
    banking = eval_dir / "banking77"
    plans: list[tuple[str, str, Path, TrainTask, list[int | None], list[int]]] = [
        ("airline stage", "airline", airline, "stage", [10, 20, 50, 100, None], [0, 1, 2]),
        ("airline sentiment", "airline", airline, "sentiment", [None], [0]),
        ("banking77 stage", "banking77", banking, "stage", [None], [0]),
    ]
    points: list[CurvePoint] = []
    from nlp.cli import make_enricher

    rules_enricher = make_enricher(args.journey, None, args.stage_threshold)
    for label, dataset, folder, task, ks, seeds in plans:
        tune = read_examples(dataset, folder, split="tune", mapping=mapping)
        test = [
            ex
            for ex in read_examples(dataset, folder, split="test", mapping=mapping)
            if (ex.stage if task == "stage" else ex.sentiment) is not None
        ]
        gold = [str(ex.stage if task == "stage" else ex.sentiment) for ex in test]
        score = functools.partial(
            pipeline_f1, test=test, dataset=dataset, task=task, stage_order=journey.keys
        )
        rules_f1 = score(rules_enricher) if args.curve_pipeline else None
        for k in ks:
            scores: list[float] = []
            pipe_scores: list[float] = []
            weights: list[float] = []
            n_train = 0
            start = time.perf_counter()
            for seed in seeds if k is not None else seeds[:1]:
                print(f"training {label} k={k or 'all'} seed={seed} ...", file=sys.stderr)
                rows = sample_per_class(tune, task, k, seed=seed) if k is not None else tune
                out = work / f"{dataset}-{task}-{k}-{seed}"
                report = train_textcat(
                    rows,
                    task=task,
                    out_dir=out,
                    journey=journey,
                    seed=seed,
                    epochs=args.epochs,
                    dev_share=0.1 if k is None else 0.0,
                    ngram_size=None,
                    architecture=args.architecture if task == "sentiment" else "bow",
                )
                n_train = report.n_train
                weights.append(report.blend_weight)
                predicted = [p for p, _ in predict_textcat(out, task, [ex.text for ex in test])]
                order = journey.keys if task == "stage" else None
                present = [key for key in (order or sorted(set(gold))) if key in set(gold)]
                scores.append(classification_report(gold, predicted, labels=present).macro_f1)
                if args.curve_pipeline:
                    f1 = score(make_enricher(args.journey, out, args.stage_threshold))
                    if f1 is not None:
                        pipe_scores.append(f1)
            points.append(
                CurvePoint(
                    label,
                    "all" if k is None else str(k),
                    n_train,
                    mean(scores),
                    mean(pipe_scores) if pipe_scores else None,
                    rules_f1,
                    mean(weights),
                    time.perf_counter() - start,
                )
            )
    return points


def curve_markdown(points: Sequence[CurvePoint], epochs: int, architecture: str) -> str:
    targets = {("airline stage", "20"): 0.70, ("airline sentiment", "all"): 0.78}
    targets[("banking77 stage", "all")] = 0.93
    lines = [
        "",
        "### Trained models (`nlp train`, spaCy textcat, tune splits only; test macro-F1)",
        "",
        "| model | K per class | train rows | rules alone | textcat alone | model weight "
        "| pipeline: rules + model | target | | train s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for p in points:
        target = targets.get((p.label, p.k))
        best = p.pipeline_f1 if p.pipeline_f1 is not None else p.textcat_f1
        lines.append(
            f"| {p.label} | {p.k} | {p.n_train:,} | {fmt(p.rules_f1)} | {fmt(p.textcat_f1)} "
            f"| {p.weight:.2f} | {fmt(p.pipeline_f1)} | {fmt(target)} | {verdict(best, target)} "
            f"| {p.seconds:.0f} |"
        )
    lines += [
        "",
        f"K < all: mean of 3 draws (seeds 0-2), no dev hold-out; {epochs} epochs. Train rows",
        "include the journey's examples and phrases for the stages trained (stage models).",
        "'all': 10% of each class held out as dev; unigram and bigram models are trained",
        "and the one with the better dev macro-F1 is kept (`--ngram-size auto`, the default).",
        "Airline stage test rows: the negative tweets with a mapped reason; banking77 classes",
        "mapped to stages. 'pipeline: rules + model': the default pipeline loaded with",
        "`--model DIR`, the model's probabilities blended with the rules' evidence at the",
        "stored weight (`nlp/training/blend.py`; K < all: from the labels per class, 'all': fitted",
        "on the dev rows). 'rules alone': the default pipeline, no model. Architecture:",
        f"bag of words (stage), {architecture} (sentiment).",
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--eval-dir",
        type=Path,
        default=REPO.parent / "shared" / "eval",
        help="the shared eval folder (default: ../shared/eval from the repo root)",
    )
    parser.add_argument("--out", type=Path, help="also write the Markdown here")
    parser.add_argument("--journey", type=Path, help="journey YAML (default: the shipped one)")
    parser.add_argument("--model", type=Path, help="trained model directory for the pipeline")
    parser.add_argument("--stage-threshold", type=float, help="override the stage threshold")
    parser.add_argument("--limit", type=int, help="first N test rows per set (smoke runs only)")
    parser.add_argument(
        "--learning-curve",
        action="store_true",
        help="also train textcat models on the tune splits (K = 10, 20, 50, all) and score them",
    )
    parser.add_argument("--epochs", type=int, default=10, help="training epochs (curve)")
    parser.add_argument(
        "--architecture",
        choices=("bow", "ensemble"),
        default="bow",
        help="textcat architecture of the curve's sentiment model (stage models: bow)",
    )
    parser.add_argument(
        "--curve-pipeline",
        action="store_true",
        help="score each trained model through the full pipeline too (slower)",
    )
    parser.add_argument(
        "--no-steady", action="store_true", help="skip the steady-state speed measurement"
    )
    parser.add_argument(
        "--steady-reference",
        action="store_true",
        help="also time the separate components (no fused pass) in the steady state, "
        "on parts alternating with the fused ones (8+8 parts)",
    )
    parser.add_argument("--steady-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument(
        "--enricher",
        choices=("pipeline", "vader"),
        default="pipeline",
        help="'vader' runs the harness on the bare baseline (a sanity check)",
    )
    args = parser.parse_args(argv)
    eval_dir: Path = args.eval_dir.resolve()
    if args.steady_child:
        return steady_child(args, eval_dir, args.steady_child)
    mapping = load_stage_mapping(eval_dir / MAPPING_FILE_NAME)
    stage_order = load_journey(args.journey).keys
    enricher = build(args)
    gc.freeze()  # as app.runtime does once the pipeline is built
    # Warm-up (lazy loads, first-call caches) on tune-split rows, outside every clock.
    warm = read_examples("airline", eval_dir / SOURCES[0].relative, split="tune", limit=64)
    list(enricher.enrich_many([EnrichRequest(text=ex.text) for ex in warm]))
    vader_baseline([ex.text for ex in warm])
    measured = []
    for source in SOURCES:
        print(f"measuring {source.label} ...", file=sys.stderr, flush=True)
        measured.append(measure(enricher, source, eval_dir, mapping, stage_order, args.limit))
    steady = None
    if not args.no_steady:
        print("measuring steady-state speed ...", file=sys.stderr, flush=True)
        steady = steady_speed(args, eval_dir)
    text = markdown(measured, version=enricher.version, eval_dir=eval_dir, steady=steady)
    if args.learning_curve:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="lp-curve-") as tmp:
            points = learning_curve(eval_dir, mapping, args, Path(tmp))
        text += curve_markdown(points, args.epochs, args.architecture)
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
