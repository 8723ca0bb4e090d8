"""Where the steady-state time goes: cProfile over `bench/nlp_eval.py`'s steady part.

    .venv/bin/python bench/nlp_profile.py [--eval-dir ../shared/eval] [--top 30]
    .venv/bin/python bench/nlp_profile.py --components [--reference]  # us/text per step

As the steady row: build the default enricher, `gc.freeze()`, run every tune-split
text of the timed sets through (off the clock), then enrich the test texts once each
(never seen before) under cProfile and print the top functions by own time and by
cumulative time. `--components` times each step again on the test docs (CPU time,
best of 3): the tokenizer, the `DocView`, each component, the fused pass, the
`Enrichment`, and the whole `enrich_many`. `--reference` profiles the separate
components instead of the fused pass.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import pstats
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.nlp_eval import TIMED  # noqa: E402
from nlp.enrichment import EnrichRequest  # noqa: E402
from nlp.evaluation.datasets import read_examples  # noqa: E402
from nlp.fused import fused_pass  # noqa: E402
from nlp.journey import load_journey  # noqa: E402
from nlp.pipeline import PipelineEnricher, build_enricher  # noqa: E402


def texts(eval_dir: Path, split: str) -> list[str]:
    return [
        ex.text
        for source in TIMED
        for ex in read_examples(source.dataset, eval_dir / source.relative, split=split)
    ]


def profile(eval_dir: Path, top: int, *, fused: bool) -> None:
    enricher = build_enricher(load_journey())
    if not fused:
        enricher = PipelineEnricher(enricher.nlp, enricher.journey, fused=False)
    gc.freeze()
    for _ in enricher.enrich_many(EnrichRequest(text=t) for t in texts(eval_dir, "tune")):
        pass
    test = texts(eval_dir, "test")
    profiler = cProfile.Profile()
    start = time.process_time()
    profiler.enable()
    for _ in enricher.enrich_many(EnrichRequest(text=t) for t in test):
        pass
    profiler.disable()
    seconds = time.process_time() - start
    print(f"{len(test)} unseen texts, {seconds * 1e6 / len(test):.1f} us/text under cProfile")
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(top)
        print(out.getvalue())


def components(eval_dir: Path, repeats: int = 3) -> None:
    """us/text of each step re-run on the test docs (after one pass over them, so the
    memos hold their words: a lower bound per step, but the shares are the point)."""
    from nlp.docview import _KEY, doc_view

    enricher = build_enricher(load_journey())
    nlp = enricher.nlp
    gc.freeze()
    for _ in nlp.pipe(texts(eval_dir, "tune")):
        pass
    test = texts(eval_dir, "test")
    docs = list(nlp.pipe(test))
    n = len(docs)

    def clock(label: str, step: Callable[[], object]) -> None:
        best = float("inf")
        for _ in range(repeats):
            start = time.process_time()
            step()
            best = min(best, time.process_time() - start)
        print(f"{label:>22}: {best * 1e6 / n:6.1f} us/text", flush=True)

    tokenizer = nlp.tokenizer
    clock("tokenizer (cached)", lambda: [tokenizer(t) for t in test])

    def rebuild() -> None:
        for doc in docs:
            del doc.user_data[_KEY]
            doc_view(doc)

    views = [doc_view(d) for d in docs]
    clock("DocView build", rebuild)
    for doc, view in zip(docs, views, strict=True):
        doc.user_data[_KEY] = view
    for name, proc in nlp.pipeline:
        clock(name, lambda proc=proc: [proc(d) for d in docs])
    fused = fused_pass(nlp)
    assert fused is not None
    clock("fused pass", lambda: [fused(d) for d in docs])
    convert = enricher._to_enrichment
    clock("Enrichment", lambda: [convert(d, None) for d in docs])
    clock(
        "all, nlp.pipe + Enrichment",
        lambda: list(enricher.enrich_many(EnrichRequest(text=t) for t in test)),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval-dir", type=Path, default=REPO.parent / "shared" / "eval")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--components", action="store_true")
    parser.add_argument("--reference", action="store_true", help="the separate components")
    args = parser.parse_args(argv)
    if args.components:
        components(args.eval_dir.resolve())
    else:
        profile(args.eval_dir.resolve(), args.top, fused=not args.reference)
    return 0


if __name__ == "__main__":
    sys.exit(main())
