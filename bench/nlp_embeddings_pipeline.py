"""`nlp train --embeddings` through the full pipeline, against the bag of words alone.

Needs the `embeddings` extra, in a venv of its own (torch must not enter the
project's: thinc imports it whenever it is installed, which slows `import spacy`):

    python3 -m venv /tmp/embvenv && /tmp/embvenv/bin/pip install -e ".[dev,embeddings]"
    nice /tmp/embvenv/bin/python bench/nlp_embeddings_pipeline.py tune
    nice /tmp/embvenv/bin/python bench/nlp_embeddings_pipeline.py test    # report only
    nice /tmp/embvenv/bin/python bench/nlp_embeddings_pipeline.py speed

`tune`: halves of the airline TUNE split (`bench/nlp_blend.py`'s; train on A, score on
B): stage at K labels a stage (mean over draws), sentiment on all of half A (10 % dev,
blend weight fitted there). `test`: trained on the whole tune split, scored once on
the test split (stage K = 20, mean of 3 draws), for the report; never for choosing.
Scores are the pipeline's item calls (`enrich_many`), macro-F1 over the gold classes.
`speed`: texts/s of the pipeline with a saved sentiment model, with and without its
embedding pipe, alternating in one process.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from statistics import mean, median

REPO = Path(__file__).resolve().parents[1]
for path in (REPO, REPO / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

CACHED = "all-MiniLM-L6-v2 (bench cache)"


def cached_minilm() -> None:
    """The MiniLM encoder with a per-text cache: the same tune texts are encoded once,
    not once per draw and blend weight (scores are unchanged, only faster)."""
    import numpy as np

    from nlp.training.embeddings import MINILM, get_encoder, register_encoder

    def factory() -> Callable[[Sequence[str]], np.ndarray]:
        encode = get_encoder(MINILM)
        cache: dict[str, np.ndarray] = {}

        def cached(texts: Sequence[str]) -> np.ndarray:
            todo = sorted({t for t in texts if t not in cache})
            if todo:
                cache.update(zip(todo, encode(todo), strict=True))
            return np.stack([cache[t] for t in texts]) if texts else np.zeros((0, 384))

        return cached

    register_encoder(CACHED, factory)


def score(out: Path, task: str, rows: Sequence[object], mix: float | None = None) -> float:
    from nlp_blend import macro  # type: ignore[import-not-found]

    from nlp.cli import make_enricher
    from nlp.enrichment import EnrichRequest
    from nlp.training.textcat import gold_of

    enricher = make_enricher(None, out)
    if mix is not None:  # the embedding model's share, changed after training
        from nlp.training.embeddings import EMBEDDING_PIPES

        enricher.nlp.get_pipe(EMBEDDING_PIPES[task]).mix = mix  # type: ignore[attr-defined]
    gold = [str(gold_of(ex, task)) for ex in rows]  # type: ignore[arg-type]
    results = enricher.enrich_many([EnrichRequest(text=ex.text) for ex in rows])  # type: ignore[attr-defined]
    predicted = [e.stage.stage if task == "stage" else e.sentiment.label for e in results]
    return macro(gold, predicted)


def compare(
    task: str,
    train_rows: Sequence[object],
    score_rows: Sequence[object],
    k: str,
    seeds: Sequence[int],
    mixes: Sequence[float] = (),
) -> None:
    from nlp.journey import load_journey
    from nlp.training.textcat import gold_of, sample_per_class, train_textcat

    journey = load_journey(None)
    labelled = [ex for ex in train_rows if gold_of(ex, task) is not None]  # type: ignore[arg-type]
    scored = [ex for ex in score_rows if gold_of(ex, task) is not None]  # type: ignore[arg-type]
    found: dict[str, list[float]] = {"bow": [], "bow+minilm": []}
    with tempfile.TemporaryDirectory(prefix="lp-embp-") as tmp:
        for seed in seeds if k != "all" else seeds[:1]:
            rows = labelled if k == "all" else sample_per_class(labelled, task, int(k), seed=seed)  # type: ignore[arg-type]
            for name, emb in (("bow", None), ("bow+minilm", CACHED)):
                out = Path(tmp) / f"{name}-{seed}"
                start = time.perf_counter()
                report = train_textcat(
                    rows,  # type: ignore[arg-type]
                    task=task,  # type: ignore[arg-type]
                    out_dir=out,
                    journey=journey,
                    seed=seed,
                    dev_share=0.1 if k == "all" else 0.0,
                    embeddings=emb,
                )
                f1 = score(out, task, scored)
                found[name].append(f1)
                for mix in mixes if emb else ():
                    found.setdefault(f"mix={mix}", []).append(score(out, task, scored, mix))
                print(
                    f"  {task} K={k} seed={seed} {name}: {f1:.3f} (weight {report.blend_weight}"
                    f" from {report.blend_from}, {time.perf_counter() - start:.0f}s)",
                    flush=True,
                )
    print(f"{task} K={k}: " + ", ".join(f"{n} {mean(v):.3f}" for n, v in found.items()), flush=True)


def speed(eval_dir: Path, n: int, rounds: int) -> None:
    from nlp.cli import make_enricher
    from nlp.enrichment import EnrichRequest
    from nlp.evaluation.datasets import read_examples
    from nlp.journey import load_journey
    from nlp.training.embeddings import EMBEDDING_PIPES, MINILM
    from nlp.training.textcat import sample_per_class, train_textcat

    tune = list(read_examples("airline", eval_dir / "twitter-us-airline-sentiment", split="tune"))
    requests = [EnrichRequest(text=ex.text) for ex in tune[:n]]
    with tempfile.TemporaryDirectory(prefix="lp-embs-") as tmp:
        out = Path(tmp) / "m"
        rows = sample_per_class(tune, "sentiment", 50, seed=0)
        train_textcat(
            rows,
            task="sentiment",
            out_dir=out,
            journey=load_journey(None),
            embeddings=MINILM,
            dev_share=0.0,
        )
        with_emb = make_enricher(None, out)
        without = make_enricher(None, out)
        without.nlp.remove_pipe(EMBEDDING_PIPES["sentiment"])  # type: ignore[attr-defined]
        list(with_emb.enrich_many(requests[:64]))  # load the encoder
        times: dict[str, list[float]] = {"bow": [], "bow+minilm": []}
        for _ in range(rounds):
            for name, enricher in (("bow", without), ("bow+minilm", with_emb)):
                start = time.process_time()
                list(enricher.enrich_many(requests))
                times[name].append(time.process_time() - start)
    for name, values in times.items():
        print(f"{name}: {n / median(values):.0f} texts/s (CPU time, median of {rounds})")
    print(f"ratio: {median(times['bow+minilm']) / median(times['bow']):.2f}x the CPU time")


def main(argv: Sequence[str] | None = None) -> int:
    from nlp_blend import half  # type: ignore[import-not-found]

    from nlp.evaluation.datasets import MAPPING_FILE_NAME, load_stage_mapping, read_examples

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("step", choices=("tune", "test", "speed"))
    parser.add_argument("--eval-dir", type=Path, default=REPO.parent / "shared" / "eval")
    parser.add_argument("--ks", nargs="+", default=["10", "20", "50"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--tasks", nargs="+", default=["stage", "sentiment"])
    parser.add_argument(
        "--mixes", nargs="*", type=float, default=[], help="also score these embedding shares"
    )
    parser.add_argument("--n", type=int, default=1000, help="speed: texts per round")
    args = parser.parse_args(argv)
    if args.step == "speed":
        speed(args.eval_dir, args.n, 3)
        return 0
    cached_minilm()
    mapping = load_stage_mapping(args.eval_dir / MAPPING_FILE_NAME)
    folder = args.eval_dir / "twitter-us-airline-sentiment"
    tune = list(read_examples("airline", folder, split="tune", mapping=mapping))
    if args.step == "tune":
        train_rows = [ex for ex in tune if half(ex) == "A"]
        score_rows = [ex for ex in tune if half(ex) == "B"]
    else:
        train_rows = tune
        score_rows = list(read_examples("airline", folder, split="test", mapping=mapping))
    for task in args.tasks:
        for k in args.ks if task == "stage" else ["all"]:
            compare(task, train_rows, score_rows, k, args.seeds, args.mixes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
