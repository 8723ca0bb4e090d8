"""The journey framework: stages are configuration, not code.

A YAML file lists the stages in order, each with a key, a name, a description,
phrases, patterns and example sentences, and may name a `complaint_stage` (where a
complaint that names no stage at all is filed, see `nlp.stages`) and `never_themes`
(words that are never a theme: the company's and its products' names, note-taking
shorthand). The shipped default
(`nlp/data/default_journey.yaml`) is industry-neutral; a company edits or replaces
it (or `extends: default` and replaces only some fields), and nothing else in the
code base may hard-code a stage key.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from nlp.enrichment import UNASSIGNED
from nlp.errors import Errors
from nlp.errors import JourneyError as JourneyError  # re-exported: its old home

_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_WORD_RE = re.compile(r"^\S+$")


@dataclass(frozen=True, slots=True)
class Stage:
    key: str
    name: str
    description: str
    phrases: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    requests: tuple[str, ...] = ()
    """Actions (one or two words, base form: "cancel", "sign up") that name this
    stage when a customer asks for them after one of the journey's
    `request_frames` ("I'd like to cancel", "how do I sign up"): the stage of what
    is asked for, whatever nouns the request mentions."""


@dataclass(frozen=True, slots=True)
class Journey:
    name: str
    stages: tuple[Stage, ...]
    complaint_stage: str | None = None
    """Stage of a negative text with no stage evidence anywhere (weak evidence,
    method `complaint`); None leaves such text `unassigned`."""
    never_themes: tuple[str, ...] = ()
    """Lower-case single words the theme extractor treats as stop words: a company's
    own and its products' names top every theme list otherwise, and tell nothing."""
    request_frames: tuple[str, ...] = ()
    """Regular expressions (case-insensitive) for the words that open a request or a
    question about doing something ("i need to", "can i", "how do i", "help me"):
    the action right after one is looked up in the stages' `requests`."""

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(stage.key for stage in self.stages)

    def get(self, key: str) -> Stage | None:
        for stage in self.stages:
            if stage.key == key:
                return stage
        return None

    def order(self, key: str) -> int:
        """Position of a stage in the journey; `unassigned` and unknown keys sort last."""
        for index, stage in enumerate(self.stages):
            if stage.key == key:
                return index
        return len(self.stages)


DEFAULT_JOURNEY_RESOURCE = "default_journey.yaml"


def default_journey_path() -> Path:
    return Path(str(resources.files("nlp") / "data" / DEFAULT_JOURNEY_RESOURCE))


def _strings(raw: Any, where: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(x, str) and x.strip() for x in raw):
        raise JourneyError(Errors.E008, where=where)
    return tuple(x.strip() for x in raw)


def _requests(raw: Any, where: str) -> tuple[str, ...]:
    """A stage's `requests`: one or two lower-case words each."""
    actions = tuple(x.lower() for x in _strings(raw, where))
    for action in actions:
        if not 1 <= len(action.split()) <= 2:
            raise JourneyError(Errors.E011, where=where, action=action)
    return actions


def _extended(data: dict[str, Any], source: str) -> dict[str, Any]:
    """`extends: default` takes the shipped default journey and replaces only the
    fields this document gives, so a company can add its own names to `never_themes`
    (or change `complaint_stage`) without copying and then maintaining every stage."""
    base_name = data["extends"]
    if base_name != "default":
        raise JourneyError(Errors.E012, source=source, base=base_name)
    base = yaml.safe_load(default_journey_path().read_text(encoding="utf-8"))
    merged = {**base, **{key: value for key, value in data.items() if key != "extends"}}
    if "name" not in data:
        merged["name"] = f"{base.get('name', 'default')} (extended)"
    return merged


