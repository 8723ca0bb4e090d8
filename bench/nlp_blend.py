"""How far to trust a team's trained model against the rules, measured on tune rows only.

    .venv/bin/python bench/nlp_blend.py --task stage --ks 10 20 50 all --seeds 0 1 2
    .venv/bin/python bench/nlp_blend.py --task sentiment --ks all

Splits the airline TUNE split into two halves by a hash of the tweet id (the test split
is never read): models are trained with `nlp train`'s code on half A (K labels per
class drawn from it, or all of it), and the full pipeline loaded with each model reads
half B once; its decisions are then re-made for a grid of blend weights `w`
(`nlp.training.blend`), next to the rules alone and the classifier alone. This is what chose
`FEW_LABEL_PRIOR` and the blend forms; the test split is scored only by
`bench/nlp_eval.py --learning-curve`.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from statistics import mean

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from nlp.evaluation.datasets import (  # noqa: E402
    MAPPING_FILE_NAME,
    Example,
    load_stage_mapping,
    read_examples,
)
from nlp.evaluation.metrics import classification_report  # noqa: E402
from nlp.journey import load_journey  # noqa: E402
from nlp.training.textcat import (  # noqa: E402
    ARCHITECTURES,
    TrainTask,
    gold_of,
    sample_per_class,
    train_textcat,
)

GRID = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def half(example: Example) -> str:
    """'A' (training) or 'B' (scoring): a hash of the id, independent of the test rule."""
    digest = hashlib.sha256(f"blend-half:{example.id}".encode()).hexdigest()
    return "A" if int(digest, 16) % 2 == 0 else "B"


def macro(gold: Sequence[str], predicted: Sequence[str]) -> float:
    present = sorted(set(gold))
    return classification_report(gold, predicted, labels=present).macro_f1


def main(argv: Sequence[str] | None = None) -> int:
    from nlp.cli import make_enricher
    from nlp.pipeline import PipelineEnricher

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval-dir", type=Path, default=REPO.parent / "shared" / "eval")
    parser.add_argument("--task", choices=("stage", "sentiment"), default="stage")
    parser.add_argument("--ks", nargs="+", default=["10", "20", "50", "all"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--ngram-size", type=int, help="fixed n-gram size (default: auto)")
    parser.add_argument("--architecture", choices=ARCHITECTURES, default="bow")
    args = parser.parse_args(argv)
    task: TrainTask = args.task
    folder = args.eval_dir / "twitter-us-airline-sentiment"
    mapping = load_stage_mapping(args.eval_dir / MAPPING_FILE_NAME)
    journey = load_journey(None)
    tune = list(read_examples("airline", folder, split="tune", mapping=mapping))
    labelled = [ex for ex in tune if gold_of(ex, task) is not None]
    train_half = [ex for ex in labelled if half(ex) == "A"]
    score_half = [ex for ex in labelled if half(ex) == "B"]
    gold = [str(gold_of(ex, task)) for ex in score_half]
    texts = [ex.text for ex in score_half]

    def decisions(enricher: PipelineEnricher, docs: Sequence[object]) -> list[str]:
        out = []
        for doc in docs:
            enrichment = enricher._to_enrichment(doc, None)  # type: ignore[arg-type]
            out.append(enrichment.stage.stage if task == "stage" else enrichment.sentiment.label)
        return out

    rules = make_enricher(None, None)
    assert isinstance(rules, PipelineEnricher)
    rules_f1 = macro(gold, decisions(rules, list(rules.nlp.pipe(texts))))
    print(f"{task}: train half {len(train_half)}, score half {len(score_half)} rows")
    print(f"rules alone: {rules_f1:.3f}")
    print("K | seeds | textcat alone | " + " | ".join(f"w={w:.1f}" for w in GRID) + " | stored w")
    with tempfile.TemporaryDirectory(prefix="lp-blend-") as tmp:
        for k in args.ks:
            per_w: dict[float, list[float]] = {w: [] for w in GRID}
            alone: list[float] = []
            stored: list[float] = []
            start = time.perf_counter()
            seeds = args.seeds if k != "all" else args.seeds[:1]
            for seed in seeds:
                rows = (
                    train_half
                    if k == "all"
                    else sample_per_class(train_half, task, int(k), seed=seed)
                )
                out = Path(tmp) / f"{k}-{seed}"
                train_textcat(
                    rows,
                    task=task,
                    out_dir=out,
                    journey=journey,
                    seed=seed,
                    epochs=args.epochs,
                    dev_share=0.1 if k == "all" else 0.0,
                    ngram_size=args.ngram_size,
                    architecture=args.architecture,
                )
                enricher = make_enricher(None, out)
                assert isinstance(enricher, PipelineEnricher)
                stored.append(
                    enricher._stage_weight if task == "stage" else enricher._sentiment_weight
                )
                docs = list(enricher.nlp.pipe(texts))
                alone.append(macro(gold, [max(d.cats, key=d.cats.__getitem__) for d in docs]))
                for w in GRID:
                    if task == "stage":
                        enricher._stage_weight = w
                    else:
                        enricher._sentiment_weight = w
                    per_w[w].append(macro(gold, decisions(enricher, docs)))
            print(
                f"{k} | {len(seeds)} | {mean(alone):.3f} | "
                + " | ".join(f"{mean(per_w[w]):.3f}" for w in GRID)
                + f" | {mean(stored):.2f} ({time.perf_counter() - start:.0f}s)",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
