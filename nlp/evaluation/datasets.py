"""Readers for the evaluation sets in `../shared/eval` and for a team's own labels.

Every reader yields `Example(id, text, sentiment, stage)` for one split, where the
split rule is exactly the one in the eval README's "Splits" table:

| dataset    | test (report only)                                  | tune (may train on)      |
|------------|-----------------------------------------------------|--------------------------|
| airline    | sha256(str(tweet_id)) % 10 < 3, after dropping every | the other rows           |
|            | tweet_id that occurs more than once                  |                          |
| bitext     | the Testing file                                     | Training + Validation    |
| banking77  | test.csv                                             | train.csv                |
| vader, uci,| sha256(text.encode('utf-8')) % 10 < 3, on the text as | the other rows           |
| clothing   | it stands in the file                                |                          |
| generic    | a `split` column if there is one, else the text rule | the other rows           |

Gold labels:

- sentiment: airline `airline_sentiment`; VADER mean rating with a neutral band
  (`VADER_NEUTRAL_BAND`: mean >= 0.5 positive, <= -0.5 negative, else neutral);
  UCI 0/1 (binary: see `DatasetSpec.binary_sentiment`); clothing 4-5 stars positive,
  3 neutral, 1-2 negative (rows without review text are skipped; the title is not
  read, so the text rule hashes exactly the review text).
- stage: the dataset's label mapped through the journey-stage mapping proposal CSV
  (read at run time, never copied into the project), its stage names turned into the
  default journey's keys by `STAGE_NAME_TO_KEY`. Airline: only negative tweets whose
  `negativereason` maps to a stage ("Can't Tell" maps to nothing).
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple, get_args

from nlp.enrichment import SentimentLabel
from nlp.errors import DatasetError as DatasetError  # re-exported: its old home

Split = Literal["test", "tune", "all"]
SPLITS: tuple[str, ...] = get_args(Split)
SENTIMENT_LABELS: tuple[SentimentLabel, ...] = ("negative", "neutral", "positive")

VADER_NEUTRAL_BAND = 0.5
"""|mean human rating| below this (on the -4..+4 scale) is gold `neutral`.

The eval README quotes both +-0.05 (which leaves only 39 neutral texts in the two
test splits, too few to score) and +-0.5 (the band its trained baselines used); we
report with +-0.5."""

MAPPING_FILE_NAME = "journey_stage_mapping_proposal.csv"

STAGE_NAME_TO_KEY: Mapping[str, str] = {
    "discover/research": "discover",
    "purchase/booking": "purchase",
    "onboarding/delivery": "onboard",
    "use": "use",
    "support/service": "support",
    "billing": "billing",
    "renewal/cancellation": "renew",
    "advocacy": "advocate",
}
"""Stage names of the mapping proposal -> keys of the shipped default journey."""

UNMAPPED = "(unmapped)"


class Example(NamedTuple):
    id: str
    text: str
    sentiment: SentimentLabel | None
    stage: str | None


def sha_test(key: str) -> bool:
    """The README's split rule: a row is in the test split when this is True."""
    return int(hashlib.sha256(key.encode("utf-8")).hexdigest(), 16) % 10 < 3


def in_split(key: str, split: Split) -> bool:
    if split == "all":
        return True
    return sha_test(key) == (split == "test")


# --- the mapping proposal ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StageMapping:
    """`(dataset, label) -> stage key` (None: deliberately unmapped), from the CSV."""

    source: str
    rows: Mapping[tuple[str, str], str | None]

    def stage_for(self, dataset: str, label: str) -> str | None:
        try:
            return self.rows[(dataset, label)]
        except KeyError:
            raise DatasetError(
                f"label {label!r} of dataset {dataset!r} has no row in {self.source}; "
                f"add one (proposed_stage {UNMAPPED!r} excludes it)"
            ) from None


def load_stage_mapping(path: Path) -> StageMapping:
    """Read `journey_stage_mapping_proposal.csv` (columns dataset, label_field, label,
    proposed_stage, ...). Only `negativereason` rows are kept for the airline set."""
    rows: dict[tuple[str, str], str | None] = {}
    for line_no, row in _csv_rows(path, required=("dataset", "label", "proposed_stage")):
        dataset, label = row["dataset"].strip(), row["label"].strip()
        if dataset == AIRLINE_MAPPING_NAME and row.get("label_field", "").strip() != (
            "negativereason"
        ):
            continue
        name = row["proposed_stage"].strip()
        if name == UNMAPPED:
            rows[(dataset, label)] = None
        elif name in STAGE_NAME_TO_KEY:
            rows[(dataset, label)] = STAGE_NAME_TO_KEY[name]
        else:
            known = ", ".join([*STAGE_NAME_TO_KEY, UNMAPPED])
            raise DatasetError(f"{path}:{line_no}: proposed_stage {name!r} is not one of: {known}")
    return StageMapping(source=str(path), rows=rows)


