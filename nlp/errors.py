"""Every error the `nlp` package raises on purpose, with a code, in spaCy's style.

    NLPError (ValueError)        base: `code` ("E001") and a message that says how to fix it
    ├── JourneyError             a journey file or document cannot be used (E001-E019)
    ├── PipelineError            the pipeline cannot be built or loaded as asked (E020-E039)
    ├── DatasetError             an evaluation file cannot be read (E040: the message
    │                            names the file, line and fix)
    └── TrainingError            a model cannot be trained as asked (E060)

Raise with the message template of `Errors` and its fields:

    raise JourneyError(Errors.E003, where="stages[2].key", key="Use")

The text reads "[E003] stages[2].key ..."; the code stays stable when the wording
changes, so a support answer or a log search can name it.
"""

from __future__ import annotations

from typing import Any


class Errors:
    """Message templates by code. Each says what is wrong and how to fix it."""

    # journey (E001-E019)
    E001 = "{source}: the top level must be a mapping with 'stages' (a list of stages)"
    E002 = "{source}: 'stages' must be a non-empty list of mappings with key and name"
    E003 = (
        "{where}.key must be lower-case letters, digits or '_' and start with a letter "
        "(got {key!r})"
    )
    E004 = "{where}.key {key!r} is reserved for text with no stage: choose another key"
    E005 = "{where}.key {key!r} appears twice: stage keys must be unique"
    E006 = "{where}.name is required: the name leadership pages show for the stage"
    E007 = "{where}: {pattern!r} is not a valid regular expression: {error}"
    E008 = "{where} must be a list of non-empty strings"
    E009 = "{source}: complaint_stage must be one of the stage keys {keys} (got {stage!r})"
    E010 = "{source}: never_themes holds single words without spaces (got {word!r})"
    E011 = "{where}: {action!r} must be one or two words (an action such as 'cancel', 'sign up')"
    E012 = (
        "{source}: extends can only name 'default', the shipped journey (got {base!r}); "
        "copy the other journey's file instead"
    )
    E013 = "cannot read journey file {path}: {error}"
    E014 = "{path} is not valid YAML: {error}"
    E015 = "{where}.description must be text"
    E016 = "{where} must be a mapping (a stage with key, name, phrases...)"

    # pipeline (E020-E039)
    E020 = (
        "pipe {pipe!r} is not a {expected}: the pipeline was built from another config; "
        "build it with nlp.pipeline.build_nlp (or save that pipeline with nlp.to_disk)"
    )
    E022 = (
        "components of this pipeline read what no earlier component writes: {problems}. "
        "Put the components in the order lp_segmenter, lp_sentiment, lp_journey_stage, "
        "lp_themes"
    )
    E023 = "{path}:{line}: expected 'phrase<TAB>valence' in the sentiment lexicon, got {text!r}"


class NLPError(ValueError):
    """An error of the `nlp` package: `code` is the key of its `Errors` template.

    A message that is not one of the templates (a reader's own sentence naming the file,
    line and fix) takes the class's `default_code`."""

    default_code = "E000"

    def __init__(self, template: str, /, **fields: Any) -> None:
        self.code = next(
            (name for name, value in vars(Errors).items() if value is template),
            self.default_code,
        )
        self.fields = fields
        super().__init__(f"[{self.code}] {template.format(**fields) if fields else template}")


class JourneyError(NLPError):
    """The journey cannot be used; the message names the field to fix."""

    default_code = "E001"


class PipelineError(NLPError):
    """The pipeline cannot be built or loaded as asked."""

    default_code = "E020"


class DatasetError(NLPError):
    """An evaluation file cannot be read; the message names the file, line and fix."""

    default_code = "E040"


class TrainingError(NLPError):
    """A model cannot be trained as asked; the message says what to change."""

    default_code = "E060"


__all__ = [
    "DatasetError",
    "Errors",
    "JourneyError",
    "NLPError",
    "PipelineError",
    "TrainingError",
]