def parse_journey(data: Any, *, source: str = "<journey>") -> Journey:
    """Validate a parsed YAML document into a `Journey`, naming the bad field on error."""
    if not isinstance(data, dict):
        raise JourneyError(Errors.E001, source=source)
    if "extends" in data:
        data = _extended(data, source)
    raw_stages = data.get("stages")
    if not isinstance(raw_stages, list) or not raw_stages:
        raise JourneyError(Errors.E002, source=source)
    stages: list[Stage] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_stages):
        where = f"{source}: stages[{i}]"
        if not isinstance(raw, dict):
            raise JourneyError(Errors.E016, where=where)
        key = raw.get("key")
        if not isinstance(key, str) or not _KEY_RE.match(key):
            raise JourneyError(Errors.E003, where=where, key=key)
        if key == UNASSIGNED:
            raise JourneyError(Errors.E004, where=where, key=UNASSIGNED)
        if key in seen:
            raise JourneyError(Errors.E005, where=where, key=key)
        seen.add(key)
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            raise JourneyError(Errors.E006, where=where)
        description = raw.get("description", "")
        if not isinstance(description, str):
            raise JourneyError(Errors.E015, where=where)
        patterns = _strings(raw.get("patterns"), f"{where}.patterns")
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise JourneyError(
                    Errors.E007, where=f"{where}.patterns", pattern=pattern, error=exc
                ) from exc
        stages.append(
            Stage(
                key=key,
                name=name.strip(),
                description=description.strip(),
                phrases=_strings(raw.get("phrases"), f"{where}.phrases"),
                patterns=patterns,
                examples=_strings(raw.get("examples"), f"{where}.examples"),
                requests=_requests(raw.get("requests"), f"{where}.requests"),
            )
        )
    complaint_stage = data.get("complaint_stage")
    if complaint_stage is not None and complaint_stage not in seen:
        raise JourneyError(Errors.E009, source=source, keys=sorted(seen), stage=complaint_stage)
    never_themes = _strings(data.get("never_themes"), f"{source}: never_themes")
    for word in never_themes:
        if not _WORD_RE.match(word):
            raise JourneyError(Errors.E010, source=source, word=word)
    request_frames = _strings(data.get("request_frames"), f"{source}: request_frames")
    for frame in request_frames:
        try:
            re.compile(frame)
        except re.error as exc:
            raise JourneyError(
                Errors.E007, where=f"{source}: request_frames", pattern=frame, error=exc
            ) from exc
    name = data.get("name", "journey")
    return Journey(
        name=str(name),
        stages=tuple(stages),
        complaint_stage=complaint_stage,
        never_themes=tuple(dict.fromkeys(word.lower() for word in never_themes)),
        request_frames=request_frames,
    )


def load_journey(path: Path | None = None) -> Journey:
    """Load a journey YAML file; `None` loads the shipped industry-neutral default."""
    target = path or default_journey_path()
    try:
        text = target.read_text(encoding="utf-8")
    except OSError as exc:
        raise JourneyError(Errors.E013, path=target, error=exc) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise JourneyError(Errors.E014, path=target, error=exc) from exc
    return parse_journey(data, source=str(target))


_REFERENCES: dict[str, Journey] = {}


def journey_digest(journey: Journey) -> str:
    """A short digest of everything in `journey` (part of the pipeline's `version`)."""
    data = json.dumps(asdict(journey), sort_keys=True).encode("utf-8")
    return hashlib.sha256(data).hexdigest()[:10]


def register_journey(journey: Journey) -> str:
    """A reference the pipeline config can name (`journey_ref`) for `journey`, an
    object that may exist only in memory: the components resolve it when they are
    built, so the journey enters the pipeline through its config."""
    ref = f"j{journey_digest(journey)}"
    _REFERENCES[ref] = journey
    return ref


def resolve_journey(*, ref: str = "", path: str = "") -> tuple[Journey, bool]:
    """The journey a component's config names, and whether the config named one:
    `ref` (from `register_journey`, in this process), else the YAML at `path`, else
    the shipped default (False: a saved pipeline then restores its own journey)."""
    if ref and ref in _REFERENCES:
        return _REFERENCES[ref], True
    if path:
        return load_journey(Path(path)), True
    return load_journey(), False
