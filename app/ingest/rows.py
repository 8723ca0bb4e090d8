"""What the store keeps of an `Enrichment`: the item's NLP columns and its segment
rows, written the same way by ingest and by re-enrichment."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from nlp.enrichment import Enrichment


def nlp_columns(enrichment: Enrichment) -> dict[str, Any]:
    """The item columns the pipeline decides (re-enrichment replaces exactly these)."""
    return {
        "sentiment_score": enrichment.sentiment.score,
        "sentiment_label": enrichment.sentiment.label,
        "stage": enrichment.stage.stage,
        "stage_confidence": enrichment.stage.confidence,
        "stage_method": enrichment.stage.method,
        "stage_evidence": list(enrichment.stage.evidence),
        "themes": list(enrichment.themes),
        "nlp_version": enrichment.nlp_version[:64],
    }


def segment_rows(
    item_id: int | None, source_id: str, occurred_at: datetime, enrichment: Enrichment
) -> list[dict[str, Any]]:
    """`occurred_at` and `source_id` are copied from the item onto each segment."""
    return [
        {
            "item_id": item_id,
            "idx": seg.index,
            "start": seg.start,
            "end": seg.end,
            "text": seg.text,
            "occurred_at": occurred_at,
            "source_id": source_id,
            "sentiment_score": seg.sentiment.score,
            "sentiment_label": seg.sentiment.label,
            "stage": seg.stage.stage,
            "stage_confidence": seg.stage.confidence,
            "stage_method": seg.stage.method,
            "stage_evidence": list(seg.stage.evidence),
            "themes": list(seg.themes),
        }
        for seg in enrichment.segments
    ]
