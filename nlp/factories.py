"""Importing this module registers every Listening Path spaCy function.

`FACTORIES` lists the component factories and `TOKENIZERS` the tokenizers we
register; a snapshot test checks that none of them vanishes.
"""

from __future__ import annotations

from nlp import redaction, segmentation, sentiment, stages, themes
from nlp.training import embeddings

FACTORIES: tuple[str, ...] = (
    "lp_journey_stage",
    "lp_sentiment",
    "lp_segmenter",
    "lp_themes",
    "lp_embedding_classifier",
)
TOKENIZERS: tuple[str, ...] = ("lp.redacting_tokenizer.v1", "lp.redacting_tokenizer.v2")

__all__ = [
    "FACTORIES",
    "TOKENIZERS",
    "embeddings",
    "redaction",
    "segmentation",
    "sentiment",
    "stages",
    "themes",
]
