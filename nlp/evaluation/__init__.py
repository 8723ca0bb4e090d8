"""Evaluation harness: readers for labelled sets, metrics, and a runner that scores
any `Enricher` on them (`listening-path nlp evaluate`, `bench/nlp_eval.py`).

It talks to the pipeline only through the `Enricher` protocol."""

from __future__ import annotations

from nlp.evaluation.datasets import (
    DATASETS,
    MAPPING_FILE_NAME,
    STAGE_NAME_TO_KEY,
    VADER_NEUTRAL_BAND,
    DatasetError,
    DatasetSpec,
    Example,
    Split,
    StageMapping,
    find_mapping,
    get_dataset,
    load_stage_mapping,
    read_examples,
    sha_test,
)
from nlp.evaluation.metrics import ClassificationReport, ClassScores, classification_report
from nlp.evaluation.runner import EvalResult, Task, TaskResult, enrich_timed, evaluate

__all__ = [
    "DATASETS",
    "MAPPING_FILE_NAME",
    "STAGE_NAME_TO_KEY",
    "VADER_NEUTRAL_BAND",
    "ClassScores",
    "ClassificationReport",
    "DatasetError",
    "DatasetSpec",
    "EvalResult",
    "Example",
    "Split",
    "StageMapping",
    "Task",
    "TaskResult",
    "classification_report",
    "enrich_timed",
    "evaluate",
    "find_mapping",
    "get_dataset",
    "load_stage_mapping",
    "read_examples",
    "sha_test",
]
