"""Build the Listening Path NLP pipeline and the `Enricher` that `app` uses.

The spaCy `Language` is built from `PIPELINE_CONFIG` (a spaCy config string)
starting from the blank English language; nothing is downloaded:

    tokenizer  lp.redacting_tokenizer.v2   PII -> [EMAIL] / [PHONE] / [CARD]
    lp_segmenter                           sentences, then "..., but ..." clauses
    lp_sentiment                           sentiment per segment and item
    lp_journey_stage                       stage evidence per segment and item
    lp_themes                              key phrases of the item

`build_enricher(journey)` returns a `PipelineEnricher` implementing
`nlp.enrichment.Enricher`. Empty or whitespace-only text gives a neutral
(0.0), `unassigned` (or the hinted stage) enrichment with NO segments.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language
from spacy.tokens import Doc
from thinc.api import Config

import nlp.factories  # noqa: F401  (registers the components and the tokenizer)
from nlp import thresholds as T
from nlp.docview import COMPONENT_BATCH, DocView, doc_view
from nlp.enrichment import (
    UNASSIGNED,
    Enrichment,
    EnrichRequest,
    SegmentEnrichment,
    Sentiment,
    StageDecision,
)
from nlp.errors import Errors, PipelineError
from nlp.fused import FusedPass, fused_pass
from nlp.journey import Journey, register_journey
from nlp.sentiment import CustomerSentiment, SegmentScore
from nlp.stages import NO_EVIDENCE, JourneyStageMatcher, journey_to_data, pool
from nlp.themes import ThemeExtractor
from nlp.training import blend as trained
from nlp.training.blend import SENTIMENT_MODEL_PIPE, STAGE_MODEL_PIPE

PIPELINE_VERSION = "1.0.0"
"""Bump when pipeline code changes what it outputs for the same text."""

DEFAULT_STAGE_THRESHOLD = T.STAGE_THRESHOLD
"""The stage threshold `build_enricher` uses unless told otherwise (`nlp.thresholds`)."""

VOCAB_GROWTH = 50_000
"""New strings a pipeline keeps for good before its calls run in memory zones
(`PipelineEnricher._zone`)."""

VOCAB_ZONE_BATCH = 1_000
"""Requests `enrich_many` enriches in one memory zone."""

PIPELINE_CONFIG = f"""
[nlp]
lang = "en"
pipeline = ["lp_segmenter", "lp_sentiment", "lp_journey_stage", "lp_themes"]
batch_size = 256

[nlp.tokenizer]
@tokenizers = "lp.redacting_tokenizer.v2"

[components]

[components.lp_segmenter]
factory = "lp_segmenter"
contrast_words = ["but", "however"]
min_tokens = 3

[components.lp_sentiment]
factory = "lp_sentiment"
positive_threshold = {T.POSITIVE_THRESHOLD}
negative_threshold = {T.NEGATIVE_THRESHOLD}
question_factor = {T.QUESTION_FACTOR}
contrast_before = {T.CONTRAST_BEFORE}
contrast_after = {T.CONTRAST_AFTER}
negation_valence = {T.NEGATION_VALENCE}
lexicon_path = ""
model_weight = {T.MODEL_WEIGHT}
weights_path = ""
short_answer_words = {T.SHORT_ANSWER_WORDS}
faint_factor = {T.FAINT_FACTOR}

[components.lp_journey_stage]
factory = "lp_journey_stage"
threshold = {T.STAGE_THRESHOLD}
phrase_weight = {T.PHRASE_WEIGHT}
phrase_length_bonus = {T.PHRASE_LENGTH_BONUS}
pattern_weight = {T.PATTERN_WEIGHT}
example_weight = {T.EXAMPLE_WEIGHT}
request_weight = {T.REQUEST_WEIGHT}
journey_path = ""

