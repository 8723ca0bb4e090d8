"""The registry: built-ins, entry-point plugins, errors that list what exists."""

from __future__ import annotations

import ast
import importlib.metadata
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import connectors
from connectors import registry
from connectors.errors import PluginError, UnknownKindError
from connectors.registry import (
    BUILTIN_KINDS,
    ENTRY_POINT_GROUP,
    available_kinds,
    describe,
    get_connector_class,
    plugin_errors,
)
from connectors.survey_file import SurveyFileConnector

PLUGIN_MODULE = '''
from collections.abc import Iterator
from typing import ClassVar
from pydantic import Field
from connectors.base import Batch, Connector, ConnectorConfig, Cursor


class EchoConfig(ConnectorConfig):
    message: str = Field(description="What to say.")


class EchoConnector(Connector[EchoConfig]):
    """Says one thing.

    More words that are not the summary.
    """

    kind: ClassVar[str] = "echo"
    channel: ClassVar[str] = "test"
    config_model: ClassVar[type[ConnectorConfig]] = EchoConfig

    def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:
        yield Batch(items=[], rejected=[], cursor={})


class NotAConnector:
    pass


class Undocumented(EchoConnector):
    kind: ClassVar[str] = "undocumented"
'''


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[list[str]]:
    """Install fake entry points: append `name=module:attr` strings to the yielded list."""
    (tmp_path / "lp_test_plugin.py").write_text(PLUGIN_MODULE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    declared: list[str] = []

    def fake_entry_points(*, group: str) -> list[importlib.metadata.EntryPoint]:
        assert group == ENTRY_POINT_GROUP
        return [
            importlib.metadata.EntryPoint(name=d.split("=")[0], value=d.split("=")[1], group=group)
            for d in declared
        ]

    monkeypatch.setattr(importlib.metadata, "entry_points", fake_entry_points)
    registry.reload_plugins()
    yield declared
    registry.reload_plugins()


BUILTIN_NAMES = [
    "call_notes",
    "ethnography",
    "mastodon",
    "push",
    "rest",
    "rss",
    "social_export",
    "sql",
    "survey_file",
    "typeform",
    "zendesk",
]


def test_builtins() -> None:
    assert available_kinds() == BUILTIN_NAMES
    assert get_connector_class("survey_file") is SurveyFileConnector
    assert {cls.channel for cls in BUILTIN_KINDS.values()} == {
        "survey",
        "social",
        "call",
        "ethnography",
        "review",
        "ticket",
        "web",
    }


def test_unknown_kind_lists_the_known_ones() -> None:
    with pytest.raises(UnknownKindError) as info:
        get_connector_class("survey")
    message = str(info.value)
    assert "'survey'" in message
    for kind in available_kinds():
        assert kind in message


def test_describe_gives_channel_summary_and_schema() -> None:
    described = {d["kind"]: d for d in describe()}
    assert list(described) == available_kinds()
    survey = described["survey_file"]
    assert survey["channel"] == "survey"
    assert survey["origin"] == "builtin"
    assert survey["summary"].startswith("Survey exports")
    assert "\n" not in survey["summary"]
    assert "External id" not in survey["summary"]  # only the first paragraph
    assert survey["config_schema"]["required"] == ["path", "date_column", "answers"]
    json.dumps(describe())  # the CLI prints it as JSON
    for kind, info in described.items():  # every kind shows its whole config schema
        assert info["summary"], kind
        assert info["config_schema"]["properties"], kind
    assert described["mastodon"]["config_schema"]["required"] == ["base_url"]
    assert "token_env" in described["typeform"]["config_schema"]["properties"]
    assert set(described["zendesk"]["config_schema"]["required"]) == {"email"}
    assert {"url", "fields"} <= set(described["rest"]["config_schema"]["required"])


def test_good_plugin_is_added(plugins: list[str]) -> None:
    plugins.append("echo=lp_test_plugin:EchoConnector")
    assert "echo" in available_kinds()
    cls = get_connector_class("echo")
    assert cls.__name__ == "EchoConnector"
    (echo,) = [d for d in describe() if d["kind"] == "echo"]
    assert echo["summary"] == "Says one thing."
    assert echo["origin"] == "plugin (lp_test_plugin:EchoConnector)"
    assert echo["config_schema"]["required"] == ["message"]
    assert plugin_errors() == {}


@pytest.mark.parametrize(
    ("declared", "kind", "reason"),
    [
        ("broken=lp_no_such_module:Thing", "broken", "failed to load: ModuleNotFoundError"),
        ("echo2=lp_test_plugin:EchoConnector", "echo2", "declares kind 'echo'"),
        ("plain=lp_test_plugin:NotAConnector", "plain", "is not a Connector subclass"),
        ("base=connectors.base:FileConnector", "base", "is abstract"),
    ],
)
def test_broken_plugin_is_reported_and_builtins_survive(
    plugins: list[str], declared: str, kind: str, reason: str
) -> None:
    plugins.append(declared)
    assert available_kinds() == BUILTIN_NAMES
    assert reason in plugin_errors()[kind]
    with pytest.raises(PluginError, match=reason):
        get_connector_class(kind)
    assert get_connector_class("survey_file") is SurveyFileConnector


def test_plugin_without_docstring_has_an_empty_summary(plugins: list[str]) -> None:
    plugins.append("undocumented=lp_test_plugin:Undocumented")
    (info,) = [d for d in describe() if d["kind"] == "undocumented"]
    assert info["summary"] == ""


def test_plugin_cannot_replace_a_builtin(plugins: list[str]) -> None:
    plugins.append("survey_file=lp_test_plugin:EchoConnector")
    assert get_connector_class("survey_file") is SurveyFileConnector
    assert "reuses the built-in kind" in plugin_errors()["survey_file"]


def test_connectors_never_import_app_or_nlp() -> None:
    package = Path(connectors.__file__).parent
    offenders = []
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in ("app", "nlp")]
    assert offenders == []
