"""Every tuned number of the pipeline, in one place.

The factories' `default_config`, `nlp.pipeline.PIPELINE_CONFIG` and the code that
reads a decision back (the enricher, the evaluation) all take their values from
here, so a threshold is changed once. Each was chosen on the tune splits only (the
figures are in `nlp/README.md`).
"""

from __future__ import annotations

# -- sentiment labels (lp_sentiment) -------------------------------------------------
POSITIVE_THRESHOLD = 0.45
"""A score >= this is `positive` (against 0.5: VADER ground truth +0.016, airline +0.001,
clothing -0.003 on the tune splits)."""
NEGATIVE_THRESHOLD = -0.1
"""A score <= this is `negative`."""
QUESTION_FACTOR = 0.3
"""A segment ending in "?" (no "!") is damped by this."""
CONTRAST_BEFORE = 0.5
CONTRAST_AFTER = 1.5
"""Weights of the words (and segments) before and after "but" / "however"."""
NEGATION_VALENCE = -0.5
"""A bare negation with no scored word after it ("didn't get", "never came")."""
MODEL_WEIGHT = 1.0
"""Weight of the learned word/bigram table against the rules."""

# -- short survey answers (nlp.short_answers) -------------------------------------------
SHORT_ANSWER_WORDS = 8
"""Answers of at most this many words are read as short answers."""
FAINT_FACTOR = 0.3
"""Faint praise or complaint keeps this share of its raw score (short-answer tune rows:
0.15 -> 0.845, 0.3 -> 0.845, 0.5 -> 0.832)."""

# -- journey stage (lp_journey_stage) -------------------------------------------------
STAGE_THRESHOLD = 0.3
"""Below this confidence a stage decision is `unassigned`."""
PHRASE_WEIGHT = 1.0
PHRASE_LENGTH_BONUS = 0.5
PATTERN_WEIGHT = 1.5
EXAMPLE_WEIGHT = 0.0
"""Evidence weights: a phrase (+ a bonus per extra token), a pattern, an example word
(off: on the tune splits it lowered macro-F1)."""
REQUEST_WEIGHT = 2.0
"""An action asked for after a request frame ("how do I *cancel*"): more than any one
phrase, so the stage of what is asked for wins over the nouns the request names."""
COMPLAINT_WEIGHT = 0.5
"""Evidence for the journey's `complaint_stage` on a complaint with no stage words
(confidence 0.39: above STAGE_THRESHOLD, below any phrase's)."""
COMPLAINT_BELOW = NEGATIVE_THRESHOLD
"""A text is a complaint when its score is at most this: the sentiment's own bound."""

__all__ = [
    "COMPLAINT_BELOW",
    "COMPLAINT_WEIGHT",
    "CONTRAST_AFTER",
    "CONTRAST_BEFORE",
    "EXAMPLE_WEIGHT",
    "FAINT_FACTOR",
    "MODEL_WEIGHT",
    "NEGATION_VALENCE",
    "NEGATIVE_THRESHOLD",
    "PATTERN_WEIGHT",
    "PHRASE_LENGTH_BONUS",
    "PHRASE_WEIGHT",
    "POSITIVE_THRESHOLD",
    "QUESTION_FACTOR",
    "REQUEST_WEIGHT",
    "SHORT_ANSWER_WORDS",
    "STAGE_THRESHOLD",
]