def find_mapping(path: Path) -> Path | None:
    """The mapping file in the eval root: next to `path` or up to two folders above."""
    start = path if path.is_dir() else path.parent
    for folder in (start, *list(start.parents)[:2]):
        candidate = folder / MAPPING_FILE_NAME
        if candidate.is_file():
            return candidate
    return None


# --- CSV / JSONL plumbing ---------------------------------------------------------


def _csv_rows(path: Path, *, required: Iterable[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for every record; the header must hold `required` columns."""
    try:
        handle = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from exc
    with handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        missing = [name for name in required if name not in header]
        if missing:
            raise DatasetError(
                f"{path}: missing column(s) {', '.join(missing)} (header: {', '.join(header)})"
            )
        for row in reader:
            yield reader.line_num, {k: (v or "") for k, v in row.items() if k is not None}


def _file_in(path: Path, name: str) -> Path:
    """`path` itself when it is a file, else `path / name`, which must exist."""
    target = path if path.is_file() else path / name
    if not target.is_file():
        raise DatasetError(f"{target} not found; pass the data folder or the file itself")
    return target


def _folder(path: Path, dataset: str) -> Path:
    if not path.is_dir():
        raise DatasetError(f"{dataset}: --path must be the data folder (got {path})")
    return path


def _files(path: Path, names: Iterable[str]) -> list[Path]:
    """`[path]` for a file, else the named files present in the folder (at least one)."""
    if path.is_file():
        return [path]
    found = [path / name for name in names if (path / name).is_file()]
    if not found:
        raise DatasetError(f"{path}: none of {', '.join(names)} found")
    return found


def _sentiment_value(raw: str, where: str) -> SentimentLabel | None:
    value = raw.strip().lower()
    if not value:
        return None
    for label in SENTIMENT_LABELS:
        if value == label:
            return label
    raise DatasetError(f"{where}: sentiment {raw!r} is not one of {', '.join(SENTIMENT_LABELS)}")


# --- the readers -------------------------------------------------------------------

AIRLINE_MAPPING_NAME = "twitter-us-airline-sentiment"
BITEXT_MAPPING_NAME = "bitext-customer-service-intent"
BANKING_MAPPING_NAME = "banking77"


def read_airline(path: Path, split: Split, mapping: StageMapping | None) -> Iterator[Example]:
    """Tweets.csv: drop every tweet_id seen more than once, then split by sha of the id."""
    target = _file_in(path, "Tweets.csv")
    required = ("tweet_id", "airline_sentiment", "negativereason", "text")
    rows = list(_csv_rows(target, required=required))
    counts = Counter(row["tweet_id"] for _, row in rows)
    for line_no, row in rows:
        tweet_id = row["tweet_id"].strip()
        if counts[row["tweet_id"]] > 1 or not in_split(tweet_id, split):
            continue
        sentiment = _sentiment_value(row["airline_sentiment"], f"{target}:{line_no}")
        stage = None
        reason = row["negativereason"].strip()
        if mapping is not None and sentiment == "negative" and reason:
            stage = mapping.stage_for(AIRLINE_MAPPING_NAME, reason)
        yield Example(tweet_id, row["text"], sentiment, stage)


BITEXT_FILES = {
    "test": ("Bitext_Sample_Customer_Service_Testing_Dataset.csv",),
    "tune": (
        "Bitext_Sample_Customer_Service_Training_Dataset.csv",
        "Bitext_Sample_Customer_Service_Validation_Dataset.csv",
    ),
}


def read_bitext(path: Path, split: Split, mapping: StageMapping | None) -> Iterator[Example]:
    """Bitext: the Testing file is test; Training + Validation are tune. Stage from intent."""
    folder = _folder(path, "bitext")
    names = BITEXT_FILES["test"] + BITEXT_FILES["tune"] if split == "all" else BITEXT_FILES[split]
    for name in names:
        target = _file_in(folder, name)
        short = name.removeprefix("Bitext_Sample_Customer_Service_").removesuffix(".csv")
        for line_no, row in _csv_rows(target, required=("utterance", "intent")):
            stage = None
            if mapping is not None:
                stage = mapping.stage_for(BITEXT_MAPPING_NAME, row["intent"].strip())
            yield Example(f"{short.lower()}:{line_no}", row["utterance"], None, stage)


def read_banking77(path: Path, split: Split, mapping: StageMapping | None) -> Iterator[Example]:
    """banking77: test.csv is test, train.csv is tune; categories checked against
    categories.json when it is there."""
    folder = _folder(path, "banking77")
    known: set[str] | None = None
    categories = folder / "categories.json"
    if categories.is_file():
        try:
            loaded = json.loads(categories.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DatasetError(f"cannot read {categories}: {exc}") from exc
        if not isinstance(loaded, list):
            raise DatasetError(f"{categories}: expected a JSON list of category names")
        known = {str(name) for name in loaded}
    names = {"test": ("test.csv",), "tune": ("train.csv",), "all": ("test.csv", "train.csv")}
    for name in names[split]:
        target = _file_in(folder, name)
        for line_no, row in _csv_rows(target, required=("text", "category")):
            category = row["category"].strip()
            if known is not None and category not in known:
                raise DatasetError(f"{target}:{line_no}: category {category!r} not in {categories}")
            stage = mapping.stage_for(BANKING_MAPPING_NAME, category) if mapping else None
            yield Example(f"{name.removesuffix('.csv')}:{line_no}", row["text"], None, stage)


VADER_FILES = ("tweets_GroundTruth.csv", "amazonReviewSnippets_GroundTruth.csv")


def vader_gold(mean: float) -> SentimentLabel:
    if mean >= VADER_NEUTRAL_BAND:
        return "positive"
    if mean <= -VADER_NEUTRAL_BAND:
        return "negative"
    return "neutral"


def read_vader(path: Path, split: Split, _mapping: StageMapping | None) -> Iterator[Example]:
    """VADER ground truth: gold from the mean human rating with `VADER_NEUTRAL_BAND`."""
    for target in _files(path, VADER_FILES):
        stem = target.stem.removesuffix("_GroundTruth")
        for line_no, row in _csv_rows(target, required=("id", "mean_sentiment_rating", "text")):
            if not in_split(row["text"], split):
                continue
            try:
                mean = float(row["mean_sentiment_rating"])
            except ValueError:
                raise DatasetError(
                    f"{target}:{line_no}: mean_sentiment_rating "
                    f"{row['mean_sentiment_rating']!r} is not a number"
                ) from None
            yield Example(f"{stem}:{row['id']}", row["text"], vader_gold(mean), None)


UCI_FILES = ("amazon_cells_labelled.csv", "yelp_labelled.csv")


def read_uci(path: Path, split: Split, _mapping: StageMapping | None) -> Iterator[Example]:
    """UCI sentences: score 1 positive, 0 negative (no neutral gold)."""
    for target in _files(path, UCI_FILES):
        stem = target.stem.removesuffix("_labelled")
        for line_no, row in _csv_rows(target, required=("sentence", "score")):
            if not in_split(row["sentence"], split):
                continue
            score = row["score"].strip()
            if score not in ("0", "1"):
                raise DatasetError(f"{target}:{line_no}: score {score!r} is not 0 or 1")
            label: SentimentLabel = "positive" if score == "1" else "negative"
            yield Example(f"{stem}:{line_no}", row["sentence"], label, None)


CLOTHING_FILE = "womens_clothing_ecommerce_reviews_first_1000_rows.csv"


def clothing_gold(stars: int) -> SentimentLabel:
    if stars >= 4:
        return "positive"
    return "neutral" if stars == 3 else "negative"


def read_clothing(path: Path, split: Split, _mapping: StageMapping | None) -> Iterator[Example]:
    """Clothing reviews: `Review Text` (rows without it skipped), gold from `Rating`."""
    target = _file_in(path, CLOTHING_FILE)
    for line_no, row in _csv_rows(target, required=("Review Text", "Rating")):
        text = row["Review Text"]
        if not text.strip() or not in_split(text, split):
            continue
        try:
            stars = int(row["Rating"])
        except ValueError:
            raise DatasetError(
                f"{target}:{line_no}: Rating {row['Rating']!r} is not a whole number"
            ) from None
        if not 1 <= stars <= 5:
            raise DatasetError(f"{target}:{line_no}: Rating {stars} is not 1..5")
        row_id = row.get("", "").strip() or str(line_no)
        yield Example(f"clothing:{row_id}", text, clothing_gold(stars), None)


GENERIC_SUFFIXES = (".jsonl", ".ndjson", ".csv")


def _generic_records(target: Path) -> Iterator[tuple[int, dict[str, object]]]:
    if target.suffix.lower() == ".csv":
        for line_no, row in _csv_rows(target, required=("text",)):
            yield line_no, dict(row)
        return
    try:
        handle = target.open(encoding="utf-8")
    except OSError as exc:
        raise DatasetError(f"cannot read {target}: {exc}") from exc
    with handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as exc:
                raise DatasetError(f"{target}:{line_no}: not valid JSON: {exc}") from None
            if not isinstance(record, dict):
                raise DatasetError(f"{target}:{line_no}: expected a JSON object")
            yield line_no, record


def _optional_str(record: Mapping[str, object], key: str, where: str) -> str:
    value = record.get(key)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise DatasetError(f"{where}: {key!r} must be text")
    return str(value)


def read_generic(path: Path, split: Split, _mapping: StageMapping | None) -> Iterator[Example]:
    """A team's own labels: JSONL (one object a line) or CSV with a `text` column and
    optional `id`, `sentiment` (negative/neutral/positive), `stage` (a journey key) and
    `split` (test/tune) columns. Without a `split` column the text rule splits it."""
    if not path.is_file() or path.suffix.lower() not in GENERIC_SUFFIXES:
        raise DatasetError(f"generic: --path must be a {'/'.join(GENERIC_SUFFIXES)} file")
    for line_no, record in _generic_records(path):
        where = f"{path}:{line_no}"
        text = record.get("text")
        if not isinstance(text, str) or not text.strip():
            raise DatasetError(f"{where}: 'text' is missing or empty")
        row_split = _optional_str(record, "split", where).strip().lower()
        if row_split and split != "all":
            if row_split not in ("test", "tune", "train"):
                raise DatasetError(f"{where}: split {row_split!r} is not test, tune or train")
            if (row_split == "test") != (split == "test"):
                continue
        elif not in_split(text, split):
            continue
        sentiment = _sentiment_value(_optional_str(record, "sentiment", where), where)
        stage = _optional_str(record, "stage", where).strip() or None
        row_id = _optional_str(record, "id", where).strip() or str(line_no)
        yield Example(row_id, text, sentiment, stage)


# --- the registry ------------------------------------------------------------------

Reader = Callable[[Path, Split, StageMapping | None], Iterator[Example]]


@dataclass(frozen=True, slots=True)
class DatasetSpec:
    """One evaluation set: how to read it and how to score it.

    `binary_sentiment`: the gold has no neutral class (UCI). A predicted `neutral` is
    then resolved by the sign of its score (>= 0 positive, < 0 negative), the rule the
    issue's VADER baseline (0.77 / 0.73 accuracy) was measured with; the strict
    accuracy, where every predicted neutral counts wrong, is reported next to it.
    """

    name: str
    folder: str
    reader: Reader
    has_sentiment: bool
    has_stage: bool
    default_split: Split = "test"
    binary_sentiment: bool = False


DATASETS: Mapping[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec("airline", "twitter-us-airline-sentiment", read_airline, True, True),
        DatasetSpec("bitext", "bitext-customer-service-intent", read_bitext, False, True),
        DatasetSpec("banking77", "banking77", read_banking77, False, True),
        DatasetSpec("vader", "vader-ground-truth", read_vader, True, False),
        DatasetSpec(
            "uci", "uci-sentiment-labelled-sentences", read_uci, True, False, binary_sentiment=True
        ),
        DatasetSpec("clothing", "womens-clothing-reviews", read_clothing, True, False),
        DatasetSpec("generic", "", read_generic, True, True, default_split="all"),
    )
}


def get_dataset(name: str) -> DatasetSpec:
    try:
        return DATASETS[name]
    except KeyError:
        raise DatasetError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}") from None


def read_examples(
    dataset: str,
    path: Path,
    *,
    split: Split | None = None,
    mapping: StageMapping | None = None,
    limit: int | None = None,
) -> list[Example]:
    """All examples of one split (the dataset's default split when None), in file order,
    the first `limit` of them when given."""
    spec = get_dataset(dataset)
    if not path.exists():
        raise DatasetError(f"{path} does not exist")
    chosen: Split = split or spec.default_split
    examples: list[Example] = []
    for example in spec.reader(path, chosen, mapping):
        if limit is not None and len(examples) >= limit:
            break
        examples.append(example)
    return examples