[components.lp_themes]
factory = "lp_themes"
max_themes = 8
max_words = 3
min_chars = 4
"""
"""The spaCy config of the default pipeline; every tuned number from `nlp.thresholds`."""

_NEUTRAL = Sentiment(0.0, "neutral")

SENTIMENT_PIPE = "lp_sentiment"
STAGE_PIPE = "lp_journey_stage"
THEMES_PIPE = "lp_themes"


def pipeline_config(
    *, stage_threshold: float = DEFAULT_STAGE_THRESHOLD, journey_ref: str = ""
) -> Config:
    """The spaCy config the pipeline is built from, with the stage threshold and the
    journey (`nlp.journey.register_journey`; "" is the shipped default) set."""
    config = Config().from_str(PIPELINE_CONFIG)
    config["components"][STAGE_PIPE]["threshold"] = stage_threshold
    config["components"][STAGE_PIPE]["journey_ref"] = journey_ref
    config["components"][THEMES_PIPE]["journey_ref"] = journey_ref
    return config


def check_pipeline(nlp: Language) -> None:
    """spaCy's `analyze_pipes` on what each component `requires` and `assigns`: a pipe
    that reads what no earlier pipe writes is an error (E022), not wrong answers."""
    analysis = nlp.analyze_pipes() or {}
    problems = {name: found for name, found in analysis.get("problems", {}).items() if found}
    if problems:
        shown = "; ".join(f"{name} needs {', '.join(found)}" for name, found in problems.items())
        raise PipelineError(Errors.E022, problems=shown)


def build_nlp(
    journey: Journey,
    *,
    stage_threshold: float = DEFAULT_STAGE_THRESHOLD,
    model_dir: Path | None = None,
) -> Language:
    """The spaCy pipeline: from `model_dir` (saved with `nlp.to_disk`) or the config.

    The `journey` given here always wins over one saved in `model_dir`."""
    ref = register_journey(journey)
    if model_dir is not None:
        # The saved config is overridden, so the journey given here wins over the saved one.
        nlp = spacy.load(
            model_dir,
            config={
                f"components.{STAGE_PIPE}.journey_ref": ref,
                f"components.{STAGE_PIPE}.threshold": stage_threshold,
                f"components.{THEMES_PIPE}.journey_ref": ref,
            },
        )
    else:
        config = pipeline_config(stage_threshold=stage_threshold, journey_ref=ref)
        nlp = spacy.util.load_model_from_config(config, auto_fill=True)
    for pipe, expected in ((STAGE_PIPE, JourneyStageMatcher), (THEMES_PIPE, ThemeExtractor)):
        if not isinstance(nlp.get_pipe(pipe), expected):
            raise PipelineError(Errors.E020, pipe=pipe, expected=expected.__name__)
    check_pipeline(nlp)
    return nlp


def _digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode("utf-8")).hexdigest()[:10]


def _model_digest(model_dir: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in model_dir.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(model_dir)).encode("utf-8"))
        h.update(path.read_bytes())
    return h.hexdigest()[:10]


@functools.cache
def _code_digest() -> str:
    """The code and data that decide what the pipeline says, so `version` changes when
    they do even if nobody bumps PIPELINE_VERSION (evaluation and CLI code excluded)."""
    root = Path(__file__).parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if (
            not path.is_file()
            or rel.parts[0] in ("evaluation", "__pycache__")
            or path.name == "cli.py"
        ):
            continue
        if path.suffix not in (".py", ".yaml", ".json", ".tsv", ".txt"):  # .txt: pii name list
            continue
        h.update(str(rel).encode("utf-8"))
        h.update(path.read_bytes())
    return h.hexdigest()[:10]


class PipelineEnricher:
    """`nlp.enrichment.Enricher` backed by the spaCy pipeline."""

    def __init__(
        self, nlp: Language, journey: Journey, *, model_digest: str = "", fused: bool = True
    ) -> None:
        self.nlp = nlp
        self.journey = journey
        sentiment = nlp.get_pipe(SENTIMENT_PIPE)
        stage = nlp.get_pipe(STAGE_PIPE)
        if not isinstance(sentiment, CustomerSentiment) or not isinstance(
            stage, JourneyStageMatcher
        ):
            raise PipelineError(
                Errors.E020, pipe=f"{SENTIMENT_PIPE} / {STAGE_PIPE}", expected="Listening Path pipe"
            )
        self._sentiment = sentiment
        self._stage = stage
        self._keys = frozenset(journey.keys)
        self._sentiments: dict[float, Sentiment] = {}
        self._by_score: dict[float, Sentiment] = {}
        names = nlp.pipe_names
        self._stage_model = STAGE_MODEL_PIPE in names
        self._sentiment_model = SENTIMENT_MODEL_PIPE in names
        self._models = self._stage_model or self._sentiment_model
        # The default four pipes run as one fused pass (`nlp.fused`; same answers);
        # any other pipeline, or fused=False, runs the separate components.
        self._fused = fused_pass(nlp) if fused else None
        # Hint decisions are immutable: one per stage, shared.
        self._hint_decisions = {
            key: StageDecision(key, 1.0, "hint", (f"stage_hint:{key}",)) for key in journey.keys
        }
        # How far each trained model is trusted against the rules (`nlp.training.blend`).
        self._stage_weight = trained.blend_weight(nlp, STAGE_MODEL_PIPE)
        self._sentiment_weight = trained.blend_weight(nlp, SENTIMENT_MODEL_PIPE)
        parts = [
            f"lp-nlp-{PIPELINE_VERSION}",
            f"j{_digest(journey_to_data(journey))}",
            f"c{_digest(nlp.config.to_str())}",
            f"s{_code_digest()}",
        ]
        if model_digest:
            parts.append(f"m{model_digest}")
        self._version = "+".join(parts)
        self._vocab_limit = len(nlp.vocab.strings) + VOCAB_GROWTH

    @property
    def version(self) -> str:
        return self._version

    @property
    def fused(self) -> bool:
        """Whether the components run as the fused pass (`nlp.fused`)."""
        return self._fused is not None

    def enrich(self, text: str, *, stage_hint: str | None = None) -> Enrichment:
        fused = self._fused
        with self._zone():
            if fused is not None:
                return self._to_enrichment(fused(self.nlp.make_doc(text)), stage_hint)
            return self._to_enrichment(self.nlp(text), stage_hint)

    def enrich_many(
        self, requests: Iterable[EnrichRequest], *, batch_size: int = 256
    ) -> Iterator[Enrichment]:
        """Lazily, `VOCAB_ZONE_BATCH` requests at a time: each such slice is enriched
        whole (inside one memory zone, once the vocabulary is warm) before any of it
        is handed out, as no doc may be read after its zone ends."""
        fused = self._fused
        pending: list[EnrichRequest] = []
        for request in requests:
            pending.append(request)
            if len(pending) >= VOCAB_ZONE_BATCH:
                yield from self._enrich_slice(fused, pending, batch_size)
                pending = []
        if pending:
            yield from self._enrich_slice(fused, pending, batch_size)

    def _enrich_slice(
        self, fused: FusedPass | None, requests: list[EnrichRequest], batch_size: int
    ) -> list[Enrichment]:
        with self._zone():
            if fused is not None:
                return list(self._fused_many(fused, requests))
            pairs = ((r.text, r.stage_hint) for r in requests)
            return [
                self._to_enrichment(doc, hint)
                for doc, hint in self.nlp.pipe(pairs, as_tuples=True, batch_size=batch_size)
            ]

    def _zone(self) -> AbstractContextManager[object]:
        """spaCy keeps every new word's string and lexeme for good, so a long backfill
        of unique tokens (order numbers, names, typos) grows a worker without end
        (measured: +1.5 KB a text on answers with one unique token each). Once the
        vocabulary has grown by `VOCAB_GROWTH` strings since loading, every call runs
        in a memory zone, which drops the strings it added when it ends. Not from
        the start: inside a zone the tokenizer's cache is not filled, so the common
        words fill it first (spaCy's advice)."""
        if len(self.nlp.vocab.strings) < self._vocab_limit:
            return nullcontext()
        return self.nlp.memory_zone()

    def _fused_many(
        self, fused: FusedPass, requests: Iterable[EnrichRequest]
    ) -> Iterator[Enrichment]:
        """`enrich_many` through the fused pass, `COMPONENT_BATCH` docs at a time (as
        `nlp.pipe` runs the components): tokenize the batch, run the pass over it,
        then build its enrichments."""
        # `make_doc` is what `nlp.pipe` tokenizes with (and checks max_length).
        make_doc = self.nlp.make_doc
        convert = self._to_enrichment
        size = COMPONENT_BATCH
        batch: list[EnrichRequest] = []
        for request in requests:
            batch.append(request)
            if len(batch) < size:
                continue
            docs = [make_doc(r.text) for r in batch]
            fused.run(docs)
            for doc, r in zip(docs, batch, strict=True):
                yield convert(doc, r.stage_hint)
            batch = []
        if batch:
            docs = [make_doc(r.text) for r in batch]
            fused.run(docs)
            for doc, r in zip(docs, batch, strict=True):
                yield convert(doc, r.stage_hint)

    def _sentiment_of(self, score: SegmentScore) -> Sentiment:
        # Memoised by the unrounded score too: most segments repeat a score seen before.
        known = self._by_score.get(score.score)
        if known is not None:
            return known
        value = round(max(-1.0, min(1.0, score.score)), 4)
        # Sentiments are immutable and scores rounded to 4 places: share them.
        cached = self._sentiments.get(value)
        if cached is None:
            cached = Sentiment(value, self._sentiment.label(value))
            if len(self._sentiments) < 50_000:
                self._sentiments[value] = cached
        if len(self._by_score) < 50_000:
            self._by_score[score.score] = cached
        return cached

    def _to_enrichment(self, doc: Doc, hint: str | None) -> Enrichment:
        view = doc_view(doc)
        text = view.text
        if hint is None and len(view.segments) == 1 and not self._models:
            return self._one_segment(view)
        hint = hint if hint in self._keys else None
        hint_decision = self._hint_decisions.get(hint) if hint else None
        model_stage = None
        if self._stage_model and view.segments:
            found = pool(view.segment_stages)  # the rules' evidence, blended with the model
            model_stage = trained.model_stage(
                doc,
                self._keys,
                self._stage.threshold,
                found.scores,
                self._stage_weight,
                found.evidence,
            )
        model_sentiment = None
        if self._sentiment_model and view.segments:
            rule = self._sentiment_of(view.sentiment) if view.sentiment is not None else None
            model_sentiment = trained.model_sentiment(doc, rule, self._sentiment_weight)
        single = len(view.segments) == 1
        # What a segment without evidence of its own falls back to: the source's hint,
        # else the trained model's call for the item.
        fallback = hint_decision or model_stage
        decide = self._stage.decide
        sentiment_of = self._sentiment_of
        segments: list[SegmentEnrichment] = []
        idx, words = view.idx, view.words
        # The item's own evidence, when only one segment has any, is that segment's:
        # its decision is reused instead of pooling (`pool` would copy it unchanged).
        with_evidence = 0
        evidence_decision = NO_EVIDENCE
        segment_themes = view.segment_themes or [() for _ in view.segments]
        for index, ((first, last), score, found) in enumerate(
            zip(view.segments, view.segment_sentiment, view.segment_stages, strict=True)
        ):
            start = idx[first]
            end = idx[last - 1] + len(words[last - 1])
            if single and model_stage is not None and hint_decision is None:
                decision = model_stage  # the classifier read exactly this text
            else:
                if found.scores:
                    decision = decide(found)
                    with_evidence += 1
                    evidence_decision = decision
                else:
                    decision = NO_EVIDENCE
                # The complaint default is the weakest guess there is: a source's
                # hint (or the team's model) says more about where this text belongs.
                if fallback is not None and (
                    decision.stage == UNASSIGNED or decision.method == "complaint"
                ):
                    decision = fallback
            sentiment = model_sentiment if single and model_sentiment else sentiment_of(score)
            segments.append(
                SegmentEnrichment(
                    index, start, end, text[start:end], sentiment, decision, segment_themes[index]
                )
            )
        if model_sentiment is not None:
            item_sentiment = model_sentiment
        elif segments and view.sentiment is not None:
            item_sentiment = sentiment_of(view.sentiment)
        else:
            item_sentiment = _NEUTRAL
        if fallback is not None:
            item_stage = fallback
        elif single:
            item_stage = segments[0].stage
        elif with_evidence <= 1:
            item_stage = evidence_decision
        else:
            item_stage = self._stage.decide_pooled(view.segment_stages)
        return Enrichment(
            text=text,
            sentiment=item_sentiment,
            stage=item_stage,
            segments=tuple(segments),
            themes=view.themes,
            redactions=view.redactions,
            nlp_version=self._version,
        )

    def _one_segment(self, view: DocView) -> Enrichment:
        """`_to_enrichment` for the commonest case: one segment, no hint, no trained
        models. The segment's decision is the item's; the same objects as the general
        path (tests/nlp/test_speed_enrichment.py compares the two)."""
        ((first, last),) = view.segments
        found = view.segment_stages[0]
        decision = self._stage.decide(found) if found.scores else NO_EVIDENCE
        start = view.idx[first]
        end = view.idx[last - 1] + len(view.words[last - 1])
        text = view.text
        sentiment_of = self._sentiment_of
        segment = SegmentEnrichment(
            0,
            start,
            end,
            text[start:end],
            sentiment_of(view.segment_sentiment[0]),
            decision,
            view.segment_themes[0] if view.segment_themes else (),
        )
        item = view.sentiment
        return Enrichment(
            text,
            sentiment_of(item) if item is not None else _NEUTRAL,
            decision,
            (segment,),
            view.themes,
            view.redactions,
            self._version,
        )


def build_enricher(
    journey: Journey,
    *,
    stage_threshold: float | None = None,
    model_dir: Path | None = None,
) -> PipelineEnricher:
    """The enricher `app` uses. `model_dir` is a pipeline saved with
    `enricher.nlp.to_disk(...)` (its files are part of `version`). `stage_threshold`
    None is `DEFAULT_STAGE_THRESHOLD`, the one the evaluation measures."""
    threshold = DEFAULT_STAGE_THRESHOLD if stage_threshold is None else stage_threshold
    nlp = build_nlp(journey, stage_threshold=threshold, model_dir=model_dir)
    digest = _model_digest(model_dir) if model_dir is not None else ""
    return PipelineEnricher(nlp, journey, model_digest=digest)


__all__ = [
    "DEFAULT_STAGE_THRESHOLD",
    "PIPELINE_CONFIG",
    "PIPELINE_VERSION",
    "PipelineEnricher",
    "build_enricher",
    "build_nlp",
    "pipeline_config",
]
